"""One user's workspace in the Streamlit session: data, the plan, its edit history, live areas.

Municipalities (boundaries + population) are loaded once per process and shared by every
session (`st.cache_resource`; never mutated). Everything a user changes lives in their own
`Workspace` in `st.session_state`, so two tabs never see each other's unsaved edits, and a
failed action (bad upload, save conflict) leaves the workspace exactly as it was.

A saved plan keeps the edit history it was saved with (`EditHistory.to_json()` in the store's
``edit_log``): opening it again — from the list, or through ``?plan=案A`` after a reload — brings
back undo/redo over the edits made before the save, as long as that history ends at exactly the
plan that was loaded. A missing, foreign or corrupt history never stops the plan from opening:
the plan opens with a fresh history and the user is told why.
"""
from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass
from typing import NamedTuple

import geopandas as gpd
import networkx as nx
import pandas as pd
import shapely
import streamlit as st

from geo_app.core.dissolve import assign
from geo_app.core.edits import EditHistory
from geo_app.core.geometry import BorderPieces, border_pieces
from geo_app.core.errors import GeoAppError, PlanError
from geo_app.core.live import LivePlan
from geo_app.core.plan import LEVEL_JA, Plan
from geo_app.io.plans import load_plan
from geo_app.app.mapview import MapCache
from geo_app.app.text import md_escape

__all__ = [
    "Data", "Workspace", "load_data", "get_store", "workspace", "open_plan", "open_saved", "restore_history",
    "RestoredHistory", "flash", "show_flash", "plan_signature", "MAP_SIMPLIFY", "DEFAULT_PLAN", "LEVEL_OPTIONS", "level_label",
]

warnings.filterwarnings("ignore", message="Numba not installed")

#: Topology-preserving simplification of the map's geometry (degrees, ≈80–100 m): small enough to
#: see a town's shape at city zoom, and neighbouring areas still share their borders exactly.
MAP_SIMPLIFY = 0.001
DEFAULT_PLAN = "hokkaido-2024"
LEVEL_OPTIONS = ["homecare", "secondary", "tertiary"]


def level_label(level: str) -> str:
    return LEVEL_JA[level]


@dataclass
class Data:
    """Municipalities of the plan's prefectures (full and simplified geometry) and their graph."""

    munis: gpd.GeoDataFrame
    munis_map: gpd.GeoDataFrame
    graph: nx.Graph
    pieces: BorderPieces  # every stretch of border of munis_map, classified per plan when drawn
    view_bounds: tuple[float, float, float, float]  # the map's first view: the main land, far islands aside
    notes: list[str]
    label: str
    key: tuple = ()


@st.cache_resource(show_spinner="市町村の境界と人口を読み込んでいます…", max_entries=8)
def load_data(prefectures: tuple[str, ...], wards: tuple[str, ...], boundaries: tuple[str, ...] | None,
              population: str | None) -> Data:
    """Boundaries + population for these prefectures (embedded data unless files are given)."""
    from geo_app.core.adjacency import build_adjacency
    from geo_app.io.municipalities import load_municipalities

    munis = load_municipalities(
        list(boundaries) if boundaries else None,
        prefectures=list(prefectures) or None,
        keep_wards_of=set(wards),
        population=population or "census2020",
    )
    if munis.empty:
        raise PlanError("境界データに、この区域案の都道府県の市町村がありません。都道府県と境界データを確かめてください。")
    report = munis.attrs.get("report")
    simple = munis.copy()
    if munis.attrs.get("coverage_valid", True):  # coverage simplification needs a valid coverage
        simple["geometry"] = shapely.coverage_simplify(munis.geometry.values, MAP_SIMPLIFY, simplify_boundary=True)
    graph = build_adjacency(munis)
    pieces = border_pieces(simple.geometry.values)
    from geo_app.views.extent import main_view_bounds

    view_bounds = main_view_bounds(simple)
    label = "内蔵データ（行政区域 2021年・令和2年国勢調査）" if not boundaries and not population else "アップロードしたデータ"
    return Data(munis=munis, munis_map=simple, graph=graph, pieces=pieces, view_bounds=view_bounds, notes=list(report.notes) if report else [], label=label,
                key=(prefectures, wards, boundaries, population))


@st.cache_resource(show_spinner=False)
def shared_cache() -> MapCache:
    """Map arguments and findings shared by every session of this server (keyed by data + plan).

    Two users (or a reload) looking at the same plan get the map and the findings at once.
    """
    return MapCache(size=24)


@st.cache_resource(show_spinner=False)
def _store(url: str | None, path: str | None):
    from geo_app.io.store import PlanStore

    return PlanStore()


def get_store():
    """The plan store named by GEO_APP_DATABASE_URL / GEO_APP_DB_PATH (one per setting)."""
    return _store(os.environ.get("GEO_APP_DATABASE_URL"), os.environ.get("GEO_APP_DB_PATH"))


def plan_signature(plan: Plan) -> str:
    h = hashlib.sha1(str(plan.name).encode("utf-8"))
    h.update(pd.util.hash_pandas_object(plan.table.astype(object), index=False).to_numpy().tobytes())
    return h.hexdigest()


@dataclass
class Workspace:
    """What one user is working on."""

    data: Data
    history: EditHistory
    live: LivePlan
    origin: str
    boundaries: tuple[str, ...] | None = None
    population: str | None = None
    saved_name: str | None = None
    saved_version: int | None = None
    saved_plan: Plan | None = None
    saved_step: int = 0

    @property
    def maps(self) -> "_DataScoped":
        return _DataScoped(self.data.key)

    # ---- the plan ---------------------------------------------------------------------------
    @property
    def plan(self) -> Plan:
        return self.history.current

    @property
    def munis(self) -> gpd.GeoDataFrame:
        return self.data.munis

    @property
    def dirty(self) -> bool:
        """Edits not yet saved (or a plan never saved)."""
        if self.saved_plan is None:
            return len(self.history) > 0
        return not (self.plan == self.saved_plan and self.plan.name == self.saved_plan.name)

    def edit(self, new_plan: Plan, label: str | None = None) -> Plan:
        """Record an edit and update the live areas (only the touched areas are recomputed)."""
        before = self.plan
        plan = self.history.apply(new_plan, label=label)
        if plan is not before:
            self.live.apply(plan)
        return plan

    def undo(self) -> str | None:
        label = self.history.undo_label
        plan = self.history.undo()
        if plan is None:
            return None
        self.live.apply(plan)
        return label

    def redo(self) -> str | None:
        label = self.history.redo_label
        plan = self.history.redo()
        if plan is None:
            return None
        self.live.apply(plan)
        return label

    def unsaved_labels(self) -> list[str]:
        """Edits since the last save/load, oldest first (kept with the saved version as its note)."""
        entries = self.history.entries
        return [e.label for e in entries[min(self.saved_step, len(entries)):]]

    def mark_saved(self, name: str, version: int, plan: Plan) -> None:
        self.saved_name, self.saved_version, self.saved_plan = name, version, plan
        self.saved_step = len(self.history)

    # ---- derived, cached per plan -------------------------------------------------------------
    def findings(self, plan: Plan | None = None, *, population_floor: int | None = None) -> list:
        from geo_app.core.rules import ValidationOptions, validate

        plan = plan or self.plan
        floor = int(population_floor) if population_floor else None
        options = ValidationOptions(graph=self.data.graph, population_floor=floor)
        return self.maps.get(("findings", plan_signature(plan), floor), lambda: validate(self.munis, plan, options))

    def areas(self, level: str) -> gpd.GeoDataFrame:
        return self.live.areas(level)

    def assigned(self) -> pd.DataFrame:
        return pd.DataFrame(assign(self.munis, self.plan).drop(columns="geometry"))


class _DataScoped:
    """The shared cache, with keys prefixed by the data they were computed from."""

    def __init__(self, data_key: tuple):
        self.data_key = data_key

    def get(self, key: tuple, build):
        return shared_cache().get((self.data_key, *key), build)


class RestoredHistory(NamedTuple):
    """The history to open a saved plan with, and what to tell the user about it."""

    history: EditHistory
    restored: bool
    kind: str  # flash kind: "info" | "warning"
    message: str


def _same_table(a: Plan, b: Plan) -> bool:
    """Same rows and values (missing = missing), whatever the dtypes a round trip through JSON gave."""
    if a == b:
        return True
    cols = list(a.table.columns)
    if cols != list(b.table.columns) or len(a.table) != len(b.table):
        return False

    def cells(t: pd.DataFrame) -> list:
        return t.astype(object).where(t.notna(), None).to_numpy().tolist()

    return cells(a.table) == cells(b.table)


def restore_history(plan: Plan, edit_log: str | None, *, label: str) -> RestoredHistory:
    """The saved edit history when it ends at exactly `plan`, else a fresh one and a Japanese note why.

    `label` names the plan in messages (e.g. 「案A」版2). Never raises: a log that cannot be read
    must not keep the planner from their saved plan.
    """
    fresh = EditHistory(plan)
    if edit_log is None:
        return RestoredHistory(fresh, False, "info",
                               f"{label}には編集履歴が保存されていないため（以前の版の geo_app で保存した案など）、"
                               "編集履歴なしで開きました。これからの編集は「元に戻す」で戻せます。")
    try:
        history = EditHistory.from_json(edit_log)
        matches = _same_table(history.current, plan)
    except Exception:  # PlanError for a corrupt log; anything else is just as unusable here
        return RestoredHistory(fresh, False, "warning",
                               f"{label}に保存されている編集履歴が壊れていて読み取れないため、編集履歴なしで開きました。"
                               "区域案そのものは保存どおりです。保存前の編集には「元に戻す」で戻れません。")
    if not matches:
        return RestoredHistory(fresh, False, "warning",
                               f"{label}に保存されている編集履歴が、この版の区域案と一致しないため、編集履歴なしで開きました。"
                               "区域案そのものは保存どおりです。保存前の編集には「元に戻す」で戻れません。")
    n = len(history)
    text = (f"保存前の編集 {n}件の履歴も読み込みました。「元に戻す」で保存前の編集に戻れます。" if n else "")
    if history.can_redo:
        text += f"やり直せる編集 {len(history.redo_entries)}件もあります。"
    return RestoredHistory(history, True, "info", text)


def open_plan(plan: Plan, *, origin: str, boundaries: tuple[str, ...] | None = None, population: str | None = None,
              saved_name: str | None = None, saved_version: int | None = None,
              history: EditHistory | None = None) -> Workspace:
    """A fresh workspace on `plan`, or on `history` (its current plan) when given.

    Raises GeoAppError with a Japanese message when it cannot.
    """
    if history is not None:
        plan = history.current
    if len(plan) == 0:
        raise PlanError("区域案に市町村が1つもありません。区域表の中身を確かめてください。")
    data = load_data(tuple(plan.prefectures), tuple(sorted(plan.ward_cities)), boundaries, population)
    known = set(data.munis["code"])
    if not plan.table["code"].isin(known).any():
        raise PlanError("区域案の市町村コードが境界データと1つも一致しません。都道府県とコードを確かめてください。")
    live = LivePlan(data.munis_map, plan, graph=data.graph)
    ws = Workspace(data=data, history=history if history is not None else EditHistory(plan), live=live,
                   origin=origin, boundaries=boundaries, population=population)
    if saved_name is not None:
        ws.mark_saved(saved_name, int(saved_version or 0), plan)
    return ws


def open_saved(name: str, version: int | None = None, *, origin: str | None = None) -> tuple[Workspace, RestoredHistory]:
    """A workspace on a saved plan (latest or given version) with the edit history saved with it.

    Raises GeoAppError only when the plan itself cannot be opened; problems with its edit history
    come back in the RestoredHistory (fresh history + message) for the caller to show.
    """
    store = get_store()
    plan, v = store.load(name, version=version)
    try:
        log = store.load_edit_log(name, v)  # the log of the very version loaded
    except GeoAppError:
        log = ""  # unreadable: handled like a corrupt log (the plan still opens)
    restored = restore_history(plan, log, label=f"区域案「{name}」版{v}")
    ws = open_plan(plan, origin=origin or f"保存した案「{name}」版{v}", saved_name=name, saved_version=v,
                   history=restored.history)
    return ws, restored


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
    plan = load_plan(DEFAULT_PLAN)
    return open_plan(plan, origin="組み込みの区域案「北海道 2024（第8次医療計画）」")


def workspace() -> Workspace:
    ws = st.session_state.get("ws")
    if ws is None:
        ws = st.session_state["ws"] = _initial()
    return ws


def set_workspace(ws: Workspace) -> None:
    st.session_state["ws"] = ws
    if ws.saved_name:
        st.query_params["plan"] = ws.saved_name
    elif "plan" in st.query_params:
        del st.query_params["plan"]


def flash(kind: str, text: str) -> None:
    """A message shown once at the top of the next page drawn: plain text (see `show_flash`)."""
    st.session_state.setdefault("_flash", []).append((kind, text))


#: Kept for callers written before `text.md_escape` (the one escaping helper of the app).
markdown_text = md_escape


def discard_allowed(key: str) -> bool:
    """Opening, importing or starting another plan replaces the workspace and its undo history:
    with unsaved edits, only when the user has ticked the box (`discard_checkbox(key)`)."""
    ws = st.session_state.get("ws")
    if ws is None or not ws.dirty or st.session_state.get(key):
        st.session_state[key] = False
        return True
    flash("warning", f"保存していない編集が{len(ws.unsaved_labels())}件あります。先に保存するか、"
                     "「保存していない編集を捨ててよい」にチェックを入れてからもう一度押してください。")
    return False


def discard_checkbox(key: str) -> None:
    """The box `discard_allowed` asks for, shown only when there is something to lose."""
    ws = st.session_state.get("ws")
    if ws is not None and ws.dirty:
        st.checkbox(f"保存していない編集（{len(ws.unsaved_labels())}件）を捨ててよい", key=key)


def show_flash() -> None:
    """Messages are plain text built from typed names: escaped here, once, and shown literally
    (callers of `flash` never escape, and never put Markdown of their own in a message)."""
    for kind, text in st.session_state.pop("_flash", []):
        {"success": st.success, "error": st.error, "warning": st.warning}.get(kind, st.info)(md_escape(text))
