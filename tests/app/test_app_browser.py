"""The app in a real browser: `geo-app app` in a subprocess, driven by headless Chromium.

Every request that is not to localhost is refused and recorded: the map must come up with no
network. A municipality is moved through the UI (clicked on the map, target picked in the
select box), both areas' totals must change by exactly its population, the plan is saved, the
server restarted, and the edit must still be there after a reload.
"""

from __future__ import annotations

import contextlib
import re
import socket
import time
from pathlib import Path

import pytest
from conftest import (  # noqa: F401  (benchmarks import them from here)
    CHROMIUM_ARGS,  # noqa: F401  (benchmarks/bench_app_browser.py imports it from here)
    start_server,
    stop_server,
)
from conftest import offline_page as conftest_offline_page

pytestmark = pytest.mark.browser

SHOT = Path("/tmp/geo_app_app_browser.png")
#: The app's maps are in the page itself (a components v2 component, views.livemap + static/livemap),
#: each Leaflet map in window.geoappMaps under its Streamlit key: page_map.MAP_KEY, page_compare.COMPARE_KEY.
MAIN_MAP, COMPARE_MAP = "main_map", "compare_map"
# Real figures (2020 census): 美瑛町 moves from 上川 (9 towns) to 富良野.
BIEI, BIEI_POP = "01459", 9_668
KAMIKAWA, FURANO = 51_990, 39_894


# ---- server -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- page helpers -----------------------------------------------------------------------------
def offline_page(browser, blocked: list[str]):
    return conftest_offline_page(browser, blocked, viewport=(1500, 1100))


#: The map `key` as drawn now: in the page, with its municipalities, its labels and a state applied.
_MAP_READY_JS = """key => { const m = window.geoappMaps && window.geoappMaps[key]; if (!m) return false;
  const c = m.getContainer();
  return c.isConnected && c.hasAttribute('data-geoapp-state')
    && !!c.querySelector('.leaflet-overlay-pane path.leaflet-interactive') && !!c.querySelector('.geoapp-label'); }"""

#: Every label of the map `key`: its texts, whether it is shown (not given way to another label)
#: and whether its population line is shown (a crowded label may show its name only).
_LABELS_JS = """key => [...window.geoappMaps[key].getContainer().querySelectorAll('.geoapp-label')].map(e => {
  const pop = e.querySelector('.pop');
  return {name: e.querySelector('.name').textContent, pop: pop.textContent,
          shown: !e.classList.contains('geoapp-label-hidden') && getComputedStyle(e).visibility === 'visible',
          popShown: getComputedStyle(pop).display !== 'none'}; })"""


def wait_for_map(page, key: str = MAIN_MAP, timeout: float = 90_000) -> None:
    page.wait_for_function(_MAP_READY_JS, arg=key, timeout=timeout)


def map_labels(page, key: str = MAIN_MAP) -> list[dict]:
    return page.evaluate(_LABELS_JS, key)


def map_label(page, area: str, key: str = MAIN_MAP) -> str:
    """The text of an area's label on the map (name + population)."""
    hits = [f"{d['name']} {d['pop']}" for d in map_labels(page, key) if d["name"] == area]
    return hits[0] if hits else ""


def wait_for_label(page, text: str, key: str = MAIN_MAP, timeout: float = 30_000) -> None:
    """Wait until a label of the map reads `text` (「富良野 49,562 人」)."""
    page.wait_for_function(
        f"([key, want]) => ({_LABELS_JS})(key).some(d => d.name + ' ' + d.pop === want)",
        arg=[key, text],
        timeout=timeout,
    )


def click_municipality(page, lat: float, lon: float, code: str, key: str = MAIN_MAP) -> None:
    """A real mouse click on the map at a point inside the municipality `code` (its path must be
    the element under the pointer there: no control or box in the way)."""
    pt = page.evaluate(
        """([key, lat, lon, code]) => { const m = window.geoappMaps[key];
          const h = m.getContainer().closest('.geoapp-live').__geoapp;
          const p = m.latLngToContainerPoint([lat, lon]), r = m.getContainer().getBoundingClientRect();
          const x = p.x + r.left, y = p.y + r.top, path = h.paths[h.base.codes.indexOf(code)];
          return {x, y, hit: document.elementFromPoint(x, y) === path.getElement()}; }""",
        [key, lat, lon, code],
    )
    assert pt["hit"], f"{code} is not under the pointer at ({lat}, {lon})"
    page.mouse.click(pt["x"], pt["y"])


def choose(page, label: str, typed: str, option: re.Pattern) -> None:
    box = page.locator("[data-testid='stSelectbox']").filter(has_text=label).first
    box.click()
    page.keyboard.type(typed)
    page.get_by_role("option", name=option).first.click()


def click_button(page, name: str) -> float:
    """Click a button once the rerun that drew it is over (one enabled button of that name; a button
    with a help text also has a copy that is not drawn)."""
    page.wait_for_function(
        "name => { const bs = [...document.querySelectorAll('button')]"
        ".filter(b => b.innerText.trim() === name && b.checkVisibility());"
        " return bs.length === 1 && !bs[0].disabled; }",
        arg=name,
        timeout=30_000,
    )
    t = time.perf_counter()
    page.get_by_role("button", name=name, exact=True).click()
    return t


def alert(page, text: str):
    loc = page.locator("[data-testid='stAlert']").filter(has_text=text).first
    loc.wait_for(timeout=30_000)
    return loc.inner_text()


# ---- the test ---------------------------------------------------------------------------------
def test_move_save_restart_offline(tmp_path, browser, hokkaido):
    import shapely

    biei = hokkaido.loc[hokkaido["code"] == BIEI]
    assert int(biei["population"].iloc[0]) == BIEI_POP
    inside = shapely.point_on_surface(biei.geometry.values[0])
    db, log = tmp_path / "plans.sqlite3", tmp_path / "server.log"
    port = free_port()
    blocked: list[str] = []
    proc = start_server(port, db, log)
    try:
        page = offline_page(browser, blocked)
        page.goto(f"http://localhost:{port}/")
        wait_for_map(page)
        # the embedded Hokkaido 2024 plan: 33 areas, 5,224,614 people, Japanese labels on the map
        main = page.locator("[data-testid='stMain']")
        assert "5,224,614 人" in main.inner_text()
        assert "33" in page.locator("[data-testid='stMetric']").filter(has_text="在宅医療圏の数").inner_text()
        assert len(map_labels(page)) == 33
        assert re.search(r"上川\s*51,990 人", map_label(page, "上川"))
        assert re.search(r"富良野\s*39,894 人", map_label(page, "富良野"))
        assert "国土数値情報" in page.locator("[data-testid='stSidebar']").inner_text()

        # select 美瑛町 by clicking it on the map
        click_municipality(page, inside.y, inside.x, BIEI)
        page.get_by_text(f"美瑛町（{BIEI}）").first.wait_for(timeout=30_000)
        panel = main.inner_text()
        assert f"人口 {BIEI_POP:,}人" in panel and f"今の在宅医療圏: 上川（{KAMIKAWA:,}人）" in panel

        # move it to 富良野 through the select box and the button
        choose(page, "移動先の在宅医療圏", "富良野", re.compile(r"^富良野（"))
        click_button(page, "移動する")
        msg = alert(page, "移動しました")
        assert f"「上川」{KAMIKAWA:,}人 → {KAMIKAWA - BIEI_POP:,}人" in msg
        assert f"「富良野」{FURANO:,}人 → {FURANO + BIEI_POP:,}人" in msg
        page.get_by_text(f"今の在宅医療圏: 富良野（{FURANO + BIEI_POP:,}人）").first.wait_for(timeout=30_000)
        # the map's layers were restyled in place: labels show the new totals
        wait_for_label(page, f"富良野 {FURANO + BIEI_POP:,} 人")
        assert re.search(rf"上川\s*{KAMIKAWA - BIEI_POP:,} 人", map_label(page, "上川"))
        assert "5,224,614 人" in main.inner_text()  # nobody lost
        page.screenshot(path=str(SHOT))

        # compare: the moved municipality is outlined in red on plan B's map, and listed
        page.locator("[data-testid='stSidebar']").get_by_text("案の比較", exact=True).click()
        alert(page, "1市町村の所属が変わります")
        wait_for_map(page, COMPARE_MAP)
        page.wait_for_function(
            "key => { const c = window.geoappMaps[key].getContainer(), cr = c.getBoundingClientRect();"
            " const red = [...c.querySelectorAll('path.leaflet-interactive')]"
            ".filter(p => p.getAttribute('stroke') === '#d40000' && p.getAttribute('stroke-width') === '3');"
            " const box = red.length === 1 ? red[0].getBoundingClientRect() : null;"
            " return box && box.width > 2 && box.height > 2 && box.right > cr.left && box.left < cr.right; }",
            arg=COMPARE_MAP,
            timeout=60_000,
        )
        outline = page.evaluate(  # the outlined path is 美瑛町's
            "([key, code]) => { const h = window.geoappMaps[key].getContainer().closest('.geoapp-live').__geoapp;"
            " return h.paths[h.base.codes.indexOf(code)].getElement().getAttribute('stroke'); }",
            [COMPARE_MAP, BIEI],
        )
        assert outline == "#d40000"

        # save it as 案A
        page.locator("[data-testid='stSidebar']").get_by_text("保存・読み込み", exact=True).click()
        field = page.get_by_label("名前を付けて保存（例: 現行, 案A, 案B）")
        field.fill("案A")
        field.press("Enter")
        click_button(page, "名前を付けて保存")
        alert(page, "保存しました（版1）")
        page.wait_for_function("() => location.search.includes('plan=')", timeout=10_000)
        url = page.url
        page.close()
    finally:
        stop_server(proc)

    # a new server process on the same database: the saved edit is still there after a reload
    proc = start_server(port, db, log)
    try:
        page = offline_page(browser, blocked)
        assert "/plans?" in url  # each page has its own URL; the saved plan stays in it
        page.goto(url)
        page.get_by_text("いま編集中の区域案").first.wait_for(timeout=60_000)
        assert "保存先: 「案A」版1" in page.locator("[data-testid='stSidebar']").inner_text()
        page.locator("[data-testid='stSidebar']").get_by_text("地図と編集", exact=True).click()
        wait_for_map(page)
        assert "plan=" in page.url  # ?plan= kept across pages (the default page is at /)
        assert "保存先: 「案A」版1" in page.locator("[data-testid='stSidebar']").inner_text()
        assert re.search(rf"富良野\s*{FURANO + BIEI_POP:,} 人", map_label(page, "富良野"))
        choose(page, "市町村", "美瑛", re.compile(r"^美瑛町"))
        page.get_by_text(f"今の在宅医療圏: 富良野（{FURANO + BIEI_POP:,}人）").first.wait_for(timeout=30_000)
        page.close()
    finally:
        stop_server(proc)
    assert blocked == [], f"requests that needed the network: {blocked[:5]}"


# ---- names are data ---------------------------------------------------------------------------
HOSTILE_PLAN = "![x](http://127.0.0.1:9/x.png)"  # a tracking image if rendered as Markdown
HOSTILE_AREA = (
    ":red[赤] **b** <img src=http://127.0.0.1:9/y.png onerror=alert(1)> $x^2$ {{7*7}} :smile: http://127.0.0.1:9/z"
)
JOINER = "\u2060"  # md_escape's invisible break of shortcodes and bare URLs
MAIN = "[data-testid='stMain']"


def shown(locator) -> str:
    return locator.inner_text().replace(JOINER, "")


def wait_shown(page, where: str, text: str, timeout: float = 30_000) -> None:
    """Wait until the element `where` (a CSS selector) shows `text` (md_escape's joiners aside)."""
    page.wait_for_function(
        "([sel, t]) => { const e = document.querySelector(sel);"
        " return e && e.innerText.replace(/\u2060/g, '').includes(t); }",
        arg=[where, text],
        timeout=timeout,
    )


def no_markup_leaks(page) -> None:
    """No tracking image in the page (the map's labels and boxes are in it) or any frame, no Streamlit
    exception box."""
    found = page.evaluate(
        """() => { const docs = [document];
            for (const f of document.querySelectorAll('iframe')) {
              try { if (f.contentDocument) docs.push(f.contentDocument); } catch (e) {}
            }
            return docs.flatMap(d => [...d.querySelectorAll('img')].map(i => i.getAttribute('src') || ''))
              .filter(s => s.includes('127.0.0.1:9')); }"""
    )
    assert found == []
    assert page.locator("[data-testid='stException']").count() == 0


@contextlib.contextmanager
def app_page(browser, tmp_path: Path):
    """`geo-app app` on a free port with its own database, and a page on its map with every non-local
    request refused: yields (page, dialogs). Stops the server, then checks nothing needed the network."""
    port = free_port()
    proc = start_server(port, tmp_path / "plans.sqlite3", tmp_path / "server.log")
    blocked: list[str] = []
    dialogs: list[str] = []
    try:
        page = offline_page(browser, blocked)
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"http://localhost:{port}/")
        wait_for_map(page)
        settle(page)
        yield page, dialogs
    finally:
        stop_server(proc)
    assert blocked == [], f"requests that needed the network: {blocked[:5]}"


def settle(page) -> None:
    """Wait for the script run to finish (no element left stale, no running indicator)."""
    page.wait_for_function(
        "() => !document.querySelector(\"[data-stale='true']\") && !document.querySelector("
        "\"[data-testid='stStatusWidget'] img, [data-testid='stStatusWidgetRunningIcon']\")",
        timeout=30_000,
    )


def test_hostile_names_show_literally_and_stay_offline(tmp_path, browser):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    db, log = tmp_path / "plans.sqlite3", tmp_path / "server.log"
    port = free_port()
    blocked: list[str] = []  # refused by the route: not this machine
    foreign: list[str] = []  # any address but this server (127.0.0.1:9 included)
    dialogs: list[str] = []
    own = (
        f"http://localhost:{port}/",
        f"ws://localhost:{port}/",
        f"http://127.0.0.1:{port}/",
        f"ws://127.0.0.1:{port}/",
        "data:",
        "blob:",
        "about:",
    )
    proc = start_server(port, db, log)
    try:
        page = offline_page(browser, blocked)
        page.on("request", lambda r: None if r.url.startswith(own) else foreign.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"http://localhost:{port}/")
        wait_for_map(page)
        main, sidebar = page.locator("[data-testid='stMain']"), page.locator("[data-testid='stSidebar']")

        # rename 富良野 through the UI
        page.get_by_text("圏域の名前の変更・統合・分割", exact=True).click()
        for attempt in range(3):  # a rerun (the map reporting its first state) may close the list
            settle(page)
            pick = page.locator(".st-key-rn_area input")
            pick.click()
            pick.fill("富良野")
            option = page.get_by_role("option").filter(has_text=re.compile(r"^富良野$")).first
            try:
                option.click(timeout=10_000)
                break
            except PlaywrightTimeout:
                if attempt == 2:
                    raise
                page.keyboard.press("Escape")
        field = page.get_by_label("新しい名前", exact=True)
        field.fill(HOSTILE_AREA)
        field.press("Enter")
        click_button(page, "名前を変える")
        assert f"「富良野」の名前を「{HOSTILE_AREA}」に変えました" in alert(page, "に変えました").replace(JOINER, "")
        page.get_by_role("tab", name=re.compile("編集の記録")).click()
        wait_shown(page, MAIN, f"「{HOSTILE_AREA}」")  # the edit list: 在宅医療圏「富良野」を「…」に名前変更
        # the map's label holds the name as text (its population line unchanged)
        wait_for_label(page, f"{HOSTILE_AREA} {FURANO:,} 人")
        no_markup_leaks(page)

        # save as a name that is a Markdown image
        sidebar.get_by_text("保存・読み込み", exact=True).click()
        field = page.get_by_label("名前を付けて保存（例: 現行, 案A, 案B）")
        field.fill(HOSTILE_PLAN)
        field.press("Enter")
        click_button(page, "名前を付けて保存")
        assert f"区域案「{HOSTILE_PLAN}」を保存しました（版1）" in alert(page, "保存しました（版1）").replace(
            JOINER, ""
        )
        page.wait_for_function("() => location.search.includes('plan=')", timeout=10_000)
        url = page.url

        markers = {
            "地図と編集": "在宅医療圏の数",
            "案の比較": "市町村の所属が変わります",
            "保存・読み込み": "いま編集中の区域案",
            "都道府県・データ": "都道府県と出発点を選ぶ",
        }
        for name, marker in markers.items():
            sidebar.get_by_text(name, exact=True).click()
            main.get_by_text(marker).first.wait_for(timeout=60_000)
            if name == "案の比較":
                wait_shown(page, MAIN, f"名前だけが変わった圏域: 富良野 → {HOSTILE_AREA}")
            if name == "保存・読み込み":
                wait_shown(page, MAIN, f"「{HOSTILE_PLAN}」の履歴（1版）")
            settle(page)
            if name == "地図と編集":  # the map's title box: the saved name as text
                wait_for_map(page)
                head = page.locator(".geoapp-live .geoapp-head .geoapp-title").inner_text()
                assert head.startswith(f"{HOSTILE_PLAN}（版1・"), head
                assert HOSTILE_AREA in [d["name"] for d in map_labels(page)]
            assert f"保存先: 「{HOSTILE_PLAN}」版1" in shown(sidebar), name
            assert shown(sidebar).splitlines().count(HOSTILE_PLAN) == 1, name  # the bold name, literally
            no_markup_leaks(page)
        page.close()

        # a reload through ?plan=…: the origin quotes the name
        page = offline_page(browser, blocked)
        page.on("request", lambda r: None if r.url.startswith(own) else foreign.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(url)  # the plans page, where the name was saved
        page.get_by_text("いま編集中の区域案").first.wait_for(timeout=60_000)
        wait_shown(page, MAIN, f"出発点: 保存した案「{HOSTILE_PLAN}」")
        no_markup_leaks(page)
        page.close()
    finally:
        stop_server(proc)
    assert foreign == [] and blocked == [] and dialogs == [], (foreign[:5], blocked[:5], dialogs)
