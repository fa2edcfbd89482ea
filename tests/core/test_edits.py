"""Plan edits on the real hokkaido-2024 plan: exact memberships, parents, refusals, undo/redo."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geo_app import PlanError
from geo_app.core.edits import (
    EditHistory,
    ParentChange,
    changed_codes,
    describe_change,
    describe_kept_parents,
    describe_parent_changes,
    merge_areas,
    move,
    parent_changes,
    parent_changes_of_merge,
    parent_changes_of_move,
    rename_area,
    split_area,
)
from geo_app.io.plans import one_area_per_municipality

TOBETSU, SHINSHINOTSU, ISHIKARI = "01303", "01304", "01235"
KAMIKAWA_TOWNS = {"01452", "01453", "01454", "01455", "01456", "01457", "01458", "01459", "01472"}


def row(plan, code):
    return plan.table.set_index("code").loc[code]


def members(plan, level, area):
    return set(plan.table.loc[plan.table[level] == area, "code"])


def unchanged_except(before, after, codes):
    a = before.table.set_index("code").drop(index=list(codes))
    b = after.table.set_index("code").drop(index=list(codes))
    pd.testing.assert_frame_equal(a, b)


# ---- move ------------------------------------------------------------------------------------
def test_move_to_existing_area_takes_its_parents_and_status(hokkaido_plan):
    p = hokkaido_plan
    assert row(p, TOBETSU)[["homecare", "secondary", "status"]].tolist() == ["札幌（未確定）", "札幌", "未確定"]
    assert row(p, ISHIKARI)[["homecare", "secondary", "tertiary", "status"]].tolist() == [
        "石狩市",
        "札幌",
        "道央",
        "確定",
    ]
    q = move(p, TOBETSU, "石狩市")
    assert row(q, TOBETSU)[["homecare", "secondary", "tertiary", "status"]].tolist() == [
        "石狩市",
        "札幌",
        "道央",
        "確定",
    ]
    assert members(q, "homecare", "石狩市") == {ISHIKARI, TOBETSU}
    assert members(q, "homecare", "札幌（未確定）") == members(p, "homecare", "札幌（未確定）") - {TOBETSU}
    unchanged_except(p, q, [TOBETSU])
    # the original plan is untouched (plans are immutable)
    assert row(p, TOBETSU)["homecare"] == "札幌（未確定）"
    assert len(q.areas("homecare")) == 33


def test_move_across_secondary_areas_follows_the_target(hokkaido_plan):
    q = move(hokkaido_plan, TOBETSU, "旭川市")
    assert row(q, TOBETSU)[["homecare", "secondary", "tertiary", "status"]].tolist() == [
        "旭川市",
        "上川中部",
        "道北",
        "確定",
    ]
    # each home-care area still lies in exactly one secondary area
    assert q.table.groupby("homecare")["secondary"].nunique().max() == 1


def test_move_to_a_new_area_keeps_own_parents(hokkaido_plan):
    q = move(hokkaido_plan, [TOBETSU, SHINSHINOTSU], "石狩北部")
    assert members(q, "homecare", "石狩北部") == {TOBETSU, SHINSHINOTSU}
    assert set(q.table.loc[q.table["homecare"] == "石狩北部", "secondary"]) == {"札幌"}
    assert row(q, TOBETSU)["status"] == "未確定"  # nothing decided about the new area yet
    assert len(q.areas("homecare")) == 34


def test_move_with_explicit_secondary_brings_its_tertiary(hokkaido_plan):
    q = move(hokkaido_plan, TOBETSU, "当別", secondary="上川中部")
    assert row(q, TOBETSU)[["homecare", "secondary", "tertiary"]].tolist() == ["当別", "上川中部", "道北"]
    q = move(hokkaido_plan, TOBETSU, "当別", secondary="新二次", tertiary="新三次", status="確定")
    assert row(q, TOBETSU)[["secondary", "tertiary", "status"]].tolist() == ["新二次", "新三次", "確定"]


def test_move_accepts_excel_style_codes(hokkaido_plan):
    assert (
        move(hokkaido_plan, 1303, "石狩市")
        == move(hokkaido_plan, "０１３０３", "石狩市")
        == move(hokkaido_plan, "013030", "石狩市")
    )


def test_move_refusals_are_japanese(hokkaido_plan):
    with pytest.raises(PlanError, match="99999 は区域案"):
        move(hokkaido_plan, "99999", "石狩市")
    with pytest.raises(PlanError, match="名前が空"):
        move(hokkaido_plan, TOBETSU, "  ")
    with pytest.raises(PlanError, match="1つ以上選んで"):
        move(hokkaido_plan, [], "石狩市")
    with pytest.raises(PlanError, match="検査数字"):
        move(hokkaido_plan, "013031", "石狩市")


# ---- rename / merge / split ----------------------------------------------------------------------
def test_rename(hokkaido_plan):
    q = rename_area(hokkaido_plan, "homecare", "上川", "上川町村")
    assert members(q, "homecare", "上川町村") == KAMIKAWA_TOWNS
    assert "上川" not in q.areas("homecare") and len(q.areas("homecare")) == 33
    q2 = rename_area(hokkaido_plan, "二次医療圏", "札幌", "さっぽろ")  # Japanese level names work too
    assert members(q2, "secondary", "さっぽろ") == members(hokkaido_plan, "secondary", "札幌")
    assert q2.table["homecare"].equals(hokkaido_plan.table["homecare"])
    assert rename_area(hokkaido_plan, "homecare", "上川", "上川") is hokkaido_plan


def test_rename_refusals(hokkaido_plan):
    with pytest.raises(PlanError, match="在宅医療圏「上川南」は区域案にありません"):
        rename_area(hokkaido_plan, "homecare", "上川南", "x")
    with pytest.raises(PlanError, match="在宅医療圏「旭川市」はすでにあります"):
        rename_area(hokkaido_plan, "homecare", "上川", "旭川市")
    with pytest.raises(PlanError, match="名前が空"):
        rename_area(hokkaido_plan, "homecare", "上川", "")
    with pytest.raises(PlanError, match="単位「county」が分かりません"):
        rename_area(hokkaido_plan, "county", "上川", "x")


def test_merge_homecare(hokkaido_plan):
    q = merge_areas(hokkaido_plan, "homecare", ["上川", "旭川市"], "旭川市")
    assert members(q, "homecare", "旭川市") == KAMIKAWA_TOWNS | {"01204"}
    assert len(q.areas("homecare")) == 32


def test_merge_secondary_to_new_name(hokkaido_plan):
    p = hokkaido_plan
    before = members(p, "secondary", "中空知") | members(p, "secondary", "北空知")
    assert len(before) == 15
    q = merge_areas(p, "secondary", ["中空知", "北空知"], "空知")
    assert members(q, "secondary", "空知") == before
    assert set(q.table.loc[q.table["secondary"] == "空知", "tertiary"]) == {"道央"}
    assert q.table["homecare"].equals(p.table["homecare"])
    assert len(q.areas("secondary")) == 20


def test_merge_across_parents_nests_unless_asked(hokkaido_plan):
    p = hokkaido_plan
    furano = members(p, "homecare", "富良野")
    assert set(p.table.loc[p.table["code"].isin(furano), "secondary"]) == {"富良野"}
    q = merge_areas(p, "homecare", ["富良野", "上川"], "上川・富良野")  # new name: parents of the first
    assert members(q, "homecare", "上川・富良野") == furano | KAMIKAWA_TOWNS
    assert set(q.table.loc[q.table["homecare"] == "上川・富良野", "secondary"]) == {"富良野"}
    q2 = merge_areas(p, "homecare", ["上川", "札幌市"], "札幌市")  # existing name: its parents
    got = q2.table.loc[q2.table["code"].isin(KAMIKAWA_TOWNS), ["secondary", "tertiary"]]
    assert set(got.itertuples(index=False, name=None)) == {("札幌", "道央")}
    q3 = merge_areas(p, "homecare", ["上川", "札幌市"], "札幌市", keep_parents=True)
    assert q3.table["secondary"].equals(p.table["secondary"]) and q3.table["tertiary"].equals(p.table["tertiary"])
    assert members(q3, "homecare", "札幌市") == KAMIKAWA_TOWNS | {"01100"}


def test_merge_refusals(hokkaido_plan):
    with pytest.raises(PlanError, match="2つ以上"):
        merge_areas(hokkaido_plan, "homecare", ["上川"], "上川")
    with pytest.raises(PlanError, match="「上川南」は区域案にありません"):
        merge_areas(hokkaido_plan, "homecare", ["上川", "上川南"], "x")


def test_split(hokkaido_plan):
    p = hokkaido_plan
    q = split_area(p, "homecare", "札幌（未確定）", [TOBETSU, SHINSHINOTSU], "石狩北部")
    assert members(q, "homecare", "石狩北部") == {TOBETSU, SHINSHINOTSU}
    assert members(q, "homecare", "札幌（未確定）") == members(p, "homecare", "札幌（未確定）") - {
        TOBETSU,
        SHINSHINOTSU,
    }
    assert set(q.table.loc[q.table["homecare"] == "石狩北部", "secondary"]) == {"札幌"}
    unchanged_except(p, q, [TOBETSU, SHINSHINOTSU])
    with pytest.raises(PlanError, match="入っていません"):
        split_area(p, "homecare", "札幌（未確定）", ["01204"], "x")
    with pytest.raises(PlanError, match="すべて選んでいます"):
        split_area(p, "homecare", "上川", sorted(KAMIKAWA_TOWNS), "x")
    with pytest.raises(PlanError, match="すでにあります"):
        split_area(p, "homecare", "札幌（未確定）", [TOBETSU], "石狩市")


# ---- starting plan ----------------------------------------------------------------------------
def test_one_area_per_municipality_hokkaido(hokkaido, hokkaido_plan):
    start = one_area_per_municipality(hokkaido, prefecture="北海道")
    assert len(start) == 179 and len(start.areas("homecare")) == 179
    assert (start.table.groupby("homecare").size() == 1).all()
    ref = hokkaido_plan.table.set_index("code")
    got = start.table.set_index("code")
    assert got["secondary"].equals(ref.loc[got.index, "secondary"])
    assert got["tertiary"].equals(ref.loc[got.index, "tertiary"])
    assert row(start, "01100")["homecare"] == "札幌市"
    assert set(start.table["status"]) == {"未確定"}


def test_one_area_per_municipality_wards():
    from geo_app import load_municipalities

    merged = load_municipalities(prefectures=["神奈川県"], population=None)
    start = one_area_per_municipality(merged, prefecture="14")
    # 川崎市 as one unit: its wards lie in two secondary areas, so no guess is made
    assert pd.isna(row(start, "14130")["secondary"])
    assert row(start, "14100")["secondary"] == "横浜"
    wards = load_municipalities(prefectures=["神奈川県"], keep_wards_of={"14130"}, population=None)
    start2 = one_area_per_municipality(wards, prefecture="神奈川県")
    assert row(start2, "14131")["secondary"] == "川崎南部" and row(start2, "14137")["secondary"] == "川崎北部"
    with pytest.raises(PlanError, match="都道府県「火星」"):
        one_area_per_municipality(wards, prefecture="火星")
    with pytest.raises(PlanError, match="岩手県の市町村がありません"):
        one_area_per_municipality(wards, prefecture="岩手県")


# ---- labels and history ---------------------------------------------------------------------------
def test_labels(hokkaido_plan):
    p = hokkaido_plan
    assert describe_change(p, move(p, TOBETSU, "石狩市")) == "当別町を 札幌（未確定） から 石狩市 へ移動"
    assert (
        describe_change(p, rename_area(p, "homecare", "上川", "上川町村"))
        == "在宅医療圏「上川」を「上川町村」に名前変更"
    )
    assert (
        describe_change(p, merge_areas(p, "secondary", ["中空知", "北空知"], "空知"))
        == "二次医療圏「中空知」「北空知」を「空知」に統合"
    )
    assert (
        describe_change(p, split_area(p, "homecare", "札幌（未確定）", [TOBETSU], "当別"))
        == "在宅医療圏「札幌（未確定）」から当別町を「当別」として分割"
    )
    assert describe_change(p, p) == "変更なし"
    assert changed_codes(p, move(p, [TOBETSU, SHINSHINOTSU], "石狩市")) == (TOBETSU, SHINSHINOTSU)


def test_history_undo_redo_returns_identical_plans(hokkaido_plan):
    p0 = hokkaido_plan
    h = EditHistory(p0)
    assert not h.can_undo and not h.can_redo and h.undo() is None and h.redo() is None
    p1 = h.apply(move(p0, TOBETSU, "石狩市"), "当別町を 札幌（未確定） から 石狩市 へ移動", codes=[TOBETSU])
    p2 = h.apply(rename_area(p1, "homecare", "上川", "上川町村"))  # label made automatically
    p3 = h.apply(merge_areas(p2, "secondary", ["中空知", "北空知"], "空知"))
    assert [e.label for e in h.entries] == [
        "当別町を 札幌（未確定） から 石狩市 へ移動",
        "在宅医療圏「上川」を「上川町村」に名前変更",
        "二次医療圏「中空知」「北空知」を「空知」に統合",
    ]
    assert h.entries[1].codes == tuple(sorted(KAMIKAWA_TOWNS))
    assert h.apply(p3) is p3 and len(h) == 3  # no change, no entry
    assert h.undo() is p2 and h.undo() is p1 and h.current is p1
    assert h.can_redo and h.redo_label == "在宅医療圏「上川」を「上川町村」に名前変更"
    assert h.redo() is p2 and h.current == p2
    assert h.undo() is p1 and h.undo() is p0 and h.undo() is None and h.current is p0
    assert h.redo() is p1 and h.redo() is p2 and h.redo() is p3 and h.redo() is None
    # a new edit after undo drops what could have been redone
    h.undo()
    p4 = h.apply(move(p2, TOBETSU, "旭川市"))
    assert not h.can_redo and h.current is p4 and len(h.entries) == 3


def test_history_json_round_trip(hokkaido_plan):
    p0 = hokkaido_plan
    h = EditHistory(p0)
    p1 = h.apply(move(p0, [TOBETSU, SHINSHINOTSU], "石狩北部"))
    p2 = h.apply(split_area(p1, "homecare", "上川", ["01452"], "鷹栖"))
    p3 = h.apply(rename_area(p2, "tertiary", "道北", "道北圏"))
    h.undo()
    text = h.to_json()
    assert "石狩北部" in text  # readable, not escaped
    r = EditHistory.from_json(text)
    assert r.current == p2 and r.current.name == p2.name
    assert [e.label for e in r.entries] == [e.label for e in h.entries]
    assert [e.codes for e in r.entries] == [e.codes for e in h.entries]
    assert r.redo() == p3
    assert r.undo() == p2 and r.undo() == p1 and r.undo() == p0 and r.undo() is None
    # the rebuilt plans are equal cell for cell, dtypes included
    pd.testing.assert_frame_equal(r.current.table, p0.table)
    with pytest.raises(PlanError, match="編集履歴のファイルが壊れて"):
        EditHistory.from_json("{not json")
    with pytest.raises(PlanError, match="編集履歴"):
        EditHistory.from_json('{"format": "geo_app.edit_history", "base": {}}')


# ---- parents: said before an edit, kept or followed ------------------------------------------------
BIEI = "01459"  # 美瑛町: home-care area 上川, 二次医療圏 上川中部; 富良野 is both a home-care and a secondary area
CENSUS = Path(__file__).resolve().parents[2] / "data" / "population" / "census2020.csv"


@pytest.fixture(scope="module")
def census_pop() -> pd.Series:
    """Population by code, read straight from the embedded census table (not through geo_app)."""
    t = pd.read_csv(CENSUS, dtype={"code": str}, usecols=["code", "population"])
    return t.set_index("code")["population"]


def secondary_pops(plan, census_pop) -> dict[str, int]:
    """Each 二次医療圏's population summed here from the census (the test's own figure)."""
    t = plan.table
    return {k: int(v) for k, v in census_pop.loc[t["code"]].groupby(t["secondary"].to_numpy()).sum().items()}


def tallied(munis, plan, level) -> dict[str, int]:
    """The app's figures (geo_app.dissolve) for the same plan."""
    from geo_app import dissolve

    a = dissolve(munis, plan, level)
    return dict(zip(a["area"], a["population"].astype(int), strict=True))


def crossing(munis, plan) -> list:
    from geo_app.core.rules import ValidationOptions, validate

    return validate(munis, plan, ValidationOptions(rules=["crosses_secondary", "crosses_tertiary"]))


def test_move_across_a_secondary_preview_and_follow(hokkaido, hokkaido_plan, census_pop):
    p = hokkaido_plan
    before = secondary_pops(p, census_pop)
    preview = parent_changes_of_move(p, BIEI, "富良野")
    assert preview == (ParentChange(BIEI, "美瑛町", "上川中部", "富良野", "道北", "道北"),)
    assert describe_parent_changes(preview) == "美瑛町は二次医療圏も 上川中部 → 富良野 に変わります。"
    assert describe_parent_changes(preview, done=True).endswith("に変わりました。")
    assert p == hokkaido_plan and row(p, BIEI)["secondary"] == "上川中部"  # asking changes nothing

    q = move(p, BIEI, "富良野")  # the core's default: parents follow, as every caller had it
    assert q == move(p, BIEI, "富良野", keep_parents=False)
    assert parent_changes(p, q) == preview
    got = tallied(hokkaido, q, "secondary")
    assert got == secondary_pops(q, census_pop)
    assert got["上川中部"] == before["上川中部"] - int(census_pop[BIEI])
    assert got["富良野"] == before["富良野"] + int(census_pop[BIEI])
    assert crossing(hokkaido, q) == []  # nested again
    assert describe_change(p, q) == "美瑛町を 上川 から 富良野 へ移動（二次医療圏も 上川中部 → 富良野）"


def test_move_keeping_parents_leaves_secondaries_and_reports_the_crossing(hokkaido, hokkaido_plan, census_pop):
    p = hokkaido_plan
    q = move(p, BIEI, "富良野", keep_parents=True)
    assert members(q, "homecare", "富良野") == members(p, "homecare", "富良野") | {BIEI}
    assert q.table["secondary"].equals(p.table["secondary"]) and q.table["tertiary"].equals(p.table["tertiary"])
    assert parent_changes(p, q) == ()
    assert tallied(hokkaido, q, "secondary") == secondary_pops(p, census_pop)  # every 二次医療圏 as it was
    assert tallied(hokkaido, q, "homecare")["富良野"] == int(census_pop[list(members(q, "homecare", "富良野"))].sum())
    (f,) = crossing(hokkaido, q)
    assert (f.rule, f.area, f.codes, f.names) == ("crosses_secondary", "富良野", (BIEI,), ("美瑛町",))
    assert "在宅医療圏「富良野」が2つの二次医療圏にまたがっています" in f.message
    assert "上川中部（美瑛町（01459））" in f.message
    kept = describe_kept_parents(q, parent_changes_of_move(p, BIEI, "富良野"))
    assert kept == (
        "二次医療圏は変えていません: 美瑛町は二次医療圏 上川中部 のままです。"
        "在宅医療圏「富良野」は2つの二次医療圏（富良野・上川中部）にまたがります（所見に出ます）。"
    )
    assert describe_change(p, q) == "美瑛町を 上川 から 富良野 へ移動"  # no parent changed
    # an explicit parent is still applied; a move inside its parents asks nothing
    assert row(move(p, BIEI, "富良野", secondary="富良野", keep_parents=True), BIEI)["secondary"] == "富良野"
    assert parent_changes_of_move(p, TOBETSU, "石狩市") == ()
    assert parent_changes_of_move(p, BIEI, "美瑛") == ()  # a new area keeps the municipality's own


def test_crossing_finding_names_every_moved_municipality(hokkaido, hokkaido_plan):
    towns = ["01456", "01457", "01458", BIEI]  # 愛別町・上川町・東川町・美瑛町 (上川中部)
    q = move(hokkaido_plan, towns, "富良野", keep_parents=True)
    (f,) = crossing(hokkaido, q)
    assert set(f.codes) == set(towns)
    assert all(n in f.message for n in ("愛別町", "上川町", "東川町", "美瑛町", "上川中部", "富良野"))


def test_merge_across_secondaries(hokkaido, hokkaido_plan, census_pop):
    p = hokkaido_plan
    furano = members(p, "homecare", "富良野")
    before = secondary_pops(p, census_pop)
    # a new name: the merged area takes the parents of the first area (上川 → 上川中部)
    preview = parent_changes_of_merge(p, "homecare", ["上川", "富良野"], "上川・富良野")
    assert {c.code for c in preview} == furano
    assert {(c.old_secondary, c.new_secondary, c.old_tertiary, c.new_tertiary) for c in preview} == {
        ("富良野", "上川中部", "道北", "道北")
    }
    assert describe_parent_changes(preview).endswith("は二次医療圏も 富良野 → 上川中部 に変わります。")

    q = merge_areas(p, "homecare", ["上川", "富良野"], "上川・富良野")
    got = tallied(hokkaido, q, "secondary")
    furano_pop = int(census_pop[list(furano)].sum())
    assert "富良野" not in got and got["上川中部"] == before["上川中部"] + furano_pop
    assert furano_pop == before["富良野"]  # the secondary 富良野 is exactly the home-care area 富良野
    assert describe_change(p, q).endswith(
        "に統合（富良野市・上富良野町・中富良野町ほか2市町村の二次医療圏も 富良野 → 上川中部）"
    )

    k = merge_areas(p, "homecare", ["上川", "富良野"], "上川・富良野", keep_parents=True)
    assert tallied(hokkaido, k, "secondary") == before
    (f,) = crossing(hokkaido, k)
    assert f.area == "上川・富良野" and set(f.codes) == furano  # the smaller side, by name
    assert all(n in f.message for n in ("富良野市", "上富良野町", "中富良野町", "南富良野町", "占冠村"))
    kept = describe_kept_parents(k, preview)
    assert "ほか2市町村は二次医療圏 富良野 のままです。" in kept
    assert "在宅医療圏「上川・富良野」は2つの二次医療圏（富良野・上川中部）にまたがります" in kept


def test_merge_of_secondaries_across_tertiaries_tells_only_the_tertiary(hokkaido, hokkaido_plan):
    p = hokkaido_plan
    preview = parent_changes_of_merge(p, "secondary", ["上川中部", "札幌"], "札幌")
    assert {c.code for c in preview} == members(p, "secondary", "上川中部")
    text = describe_parent_changes(preview, level="secondary")
    assert text.endswith("は三次医療圏も 道北 → 道央 に変わります。") and "二次医療圏も" not in text
    assert parent_changes_of_merge(p, "secondary", ["中空知", "北空知"], "空知") == ()  # both in 道央
    k = merge_areas(p, "secondary", ["上川中部", "札幌"], "札幌", keep_parents=True)
    (f,) = crossing(hokkaido, k)
    assert (f.rule, f.area) == ("crosses_tertiary", "札幌")
    assert describe_kept_parents(k, preview, "secondary").startswith("三次医療圏は変えていません: ")
