"""Hubs with a location (issue 12, item 4) on real Hokkaido data: where each hub is, and edits carry it.

The facility is a real 訪問看護ステーション in 北見市, by the id its source gives it (介護保険事業所番号 in
../shared/data/facilities/home_nursing_stations_mhlw130.csv); the point is one inside 美瑛町.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED
from pyproj import Geod

from geo_app import PlanError, load_plan
from geo_app.core.edits import EditHistory, describe_change, merge_areas, move, set_hub, split_area
from geo_app.core.hubs import (
    CONFLICT_M,
    HUB_POINT_COLUMNS,
    CoordinateError,
    add_hub_columns,
    format_coordinate,
    hub_points,
    parse_coordinate,
)
from geo_app.core.plan import HUB_COLUMNS
from geo_app.io.facilities import load_facility_points

#: 一般社団法人北海道総合在宅ケア事業団 北見地域訪問看護ステーション, 北見市 (01208): its source's id.
KITAMI_ID = "0165090010"
KITAMI_NAME = "一般社団法人北海道総合在宅ケア事業団　北見地域訪問看護ステーション"
BIEI, BIEI_LAT, BIEI_LON = "01459", 43.5886, 142.4675  # a point inside 美瑛町 (上川)
KAMIKAWA_TOWNS = {"01452", "01453", "01454", "01455", "01456", "01457", "01458", "01459", "01472"}
GEOD = Geod(ellps="GRS80")


@pytest.fixture(scope="module")
def points() -> pd.DataFrame:
    return load_facility_points()


@pytest.fixture(scope="module")
def kitami(points) -> pd.Series:
    """The station's row in the embedded points, found by the source id at the end of the loader's id."""
    hit = points[points["id"].str.endswith(KITAMI_ID) & (points["code"] == "01208")]
    assert len(hit) == 1, hit
    return hit.iloc[0]


def hubs_of(plan, facilities=None) -> pd.DataFrame:
    return hub_points(plan, facilities).set_index("homecare")


def cells(plan, code: str) -> list:
    row = plan.table.set_index("code").loc[code, list(HUB_COLUMNS)]
    return [None if pd.isna(v) else v for v in row]


# ---- where each hub is -------------------------------------------------------------------------
def test_built_in_plan_names_hokkaidos_two_hubs_with_no_location(hokkaido_plan):
    h = hubs_of(hokkaido_plan)
    assert list(hub_points(hokkaido_plan, None).columns) == HUB_POINT_COLUMNS
    tokachi = "とかち在宅医療連携拠点（東十勝・西十勝・南十勝・北十勝）"
    assert h["hub"].to_dict() == {
        "北見": "北見在宅医療圏連携拠点センター",
        **dict.fromkeys(["北十勝", "西十勝", "南十勝", "東十勝"], tokachi),
    }
    assert h["located_by"].isna().all() and h["lat"].isna().all() and h["lon"].isna().all()
    assert h["hub_facility"].isna().all() and h["facility_found"].isna().all()  # nobody looked: no id, no table


def test_the_sources_give_no_location_for_either_hub():
    """What the built-in plan says is what the source says: two hub names, nothing about where."""
    path = SHARED / "facilities" / "hokkaido_zaitaku_renkei_kyoten.csv"
    if not path.exists():
        pytest.skip("../shared/data is not beside this checkout")
    src = pd.read_csv(path, dtype=str)
    assert set(src["hub_name"]) == set(load_plan("hokkaido-2024").hubs().values())
    assert not {"lat", "lon", "address", "latitude", "longitude"} & set(src.columns)
    assert src["operator"].isna().any()  # 北見's operator is not named either


def test_kitami_id_is_the_sources_id_of_that_station():
    path = SHARED / "facilities" / "home_nursing_stations_mhlw130.csv"
    if not path.exists():
        pytest.skip("../shared/data is not beside this checkout")
    src = pd.read_csv(path, dtype=str)
    row = src[src["id"] == KITAMI_ID].iloc[0]
    assert (row["name"], row["code"]) == (KITAMI_NAME, "01208")


def test_a_facility_hub_takes_the_facilitys_point(hokkaido_plan, points, kitami):
    plan = set_hub(hokkaido_plan, "北見", "北見の拠点", facility=KITAMI_ID)
    h = hubs_of(plan, points).loc["北見"]
    assert (h["lat"], h["lon"]) == (kitami["lat"], kitami["lon"])
    assert 43.7 < h["lat"] < 43.9 and 143.8 < h["lon"] < 144.0  # 北見市's town centre
    assert (h["located_by"], h["facility_name"], h["facility_kind"]) == ("facility", KITAMI_NAME, kitami["kind"])
    assert bool(h["facility_found"]) and np.isnan(h["point_lat"]) and np.isnan(h["conflict_m"])
    # the loader's own id, and the id as Excel leaves it (a number: the leading zero gone) find it too
    for given in (kitami["id"], KITAMI_ID.lstrip("0"), f" {KITAMI_ID} "):
        again = hubs_of(set_hub(hokkaido_plan, "北見", "北見の拠点", facility=given), points).loc["北見"]
        assert (again["lat"], again["lon"], again["located_by"]) == (kitami["lat"], kitami["lon"], "facility")


def test_a_point_hub_is_where_the_plan_says(hokkaido_plan, points):
    plan = set_hub(hokkaido_plan, "上川", "美瑛町役場", lat=str(BIEI_LAT), lon=str(BIEI_LON))
    h = hubs_of(plan, points).loc["上川"]
    assert (h["lat"], h["lon"], h["located_by"]) == (BIEI_LAT, BIEI_LON, "point")
    assert pd.isna(h["facility_found"]) and pd.isna(h["facility_name"])
    assert set(plan.table.loc[plan.table["homecare"] == "上川", "code"]) == KAMIKAWA_TOWNS
    assert set(plan.table.loc[plan.table["homecare"] == "上川", "hub_lat"]) == {"43.5886"}  # on every member


def test_the_facility_wins_over_a_point_that_disagrees(hokkaido_plan, points, kitami):
    far = set_hub(hokkaido_plan, "北見", "北見の拠点", facility=KITAMI_ID, lat="43.9", lon="143.9")
    h = hubs_of(far, points).loc["北見"]
    assert (h["lat"], h["lon"], h["located_by"]) == (kitami["lat"], kitami["lon"], "facility")
    _, _, metres = GEOD.inv(kitami["lon"], kitami["lat"], 143.9, 43.9)
    assert h["conflict_m"] == pytest.approx(metres, abs=0.01) and h["conflict_m"] > 10_000
    near = set_hub(
        hokkaido_plan, "北見", "北見の拠点", facility=KITAMI_ID, lat=str(kitami["lat"] + 0.0003), lon=str(kitami["lon"])
    )
    assert hubs_of(near, points).loc["北見", "conflict_m"] < CONFLICT_M  # ~33 m: the same place written twice


def test_an_unknown_id_is_not_found_and_a_point_beside_it_is_used(hokkaido_plan, points):
    bad = set_hub(hokkaido_plan, "北見", "北見の拠点", facility="9999999999")
    h = hubs_of(bad, points).loc["北見"]
    assert pd.notna(h["facility_found"]) and not h["facility_found"]  # looked for, not there
    assert pd.isna(h["located_by"]) and np.isnan(h["lat"])
    with_point = set_hub(hokkaido_plan, "北見", "北見の拠点", facility="9999999999", lat="43.8", lon="143.9")
    h = hubs_of(with_point, points).loc["北見"]
    assert (h["located_by"], h["lat"], h["lon"]) == ("point", 43.8, 143.9) and not h["facility_found"]
    # without a facility table nobody can tell: unknown, not "not found"
    assert pd.isna(hubs_of(bad, None).loc["北見", "facility_found"])


def test_add_hub_columns_puts_the_hub_where_hub_was(hokkaido_plan, points):
    plan = set_hub(hokkaido_plan, "上川", "美瑛町役場", lat=str(BIEI_LAT), lon=str(BIEI_LON))
    frame = pd.DataFrame({"area": ["上川", "札幌市", "東十勝"], "hub": ["x", None, "y"], "population": [1, 2, 3]})
    out = add_hub_columns(frame, hub_points(plan, points), "area")
    assert list(out.columns) == ["area", "hub", "hub_facility", "hub_located_by", "hub_lat", "hub_lon", "population"]
    assert out["hub"].tolist()[0] == "美瑛町役場" and pd.isna(out["hub"].iloc[1])
    assert out["hub_located_by"].tolist()[0] == "地点" and out["hub_located_by"].tolist()[2] == "不明"
    assert out["hub_lat"].iloc[0] == BIEI_LAT and np.isnan(out["hub_lat"].iloc[2])
    no_hubs = load_plan("secondary-2020:鳥取県")
    assert add_hub_columns(frame, hub_points(no_hubs, points), "area").equals(frame)  # nothing named: as before


# ---- coordinates ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "axis", "value"),
    [
        ("43.5886", "lat", 43.5886),
        ("４３．５８８６", "lat", 43.5886),
        ("142.4675°", "lon", 142.4675),
        ("142.4675度", "lon", 142.4675),
        (" 24.3 ", "lat", 24.3),
        ("20", "lat", 20.0),
        ("154", "lon", 154.0),
    ],
)
def test_coordinates_as_typed_in_japan(text, axis, value):
    assert parse_coordinate(text, axis) == value
    assert float(format_coordinate(parse_coordinate(text, axis))) == value


@pytest.mark.parametrize(
    ("text", "axis", "words"),
    [
        ("142.4675", "lat", ["緯度 142.4675", "日本の範囲", "入れ替わって"]),
        ("43.5886", "lon", ["経度 43.5886", "入れ替わって"]),
        ("50.1", "lat", ["北緯20〜46度"]),
        ("-43.5", "lat", ["日本の範囲"]),
        ("北緯43度35分", "lat", ["数ではありません"]),
        ("nan", "lat", ["数ではありません"]),
        ("inf", "lon", ["数ではありません"]),
        ("", "lon", ["数ではありません"]),
    ],
)
def test_coordinates_that_cannot_be_a_place_in_japan_are_refused(text, axis, words):
    with pytest.raises(CoordinateError) as err:
        parse_coordinate(text, axis)
    assert all(w in str(err.value) for w in words), str(err.value)


def test_coordinates_are_kept_as_text_to_seven_decimals():
    assert format_coordinate(43.58861234567) == "43.5886123"
    assert format_coordinate(142.0) == "142.0"


# ---- edits carry the hub with its location ------------------------------------------------------
@pytest.fixture(scope="module")
def located(hokkaido_plan):
    """上川's hub at a point in 美瑛町; 北見's at the station; 富良野 with none."""
    plan = set_hub(hokkaido_plan, "上川", "美瑛町役場", lat=str(BIEI_LAT), lon=str(BIEI_LON))
    return set_hub(plan, "北見", "北見の拠点", facility=KITAMI_ID)


def test_move_into_an_area_takes_its_hub_with_the_location(located):
    kamifurano = "01460"  # 上富良野町, in 富良野 (no hub)
    assert cells(located, kamifurano) == [None, None, None, None]
    moved = move(located, kamifurano, "上川")
    assert cells(moved, kamifurano) == ["美瑛町役場", None, "43.5886", "142.4675"]
    # out again into a new area: a new area has no hub, so every hub field is cleared together
    out = move(moved, kamifurano, "新しい圏域")
    assert cells(out, kamifurano) == [None, None, None, None]
    # into 北見: the facility id, not a point
    assert cells(move(located, kamifurano, "北見"), kamifurano) == ["北見の拠点", KITAMI_ID, None, None]


def test_merge_carries_the_anchors_hub_and_split_clears_it(located):
    merged = merge_areas(located, "homecare", ["上川", "富良野"], "上川")
    furano_towns = set(located.table.loc[located.table["homecare"] == "富良野", "code"])
    for code in furano_towns | KAMIKAWA_TOWNS:
        assert cells(merged, code) == ["美瑛町役場", None, "43.5886", "142.4675"], code
    split = split_area(merged, "homecare", "上川", sorted(furano_towns), "富良野")
    for code in furano_towns:
        assert cells(split, code) == [None, None, None, None], code
    assert cells(split, BIEI) == ["美瑛町役場", None, "43.5886", "142.4675"]


def test_set_hub_refuses_what_cannot_be_a_hub(located):
    with pytest.raises(PlanError, match="緯度 142.4675 は日本の範囲"):
        set_hub(located, "上川", "役場", lat="142.4675", lon="43.5886")
    with pytest.raises(PlanError, match="経度が空"):
        set_hub(located, "上川", "役場", lat="43.5886")
    with pytest.raises(PlanError, match="名前が空"):
        set_hub(located, "上川", "  ", lat="43.5886", lon="142.4675")
    with pytest.raises(PlanError, match="在宅医療圏「どこか」は区域案にありません"):
        set_hub(located, "どこか", "役場", lat="43.5886", lon="142.4675")
    cleared = set_hub(located, "上川", None)
    assert all(cells(cleared, c) == [None, None, None, None] for c in KAMIKAWA_TOWNS)
    assert describe_change(located, cleared) == "在宅医療圏「上川」の連携拠点を外す"


def test_hub_edits_are_undone_saved_and_restored_with_their_location(hokkaido_plan, located):
    h = EditHistory(hokkaido_plan)
    step1 = h.apply(set_hub(hokkaido_plan, "上川", "美瑛町役場", lat=str(BIEI_LAT), lon=str(BIEI_LON)))
    assert h.undo_label == "在宅医療圏「上川」の連携拠点を「美瑛町役場」（北緯43.5886・東経142.4675）に設定"
    step2 = h.apply(set_hub(step1, "北見", "北見の拠点", facility=KITAMI_ID))
    assert h.undo_label == f"在宅医療圏「北見」の連携拠点を「北見の拠点」（施設 {KITAMI_ID}）に設定"
    assert step2 == located
    again = EditHistory.from_json(h.to_json())
    assert again.current == located and again.undo() == step1 and again.undo() == hokkaido_plan
    assert again.redo() == step1


def test_an_edit_history_saved_before_hub_locations_still_opens(hokkaido_plan):
    """A log written by the previous geo_app: rows of 7 cells, no "columns" member."""
    h = EditHistory(hokkaido_plan)
    h.apply(move(hokkaido_plan, BIEI, "富良野"))
    doc = json.loads(h.to_json())
    del doc["columns"]
    doc["base"]["rows"] = [row[:7] for row in doc["base"]["rows"]]
    old = EditHistory.from_json(json.dumps(doc, ensure_ascii=False))
    assert old.current == h.current and old.undo() == hokkaido_plan
    assert old.current.table["hub_lat"].isna().all() and old.current.hubs() == hokkaido_plan.hubs()
    doc["columns"] = ["code", "what"]
    with pytest.raises(PlanError, match="編集履歴"):
        EditHistory.from_json(json.dumps(doc, ensure_ascii=False))
