"""Folium maps of a plan: choropleth of areas, borders by level, labels, legend, tooltips.

A view over the core: it takes municipalities and a plan and draws them.

User text is data. Everything a user may have typed (area, municipality, plan, hub names) reaches
the page only as JSON that the page's own script reads and writes with `textContent`, never as
HTML and never through a template engine: branca renders every element's output again as a
Jinja template (`Element(rendered_text)`), so a name such as `{{ 7*7 }}` would be evaluated, and
`{#` would swallow the script up to the next `#}`. Hence two rules: folium/branca elements (the
GeoJSON layers) carry no user text at all, only colours, codes and row numbers; and the one JSON
channel (`_script_json`) escapes every character that could open a Jinja tag or close the
<script> (`{ } % # < > &`) as a `\\uXXXX` escape inside string literals, which JavaScript reads
back as the same text while no template engine sees a delimiter. We chose this over escaping
for Jinja (`{% raw %}`) because the text passes through an unknown number of renders (two in
folium's HTML, more in streamlit-folium), and JSON escapes are inert in all of them.
The map needs no network: `standalone_html` inlines Leaflet from the package.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from geo_app.core.dissolve import assign, dissolve
from geo_app.core.geometry import BorderPieces, border_pieces, classify_borders, grouped_coverage_union
from geo_app.core.metrics import MAP_METRICS, Metric, label
from geo_app.core.metrics import METRICS as REGISTRY
from geo_app.core.plan import LEVEL_JA, LEVELS, UNCONFIRMED, Level, Plan
from geo_app.core.tally import total
from geo_app.io.provenance import credits as source_credits
from geo_app.views.assets import leaflet_css, leaflet_js

__all__ = [
    "METRICS",
    "BASEMAPS",
    "walk_elements",
    "Metric",
    "class_breaks",
    "area_map",
    "standalone_html",
    "make_offline",
    "map_layers",
    "MapLayers",
    "plan_area_ids",
]


#: The figures a map can be coloured by: registry entries (`core.metrics`), in the order offered.
METRICS: dict[str, Metric] = {k: REGISTRY[k] for k in MAP_METRICS}

GSI_PALE = "https://cyberjapandata.gsi.go.jp/xyz/pale/{z}/{x}/{y}.png"
GSI_ATTR = '<a href="https://maps.gsi.go.jp/development/ichiran.html" target="_blank">地理院タイル</a>（淡色地図）'
#: Basemap choices: "none" works offline; 地理院タイル needs the network.
BASEMAPS = {"none": "背景地図なし（オフライン）", "gsi_pale": "地理院タイル 淡色地図"}

PALETTE = ["#fff5eb", "#fdd0a2", "#fdae6b", "#f16913", "#a63603", "#6b2102", "#3d1301"]
BORDER_STYLE = {  # level → (colour, weight): tertiary thick … municipality hairline
    "tertiary": ("#111111", 4.0),
    "secondary": ("#333333", 2.4),
    "homecare": ("#555555", 1.2),
    "municipality": ("#888888", 0.4),
}


def class_breaks(values: Iterable[float], k: int = 5) -> list[float]:
    """Upper bounds of k classes (Fisher–Jenks via mapclassify); fewer when values are few."""
    v = np.asarray([x for x in values if x is not None and not pd.isna(x)], dtype=float)
    if v.size == 0:
        return []
    k = max(1, min(k, len(np.unique(v))))
    if k == 1:
        return [float(v.max())]
    return [float(b) for b in mapclassify.FisherJenks(v, k=k).bins]


def _colour(value: float | None, bins: list[float]) -> str:
    if value is None or pd.isna(value) or not bins:
        return "#dddddd"
    idx = int(np.searchsorted(bins, value, side="left"))
    palette = PALETTE[1 : len(bins) + 1] if len(bins) < len(PALETTE) else PALETTE
    return palette[min(idx, len(palette) - 1)]


@dataclass
class MapLayers:
    """What a map draws: assigned municipalities and the areas of each level (all EPSG:6668)."""

    municipalities: gpd.GeoDataFrame
    areas: dict[str, gpd.GeoDataFrame]
    borders: dict[str, object]  # level → lines not already drawn by a coarser level


def map_layers(
    munis: gpd.GeoDataFrame,
    plan: Plan,
    *,
    simplify_tolerance: float | None = None,
    areas: Mapping[str, gpd.GeoDataFrame] | None = None,
    pieces: BorderPieces | None = None,
    assigned: gpd.GeoDataFrame | None = None,
) -> MapLayers:
    """Dissolve every level once (unless `areas` are given: kept live by an editor, or computed
    once by `geo-app build` for every file), optionally from a topology-preserving simplified coverage.

    With a simplification, given areas keep their figures and take their shapes from their
    simplified members (a geometry-only union, no counts), so that fills meet the simplified
    borders exactly; `assigned` (`assign(munis, plan)`) likewise keeps its rows and takes the
    simplified shapes.

    Border lines come from `pieces` (every stretch of municipal border, computed once per set of
    municipalities; pass them in when drawing many plans on the same municipalities): a plan
    only decides the level of each stretch, so no linework is unioned per plan.
    """
    simplified = False
    if simplify_tolerance and munis.attrs.get("coverage_valid", True):  # needs a valid coverage
        munis = munis.copy()
        munis["geometry"] = shapely.coverage_simplify(munis.geometry.values, simplify_tolerance, simplify_boundary=True)
        simplified = True
    if assigned is None:
        assigned = assign(munis, plan)
    elif simplified:
        shapes = np.asarray(munis.geometry.values, dtype=object)[pd.Index(munis["code"]).get_indexer(assigned["code"])]
        assigned = assigned.set_geometry(gpd.GeoSeries(shapes, index=assigned.index, crs=assigned.crs))
    if not areas:
        areas = {lv: dissolve(munis, plan, lv) for lv in LEVELS}
    elif simplified:
        areas = {lv: _member_shapes(a, assigned, lv) for lv, a in areas.items()}
    pieces = pieces if pieces is not None else border_pieces(munis.geometry.values)
    order = ["tertiary", "secondary", "homecare"]
    lines = classify_borders(pieces, plan_area_ids(munis, plan, order))
    return MapLayers(assigned, dict(areas), dict(zip([*order, "municipality"], lines, strict=True)))


def _member_shapes(areas: gpd.GeoDataFrame, assigned: gpd.GeoDataFrame, level: str) -> gpd.GeoDataFrame:
    """`areas` with each shape the union of its members' shapes in `assigned` (none: no shape)."""
    members = assigned[assigned[level].notna()]
    keys, unions = grouped_coverage_union(
        members.geometry.values,
        members[level].to_numpy(dtype=object),
        coverage=bool(assigned.attrs.get("coverage_valid", True)),
    )
    shape = dict(zip(keys, unions, strict=True))
    return areas.set_geometry(gpd.GeoSeries([shape.get(a) for a in areas["area"]], index=areas.index, crs=areas.crs))


def plan_area_ids(munis: pd.DataFrame, plan: Plan, levels: list[str]) -> list[np.ndarray]:
    """Per municipality row, an integer id of its area at each level (-1: not in the plan)."""
    pos = pd.Index(plan.table["code"]).get_indexer(munis["code"])
    out = []
    for lv in levels:
        ids = pd.factorize(plan.table[lv].to_numpy(dtype=object))[0]  # missing names → -1
        out.append(np.where(pos >= 0, ids[np.maximum(pos, 0)], -1))
    return out


def _round_coords(geoms: np.ndarray, decimals: int = 4) -> np.ndarray:
    """~10 m precision, ample at prefecture and city zoom.

    Shared vertices round identically, so shared borders stay shared.
    """
    return shapely.transform(geoms, lambda c: np.round(c, decimals))


def _features(gdf: gpd.GeoDataFrame, props: pd.DataFrame, decimals: int = 4) -> dict:
    """A GeoJSON FeatureCollection (lon/lat: JGD2011 and WGS84 agree to well under a metre) with `props`.

    Geometry is written by GEOS in one vectorised call (`shapely.to_geojson`); building the
    features through GeoDataFrame.to_json costs several times more for the same text.
    Properties are folium's to render, so they must hold no user text (see the module docstring):
    only numbers and tokens such as colours, codes and keys pass.
    """
    for col in props.columns:
        if props[col].dtype.kind not in "biuf" and not props[col].astype(str).str.fullmatch(r"[#0-9A-Za-z_]*").all():
            raise ValueError(f"map layer property {col!r} holds free text; pass it through _Script JSON instead")
    geometry = shapely.to_geojson(_round_coords(np.asarray(gdf.geometry.values, dtype=object), decimals))
    records = json.loads(props.reset_index(drop=True).to_json(orient="records", force_ascii=False))
    body = ",".join(
        f'{{"type":"Feature","properties":{json.dumps(r, ensure_ascii=False)},"geometry":{g}}}'
        for r, g in zip(records, geometry, strict=True)
    )
    return json.loads(f'{{"type":"FeatureCollection","features":[{body}]}}')


_INERT = str.maketrans({c: f"\\u{ord(c):04x}" for c in "{}%#<>&\u2028\u2029"})
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _script_json(data: object) -> str:
    """JSON that stays data inside <script> and through any number of Jinja renders.

    Inside string literals, `{ } % #` (Jinja delimiters), `< > &` (could close the <script> or
    start markup) and the line separators U+2028/9 become `\\uXXXX` escapes; JSON's own braces
    never form a delimiter (`{{`, `{%`, `{#` cannot occur outside a string in JSON).
    """
    text = json.dumps(data, ensure_ascii=False)
    return _JSON_STRING.sub(lambda m: m.group(0).translate(_INERT), text)


class _Script(MacroElement):
    """A piece of the map's own script, with data passed as JSON (never as HTML)."""

    # On a map the code runs at once. In a FeatureGroup (area_map(groups=...), for streamlit-folium's
    # feature_group_to_add) it runs each time the group is added to a map, and whatever it put on
    # the map (labels, legend boxes) is taken off again when the group is removed or replaced.
    _template = Template(
        """{% macro script(this, kwargs) %}
(function(target, data){
  var undo = [];
  function onRemove(fn){ undo.push(fn); }
  function run(map){ (function(map, data, onRemove){ {{ this.code }} })(map, data, onRemove); }
  if (target instanceof L.Map) { run(target); }
  else {
    target.on('add', function(){ run(target._map); });
    target.on('remove', function(){ undo.splice(0).forEach(function(f){ f(); }); });
  }
})({{ this._parent.get_name() }}, {{ this.data_json }});
{% endmacro %}"""
    )

    def __init__(self, code: str, data: object):
        super().__init__()
        self._name = "GeoAppScript"
        self.code = code
        self.data_json = _script_json(data)


_CSS = """
.geoapp-label{background:none;border:none;white-space:nowrap;text-align:center;font:600 12px/1.25 'Noto Sans CJK JP','Hiragino Sans','Yu Gothic',sans-serif;color:#111;text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 2px #fff;pointer-events:none}
.geoapp-label .pop{font-weight:400;font-size:11px}
.geoapp-label-box{transform:translate(-50%,-50%)}
.geoapp-box{background:rgba(255,255,255,.92);padding:6px 9px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.35);font:12px/1.4 'Noto Sans CJK JP',sans-serif;color:#111}
.geoapp-title{font-size:16px;font-weight:700}
.geoapp-legend i{display:inline-block;width:18px;height:12px;margin-right:6px;vertical-align:middle;border:1px solid #999}
.geoapp-credit{font-size:10px;max-width:460px}
.geoapp-tip table{border-collapse:collapse}.geoapp-tip th{text-align:left;padding-right:8px;font-weight:600}
path.geoapp-hatch{fill:url(#geoapp-hatch)!important;fill-opacity:1!important}
.leaflet-container{background:#f4f7fa}
"""  # noqa: E501

_JS_HELPERS = """
function el(tag, cls, text){var e=document.createElement(tag); if(cls){e.className=cls;} if(text!==undefined){e.textContent=text;} return e;}
"""  # noqa: E501

_LABELS_JS = (
    _JS_HELPERS
    + """
var group = L.layerGroup();
data.labels.forEach(function(d){
  var box = el('div', 'geoapp-label-box'); box.appendChild(el('div', 'name', d.name)); box.appendChild(el('div', 'pop', d.value));
  L.marker([d.lat, d.lon], {icon: L.divIcon({className: 'geoapp-label', html: box, iconSize: null}), interactive: false, keyboard: false}).addTo(group);
});
group.addTo(map);
map._geoappLabels = group;
// Labels arrive largest area first; one that would overlap a label already shown waits for a closer zoom.
function declutter(){
  var shown = [];
  group.eachLayer(function(layer){
    var e = layer.getElement(); if (!e) { return; }
    e.style.visibility = 'visible';
    var r = e.firstChild.getBoundingClientRect();
    var hit = shown.some(function(p){ return !(r.right < p.left || r.left > p.right || r.bottom < p.top || r.top > p.bottom); });
    if (hit) { e.style.visibility = 'hidden'; e.classList.add('geoapp-label-hidden'); } else { e.classList.remove('geoapp-label-hidden'); shown.push(r); }
  });
}
map.on('zoomend moveend resize', declutter);
map.whenReady(function(){ setTimeout(declutter, 0); });
onRemove(function(){ map.off('zoomend moveend resize', declutter); map.removeLayer(group); });
"""  # noqa: E501
)

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

_BOXES_JS = (
    _JS_HELPERS
    + """
data.boxes.forEach(function(b){
  var ctl = L.control({position: b.position});
  ctl.onAdd = function(){
    var div = el('div', 'geoapp-box ' + b.cls);
    if (b.title) { div.appendChild(el('div', 'geoapp-title', b.title)); }
    (b.lines || []).forEach(function(t){ div.appendChild(el('div', '', t)); });
    (b.swatches || []).forEach(function(s){ var row = el('div'); var i = el('i'); i.style.background = s.colour; if (s.hatch) { i.style.background = 'repeating-linear-gradient(45deg,#555 0 2px,#fff 2px 6px)'; } row.appendChild(i); row.appendChild(document.createTextNode(s.text)); div.appendChild(row); });
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  ctl.addTo(map);
  onRemove(function(){ ctl.remove(); });
});
if (!document.getElementById('geoapp-hatch')) {
  var ns = 'http://www.w3.org/2000/svg';
  var svg = document.createElementNS(ns, 'svg'); svg.setAttribute('width', '0'); svg.setAttribute('height', '0'); svg.style.position = 'absolute';
  var pat = document.createElementNS(ns, 'pattern'); pat.setAttribute('id', 'geoapp-hatch'); pat.setAttribute('patternUnits', 'userSpaceOnUse');
  pat.setAttribute('width', '8'); pat.setAttribute('height', '8'); pat.setAttribute('patternTransform', 'rotate(45)');
  var line = document.createElementNS(ns, 'line'); line.setAttribute('x1', '0'); line.setAttribute('y1', '0'); line.setAttribute('x2', '0'); line.setAttribute('y2', '8');
  line.setAttribute('stroke', '#333'); line.setAttribute('stroke-width', '2'); line.setAttribute('stroke-opacity', '0.55');
  pat.appendChild(line); svg.appendChild(pat); document.body.appendChild(svg);
}
"""  # noqa: E501
)

# The municipality layer's features carry only their code and row number; the tooltip's rows
# (names typed by users) come from the JSON that `_TIPS_JS` registers, read when the tooltip opens.
_TOOLTIP_JS = """function(feature, layer){
  layer.bindTooltip(function(){
    var rows = ((window.geoappTips || {})[feature.properties.tips] || [])[feature.properties.i] || [];
    var t = document.createElement('table');
    rows.forEach(function(r){ var tr = document.createElement('tr'); var th = document.createElement('th'); th.textContent = r[0]; var td = document.createElement('td'); td.textContent = r[1]; tr.appendChild(th); tr.appendChild(td); t.appendChild(tr); });
    var box = document.createElement('div'); box.appendChild(t); return box;
  }, {sticky: true, className: 'geoapp-tip'});
}"""  # noqa: E501

_TIPS_JS = """
window.geoappTips = window.geoappTips || {};
window.geoappTips[data.key] = data.rows;
onRemove(function(){ delete window.geoappTips[data.key]; });
"""

_HATCH_EACH_JS = """function(feature, layer){
  layer.on('add', function(){ if (layer._path) { layer._path.classList.add('geoapp-hatch'); } });
}"""


_TIP_FIELDS = ("name", "code", "population", "aging_rate", "homecare", "secondary", "tertiary", "status")


def _muni_rows(assigned: pd.DataFrame) -> list[list[list[str]]]:
    """Tooltip rows (label, text) per municipality: labels and formats from the registry."""
    rows = []
    for r in assigned.itertuples(index=False):  # attribute rows for tooltips, not geometry work
        rows.append(
            [
                [label(f), REGISTRY[f].format(getattr(r, f, None)) if f in REGISTRY else str(getattr(r, f))]
                for f in _TIP_FIELDS
            ]
        )
    return rows


def area_map(
    munis: gpd.GeoDataFrame,
    plan: Plan,
    *,
    level: Level = "homecare",
    metric: str = "population",
    basemap: str = "none",
    title: str | None = None,
    layers: MapLayers | None = None,
    simplify_tolerance: float | None = None,
    highlight_codes: Iterable[str] = (),
    labels: bool = True,
    credits: bool = True,
    height: str | int = "100%",
    groups: list[folium.FeatureGroup] | None = None,
    view_bounds: tuple[float, float, float, float] | None = None,
) -> folium.Map:
    """A choropleth of `level` areas coloured by `metric`, with all borders, labels and tooltips.

    `groups`: when a list is given, everything that depends on the plan (fills, hatching,
    municipalities, borders, labels, legend and title) goes into new FeatureGroups appended to
    it, and the returned map keeps only what does not (basemap, bounds, styles), with no layer
    control. The app passes them to streamlit-folium (`feature_group_to_add`, `layer_control`)
    so that an edit swaps the layers without reloading the map or losing the user's view.
    `view_bounds` (lon/lat) is the first view; by default the print map's main land (far
    islands aside), which depends only on the municipalities, so callers drawing many plans
    pass it in.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric}")
    layers = layers or map_layers(munis, plan, simplify_tolerance=simplify_tolerance)
    areas = layers.areas[level]
    m_def = METRICS[metric]
    if view_bounds is None:
        from geo_app.views.extent import (
            main_view_bounds,
        )  # far islands (小笠原, 奄美) would shrink the first view to a dot

        view_bounds = main_view_bounds(layers.municipalities)
    minx, miny, maxx, maxy = view_bounds
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
    # L.control.scale({imperial: false}) at Leaflet's bottom left; no `position=`: folium 0.20's Control
    # then passes the list of positions as arguments instead of the options (the miles came back)
    folium.Control("Scale", imperial=False).add_to(fmap)
    folium.Control("Zoom", zoomInTitle="拡大", zoomOutTitle="縮小").add_to(fmap)
    fmap.add_child(_Script(_JAPANESE_CONTROLS_JS, {}))
    fmap.fit_bounds([[miny, minx], [maxy, maxx]], padding=(24, 24))
    _root(fmap).header.add_child(Element(f"<style>{_CSS}</style>"), name="geoapp_css")

    def target(name: str, control: bool = True) -> folium.Map | folium.FeatureGroup:
        if groups is None:
            return fmap
        group = folium.FeatureGroup(name=name, control=control)
        groups.append(group)
        return group

    if basemap == "gsi_pale":
        folium.TileLayer(GSI_PALE, attr=GSI_ATTR, name="地理院タイル 淡色地図", max_zoom=18, min_zoom=2).add_to(fmap)

    bins = class_breaks(areas[metric], k=5)
    fill = [_colour(v, bins) for v in areas[metric].tolist()]
    fill_props = pd.DataFrame({"fill": fill})  # no names in folium's layers (see the module docstring)
    folium.GeoJson(
        _features(areas, fill_props),
        name=f"{LEVEL_JA[level]}（{m_def.label}）",
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "fillOpacity": 0.75,
            "color": "#555",
            "weight": 0,
            "opacity": 0,
        },
        interactive=False,
    ).add_to(target(f"{LEVEL_JA[level]}（{m_def.label}）"))

    unconfirmed = areas[areas["status"] == UNCONFIRMED]
    if len(unconfirmed):
        folium.GeoJson(
            _features(unconfirmed, pd.DataFrame({"unconfirmed": np.ones(len(unconfirmed), dtype=int)})),
            name="未確定の圏域（斜線）",
            style_function=lambda f: {"fillColor": "#333", "fillOpacity": 0.35, "weight": 0},
            on_each_feature=folium.JsCode(_HATCH_EACH_JS),
            interactive=False,
        ).add_to(target("未確定の圏域（斜線）"))

    assigned = layers.municipalities
    tips_key = f"t{uuid.uuid4().hex[:12]}"  # one table per drawn layer; a swapped layer drops its own
    muni_props = pd.DataFrame({"code": assigned["code"].astype(str), "i": np.arange(len(assigned)), "tips": tips_key})
    highlight = set(highlight_codes)
    muni_style = lambda f: {  # noqa: E731  (borders come from the line layers below)
        "color": "#d40000",
        "weight": 3 if f["properties"]["code"] in highlight else 0,
        "fillOpacity": 0.0,
        "fillColor": "#000",
    }
    folium.GeoJson(
        _features(assigned, muni_props),
        name="市町村",
        style_function=muni_style,
        highlight_function=lambda f: {"weight": 2.5, "color": "#0050d4", "fillOpacity": 0.08},
        on_each_feature=folium.JsCode(_TOOLTIP_JS),
    ).add_to(muni_target := target("市町村"))
    muni_target.add_child(_Script(_TIPS_JS, {"key": tips_key, "rows": _muni_rows(assigned)}))

    for lv, name in (
        ("municipality", "市町村"),
        *((lv, LEVEL_JA[lv]) for lv in ("homecare", "secondary", "tertiary")),
    ):
        colour, weight = BORDER_STYLE[lv]  # drawn thin to thick, thick on top
        lines = gpd.GeoDataFrame({"level": [lv]}, geometry=[layers.borders[lv]], crs=assigned.crs)
        folium.GeoJson(
            _features(lines, lines[["level"]]),
            name=f"{name}の境界",
            style_function=lambda f, colour=colour, weight=weight: {"color": colour, "weight": weight, "opacity": 0.9},
            interactive=False,
        ).add_to(target(f"{name}の境界"))

    control = folium.LayerControl(collapsed=True)
    if labels:
        pts = shapely.point_on_surface(areas.geometry.values)
        label_data: list[dict[str, Any]] = [
            {
                "name": str(a),
                "value": m_def.format(v),
                "lat": float(p.y),
                "lon": float(p.x),
                "rank": float(r) if pd.notna(r) else 0.0,
            }
            for a, v, p, r in zip(areas["area"], areas[metric], pts, areas["population"], strict=True)
        ]
        label_data.sort(key=lambda d: -d["rank"])
        target("圏域名").add_child(_Script(_LABELS_JS, {"labels": label_data}))

    legend: list[dict[str, object]] = [
        {"colour": col, "text": _legend_text(i, bins, m_def)} for i, col in enumerate(_legend_colours(bins))
    ]
    if len(unconfirmed):
        legend.append({"colour": "#fff", "hatch": True, "text": "未確定の圏域"})
    boxes = [
        {
            "position": "bottomright",
            "cls": "geoapp-legend",
            "title": f"{LEVEL_JA[level]}の{m_def.label}",
            "swatches": legend,
            "lines": ["境界線: 太=三次医療圏 中=二次医療圏 細=在宅医療圏 極細=市町村"],
        }
    ]
    population = total(areas).get("population")  # unknown stays unknown
    head = [
        f"{LEVEL_JA[level]} {len(areas)}圏域・市町村 {len(assigned)}・人口 {REGISTRY['population'].format(population)}"
    ]
    parts = shapely.get_parts(np.asarray(assigned.geometry.values, dtype=object))
    if not shapely.intersects(parts, shapely.box(minx, miny, maxx, maxy)).all():  # a whole island outside
        head.append("遠くの離島は最初の表示範囲の外です（地図を縮小すると表示されます）")
    boxes.append(
        {
            "position": "topleft",
            "cls": "geoapp-head",
            "title": title or f"{plan.title}　{LEVEL_JA[level]}",
            "lines": head,
        }
    )
    if credits:
        boxes.append({"position": "bottomleft", "cls": "geoapp-credit", "lines": source_credits(munis, plan).all()})
    target("凡例", control=False).add_child(_Script(_BOXES_JS, {"boxes": boxes}))
    if groups is None:
        control.add_to(fmap)
    return fmap


def _legend_colours(bins: list[float]) -> list[str]:
    return [_colour(b, bins) for b in bins]


def _legend_text(i: int, bins: list[float], m: Metric) -> str:
    lo = None if i == 0 else bins[i - 1]
    hi = bins[i]
    return f"〜 {m.format(hi)}" if lo is None else f"{m.format(lo)} 〜 {m.format(hi)}"


def _leaflet_data_url() -> str:
    import base64

    return "data:text/javascript;base64," + base64.b64encode(leaflet_js().encode("utf-8")).decode("ascii")


def walk_elements(el: Any) -> Iterator[Any]:
    """A folium map and every element below it. branca keeps children in `_children` and offers
    no public way to list them; this is the one place that reads it."""
    yield el
    for child in list(getattr(el, "_children", {}).values()):
        yield from walk_elements(child)


def make_offline(fmap: folium.Map, *, script: str = "inline") -> folium.Map:
    """Drop folium's CDN links (Leaflet, jQuery, Bootstrap, …) and use the packaged Leaflet.

    script="inline" puts Leaflet in a <script> in the page head (a standalone HTML file);
    script="data-url" lists it as the map's only script link, as a data: URL, for hosts that
    load a map's links themselves and insert its head as innerHTML, where an inline <script>
    would never run (streamlit-folium).
    """

    for el in walk_elements(fmap):
        if hasattr(el, "default_js"):
            el.default_js = []
        if hasattr(el, "default_css"):
            el.default_css = []
    header = _root(fmap).header
    header.add_child(Element(f"<style>{leaflet_css()}</style>"), name="leaflet_css_inline", index=0)
    if script == "data-url":
        fmap.default_js = [("leaflet", _leaflet_data_url())]
    else:
        header.add_child(Element(f"<script>{leaflet_js()}</script>"), name="leaflet_js_inline", index=1)
    return fmap


def _root(fmap: folium.Map) -> Figure:
    """The HTML document of a map (branca types `get_root` as any Element)."""
    root = fmap.get_root()
    assert isinstance(root, Figure)
    return root


def standalone_html(fmap: folium.Map, *, title: str = "在宅医療圏マップ") -> str:
    """One HTML file that opens with no network (meeting rooms): all scripts and styles inline."""
    make_offline(fmap)
    root = _root(fmap)
    root.title = None  # branca would write the title unescaped
    text = root.render()
    return text.replace("<head>", f'<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>', 1)
