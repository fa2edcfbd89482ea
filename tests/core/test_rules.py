"""Plan validation on real data: Hokkaido's 2024 plan, Tokyo's and Kagoshima's islands.

Expected figures are computed here from the embedded census and plan tables, never typed in.
"""

from __future__ import annotations

import networkx as nx
import pandas as pd
import pytest
import shapely

from geo_app import load_municipalities, load_plan
from geo_app.core.adjacency import LAND, SEA, build_adjacency, components, land_components
from geo_app.core.dissolve import dissolve
from geo_app.core.errors import InputError
from geo_app.core.plan import Plan
from geo_app.core.rules import RULES, Finding, ValidationOptions, exit_code, findings_frame, validate
from geo_app.io import datasets
from geo_app.io.sea_links import load_sea_links

ISLANDS_TOKYO = {"13361", "13362", "13363", "13364", "13381", "13382", "13401", "13402", "13421"}


# ---- fixtures: real data, loaded once --------------------------------------------------------


@pytest.fixture(scope="module")
def hokkaido():
    return load_municipalities(prefectures=["北海道"])


@pytest.fixture(scope="module")
def hk_graph(hokkaido):
    return build_adjacency(hokkaido)


@pytest.fixture(scope="module")
def hk_plan():
    return load_plan("hokkaido-2024")


@pytest.fixture(scope="module")
def hk_findings(hokkaido, hk_plan):
    return validate(hokkaido, hk_plan)


@pytest.fixture(scope="module")
def census():
    return pd.read_csv(datasets.population_path(), dtype={"code": str}).set_index("code")


def edited(plan: Plan, code: str, **values: str) -> Plan:
    t = plan.table.copy()
    for col, v in values.items():
        t.loc[t["code"] == code, col] = v
    return Plan(name="edit", table=t)


def only(findings: list[Finding], rule: str, severity: str | None = None) -> list[Finding]:
    return [f for f in findings if f.rule == rule and (severity is None or f.severity == severity)]


# ---- adjacency ------------------------------------------------------------------------------


def test_adjacency_is_rook_not_queen(hokkaido, hk_graph):
    # 釧路市 and 標茶町 meet at a single point in N03: they intersect but are not neighbours.
    g = hokkaido.set_index("code").geometry
    assert shapely.intersects(g["01206"], g["01664"])
    assert shapely.get_dimensions(shapely.intersection(g["01206"], g["01664"])) == 0
    assert not hk_graph.has_edge("01206", "01664")
    # 旭川市 and 鷹栖町 share a long border (tens of km).
    edge = hk_graph.edges["01204", "01452"]
    assert edge["kind"] == LAND and edge["length"] > 10_000
    assert set(hk_graph.nodes) == set(hokkaido["code"]) and hk_graph.number_of_nodes() == 179


def test_islands_have_no_land_neighbour_and_sea_edges(hk_graph):
    land_nbrs = lambda c: {n for n, d in hk_graph[c].items() if d["kind"] == LAND}  # noqa: E731
    # What the data says: 奥尻町 and 礼文町 touch nothing; 利尻町 and 利尻富士町 share 利尻島.
    assert land_nbrs("01367") == set() and land_nbrs("01517") == set()
    assert land_nbrs("01518") == {"01519"} and land_nbrs("01519") == {"01518"}
    assert hk_graph.edges["01361", "01367"]["kind"] == SEA
    assert "ハートランドフェリー" in hk_graph.edges["01214", "01519"]["name"]


def test_land_only_graph_and_components(hokkaido):
    g = build_adjacency(hokkaido, sea_links=load_sea_links().iloc[:0])
    assert all(k == LAND for _, _, k in g.edges(data="kind"))
    soya = [c for c in load_plan("hokkaido-2024").table.query("homecare == '宗谷'")["code"]]
    parts = land_components(g, soya)
    assert len(parts) == 3 and {"01518", "01519"} in parts and {"01517"} in parts
    assert components(g, soya) == parts  # no sea links: nothing joins them


def test_components_use_ports_outside_the_area(hk_graph):
    # 礼文町 and 利尻富士町 with no mainland town: joined by their own route.
    assert components(hk_graph, ["01517", "01519"]) == [{"01517", "01519"}]
    # 奥尻町 with 稚内市: no route between them, not even through other ports.
    assert len(components(hk_graph, ["01367", "01214"])) == 2


def test_sea_links_file_codes_exist_in_census(census):
    links = load_sea_links()
    assert len(links) > 0
    for col in ("code_a", "code_b"):
        assert links[col].isin(census.index).all(), links.loc[~links[col].isin(census.index), col].tolist()
    assert links["name"].notna().all()
    assert set(links["kind"]) <= {SEA, LAND}


def test_load_sea_links_user_table(tmp_path):
    p = tmp_path / "links.csv"
    p.write_text("市町村コードA,市町村コードB,航路名,種類\n1214,01519,テスト航路,橋\n", encoding="cp932")
    links = load_sea_links(p)
    assert links.loc[0, ["code_a", "code_b", "name", "kind"]].tolist() == ["01214", "01519", "テスト航路", LAND]
    p.write_text("code_a,code_b\n01214,12\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_sea_links(p)
    assert err.value.row == 2
    p.write_text("code_a,code_b,kind\n01214,01519,飛行機\n", encoding="utf-8")
    with pytest.raises(InputError, match="sea"):
        load_sea_links(p)


# ---- hokkaido-2024 as published -------------------------------------------------------------


def test_hokkaido_2024_has_no_errors(hk_findings):
    assert (
        only(hk_findings, "unknown_code")
        == only(hk_findings, "duplicate_code")
        == only(hk_findings, "unassigned")
        == []
    )
    assert not [f for f in hk_findings if f.severity == "error"]


def test_hokkaido_2024_only_warning_is_kamikawa_in_pieces(hk_findings, hk_graph):
    # The published 上川 area (9 towns around 旭川市) really is in three pieces on the map:
    # 鷹栖町 borders only 旭川市 and 和寒町; 幌加内町 touches no other 上川 town.
    warnings = [f for f in hk_findings if f.severity == "warning"]
    assert [(f.rule, f.level, f.area) for f in warnings] == [("multipart", "homecare", "上川")]
    assert set(warnings[0].codes) == {"01452", "01472"}
    assert "旭川市" in warnings[0].message
    assert exit_code(hk_findings) == 1


def test_unconfirmed_areas_reported(hk_findings, hk_plan):
    found = only(hk_findings, "unconfirmed", "info")
    assert len(found) == 4
    assert sum(len(f.codes) for f in found) == 39
    pending = hk_plan.table[hk_plan.table["status"] == "未確定"]
    expected = {area: set(rows["code"]) for area, rows in pending.groupby("homecare")}
    assert {f.area: set(f.codes) for f in found} == expected
    assert all(f.area.endswith("（未確定）") for f in found)


def test_soya_islands_joined_by_ferry_are_info(hk_findings):
    soya = [f for f in only(hk_findings, "multipart") if f.area == "宗谷"]
    assert {(f.severity, f.level) for f in soya} == {("info", "homecare"), ("info", "secondary")}
    assert all(set(f.codes) == {"01517", "01518", "01519"} for f in soya)
    assert all("離島（航路で接続）" in f.message for f in soya)
    islands = {frozenset(f.codes) for f in only(hk_findings, "island")}
    assert islands == {frozenset({"01367"}), frozenset({"01517"}), frozenset({"01518", "01519"})}
    assert all(f.severity == "info" for f in only(hk_findings, "island"))


def test_no_hub_lists_confirmed_areas_without_hub(hk_findings, hk_plan):
    t = hk_plan.table
    per_area = t.groupby("homecare").agg(
        hub=("hub", lambda s: s.notna().any()), pending=("status", lambda s: (s == "未確定").any())
    )
    expected = set(per_area.index[~per_area["hub"] & ~per_area["pending"]])
    found = only(hk_findings, "no_hub")
    assert {f.area for f in found} == expected and len(expected) == 24
    assert {f.severity for f in found} == {"info"}
    assert "北見" not in expected


def test_plan_without_hubs_gives_no_hub_findings(hokkaido, hk_graph):
    plan = load_plan("secondary-2020:北海道")
    assert validate(hokkaido, plan, ValidationOptions(rules=["no_hub"], graph=hk_graph)) == []


# ---- edits that break things ----------------------------------------------------------------


def test_hakodate_moved_into_kamikawa(hokkaido, hk_plan, hk_graph):
    plan = edited(hk_plan, "01202", homecare="上川")
    f = validate(hokkaido, plan, ValidationOptions(graph=hk_graph))
    cross = only(f, "crosses_secondary")
    assert len(cross) == 1 and cross[0].area == "上川" and cross[0].codes == ("01202",)
    assert "南渡島" in cross[0].message and "上川中部" in cross[0].message
    split = [x for x in only(f, "multipart", "warning") if x.area == "上川" and x.level == "homecare"]
    assert len(split) == 1 and "01202" in split[0].codes and "函館市" in split[0].message
    assert exit_code(f) == 1


def test_crosses_tertiary(hokkaido, hk_plan, hk_graph):
    plan = edited(hk_plan, "01202", tertiary="道央")
    f = only(validate(hokkaido, plan, ValidationOptions(graph=hk_graph)), "crosses_tertiary")
    assert [(x.area, x.codes, x.level) for x in f] == [("南渡島", ("01202",), "secondary")]


def test_duplicate_code(hokkaido, hk_plan, hk_graph):
    t = pd.concat(
        [hk_plan.table, hk_plan.table[hk_plan.table["code"] == "01202"].assign(homecare="北斗")], ignore_index=True
    )
    f = validate(hokkaido, Plan(name="dup", table=t), ValidationOptions(graph=hk_graph))
    dup = only(f, "duplicate_code", "error")
    assert [x.codes for x in dup] == [("01202",)]
    assert "2行" in dup[0].message and "北斗" in dup[0].message and "181行目" in dup[0].message


def test_unknown_codes(hokkaido, hk_plan, hk_graph, census):
    # 01335 上磯町 merged into 北斗市 (01236) in 2006: neither the census nor N03 2021 has it.
    assert "01335" not in census.index
    extra = pd.DataFrame(
        [
            {
                "code": "01335",
                "name": "上磯町",
                "homecare": "南渡島（未確定）",
                "secondary": "南渡島",
                "tertiary": "道南",
                "status": "確定",
            },
            {
                "code": "01101",
                "name": "札幌市中央区",
                "homecare": "札幌市",
                "secondary": "札幌",
                "tertiary": "道央",
                "status": "確定",
            },
            {
                "code": "02201",
                "name": "青森市",
                "homecare": "青森",
                "secondary": "青森",
                "tertiary": "青森",
                "status": "確定",
            },
        ]
    )
    plan = Plan(name="x", table=pd.concat([hk_plan.table, extra], ignore_index=True).astype("string"))
    f = only(validate(hokkaido, plan, ValidationOptions(graph=hk_graph)), "unknown_code")
    by_code = {x.codes[0]: x for x in f}
    assert set(by_code) == {"01335", "01101", "02201"}
    assert {x.severity for x in f} == {"error"}
    assert "合併" in by_code["01335"].message and "181行目" in by_code["01335"].message
    assert "区" in by_code["01101"].message and "01100" in by_code["01101"].message
    assert "青森県" in by_code["02201"].message
    assert by_code["01335"].names == ("上磯町",)


def test_unassigned(hokkaido, hk_plan, hk_graph):
    t = hk_plan.table[hk_plan.table["code"] != "01204"].copy()
    t.loc[t["code"] == "01203", "homecare"] = pd.NA
    f = only(validate(hokkaido, Plan(name="x", table=t), ValidationOptions(graph=hk_graph)), "unassigned", "error")
    assert sorted(x.codes for x in f) == [("01203",), ("01204",)]
    missing = next(x for x in f if x.codes == ("01204",))
    assert "旭川市" in missing.message and "区域表にありません" in missing.message


def test_population_floor_matches_census(hokkaido, hk_plan, hk_graph, census):
    plan = pd.read_csv(datasets.plans_dir() / "hokkaido-2024.csv", dtype=str)
    totals = plan.assign(pop=plan["code"].map(census["population"])).groupby("homecare")["pop"].sum()
    expected = set(totals[totals < 30_000].index)
    f = only(
        validate(hokkaido, hk_plan, ValidationOptions(population_floor=30_000, graph=hk_graph)), "population_floor"
    )
    assert {x.area for x in f} == expected
    assert 0 < len(expected) < len(totals)
    kamikawa = validate(
        hokkaido, hk_plan, ValidationOptions(population_floor=52_000, rules=["population_floor"], graph=hk_graph)
    )
    assert any(x.area == "上川" and "51,990" in x.message for x in kamikawa)
    assert validate(hokkaido, hk_plan, ValidationOptions(rules=["population_floor"], graph=hk_graph)) == []
    sec = validate(
        hokkaido,
        hk_plan,
        ValidationOptions(
            population_floor=30_000, population_floor_level="secondary", rules=["population_floor"], graph=hk_graph
        ),
    )
    sec_totals = plan.assign(pop=plan["code"].map(census["population"])).groupby("secondary")["pop"].sum()
    assert {x.area for x in sec} == set(sec_totals[sec_totals < 30_000].index)
    assert {x.level for x in sec} <= {"secondary"}


def test_enclave(hokkaido, hk_plan, hk_graph):
    assert only(validate(hokkaido, hk_plan, ValidationOptions(rules=["enclave"], graph=hk_graph)), "enclave") == []
    # 砂川市 on its own lies wholly inside 中空知; 函館市 on its own is on the coast.
    plan = edited(edited(hk_plan, "01226", homecare="砂川"), "01202", homecare="函館")
    f = validate(hokkaido, plan, ValidationOptions(rules=["enclave"], graph=hk_graph))
    assert [(x.area, x.codes, x.severity) for x in f] == [("砂川", ("01226",), "warning")]
    assert "中空知" in f[0].message
    # Cross-check with the geometry: 中空知 with its hole filled covers 砂川市.
    areas = dissolve(hokkaido, plan, "homecare").set_index("area").geometry
    outer = shapely.get_parts(areas["中空知"])
    filled = shapely.union_all(shapely.polygons(shapely.get_exterior_ring(outer)))
    assert shapely.covers(filled, areas["砂川"])


# ---- other prefectures: islands -------------------------------------------------------------


def test_tokyo_islands(tmp_path):
    munis = load_municipalities(prefectures=["東京都"])
    plan = load_plan("secondary-2020:東京都")
    f = validate(munis, plan)
    islands = only(f, "island")
    assert {c for x in islands for c in x.codes} == ISLANDS_TOKYO
    assert all(len(x.codes) == 1 for x in islands)  # none of them shares an island with another
    assert not [x for x in f if x.severity != "info"]
    shima = [x for x in only(f, "multipart") if x.area == "島しょ" and x.level == "secondary"]
    assert len(shima) == 1 and set(shima[0].codes) == ISLANDS_TOKYO and "島々" in shima[0].message
    assert exit_code(f) == 0
    # Without ferry routes the same area is a warning: the routes are what make it whole.
    bare = validate(munis, plan, ValidationOptions(sea_links=load_sea_links().iloc[:0], rules=["multipart"]))
    assert any(x.area == "島しょ" and x.severity == "warning" for x in bare)


def test_kagoshima_islands():
    munis = load_municipalities(prefectures=["鹿児島県"])
    f = validate(munis, load_plan("secondary-2020:鹿児島県"))
    groups = {frozenset(x.codes) for x in only(f, "island")}
    assert groups == {
        frozenset({"46213", "46501", "46502"}),  # 種子島
        frozenset({"46222", "46523", "46524", "46525", "46527"}),  # 奄美大島
        frozenset({"46530", "46531", "46532"}),  # 徳之島
        frozenset({"46533", "46534"}),  # 沖永良部島
        frozenset({"46303"}),
        frozenset({"46304"}),
        frozenset({"46505"}),
        frozenset({"46529"}),
        frozenset({"46535"}),
    }
    # 長島町 touches nothing in N03 but is joined to 阿久根市 by 黒之瀬戸大橋 (kind=land in the links).
    assert all("46404" not in x.codes for x in f)
    assert {x.area for x in only(f, "multipart") if x.level == "secondary"} == {"鹿児島", "熊毛", "奄美"}
    assert not [x for x in f if x.severity != "info"] and exit_code(f) == 0


# ---- plumbing -------------------------------------------------------------------------------


def test_registry_and_options(hokkaido, hk_plan, hk_graph):
    assert list(RULES) == [
        "unknown_code",
        "missing_count",
        "duplicate_code",
        "unassigned",
        "multipart",
        "island",
        "enclave",
        "crosses_secondary",
        "crosses_tertiary",
        "several_prefectures",
        "population_floor",
        "no_hub",
        "hub_unlocated",
        "hub_unknown_facility",
        "hub_location_conflict",
        "hub_outside_area",
        "unconfirmed",
    ]
    assert all(r.severity in ("error", "warning", "info") and r.title for r in RULES.values())
    f = validate(hokkaido, hk_plan, ValidationOptions(rules=["unconfirmed"], graph=hk_graph))
    assert {x.rule for x in f} == {"unconfirmed"}
    with pytest.raises(InputError, match="unconfirmed"):
        validate(hokkaido, hk_plan, ValidationOptions(rules=["no_such_rule"]))
    with pytest.raises(InputError):
        validate(hokkaido, hk_plan, ValidationOptions(population_floor_level="town"))


def test_findings_frame_and_exit_code(hk_findings):
    df = findings_frame(hk_findings)
    assert list(df.columns) == ["rule", "severity", "title", "level", "area", "codes", "names", "message"]
    assert len(df) == len(hk_findings)
    row = df[(df["rule"] == "multipart") & (df["severity"] == "warning")].iloc[0]
    assert row["codes"] == "01472、01452" and row["names"] == "幌加内町、鷹栖町"
    # errors, then warnings, then info
    rank = df["severity"].map({"error": 0, "warning": 1, "info": 2})
    assert rank.is_monotonic_increasing
    ja = findings_frame(hk_findings, japanese=True)
    assert "重大度" in ja.columns and set(ja["重大度"]) <= {"エラー", "警告", "情報"}
    assert findings_frame([]).empty
    assert exit_code([x for x in hk_findings if x.severity == "info"]) == 0
    assert exit_code([]) == 0


def test_graph_is_reused(hokkaido, hk_plan, hk_graph):
    # The app builds the graph once and passes it in: results are the same as building it anew.
    a = validate(hokkaido, hk_plan, ValidationOptions(graph=hk_graph))
    b = validate(hokkaido, hk_plan)
    assert a == b
    assert isinstance(hk_graph, nx.Graph)


def test_same_area_name_in_two_prefectures_is_flagged():
    import pandas as pd

    from geo_app import load_municipalities, load_plan
    from geo_app.core.plan import Plan
    from geo_app.core.rules import validate

    a, b = load_plan("secondary-2020:鳥取県"), load_plan("secondary-2020:徳島県")
    plan = Plan(name="two", table=pd.concat([a.table, b.table], ignore_index=True))
    munis = load_municipalities(prefectures=["鳥取県", "徳島県"])
    found = {(f.level, f.area) for f in validate(munis, plan) if f.rule == "several_prefectures"}
    assert found == {("homecare", "東部"), ("homecare", "西部"), ("secondary", "東部"), ("secondary", "西部")}
    assert not [f for f in validate(munis, a) if f.rule == "several_prefectures"]
