"""Per-prefecture coverage checks: N03 as downloaded (one file per prefecture) keeps the fast coverage union.

The 47 per-prefecture TopoJSON files in ../shared/data are each simplified on their own, so their
prefecture borders do not match and the whole set is no coverage, while every prefecture is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import SHARED

from geo_app import load_municipalities, load_plan
from geo_app.core.codes import PREFECTURES
from geo_app.core.geometry import (
    area_km2,
    coverage_groups,
    grouped_coverage_union,
    in_one_coverage,
    simplify_coverages,
)
from geo_app.core.tally import AreaTally
from geo_app.io.plans import plan_from_frame
from geo_app.views.build import HTML_SIMPLIFY_TOLERANCE

N03_DIR = SHARED / "boundaries" / "n03_2021_topojson_s0010"
PER_PREFECTURE = [N03_DIR / f"N03-21_{code}_210101.json" for code in PREFECTURES]
needs_shared = pytest.mark.skipif(
    not all(p.exists() for p in PER_PREFECTURE), reason="../shared/data (the 47 per-prefecture N03 files) is absent"
)
KAWASAKI = {"14130"}  # secondary-2024 keeps 川崎市's wards
#: Two neighbouring prefectures whose files carry enough detail for the maps' tolerance to remove
#: vertices (岩手県 14,027 → 12,626, 宮城県 10,366 → 9,147 at 0.001°).
IWATE, MIYAGI = "03", "04"


@pytest.fixture(scope="module")
def per_pref():
    """All Japan loaded as users download it: 47 files, one per prefecture."""
    if not all(p.exists() for p in PER_PREFECTURE):
        pytest.skip("../shared/data (the 47 per-prefecture N03 files) is absent")
    return load_municipalities(PER_PREFECTURE, keep_wards_of=KAWASAKI)


@pytest.fixture(scope="module")
def national():
    return load_municipalities(keep_wards_of=KAWASAKI)


@pytest.fixture(scope="module")
def japan_plan():
    """The 330 secondary-2024 areas of all 47 prefectures as one plan (names prefixed: some recur)."""
    frames = []
    for pref in PREFECTURES.values():
        t = load_plan(f"secondary-2024:{pref}").table.copy()
        t["secondary"] = pref + "／" + t["secondary"].astype(str)
        t["homecare"] = t["secondary"]
        t["tertiary"] = pref
        frames.append(t)
    return plan_from_frame(pd.concat(frames, ignore_index=True))


def _oracle(munis, plan, level: str) -> dict[str, object]:
    """Each area's shape by GEOS overlay union of its members: slow, but exact for any input."""
    t = plan.table
    by_code = munis.set_index(munis["code"].astype(str)).geometry
    return {
        area: shapely.union_all(by_code.loc[t.loc[t[level] == area, "code"].astype(str)].values)
        for area in t[level].dropna().unique()
    }


def _assert_same_shapes(areas, oracle) -> None:
    got = areas.set_index("area").geometry
    expected = np.array([oracle[a] for a in got.index], dtype=object)
    diff = shapely.area(shapely.symmetric_difference(got.values, expected))
    assert (diff <= 1e-9 * shapely.area(expected)).all(), got.index[diff > 1e-9 * shapely.area(expected)].tolist()


def test_coverage_groups_agree_with_one_check_per_group(hokkaido):
    geoms = hokkaido.geometry.values.copy()
    sub = hokkaido["subpref"].fillna("").to_numpy(dtype=object)
    i = int(np.flatnonzero(hokkaido["code"] == "01204")[0])  # 旭川市 grown into its neighbours
    geoms[i] = shapely.buffer(geoms[i], 0.01)
    got = coverage_groups(geoms, sub)
    expected = {g: bool(shapely.coverage_is_valid(geoms[sub == g])) for g in np.unique(sub)}
    assert got == expected
    assert got[sub[i]] is False and sum(got.values()) == len(got) - 1  # only 旭川市's 振興局 is broken


def test_in_one_coverage_needs_one_valid_group_per_key():
    keys = np.array(["a", "a", "b", "b", "c", "d"])
    groups = np.array([0, 0, 0, 1, -1, 2])
    assert in_one_coverage(keys, groups).tolist() == [True, False, False, True]


def test_mixed_union_is_exact_for_both_paths(hokkaido):
    geoms = hokkaido.geometry.values
    keys = hokkaido["subpref"].fillna("").to_numpy(dtype=object)
    uniques = np.unique(keys)
    fast = np.arange(len(uniques)) % 2 == 0
    got_keys, unions = grouped_coverage_union(geoms, keys, coverage=fast)
    assert got_keys.tolist() == uniques.tolist()
    expected = np.array([shapely.union_all(geoms[keys == k]) for k in uniques], dtype=object)
    assert (shapely.area(shapely.symmetric_difference(unions, expected)) < 1e-12).all()


@needs_shared
def test_loader_records_each_prefecture_as_its_own_coverage(per_pref, national):
    assert len(per_pref) == len(national) == 1741 + 6  # 川崎市 by its 7 wards
    assert per_pref.attrs["coverage_valid"] is False  # prefecture borders differ between files
    assert per_pref.attrs["coverage_groups"] == dict.fromkeys(PREFECTURES, True)
    report = per_pref.attrs["report"]
    assert report.counts["not_a_coverage"] == 0
    assert report.counts["coverage_per_prefecture"] == 1
    assert any("47 都道府県は速い方法" in n for n in report.notes)
    assert national.attrs["coverage_valid"] is True and national.attrs["coverage_groups"] == {}


@needs_shared
@pytest.mark.parametrize("pref", ["北海道", "岩手県", "秋田県", "東京都", "神奈川県", "沖縄県"])
def test_per_prefecture_files_give_the_national_areas(per_pref, national, pref):
    plan = load_plan(f"secondary-2024:{pref}")
    tally = AreaTally(per_pref, plan)
    areas = tally.areas("secondary")
    assert tally.overlay_areas("secondary") == [] and tally.overlay_areas("homecare") == []
    ref = AreaTally(national, plan).areas("secondary").set_index("area")
    got = areas.set_index("area").loc[ref.index]
    assert got["population"].tolist() == ref["population"].tolist()
    assert got["members"].tolist() == ref["members"].tolist()
    _assert_same_shapes(areas, _oracle(per_pref, plan, "secondary"))
    # Each file is simplified on its own (SOURCES.md), so shapes differ from the national file by a
    # little along the simplified lines, not by a missing or doubled municipality (that would be ≥ 5 %).
    ratio = area_km2(got.geometry) / area_km2(ref.geometry)
    assert np.abs(ratio - 1).max() < 0.02


@needs_shared
def test_all_japan_from_47_files_takes_the_fast_path_everywhere(per_pref, national, japan_plan):
    tally = AreaTally(per_pref, japan_plan)
    areas = tally.areas("secondary")
    assert len(areas) == 330 and tally.overlay_areas("secondary") == []
    ref = AreaTally(national, japan_plan).areas("secondary").set_index("area")
    got = areas.set_index("area").loc[ref.index]
    assert got["population"].tolist() == ref["population"].tolist()
    assert int(got["population"].sum()) == int(national["population"].sum())
    assert areas.is_valid.all()
    # no overlaps and no gaps inside an area: the shape's km² is its members' km² added up
    np.testing.assert_allclose(area_km2(got.geometry), got["area_km2"].to_numpy(), rtol=1e-9)
    assert area_km2(got.geometry).sum() == pytest.approx(area_km2(ref.geometry).sum(), rel=1e-4)


@needs_shared
def test_without_the_loader_attrs_the_tally_checks_groups_itself(per_pref):
    plan = load_plan("secondary-2024:岩手県")
    bare = per_pref.copy()
    bare.attrs = {"coverage_valid": False}  # as a view that keeps only some attrs passes it on
    tally = AreaTally(bare, plan)
    assert tally.overlay_areas("secondary") == []
    _assert_same_shapes(tally.areas("secondary"), _oracle(per_pref, plan, "secondary"))


@needs_shared
def test_area_across_a_prefecture_border_takes_the_overlay_union(per_pref):
    # 雫石町 (岩手県) and 仙北市 (秋田県) share a border, but from two files whose lines differ
    pair = per_pref[per_pref["code"].isin(["03301", "05215"])]
    assert not shapely.coverage_is_valid(pair.geometry.values)
    t = load_plan("secondary-2024:岩手県").table
    plan = plan_from_frame(
        pd.concat(
            [
                t,
                pd.DataFrame(
                    {
                        "code": ["05215"],
                        "name": ["仙北市"],
                        "homecare": ["盛岡"],
                        "secondary": ["盛岡"],
                        "tertiary": t.loc[t["secondary"] == "盛岡", "tertiary"].iloc[:1].tolist(),
                    },
                ),
            ],
            ignore_index=True,
        )
    )
    tally = AreaTally(per_pref, plan)
    areas = tally.areas("secondary")
    assert tally.overlay_areas("secondary") == ["盛岡"]  # only the area that crosses the border
    assert areas.is_valid.all()
    _assert_same_shapes(areas, _oracle(per_pref, plan, "secondary"))


# ---- the map's simplification, one coverage per prefecture file ----------------------------------------
@pytest.fixture(scope="module")
def two_prefs():
    """岩手県 and 宮城県 as downloaded: two files whose common border is drawn twice, differently."""
    files = [N03_DIR / f"N03-21_{code}_210101.json" for code in (IWATE, MIYAGI)]
    if not all(p.exists() for p in files):
        pytest.skip("../shared/data (N03 files of 岩手県 and 宮城県) is absent")
    return load_municipalities(files)


def _vertices(geoms) -> int:
    return int(shapely.get_num_coordinates(geoms).sum())


def test_simplify_keeps_each_prefecture_file_a_coverage(two_prefs):
    geoms = two_prefs.geometry.values
    prefs = two_prefs["pref_code"].to_numpy(dtype=object)
    groups = two_prefs.attrs["coverage_groups"]
    assert two_prefs.attrs["coverage_valid"] is False and groups == {IWATE: True, MIYAGI: True}
    # neighbours, yet no coverage together: the border is drawn once in each file
    iwate, miyagi = (shapely.union_all(geoms[prefs == p]) for p in (IWATE, MIYAGI))
    assert shapely.distance(iwate, miyagi) < 1e-3 and not shapely.coverage_is_valid(geoms)

    out = simplify_coverages(geoms, HTML_SIMPLIFY_TOLERANCE, prefs, groups)
    for pref in (IWATE, MIYAGI):
        sel = prefs == pref
        assert shapely.coverage_is_valid(out[sel]), pref  # neighbours inside the file still share borders
        assert shapely.is_valid(out[sel]).all(), pref
        assert _vertices(out[sel]) < _vertices(geoms[sel]), pref
        # simplified as that file alone, untouched by the other file's version of the border
        alone = shapely.coverage_simplify(geoms[sel], HTML_SIMPLIFY_TOLERANCE, simplify_boundary=True)
        assert shapely.equals_exact(out[sel], alone, tolerance=0).all(), pref


def test_simplify_leaves_a_group_that_is_no_coverage_as_it_is(two_prefs):
    geoms = two_prefs.geometry.values.copy()
    prefs = two_prefs["pref_code"].to_numpy(dtype=object)
    codes = two_prefs["code"].to_numpy(dtype=object)
    sendai = int(np.flatnonzero(codes == "04100")[0])
    geoms[sendai] = shapely.buffer(geoms[sendai], 0.01)  # 仙台市 grown over its neighbours
    groups = coverage_groups(geoms, prefs)
    assert groups == {IWATE: True, MIYAGI: False}

    out = simplify_coverages(geoms, HTML_SIMPLIFY_TOLERANCE, prefs, groups)
    broken, fine = prefs == MIYAGI, prefs == IWATE
    assert shapely.equals_exact(out[broken], geoms[broken], tolerance=0).all()  # not one vertex moved
    assert _vertices(out[broken]) == _vertices(geoms[broken])
    assert _vertices(out[fine]) < _vertices(geoms[fine]) and shapely.coverage_is_valid(out[fine])
    # a group the loader did not record (no entry) is left as it is too
    partial = simplify_coverages(geoms, HTML_SIMPLIFY_TOLERANCE, prefs, {IWATE: True})
    assert shapely.equals_exact(partial[broken], geoms[broken], tolerance=0).all()
