"""The live map's Python side on real Hokkaido data: the topology sent once, the state sent per edit.

`map_base` must give the renderer one geometry per municipality row (the renderer finds a
municipality by its row, so a shuffled id would paint the wrong town), and a key that tells equal
drawings apart from changed ones (the app sends the base once per key). `map_state` must say, per
row, which area it belongs to at each level, and carry labels whose figures are the members' sums
(「不明」 when one is missing, never a partial total) in a few kilobytes. In the standalone HTML a
typed name must travel only inside JSON that no template engine can read (views.jsdata). The plan's
hubs (在宅医療連携拠点) change with an edit, so they travel in the state, exactly where `hub_points`
places them; a plan that names no hub has the state it had before hubs existed.
"""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pandas as pd
import pytest
import shapely
from hostile import NAMES, PLAN_STEM, SECONDARY, hostile_plan_frame
from shapely import affinity

from geo_app.core.dissolve import dissolve
from geo_app.core.edits import move, set_hub
from geo_app.core.hubs import hub_points
from geo_app.core.plan import HUB_COLUMNS, UNCONFIRMED, Plan
from geo_app.io.plans import plan_from_frame
from geo_app.io.provenance import credits as source_credits
from geo_app.views.build import HTML_SIMPLIFY_TOLERANCE, write_map_html
from geo_app.views.classes import UNKNOWN_COLOUR
from geo_app.views.jsdata import script_json
from geo_app.views.livemap import OBJECT, map_base, map_geometry, map_state

BIEI = "01459"  # 美瑛町, in 上川 on hokkaido-2024
BIEI_AT = (43.5886, 142.4675)  # a point inside 美瑛町
KITAMI_ID = "0165090010"  # 北見地域訪問看護ステーション (北見市): its source's id (介護保険事業所番号)
TOLERANCE = 0.001  # the app's MAP_SIMPLIFY and build's HTML_SIMPLIFY_TOLERANCE
STATE_BUDGET = 20_000  # bytes of JSON per edit: what travels to the browser each time


# ---- fixtures ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def munis_map(hokkaido):
    return map_geometry(hokkaido, TOLERANCE).reset_index(drop=True)


@pytest.fixture(scope="module")
def base(munis_map):
    return map_base(munis_map)


@pytest.fixture(scope="module")
def moved(hokkaido_plan):
    """美瑛町 moved from 上川 to 富良野 (an existing area: it takes 富良野's parents and status)."""
    return move(hokkaido_plan, [BIEI], "富良野")


@pytest.fixture(scope="module")
def moved_areas(hokkaido, moved):
    return dissolve(hokkaido, moved, "homecare")


def _state(base, plan, areas, **kw):
    return map_state(base, plan, areas, level=kw.pop("level", "homecare"), metric=kw.pop("metric", "population"), **kw)


def _row(base, code: str) -> int:
    return int(base.codes.get_loc(code))


def _label(state, name: str) -> dict:
    hits = [lab for lab in state["labels"] if lab["name"] == name]
    assert len(hits) == 1, (name, hits)
    return hits[0]


def _people(n: int) -> str:
    return f"{n:,} 人"


def _members_population(munis, plan: Plan, area: str) -> int:
    """The area's population added up here from its member municipalities (not from the tally)."""
    codes = plan.table.loc[plan.table["homecare"] == area, "code"].astype(str)
    pops = munis.set_index(munis["code"].astype(str)).loc[codes, "population"]
    assert pops.notna().all()
    return int(pops.sum())


# ---- TopoJSON decoding (the topology format, independent of the package that wrote it) ------------
def _decode(topology: dict, geometry: dict):
    """One TopoJSON Polygon/MultiPolygon back to shapely: quantised, delta-encoded arcs, ~i reversed."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]

    def arc(i: int) -> list[tuple[float, float]]:
        pts = np.cumsum(np.asarray(topology["arcs"][~i if i < 0 else i], dtype=float), axis=0)
        xy = [(x * sx + tx, y * sy + ty) for x, y in pts]
        return xy[::-1] if i < 0 else xy

    def ring(indices: list[int]) -> list[tuple[float, float]]:
        pts: list[tuple[float, float]] = []
        for i in indices:
            a = arc(i)
            pts.extend(a[1:] if pts else a)  # consecutive arcs share their end point
        return pts

    def polygon(rings: list[list[int]]):
        return shapely.Polygon(ring(rings[0]), [ring(r) for r in rings[1:]])

    if geometry["type"] == "Polygon":
        return polygon(geometry["arcs"])
    assert geometry["type"] == "MultiPolygon", geometry["type"]
    return shapely.MultiPolygon([polygon(p) for p in geometry["arcs"]])


def _arc_refs(geometries: list[dict]) -> list[int]:
    """Every arc index the geometries use (Polygon: rings of arcs; MultiPolygon: polygons of rings)."""
    polygons = [p for g in geometries for p in ([g["arcs"]] if g["type"] == "Polygon" else g["arcs"])]
    return [i for p in polygons for ring in p for i in ring]


# ---- map_base ------------------------------------------------------------------------------------
def test_topology_has_one_geometry_per_row_in_row_order(base, munis_map):
    geometries = base.topology["objects"][OBJECT]["geometries"]
    assert base.info["object"] == OBJECT
    assert len(munis_map) == len(geometries) == 179
    assert [g["id"] for g in geometries] == list(range(179))
    codes = munis_map["code"].astype(str).tolist()
    assert base.info["codes"] == codes and base.codes.tolist() == codes
    # the id really is the row: geometry i decodes to row i's shape (up to the ≈ 7 m quantisation)
    decoded = np.array([shapely.make_valid(_decode(base.topology, g)) for g in geometries], dtype=object)
    rows = np.asarray(munis_map.geometry.values, dtype=object)
    overlap = shapely.area(shapely.intersection(decoded, rows)) / shapely.area(shapely.union(decoded, rows))
    assert overlap.min() > 0.97, [codes[i] for i in np.flatnonzero(overlap <= 0.97)]
    # neighbours share each border arc (stored once, used by both), and no arc has a third user
    uses = np.bincount([~i if i < 0 else i for i in _arc_refs(geometries)], minlength=len(base.topology["arcs"]))
    assert uses.max() == 2 and (uses == 2).sum() > len(geometries)


def test_key_is_stable_and_follows_the_geometry(base, munis_map):
    assert map_base(munis_map.copy()).key == base.key  # same drawing, same key (the app sends it once)
    changed = munis_map.copy()
    i = _row(base, BIEI)
    changed.loc[i, "geometry"] = affinity.translate(changed.geometry.iloc[i], xoff=0.01)  # ≈ 800 m east
    assert map_base(changed).key != base.key


# ---- map_state -----------------------------------------------------------------------------------
def test_state_after_a_move_labels_members_sums(base, hokkaido, hokkaido_plan, moved, moved_areas):
    before = _state(base, hokkaido_plan, dissolve(hokkaido, hokkaido_plan, "homecare"))
    kamikawa_before = _members_population(hokkaido, hokkaido_plan, "上川")
    assert _label(before, "上川")["value"] == _people(kamikawa_before) == "51,990 人"

    state = _state(base, moved, moved_areas)
    kamikawa, furano = (_members_population(hokkaido, moved, a) for a in ("上川", "富良野"))
    biei = int(hokkaido.loc[hokkaido["code"] == BIEI, "population"].iloc[0])
    assert (kamikawa, furano, biei) == (42_322, 49_562, 9_668)  # the 2020 census figures
    assert _label(state, "上川")["value"] == _people(kamikawa) == "42,322 人"
    assert _label(state, "富良野")["value"] == _people(furano) == "49,562 人"

    names = state["names"]["homecare"]
    assert names[state["ids"]["homecare"][_row(base, BIEI)]] == "富良野"
    # every row points to its own area at every level, as the plan table says
    for level in ("homecare", "secondary", "tertiary"):
        got = [state["names"][level][i] for i in state["ids"][level]]
        assert got == [moved.area_of(c, level) for c in base.codes], level
    assert len(state["fill"]) == len(state["hatch"]) == len(names) == 33
    # each label sits on its own area (point on surface, rounded to 5 decimals ≈ 1 m)
    shapes = moved_areas.set_index("area").geometry
    for lab in state["labels"]:
        assert shapely.distance(shapely.Point(lab["lon"], lab["lat"]), shapes[lab["name"]]) < 1e-4, lab


def test_unconfirmed_areas_are_hatched(base, moved, moved_areas):
    state = _state(base, moved, moved_areas)
    t = moved.table
    unconfirmed = set(t.loc[t["status"] == UNCONFIRMED, "homecare"])
    hatched = {n for n, h in zip(state["names"]["homecare"], state["hatch"], strict=True) if h}
    assert len(unconfirmed) == 4 and hatched == unconfirmed
    assert [s["text"] for s in state["boxes"][0]["swatches"] if s.get("hatch")] == ["未確定の圏域"]


def test_focus_puts_the_edited_areas_labels_first(base, moved, moved_areas):
    plain = [lab["name"] for lab in _state(base, moved, moved_areas)["labels"]]
    assert plain[0] == "札幌市"  # by population, largest first
    focused = [lab["name"] for lab in _state(base, moved, moved_areas, focus=["富良野", "上川"])["labels"]]
    assert focused[:2] == ["富良野", "上川"]
    assert sorted(focused) == sorted(plain) and len(plain) == 33  # reordered, nothing dropped
    assert [lab["name"] for lab in _state(base, moved, moved_areas, focus=["上川"])["labels"]][0] == "上川"


def test_municipality_missing_from_the_plan_has_no_area(base, hokkaido, hokkaido_plan):
    t = hokkaido_plan.table
    plan = plan_from_frame(t[t["code"] != BIEI], name="美瑛町なし")
    state = _state(base, plan, dissolve(hokkaido, plan, "homecare"))
    r = _row(base, BIEI)
    assert {lv: ids[r] for lv, ids in state["ids"].items()} == {"tertiary": -1, "secondary": -1, "homecare": -1}
    assert state["status"][r] == -1
    assert sum(i >= 0 for i in state["ids"]["homecare"]) == 178
    assert "市町村 178・" in state["boxes"][1]["lines"][0]


def test_unknown_population_is_unknown_never_a_partial_figure(base, hokkaido, moved):
    munis = hokkaido.copy()
    munis.loc[munis["code"] == BIEI, "population"] = pd.NA
    state = _state(base, moved, dissolve(munis, moved, "homecare"))
    assert _label(state, "富良野")["value"] == "不明"
    assert state["fill"][state["names"]["homecare"].index("富良野")] == UNKNOWN_COLOUR == "#dddddd"
    assert state["boxes"][1]["lines"][0].endswith("人口 不明")  # the total is unknown as well
    partial = _people(_members_population(hokkaido, moved, "富良野") - 9_668)  # 富良野 without 美瑛町
    assert partial == "39,894 人" and partial not in json.dumps(state, ensure_ascii=False)
    assert _label(state, "上川")["value"] == "42,322 人"  # the others keep their figures


def test_highlight_gives_the_rows(base, moved, moved_areas):
    assert _state(base, moved, moved_areas, highlight_codes=[BIEI])["highlight"] == [_row(base, BIEI)]
    assert _state(base, moved, moved_areas, highlight_codes=["99999", BIEI])["highlight"] == [_row(base, BIEI)]
    assert _state(base, moved, moved_areas)["highlight"] == []


def test_state_fits_the_per_edit_budget(base, hokkaido, moved, moved_areas):
    state = _state(
        base,
        moved,
        moved_areas,
        focus=["富良野", "上川"],
        highlight_codes=[BIEI],
        credits=source_credits(hokkaido, moved).all(),
        serial="0123456789ab-homecare-population",
    )
    size = len(json.dumps(state, ensure_ascii=False).encode())
    assert size < STATE_BUDGET, size


# ---- hostile names in the standalone HTML -------------------------------------------------------------
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_LIVE_CALL = re.compile(r"GeoAppLive\.apply\(\s*GeoAppLive\.attach\(\s*\w+,\s*\w+,\s*\w+,\s*")
JINJA_SPACED = "{{ 7*7 }}"
JINJA_MARKER = "{{ '評価' ~ 'された' }}"  # would become 評価された, text found nowhere else


def _live_call(text: str) -> tuple[dict, dict, str]:
    """The info and state JSON of map.html's one renderer call, decoded, and the call's source."""
    calls = list(_LIVE_CALL.finditer(text))
    assert len(calls) == 1
    decoder = json.JSONDecoder()
    info, end = decoder.raw_decode(text, calls[0].end())
    sep = re.compile(r"\s*\)\s*,\s*").match(text, end)
    assert sep is not None
    state, end = decoder.raw_decode(text, sep.end())
    assert re.compile(r"\s*\);").match(text, end)
    return info, state, text[calls[0].start() : end]


def test_hostile_names_reach_the_html_only_as_inert_json(tmp_path, hokkaido):
    df, _ = hostile_plan_frame()
    tertiary = list(dict.fromkeys(df["tertiary"]))
    df["tertiary"] = df["tertiary"].replace({tertiary[0]: JINJA_SPACED, tertiary[1]: JINJA_MARKER})
    plan = plan_from_frame(df, name=PLAN_STEM)
    text = write_map_html(hokkaido, plan, tmp_path / "map.html").read_text(encoding="utf-8")

    # the <title> is written after rendering, HTML-escaped; it is the only place the plan name is plain
    titles = re.findall(r"<title>(.*?)</title>", text, flags=re.S)
    assert titles == [html.escape(f"{plan.title} 在宅医療圏")]
    body = re.sub(r"<title>.*?</title>", "", text, flags=re.S)

    info, state, call = _live_call(body)
    # no string in the renderer's call holds a template delimiter or markup character raw
    raw = [s for s in _JSON_STRING.findall(call) if set(s) & set("{}%#<>&\u2028\u2029")]
    assert raw == []
    # and what JavaScript reads back is exactly what map_state built: every name unchanged
    mine = hokkaido[hokkaido["code"].isin(plan.table["code"])]
    base = map_base(map_geometry(mine, HTML_SIMPLIFY_TOLERANCE))
    expected = _state(base, plan, dissolve(hokkaido, plan, "homecare"), credits=source_credits(hokkaido, plan).all())
    assert state == json.loads(json.dumps(expected))
    assert info["codes"] == base.info["codes"]
    assert state["names"]["homecare"] == plan.areas("homecare") and sorted(state["names"]["homecare"]) == sorted(NAMES)
    assert sorted(lab["name"] for lab in state["labels"]) == sorted(NAMES)
    assert set(SECONDARY.values()) <= set(state["names"]["secondary"])
    assert {JINJA_SPACED, JINJA_MARKER} <= set(state["names"]["tertiary"]) and "49" not in state["names"]["tertiary"]
    assert state["boxes"][1]["title"] == f"{plan.title}　在宅医療圏"
    # nothing was evaluated or let through raw anywhere in the page
    assert "評価された" not in body
    assert script_json(JINJA_SPACED)[1:-1] in body  # \u007b\u007b 7*7 \u007d\u007d
    raw_names = [n for n in [*NAMES, JINJA_SPACED, JINJA_MARKER, PLAN_STEM] if set(n) & set("{}%#<>&") and n in body]
    assert raw_names == []


# ---- facility points: in the base, never in the per-edit state ----------------------------------------
def _decoded(layer: dict) -> tuple[list[float], list[float]]:
    """A layer's delta-encoded integer coordinates back to degrees (as render.js decodes them)."""
    lat, lon = (np.cumsum(np.asarray(layer[c], dtype=np.int64)) * 1e-5 for c in ("lat", "lon"))
    return lat.tolist(), lon.tolist()


def test_base_carries_each_kind_of_facility_as_columns(base, munis_map):
    """The points of the base's 179 municipalities, per kind: names and coordinates as loaded (to ≈ 1 m),
    labelled with the number drawn, beside the count of the same municipalities and the difference."""
    from geo_app.io.facilities import POINT_KINDS, POINT_SOURCES, load_facilities, load_facility_points

    codes = munis_map["code"].astype(str).tolist()
    points = load_facility_points(codes)
    counts = load_facilities(codes).sum()
    layers = base.info["facilities"]
    assert [d["kind"] for d in layers] == list(POINT_KINDS)
    expected = {
        "home_nursing_station": ("訪問看護ステーション（636）", 636, 640),
        "hospital": ("病院（394）", 394, 434),
        "zaitaku_shien": ("在宅療養支援診療所・病院（129）", 129, 459),
    }
    for d in layers:
        mine = points[points["kind"] == d["kind"]]
        assert (d["name"], d["count"], d["counted"]) == expected[d["kind"]]
        column = {"home_nursing_station": "home_nursing_stations", "hospital": "hospitals"}.get(d["kind"], d["kind"])
        assert d["counted"] == int(counts[column]) and d["count"] == len(mine) == len(d["names"])
        assert d["note"].endswith(
            f"全{d['counted']:,}か所のうち{d['counted'] - d['count']:,}か所は位置不明などで表示なし"
        )
        assert d["names"] == mine["name"].tolist()
        lat, lon = _decoded(d)
        assert np.allclose(lat, mine["lat"], atol=5e-7) and np.allclose(lon, mine["lon"], atol=5e-7)
        for source in POINT_SOURCES[d["kind"]]:
            assert any(source.vintage in line for line in d["sources"]), (d["kind"], source)
    assert layers[2]["note"].startswith("北海道のみ。")
    # the styles differ in shape (legible in grey print) and colour
    assert len({d["shape"] for d in layers}) == len({d["fill"] for d in layers}) == 3


def test_points_leave_the_per_edit_state_unchanged(munis_map, hokkaido, moved, moved_areas):
    """The points go with the base (once per session): the state of an edit is the same, byte for byte,
    with or without them, and carries no facility name."""
    with_points, without = map_base(munis_map), map_base(munis_map, facilities=False)
    assert without.info["facilities"] == [] and with_points.info["facilities"]
    assert with_points.key == without.key  # same drawing of the municipalities
    kw = {"focus": ["富良野"], "highlight_codes": [BIEI], "credits": source_credits(hokkaido, moved).all()}
    a = json.dumps(_state(with_points, moved, moved_areas, **kw), ensure_ascii=False)
    b = json.dumps(_state(without, moved, moved_areas, **kw), ensure_ascii=False)
    assert a == b and len(a.encode()) < STATE_BUDGET
    assert with_points.info["facilities"][0]["names"][0] not in a


def test_hostile_facility_names_reach_the_html_only_as_inert_json(tmp_path, hokkaido, hokkaido_plan, monkeypatch):
    """Facility names are public data, still data: a row named like markup or a template is carried as
    JSON that no template engine reads and no HTML parser sees, and decodes to the same text."""
    from geo_app.io import facilities
    from geo_app.views import livemap

    real = facilities.load_facility_points
    hostile = [JINJA_SPACED, JINJA_MARKER, "<img src=x onerror=alert(1)>", "</script><script>alert(1)</script>"]

    def with_hostile(codes=None):
        pts = real(codes)
        extra = pts[pts["kind"] == "hospital"].head(len(hostile)).assign(name=hostile)
        return pd.concat([pts, extra], ignore_index=True)

    monkeypatch.setattr(livemap, "load_facility_points", with_hostile)
    text = write_map_html(hokkaido, hokkaido_plan, tmp_path / "map.html").read_text(encoding="utf-8")
    body = re.sub(r"<title>.*?</title>", "", text, flags=re.S)
    info, _, call = _live_call(body)
    hospitals = next(d for d in info["facilities"] if d["kind"] == "hospital")
    assert hospitals["names"][-len(hostile) :] == hostile and hospitals["count"] == 394 + len(hostile)
    raw = [s for s in _JSON_STRING.findall(call) if set(s) & set("{}%#<>&\u2028\u2029")]
    assert raw == []
    assert "評価された" not in body and all(h not in body for h in hostile)


def test_facility_columns_are_what_a_page_without_points_needs(base):
    """The app sends the base without the points and a kind's columns when first shown: together they are
    the layer as map.html embeds it."""
    from geo_app.views.livemap import FACILITY_COLUMNS, facility_columns

    cols = facility_columns(base, ["hospital", "no_such_kind"])
    assert list(cols) == ["hospital"] and tuple(cols["hospital"]) == FACILITY_COLUMNS == ("names", "lat", "lon")
    layer = next(d for d in base.info["facilities"] if d["kind"] == "hospital")
    meta = {k: v for k, v in layer.items() if k not in FACILITY_COLUMNS}
    assert {**meta, **cols["hospital"]} == layer and len(cols["hospital"]["names"]) == 394
    assert facility_columns(base, []) == {}


# ---- hubs (在宅医療連携拠点): in the per-edit state ------------------------------------------------------
#: The state's keys before hubs existed: a plan that names no hub gets exactly these.
STATE_KEYS = {
    *("serial", "level", "ids", "names", "fill", "hatch"),
    *("statusNames", "status", "labels", "boxes", "highlight"),
}
HUB_KEYS = {"hubs", "hubsUnlocated"}


@pytest.fixture(scope="module")
def hub_plan(hokkaido_plan):
    """北見's hub given by a facility id (a station in 北見市), 上川's by a point in 美瑛町; とかち's hub
    (one hub named for four areas) keeps the built-in plan's unknown location."""
    plan = set_hub(hokkaido_plan, "北見", "北見の拠点", facility=KITAMI_ID)
    return set_hub(plan, "上川", "美瑛町役場", lat=str(BIEI_AT[0]), lon=str(BIEI_AT[1]))


def _without_hubs(state: dict) -> dict:
    """`state` without what hubs add: their keys, the legend's star and its note on unlocated hubs."""
    out = {k: v for k, v in json.loads(json.dumps(state)).items() if k not in HUB_KEYS}
    legend = out["boxes"][0]
    legend.pop("notes", None)
    legend["swatches"] = [s for s in legend["swatches"] if not s.get("hub")]
    return out


def test_state_carries_each_located_hub_where_hub_points_puts_it(base, hokkaido, hub_plan):
    from geo_app.io.facilities import load_facility_points
    from geo_app.io.plans import plan_hub_points

    points = load_facility_points()
    station = points[points["id"].str.endswith(KITAMI_ID) & (points["code"] == "01208")]
    assert len(station) == 1
    station = station.iloc[0]
    assert 43.7 < station["lat"] < 43.9 and 143.8 < station["lon"] < 144.0  # 北見市's town centre
    areas = dissolve(hokkaido, hub_plan, "homecare")
    state = _state(base, hub_plan, areas)  # map_state looks the hubs up itself
    assert state["hubs"] == [
        {
            "name": "北見の拠点",
            "areas": ["北見"],
            "lat": station["lat"],
            "lon": station["lon"],
            "by": "facility",
            "facility": station["name"],
            "kind": "訪問看護ステーション",
        },
        {"name": "美瑛町役場", "areas": ["上川"], "lat": BIEI_AT[0], "lon": BIEI_AT[1], "by": "point"},
    ]
    # the same coordinates as hub_points with the raw facility table (every view places them there)
    expected = hub_points(hub_plan, points).set_index("homecare")
    for d in state["hubs"]:
        assert (d["lat"], d["lon"]) == tuple(expected.loc[d["areas"][0], ["lat", "lon"]]), d
    assert state["hubsUnlocated"] == 1  # とかち's hub: named for four areas, one hub, no location
    legend = state["boxes"][0]
    assert legend["swatches"][-1] == {"hub": True, "text": "在宅医療連携拠点"}
    assert legend["notes"] == ["場所の分からない拠点1か所は地図に描いていません"]
    # the app passes the hubs it cached: the same state; JSON keeps every coordinate exactly
    assert _state(base, hub_plan, areas, hubs=plan_hub_points(hub_plan)) == state
    # the stars are drawn at every level, as on the print map
    secondary = _state(base, hub_plan, dissolve(hokkaido, hub_plan, "secondary"), level="secondary")
    assert (secondary["hubs"], secondary["hubsUnlocated"]) == (state["hubs"], 1)
    assert json.loads(json.dumps(state))["hubs"] == state["hubs"]


def test_built_in_plan_draws_no_hub_and_says_two_are_unlocated(base, hokkaido, hokkaido_plan):
    state = _state(base, hokkaido_plan, dissolve(hokkaido, hokkaido_plan, "homecare"))
    assert set(state) == STATE_KEYS | HUB_KEYS
    assert state["hubs"] == [] and state["hubsUnlocated"] == 2  # 北見's and とかち's (one for four areas)
    legend = state["boxes"][0]
    assert not any(s.get("hub") for s in legend["swatches"])  # no star in the legend: none is drawn
    assert legend["notes"] == ["場所の分からない拠点2か所は地図に描いていません"]


def test_a_hub_for_several_areas_is_one_marker(base, hokkaido, hokkaido_plan):
    """とかち's one hub, placed for two of its four areas: one star serving both; the other two still
    name it without a place, so it is also counted (once) among the unlocated, with 北見's."""
    tokachi = hokkaido_plan.hubs()["北十勝"]
    plan = hokkaido_plan
    for area in ("北十勝", "西十勝"):
        plan = set_hub(plan, area, tokachi, lat="42.9236", lon="143.1966")  # in 帯広市
    state = _state(base, plan, dissolve(hokkaido, plan, "homecare"))
    assert state["hubs"] == [
        {"name": tokachi, "areas": ["北十勝", "西十勝"], "lat": 42.9236, "lon": 143.1966, "by": "point"}
    ]
    assert state["hubsUnlocated"] == 2


def test_a_plan_without_hubs_has_the_state_it_had(base, hokkaido, moved, moved_areas, hub_plan):
    """No hub named: none of the hub keys, no star, no note; the hubs of a plan add only those parts."""
    bare = Plan.from_table(moved.table.drop(columns=list(HUB_COLUMNS)), name=moved.name)
    assert bare.hubs() == {} and hub_points(bare, None).empty
    kw = {"focus": ["富良野"], "highlight_codes": [BIEI], "credits": source_credits(hokkaido, moved).all()}
    state = _state(base, bare, moved_areas, **kw)
    assert set(state) == STATE_KEYS
    assert "notes" not in state["boxes"][0] and not any(s.get("hub") for s in state["boxes"][0]["swatches"])
    text = json.dumps(state, ensure_ascii=False)
    assert text == json.dumps(_state(base, bare, moved_areas, hubs=hub_points(bare, None), **kw), ensure_ascii=False)
    assert "拠点" not in text
    # the same municipalities with hubs: the state differs by the hub parts only
    with_hubs = _state(base, Plan.from_table(moved.table, name=moved.name), moved_areas, **kw)
    assert set(with_hubs) == STATE_KEYS | HUB_KEYS and _without_hubs(with_hubs) == json.loads(text)


def test_state_with_a_hub_in_every_area_fits_the_budget(base, hokkaido, moved, moved_areas):
    """33 located hubs with long names (a facility's name is up to ~60 characters): still a small state."""
    t = moved.table.copy()
    spots = moved_areas.set_index("area").geometry.representative_point()
    t["hub"] = "社会福祉法人北海道在宅医療連携支援センター　" + t["homecare"] + "在宅医療・介護連携拠点"
    t["hub_lat"] = t["homecare"].map(lambda a: f"{spots[a].y:.7f}")
    t["hub_lon"] = t["homecare"].map(lambda a: f"{spots[a].x:.7f}")
    plan = Plan.from_table(t, name=moved.name)
    state = _state(base, plan, moved_areas, credits=source_credits(hokkaido, plan).all(), highlight_codes=[BIEI])
    assert len(state["hubs"]) == 33 and state["hubsUnlocated"] == 0 and "notes" not in state["boxes"][0]
    size = len(json.dumps(state, ensure_ascii=False).encode())
    print(f"state with 33 hubs: {size:,} bytes")
    assert size < STATE_BUDGET, size
