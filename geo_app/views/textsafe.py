"""User text (area, municipality and file names) on a terminal and in CSV/JSON: shown, never obeyed.

Names are typed by users. On a terminal an ESC sequence in a name could recolour, retitle or
hide output (or write the clipboard), a bidi override could make 東部 read like another line;
in a spreadsheet `=HYPERLINK(...)` would run as a formula. Each output escapes the way its
reader needs:

- terminal (tables, messages): `terminal_text` — control characters shown as ``\\x1b``,
  ``\\n`` …, bidi controls as ``<U+202E>``. Lossy, for people only.
- CSV: `spreadsheet_safe` — formula starts neutralised with an apostrophe, exactly as
  `tables.protect_text` does for `geo-app build` (the plan reader, via `as_text_frame`, takes
  it off again); the other characters stay data, because a CSV is read by programs that need
  the exact names. Only on a terminal does the CLI escape them as well (like `ls`).
- JSON: `json_text` — not a spreadsheet, so no formula guard: values stay the literal names;
  only characters a terminal or editor would act on are written as ``\\uXXXX`` escapes,
  which every JSON reader turns back into the same text.
"""

from __future__ import annotations

import json
import re

import pandas as pd

from geo_app.io.tables import protect_text

__all__ = ["terminal_text", "spreadsheet_safe", "json_text", "xlsx_text", "BIDI_CONTROLS"]

#: Bidi embeddings/overrides (U+202A–E), isolates (U+2066–9), marks (LRM, RLM, ALM).
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
# C0, DEL, C1; bidi controls; line/paragraph separators (terminals and editors break lines
# there); lone surrogates (file names undecodable in UTF-8 would make print() itself fail).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f" + BIDI_CONTROLS + "\u2028\u2029\ud800-\udfff]")
_UNSAFE_KEEP_NL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f" + BIDI_CONTROLS + "\u2028\u2029\ud800-\udfff]")
# What JSON itself leaves raw with ensure_ascii=False (it escapes C0 already).
_JSON_UNSAFE = re.compile("[\x7f-\x9f" + BIDI_CONTROLS + "\u2028\u2029\ud800-\udfff]")


def _visible(m: re.Match[str]) -> str:
    ch = m.group()
    if ch in _NAMED:
        return _NAMED[ch]
    cp = ord(ch)
    return f"\\x{cp:02x}" if cp <= 0x9F else f"<U+{cp:04X}>"


def terminal_text(text: object, *, keep_newlines: bool = False) -> str:
    """`text` safe to print: control, bidi and separator characters shown visibly, not obeyed.

    `keep_newlines` is for messages that we build over several lines (a list of problems);
    a newline inside a single name is otherwise shown as ``\\n`` so it cannot fake a line.
    """
    return (_UNSAFE_KEEP_NL if keep_newlines else _UNSAFE).sub(_visible, str(text))


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would run as a formula get a leading apostrophe.

    `tables.protect_text` (= + - @, shared with `geo-app build` and undone by `read_table`)
    plus the tab and carriage-return starts that some spreadsheets strip before looking for a
    formula. Other characters stay as they are: a CSV is data.
    """
    out = protect_text(frame)
    for col in out.columns:
        if out[col].dtype == object or isinstance(out[col].dtype, pd.StringDtype):
            text = out[col].astype("string")
            risky = text.str.startswith(("\t", "\r")).fillna(False).astype(bool)
            if risky.any():
                out[col] = text.where(~risky, "'" + text)
    return out


def json_text(data: object, *, indent: int | None = 2) -> str:
    """JSON with the names as they are (no formula guard: JSON is not a spreadsheet).

    C0 controls are escaped by `json` itself; C1, bidi and line separators and lone surrogates
    become ``\\uXXXX`` as well, so printing the JSON cannot drive a terminal yet the parsed
    values are unchanged.
    """
    text = json.dumps(data, ensure_ascii=False, indent=indent)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# What an xlsx cell cannot hold at all (XML 1.0 forbids C0 controls but tab, newline, CR).
_XLSX_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xlsx_text(value: object) -> object:
    """A value an xlsx cell can hold: C0 control characters, which XML cannot store, shown as
    ``\\x1b`` (openpyxl would refuse the whole file). Other text, and non-strings, as they are."""
    return _XLSX_ILLEGAL.sub(_visible, value) if isinstance(value, str) else value
