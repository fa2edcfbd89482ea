"""N03 boundaries: the data traps, each decided and reported."""

from __future__ import annotations

import shapely

from geo_app import load_municipalities
from geo_app.io.boundaries import read_n03_units
from geo_app.io.datasets import boundaries_path


def test_hokkaido_179_municipalities_wards_merged_northern_territories_dropped(hokkaido):
    assert len(hokkaido) == 179
    assert hokkaido["code"].is_unique
    assert not hokkaido["code"].isin(["01695", "01696", "01697", "01698", "01699", "01700"]).any()
    assert not hokkaido["code"].between("01101", "01110").any()  # 札幌's wards became 01100
    sapporo = hokkaido.set_index("code").loc["01100"]
    assert sapporo["name"] == "札幌市"
    report = hokkaido.attrs["report"]
    assert report.counts["northern_territories_dropped"] == 6
    assert report.counts["wards_merged"] == 10


def test_national_units_and_decisions():
    units, report = read_n03_units(boundaries_path())
    # 1,906 features: 1,896 census units + 6 Northern-Territory villages + 4 所属未定地 without a code
    assert report.counts["unsettled_dropped"] == 4
    assert len(units) == 1902
    assert report.counts["repaired"] == 2  # 長崎市 42201 and 豊見城市 47212 self-intersect after decoding
    assert units.is_valid.all()
    assert shapely.coverage_is_valid(units.geometry.values)
    assert (units["kind"] == "ward").sum() == 175
    assert units.loc[units["kind"] == "ward", "city_code"].nunique() == 20


def test_japan_municipalities_match_census(japan, census):
    # 1,741 municipalities, except 川崎市 kept as its 7 wards: 1,740 + 7
    assert len(japan) == 1747
    assert int(japan["population"].sum()) == 126_146_099
    assert japan["population"].notna().all()
    assert japan.attrs["report"].counts["population_unmatched"] == 0


def test_wards_kept_on_request():
    kanagawa = load_municipalities(prefectures=["神奈川県"], wards="keep")
    assert kanagawa["kind"].eq("ward").sum() == 7 + 18 + 3  # 川崎, 横浜, 相模原
    assert int(kanagawa["population"].sum()) == 9_237_337


def test_area_in_equal_area_projection(hokkaido):
    sapporo = hokkaido.set_index("code").loc["01100", "area_km2"]
    # 国土地理院: 札幌市 1,121.26 km²; the shared boundaries are simplified to 1 % of their vertices
    assert abs(sapporo - 1121.26) / 1121.26 < 0.01


def test_island_municipalities_are_one_row_each(hokkaido):
    by_code = hokkaido.set_index("code")
    assert by_code.loc["01519", "name"] == "利尻富士町"
    assert by_code.loc["01367", "name"] == "奥尻町"
    # Multi-part municipalities stay one row: islands (羽幌町's 天売島・焼尻島, 礼文町's 海驢島, 根室市's 歯舞群島 …)
    # and exclaves (釧路市 = 旧釧路市 + 旧阿寒町・音別町 split by 白糠町; 伊達市 + 旧大滝村; 日高町 + 旧門別町).
    multi = set(hokkaido.loc[hokkaido.geom_type == "MultiPolygon", "code"])
    assert multi == {"01206", "01223", "01233", "01331", "01484", "01517", "01601", "01662", "01663", "01691"}
