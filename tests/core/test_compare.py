"""compare_plans: who moved where, and each area's population change, on real Hokkaido data."""

from __future__ import annotations

import pandas as pd
import pytest

from geo_app import Plan
from geo_app.core.compare import AREA_DIFF_COLUMNS, MOVED_COLUMNS, compare_plans
from geo_app.core.dissolve import dissolve
from geo_app.core.edits import merge_areas, move, rename_area, split_area

TOBETSU = "01303"
BIEI = "01459"  # 美瑛町, in 上川


def pop_of(munis, code):
    return int(munis.set_index("code").at[code, "population"])


def members_pop(munis, plan, area):
    """An area's population summed here from its members' census counts (not through compare or the tally)."""
    codes = plan.table.loc[plan.table["homecare"] == area, "code"]
    return int(munis.set_index("code").loc[codes, "population"].sum())


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


def test_renamed_area_is_one_row_and_moves_nobody(hokkaido, hokkaido_plan):
    b = rename_area(hokkaido_plan, "homecare", "上川", "上川町村")
    d = compare_plans(hokkaido, hokkaido_plan, b)
    assert d.moved.empty
    kamikawa = members_pop(hokkaido, hokkaido_plan, "上川")
    row = d.areas.set_index("area").loc["上川町村"]
    assert (row["area_a"], row["area_b"], row["change"]) == ("上川", "上川町村", "名前だけ変更")
    assert row["population_a"] == row["population_b"] == kamikawa and row["difference"] == 0
    assert row["gained"] == () and row["lost"] == ()
    assert "上川" not in set(d.areas["area"])  # no "Aのみ 上川" row, no "0 → N" row for 上川町村
    assert d.renamed.to_dict("records") == [
        {
            "level": "homecare",
            "area_a": "上川",
            "area_b": "上川町村",
            "population_a": kamikawa,
            "population_b": kamikawa,
            "municipalities_a": 9,
        }
    ]
    assert d.changed_areas.empty
    assert d.summary() == "0市町村の所属が変わります、在宅医療圏は 33 → 33、名前だけ変わる在宅医療圏 1。"


TOKACHI = ["北十勝", "西十勝", "南十勝", "東十勝"]


def test_four_renamed_areas_move_nobody(hokkaido, hokkaido_plan):
    """The user's case: a copy of hokkaido-2024 with the four 十勝 areas only renamed."""
    b = hokkaido_plan
    for old in TOKACHI:
        b = rename_area(b, "homecare", old, f"{old}圏")
    d = compare_plans(hokkaido, hokkaido_plan, b)
    assert d.moved.empty
    renamed = d.renamed.set_index("area_a")
    assert list(renamed.index) == TOKACHI and list(renamed["area_b"]) == [f"{x}圏" for x in TOKACHI]
    want = dissolve(hokkaido, hokkaido_plan).set_index("area")["population"]
    for old in TOKACHI:
        assert renamed.at[old, "population_a"] == renamed.at[old, "population_b"] == want[old]
        assert want[old] == members_pop(hokkaido, hokkaido_plan, old)  # the census sum of its members
    assert (d.areas["population_a"] > 0).all() and (d.areas["difference"] == 0).all()
    assert len(d.areas) == 33 and d.changed_areas.empty
    # a renamed parent (二次医療圏) moves nobody either, at any level shown
    c = rename_area(hokkaido_plan, "secondary", "十勝", "十勝圏")
    assert compare_plans(hokkaido, hokkaido_plan, c).moved.empty
    assert compare_plans(hokkaido, hokkaido_plan, c, level="secondary").renamed["area_b"].tolist() == ["十勝圏"]


def test_biei_to_furano_is_exactly_one_move(hokkaido, hokkaido_plan):
    b = move(hokkaido_plan, BIEI, "富良野")
    d = compare_plans(hokkaido, hokkaido_plan, b)
    assert d.moved["code"].tolist() == [BIEI]
    assert d.moved.loc[0, ["from_homecare", "to_homecare"]].tolist() == ["上川", "富良野"]
    changed = d.changed_areas.set_index("area")
    assert set(changed.index) == {"上川", "富良野"} and set(changed["change"]) == {"構成が変化"}
    assert changed.at["富良野", "gained"] == (BIEI,) and changed.at["上川", "lost"] == (BIEI,)
    assert changed.at["富良野", "difference"] == pop_of(hokkaido, BIEI) == -changed.at["上川", "difference"]
    assert d.member_names(changed.at["富良野", "gained"]) == "美瑛町"
    # renamed as well as changed: still the same area, still one move
    e = compare_plans(hokkaido, hokkaido_plan, rename_area(b, "homecare", "上川", "上川町村"))
    assert e.moved["code"].tolist() == [BIEI] and e.renamed.empty
    row = e.areas.set_index("area").loc["上川町村"]
    assert (row["area_a"], row["change"], row["lost"]) == ("上川", "構成が変化", (BIEI,))


def test_split_and_merge_move_only_the_members_whose_company_changed(hokkaido, hokkaido_plan):
    t = hokkaido_plan.table
    shiribeshi = "後志（未確定）"
    kita = ["01405", "01406", "01407", "01408", "01409"]  # 積丹町 古平町 仁木町 余市町 赤井川村
    rest = sorted(set(t.loc[t["homecare"] == shiribeshi, "code"]) - set(kita))
    b = split_area(hokkaido_plan, "homecare", shiribeshi, kita, "北後志")
    b = merge_areas(b, "homecare", ["南十勝", "東十勝"], "南東十勝")
    d = compare_plans(hokkaido, hokkaido_plan, b)

    # The old area pairs with the part (or the merged area with the old area) holding more people.
    pops = hokkaido.set_index("code")["population"]
    kita_pop, rest_pop = int(pops[kita].sum()), int(pops[rest].sum())
    small_split, big_split = (kita, shiribeshi) if kita_pop < rest_pop else (rest, "北後志")
    south = members_pop(hokkaido, hokkaido_plan, "南十勝")
    east = members_pop(hokkaido, hokkaido_plan, "東十勝")
    small_merge, big_merge = ("南十勝", "東十勝") if south < east else ("東十勝", "南十勝")
    small_codes = sorted(t.loc[t["homecare"] == small_merge, "code"])
    assert sorted(d.moved["code"]) == sorted([*small_split, *small_codes])

    rows = d.areas.set_index("area")
    assert rows.at["南東十勝", "area_a"] == big_merge and rows.at["南東十勝", "change"] == "構成が変化"
    assert rows.at["南東十勝", "gained"] == tuple(small_codes)
    assert rows.at[small_merge, "change"] == "Aのみ" and rows.at[small_merge, "population_b"] == 0
    new_part = "北後志" if small_split == kita else shiribeshi  # the B area holding the smaller part
    assert rows.at[new_part, "change"] == "Bのみ" and pd.isna(rows.at[new_part, "area_a"])
    assert rows.at[big_split, "area_a"] == shiribeshi
    assert len(d.areas) == 33 + 1  # 33 pairs or new areas in B (33 − 1 + 1), plus the merged-away one
    assert int(d.areas["difference"].sum()) == 0
    assert d.summary().startswith(
        f"{len(d.moved)}市町村の所属が変わります、在宅医療圏は 33 → 33、構成が変わる在宅医療圏 4"
    )


def test_pairing_goes_by_population_not_by_member_count(hokkaido, hokkaido_plan):
    """上川 split: 6 small towns out, 3 larger ones stay — the 3 hold more people, so they are 上川."""
    six = ["01452", "01454", "01455", "01456", "01457", "01472"]
    pops = hokkaido.set_index("code")["population"]
    three = sorted(set(hokkaido_plan.table.loc[hokkaido_plan.table["homecare"] == "上川", "code"]) - set(six))
    assert len(three) == 3 and int(pops[three].sum()) > int(pops[six].sum())  # the premise, from the census
    b = split_area(hokkaido_plan, "homecare", "上川", six, "上川北東")
    d = compare_plans(hokkaido, hokkaido_plan, b)
    assert sorted(d.moved["code"]) == six
    # the same split with the names swapped: the larger part keeps the pairing, so the 6 still moved
    c = rename_area(
        rename_area(rename_area(b, "homecare", "上川", "X"), "homecare", "上川北東", "上川"), "homecare", "X", "大雪"
    )
    e = compare_plans(hokkaido, hokkaido_plan, c)
    assert sorted(e.moved["code"]) == six
    assert e.areas.set_index("area").at["大雪", "area_a"] == "上川"


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
                **dict.fromkeys(("hub", "hub_facility", "hub_lat", "hub_lon"), pd.NA),
            }
        ]
    )
    b = Plan(name="B", table=pd.concat([t, whole.astype(t.dtypes.to_dict())], ignore_index=True))
    with pytest.raises(PlanError, match="14130"):
        compare_plans(japan, a, b, level="secondary")


def test_unknown_populations_pair_by_member_count_and_stay_unknown(hokkaido, hokkaido_plan):
    """Without census counts the pairing falls back to shared municipalities; figures stay <NA>, never 0."""
    munis = hokkaido.copy()
    munis["population"] = pd.array([pd.NA] * len(munis), dtype="Int64")
    six = ["01452", "01454", "01455", "01456", "01457", "01472"]
    b = split_area(hokkaido_plan, "homecare", "上川", six, "上川北東")
    d = compare_plans(munis, hokkaido_plan, b)
    three = set(hokkaido_plan.table.loc[hokkaido_plan.table["homecare"] == "上川", "code"]) - set(six)
    assert set(d.moved["code"]) == three  # the 6 are the larger company now
    row = d.areas.set_index("area").loc["上川北東"]
    assert row["area_a"] == "上川" and pd.isna(row["population_a"]) and pd.isna(row["difference"])
