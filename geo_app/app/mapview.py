"""The plan on an interactive map inside Streamlit, with no network at all.

The map is a component of our own (`components.declare_component`, a public Streamlit API)
that runs streamlit-folium's packaged frontend; its arguments are built here from folium's
objects with streamlit-folium's public helpers, no private attribute of either is touched.
Why not just `st_folium(area_map(...))` on every run:

* Offline. folium's Map lists CDN links (Leaflet, jQuery, Bootstrap, Font Awesome …) that the
  frontend loads into its iframe as <script src>/<link href>; with no network the map stays
  blank. Here every element's links are dropped; Leaflet's script is handed over as a `data:`
  URL (the frontend loads `js_links` with <script src>, and inline <script> in the header would
  not run) and its CSS (icons inlined) goes into the header as <style>.
* Updates without reloading. `area_map(groups=...)` keeps the map itself (basemap, bounds,
  styles) free of anything plan-dependent and puts the layers into FeatureGroups, which the
  frontend swaps in place: after an edit the colours, borders, labels and legend change while
  the user's zoom and position stay (the component's key comes from the base map's script).
* Speed. Rendering the layers' JSON costs ~0.5–3 s for Hokkaido and `st_folium` renders it on
  every call; the arguments are therefore built once per (plan, options), shared by all
  sessions, and reused on every rerun, so clicking a municipality or changing an unrelated
  widget costs nothing on the map side.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from textwrap import dedent
from typing import Any, cast

import folium
import geopandas as gpd
import streamlit as st
import streamlit.components.v1 as components
from branca.element import MacroElement
from jinja2 import Template

from geo_app.app.workspace import MapCache
from geo_app.core.plan import LEVELS, Level, Plan
from geo_app.views.webmap import MapLayers, area_map, make_offline, map_layers, walk_elements

__all__ = ["offline", "map_args", "show_map", "layers_from_live", "MapCache", "clicked_code", "COMPONENT_NAME"]

RETURNED = ["last_active_drawing"]
COMPONENT_NAME = "folium_map"  # the iframe's title: geo_app.app.mapview.folium_map


@cache
def _component() -> Any:
    """Our map component: streamlit-folium's packaged frontend, declared through the public API."""
    import streamlit_folium

    build = Path(streamlit_folium.__file__).resolve().parent / "frontend" / "build"
    return components.declare_component(COMPONENT_NAME, path=str(build))


def offline(fmap: folium.Map) -> folium.Map:
    """Every CDN link of the map replaced by the packaged Leaflet (no request leaves the machine)."""
    return make_offline(fmap, script="data-url")


class _RefitOnResize(MacroElement):
    """Fit the map to its bounds again when its frame gets its real size, until the user moves it.

    Streamlit may create the map's iframe while it is still hidden (switching pages): Leaflet then
    fits the bounds into a 0×0 box and shows a blank, far-zoomed map. Leaflet follows the frame's
    resize events, so fitting again on 'resize' fixes it; once the user has dragged, zoomed or
    clicked, their view is kept.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
(function(map, bounds){
  var touched = false;
  var c = map.getContainer();
  ['mousedown', 'wheel', 'touchstart', 'keydown'].forEach(function(t){
    c.addEventListener(t, function(){ touched = true; }, {passive: true});
  });
  map.on('resize', function(){
    if (!touched && c.clientWidth > 0 && c.clientHeight > 0) {
      map.fitBounds(bounds, {padding: [24, 24], animate: false});
    }
  });
})({{ this._parent.get_name() }}, {{ this.bounds_json }});
{% endmacro %}"""
    )

    def __init__(self, bounds: list[list[float]]):
        super().__init__()
        self._name = "GeoAppRefit"
        self.bounds_json = json.dumps(bounds)


def layers_from_live(live, munis_map: gpd.GeoDataFrame, plan: Plan, pieces=None) -> MapLayers:
    """MapLayers from a LivePlan's incrementally updated areas (no full dissolve on each edit)
    and border pieces computed once for the data (no linework unioned per edit)."""
    return map_layers(munis_map, plan, areas={lv: live.areas(lv) for lv in LEVELS}, pieces=pieces)


def map_args(
    munis_map: gpd.GeoDataFrame,
    plan: Plan,
    layers: MapLayers,
    *,
    level: str,
    metric: str,
    basemap: str,
    highlight_codes: Iterable[str] = (),
    height: int = 680,
    title: str | None = None,
    key: str = "map",
    view_bounds: tuple[float, float, float, float] | None = None,
) -> dict[str, Any]:
    """The map component's arguments for this plan (what `st_folium` would send, built once)."""
    groups: list[folium.FeatureGroup] = []
    minx, miny, maxx, maxy = (float(v) for v in (view_bounds or munis_map.total_bounds))
    bounds = (minx, miny, maxx, maxy)
    fmap = area_map(
        munis_map,
        plan,
        level=cast(Level, level),
        metric=metric,
        basemap=basemap,
        layers=layers,
        highlight_codes=list(highlight_codes),
        groups=groups,
        title=title,
        credits=False,
        view_bounds=bounds,
    )
    offline(fmap)
    fmap.add_child(_RefitOnResize([[miny, minx], [maxy, maxx]]))
    return _component_args(fmap, groups, folium.LayerControl(collapsed=True), key=key, height=height)


def _component_args(
    fmap: folium.Map, groups: list[folium.FeatureGroup], control: folium.LayerControl, *, key: str, height: int
) -> dict[str, Any]:
    """The frontend's arguments, as streamlit-folium's `st_folium` builds them (same order of steps)."""
    from streamlit_folium import generate_js_hash, generate_leaflet_string

    root: Any = fmap.get_root()  # a branca Figure: header / html / script
    root.render()
    fmap.render()
    map_id = fmap.get_name()
    html = re.sub(r'<div class="folium-map" id=".*" ></div>', "", root.html.render()).strip()
    header = re.sub(
        r'<script\b[^>]*\bsrc=["\'][^"\']*["\'][^>]*>.*?</script\b[^>]*>',
        "",
        root.header.render(),
        flags=re.IGNORECASE | re.DOTALL,
    )
    header = re.sub(r'<link rel="stylesheet" href=".*?"/>', "", header).replace(map_id, "map_div")
    script = dedent(generate_leaflet_string(fmap))  # renames the map's variable to map_div
    if "drawnItems" not in script:
        script += "\nvar drawnItems = [];"
    layers = ""
    for idx, group in enumerate(groups):
        group.add_to(fmap)
        group.render()
        code = dedent(generate_leaflet_string(group, base_id=f"feature_group_{idx}").replace(map_id, "map_div"))
        name = group.get_name()
        layers += (
            code + f"\nmap_div.addLayer({name});\nwindow.feature_group = window.feature_group || [];\n"
            f"window.feature_group.push({name});\n"
        )
    control.add_to(fmap)
    control.render()
    control_js = dedent(generate_leaflet_string(control, base_id="layer_control").replace(map_id, "map_div"))
    control_js += f"\nwindow.layer_control = {control.get_name()};\n"
    css_links: list[str] = []
    js_links: list[str] = []
    for el in walk_elements(fmap):
        css_links += [href for _, href in getattr(el, "default_css", [])]
        js_links += [src for _, src in getattr(el, "default_js", [])]
    return {
        "script": script,
        "header": header,
        "html": html,
        "id": "map_div",
        "key": generate_js_hash(script, key, False),
        "height": height,
        "width": None,
        "returned_objects": RETURNED,
        "default": {k: None for k in RETURNED},
        "zoom": None,
        "center": None,
        "feature_group": layers,
        "return_on_hover": False,
        "layer_control": control_js,
        "pixelated": False,
        "css_links": list(dict.fromkeys(css_links)),
        "js_links": list(dict.fromkeys(js_links)),
        "wrap_longitude": False,
    }


def show_map(args: dict[str, Any], *, key: str, on_change: Callable[[], None] | None = None) -> Any:
    """Draw the map from `map_args`; `st.session_state[key]` receives what the user clicked."""
    hash_key = args["key"]

    def changed() -> None:
        st.session_state[key] = st.session_state.get(hash_key, {})
        if on_change is not None:
            on_change()

    return _component()(**args, on_change=changed)


def clicked_code(value: Any) -> str | None:
    """The municipality code of the feature the user clicked last, if any."""
    if not isinstance(value, dict):
        return None
    drawing = value.get("last_active_drawing") or {}
    props = drawing.get("properties") if isinstance(drawing, dict) else None
    code = props.get("code") if isinstance(props, dict) else None
    return str(code) if code else None
