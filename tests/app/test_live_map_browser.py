"""The app's live map in Chromium (issue 11): an edit repaints the map where the user is looking.

The map is a components v2 component in the page (views.livemap + static/livemap/render.js): the
geometry is drawn once, and each run applies a small state to it. So a user who zoomed in on
美瑛町, clicked it and moved it must see the new totals in the labels there, with the view and
the Leaflet map object untouched, through a series of edits, an undo, another colouring and
another level. Real figures (2020 census): 美瑛町 9,668 人; 上川 51,990 → 42,322 人 and 富良野
39,894 → 49,562 人. One `geo-app app` server for the module; every request that would leave the
machine is refused and recorded, and there must be none.
"""

from __future__ import annotations

import re

import pytest
from conftest import start_server, stop_server
from test_app_browser import (
    BIEI,
    BIEI_POP,
    FURANO,
    KAMIKAWA,
    MAIN_MAP,
    alert,
    choose,
    click_button,
    click_municipality,
    free_port,
    map_labels,
    offline_page,
    settle,
    wait_for_map,
)

pytestmark = pytest.mark.browser

#: A point inside 美瑛町 (the view is centred on it at zoom 8).
BIEI_AT = (43.5886, 142.4675)
#: Set on the Leaflet map object at the start: still there at the end = the map was never rebuilt.
STAMP = "__geoappLiveTest"
#: 「上川」51,990人 → 42,322人 in a move's success message.
TOTALS = re.compile(r"「(上川|富良野)」([\d,]+)人 → ([\d,]+)人")

_VIEW_JS = f"""() => {{ const m = window.geoappMaps.{MAIN_MAP}, c = m.getCenter();
  return {{zoom: m.getZoom(), lat: c.lat, lng: c.lng, stamp: m.{STAMP} || null,
          serial: m.getContainer().getAttribute('data-geoapp-state')}}; }}"""

#: Both labels read `want` ({area: "42,322 人"}), are shown (not given way) and show their population.
_LABELS_READ_JS = f"""want => {{
  const got = [...window.geoappMaps.{MAIN_MAP}.getContainer().querySelectorAll('.geoapp-label')]
    .filter(e => !e.classList.contains('geoapp-label-hidden') && getComputedStyle(e).visibility === 'visible'
      && getComputedStyle(e.querySelector('.pop')).display !== 'none')
    .map(e => e.querySelector('.name').textContent + ' ' + e.querySelector('.pop').textContent);
  return Object.entries(want).every(([name, pop]) => got.includes(name + ' ' + pop)); }}"""


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("live_map")
    port = free_port()
    proc = start_server(port, tmp / "plans.sqlite3", tmp / "server.log")
    try:
        yield f"http://localhost:{port}/"
    finally:
        stop_server(proc)


def view(page) -> dict:
    return page.evaluate(_VIEW_JS)


def wait_for_new_state(page, before: str) -> str:
    """Wait until the map has applied a state other than `before` (its serial); the run is over."""
    page.wait_for_function(
        f"old => window.geoappMaps.{MAIN_MAP}.getContainer().getAttribute('data-geoapp-state') !== old",
        arg=before,
        timeout=30_000,
    )
    settle(page)
    return view(page)["serial"]


def wait_for_labels(page, pops: dict[str, int]) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    want = {name: f"{pop:,} 人" for name, pop in pops.items()}
    try:
        page.wait_for_function(_LABELS_READ_JS, arg=want, timeout=30_000)
    except PlaywrightTimeout:
        shown = {d["name"]: d for d in map_labels(page) if d["name"] in want}
        pytest.fail(f"labels never read {want}: {shown}")


def move_biei(page, target: str) -> dict[str, tuple[int, int]]:
    """Move 美瑛町 (selected) to `target` with the select box and the button; the message's totals."""
    before = view(page)["serial"]
    choose(page, "移動先の在宅医療圏", target, re.compile(rf"^{target}（"))
    click_button(page, "移動する")
    wait_for_new_state(page, before)
    msg = alert(page, "移動しました")
    totals = {a: (int(b.replace(",", "")), int(c.replace(",", ""))) for a, b, c in TOTALS.findall(msg)}
    assert set(totals) == {"上川", "富良野"}, msg
    return totals


#: Pairs of shown labels whose boxes overlap (placed before Leaflet's stylesheet or the fonts applied, they did).
_OVERLAPS_JS = """() => {
  const r = [...document.querySelectorAll('.geoapp-live .geoapp-label:not(.geoapp-label-hidden)')]
    .map(e => e.firstChild.getBoundingClientRect());
  let n = 0;
  for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++) {
    const a = r[i], b = r[j];
    if (!(a.right < b.left || a.left > b.right || a.bottom < b.top || a.top > b.bottom)) n++;
  }
  return n;
}"""


def test_edits_repaint_the_map_where_the_user_looks(app_url, browser):
    blocked: list[str] = []
    page = offline_page(browser, blocked)
    page.goto(app_url)
    wait_for_map(page)
    settle(page)
    page.wait_for_function(f"() => ({_OVERLAPS_JS})() === 0", timeout=10_000)  # the first view's labels apart

    # 1. the user zooms in on 美瑛町
    page.evaluate(
        f"([lat, lon]) => {{ const m = window.geoappMaps.{MAIN_MAP};"
        f" m.setView([lat, lon], 8, {{animate: false}}); m.{STAMP} = 'the first map'; }}",
        list(BIEI_AT),
    )
    start = view(page)
    assert start["zoom"] == 8 and start["stamp"] == "the first map"
    assert (start["lat"], start["lng"]) == pytest.approx(BIEI_AT, abs=1e-6)

    def assert_view_kept(when: str) -> None:
        now = view(page)
        assert (now["zoom"], now["lat"], now["lng"]) == (start["zoom"], start["lat"], start["lng"]), when
        assert now["stamp"] == "the first map", f"{when}: the map was rebuilt"

    # 2. hovering shows its figures (a tooltip built from the base and state JSON) ...
    pt = page.evaluate(
        f"([lat, lon]) => {{ const m = window.geoappMaps.{MAIN_MAP}, p = m.latLngToContainerPoint([lat, lon]);"
        " const r = m.getContainer().getBoundingClientRect(); return {x: p.x + r.left, y: p.y + r.top}; }",
        list(BIEI_AT),
    )
    page.mouse.move(pt["x"], pt["y"])  # straight there: no other municipality's tooltip on the way
    tip = page.locator(".geoapp-tip")
    tip.wait_for(timeout=10_000)
    rows = dict(tip.locator("tr").evaluate_all("trs => trs.map(tr => [...tr.children].map(c => c.textContent))"))
    assert (rows["市町村名"], rows["市町村コード"], rows["人口"]) == ("美瑛町", BIEI, f"{BIEI_POP:,} 人"), rows
    assert (rows["在宅医療圏"], rows["二次医療圏"]) == ("上川", "上川中部"), rows
    # ... and a click selects it: the picker, the panel and a red outline on its path
    click_municipality(page, *BIEI_AT, BIEI)
    page.get_by_text(f"美瑛町（{BIEI}）").first.wait_for(timeout=30_000)  # the panel
    assert f"人口 {BIEI_POP:,}人" in page.locator("[data-testid='stMain']").inner_text()
    # the picker's label carries the reading, so that typing びえい finds it
    assert page.locator(".st-key-sel_muni input").input_value() == f"美瑛町（びえいちょう）{BIEI}"
    page.mouse.move(5, 5)  # off the map: the hover style gives way to the highlight
    page.wait_for_function(  # the server's state highlights it too (not only the click's own restyle)
        "code => { const h = document.querySelector('.geoapp-live').__geoapp;"
        " return h.state.highlight.includes(h.base.codes.indexOf(code)); }",
        arg=BIEI,
        timeout=30_000,
    )
    style = page.evaluate(
        "code => { const h = document.querySelector('.geoapp-live').__geoapp;"
        " const o = h.paths[h.base.codes.indexOf(code)].options; return {stroke: o.stroke, color: o.color}; }",
        BIEI,
    )
    assert style == {"stroke": True, "color": "#d40000"}
    others = page.evaluate(
        "code => { const h = document.querySelector('.geoapp-live').__geoapp;"
        " return h.paths.filter((p, i) => p.options.stroke && h.base.codes[i] !== code).length; }",
        BIEI,
    )
    assert others == 0  # only 美瑛町 is outlined
    assert_view_kept("after the click")

    # 3. moved to 富良野: both labels show the new totals where the user is looking
    totals = move_biei(page, "富良野")
    assert totals == {"上川": (KAMIKAWA, KAMIKAWA - BIEI_POP), "富良野": (FURANO, FURANO + BIEI_POP)}
    wait_for_labels(page, {"上川": 42_322, "富良野": 49_562})
    assert_view_kept("after the move")

    # 4. ten more moves back and forth, then an undo: the labels follow every message
    in_kamikawa = {"上川": KAMIKAWA, "富良野": FURANO}
    in_furano = {"上川": KAMIKAWA - BIEI_POP, "富良野": FURANO + BIEI_POP}
    serial = view(page)["serial"]
    for n in range(10):
        target = "上川" if n % 2 == 0 else "富良野"
        totals = move_biei(page, target)
        assert view(page)["serial"] != serial
        serial = view(page)["serial"]
        after = {a: t[1] for a, t in totals.items()}
        assert after == (in_kamikawa if target == "上川" else in_furano), f"move {n + 2}"
        wait_for_labels(page, after)
        assert_view_kept(f"after move {n + 2}")
    # 11 moves leave 美瑛町 in 富良野; the undo gives the last message's figures before the move
    click_button(page, "元に戻す")
    serial = wait_for_new_state(page, serial)
    assert "美瑛町" in alert(page, "元に戻しました")
    before = {a: t[0] for a, t in totals.items()}
    assert before == in_kamikawa
    wait_for_labels(page, before)
    assert_view_kept("after 11 moves and an undo")

    # another colouring, then another level: the legend says so, the view stays
    choose(page, "色分け", "高齢化率", re.compile(r"^高齢化率$"))
    serial = wait_for_new_state(page, serial)
    legend = page.locator(".geoapp-live .geoapp-legend .geoapp-title")
    assert legend.inner_text() == "在宅医療圏の高齢化率"
    assert_view_kept("after the colouring changed")
    page.locator(".st-key-view_level").get_by_text("二次医療圏", exact=True).click()
    wait_for_new_state(page, serial)
    assert legend.inner_text() == "二次医療圏の高齢化率"
    assert view(page)["serial"].endswith("-secondary-aging_rate")
    assert_view_kept("after the level changed")
    page.close()
    assert blocked == [], f"requests that needed the network: {blocked[:5]}"
