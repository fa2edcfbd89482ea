"""Workspace operations of the app, with no Streamlit: open, start, import, restore history, save, edit.

The pages only lay out widgets and call these functions; `state` keeps the result in the
Streamlit session. Everything here takes what it needs as arguments (the data loader, the shared
cache, the plan store), so it can be tested and reused without a running app. An operation that
cannot be done raises `GeoAppError` with a Japanese message and leaves the workspace it was
given exactly as it was: the new workspace is built first and swapped in by the caller.

Messages returned here are plain text quoting typed names; the app escapes them when it shows
them (`state.show_flash`).
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple, Protocol, cast

import geopandas as gpd
import networkx as nx
import pandas as pd

from geo_app.core.edits import EditHistory, move
from geo_app.core.errors import GeoAppError, InputError, PlanError
from geo_app.core.live import LivePlan
from geo_app.core.plan import Level, Plan
from geo_app.io.names import describe_unit_count
from geo_app.io.plans import hub_facilities, load_plan
from geo_app.views.livemap import MAP_SIMPLIFY

if TYPE_CHECKING:
    from geo_app.views.livemap import MapBase

__all__ = [
    "Data",
    "Workspace",
    "MapCache",
    "DataLoader",
    "RestoredHistory",
    "Saved",
    "MAP_SIMPLIFY",
    "DEFAULT_PLAN",
    "DEFAULT_ORIGIN",
    "build_data",
    "plan_signature",
    "open_plan",
    "open_saved",
    "open_version",
    "restore_history",
    "save",
    "delete_saved",
    "read_plan",
    "import_plan",
    "start_plan",
    "START_OPTIONS",
    "start_options",
    "with_data",
    "move_municipality",
    "apply_edit",
    "plan_csv_bytes",
    "plan_xlsx_bytes",
    "summary_xlsx_bytes",
    "map_html_bytes",
    "print_map_bytes",
]

DEFAULT_PLAN = "hokkaido-2024"
DEFAULT_ORIGIN = "組み込みの区域案「北海道 2024（第8次医療計画）」"

START_OPTIONS = {
    "secondary": "二次医療圏（第8次医療計画・2024年）をそのまま在宅医療圏の出発点にする",
    "per_muni": "市町村ごとに1つの在宅医療圏（すべて未確定）から始める",
    "secondary_2020": "二次医療圏（第7次医療計画・2020年）を出発点にする",
    "hokkaido": "北海道 2024（第8次医療計画の在宅医療圏）",
    "akita": "秋田県 2024（在宅医療圏。第8次医療計画の素案の報道による）",
}
#: Starting points that belong to one prefecture (the others apply to every prefecture).
_START_PREFECTURE = {"hokkaido": "北海道", "akita": "秋田県"}
_START_PLAN = {"hokkaido": "hokkaido-2024", "akita": "akita-2024"}


def start_options(pref: str) -> list[str]:
    """The starting points offered for a prefecture: the 8th-plan secondary areas first."""
    return [k for k in START_OPTIONS if _START_PREFECTURE.get(k, pref) == pref]


@dataclass
class Data:
    """Municipalities of the plan's prefectures (full and simplified geometry) and their graph."""

    munis: gpd.GeoDataFrame
    munis_map: gpd.GeoDataFrame
    graph: nx.Graph
    base: MapBase  # munis_map as the map's topology and static data, sent to a browser once
    view_bounds: tuple[float, float, float, float]  # the map's first view: the main land, far islands aside
    notes: list[str]
    label: str
    key: tuple = ()


def saved_when(when: datetime | None = None) -> str:
    """When a version was saved, as the title of a printout shows it (Japan time, as the store's messages)."""
    from geo_app.io.store import JST

    return (when or datetime.now(UTC)).astimezone(JST).strftime("%Y年%-m月%-d日 %H:%M")


class DataLoader(Protocol):
    """`build_data` or a cached wrapper of it (the app shares one per process)."""

    def __call__(
        self,
        prefectures: tuple[str, ...],
        wards: tuple[str, ...],
        boundaries: tuple[str, ...] | None,
        population: str | None,
        sea_links: str | None = None,
    ) -> Data: ...


def build_data(
    prefectures: tuple[str, ...],
    wards: tuple[str, ...],
    boundaries: tuple[str, ...] | None,
    population: str | None,
    sea_links: str | None = None,
) -> Data:
    """Boundaries + population for these prefectures (embedded data unless files are given), with
    the user's ferry routes and bridges (`sea_links`, a file) added to the embedded ones."""
    from geo_app.core.adjacency import build_adjacency
    from geo_app.io.municipalities import load_municipalities
    from geo_app.views.extent import main_view_bounds
    from geo_app.views.livemap import map_base, map_geometry

    munis = load_municipalities(
        list(boundaries) if boundaries else None,
        prefectures=list(prefectures) or None,
        keep_wards_of=set(wards),
        population=population or "census2020",
    )
    if sea_links:
        from geo_app.io.sea_links import load_user_sea_links

        munis.attrs["sea_links"] = load_user_sea_links(sea_links, name=Path(sea_links).name)
    if munis.empty:
        raise PlanError(
            "境界データに、この区域案の都道府県の市町村がありません。都道府県と境界データを確かめてください。"
        )
    report = munis.attrs.get("report")
    simple = map_geometry(munis, MAP_SIMPLIFY)
    label = (
        "内蔵データ（行政区域 2021年・令和2年国勢調査）"
        if not boundaries and not population and not sea_links
        else "アップロードしたデータ"
    )
    return Data(
        munis=munis,
        munis_map=simple,
        graph=build_adjacency(munis),
        base=map_base(simple, bounds := main_view_bounds(simple)),
        view_bounds=bounds,
        notes=list(report.notes) if report else [],
        label=label,
        key=(prefectures, wards, boundaries, population, sea_links),
    )


class MapCache:
    """Recently built values (map arguments, findings), least recently used dropped first.

    Shared by every session of a server: two users (or a reload) on the same plan get them at once.
    """

    def __init__(self, size: int = 4):
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
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


def plan_signature(plan: Plan) -> str:
    """A key for caches: the plan's name and every cell of its table."""
    h = hashlib.sha1(str(plan.name).encode("utf-8"))
    h.update(pd.util.hash_pandas_object(plan.table.astype(object), index=False).to_numpy().tobytes())
    return h.hexdigest()


class _DataScoped:
    """The shared cache, with keys prefixed by the data they were computed from."""

    def __init__(self, cache: MapCache, data_key: tuple):
        self.cache, self.data_key = cache, data_key

    def get(self, key: tuple, build: Callable[[], Any]) -> Any:
        return self.cache.get((self.data_key, *key), build)


@dataclass
class Workspace:
    """What one user is working on: the data, the plan's edit history, live areas and save state."""

    data: Data
    history: EditHistory
    live: LivePlan
    origin: str
    boundaries: tuple[str, ...] | None = None
    population: str | None = None
    sea_links: str | None = None
    saved_name: str | None = None
    saved_version: int | None = None
    saved_plan: Plan | None = None
    saved_step: int = 0
    saved_when: str = ""
    saved_source: str = ""
    population_date: str = ""
    cache: MapCache = field(default_factory=MapCache, repr=False)

    @property
    def maps(self) -> _DataScoped:
        return _DataScoped(self.cache, self.data.key)

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
        return [e.label for e in entries[min(self.saved_step, len(entries)) :]]

    @property
    def sourced_munis(self) -> gpd.GeoDataFrame:
        """The municipalities as every output credits them: with the date the user gave for their
        population table (a shallow copy; the shared data is not touched)."""
        from geo_app.io.provenance import population_source

        sources = self.munis.attrs.get("sources")
        if not self.population_date or not sources or self.population is None:
            return self.munis
        out = self.munis.copy(deep=False)
        out.attrs = dict(self.munis.attrs)
        out.attrs["sources"] = tuple(
            population_source(Path(self.population).name, self.population_date) if s.role == "人口" else s
            for s in sources
        )
        return out

    @property
    def titled_plan(self) -> Plan:
        """The plan under the identity every output carries: the saved name with its version and
        date (or a note of unsaved edits); an unsaved edit of a reference plan is already its own
        「…の編集案」 (`Plan.edited`), so no printout of a change bears the reference's title."""
        plan = self.plan
        if not self.saved_name:
            return plan
        if self.dirty:
            note = f"版{self.saved_version}＋未保存の編集"
        else:
            note = f"版{self.saved_version}・{self.saved_when}保存" if self.saved_when else f"版{self.saved_version}"
        return Plan(name=self.saved_name, table=plan.table, source=plan.source or self.saved_source, saved=note)

    def mark_saved(self, name: str, version: int, plan: Plan, when: datetime | None = None) -> None:
        self.saved_name, self.saved_version, self.saved_plan = name, version, plan
        self.saved_when = saved_when(when)
        self.saved_source = plan.source or self.saved_source
        self.saved_step = len(self.history)

    def forget_saved(self) -> None:
        """The saved plan is gone (deleted): the next save needs a name."""
        self.saved_name, self.saved_version, self.saved_plan = None, None, None

    def findings(self, plan: Plan | None = None, *, population_floor: int | None = None) -> list:
        from geo_app.core.rules import ValidationOptions, validate

        plan = plan or self.plan
        floor = int(population_floor) if population_floor else None
        # Hubs given by a facility id are looked up in the facility points (loaded only for such a plan).
        options = ValidationOptions(graph=self.data.graph, population_floor=floor, facilities=hub_facilities(plan))
        return self.maps.get(("findings", plan_signature(plan), floor), lambda: validate(self.munis, plan, options))

    def areas(self, level: str) -> gpd.GeoDataFrame:
        return self.live.areas(cast(Level, level))


# ---- opening ---------------------------------------------------------------------------------
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
        return RestoredHistory(
            fresh,
            False,
            "info",
            f"{label}には編集履歴が保存されていないため（以前の版の geo_app で保存した案など）、"
            "編集履歴なしで開きました。これからの編集は「元に戻す」で戻せます。",
        )
    try:
        history = EditHistory.from_json(edit_log)
        matches = _same_table(history.current, plan)
    except Exception:  # PlanError for a corrupt log; anything else is just as unusable here
        return RestoredHistory(
            fresh,
            False,
            "warning",
            f"{label}に保存されている編集履歴が壊れていて読み取れないため、編集履歴なしで開きました。"
            "区域案そのものは保存どおりです。保存前の編集には「元に戻す」で戻れません。",
        )
    if not matches:
        return RestoredHistory(
            fresh,
            False,
            "warning",
            f"{label}に保存されている編集履歴が、この版の区域案と一致しないため、編集履歴なしで開きました。"
            "区域案そのものは保存どおりです。保存前の編集には「元に戻す」で戻れません。",
        )
    n = len(history)
    text = f"保存前の編集 {n}件の履歴も読み込みました。「元に戻す」で保存前の編集に戻れます。" if n else ""
    if history.can_redo:
        text += f"やり直せる編集 {len(history.redo_entries)}件もあります。"
    return RestoredHistory(history, True, "info", text)


def open_plan(
    plan: Plan,
    *,
    load: DataLoader,
    cache: MapCache,
    origin: str,
    boundaries: tuple[str, ...] | None = None,
    population: str | None = None,
    sea_links: str | None = None,
    saved_name: str | None = None,
    saved_version: int | None = None,
    saved_at: datetime | None = None,
    history: EditHistory | None = None,
) -> Workspace:
    """A fresh workspace on `plan`, or on `history` (its current plan) when given.

    Raises GeoAppError with a Japanese message when it cannot.
    """
    if history is not None:
        plan = history.current
    if len(plan) == 0:
        raise PlanError("区域案に市町村が1つもありません。区域表の中身を確かめてください。")
    data = load(tuple(plan.prefectures), tuple(sorted(plan.ward_cities)), boundaries, population, sea_links)
    if not plan.table["code"].isin(set(data.munis["code"])).any():
        raise PlanError("区域案の市町村コードが境界データと1つも一致しません。都道府県とコードを確かめてください。")
    live = LivePlan(data.munis_map, plan, graph=data.graph)
    ws = Workspace(
        data=data,
        history=history if history is not None else EditHistory(plan),
        live=live,
        origin=origin,
        boundaries=boundaries,
        population=population,
        sea_links=sea_links,
        cache=cache,
    )
    if saved_name is not None:
        ws.mark_saved(saved_name, int(saved_version or 0), plan, saved_at)
    return ws


def open_saved(
    store: Any, name: str, version: int | None = None, *, load: DataLoader, cache: MapCache, origin: str | None = None
) -> tuple[Workspace, RestoredHistory]:
    """A workspace on a saved plan (latest or given version) with the edit history saved with it.

    Raises GeoAppError only when the plan itself cannot be opened; problems with its edit history
    come back in the RestoredHistory (fresh history + message) for the caller to show.
    """
    plan, v = store.load(name, version=version)
    try:
        log = store.load_edit_log(name, v)  # the log of the very version loaded
    except GeoAppError:
        log = ""  # unreadable: handled like a corrupt log (the plan still opens)
    restored = restore_history(plan, log, label=f"区域案「{name}」版{v}")
    saved_at = next((h.saved_at for h in store.history(name) if h.version == v), None)
    ws = open_plan(
        plan,
        load=load,
        cache=cache,
        origin=origin or f"保存した案「{name}」版{v}",
        saved_name=name,
        saved_version=v,
        saved_at=saved_at,
        history=restored.history,
    )
    ws.saved_source = plan.source  # the replayed history's plans do not carry what it was made from
    return ws, restored


def open_version(
    store: Any, name: str, version: int | None, *, load: DataLoader, cache: MapCache
) -> tuple[Workspace, list[tuple[str, str]]]:
    """Open a saved plan chosen in the list (None = latest) and the messages to show.

    An old version opened on purpose is rebased on the latest: saving it continues the plan's
    history. The latest keeps the version it loaded: if someone saves meanwhile, our save is a
    conflict, never a silent overwrite of theirs.
    """
    ws, restored = open_saved(store, name, version, load=load, cache=cache)
    v = ws.saved_version
    if version is not None:
        latest = store.load(name)[1]
        if v != latest:
            ws.saved_version, ws.saved_plan = latest, None
    opened = f"区域案「{name}」の版{v}を開きました。"
    if restored.restored:
        return ws, [("success", opened + restored.message)]
    return ws, [("success", opened), (restored.kind, restored.message)]


# ---- saving ----------------------------------------------------------------------------------
class Saved(NamedTuple):
    name: str
    version: int
    warnings: list[str]


def _note(ws: Workspace) -> str:
    """The edit log of this version: what was done since the last save (kept with the version)."""
    labels = ws.unsaved_labels()
    if not labels:
        return "編集なし"
    text = f"編集{len(labels)}件: " + "／".join(labels)
    return text if len(text) <= 2000 else text[:1990] + "…（ほか）"


def save(ws: Workspace, store: Any, name: str | None = None) -> Saved:
    """Save the plan over its saved version (`name` None) or as a new `name`, with its edit history.

    A save sends the version the user loaded (optimistic locking): when someone else saved first,
    the store raises ConflictError (a GeoAppError) and the workspace keeps every edit.
    """
    warnings: list[str] = []
    try:
        log: str | None = ws.history.to_json()
    except Exception:  # the plan itself matters more than its undo history: save it anyway
        log = None
        warnings.append(
            "編集履歴を保存用に変換できなかったため、区域案だけを保存します。"
            "次に開いたときは、保存前の編集に「元に戻す」で戻れません。"
        )
    if name is None:
        if not ws.saved_name:
            raise InputError("まだ名前を付けて保存していません。「名前を付けて保存」で名前を入れてください。")
        plan = ws.plan.with_name(ws.saved_name)
        version = store.save(plan, expected_version=ws.saved_version, note=_note(ws), edit_log=log)
    else:
        plan = ws.plan.with_name(str(name))
        version = store.save(plan, expected_version=None, note=_note(ws), edit_log=log)
    ws.mark_saved(plan.name, version, ws.plan)
    return Saved(plan.name, version, warnings)


class Deleted(NamedTuple):
    """A plan taken off the list, and what `restore_saved` needs to put it (and the workspace's link) back."""

    name: str
    version: int
    #: (saved_version, saved_plan, saved_step, saved_when) when the workspace was this plan, else None.
    link: tuple[int | None, Plan | None, int, str] | None = None


def delete_saved(ws: Workspace, store: Any, name: str, expected_version: int | None = None) -> Deleted:
    """Remove exactly `name` from the list (its history stays in the database); the workspace forgets it.

    `expected_version` is the version the user saw when confirming: a newer save by someone else
    refuses the delete (ConflictError) rather than deleting what the user did not see.
    """
    if expected_version is None:
        info = {p.name: p for p in store.list_plans()}.get(name)
        if info is None:
            raise GeoAppError(f"区域案「{name}」は保存されていません。")
        expected_version = info.version
    store.delete(name, expected_version=int(expected_version))
    link = None
    if ws.saved_name == name:
        link = (ws.saved_version, ws.saved_plan, ws.saved_step, ws.saved_when)
        ws.forget_saved()
    return Deleted(name, int(expected_version), link)


def restore_saved(ws: Workspace, store: Any, deleted: Deleted) -> int:
    """元に戻す for a delete: the plan is listed again with all its versions; returns its version.

    When the workspace was that plan and has not been saved elsewhere since, it is linked to it
    again, so 上書き保存 continues where it was.
    """
    version = store.restore(deleted.name)
    if deleted.link is not None and ws.saved_name is None and version == deleted.version:
        ws.saved_name = deleted.name
        ws.saved_version, ws.saved_plan, ws.saved_step, ws.saved_when = deleted.link
    return version


# ---- new plans and data --------------------------------------------------------------------------
def read_plan(source: IO[bytes] | str | Path, filename: str) -> Plan:
    """A plan table (CSV/XLSX) named after its file; a bad table raises GeoAppError in Japanese."""
    return load_plan(source, name=Path(filename).stem)


def import_plan(
    plan: Plan, filename: str, current: Workspace, *, load: DataLoader, cache: MapCache
) -> tuple[Workspace, str]:
    """A workspace on a plan read from a file (`read_plan`) and the message saying what was read.

    The current uploads of boundaries/population are kept when they cover the plan's prefectures.
    """
    munis = current.data.munis
    same_data = "pref" in munis and set(plan.prefectures) <= set(munis["pref"].dropna().unique())
    ws = open_plan(
        plan,
        load=load,
        cache=cache,
        origin=f"ファイル「{filename}」",
        boundaries=current.boundaries if same_data else None,
        population=current.population if same_data else None,
    )
    notes = " ".join(plan.table.attrs.get("notes", []))  # what the reader assumed (a guessed prefecture …)
    text = (
        f"ファイル「{filename}」から区域案を読み込みました（{describe_unit_count(plan.table['code'])}）。"
        "保存するには「名前を付けて保存」を使います。" + (f" {notes}" if notes else "")
    )
    return ws, text


def start_plan(
    pref: str,
    how: str,
    *,
    boundaries: tuple[str, ...] | None,
    population: str | None,
    load: DataLoader,
    cache: MapCache,
    sea_links: str | None = None,
) -> tuple[Workspace, str]:
    """A workspace on a starting plan for a prefecture (`how`: a key of START_OPTIONS) and its origin."""
    if how in _START_PLAN:
        if pref != _START_PREFECTURE[how]:
            raise InputError(
                f"「{START_OPTIONS[how]}」は{_START_PREFECTURE[how]}の区域案です。"
                f"都道府県を{_START_PREFECTURE[how]}にするか、ほかの出発点を選んでください。"
            )
        plan = load_plan(_START_PLAN[how])
        origin = f"組み込みの区域案「{plan.name}」"
    else:
        base = load_plan(f"secondary-{'2020' if how == 'secondary_2020' else '2024'}:{pref}")
        if how in ("secondary", "secondary_2020"):
            plan, origin = base, f"組み込みの区域案「{base.name}」"
        else:
            from geo_app.io.plans import one_area_per_municipality

            data = load((pref,), tuple(sorted(base.ward_cities)), boundaries, population, sea_links)
            plan, origin = one_area_per_municipality(data.munis, prefecture=pref), f"{pref}の市町村ごとの初期案"
    ws = open_plan(
        plan, load=load, cache=cache, origin=origin, boundaries=boundaries, population=population, sea_links=sea_links
    )
    return ws, origin


def with_data(
    current: Workspace,
    boundaries: tuple[str, ...] | None,
    population: str | None,
    *,
    load: DataLoader,
    sea_links: str | None = None,
) -> Workspace:
    """The same plan, edit history and save state on other boundaries/population/routes (None = embedded)."""
    ws = open_plan(
        current.plan,
        load=load,
        cache=current.cache,
        origin=current.origin,
        boundaries=boundaries,
        population=population,
        sea_links=sea_links,
        history=current.history,
    )
    ws.saved_name, ws.saved_version = current.saved_name, current.saved_version
    ws.saved_plan, ws.saved_step, ws.saved_when = current.saved_plan, current.saved_step, current.saved_when
    ws.saved_source = current.saved_source
    ws.population_date = current.population_date if population == current.population else ""
    return ws


# ---- edits ---------------------------------------------------------------------------------------
def _homecare_pops(ws: Workspace) -> dict[str, int | None]:
    areas = ws.areas("homecare")
    return {str(a): (None if pd.isna(p) else int(p)) for a, p in zip(areas["area"], areas["population"], strict=True)}


def _people(n: int | None) -> str:
    return "不明" if n is None else f"{n:,}人"


def move_municipality(
    ws: Workspace, code: str, target: str, label: str, *, keep_parents: bool = False
) -> tuple[str, str]:
    """Move one municipality into home-care area `target`; (flash kind, message).

    `label` names the municipality in the message. The message gives both areas' populations
    before and after (unknown stays unknown) and what happened to the 二次・三次医療圏: kept
    (`keep_parents`, the app's default) or changed with the target. Raises GeoAppError when
    the move is refused.
    """
    from geo_app.core.edits import describe_kept_parents, describe_parent_changes, parent_changes_of_move

    old = ws.plan.area_of(code)
    changes = parent_changes_of_move(ws.plan, [code], target)
    before = _homecare_pops(ws)
    new_plan = move(ws.plan, [code], target, keep_parents=keep_parents)
    if new_plan == ws.plan:
        return "warning", f"{label}はすでに「{target}」に入っています。変更はありません。"
    ws.edit(new_plan)
    after = _homecare_pops(ws)
    pop = ws.munis.loc[ws.munis["code"] == code, "population"]
    muni_pop = int(pop.iloc[0]) if len(pop) and pd.notna(pop.iloc[0]) else None
    old_after = _people(after[old]) if old in after else "0人（圏域がなくなりました）"
    target_before = _people(before[target]) if target in before else "0人（新しい圏域）"
    head = f"{label}（人口 {_people(muni_pop)}）"
    if old is None:  # it had no home-care area: nothing to take it from
        text = f"{head}を「{target}」に入れました。「{target}」{target_before} → {_people(after[target])}"
    else:
        text = (
            f"{head}を「{old}」から「{target}」へ移動しました。"
            f"「{old}」{_people(before.get(old))} → {old_after}、「{target}」{target_before} → "
            f"{_people(after[target])}"
        )
    if changes:
        text += "。" + (
            describe_kept_parents(ws.plan, changes) if keep_parents else describe_parent_changes(changes, done=True)
        )
    return "success", text


def apply_edit(ws: Workspace, fn: Callable[..., Plan], *args: Any) -> bool:
    """Apply an edit function of core.edits to the plan; False when it changes nothing."""
    new_plan = fn(ws.plan, *args)
    if new_plan == ws.plan:
        return False
    ws.edit(new_plan)
    return True


# ---- files -----------------------------------------------------------------------------------------
def plan_csv_bytes(plan: Plan) -> bytes:
    """The plan table with Japanese headers, as `geo-app propose` writes its candidates."""
    from geo_app.io.plan_writer import plan_csv_bytes as csv_bytes

    return csv_bytes(plan)


def plan_xlsx_bytes(plan: Plan) -> bytes:
    """The plan table as Excel: codes stay text (01100, not 1100), no cell is a formula."""
    from geo_app.core.plan import HUB_LABELS
    from geo_app.views.xlsx import keep_text, xlsx_frame

    frame = xlsx_frame(plan.to_japanese_frame())
    for key in ("hub_lat", "hub_lon"):  # degrees are numbers in Excel (the table keeps every cell as text)
        if HUB_LABELS[key] in frame.columns:
            frame[HUB_LABELS[key]] = pd.to_numeric(frame[HUB_LABELS[key]])
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        frame.to_excel(xw, index=False, sheet_name="区域表")
        sheet = xw.sheets["区域表"]
        keep_text(sheet)
        for cell in sheet["A"][1:]:
            cell.number_format = "@"
        for col, width in zip("ABCDEFG", (12, 14, 18, 16, 14, 8, 20), strict=True):
            sheet.column_dimensions[col].width = width
    return buf.getvalue()


def summary_xlsx_bytes(ws: Workspace) -> bytes:
    from geo_app.core.rules import findings_frame
    from geo_app.views.xlsx import write_summary_xlsx

    with tempfile.TemporaryDirectory() as d:
        path = write_summary_xlsx(
            ws.sourced_munis, ws.titled_plan, Path(d) / "summary.xlsx", findings=findings_frame(ws.findings())
        )
        return Path(path).read_bytes()


def map_html_bytes(ws: Workspace) -> bytes:
    from geo_app.views.build import write_map_html

    with tempfile.TemporaryDirectory() as d:
        return Path(write_map_html(ws.sourced_munis, ws.titled_plan, Path(d) / "map.html")).read_bytes()


def gpkg_bytes(ws: Workspace) -> bytes:
    """The GIS layers (municipalities and the three levels) with the plan's title and sources as metadata."""
    from geo_app.views.layers import write_gpkg

    with tempfile.TemporaryDirectory() as d:
        return Path(write_gpkg(ws.sourced_munis, ws.titled_plan, Path(d) / "areas.gpkg")).read_bytes()


def print_map_bytes(ws: Workspace, kind: str) -> bytes:
    from geo_app.views.printmap import write_print_map

    with tempfile.TemporaryDirectory() as d:
        png, pdf = Path(d) / "map.png", Path(d) / "map.pdf"
        write_print_map(ws.sourced_munis, ws.titled_plan, png, pdf if kind == "pdf" else None)
        return (pdf if kind == "pdf" else png).read_bytes()
