"""The plan on the app's map: a Streamlit components v2 component that receives small states.

Why not a folium map rendered on every run: an edit used to re-send the whole map (~1.6 MB for
Hokkaido) into an iframe, which reset the user's view and took seconds. Here the geometry (the
municipalities as a topology, views.livemap) and folium's base map go to the browser once per
data set and session; every run after that sends only the state (areas, colours, labels,
highlight: a few kilobytes), which `static/livemap/render.js` applies to the layers already
drawn. The base's facility layers go with it without their points: a kind's points (names and
coordinates: 1.5 MB for all Japan) follow once per session, in the run that first shows that
kind, so a first map costs what it cost before there were points. The component is declared
through the public components v2 API with its files served from the package
(`[tool.streamlit.component]` in pyproject.toml); Leaflet and topojson-client are packaged, so
nothing is fetched from the network.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import pandas as pd
import streamlit as st

from geo_app.app.workspace import MapCache, Workspace, plan_signature
from geo_app.core.plan import Plan
from geo_app.views.livemap import FACILITY_COLUMNS, MAP_CSS, MapBase, facility_columns, folium_base_map
from geo_app.views.webmap import drop_cdn_links

__all__ = ["COMPONENT", "MapCache", "base_payload", "workspace_base", "workspace_hubs", "show_map", "clicked_code"]

#: "<project name>.<component name>" as declared in pyproject.toml (Streamlit finds its files by it).
COMPONENT = "geo-app.livemap"
_SENT = "_livemap_sent"  # session: map key → the base the browser was sent
_NEED = "_livemap_need"  # session: map key → a base the browser asked for again
_SENT_POINTS = "_livemap_points"  # session: map key → (base key, facility kinds whose points were sent)


@cache
def _component() -> Any:
    return st.components.v2.component(COMPONENT, js="livemap/component.js", isolate_styles=False)


def base_payload(base: MapBase, basemap: str) -> dict[str, Any]:
    """folium's base map as the script the component runs once, with the renderer's static data
    (the facility layers without their points: `show_map` sends those per kind when shown).

    Built once per (data set, basemap) and shared by every session (`MapCache`)."""
    fmap, layer = folium_base_map(base, basemap=basemap)
    drop_cdn_links(fmap)  # the component loads the packaged Leaflet and topojson-client itself
    root: Any = fmap.get_root()
    root.render()
    return {
        "script": root.script.render(),
        "mapId": fmap.get_name(),
        "mapVar": fmap.get_name(),
        "layerVar": layer.get_name(),
        "css": MAP_CSS,
        "info": {
            **base.info,
            "facilities": [
                {k: v for k, v in d.items() if k not in FACILITY_COLUMNS} for d in base.info.get("facilities", [])
            ],
        },
    }


def workspace_base(ws: Workspace, basemap: str) -> dict[str, Any]:
    """`base_payload` of the workspace's data, built once per data set and basemap for all sessions."""
    base = ws.data.base
    return ws.maps.get(("map-base", base.key, basemap), lambda: base_payload(base, basemap))


def workspace_hubs(ws: Workspace, plan: Plan, signature: str | None = None) -> pd.DataFrame:
    """The plan's hubs where every view places them (`io.plans.plan_hub_points`), for its map state:
    cached by the plan's table (`signature`: its `plan_signature`, when the caller has it), since a hub
    given by a facility id is looked up among all of Japan's facility points (0.15–0.5 s here) and a rerun
    that changed nothing else would pay that again."""
    from geo_app.io.plans import plan_hub_points

    key = signature or plan_signature(plan)
    return ws.maps.get(("hubs", key), lambda: plan_hub_points(plan))


def show_map(
    ws: Workspace,
    state: dict[str, Any],
    *,
    key: str,
    basemap: str = "none",
    height: int = 680,
    on_click: Callable[[str], None] | None = None,
    facilities: Sequence[str] = (),
) -> None:
    """Draw the map of the workspace's data with `state` (views.livemap.map_state): the base only
    when this session's browser has not got it for this data set and basemap. `facilities`: the
    kinds of facility points shown (their points are in the base; only the kinds travel per run).

    The user's zoom and centre belong to the data set (`view`): they are kept across states, page
    switches and a change of basemap on the same data."""
    view = ws.data.base.key
    base_key = f"{view}-{basemap}"
    sent: dict[str, str] = st.session_state.setdefault(_SENT, {})
    need: dict[str, Any] = st.session_state.setdefault(_NEED, {})  # key → base key; "key|points" → kinds
    send_base = sent.get(key) != base_key or need.pop(key, None) == base_key
    data = {
        "key": key,
        "baseKey": base_key,
        "view": view,
        "base": workspace_base(ws, basemap) if send_base else None,
        "state": state,
        "height": height,
        "facilities": list(facilities),
    }
    sent[key] = base_key
    # a kind's points: once per session and base, when first shown (the base itself came without them)
    kept = st.session_state.setdefault(_SENT_POINTS, {})
    before = kept.get(key)
    had = set(before[1]) if before and before[0] == base_key and not send_base else set()
    had -= need.pop(f"{key}|points", set())  # kinds the browser asked for again (their run was cut short)
    new = [k for k in facilities if k not in had]
    data["facilityPoints"] = facility_columns(ws.data.base, new) if new else None
    kept[key] = (base_key, sorted(had | set(new)))

    def clicked() -> None:
        code = clicked_code(st.session_state.get(key))
        if code and on_click is not None:
            on_click(code)

    def needed() -> None:
        value: Any = st.session_state.get(key)
        if value is not None and hasattr(value, "get"):
            need[key] = str(value.get("need") or "")

    def needed_points() -> None:
        value: Any = st.session_state.get(key)
        asked = str(value.get("needpoints") or "") if value is not None and hasattr(value, "get") else ""
        asked_base, _, kinds = asked.partition("|")
        if asked_base == base_key and kinds:
            need[f"{key}|points"] = set(kinds.split(","))

    _component()(
        data=data,
        key=key,
        height="content",
        on_clicked_change=clicked,
        on_need_change=needed,
        on_needpoints_change=needed_points,
    )


def clicked_code(value: Any) -> str | None:
    """The municipality code the user clicked last, from the component's value, if any."""
    try:
        code = value.get("clicked") if value is not None else None
    except AttributeError:
        return None
    return str(code) if code else None
