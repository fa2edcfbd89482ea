"""The app's 連携拠点 section (保存・読み込み) through AppTest: a facility of the area, or a typed point.

Real data: 北見's facilities are those of the embedded points in its five municipalities; 美瑛町's point
sits in 上川. Setting a hub is an edit: it is undone on the map page like a move.
"""

from __future__ import annotations

import pandas as pd
from conftest import new_app, rerun

from geo_app.core.hubs import hub_points
from geo_app.io.facilities import load_facility_points
from geo_app.io.plans import hub_facilities

KITAMI_ID = "0165090010"  # 北見地域訪問看護ステーション (北見市), the source's id
KITAMI_TOWNS = {"01208", "01543", "01544", "01549", "01550"}
HOSTILE = "美瑛町役場 **太字** <b>x</b> [link](http://127.0.0.1:9) :red[赤]"


def plans_page(at):
    at.switch_page("page_plans.py")
    return rerun(at)


def hub_cells(ws, area: str) -> set[tuple]:
    t = ws.plan.table
    rows = t.loc[t["homecare"] == area, ["hub", "hub_facility", "hub_lat", "hub_lon"]]
    return {tuple(None if pd.isna(v) else v for v in r) for r in rows.to_numpy()}


def test_a_facility_of_the_area_becomes_its_hub_and_findings_see_where(db):
    at = plans_page(new_app())
    at.selectbox(key="hub_area").set_value("北見")
    rerun(at)
    assert "いまの連携拠点: 北見在宅医療圏連携拠点センター（位置の根拠: 不明、地図に描けません）" in [
        t.value for t in at.text
    ]
    options = at.selectbox(key="hub_facility").options
    points = load_facility_points(sorted(KITAMI_TOWNS))
    assert len(options) == len(points) > 10  # every facility point of the area's five municipalities
    station = points[points["id"].str.endswith(KITAMI_ID)].iloc[0]
    at.selectbox(key="hub_facility").set_value(station["id"])
    at.button(key="btn_hub_facility").click()
    rerun(at)
    assert any("在宅医療圏「北見」の連携拠点を" in s.value for s in at.success), [e.value for e in at.error]
    ws = at.session_state["ws"]
    assert hub_cells(ws, "北見") == {(station["name"], station["id"], None, None)}
    assert set(ws.plan.table.loc[ws.plan.table["homecare"] == "北見", "code"]) == KITAMI_TOWNS
    hub = hub_points(ws.plan, hub_facilities(ws.plan)).set_index("homecare").loc["北見"]
    assert (hub["lat"], hub["lon"], hub["located_by"]) == (station["lat"], station["lon"], "facility")
    # the app's findings look the id up: 北見's hub is located now, only とかち's is not
    unlocated = [f for f in ws.findings() if f.rule.startswith("hub_")]
    assert [(f.rule, f.area) for f in unlocated] == [("hub_unlocated", None)]
    assert f"位置の根拠: 施設、北緯{station['lat']:.5f}" in " ".join(t.value for t in at.text)


def test_a_typed_point_with_any_name_is_an_edit_that_undo_takes_back(db):
    at = plans_page(new_app())
    at.selectbox(key="hub_area").set_value("上川")
    rerun(at)
    at.radio(key="hub_how").set_value("point")
    rerun(at)
    at.text_input(key="hub_point_name").set_value(HOSTILE)
    at.text_input(key="hub_lat").set_value("142.4675")  # swapped: refused, nothing changes
    at.text_input(key="hub_lon").set_value("43.5886")
    at.button(key="btn_hub_point").click()
    rerun(at)
    ws = at.session_state["ws"]
    assert any("日本の範囲" in e.value and "入れ替わって" in e.value for e in at.error) and len(ws.history) == 0
    at.text_input(key="hub_lat").set_value("４３．５８８６")  # full-width, as typed with a Japanese IME
    at.text_input(key="hub_lon").set_value("142.4675")
    at.button(key="btn_hub_point").click()
    rerun(at)
    ws = at.session_state["ws"]
    assert hub_cells(ws, "上川") == {(HOSTILE, None, "43.5886", "142.4675")}  # the name exactly as typed
    [message] = [s.value for s in at.success]
    assert "**" not in message.replace("\\*\\*", "") and "\\[link\\]" in message  # shown escaped, as text
    assert "<b>" not in message.replace("\\<b\\>", "")
    assert len(ws.history) == 1 and ws.history.undo_label.startswith("在宅医療圏「上川」の連携拠点を「")
    at.button(key="btn_hub_clear").click()
    rerun(at)
    assert hub_cells(at.session_state["ws"], "上川") == {(None, None, None, None)}
    at.switch_page("page_map.py")
    rerun(at)
    at.button(key="btn_undo").click()
    rerun(at)
    assert hub_cells(at.session_state["ws"], "上川") == {(HOSTILE, None, "43.5886", "142.4675")}
    at.button(key="btn_undo").click()
    rerun(at)
    assert hub_cells(at.session_state["ws"], "上川") == {(None, None, None, None)}
    assert len(at.session_state["ws"].history) == 0
