"""The plan map as geometry sent once and a small state per view (views).

A map has two parts with different lives:

* `MapBase`: the municipalities as a TopoJSON topology (each border arc stored once, quantised,
  as mapshaper and TopoJSON do) plus what never changes with the plan (codes, tooltip figures,
  border styles, the facility points of those municipalities as columnar, delta-encoded layers).
  Built once per set of municipalities; the app sends it to a browser once, the HTML map embeds
  it once.
* `map_state`: everything a plan, level, metric or highlight decides (which municipality is in
  which area at each level, fill colours, labels and their positions, legend, title, the plan's
  hubs: 在宅医療連携拠点, which an edit or `set_hub` changes), a few kilobytes for Hokkaido.
  `geo_app/static/livemap/render.js` applies it to the layers already drawn, so an edit repaints
  without redrawing the geometry or moving the user's view.

folium builds the base map (controls, tiles, the TopoJson layer of municipalities); user text
never passes through folium or a template: it travels in the state and base JSON and the
script writes it with textContent.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from geo_app.core.metrics import MAP_METRICS, Metric, label
from geo_app.core.metrics import METRICS as REGISTRY
from geo_app.core.plan import LEVEL_JA, UNCONFIRMED, Plan
from geo_app.core.tally import total
from geo_app.io.facilities import (
    KIND_COLUMN,
    KIND_LABELS,
    P04_POSITIONS,
    POINT_KINDS,
    POINT_SOURCES,
    load_facilities,
    load_facility_points,
)
from geo_app.io.provenance import DataSource
from geo_app.views.classes import class_breaks, colour_of, legend_colours, legend_text
from geo_app.views.jsdata import script_json

if TYPE_CHECKING:
    import folium

__all__ = [
    "OBJECT",
    "MAP_SIMPLIFY",
    "MapBase",
    "FACILITY_STYLE",
    "FACILITY_COLUMNS",
    "facility_layers",
    "facility_columns",
    "map_base",
    "map_geometry",
    "map_state",
    "hub_markers",
    "HUB_STYLE",
    "HUB_LABEL",
    "folium_base_map",
    "LiveScript",
    "BORDER_STYLE",
    "MAP_CSS",
    "GSI_PALE",
    "GSI_ATTR",
]

#: Topology-preserving simplification of the map's geometry (degrees, ≈ 80–100 m), in the app and in
#: map.html: a town's shape stays visible at city zoom, neighbours still share every border exactly,
#: and Hokkaido's quantised topology is about 0.2 MB.
MAP_SIMPLIFY = 0.001
#: The topology's object holding the municipalities (geometry id = row of the municipalities).
OBJECT = "municipalities"
#: Quantisation of the topology: 10⁵ steps across the extent (Hokkaido: ≈ 7 m), well under the
#: simplification of the map's geometry (≈ 80–300 m).
QUANTIZE = 100_000
#: Border lines by level, drawn thin to thick: tertiary thick … municipality hairline.
BORDER_STYLE = {
    "municipality": ("#888888", 0.4),
    "homecare": ("#555555", 1.2),
    "secondary": ("#333333", 2.4),
    "tertiary": ("#111111", 4.0),
}
_BORDER_ORDER = ["tertiary", "secondary", "homecare", "municipality"]  # the script's class k → level
_TIP_FIELDS = ("name", "code", "population", "aging_rate")

#: Facility markers, one shape and colour per kind, told apart in grey print too: a mid-grey circle, a
#: white square with a dark edge, a near-black triangle (blue/purple/green, clear of the orange fills).
#: kind → (shape, fill, stroke, stroke width px, radius px at zoom ≥ 9).
FACILITY_STYLE: dict[str, tuple[str, str, str, float, float]] = {
    "home_nursing_station": ("circle", "#4393c3", "#ffffff", 1.0, 4.0),
    "hospital": ("square", "#ffffff", "#6a3d9a", 2.0, 4.0),
    "zaitaku_shien": ("triangle", "#00441b", "#ffffff", 1.0, 5.5),
}
#: The per-point columns of a facility layer (the rest of a layer is its label, counts, style and sources).
FACILITY_COLUMNS = ("names", "lat", "lon")
#: Facility coordinates travel as integers of 10⁻⁵ degree (≈ 1 m, the points file's precision), each the
#: difference from the previous point of its layer (points of one town lie together: short numbers).
FACILITY_QUANTUM = 1e-5

#: The hub marker, as on the print map (views.printmap.HUB_COLOR): a blue star with a black edge in a white
#: halo, dark in greyscale and clear of the YlOrRd fills. The renderer draws it; the legend says what it is.
HUB_STYLE = {"fill": "#1f4e9a", "stroke": "#000000", "halo": "#ffffff"}
HUB_LABEL = "在宅医療連携拠点"

GSI_PALE = "https://cyberjapandata.gsi.go.jp/xyz/pale/{z}/{x}/{y}.png"
GSI_ATTR = '<a href="https://maps.gsi.go.jp/development/ichiran.html" target="_blank">地理院タイル</a>（淡色地図）'

MAP_CSS = """
.geoapp-label{background:none;border:none;white-space:nowrap;text-align:center;font:600 12px/1.25 'Noto Sans CJK JP','Hiragino Sans','Yu Gothic',sans-serif;color:#111;text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 2px #fff;pointer-events:none}
.geoapp-label .pop{font-weight:400;font-size:11px}
.geoapp-label-box{transform:translate(-50%,-50%)}
.geoapp-box{background:rgba(255,255,255,.92);padding:6px 9px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.35);font:12px/1.4 'Noto Sans CJK JP',sans-serif;color:#111}
.geoapp-title{font-size:16px;font-weight:700}
.geoapp-legend i{display:inline-block;width:18px;height:12px;margin-right:6px;vertical-align:middle;border:1px solid #999}
.geoapp-credit{font-size:10px;max-width:460px}
.geoapp-tip table{border-collapse:collapse}.geoapp-tip th{text-align:left;padding-right:8px;font-weight:600}
.leaflet-container{background:#f4f7fa}
.leaflet-interactive:focus{outline:none}
.geoapp-fac-hover .geoapp-tip{display:none}
.geoapp-fac-hover{cursor:pointer}
.geoapp-fac-tip .kind{font-size:11px;color:#444}
.geoapp-facilities .row{display:flex;align-items:flex-start;gap:6px;margin-top:2px}
.geoapp-facilities svg{flex:none;margin-top:2px}
.geoapp-facilities .note,.geoapp-facilities .src{font-size:10px;color:#444;max-width:320px}
.geoapp-legend svg{display:inline-block;margin:0 6px 0 2px;vertical-align:middle}
.geoapp-legend .note{font-size:11px;color:#333;max-width:300px}
.geoapp-hubs-off .geoapp-hub-key{display:none}
.geoapp-hub{background:none;border:none;cursor:pointer}
.geoapp-hub svg{display:block;overflow:visible}
.leaflet-tooltip.geoapp-hub-tip{white-space:normal;width:max-content;max-width:300px}
.geoapp-hub-tip .name{font-weight:700}.geoapp-hub-tip .kind{font-size:11px;color:#444}
"""  # noqa: E501

#: Leaflet's texts that have no option, in Japanese through its public API and DOM: the credit keeps
#: its link to Leaflet without the English title, the layer switch is called レイヤー.
_JAPANESE_CONTROLS_JS = """
if (map.attributionControl) { map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>'); }
function layersTitle(){
  map.getContainer().querySelectorAll('.leaflet-control-layers-toggle').forEach(function(a){
    a.title = 'レイヤー'; a.setAttribute('aria-label', 'レイヤー');
  });
}
map.whenReady(function(){ setTimeout(layersTitle, 0); });
map.on('layeradd', layersTitle);
"""


@dataclass(frozen=True)
class MapBase:
    """What a map of these municipalities draws whatever the plan: built once per data set."""

    topology: dict[str, Any]
    info: dict[str, Any]  # the renderer's static data (codes, tooltip rows, styles, layer names)
    codes: pd.Index
    view_bounds: tuple[float, float, float, float]
    far_islands: bool  # some island lies wholly outside the first view
    key: str  # a digest of the topology and codes: equal bases are the same drawing


def map_geometry(munis: gpd.GeoDataFrame, tolerance: float | None) -> gpd.GeoDataFrame:
    """The municipalities as the map draws them: each valid coverage simplified on its own
    (the whole set, or each prefecture file of N03 as downloaded), so neighbours keep sharing
    every border; the loader's attrs say which (`coverage_valid`, `coverage_groups`)."""
    from geo_app.core.geometry import simplify_coverages

    out = munis.copy()
    if not tolerance:
        return out
    whole = bool(munis.attrs.get("coverage_valid", True))
    groups = None if whole else munis["pref_code"].to_numpy(dtype=object) if "pref_code" in munis else None
    valid = None if whole else munis.attrs.get("coverage_groups") or {}
    if not whole and groups is None:
        return out
    out["geometry"] = simplify_coverages(munis.geometry.values, tolerance, groups, valid)
    return out


def _topology(munis_map: gpd.GeoDataFrame) -> dict[str, Any]:
    """TopoJSON of the municipalities (arcs shared by neighbours stored once, quantised); the
    geometry id is the row, so the renderer needs no property per feature."""
    import topojson

    shapes = gpd.GeoDataFrame(geometry=munis_map.geometry.values, crs=munis_map.crs).reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Nn]umba.*")
        topo = topojson.Topology(shapes, prequantize=QUANTIZE, topology=True, object_name=OBJECT)
    out: dict[str, Any] = topo.to_dict()
    out.pop("bbox", None)
    return out


def _tip_text(field: str, value: object) -> str:
    if field in REGISTRY:
        return REGISTRY[field].format(value)
    return "" if value is None or pd.isna(value) else str(value)


def _deltas(values: pd.Series) -> list[int]:
    """Coordinates as integers of FACILITY_QUANTUM, each the difference from the one before (first: itself)."""
    ints = np.rint(values.to_numpy(dtype=float) / FACILITY_QUANTUM).astype(np.int64)
    return np.diff(ints, prepend=0).tolist()


def _layer_note(kind: str, count: int, counted: int | None) -> str:
    """What the layer's number means beside the counts of the same municipalities (the supply metrics)."""
    where = "北海道のみ。" if kind == "zaitaku_shien" else ""
    if counted is None:
        return f"{where}位置の分かる{count:,}か所（件数の合計は不明）"
    if counted == count:
        return f"{where}全{counted:,}か所"
    return f"{where}全{counted:,}か所のうち{counted - count:,}か所は位置不明などで表示なし"


def _source_line(source: DataSource) -> str:
    """A layer's source and date for the map's legend: the list it comes from as of its date; for the
    points taken from 国土数値情報, its credit (the full credits of the lists are in the map's credits)."""
    if source == P04_POSITIONS:
        return f"位置の一部：{source.credit.strip('「」')}（{source.vintage}）"
    return f"出典：{source.vintage}"


def facility_layers(codes: Iterable[str]) -> list[dict[str, Any]]:
    """The facility points of these municipalities as the renderer's layers, one per kind that has any.

    Each layer: its label with the number of points (「訪問看護ステーション（636）」), that number beside the
    count of the same municipalities (the supply metrics), its style, source lines with their dates, and
    the points as columns (names, delta-encoded lat and lon). Names are data: JSON only, written as text.
    """
    codes = [str(c) for c in codes]
    points = load_facility_points(codes)
    counts = load_facilities(codes)
    layers: list[dict[str, Any]] = []
    for kind in POINT_KINDS:
        pts = points[points["kind"] == kind]
        if pts.empty:
            continue
        column = counts[KIND_COLUMN[kind]]
        known = column.dropna()
        region_only = kind == "zaitaku_shien"  # known for 北海道 only: its count is Hokkaido's
        counted = int(known.sum()) if (region_only and len(known)) or not column.isna().any() else None
        shape, fill, stroke, width, radius = FACILITY_STYLE[kind]
        layers.append(
            {
                "kind": kind,
                "label": KIND_LABELS[kind],
                "name": f"{KIND_LABELS[kind]}（{len(pts):,}）",
                "short": f"{REGISTRY[KIND_COLUMN[kind]].short}（{len(pts):,}）",  # the app's switch: a narrow column
                "count": len(pts),
                "counted": counted,
                "note": _layer_note(kind, len(pts), counted),
                "sources": [_source_line(s) for s in POINT_SOURCES[kind]],
                "shape": shape,
                "fill": fill,
                "stroke": stroke,
                "weight": width,
                "radius": radius,
                "names": pts["name"].astype(str).tolist(),
                "lat": _deltas(pts["lat"]),
                "lon": _deltas(pts["lon"]),
            }
        )
    return layers


def facility_columns(base: MapBase, kinds: Iterable[str]) -> dict[str, dict[str, list[Any]]]:
    """The point columns (FACILITY_COLUMNS) of the base's layers of `kinds`: what a page that got the
    base without them (the app, which sends a kind's points when it is first switched on) still needs."""
    wanted = set(kinds)
    return {
        str(d["kind"]): {c: d[c] for c in FACILITY_COLUMNS}
        for d in base.info.get("facilities", [])
        if d["kind"] in wanted
    }


def map_base(
    munis_map: gpd.GeoDataFrame,
    view_bounds: tuple[float, float, float, float] | None = None,
    *,
    facilities: bool = True,
) -> MapBase:
    """The municipalities' topology and static data (`munis_map`: the map's simplified coverage), with
    the facility points of those municipalities (`facilities`), which never change with the plan."""
    from geo_app.views.extent import main_view_bounds

    munis_map = munis_map.reset_index(drop=True)
    bounds = tuple(float(v) for v in (view_bounds or main_view_bounds(munis_map)))
    minx, miny, maxx, maxy = bounds
    parts = shapely.get_parts(np.asarray(munis_map.geometry.values, dtype=object))
    far = not bool(shapely.intersects(parts, shapely.box(minx, miny, maxx, maxy)).all())
    n = len(munis_map)
    columns = [munis_map[f] if f in munis_map else pd.Series([None] * n) for f in _TIP_FIELDS]
    tips = [[_tip_text(f, v) for f, v in zip(_TIP_FIELDS, row, strict=True)] for row in zip(*columns, strict=True)]
    info = {
        "object": OBJECT,
        "codes": [str(c) for c in munis_map["code"]],
        "tipLabels": [label(f) for f in _TIP_FIELDS],
        "tips": tips,
        "levelLabels": {lv: LEVEL_JA[lv] for lv in ("homecare", "secondary", "tertiary")},
        "statusLabel": label("status"),
        "borders": {lv: list(BORDER_STYLE[lv]) for lv in BORDER_STYLE},
        "borderLevels": _BORDER_ORDER,
        "layerNames": {
            "fill": "圏域の塗り（市町村）",
            "labels": "圏域名",
            "hubs": HUB_LABEL,
            **{lv: f"{LEVEL_JA.get(lv, '市町村')}の境界" for lv in BORDER_STYLE},
        },
        "bounds": [[miny, minx], [maxy, maxx]],
        "facilities": facility_layers(munis_map["code"]) if facilities else [],
        "facilityQuantum": FACILITY_QUANTUM,
        "hubStyle": HUB_STYLE,
    }
    topology = _topology(munis_map)
    digest = hashlib.sha1(json.dumps([topology, info["codes"], info["bounds"]]).encode("utf-8")).hexdigest()[:16]
    return MapBase(topology, info, pd.Index(munis_map["code"].astype(str)), (minx, miny, maxx, maxy), far, digest)


def _ids(base: MapBase, plan: Plan, level: str) -> tuple[list[int], list[str]]:
    """Per municipality of the base, the index of its area at `level` in the returned names (-1: none)."""
    table = plan.table
    names = pd.unique(table[level].dropna().astype(str)).tolist()
    of = pd.Series(table[level].to_numpy(dtype=object), index=table["code"].astype(str))
    area = of.reindex(base.codes)
    idx = pd.Index(names).get_indexer(area.astype(object).where(area.notna(), None))
    return [int(i) for i in idx], [str(n) for n in names]


def _text(value: object) -> str | None:
    return None if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) else str(value)


def hub_markers(hubs: pd.DataFrame) -> tuple[list[dict[str, Any]], int]:
    """The located hubs of `hubs` (`core.hubs.hub_points`) as the renderer's markers, and how many named
    hubs have no known location (each hub once, however many areas it serves: as the print map counts).

    One marker per hub and place, with the home-care areas it serves (とかち's one hub serves four):
    name, areas, lat, lon (degrees, as hub_points gives them), `by` ("facility" | "point") and, for a
    facility, its name and kind as people read them. Names are data: JSON only, written as text.
    """
    located = hubs[hubs["lat"].notna() & hubs["lon"].notna()]
    unknown = hubs[hubs["lat"].isna() | hubs["lon"].isna()]
    unlocated = len(unknown[["hub", "hub_facility"]].astype(str).drop_duplicates())
    markers: dict[tuple[object, ...], dict[str, Any]] = {}
    for row in located.itertuples(index=False):
        name, by = str(row.hub), str(row.located_by)
        key = (name, float(row.lat), float(row.lon), by)
        if key in markers:
            markers[key]["areas"].append(str(row.homecare))
            continue
        marker: dict[str, Any] = {"name": name, "areas": [str(row.homecare)], "lat": key[1], "lon": key[2], "by": by}
        if by == "facility":
            kind = _text(row.facility_kind)
            marker["facility"] = _text(row.facility_name)
            marker["kind"] = KIND_LABELS.get(kind, kind) if kind is not None else None
        markers[key] = marker
    return list(markers.values()), unlocated


def map_state(
    base: MapBase,
    plan: Plan,
    areas: gpd.GeoDataFrame,
    *,
    level: str,
    metric: str,
    title: str | None = None,
    highlight_codes: Iterable[str] = (),
    focus: Iterable[str] = (),
    credits: list[str] | None = None,
    serial: str = "",
    hubs: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The state the renderer applies: small (no geometry), built in milliseconds per plan view.

    `areas`: the `level` areas with their figures (live or dissolved) and shapes (for the label
    points); `focus`: areas whose labels come first (the ones just edited), so they are the
    last to give way when labels crowd. `hubs` (`core.hubs.hub_points` of `plan`): its hubs,
    looked up here when not given (`io.plans.plan_hub_points`: pass them when they are at hand,
    the facility lookup costs a few tenths of a second). A plan that names no hub gets a state
    without any hub key, the same as before hubs existed.
    """
    if metric not in MAP_METRICS:
        raise ValueError(f"unknown metric {metric}")
    m_def: Metric = REGISTRY[metric]
    ids, names = {}, {}
    for lv in ("tertiary", "secondary", "homecare"):
        ids[lv], names[lv] = _ids(base, plan, lv)
    by_name = areas.set_index(areas["area"].astype(str))
    values = by_name[metric].reindex(names[level])
    bins = class_breaks(values.tolist(), k=5)
    fill = [colour_of(v, bins) for v in values.tolist()]
    hatch = [int(s == UNCONFIRMED) for s in by_name["status"].reindex(names[level]).tolist()]
    status = plan.table.set_index(plan.table["code"].astype(str))["status"].reindex(base.codes)
    status_names = pd.unique(status.dropna().astype(str)).tolist()
    status_ids = pd.Index(status_names).get_indexer(status.astype(object).where(status.notna(), None))

    pts = shapely.point_on_surface(np.asarray(areas.geometry.values, dtype=object))
    first = set(focus)
    rows = [
        {"name": str(a), "value": m_def.format(v), "lat": round(float(p.y), 5), "lon": round(float(p.x), 5)}
        for a, v, p in zip(areas["area"], areas[metric], pts, strict=True)
        if p is not None and not shapely.is_empty(p)
    ]
    pops = dict(zip(areas["area"].astype(str), areas["population"], strict=True))
    rows.sort(key=lambda d: (d["name"] not in first, -(float(pops[d["name"]]) if pd.notna(pops[d["name"]]) else 0.0)))

    legend: list[dict[str, object]] = [
        {"colour": c, "text": legend_text(i, bins, m_def)} for i, c in enumerate(legend_colours(bins))
    ]
    if any(hatch):
        legend.append({"colour": "#fff", "hatch": True, "text": "未確定の圏域"})
    if hubs is None:
        from geo_app.io.plans import plan_hub_points

        hubs = plan_hub_points(plan)
    markers, unlocated = hub_markers(hubs)
    notes: list[str] = []
    if markers:
        legend.append({"hub": True, "text": HUB_LABEL})
    if unlocated:
        notes.append(f"場所の分からない拠点{unlocated}か所は地図に描いていません")
    assigned = int((np.asarray(ids[level]) >= 0).sum())
    population = REGISTRY["population"].format(total(areas).get("population"))  # unknown stays unknown
    head = [f"{LEVEL_JA[level]} {len(areas)}圏域・市町村 {assigned}・人口 {population}"]
    if base.far_islands:
        head.append("遠くの離島は最初の表示範囲の外です（地図を縮小すると表示されます）")
    boxes: list[dict[str, Any]] = [
        {
            "position": "bottomright",
            "cls": "geoapp-legend",
            "title": f"{LEVEL_JA[level]}の{m_def.label}",
            "swatches": legend,
            "lines": ["境界線: 太=三次医療圏 中=二次医療圏 細=在宅医療圏 極細=市町村"],
            **({"notes": notes} if notes else {}),
        },
        {
            "position": "topleft",
            "cls": "geoapp-head",
            "title": title or f"{plan.title}　{LEVEL_JA[level]}",
            "lines": head,
        },
    ]
    if credits:
        boxes.append({"position": "bottomleft", "cls": "geoapp-credit", "lines": list(credits)})
    highlight = [int(i) for i in base.codes.get_indexer(list(highlight_codes)) if i >= 0]
    state: dict[str, Any] = {
        "serial": serial,
        "level": level,
        "ids": ids,
        "names": names,
        "fill": fill,
        "hatch": hatch,
        "statusNames": status_names,
        "status": [int(i) for i in status_ids],
        "labels": rows,
        "boxes": boxes,
        "highlight": highlight,
    }
    if len(hubs):  # only a plan that names a hub: the state of any other is unchanged
        state["hubs"] = markers
        state["hubsUnlocated"] = unlocated
    return state


def folium_base_map(
    base: MapBase, *, basemap: str = "none", height: str | int = "100%"
) -> tuple[folium.Map, folium.TopoJson]:
    """folium's map of the municipalities: controls, tiles and the TopoJson layer, no plan at all."""
    import folium

    minx, miny, maxx, maxy = base.view_bounds
    fmap = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=7,
        tiles=None,
        control_scale=False,  # folium's scale shows miles too; a metric-only one is added below
        zoom_control=False,  # Leaflet's own says "Zoom in"; a Japanese one is added below
        height=height,
        zoom_snap=0.25,
        zoom_delta=0.5,
    )
    # L.control.scale({imperial: false}); no `position=`: folium 0.20's Control then passes the list
    # of positions as arguments instead of the options (the miles came back)
    folium.Control("Scale", imperial=False).add_to(fmap)
    folium.Control("Zoom", zoomInTitle="拡大", zoomOutTitle="縮小").add_to(fmap)
    fmap.add_child(_MapScript(_JAPANESE_CONTROLS_JS))
    # no folium fit_bounds: the renderer fits without animation or restores the user's view (render.js attach)
    root = fmap.get_root()
    assert isinstance(root, Figure)
    root.header.add_child(Element(f"<style>{MAP_CSS}</style>"), name="geoapp_css")
    if basemap == "gsi_pale":
        folium.TileLayer(GSI_PALE, attr=GSI_ATTR, name="地理院タイル 淡色地図", max_zoom=18, min_zoom=2).add_to(fmap)
    layer = folium.TopoJson(base.topology, f"objects.{OBJECT}", name="市町村", control=False)
    layer.add_to(fmap)
    return fmap, layer


class _MapScript(MacroElement):
    """A piece of script run on the map (no data)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "(function(map){ {{ this.code }} })({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )

    def __init__(self, code: str):
        super().__init__()
        self._name = "GeoAppMapScript"
        self.code = code


class LiveScript(MacroElement):
    """The standalone map's call of the renderer: attach to folium's layer, apply one state.

    Data goes in as `script_json` (inert in any number of Jinja renders, see views.jsdata)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
GeoAppLive.apply(
  GeoAppLive.attach({{ this._parent.get_name() }}, {{ this.layer }}, {{ this.layer }}_data, {{ this.info_json }}),
  {{ this.state_json }}
);
{% endmacro %}"""
    )

    def __init__(self, layer: folium.TopoJson, info: Mapping[str, Any], state: Mapping[str, Any]):
        super().__init__()
        self._name = "GeoAppLive"
        self.layer = layer.get_name()
        self.info_json = script_json(info)
        self.state_json = script_json(state)
