"""Dissolve: exact populations per area on real data, and a valid coverage."""

from __future__ import annotations

import pandas as pd
import pytest
import shapely

from geo_app import load_plan
from geo_app.core.codes import PREFECTURES
from geo_app.core.dissolve import dissolve
from geo_app.core.plan import Plan
from geo_app.io.plans import plan_from_frame

#: A38-20 secondary areas per prefecture, as counted in ../shared/data/areas/SOURCES.md (335 in all).
# fmt: off
SECONDARY_AREAS = dict(zip(PREFECTURES.values(), [
    21, 6, 9, 4, 8, 4, 6, 9, 6, 10, 10, 9, 13, 9, 7, 4, 4, 4, 4, 10, 5, 8, 11, 4, 7, 6, 8, 8, 5, 7, 3, 7, 5, 7, 8,
    3, 3, 6, 4, 13, 5, 8, 10, 6, 7, 9, 5,
], strict=True))
# fmt: on


def test_hokkaido_homecare_exact(hokkaido, hokkaido_plan):
    areas = dissolve(hokkaido, hokkaido_plan, "homecare")
    assert len(areas) == 33
    assert int(areas["population"].sum()) == 5_224_614
    assert int(areas["municipalities"].sum()) == 179
    pop = areas.set_index("area")["population"]
    assert pop["札幌市"] == 1_973_395
    assert pop["旭川市"] == 329_306
    assert pop["上川"] == 51_990
    assert areas.set_index("area").loc["上川", "municipalities"] == 9
    assert areas.set_index("area").loc["上川", "parent"] == "上川中部"
    assert set(areas.loc[areas["status"] == "未確定", "area"]) == {
        "南渡島（未確定）",
        "札幌（未確定）",
        "後志（未確定）",
        "西胆振（未確定）",
    }
    # each municipality in exactly one area
    members = areas["members"].str.split("、").explode()
    assert len(members) == 179 and members.is_unique


def test_hokkaido_upper_levels(hokkaido, hokkaido_plan):
    sec = dissolve(hokkaido, hokkaido_plan, "secondary")
    ter = dissolve(hokkaido, hokkaido_plan, "tertiary")
    assert len(sec) == 21 and len(ter) == 6
    assert int(sec["population"].sum()) == int(ter["population"].sum()) == 5_224_614
    assert set(ter["area"]) == {"道南", "道央", "道北", "オホーツク", "十勝", "釧路・根室"}
    assert ter.set_index("area").loc["十勝", "population"] == sec.set_index("area").loc["十勝", "population"]


def test_rates_are_recomputed_from_sums_not_averaged(hokkaido, hokkaido_plan):
    a = dissolve(hokkaido, hokkaido_plan, "homecare").set_index("area").loc["上川"]
    assert a["aging_rate"] == pytest.approx(a["age_65_plus"] / (a["population"] - a["age_unknown"]))


@pytest.mark.parametrize("level", ["homecare", "secondary", "tertiary"])
def test_areas_form_a_valid_coverage(hokkaido, hokkaido_plan, level):
    areas = dissolve(hokkaido, hokkaido_plan, level)
    assert areas.is_valid.all()
    assert shapely.coverage_is_valid(areas.geometry.values)
    union = shapely.union_all(areas.geometry.values)
    assert union.symmetric_difference(shapely.union_all(hokkaido.geometry.values)).area < 1e-9


def test_all_47_prefectures_dissolve_to_their_secondary_areas(japan, census):
    totals = census[census["kind"] == "municipality"].groupby("prefecture")["population"].sum()
    seen = 0
    for pref, expected_areas in SECONDARY_AREAS.items():
        plan = load_plan(f"secondary-2020:{pref}")
        areas = dissolve(japan, plan, "secondary")
        assert len(areas) == expected_areas, pref
        assert int(areas["population"].sum()) == int(totals[pref]), pref
        assert int(areas["municipalities"].sum()) == len(plan.table), pref
        seen += len(areas)
    assert seen == 335


def test_kawasaki_split_by_ward(japan):
    areas = dissolve(japan, load_plan("secondary-2020:神奈川県"), "secondary").set_index("area")
    # 川崎南部 = 川崎区 232,965 + 幸区 171,119 + 中原区 263,683
    assert areas.loc["川崎南部", "population"] == 232_965 + 171_119 + 263_683
    assert areas.loc["川崎南部", "municipalities"] == 3


def test_duplicate_codes_refused_with_message(hokkaido, hokkaido_plan):
    from geo_app import PlanError

    doubled = plan_from_frame(pd.concat([hokkaido_plan.table, hokkaido_plan.table.head(1)]))
    with pytest.raises(PlanError, match="01100"):
        dissolve(hokkaido, doubled, "homecare")


def test_overlapping_boundaries_are_reported_and_still_dissolve_exactly(tmp_path, hokkaido, hokkaido_plan):
    """Boundary files from different editions may overlap: reported, and unioned without the coverage shortcut."""
    import geopandas as gpd

    from geo_app import load_municipalities

    src = hokkaido[["code", "name", "geometry"]].copy()
    # 旭川市 grown by ~1 km into its neighbours: no longer a coverage
    asahikawa = src["code"] == "01204"
    src.loc[asahikawa, "geometry"] = shapely.buffer(
        src.loc[asahikawa, "geometry"].values, 0.01
    )  # degrees; size is not the point
    n03 = gpd.GeoDataFrame(
        {"N03_001": "北海道", "N03_004": src["name"], "N03_007": src["code"]},
        geometry=src.geometry.values,
        crs=hokkaido.crs,
    )
    path = tmp_path / "overlap.gpkg"
    n03.to_file(path, driver="GPKG")
    munis = load_municipalities(path)
    assert munis.attrs["coverage_valid"] is False
    assert munis.attrs["report"].counts["not_a_coverage"] == 1
    areas = dissolve(munis, hokkaido_plan, "secondary")
    assert int(areas["population"].sum()) == 5_224_614
    assert areas.is_valid.all()
    expected = shapely.union_all(
        munis.loc[
            munis["code"].isin(hokkaido_plan.table.loc[hokkaido_plan.table["secondary"] == "上川中部", "code"]),
            "geometry",
        ].values
    )
    got = areas.set_index("area").loc["上川中部", "geometry"]
    assert got.symmetric_difference(expected).area < 1e-12
    assert hokkaido.attrs["coverage_valid"] is True  # the embedded boundaries are a coverage


def test_an_area_missing_one_population_is_unknown_not_partial(tmp_path, hokkaido_plan, census):
    from geo_app import load_municipalities
    from geo_app.views.text import summary_frame, with_total

    table = census[(census["kind"] == "municipality") & (census["code"] != "01204")]  # no 旭川市
    path = tmp_path / "pop.csv"
    table.to_csv(path, index=False)
    munis = load_municipalities(prefectures=["北海道"], population=path)
    areas = dissolve(munis, hokkaido_plan, "tertiary").set_index("area")
    assert pd.isna(areas.loc["道北", "population"]) and pd.isna(areas.loc["道北", "aging_rate"])
    douou = hokkaido_plan.table.loc[hokkaido_plan.table["tertiary"] == "道央", "code"]
    assert areas.loc["道央", "population"] == int(
        table.loc[table["code"].isin(douou), "population"].sum()
    )  # others stay known
    total = with_total(summary_frame(dissolve(munis, hokkaido_plan, "tertiary"))).iloc[-1]
    assert pd.isna(total["population"])  # never a partial sum that looks complete


def test_member_without_boundary_leaves_its_areas_unknown_in_both_engines():
    """鳥取県 without 鳥取市's boundary: 東部 is unknown (was a silent 36,027 instead of 224,492)."""
    from geo_app import load_municipalities, load_plan
    from geo_app.core.live import LivePlan
    from geo_app.core.rules import ValidationOptions, validate

    plan = load_plan("secondary-2020:鳥取県")
    full = load_municipalities(prefectures=["鳥取県"])
    complete = dissolve(full, plan, "secondary").set_index("area")
    assert complete.loc["東部", "population"] == 224_492
    munis = full[full["code"] != "31201"].reset_index(drop=True)
    live = LivePlan(munis, plan)
    for level in ("secondary", "tertiary"):
        for areas in (dissolve(munis, plan, level), live.areas(level)):
            a = areas.set_index("area")
            unknown = "東部" if level == "secondary" else "鳥取県"
            assert pd.isna(a.loc[unknown, "population"]) and pd.isna(a.loc[unknown, "aging_rate"])
            assert pd.isna(a.loc[unknown, "area_km2"]) and pd.isna(a.loc[unknown, "age_65_plus"])
            assert pd.isna(a["population"].sum(skipna=False))  # so any total over areas is unknown too
    assert (
        dissolve(munis, plan, "secondary").set_index("area").loc["西部", "population"]
        == complete.loc["西部", "population"]
    )
    found = [f for f in validate(munis, plan, ValidationOptions(rules=["unknown_code"]))]
    assert [f.codes for f in found] == [("31201",)] and "境界データにありません" in found[0].message
    assert "境界ファイルにこの市町村が入っているか" in found[0].message

    # an area whose only member has no boundary still has its row, with every figure unknown
    t = plan.table.copy()
    t.loc[t["code"] == "31201", ["homecare", "secondary"]] = "鳥取市圏"
    moved = Plan(name="案", table=t)
    changed = live.apply(moved)
    assert ("secondary", "鳥取市圏") in changed
    for areas in (dissolve(munis, moved, "secondary"), live.areas("secondary")):
        a = areas.set_index("area")
        assert a.loc["東部", "population"] == 224_492 - 188_465  # 鳥取市 is no longer a member of 東部
        assert a.loc["鳥取市圏", "municipalities"] == 0 and pd.isna(a.loc["鳥取市圏", "population"])


def test_member_without_count_is_an_error_naming_it(hokkaido, hokkaido_plan):
    from geo_app.core.rules import ValidationOptions, validate

    munis = hokkaido.copy()
    munis.loc[munis["code"] == "01204", "population"] = pd.NA  # 旭川市 missing from a user's table
    areas = dissolve(munis, hokkaido_plan, "secondary").set_index("area")
    assert pd.isna(areas.loc["上川中部", "population"])
    found = validate(munis, hokkaido_plan, ValidationOptions(rules=["missing_count"]))
    assert len(found) == 1 and found[0].severity == "error" and found[0].codes == ("01204",)
    assert "旭川市（01204）" in found[0].message and "在宅医療圏「旭川市」" in found[0].message
