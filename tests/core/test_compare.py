"""compare_plans: who moved where, and each area's population change, on real Hokkaido data."""

from __future__ import annotations

import pandas as pd
import pytest

from geo_app import Plan
from geo_app.core.compare import AREA_DIFF_COLUMNS, MOVED_COLUMNS, compare_plans
from geo_app.core.dissolve import dissolve
from geo_app.core.edits import move, rename_area

TOBETSU = "01303"


def pop_of(munis, code):
    return int(munis.set_index("code").at[code, "population"])


def test_identical_plans(hokkaido, hokkaido_plan):
    d = compare_plans(hokkaido, hokkaido_plan, hokkaido_plan)
    assert d.moved.empty and list(d.moved.columns) == MOVED_COLUMNS
    assert list(d.areas.columns) == AREA_DIFF_COLUMNS
    assert len(d.areas) == 33 and set(d.areas["change"]) == {"変化なし"}
    assert (d.areas["difference"] == 0).all()
    assert d.only_in_a == () and d.only_in_b == () and d.renamed.empty


def test_moving_tobetsu(hokkaido, hokkaido_plan):
    pop = pop_of(hokkaido, TOBETSU)
    b = move(hokkaido_plan, TOBETSU, "石狩市")
    d = compare_plans(hokkaido, hokkaido_plan, b)
    assert d.moved.to_dict("records") == [
        {
            "code": TOBETSU,
            "name": "当別町",
            "population": pop,
            "from_homecare": "札幌（未確定）",
            "to_homecare": "石狩市",
            "from_secondary": "札幌",
            "to_secondary": "札幌",
            "from_tertiary": "道央",
            "to_tertiary": "道央",
        }
    ]
    areas = d.areas.set_index("area")
    changed = areas[areas["difference"] != 0]
    assert changed["difference"].to_dict() == {"札幌（未確定）": -pop, "石狩市": pop}
    assert set(areas.index[areas["change"] != "変化なし"]) == {"札幌（未確定）", "石狩市"}
    # the figures are the dissolve's figures
    da = dissolve(hokkaido, hokkaido_plan).set_index("area")["population"]
    db = dissolve(hokkaido, b).set_index("area")["population"]
    assert areas.at["石狩市", "population_a"] == da["石狩市"] and areas.at["石狩市", "population_b"] == db["石狩市"]
    assert areas.at["石狩市", "municipalities_a"] == 1 and areas.at["石狩市", "municipalities_b"] == 2
    assert int(areas["difference"].sum()) == 0
    assert d.summary().startswith("1市町村の所属が変わります、在宅医療圏は 33 → 33")


def test_secondary_level_and_new_area(hokkaido, hokkaido_plan):
    pop = pop_of(hokkaido, TOBETSU)
    b = move(hokkaido_plan, TOBETSU, "旭川市")
    sec = compare_plans(hokkaido, hokkaido_plan, b, level="secondary").areas.set_index("area")
    assert sec.loc[sec["difference"] != 0, "difference"].to_dict() == {"札幌": -pop, "上川中部": pop}
    assert compare_plans(hokkaido, hokkaido_plan, b).moved.at[0, "to_secondary"] == "上川中部"
    c = move(hokkaido_plan, [TOBETSU, "01304"], "石狩北部")
    areas = compare_plans(hokkaido, hokkaido_plan, c).areas.set_index("area")
    new = areas.loc["石狩北部"]
    assert new["change"] == "Bのみ" and new["population_a"] == 0 and new["municipalities_a"] == 0
    assert new["population_b"] == pop + pop_of(hokkaido, "01304") and new["municipalities_b"] == 2


def test_renamed_area_shows_on_both_sides(hokkaido, hokkaido_plan):
    b = rename_area(hokkaido_plan, "homecare", "上川", "上川町村")
    d = compare_plans(hokkaido, hokkaido_plan, b)
    areas = d.areas.set_index("area")
    assert areas.at["上川", "change"] == "Aのみ" and areas.at["上川", "population_a"] == 51_990
    assert areas.at["上川町村", "change"] == "Bのみ" and areas.at["上川町村", "population_b"] == 51_990
    assert d.renamed.to_dict("records") == [{"level": "homecare", "area_a": "上川", "area_b": "上川町村"}]
    assert len(d.moved) == 9 and set(d.moved["to_homecare"]) == {"上川町村"}
    assert int(d.moved["population"].sum()) == 51_990


def test_rows_only_in_one_plan(hokkaido, hokkaido_plan):
    t = hokkaido_plan.table
    smaller = Plan(name="当別町なし", table=t[t["code"] != TOBETSU].reset_index(drop=True))
    d = compare_plans(hokkaido, hokkaido_plan, smaller)
    assert d.only_in_a == (TOBETSU,) and d.only_in_b == ()
    assert d.moved.empty
    areas = d.areas.set_index("area")
    assert areas.at["札幌（未確定）", "difference"] == -pop_of(hokkaido, TOBETSU)
    assert "「当別町なし」" not in d.summary() and "だけにある市町村 1" in d.summary()
    back = compare_plans(hokkaido, smaller, hokkaido_plan)
    assert back.only_in_b == (TOBETSU,)
    assert isinstance(back.areas["population_a"].dtype, pd.Int64Dtype)


def test_plans_that_split_a_city_differently_are_refused_not_miscounted(japan):
    from geo_app import PlanError, load_plan
    from geo_app.core.compare import compare_plans
    from geo_app.core.plan import Plan

    a = load_plan("secondary-2020:神奈川県")  # 川崎市 by ward
    t = a.table[~a.table["code"].str.startswith("1413")]
    whole = pd.DataFrame(
        [
            {
                "code": "14130",
                "name": "川崎市",
                "homecare": "川崎",
                "secondary": "川崎",
                "tertiary": "神奈川県",
                "status": "確定",
                "hub": pd.NA,
            }
        ]
    )
    b = Plan(name="B", table=pd.concat([t, whole.astype(t.dtypes.to_dict())], ignore_index=True))
    with pytest.raises(PlanError, match="14130"):
        compare_plans(japan, a, b, level="secondary")
