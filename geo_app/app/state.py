"""One user's workspace in the Streamlit session: the glue between `workspace` and `st.session_state`.

Municipalities (boundaries + population) are loaded once per process and shared by every
session (`st.cache_resource`; never mutated). Everything a user changes lives in their own
`Workspace` in `st.session_state`, so two tabs never see each other's unsaved edits, and a
failed action (bad upload, save conflict) leaves the workspace exactly as it was.

The operations themselves (open, save, import, start, restore the edit history) are in
`geo_app.app.workspace`, which has no Streamlit; this module gives them the process-wide caches
and the plan store, and keeps the result (and ``?plan=案A``) in the session.
"""

from __future__ import annotations

import os
from typing import Any

import streamlit as st

from geo_app.app import workspace as ops
from geo_app.app.text import md_escape
from geo_app.app.workspace import (
    DEFAULT_PLAN,
    MAP_SIMPLIFY,
    Data,
    MapCache,
    RestoredHistory,
    Workspace,
    plan_signature,
    restore_history,
)
from geo_app.core.errors import GeoAppError
from geo_app.core.plan import Plan
from geo_app.io.plans import load_plan

__all__ = [
    "Data",
    "Workspace",
    "load_data",
    "get_store",
    "workspace",
    "open_plan",
    "open_saved",
    "restore_history",
    "RestoredHistory",
    "flash",
    "show_flash",
    "plan_signature",
    "MAP_SIMPLIFY",
    "DEFAULT_PLAN",
    "LEVEL_OPTIONS",
    "set_workspace",
    "discard_allowed",
    "discard_checkbox",
    "shared_cache",
    "sync_query",
]

LEVEL_OPTIONS = ["homecare", "secondary", "tertiary"]


@st.cache_resource(show_spinner="市町村の境界と人口を読み込んでいます…", max_entries=8)
def load_data(
    prefectures: tuple[str, ...],
    wards: tuple[str, ...],
    boundaries: tuple[str, ...] | None,
    population: str | None,
    sea_links: str | None = None,
) -> Data:
    """`workspace.build_data`, once per process for each set of inputs."""
    return ops.build_data(prefectures, wards, boundaries, population, sea_links)


@st.cache_resource(show_spinner=False)
def shared_cache() -> MapCache:
    """Map arguments and findings shared by every session of this server (keyed by data + plan)."""
    return MapCache(size=24)


@st.cache_resource(show_spinner=False)
def _store(url: str | None, path: str | None) -> Any:
    from geo_app.io.store import PlanStore

    return PlanStore()


def get_store() -> Any:
    """The plan store named by GEO_APP_DATABASE_URL / GEO_APP_DB_PATH (one per setting)."""
    return _store(os.environ.get("GEO_APP_DATABASE_URL"), os.environ.get("GEO_APP_DB_PATH"))


def open_plan(plan: Plan, **kwargs: Any) -> Workspace:
    """`workspace.open_plan` with this server's data cache and shared map cache."""
    return ops.open_plan(plan, load=load_data, cache=shared_cache(), **kwargs)


def open_saved(
    name: str, version: int | None = None, *, origin: str | None = None
) -> tuple[Workspace, RestoredHistory]:
    """`workspace.open_saved` on this server's plan store."""
    return ops.open_saved(get_store(), name, version, load=load_data, cache=shared_cache(), origin=origin)


def _initial() -> Workspace:
    """A new session: the plan named in the URL (?plan=案A) if saved (with its edit history), else Hokkaido 2024."""
    wanted = st.query_params.get("plan")
    if wanted:
        try:
            ws, restored = open_saved(wanted, origin=f"保存した案「{wanted}」")
            if restored.message:
                flash(restored.kind, restored.message)
            return ws
        except GeoAppError as exc:
            flash("error", f"保存した案「{wanted}」を開けませんでした: {exc}　組み込みの北海道 2024 を開きます。")
    return open_plan(load_plan(DEFAULT_PLAN), origin=ops.DEFAULT_ORIGIN)


def workspace() -> Workspace:
    ws = st.session_state.get("ws")
    if ws is None:
        ws = st.session_state["ws"] = _initial()
    return ws


def sync_query(ws: Workspace) -> None:
    """The URL names the saved plan (?plan=案A), so a reload or a shared link opens it again.

    Moving to another page drops the query string; it is put back on every run.
    """
    if ws.saved_name:
        if st.query_params.get("plan") != ws.saved_name:
            st.query_params["plan"] = ws.saved_name
    elif "plan" in st.query_params:
        del st.query_params["plan"]


def set_workspace(ws: Workspace) -> None:
    st.session_state["ws"] = ws
    sync_query(ws)


def flash(kind: str, text: str) -> None:
    """A message shown once at the top of the next page drawn: plain text (see `show_flash`)."""
    st.session_state.setdefault("_flash", []).append((kind, text))


def discard_allowed(key: str) -> bool:
    """Opening, importing or starting another plan replaces the workspace and its undo history:
    with unsaved edits, only when the user has ticked the box (`discard_checkbox(key)`)."""
    ws = st.session_state.get("ws")
    if ws is None or not ws.dirty or st.session_state.get(key):
        st.session_state[key] = False
        return True
    flash(
        "warning",
        f"保存していない編集が{len(ws.unsaved_labels())}件あります。先に保存するか、"
        "「保存していない編集を捨ててよい」にチェックを入れてからもう一度押してください。",
    )
    return False


def discard_checkbox(key: str) -> None:
    """The box `discard_allowed` asks for, shown only when there is something to lose."""
    ws = st.session_state.get("ws")
    if ws is not None and ws.dirty:
        st.checkbox(f"保存していない編集（{len(ws.unsaved_labels())}件）を捨ててよい", key=key)


def show_flash() -> None:
    """Messages are plain text built from typed names: escaped here, once, and shown literally
    (callers of `flash` never escape, and never put Markdown of their own in a message).

    The messages go into one container that is drawn on every run, with or without messages: the
    elements after it keep their place in the page, so Streamlit updates them in place instead of
    drawing them anew (the map kept its view; the totals no longer jump)."""
    box = st.container()
    for kind, text in st.session_state.pop("_flash", []):
        {"success": box.success, "error": box.error, "warning": box.warning}.get(kind, box.info)(md_escape(text))
