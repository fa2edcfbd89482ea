"""LivePlan: incremental areas equal a full dissolve, exactly, after real edits on real data."""

from __future__ import annotations

import random

import pandas as pd
import pytest
import shapely

from geo_app import LEVELS, Plan, PlanError, load_plan
from geo_app.core.adjacency import build_adjacency, land_components
from geo_app.core.codes import PREFECTURES
from geo_app.core.dissolve import dissolve
from geo_app.core.edits import EditHistory, merge_areas, move, rename_area, split_area
from geo_app.core.live import LivePlan
from geo_app.io.plans import plan_from_frame

TOBETSU = "01303"


@pytest.fixture(scope="module")
def graph(hokkaido):
    return build_adjacency(hokkaido)


@pytest.fixture
def live(hokkaido, hokkaido_plan, graph):
    return LivePlan(hokkaido, hokkaido_plan, graph=graph)


def assert_same_as_dissolve(munis, live: LivePlan, level: str) -> None:
    got = live.areas(level)
    want = dissolve(munis, live.plan, level)
    # one engine, two branches: every column exactly (km² too: a correctly rounded fsum of the
    # same members), same rows, order and dtypes, and the same shapes byte for byte
    pd.testing.assert_frame_equal(
        pd.DataFrame(got.drop(columns="geometry")), pd.DataFrame(want.drop(columns="geometry")), check_exact=True
    )
    wkb = [[None if x is None else shapely.to_wkb(x) for x in f.geometry.to_numpy()] for f in (got, want)]
    assert wkb[0] == wkb[1]
    assert got.crs == want.crs


def test_initial_state_equals_dissolve(hokkaido, live):
    for level in LEVELS:
        assert_same_as_dissolve(hokkaido, live, level)
    assert len(live.areas("homecare")) == 33 and len(live.areas("secondary")) == 21 and len(live.areas("tertiary")) == 6


def test_moving_tobetsu_changes_exactly_two_areas_by_its_population(hokkaido, hokkaido_plan, live):
    pop = int(hokkaido.set_index("code").at[TOBETSU, "population"])
    assert pop > 0
    before = {lv: live.areas(lv).set_index("area") for lv in LEVELS}
    changed = live.apply(move(hokkaido_plan, TOBETSU, "石狩市"))
    assert changed == {("homecare", "札幌（未確定）"), ("homecare", "石狩市")}
    after = {lv: live.areas(lv).set_index("area") for lv in LEVELS}
    counts = ["population", "municipalities", "age_65_plus", "age_75_plus"]
    delta = after["homecare"][counts].astype("int64") - before["homecare"][counts].astype("int64")
    moved = delta[(delta != 0).any(axis=1)]
    assert set(moved.index) == {"札幌（未確定）", "石狩市"}
    assert moved.at["札幌（未確定）", "population"] == -pop and moved.at["石狩市", "population"] == pop
    assert moved.at["札幌（未確定）", "municipalities"] == -1 and moved.at["石狩市", "municipalities"] == 1
    row = hokkaido.set_index("code").loc[TOBETSU]
    assert moved.at["石狩市", "age_65_plus"] == int(row["age_65_plus"])
    # the secondary and tertiary areas did not change at all (当別町 stays in 札幌 / 道央)
    for lv in ("secondary", "tertiary"):
        pd.testing.assert_frame_equal(
            pd.DataFrame(after[lv].drop(columns="geometry")), pd.DataFrame(before[lv].drop(columns="geometry"))
        )
    assert "当別町" in after["homecare"].at["石狩市", "members"]
    # the area geometry grew by exactly 当別町's shape
    grown = shapely.difference(after["homecare"].at["石狩市", "geometry"], before["homecare"].at["石狩市", "geometry"])
    tobetsu = hokkaido.set_index("code").at[TOBETSU, "geometry"]
    assert shapely.area(shapely.symmetric_difference(grown, tobetsu)) < 1e-9
    for level in LEVELS:
        assert_same_as_dissolve(hokkaido, live, level)


def test_areas_disappear_and_appear(hokkaido, hokkaido_plan, live):
    q = merge_areas(hokkaido_plan, "homecare", ["上川"], "旭川市")
    changed = live.apply(q)
    assert changed == {("homecare", "上川"), ("homecare", "旭川市")}
    assert "上川" not in set(live.areas("homecare")["area"]) and len(live.areas("homecare")) == 32
    r = split_area(q, "homecare", "旭川市", ["01452", "01453"], "鷹栖・東神楽")
    assert live.apply(r) == {("homecare", "旭川市"), ("homecare", "鷹栖・東神楽")}
    a = live.areas("homecare").set_index("area")
    assert a.at["鷹栖・東神楽", "municipalities"] == 2
    assert a.at["鷹栖・東神楽", "population"] == int(
        hokkaido.set_index("code").loc[["01452", "01453"], "population"].sum()
    )
    assert live.apply(r) == set()  # the same plan again changes nothing
    for level in LEVELS:
        assert_same_as_dissolve(hokkaido, live, level)


def test_renaming_a_parent_relabels_children(hokkaido, hokkaido_plan, live):
    changed = live.apply(rename_area(hokkaido_plan, "secondary", "十勝", "とかち"))
    children = set(hokkaido_plan.table.loc[hokkaido_plan.table["secondary"] == "十勝", "homecare"])
    assert changed == {("secondary", "十勝"), ("secondary", "とかち")} | {("homecare", h) for h in children}
    assert set(live.areas("homecare").set_index("area").loc[sorted(children), "parent"]) == {"とかち"}
    for level in LEVELS:
        assert_same_as_dissolve(hokkaido, live, level)


def test_random_edits_match_full_dissolve(hokkaido, hokkaido_plan, live):
    """A seeded random mix of moves, merges, splits, renames and undos; checked after every step."""
    rng = random.Random(20240401)
    history = EditHistory(hokkaido_plan)
    codes = list(hokkaido_plan.table["code"])
    kinds = {"move": 0, "merge": 0, "split": 0, "rename": 0, "undo": 0}
    for step in range(24):
        plan = history.current
        kind = rng.choice(["move", "move", "move", "merge", "split", "rename", "undo"])
        level = rng.choice(LEVELS)
        areas = plan.areas(level)
        if kind == "move":
            picked = rng.sample(codes, rng.randint(1, 4))
            target = rng.choice(plan.areas("homecare")) if rng.random() < 0.7 else f"新圏域{step}"
            new = move(plan, picked, target)
        elif kind == "merge" and len(areas) >= 3:
            names = rng.sample(areas, rng.randint(2, 3))
            new = merge_areas(plan, level, names, rng.choice([names[0], names[-1], f"統合{step}"]))
        elif kind == "split":
            big = [a for a in areas if (plan.table[level] == a).sum() >= 2]
            area = rng.choice(big)
            mem = list(plan.table.loc[plan.table[level] == area, "code"])
            new = split_area(plan, level, area, rng.sample(mem, rng.randint(1, len(mem) - 1)), f"分割{step}")
        elif kind == "rename":
            area = rng.choice(areas)
            new = rename_area(plan, level, area, f"{area}改{step}")
        elif kind == "undo" and history.can_undo:
            new = history.undo()
        else:
            continue
        if kind != "undo":
            new = history.apply(new)
        kinds[kind] += 1
        changed = live.apply(new)
        assert live.plan is new
        assert all(lv in LEVELS for lv, _ in changed)
        for lv in LEVELS:
            assert_same_as_dissolve(hokkaido, live, lv)
    assert all(kinds.values()), kinds  # every kind of edit was exercised
    # undo everything: back to the starting areas
    while history.can_undo:
        live.apply(history.undo())
    assert live.plan == hokkaido_plan
    for lv in LEVELS:
        assert_same_as_dissolve(hokkaido, live, lv)


def test_pieces_follow_land_and_ferries(hokkaido, hokkaido_plan, live, graph):
    # 宗谷: 稚内 on the mainland, 利尻島 (利尻町・利尻富士町) and 礼文島 joined by ferry
    soya = live.members("secondary", "宗谷")
    assert {"01214", "01517", "01518", "01519"} <= set(soya)
    assert len(land_components(graph, soya)) == 3
    assert live.pieces("secondary", "宗谷") == 1
    assert live.pieces("homecare", "札幌（未確定）") == 1
    live.apply(move(hokkaido_plan, "01202", "札幌市"))  # 函館市 joins 札幌市: two pieces
    assert live.pieces("homecare", "札幌市") == 2
    assert "函館市" not in live.area_names()  # its only member left
    assert live.areas("homecare", with_pieces=True).set_index("area").at["札幌市", "pieces"] == 2
    with pytest.raises(PlanError, match="ありません"):
        live.pieces("homecare", "函館市")


def test_duplicate_codes_are_refused(hokkaido, hokkaido_plan, live):
    t = pd.concat([hokkaido_plan.table, hokkaido_plan.table.iloc[:1]], ignore_index=True)
    with pytest.raises(PlanError, match="01100"):
        live.apply(Plan(name="dup", table=t))
    assert live.plan is hokkaido_plan  # nothing was half-applied
    assert_same_as_dissolve(hokkaido, live, "homecare")


def test_rows_missing_from_the_plan_leave_their_areas(hokkaido, hokkaido_plan, live):
    smaller = Plan(name="x", table=hokkaido_plan.table[hokkaido_plan.table["code"] != TOBETSU].reset_index(drop=True))
    assert live.apply(smaller) == {("homecare", "札幌（未確定）"), ("secondary", "札幌"), ("tertiary", "道央")}
    for level in LEVELS:
        assert_same_as_dissolve(hokkaido, live, level)
    live.apply(hokkaido_plan)
    assert_same_as_dissolve(hokkaido, live, "homecare")


def test_japan_as_one_plan(japan):
    plan = plan_from_frame(
        pd.concat([load_plan(f"secondary-2020:{p}").table for p in PREFECTURES.values()], ignore_index=True),
        name="全国",
    )
    live = LivePlan(japan, plan)
    q = move(plan, TOBETSU, "後志")  # 当別町 (札幌) → 後志: secondary-2020 names home-care after secondary
    changed = live.apply(q)
    assert changed == {("homecare", "札幌"), ("homecare", "後志"), ("secondary", "札幌"), ("secondary", "後志")}
    for level in ("homecare", "tertiary"):
        assert_same_as_dissolve(japan, live, level)
    a = live.areas("homecare").set_index("area")
    assert int(a["population"].sum()) == int(japan["population"].sum())
