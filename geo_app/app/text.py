"""User text on the page: shown exactly as typed, never as Markdown or HTML.

Names, titles and uploaded cells (plan, area, municipality and hub names, file names, edit
descriptions, loader notes that quote them, flash messages that contain them, ``?plan=``) are
data. Streamlit renders Markdown in st.markdown / st.caption / st.info … bodies, in every
widget label, expander and tab label, metric label and ``help=`` tooltip, so user text goes
there only through `md_escape`:

* ``st.markdown(f"**{md_escape(name)}**")`` — escape only the user's part; our own Markdown
  (the ``**``) stays Markdown.
* labels (widgets, expanders, tabs, metrics, ``help=``): ``md_escape(name, inline=True)`` —
  the same escaping, line breaks turned into spaces (a label is one line).
* text that is nothing but user text (a list of edits, loader notes): ``st.text(plain_text(x))``
  — no Markdown at all; dataframe cells and ``st.selectbox``/``st.multiselect`` options
  (``format_func`` included) are plain text too. ``st.radio`` options are Markdown: escape them.
* `flash` messages are plain text and escaped once, when shown (`state.show_flash`): callers
  pass names unescaped.

What Streamlit's Markdown (react-markdown + remark-gfm, remark-math, remark-directive,
remark-emoji and Streamlit's own text plugins) would otherwise do with a typed name, and how
`md_escape` stops it:

* CommonMark/GFM syntax (emphasis, code, links and images ``![x](http://…)`` — a request to
  that address from every browser showing it —, ``<http://…>`` autolinks, raw HTML, entities
  ``&amp;``, headings, lists, block quotes, setext ``===``, tables ``|``, ``~~``), math
  ``$…$`` and directives ``:red[…]`` ``::x`` ``:::x``: a backslash before every ASCII
  punctuation character that has a meaning there (CommonMark: "any ASCII punctuation
  character may be backslash-escaped"; remark-math and remark-directive honour it).
* What works on the *parsed* text, where backslash escapes are already gone — emoji
  shortcodes ``:smile:``, ``:streamlit:``, ``:material_x:``; bare URLs, ``www.`` and e-mail
  addresses (GFM autolink literals); ``->`` ``<=`` ``--`` … turned into arrows: an invisible
  WORD JOINER (U+2060) after the first character breaks the pattern. The text reads and
  wraps the same; copied, it carries that invisible character.
  ``:material/x:`` is rewritten by Streamlit before parsing; the escaped ``\\/`` stops it.
* Line breaks: hard line breaks (``\\`` + newline), so a name never starts a new block;
  spaces and tabs at the start of a line become no-break spaces (no indented code block).
* Control characters (C0/C1 except tab and newline) and the bidirectional controls
  (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C) cannot be shown as they are: each
  becomes U+FFFD (�), so a name cannot reverse the text around it or hide what it is.
"""

from __future__ import annotations

import re

__all__ = ["md_escape", "plain_text", "file_stem", "JOINER", "REPLACEMENT"]

JOINER = "\u2060"  # WORD JOINER: zero width, no line break opportunity
REPLACEMENT = "\ufffd"

_NEWLINES = re.compile("\r\n|[\r\u2028\u2029]")
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Patterns Streamlit's frontend applies to parsed text nodes (see the module docstring).
_SHORTCODE = re.compile(r":(?=[A-Za-z0-9_+\-]+:)")  # remark-emoji, :streamlit:, :material_x:
_URL_SCHEME = re.compile(r":(?=//)")  # http://, https:// (GFM autolink literal)
_WWW = re.compile(r"(?i)(www)(?=\.)")
_EMAIL_AT = re.compile(r"@(?=[A-Za-z0-9_\-])")
_TYPOGRAPHY = re.compile(r"(?<!\S)(<->|->|<-|--|>=|<=|~=)(?!\S)")
# ASCII punctuation with a meaning in Streamlit's Markdown; `\` first so it is escaped once.
# A colon starts a directive only before a name (an ASCII letter) or another colon: one
# followed by a space or a digit ("時刻: 10:30") stays as it is, for readable sources.
_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&=/]|:(?![\s0-9]))")
_LEADING_SPACE = re.compile(r"(?m)^[ \t]+")


def plain_text(text: object) -> str:
    """`text` for a place without Markdown (st.text): line breaks normalised, control and
    bidirectional-override characters shown as U+FFFD."""
    if text is None:
        return ""
    return _CONTROLS.sub(REPLACEMENT, _NEWLINES.sub("\n", str(text)))


def md_escape(text: object, *, inline: bool = False) -> str:
    """Markdown source that Streamlit shows as exactly `text` (None shows as nothing).

    `inline=True` for labels, tooltips and titles: line breaks become spaces.
    """
    s = plain_text(text)
    s = _SHORTCODE.sub(":" + JOINER, s)
    s = _URL_SCHEME.sub(":" + JOINER, s)
    s = _WWW.sub(r"\1" + JOINER, s)
    s = _EMAIL_AT.sub("@" + JOINER, s)
    s = _TYPOGRAPHY.sub(lambda m: m.group()[0] + JOINER + m.group()[1:], s)
    s = _PUNCTUATION.sub(r"\\\1", s)
    s = _LEADING_SPACE.sub(lambda m: "\u00a0" * len(m.group()), s)
    return s.replace("\n", " " if inline else "\\\n")


def file_stem(text: object, default: str = "区域案") -> str:
    """A download file name's stem from a plan name: no path separators, characters Windows
    refuses, control or bidirectional-override characters (which could disguise the extension)."""
    s = re.sub(r'[\\/:*?"<>|]', "_", plain_text(text)).replace(REPLACEMENT, "_").strip(" .")
    return s or default
