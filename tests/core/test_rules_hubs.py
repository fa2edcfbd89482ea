"""The hub findings on real Hokkaido data: unlocated, unknown facility, facility vs point, outside the area.

Distances are checked against an independent measurement: the hub's distance to the area's members in
JGD2011 / UTM zone 54N (EPSG:6691), not the rule's own projection and geodesic.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
import shapely
from pyproj import Geod, Transformer

from geo_app import load_municipalities
from geo_app.core.adjacency import build_adjacency
from geo_app.core.edits import set_hub
from geo_app.core.rules import RULES, ValidationOptions, exit_code, findings_frame, validate
from geo_app.io.facilities import load_facility_points

HUB_RULES = ["hub_unlocated", "hub_unknown_facility", "hub_location_conflict", "hub_outside_area"]
KITAMI_ID = "0165090010"  # 北見地域訪問看護ステーション (北見市), the source's id (see tests/core/test_hubs.py)
BIEI_LAT, BIEI_LON = 43.5886, 142.4675  # inside 美瑛町, in 上川
TOKACHI = "とかち在宅医療連携拠点（東十勝・西十勝・南十勝・北十勝）"


@pytest.fixture(scope="module")
def hokkaido():
    return load_municipalities(prefectures=["北海道"])


@pytest.fixture(scope="module")
def graph(hokkaido):
    return build_adjacency(hokkaido)


@pytest.fixture(scope="module")
def points():
    return load_facility_points()


def hub_findings(munis, plan, graph, facilities=None):
    options = ValidationOptions(rules=HUB_RULES, graph=graph, facilities=facilities)
    return validate(munis, plan, options)


def km_in(message: str) -> float:
    return float(re.search(r"約 ([\d.,]+) km", message).group(1).replace(",", ""))


def members(plan, areas) -> list[str]:
    return list(plan.table.loc[plan.table["homecare"].isin(areas), "code"])


def test_hub_rules_are_registered_after_no_hub():
    names = list(RULES)
    assert names[names.index("no_hub") + 1 : names.index("no_hub") + 5] == HUB_RULES
    assert [RULES[r].severity for r in HUB_RULES] == ["info", "warning", "warning", "warning"]
    assert all(RULES[r].title for r in HUB_RULES)


def test_hokkaidos_two_hubs_are_named_without_a_location_and_cannot_be_drawn(hokkaido, hokkaido_plan, graph):
    f = hub_findings(hokkaido, hokkaido_plan, graph)
    assert [x.rule for x in f] == ["hub_unlocated", "hub_unlocated"]  # one per hub, not per area
    kitami, tokachi = f
    assert kitami.area == "北見" and kitami.severity == "info"
    assert set(kitami.codes) == set(members(hokkaido_plan, ["北見"])) == {"01208", "01543", "01544", "01549", "01550"}
    assert tokachi.area is None and set(tokachi.codes) == set(
        members(hokkaido_plan, ["東十勝", "西十勝", "南十勝", "北十勝"])
    )
    for x in f:
        assert "地図に拠点の印を描けません" in x.message and "拠点の施設ID" in x.message and "拠点の緯度" in x.message
        assert "組み込みの区域案の出典には拠点の所在地がない" in x.message
    assert f"連携拠点「{TOKACHI}」（在宅医療圏「北十勝」「西十勝」「南十勝」「東十勝」）" in tokachi.message
    assert exit_code(f) == 0  # information: the built-in plan still checks clean
    assert set(findings_frame(f, japanese=True)["項目"]) == {"場所の分からない連携拠点"}


def test_a_located_hub_is_no_finding(hokkaido, hokkaido_plan, graph, points):
    plan = set_hub(hokkaido_plan, "北見", "北見在宅医療圏連携拠点センター", facility=KITAMI_ID)
    plan = set_hub(plan, "上川", "美瑛町役場", lat=str(BIEI_LAT), lon=str(BIEI_LON))
    f = hub_findings(hokkaido, plan, graph, points)
    assert [(x.rule, x.area) for x in f] == [("hub_unlocated", None)]  # only とかち is left
    # the facility table can come with the municipalities too, as the loader attaches its extras
    attached = hokkaido.copy()
    attached.attrs = {**hokkaido.attrs, "facility_points": points}
    assert hub_findings(attached, plan, graph) == f
    # without any facility table the id cannot be looked up: said so, as information
    [kitami] = [x for x in hub_findings(hokkaido, plan, graph) if x.area == "北見"]
    assert kitami.rule == "hub_unlocated" and "施設の一覧が読み込まれていない" in kitami.message


def test_an_id_not_in_the_facility_tables_is_a_warning(hokkaido, hokkaido_plan, graph, points):
    plan = set_hub(hokkaido_plan, "北見", "北見の拠点", facility="0199999999")
    [x] = [y for y in hub_findings(hokkaido, plan, graph, points) if y.area == "北見"]
    assert (x.rule, x.severity) == ("hub_unknown_facility", "warning")
    assert "施設ID「0199999999」は内蔵の施設の一覧" in x.message and "印を描けません" in x.message
    assert exit_code([x]) == 1
    with_point = set_hub(hokkaido_plan, "北見", "北見の拠点", facility="0199999999", lat="43.80", lon="143.89")
    [x] = [y for y in hub_findings(hokkaido, with_point, graph, points) if y.area == "北見"]
    assert (
        x.rule == "hub_unknown_facility"
        and "区域表の緯度・経度（北緯43.8000°・東経143.8900°）に描いています" in x.message
    )


def test_a_facility_and_a_point_far_apart_are_a_warning_and_the_facility_is_drawn(
    hokkaido, hokkaido_plan, graph, points
):
    station = points[points["id"].str.endswith(KITAMI_ID)].iloc[0]
    plan = set_hub(hokkaido_plan, "北見", "北見の拠点", facility=KITAMI_ID, lat="43.75", lon="143.95")
    [x] = [y for y in hub_findings(hokkaido, plan, graph, points) if y.area == "北見"]
    _, _, metres = Geod(ellps="WGS84").inv(station["lon"], station["lat"], 143.95, 43.75)
    assert x.rule == "hub_location_conflict" and km_in(x.message) == pytest.approx(metres / 1000, abs=0.06)
    assert (
        f"北緯{station['lat']:.4f}°・東経{station['lon']:.4f}°" in x.message and "施設の位置に描いています" in x.message
    )
    assert station["name"] in x.message


def test_a_hub_outside_its_area_is_a_warning_with_the_distance(hokkaido, hokkaido_plan, graph, points):
    """美瑛町's point named as 富良野's hub: it lies in 上川, some km from 富良野's nearest border."""
    plan = set_hub(hokkaido_plan, "富良野", "美瑛町役場", lat=str(BIEI_LAT), lon=str(BIEI_LON))
    [x] = [y for y in hub_findings(hokkaido, plan, graph, points) if y.area == "富良野"]
    assert (x.rule, x.severity, x.area) == ("hub_outside_area", "warning", "富良野")
    assert "美瑛町（在宅医療圏「上川」）の中" in x.message and "区域表の緯度・経度" in x.message
    utm = hokkaido.to_crs("EPSG:6691")  # JGD2011 / UTM zone 54N: an independent measurement
    furano = shapely.union_all(utm.loc[utm["code"].isin(members(plan, ["富良野"])), "geometry"].to_numpy())
    point = shapely.Point(Transformer.from_crs(4326, 6691, always_xy=True).transform(BIEI_LON, BIEI_LAT))
    expected_km = furano.distance(point) / 1000
    assert 1 < expected_km < 20
    assert km_in(x.message) == pytest.approx(expected_km, rel=0.01, abs=0.06)
    assert set(x.codes) == set(members(plan, ["富良野"]))
    # the same point as 上川's own hub is inside: nothing to say
    inside = set_hub(hokkaido_plan, "上川", "美瑛町役場", lat=str(BIEI_LAT), lon=str(BIEI_LON))
    assert [y.rule for y in hub_findings(hokkaido, inside, graph, points)] == ["hub_unlocated", "hub_unlocated"]


def test_a_hub_at_sea_says_so(hokkaido, hokkaido_plan, graph, points):
    plan = set_hub(hokkaido_plan, "上川", "海の上", lat="42.5", lon="145.0")  # the Pacific, south of 釧路
    [x] = [y for y in hub_findings(hokkaido, plan, graph, points) if y.area == "上川"]
    assert x.rule == "hub_outside_area" and "どの市町村の中でもなく（海上など）" in x.message
    assert km_in(x.message) > 100


def test_hub_names_stay_as_typed_in_messages(hokkaido, hokkaido_plan, graph, points):
    name = '=HYPERLINK("http://127.0.0.1:9","x")<script>alert(1)</script>\u202e$x$'
    plan = set_hub(hokkaido_plan, "北見", name, facility="0199999999")
    [x] = [y for y in hub_findings(hokkaido, plan, graph, points) if y.area == "北見"]
    assert f"連携拠点「{name}」" in x.message  # plain text: every view escapes it as it shows it
    frame = findings_frame([x], japanese=True)
    assert frame["説明"].iloc[0] == x.message and isinstance(frame["説明"].iloc[0], str)
    assert pd.isna(frame["説明"]).sum() == 0
