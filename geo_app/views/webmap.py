"""The standalone HTML map of a plan (views): folium's base map, the municipalities as a topology,
and one state applied by the packaged renderer (views.livemap, static/livemap/render.js).

User text is data. Everything a user may have typed (area, municipality, plan, hub names) reaches
the page only as JSON that the page's own script reads and writes with `textContent`, never as
HTML and never through a template engine (views.jsdata explains the escaping). folium's layers
carry no user text: the TopoJson layer holds geometry only.
The map needs no network: `standalone_html` inlines Leaflet, topojson-client and the renderer.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
from branca.element import Element, Figure

from geo_app.core.dissolve import dissolve
from geo_app.core.metrics import MAP_METRICS, Metric
from geo_app.core.metrics import METRICS as REGISTRY
from geo_app.core.plan import Level, Plan
from geo_app.io.provenance import credits as source_credits
from geo_app.views.assets import leaflet_css, leaflet_js, livemap_js, topojson_js
from geo_app.views.classes import class_breaks
from geo_app.views.livemap import LiveScript, MapBase, folium_base_map, map_base, map_geometry, map_state

__all__ = [
    "METRICS",
    "BASEMAPS",
    "walk_elements",
    "Metric",
    "class_breaks",
    "area_map",
    "standalone_html",
    "make_offline",
    "drop_cdn_links",
]


#: The figures a map can be coloured by: registry entries (`core.metrics`), in the order offered.
METRICS: dict[str, Metric] = {k: REGISTRY[k] for k in MAP_METRICS}
#: Basemap choices: "none" works offline; 地理院タイル needs the network.
BASEMAPS = {"none": "背景地図なし（オフライン）", "gsi_pale": "地理院タイル 淡色地図"}


def area_map(
    munis: gpd.GeoDataFrame,
    plan: Plan,
    *,
    level: Level = "homecare",
    metric: str = "population",
    basemap: str = "none",
    title: str | None = None,
    areas: gpd.GeoDataFrame | None = None,
    simplify_tolerance: float | None = None,
    highlight_codes: Iterable[str] = (),
    credits: bool = True,
    height: str | int = "100%",
    view_bounds: tuple[float, float, float, float] | None = None,
    base: MapBase | None = None,
    hubs: pd.DataFrame | None = None,
) -> folium.Map:
    """A choropleth of `level` areas coloured by `metric`, with every level's borders, labels,
    tooltips, legend and title: folium's base map plus one renderer state (views.livemap).

    `areas`: the `level` areas with their figures (computed once by `geo-app build`); dissolved
    here otherwise. The geometry drawn is the municipalities' coverage, simplified with
    `simplify_tolerance` (topology-preserving, so neighbours still share every border), or `base`
    when the caller has built it (many maps of the same municipalities). `hubs`
    (`core.hubs.hub_points`): the hubs to mark, else looked up by `map_state`.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric}")
    if base is None:
        mine = munis[munis["code"].isin(plan.table["code"])]  # the plan's municipalities only
        base = map_base(map_geometry(mine, simplify_tolerance), view_bounds)
    if areas is None:
        areas = dissolve(munis, plan, level)
    fmap, layer = folium_base_map(base, basemap=basemap, height=height)
    state = map_state(
        base,
        plan,
        areas,
        level=level,
        metric=metric,
        title=title,
        highlight_codes=highlight_codes,
        credits=source_credits(munis, plan).all() if credits else None,
        hubs=hubs,
    )
    fmap.add_child(LiveScript(layer, base.info, state))
    return fmap


def walk_elements(el: Any) -> Iterator[Any]:
    """A folium map and every element below it. branca keeps children in `_children` and offers
    no public way to list them; this is the one place that reads it."""
    yield el
    for child in list(getattr(el, "_children", {}).values()):
        yield from walk_elements(child)


def drop_cdn_links(fmap: folium.Map) -> folium.Map:
    """No element of the map lists a CDN script or style (Leaflet, jQuery, Bootstrap, topojson …):
    whoever shows the map supplies the packaged ones (no request leaves the machine)."""
    for el in walk_elements(fmap):
        if hasattr(el, "default_js"):
            el.default_js = []
        if hasattr(el, "default_css"):
            el.default_css = []
    return fmap


def make_offline(fmap: folium.Map) -> folium.Map:
    """Drop folium's CDN links and inline the packaged Leaflet, topojson-client and the map
    renderer into the page head."""
    drop_cdn_links(fmap)
    header = _root(fmap).header
    header.add_child(Element(f"<style>{leaflet_css()}</style>"), name="leaflet_css_inline", index=0)
    scripts = (("leaflet", leaflet_js()), ("topojson", topojson_js()), ("livemap", livemap_js()))
    for i, (name, code) in enumerate(scripts):
        header.add_child(Element(f"<script>{code}</script>"), name=f"{name}_js_inline", index=i + 1)
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
