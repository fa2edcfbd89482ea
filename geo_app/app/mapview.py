"""The plan on an interactive map inside Streamlit (streamlit-folium), with no network at all.

Why not just `st_folium(area_map(...))`:

* Offline. folium's Map lists CDN links (Leaflet, jQuery, Bootstrap, Font Awesome …) that
  streamlit-folium loads into its iframe as <script src>/<link href>; with no network the map
  stays blank. Here every element's links are dropped; Leaflet's script is handed over as a
  `data:` URL (streamlit-folium loads `js_links` with <script src>, and inline <script> in the
  header would not run) and its CSS (icons inlined) goes into the header as <style>.
* Updates without reloading. `area_map(groups=...)` keeps the map itself (basemap, bounds,
  styles) free of anything plan-dependent and puts the layers into FeatureGroups, which
  streamlit-folium swaps in place (`feature_group_to_add`): after an edit the colours, borders,
  labels and legend change while the user's zoom and position stay (streamlit-folium #125/#244).
* Speed. Building the layers' JSON costs ~0.5 s for Hokkaido; the component's arguments are
  therefore computed once per (plan, options) and reused on every rerun, so clicking a
  municipality or changing an unrelated widget costs nothing on the map side.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any, Callable, Iterable

import folium
import geopandas as gpd
import streamlit as st
from branca.element import MacroElement
from jinja2 import Template

from geo_app.views.webmap import MapLayers, area_map, make_offline, map_layers
from geo_app.core.plan import LEVELS, Plan

__all__ = ["offline", "map_args", "show_map", "layers_from_live", "MapCache", "clicked_code"]

_LOCK = threading.Lock()
RETURNED = ["last_active_drawing"]


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
  ['mousedown', 'wheel', 'touchstart', 'keydown'].forEach(function(t){ c.addEventListener(t, function(){ touched = true; }, {passive: true}); });
  map.on('resize', function(){ if (!touched && c.clientWidth > 0 && c.clientHeight > 0) { map.fitBounds(bounds, {padding: [24, 24], animate: false}); } });
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


def map_args(munis_map: gpd.GeoDataFrame, plan: Plan, layers: MapLayers, *, level: str, metric: str,
             basemap: str, highlight_codes: Iterable[str] = (), height: int = 680,
             title: str | None = None, key: str = "map",
             view_bounds: tuple[float, float, float, float] | None = None) -> dict[str, Any]:
    """The streamlit-folium component's arguments for this plan (computed by st_folium itself)."""
    import streamlit_folium as sf

    groups: list[folium.FeatureGroup] = []
    bounds = view_bounds or tuple(float(v) for v in munis_map.total_bounds)
    fmap = area_map(munis_map, plan, level=level, metric=metric, basemap=basemap, layers=layers,
                    highlight_codes=list(highlight_codes), groups=groups, title=title, credits=False,
                    view_bounds=bounds)
    offline(fmap)
    minx, miny, maxx, maxy = bounds
    fmap.add_child(_RefitOnResize([[miny, minx], [maxy, maxx]]))
    captured: dict[str, Any] = {}

    def capture(**kwargs: Any) -> Any:
        captured.update(kwargs)
        return kwargs.get("default")

    with _LOCK:  # st_folium is called with a stand-in component function, once, to read its arguments
        real = sf._component_func
        sf._component_func = capture
        try:
            sf.st_folium(fmap, key=key, height=height, use_container_width=True, returned_objects=RETURNED,
                         feature_group_to_add=groups, layer_control=folium.LayerControl(collapsed=True))
        finally:
            sf._component_func = real
    captured.pop("on_change", None)
    # streamlit-folium names the component after a hash of the map script and its `key`: the base
    # map does not depend on the plan, so edits keep the same component (and the user's view).
    return captured


def show_map(args: dict[str, Any], *, key: str, on_change: Callable[[], None] | None = None) -> Any:
    """Draw the map from `map_args`; `st.session_state[key]` receives what the user clicked."""
    import streamlit_folium as sf

    hash_key = args["key"]

    def changed() -> None:
        st.session_state[key] = st.session_state.get(hash_key, {})
        if on_change is not None:
            on_change()

    with _LOCK:
        func = sf._component_func
    return func(**args, on_change=changed)


def clicked_code(value: Any) -> str | None:
    """The municipality code of the feature the user clicked last, if any."""
    if not isinstance(value, dict):
        return None
    drawing = value.get("last_active_drawing") or {}
    props = drawing.get("properties") if isinstance(drawing, dict) else None
    code = props.get("code") if isinstance(props, dict) else None
    return str(code) if code else None


class MapCache:
    """Recently built values (map arguments, findings), least recently used dropped first."""

    def __init__(self, size: int = 4):
        self.size = size
        self._items: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, build: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = build()  # outside the lock: sessions do not wait for each other's builds
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value
