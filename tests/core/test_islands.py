"""Islands and exclaves for all 47 prefectures, with no hand list: real boundaries, real plans.

Expected facts are derived here from the geometry itself (which municipalities touch, distances in
a UTM projection), never typed in from the code under test.
"""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo_app import load_municipalities, load_plan
from geo_app.core.adjacency import build_adjacency, join_across_sea, sea_gaps
from geo_app.core.codes import PREFECTURES
from geo_app.core.plan import LEVELS, Plan
from geo_app.core.rules import ValidationOptions, validate
from geo_app.io.plans import builtin_plans

KITAYAMA = "30427"  # 北山村: 和歌山県, surrounded by 三重県 and 奈良県
DAITO = ("47357", "47358")  # 南大東村, 北大東村


def _one_plan_for_japan(family: str) -> Plan:
    """Every prefecture's built-in plan of `family` in one table, areas named per prefecture (東部
    of 鳥取県 and of 徳島県 stay two areas)."""
    tables = []
    for pref in PREFECTURES.values():
        t = load_plan(f"{family}:{pref}").table.copy()
        for level in LEVELS:
            t[level] = pref + "／" + t[level].astype("string")
        tables.append(t)
    return Plan(name=f"{family} all Japan", table=pd.concat(tables, ignore_index=True))


def _families() -> list[str]:
    return sorted({name.split(":")[0] for name in builtin_plans() if ":" in name})


@pytest.mark.parametrize("family", _families())
def test_official_areas_of_47_prefectures_give_no_island_warning(japan, family):
    plan = _one_plan_for_japan(family)
    assert plan.table["code"].str[:2].nunique() == 47
    findings = validate(japan, plan, ValidationOptions(rules=["multipart", "island"]))
    warnings = [(f.area, f.names) for f in findings if f.severity != "info"]
    assert warnings == []
    # The islands of 沖縄県 are there, as information with a distance.
    okinawa = [f for f in findings if f.rule == "multipart" and f.level == "secondary" and f.area == "沖縄県／南部"]
    assert okinawa and set(DAITO) <= set(okinawa[0].codes)
    assert "海を隔てて約" in okinawa[0].message and "（離島）" in okinawa[0].message


def test_reported_islands_do_not_touch_their_area_and_distances_are_true(japan):
    """Every piece reported as joined across the sea really touches nothing else of its area, and
    the km said are the distance measured independently in a UTM projection (within 1 %)."""
    plan = load_plan("secondary-2020:沖縄県")
    munis = japan[japan["code"].str[:2] == "47"]
    findings = validate(japan, plan, ValidationOptions(rules=["multipart"]))
    shapes = munis.set_index("code").geometry
    utm = munis.to_crs(munis.estimate_utm_crs()).set_index("code").geometry
    area_of = plan.table.set_index("code")["secondary"]
    checked = 0
    for f in (f for f in findings if f.level == "secondary" and "海を隔てて" in f.message):
        rest = [c for c in area_of[area_of == f.area].index if c not in f.codes]
        for code in f.codes:
            assert not shapely.intersects(shapes[code], shapely.union_all(shapes[rest].to_numpy()))
        # 「多良間村（47375）は二次医療圏「宮古」の本体から海を隔てて約 44 km（離島）」
        members = list(area_of[area_of == f.area].index)
        # The body: the members that touch another member (沖縄本島), else the most populous one.
        body = [c for c in members if any(shapely.intersects(shapes[c], shapes[o]) for o in members if o != c)]
        body = body or [munis.set_index("code")["population"][members].idxmax()]
        for code, km in re.findall(r"（(\d{5})）は[^、。]*?海を隔てて約 ([\d.,]+) km", f.message):
            said = float(km.replace(",", ""))
            expected = shapely.distance(utm[code], shapely.union_all(utm[body].to_numpy())) / 1000
            rounding = 0.5 if said >= 10 else 0.05  # 「約 44 km」, 「約 3.7 km」
            assert said == pytest.approx(expected, rel=0.01, abs=rounding)
            checked += 1
    assert checked >= 10  # 久米島・渡嘉敷・座間味・粟国・渡名喜・大東 ×2・竹富・与那国・伊江 …


def test_sea_distance_limit_warns_beyond_it(japan):
    plan = load_plan("secondary-2020:沖縄県")
    loose = validate(japan, plan, ValidationOptions(rules=["multipart"], sea_distance_km=400))
    assert not [f for f in loose if f.severity == "warning"]
    tight = validate(japan, plan, ValidationOptions(rules=["multipart"], sea_distance_km=100))
    south = [f for f in tight if f.severity == "warning" and f.level == "secondary"]
    # Only 大東諸島 is farther than 100 km from the rest of 南部 (久米島 is about 80 km away).
    assert [(f.area, set(f.codes)) for f in south] == [("南部", set(DAITO))]
    assert "上限 100 km" in south[0].message and "--sea-links" in south[0].message
    assert "data/sea_links.csv" not in south[0].message
    with pytest.raises(Exception, match="0より大きい"):
        validate(japan, plan, ValidationOptions(rules=["multipart"], sea_distance_km=0))


def test_chain_of_islands_is_joined(japan):
    """北大東 is 8 km from 南大東, both over 300 km from 沖縄本島: one hop each within reach."""
    g = build_adjacency(japan[japan["code"].str[:2] == "47"])
    body = ["47201", "47211"]  # 那覇市, 糸満市
    gaps = sea_gaps(g, [body, ["47357"], ["47358"]])
    km = {(a, b): k for a, b, k in zip(gaps["a"], gaps["b"], gaps["km"], strict=True)}
    assert km[(1, 2)] < 20 < 300 < km[(0, 1)] < 400
    assert join_across_sea(gaps, 3, 400) == [0, 0, 0]
    assert len(set(join_across_sea(gaps, 3, 100))) == 2  # the two 大東 islands together, apart from 沖縄本島


def test_two_mainland_towns_that_do_not_touch_still_warn(japan):
    """大宜味村 (北部, on 沖縄本島) moved into 南部: mainland, not an island, so no sea crossing
    excuses it, however large the limit."""
    plan = load_plan("secondary-2020:沖縄県")
    t = plan.table.copy()
    t.loc[t["code"] == "47302", ["homecare", "secondary"]] = "南部"
    moved = Plan(name="moved", table=t)
    south = t.loc[t["secondary"] == "南部", "code"].tolist()
    shapes = japan.set_index("code").geometry
    others = [c for c in south if c != "47302"]
    assert not shapely.intersects(shapes["47302"], shapely.union_all(shapes[others].to_numpy()))
    f = validate(japan, moved, ValidationOptions(rules=["multipart"], sea_distance_km=10_000))
    warn = [x for x in f if x.severity == "warning" and x.level == "secondary" and x.area == "南部"]
    assert len(warn) == 1 and warn[0].codes == ("47302",) and "陸続きで" in warn[0].message
    assert "海を隔てて" not in warn[0].message


def test_kitayama_is_explained_as_an_exclave():
    """和歌山県 loaded alone: the loader still knows, from the national boundaries, that 北山村
    borders only 三重県 and 奈良県 (checked here on the geometry of the three prefectures)."""
    three = load_municipalities(prefectures=["和歌山県", "三重県", "奈良県"]).set_index("code")
    touching = three.index[
        shapely.relate_pattern(three.geometry.to_numpy(), three.geometry[KITAYAMA], "****1****")
    ].drop(KITAYAMA)
    expected = sorted({PREFECTURES[c[:2]] for c in touching})
    assert expected == ["三重県", "奈良県"]

    wakayama = load_municipalities(prefectures=["和歌山県"])
    findings = validate(wakayama, load_plan("secondary-2020:和歌山県"))
    assert not [f for f in findings if f.severity != "info"]
    mine = [f for f in findings if KITAYAMA in f.codes]
    assert {f.rule for f in mine} == {"multipart", "island"}
    for f in mine:
        assert "飛び地" in f.message and "・".join(expected) in f.message and "海を隔てて" not in f.message
    assert {f.level for f in mine if f.rule == "multipart"} == set(LEVELS)


def test_projected_geometry_and_borders_are_kept_on_the_graph():
    wakayama = load_municipalities(prefectures=["和歌山県"])
    g = build_adjacency(wakayama)
    assert set(g.graph["geometry"].index) == set(wakayama["code"])
    assert g.nodes[KITAYAMA]["bordering_prefs"] == ("24", "29")
    assert isinstance(gpd.GeoSeries(g.graph["geometry"].to_numpy(), crs=g.graph["crs"]).crs.is_projected, bool)
