"""The app's hubs on the live map in Chromium (issue 12, item 4): a hub set on 保存・読み込み is a star on the map.

The built-in plan names two hubs without a location: its map shows no star and says so in the legend. A user
names a point in 美瑛町 as 上川's hub on 保存・読み込み (with a name that reads like markup), goes to the map and
finds a star there, in the print map's blue, on top of the fills, whose tooltip names it as text; 元に戻す on the
map page takes the star away again. Nothing may leave the machine.
"""

from __future__ import annotations

import re

import pytest
from test_app_browser import MAIN_MAP, alert, app_page, click_button, settle, wait_for_map

pytestmark = pytest.mark.browser

BIEI_AT = (43.5886, 142.4675)  # a point inside 美瑛町 (上川)
HOSTILE = "<img src=x onerror=alert(1)>美瑛町役場{{7*7}}"
_HANDLE = f"window.geoappMaps.{MAIN_MAP}.getContainer().__geoapp"
_HUBS_JS = f"() => window.geoappMaps.{MAIN_MAP}.getContainer().getAttribute('data-geoapp-hubs')"
#: The star drawn: its centre, the map's own projection of the hub's point, and whether it is on top there.
_STAR_JS = f"""([lat, lon]) => {{ const h = {_HANDLE}, r = h.map.getContainer().getBoundingClientRect();
  const p = h.map.latLngToContainerPoint([lat, lon]);
  return h.hubs.markers.map(m => {{ const b = m.getElement().getBoundingClientRect();
    const x = (b.left + b.right) / 2, y = (b.top + b.bottom) / 2;
    return {{name: m.geoappHub.name, x, y, px: p.x + r.left, py: p.y + r.top,
            top: !!document.elementFromPoint(x, y).closest('.geoapp-hub')}}; }}); }}"""


def legend(page) -> str:
    return page.locator(".geoapp-live .geoapp-legend").inner_text()


def test_a_hub_set_on_the_plans_page_is_a_star_that_undo_removes(tmp_path, browser):
    with app_page(browser, tmp_path) as (page, dialogs):
        sidebar = page.locator("[data-testid='stSidebar']")

        # the built-in plan: two hubs named, neither located: no star, and the legend says so
        assert page.evaluate(_HUBS_JS) == "0" and page.locator(".geoapp-hub").count() == 0
        assert "場所の分からない拠点2か所は地図に描いていません" in legend(page)
        assert "在宅医療連携拠点" not in legend(page)

        # 保存・読み込み: 上川's hub is a named point in 美瑛町
        sidebar.get_by_text("保存・読み込み", exact=True).click()
        pick = page.locator(".st-key-hub_area input")
        pick.wait_for(timeout=30_000)
        settle(page)
        pick.click()
        pick.fill("上川")
        page.get_by_role("option").filter(has_text=re.compile(r"^上川$")).first.click()
        settle(page)
        page.locator(".st-key-hub_how").get_by_text("名前と緯度・経度を入れる", exact=True).click()
        settle(page)
        for key, value in (("hub_point_name", HOSTILE), ("hub_lat", str(BIEI_AT[0])), ("hub_lon", str(BIEI_AT[1]))):
            field = page.locator(f".st-key-{key} input")
            field.fill(value)
            field.press("Enter")
            settle(page)
        click_button(page, "この地点を連携拠点にする")
        alert(page, "在宅医療圏「上川」の連携拠点を")

        # the map: one star, centred on the point, on top of the fills, in the print map's blue
        sidebar.get_by_text("地図と編集", exact=True).click()
        wait_for_map(page)
        page.wait_for_function(f"() => ({_HUBS_JS})() === '1'", timeout=30_000)
        settle(page)
        page.evaluate(
            f"([lat, lon]) => {_HANDLE}.map.setView([lat, lon], 9, {{animate: false}})",
            list(BIEI_AT),
        )
        [star] = page.evaluate(_STAR_JS, list(BIEI_AT))
        assert star["name"] == HOSTILE
        assert abs(star["x"] - star["px"]) <= 1 and abs(star["y"] - star["py"]) <= 1, star
        assert star["top"], star
        fill = page.evaluate(
            f"() => getComputedStyle({_HANDLE}.hubs.markers[0].getElement().querySelectorAll('polygon')[1]).fill"
        )
        assert fill == "rgb(31, 78, 154)"  # #1f4e9a, views.printmap.HUB_COLOR
        text = legend(page)
        assert "在宅医療連携拠点" in text and "場所の分からない拠点2か所は地図に描いていません" in text  # 北見, とかち

        # its tooltip: the typed name as text
        page.mouse.move(star["x"], star["y"])
        tip = page.locator(".geoapp-hub-tip")
        tip.wait_for(timeout=10_000)
        lines = tip.locator("div > div").evaluate_all("ds => ds.map(d => d.textContent)")
        assert lines == [HOSTILE, "在宅医療連携拠点", "在宅医療圏: 上川", "地点: 北緯43.58860・東経142.46750"]
        assert page.locator("img[src='x']").count() == 0 and dialogs == []
        page.mouse.move(5, 5)

        # 元に戻す: the hub is gone from the plan and its star from the map
        click_button(page, "元に戻す")
        page.wait_for_function(f"() => ({_HUBS_JS})() === '0'", timeout=30_000)
        settle(page)
        assert page.locator(".geoapp-hub").count() == 0 and "在宅医療連携拠点" not in legend(page)
        assert "場所の分からない拠点2か所は地図に描いていません" in legend(page)
        assert dialogs == []
        page.close()
