"""User text in the app is data: `geo_app.app.text.md_escape` makes any string show literally.

Three layers:

* the helper against a hostile corpus (and Hypothesis): the escaped source has no Markdown
  character left unescaped, un-escaping it gives the text back, and the patterns Streamlit's
  frontend applies to parsed text (emoji shortcodes, material icons, bare-URL autolinks,
  arrows) find nothing;
* the app through AppTest: a plan saved and an area renamed with hostile names; every string
  the app hands to a Markdown renderer (bodies, labels, tooltips) carries them escaped;
* the real renderer: the corpus drawn by Streamlit itself in headless Chromium (markdown,
  caption, alert, button, expander, tab and metric labels) shows exactly the text, with no
  link, image, emphasis, code, colour, icon or formula, and no request leaves the machine.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st_h

from geo_app.app.text import JOINER, REPLACEMENT, file_stem, md_escape, plain_text

TRACKER = "![x](http://127.0.0.1:9/x.png)"
LONG = "長い名前" * 125  # 500 characters

CORPUS: list[str] = [
    "{{7*7}}",
    "{% if 1 %}x{% endif %}",
    "{#",
    "A{# c #}B",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "<!-- c -->後志",
    "&amp; &#42; &copy;",
    TRACKER,
    "[a](javascript:alert(1))",
    "<http://127.0.0.1:9/>",
    "http://127.0.0.1:9/x.png",
    "www.example.com",
    "me@example.com",
    "[ref]\n\n[ref]: http://127.0.0.1:9/r.png",
    ":red[x]",
    "時:red 予定",
    ":blue-background[x]",
    "::leaf[x]",
    ":::note\nx\n:::",
    ":help[tip]",
    ":material/home:",
    ":material_home:",
    ":smile: :+1:",
    ":streamlit:",
    "$x^2$",
    "$$x$$",
    "**b**",
    "_e_ *e*",
    "~~s~~ ~t~",
    "# h",
    "- item",
    "+ item",
    "1. item",
    "2) item",
    "> q",
    "`code`",
    "```\nblock\n```",
    "    indented",
    "|a|b|\n|-|-|\n|1|2|",
    "a\n===",
    "a\n---",
    "***",
    "back\\slash \\* \\",
    "x\\",
    '=HYPERLINK("http://127.0.0.1:9","x")',
    "+1",
    "-2",
    "@SUM(A1)",
    "a -> b <- c <-> d -- e >= f <= g ~= h",
    "10:30 時刻: 注意",
    "a\x01b\x07c\x1b[31m\x7fd\x85e",
    "abc\u202edcba",
    "左\u2066右\u2069",
    "line1\r\nline2\rline3\n\nline5",
    "'; DROP TABLE plans; --",
    LONG,
]

SPECIAL = set("\\`*_{}[]()#+-.!|<>~$&=/")
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


# ---- what Streamlit's frontend does with the text nodes (StreamlitMarkdown.tsx, remark plugins)
def unescape(source: str) -> str:
    """The text a CommonMark parser makes of `source` when nothing in it is syntax: backslash
    escapes taken off, hard breaks as newlines. Fails on any character that would be syntax."""
    out, i = [], 0
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            nxt = source[i + 1] if i + 1 < len(source) else ""
            assert nxt == "\n" or (nxt.isascii() and not nxt.isalnum() and nxt.isprintable() and nxt != " "), (
                f"bare backslash before {nxt!r} in {source!r}"
            )
            out.append(nxt)
            i += 2
            continue
        assert ch not in SPECIAL, f"unescaped {ch!r} in {source!r}"
        if ch == ":":
            nxt = source[i + 1] if i + 1 < len(source) else ""
            # a directive is a colon and a name (ASCII letter first), or two or three colons
            assert nxt and not (nxt.isascii() and (nxt.isalpha() or nxt == ":")), (
                f"colon that may start a directive in {source!r}"
            )
        out.append(ch)
        i += 1
    return "".join(out)


def frontend_matches(text: str, source: str) -> list[str]:
    """What Streamlit would still turn into something else than text."""
    found = []
    if ":material/" in source:  # rewritten to :material_ before parsing
        found.append("material (source)")
    w = "A-Za-z0-9_"  # JavaScript's \w; its \s is Unicode, like Python's
    checks = {
        "emoji": rf":\+1:|:-1:|:[{w}-]+:",
        "material": rf":material_[{w}]+:",
        "streamlit logo": r":streamlit:",
        "url autolink": r"(?i)(https?://|www(?=\.))",
        "e-mail autolink": rf"[-.{w}+]+@[-{w}]+(?:\.[-{w}]+)+",
        "arrows": r"(^|\s)(<->|->|<-|--|>=|<=|~=)(\s|$)",
    }
    for what, pattern in checks.items():
        if re.search(pattern, text):
            found.append(what)
    return found


def expected_text(text: str) -> str:
    """The helper's promise: the text, with control/bidi characters as U+FFFD, line breaks
    normalised and leading blanks as no-break spaces (invisible joiners aside)."""
    s = plain_text(text)
    return re.sub(r"(?m)^[ \t]+", lambda m: "\u00a0" * len(m.group()), s)


# ---- the helper ---------------------------------------------------------------------------------
@pytest.mark.parametrize("text", CORPUS, ids=range(len(CORPUS)))
@pytest.mark.parametrize("inline", [False, True], ids=["block", "inline"])
def test_escaped_text_is_only_text(text, inline):
    source = md_escape(text, inline=inline)
    parsed = unescape(source)  # no syntax left
    assert parsed.replace(JOINER, "") == (expected_text(text).replace("\n", " ") if inline else expected_text(text))
    assert frontend_matches(parsed, source) == []
    assert "\r" not in source and not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", source)
    assert not any(b in source for b in BIDI)
    assert not re.search(r"(?m)^[ \t]", source)  # no indented code block, whatever comes before
    if inline:
        assert "\n" not in source
    else:  # every line break is a hard break: a name never starts a block of its own
        assert all(line.endswith("\\") for line in source.split("\n")[:-1])


def test_examples():
    assert md_escape(TRACKER) == "\\!\\[x\\]\\(http\\:\u2060\\/\\/127\\.0\\.0\\.1:9\\/x\\.png\\)"
    assert md_escape("{{7*7}}") == "\\{\\{7\\*7\\}\\}"
    assert md_escape(":red[x]") == "\\:red\\[x\\]"
    assert md_escape("$x^2$") == "\\$x^2\\$"
    assert md_escape("abc\u202edcba") == "abc\ufffddcba"
    assert md_escape("a\nb") == "a\\\nb" and md_escape("a\nb", inline=True) == "a b"
    assert md_escape("上川・富良野") == "上川・富良野"  # ordinary names stay as they are
    assert md_escape("時刻: 10:30") == "時刻: 10:30"
    assert md_escape(None) == "" and md_escape(12) == "12"
    assert md_escape(LONG) == LONG and len(md_escape(LONG)) == 500


def test_plain_text_and_file_stem():
    assert plain_text("a\r\nb\x00c\u202ed") == f"a\nb{REPLACEMENT}c{REPLACEMENT}d"
    assert plain_text(None) == ""
    assert file_stem("案A") == "案A"
    assert file_stem("../x/y:z") == "_x_y_z"
    assert file_stem("report\u202egpj.csv") == "report_gpj.csv"
    assert file_stem("") == file_stem(None) == "区域案"


TRICKY = list("\\`*_{}[]()#+-.!|<>~$&=/:@^\"'%? \t\n\r") + [
    "a",
    "1",
    "あ",
    "http",
    "www.",
    "material",
    "\u202e",
    "\x00",
    "->",
]


@settings(max_examples=300, deadline=None)
@given(st_h.one_of(st_h.text(), st_h.lists(st_h.sampled_from(TRICKY), max_size=30).map("".join)), st_h.booleans())
def test_any_text_escapes(text, inline):
    source = md_escape(text, inline=inline)
    parsed = unescape(source)
    want = expected_text(text)
    assert parsed.replace(JOINER, "") == (want.replace("\n", " ") if inline else want).replace(JOINER, "")
    assert frontend_matches(parsed, source) == []


# ---- the app (AppTest) ----------------------------------------------------------------------------
def _nodes(node):
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from _nodes(child)


def markdown_strings(at) -> list[str]:
    """Every string of the page that Streamlit renders as Markdown: bodies of markdown, caption,
    alerts and headings; labels and tooltips of widgets, expanders, tabs and metrics; radio options."""
    out: list[str] = []
    for node in _nodes(at._tree):
        kind = type(node).__name__
        if kind in (
            "Markdown",
            "Caption",
            "Divider",
            "Success",
            "Info",
            "Warning",
            "Error",
            "Title",
            "Header",
            "Subheader",
            "Toast",
        ):
            out.append(str(node.value))
        for attr in ("label", "help", "placeholder"):
            v = getattr(node, attr, None)
            if isinstance(v, str):
                out.append(v)
        if kind == "Radio":
            out += [str(o) for o in node.options]
    return out


def assert_all_escaped(at, names: list[str]) -> list[str]:
    """No name reaches a Markdown string as it is (each has characters Markdown would act on)."""
    strings = markdown_strings(at)
    assert strings
    for n in names:
        assert set(n) & SPECIAL
        assert [s for s in strings if n in s] == []
    return strings


def test_hostile_names_in_the_app_are_escaped(db):
    from test_app_logic import go, new_app

    area = ":red[赤] **b** <img src=http://127.0.0.1:9/y.png> $x^2$ {{7*7}}"
    at = new_app()
    at.radio(key="ed_level").set_value("homecare")
    at.selectbox(key="rn_area").set_value("富良野")
    at.text_input(key="rn_new").set_value(area)
    at.button(key="btn_rename").click()
    at.run()
    assert not at.exception
    assert area in set(at.dataframe[0].value["圏域"])  # the table shows the name as it is
    ok = [s.value for s in at.success]
    assert ok == [md_escape(f"在宅医療圏「富良野」の名前を「{area}」に変えました。")]
    assert md_escape(area) in ok[0] and area not in ok[0]
    history = [t.value for t in at.text]  # the edit list is plain text, not Markdown
    assert any(area in t for t in history), history
    undo_help = at.button(key="btn_undo").help
    assert md_escape(area, inline=True) in undo_help and area not in undo_help
    assert_all_escaped(at, [area])

    go(at, "保存・読み込み")
    at.text_input(key="save_as_name").set_value(TRACKER)
    at.button(key="btn_save_as").click()
    at.run()
    assert not at.exception
    assert [s.value for s in at.success] == [md_escape(f"区域案「{TRACKER}」を保存しました（版1）。")]
    sidebar = [m.value for m in at.sidebar.markdown]
    assert f"**{md_escape(TRACKER)}**" in sidebar
    assert any(c.value.startswith(f"保存先: 「{md_escape(TRACKER)}」版1・") for c in at.sidebar.caption)
    assert any(e.label == f"「{md_escape(TRACKER, inline=True)}」の履歴（1版）" for e in at.expander)
    assert at.dataframe[0].value["名前"].tolist() == [TRACKER]  # the list of saved plans: plain cells
    assert_all_escaped(at, [area, TRACKER])

    for page in ("地図と編集", "案の比較", "都道府県・データ", "保存・読み込み"):
        go(at, page)
        strings = assert_all_escaped(at, [area, TRACKER])
        assert any(md_escape(TRACKER) in s for s in strings), page
    go(at, "案の比較")
    assert any(c.value == f"名前だけが変わった圏域: 富良野 → {md_escape(area)}" for c in at.caption)

    # another session opens it through ?plan=… : the origin quotes the name, escaped
    other = new_app(plan=TRACKER)
    go(other, "保存・読み込み")
    assert f"出発点: {md_escape(f'保存した案「{TRACKER}」')}" in [c.value for c in other.caption]
    assert_all_escaped(other, [area, TRACKER])
    # an unknown ?plan= is quoted in the error, escaped
    bad = new_app(plan="[a](javascript:alert(1))")
    assert any(md_escape("[a](javascript:alert(1))") in e.value for e in bad.error)
    assert_all_escaped(bad, ["[a](javascript:alert(1))"])


# ---- the real renderer: Streamlit in headless Chromium ----------------------------------------
ORACLE_SCRIPT = textwrap.dedent("""
    import json, sys
    import streamlit as st
    from geo_app.app.text import md_escape

    corpus = json.loads(open(sys.argv[1], encoding="utf-8").read())
    for i, s in enumerate(corpus):
        with st.container(key=f"md{i}"):
            st.markdown(md_escape(s))
        with st.container(key=f"cap{i}"):
            st.caption(f"前「{md_escape(s)}」後")
        with st.container(key=f"info{i}"):
            st.info(md_escape(s))
        with st.container(key=f"btn{i}"):
            st.button(md_escape(s, inline=True), key=f"b{i}")
        with st.container(key=f"exp{i}"):
            st.expander(md_escape(s, inline=True))
        with st.container(key=f"tab{i}"):
            st.tabs([md_escape(s, inline=True)])
        with st.container(key=f"met{i}"):
            st.metric(md_escape(s, inline=True), "1")
    with st.container(key="control"):
        st.markdown("**b** :red[x]")  # unescaped: proves the checks below see Markdown
    st.container(key="done").write("done")
""")
KINDS = {"md": False, "cap": False, "info": False, "btn": True, "exp": True, "tab": True, "met": True}
MARKUP = (
    "a, img, video, audio, iframe, code, pre, strong, em, del, h1, h2, h3, h4, h5, h6, ul, ol, li, blockquote,"
    " table, hr, input, span[style], span[role=img], .katex, .stMarkdownBadge"
)


def own_request(url: str, port: int) -> bool:
    """A request to this test's Streamlit server (or one that needs no network at all)."""
    return url.startswith(
        (
            f"http://127.0.0.1:{port}/",
            f"ws://127.0.0.1:{port}/",
            f"http://localhost:{port}/",
            f"ws://localhost:{port}/",
            "data:",
            "blob:",
            "about:",
        )
    )


def _lines(text: str, inline: bool) -> list[str]:
    text = text.replace(JOINER, "")
    parts = [text] if inline else text.split("\n")
    lines = [" ".join(p.split()) for p in parts]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


@pytest.mark.browser
def test_streamlit_shows_the_corpus_literally(tmp_path, browser):
    from conftest import offline_page, stop_server, wait_until_healthy

    script, corpus_file = tmp_path / "oracle.py", tmp_path / "corpus.json"
    script.write_text(ORACLE_SCRIPT, encoding="utf-8")
    corpus_file.write_text(json.dumps(CORPUS), encoding="utf-8")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(script),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
            "--",
            str(corpus_file),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until_healthy(proc, port, tmp_path / "server.log", host="127.0.0.1", timeout=60)
        blocked: list[str] = []  # refused: anything not on this machine
        foreign: list[str] = []  # anything not this server (127.0.0.1:9 included)
        dialogs: list[str] = []
        page = offline_page(browser, blocked)
        page.on("request", lambda r: None if own_request(r.url, port) else foreign.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"http://127.0.0.1:{port}/")
        page.locator(".st-key-done").wait_for(timeout=60_000)
        # every element drawn, and no lazily loaded plugin (KaTeX, emoji) still showing a skeleton
        page.wait_for_function(
            """([n, kinds]) => !document.querySelector("[data-testid='stSkeleton']")
                && [...Array(n).keys()].every(i => kinds.every(k => {
                const box = document.querySelector(`.st-key-${k}${i}`);
                return box && box.querySelector(
                  "[data-testid='stMarkdownContainer'], [data-testid='stCaptionContainer']"); }))""",
            arg=[len(CORPUS), list(KINDS)],
            timeout=30_000,
        )
        page.wait_for_timeout(500)
        control = page.locator(".st-key-control [data-testid='stMarkdownContainer']")
        assert control.locator("strong").count() == 1 and control.locator("span[style]").count() == 1
        assert page.locator("[data-testid='stException']").count() == 0

        results = page.evaluate(
            """([n, kinds, markup]) => {
                const out = [];
                for (let i = 0; i < n; i++) for (const k of kinds) {
                    const box = document.querySelector(`.st-key-${k}${i}`);
                    const el = box && box.querySelector(
                      "[data-testid='stMarkdownContainer'], [data-testid='stCaptionContainer']");
                    out.push(el ? [el.innerText, [...el.querySelectorAll(markup)].map(e => e.tagName)] : [null, []]);
                }
                return out;
            }""",
            [len(CORPUS), list(KINDS), MARKUP],
        )
        problems = []
        for idx, (shown, tags) in enumerate(results):
            text, kind = CORPUS[idx // len(KINDS)], list(KINDS)[idx % len(KINDS)]
            inline = KINDS[kind]
            want = plain_text(text) if kind != "cap" else f"前「{plain_text(text)}」後"
            if shown is None or tags or _lines(shown, inline) != _lines(want, inline):
                problems.append((kind, text[:40], (shown or "")[:60], tags))
        assert problems == []
        assert not page.locator("img[src*='127.0.0.1:9']").count()
        page.close()
        assert blocked == [] and foreign == [] and dialogs == []
    finally:
        stop_server(proc)
