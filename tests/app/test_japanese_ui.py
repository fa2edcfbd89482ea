"""Japanese everywhere the user looks, at 1366×768 and 1920×1080, and municipality search by reading.

The browser test opens every page of `geo-app app` in headless Chromium (every non-local request
refused), opens the select boxes' lists, and collects the text that is actually drawn: text nodes
of elements that are rendered, visible and larger than a pixel (screen-reader-only texts such as
Streamlit's "Skip to main content" or "4 options available." are 1×1 px boxes and are not seen),
inside the page (the map is drawn in it, no frame) and any frame, plus input placeholders. Every
ASCII word in it must be on `ALLOWED` (see its comment for why each is there).

The AppTest tests cover what a browser cannot read back: the tables (drawn on a canvas) show no
rule ids and show missing values as empty cells, and the municipality picker finds 鷹栖町 by its
name, its reading in hiragana or katakana, and its code.
"""

from __future__ import annotations

import json
import re
import socket

import pytest
from conftest import new_app

#: The app's map: a components v2 component drawn in the page itself (app/mapview.py), not a frame.
MAP = ".geoapp-live"

#: ASCII words a Japanese user reads as they are. Proper names of data and formats the labels quote
#: (N03 and A38-20 are 国土数値情報's dataset codes, e-Stat the census portal cited by its 表番号,
#: QGIS/GeoPackage/Excel/CSV/PNG/PDF/HTML the files people ask for), SI and size units (km on the
#: metric scale bar, MB in the upload limit), and Leaflet's attribution link, which its licence
#: asks to keep. Single capital letters are plan labels (案 A, 案 B); `.zip`-style words are file
#: extensions the uploaders list.
ALLOWED = {
    "N03",
    "A38-20",
    "e-Stat",
    "CSV",
    "Excel",
    "PNG",
    "PDF",
    "HTML",
    "GeoPackage",
    "QGIS",
    "GIS",
    "km",
    "MB",
    "Leaflet",
}
WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)*")

#: Text drawn on the page: visible text nodes (page and same-origin frames) and placeholders.
VISIBLE_TEXT_JS = """() => {
  const docs = [document];
  for (const f of document.querySelectorAll('iframe')) {
    try { if (f.contentDocument) docs.push(f.contentDocument); } catch (e) {}
  }
  const seen = e => {
    if (!e.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) return false;
    const r = e.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) return false;  // screen-reader-only boxes
    const font = getComputedStyle(e).fontFamily;
    return !/Material Symbols/.test(font);  // icon ligatures (keyboard_arrow_down) draw an icon
  };
  const out = [];
  for (const d of docs) {
    const w = d.createTreeWalker(d.body, NodeFilter.SHOW_TEXT);
    for (let n = w.nextNode(); n; n = w.nextNode()) {
      const t = n.textContent.trim();
      if (t && n.parentElement && seen(n.parentElement)) out.push(t);
    }
    for (const e of d.querySelectorAll('input[placeholder], textarea[placeholder]')) {
      if (seen(e)) out.push(e.getAttribute('placeholder'));
    }
  }
  return out;
}"""

METRICS_CUT_JS = """() => [...document.querySelectorAll("[data-testid='stMetricValue']")].flatMap(m =>
  [m, ...m.querySelectorAll('*')]
    .filter(e => e.scrollWidth > e.clientWidth || e.getBoundingClientRect().right > innerWidth)
    .map(e => m.textContent + ' ' + e.scrollWidth + '>' + e.clientWidth))"""

#: The open list that found nothing says so in Japanese (drawn by app/style.py as its ::after content).
EMPTY_LIST_JS = """want => [...document.querySelectorAll("[role='listbox'][data-empty='true']")].some(l =>
  l.checkVisibility() && getComputedStyle(l, '::after').content.includes(want))"""

#: page path → a text that is there once the page is drawn
PAGES = {
    "/": "在宅医療圏の数",
    "/compare": "移る市町村",
    "/propose": "提案を計算する",
    "/plans": "いま編集中の区域案",
    "/data": "都道府県と出発点を選ぶ",
}


def english(texts: list[str]) -> dict[str, str]:
    """ASCII words not on ALLOWED, each with the text it was found in."""
    out: dict[str, str] = {}
    for t in texts:
        for w in WORD.findall(t):
            if w in ALLOWED or re.fullmatch(r"[A-Z]", w) or re.search(rf"\.{re.escape(w)}\b", t):
                continue
            out.setdefault(w, t[:120])
    return out


def settle(page) -> None:
    """The script run is over: nothing stale, no running indicator."""
    page.wait_for_function(
        "() => !document.querySelector(\"[data-stale='true']\") && !document.querySelector("
        "\"[data-testid='stStatusWidget'] img, [data-testid='stStatusWidgetRunningIcon']\")",
        timeout=60_000,
    )
    page.wait_for_timeout(500)


def open_lists(page, done: set[str]) -> list[str]:
    """Open each select box's list not opened yet (`done`: their keys) and type a search that finds
    nothing: what the lists show."""
    texts: list[str] = []
    boxes = page.locator("[data-testid='stSelectbox'] input, [data-testid='stMultiSelect'] input")
    for i in range(boxes.count()):
        box = boxes.nth(i)
        key = box.evaluate("e => (e.closest(\"[class*='st-key-']\") || {}).className || e.ariaLabel")
        if key in done or not box.is_visible() or not box.is_enabled():
            continue
        done.add(key)
        box.click()
        page.wait_for_timeout(300)
        texts += page.evaluate(VISIBLE_TEXT_JS)
        page.keyboard.type("存在しない名前")
        page.wait_for_function(EMPTY_LIST_JS, arg="該当するものがありません", timeout=10_000)
        texts += page.evaluate(VISIBLE_TEXT_JS)
        page.keyboard.press("Escape")
        page.keyboard.press("Escape")
        page.wait_for_timeout(200)
    return texts


@pytest.mark.browser
def test_every_page_is_japanese_at_both_sizes(tmp_path, browser):
    from conftest import offline_page, start_server, stop_server

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = start_server(port, tmp_path / "plans.sqlite3", tmp_path / "server.log")
    blocked: list[str] = []
    found: dict[str, dict[str, str]] = {}
    cut: list[str] = []
    try:
        for size in ((1366, 768), (1920, 1080)):
            page = offline_page(browser, blocked, viewport=size)
            for path, marker in PAGES.items():
                page.goto(f"http://localhost:{port}{path}")
                page.locator("[data-testid='stMain']").get_by_text(marker).first.wait_for(timeout=120_000)
                if path in ("/", "/compare"):
                    page.locator(f"{MAP} .leaflet-control-scale").wait_for(timeout=120_000)
                    page.locator(f"{MAP} .geoapp-label").first.wait_for(timeout=120_000)
                settle(page)
                if path == "/":
                    # the scale bar is metric only, and the figures are whole (the sidebar is open)
                    scale = page.locator(f"{MAP} .leaflet-control-scale").inner_text()
                    assert re.fullmatch(r"\d+ k?m", scale.strip()), scale
                    assert page.locator("[data-testid='stSidebar']").is_visible()
                    if size == (1366, 768):
                        cut += page.evaluate(METRICS_CUT_JS)
                        assert "5,224,614 人" in page.locator("[data-testid='stMetric']").all_inner_texts()[2]
                texts = page.evaluate(VISIBLE_TEXT_JS)
                done: set[str] = set()
                for summary in page.locator("[data-testid='stExpander'] summary").all():  # closed panels
                    summary.click()
                    settle(page)
                    texts += page.evaluate(VISIBLE_TEXT_JS)
                    texts += open_lists(page, done)
                for tab in page.get_by_role("tab").all():
                    tab.click()
                    settle(page)
                    texts += page.evaluate(VISIBLE_TEXT_JS)
                    texts += open_lists(page, done)
                if path == "/data":  # the uploaders' drop zones are drawn in Japanese
                    zone = page.locator("[data-testid='stFileUploaderDropzone']").first
                    assert "ファイルを選ぶ" in zone.evaluate(
                        "z => getComputedStyle(z.querySelector(\"[data-testid='stMarkdownContainer']\"),"
                        " '::after').content"
                    )
                texts += open_lists(page, done)
                if path == "/data":  # a file the uploader refuses: its reason in Japanese beside its name
                    bad = tmp_path / "名簿.txt"
                    bad.write_text("一覧", encoding="utf-8")
                    page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(bad)
                    chip = page.locator("[data-testid='stFileChip'][aria-invalid='true'] [data-testid$='ChipName']")
                    chip.wait_for(timeout=10_000)
                    assert "使えないファイル" in chip.evaluate("e => getComputedStyle(e, '::after').content")
                    texts += page.evaluate(VISIBLE_TEXT_JS)
                words = english(texts)
                if words:
                    found[f"{path} {size[0]}×{size[1]}"] = words
            page.close()
    finally:
        stop_server(proc)
    assert found == {}, found
    assert cut == [], cut
    assert blocked == [], blocked[:5]


# ---- AppTest: tables and search ------------------------------------------------------------------
def test_tables_show_titles_and_empty_cells(db):
    from geo_app.core.rules import RULES

    at = new_app()
    areas, findings = at.dataframe[0], at.dataframe[1]
    # missing values: an empty cell in every table (Streamlit draws "None" without a placeholder)
    assert all(d.proto.HasField("placeholder") and d.proto.placeholder == "" for d in at.dataframe)
    # the rule ids (multipart, no_hub …) stay in the data for scripts but their column is hidden;
    # every other column holds no rule id, and 項目 is each rule's Japanese title
    frame = findings.value
    assert len(frame) > 0 and set(frame["ルール"]) <= set(RULES)
    assert json.loads(findings.proto.columns)["ルール"] == {"hidden": True}
    shown = frame.drop(columns="ルール")
    cells = set(shown.astype(str).to_numpy().ravel())
    assert not cells & set(RULES), cells & set(RULES)
    assert list(frame["項目"]) == [RULES[r].title for r in frame["ルール"]]
    assert len(areas.value) == int(next(m.value for m in at.metric if m.label == "在宅医療圏の数"))
    at.switch_page("page_compare.py").run()  # the comparison's tables: an area only in A has no B figures
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.dataframe) >= 1
    assert all(d.proto.HasField("placeholder") and d.proto.placeholder == "" for d in at.dataframe)


@pytest.mark.parametrize("query", ["鷹栖", "たかす", "タカス", "01452", "ﾀｶｽ"])
def test_municipality_found_by_name_reading_or_code(db, hokkaido_plan, query):
    from geo_app.io.readings import load_readings

    t = hokkaido_plan.table
    code = t.loc[t["name"] == "鷹栖町", "code"].item()
    assert code == "01452"  # 総務省 全国地方公共団体コード of 鷹栖町
    reading = load_readings().set_index("code").loc[code, "hiragana"]
    at = new_app()
    at.text_input(key="muni_search").set_value(query).run()
    assert not at.exception, [e.value for e in at.exception]
    box = at.selectbox(key="sel_muni")
    assert box.value == code  # one match: selected at once
    assert box.options == [f"鷹栖町（{reading}）{code}"]
    # the panel shows the selected municipality with its population
    assert any("鷹栖町（01452）" in m.value for m in at.markdown)


def test_search_with_several_matches_narrows_the_list(db, hokkaido_plan):
    at = new_app()
    at.text_input(key="muni_search").set_value("ふらの").run()
    box = at.selectbox(key="sel_muni")
    t = hokkaido_plan.table
    furano = set(t.loc[t["name"].str.contains("富良野"), "code"])  # 富良野市, 上・中・南富良野町: all read ふらの
    assert len(furano) == 4
    assert box.value is None  # several: the user picks one
    assert {o[-5:] for o in box.options} == furano
    # the picker's own typing (filter_mode="contains") searches the label, which carries the reading
    at.text_input(key="muni_search").set_value("").run()
    labels = at.selectbox(key="sel_muni").options
    assert len(labels) == len(t)
    assert [o for o in labels if "たかす" in o] == ["鷹栖町（たかすちょう）01452"]
