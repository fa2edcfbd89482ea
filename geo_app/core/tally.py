"""Area figures: the one engine that adds municipalities up into areas, and the 合計 over areas.

`AreaTally` holds, per level, one row of integer sums per area (counts, how many members know
each count, members, 未確定 members). It has two branches, as GerryChain's Tally does:

* from scratch (the constructor, or the first use of a level): every member flows into an empty
  tally;
* after an edit (`apply`): an area's row is its old row − the members that left + those that
  joined, and only the areas an edit touched are re-derived (labels, km², coverage union).

Both branches move counts with the same `_flow`, derive an area's labels, km² and shape from its
members with the same `_derive`, order rows and build the frame with the same `_frame`; counts
are integers, km² a correctly rounded `math.fsum` and shapes a union of the same members in the
same order, so the two branches are equal by construction, to the last bit. `dissolve` is the
from-scratch branch; `LivePlan` (the app) is this class; compare and the population floor read
area figures from it. Nothing else in geo_app adds counts up into areas.

`total` adds areas up into the 合計 row, by the registry's aggregation rules.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_app.core.counts import AGE_BANDS, COUNT_COLUMNS, add_rates
from geo_app.core.errors import PlanError
from geo_app.core.geometry import coverage_groups, grouped_coverage_union, in_one_coverage
from geo_app.core.metrics import ADDED_COUNTS, ADDED_KEYS, METRICS
from geo_app.core.plan import CONFIRMED, LEVELS, PARENT_LEVEL, UNCONFIRMED, Level, Plan

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "AreaTally",
    "total",
    "AREA_COLUMNS",
    "check_unique_codes",
    "absent_members",
    "mark_absent",
    "check_level_name",
]

_ADDED = list(ADDED_KEYS)  # after the age bands: future and supply figures, when the municipalities have them
#: Columns of an Areas frame, in order (age bands follow when the population table has them).
AREA_COLUMNS = [
    "area",
    "parent",
    "level",
    "municipalities",
    *COUNT_COLUMNS,
    "aging_rate",
    "share_75_plus",
    "area_km2",
    "density",
    "status",
    "hub",
    "members",
]
_PLAN_ATTRS = ("status", "hub")


def check_level_name(level: str) -> Level:
    """The level, or a Japanese message naming the three there are."""
    if level not in LEVELS:
        raise PlanError(f"集計の単位「{level}」が分かりません。homecare / secondary / tertiary のいずれかです。")
    return level


def check_unique_codes(plan: Plan) -> None:
    """One row per municipality, or every total would count some twice."""
    dup = plan.table["code"].duplicated(keep=False)
    if dup.any():
        codes = sorted(set(plan.table.loc[dup, "code"]))
        raise PlanError(
            f"区域案で同じ市町村コードが2回以上あります: {', '.join(codes[:10])}。"
            "1市町村1行にしてから集計してください（geo-app validate で確認できます）。"
        )


def absent_members(plan: Plan, codes: pd.Series | np.ndarray, level: Level) -> pd.DataFrame:
    """Plan rows of `level` areas whose municipality is not among `codes` (no boundary loaded)."""
    t = plan.table
    return t.loc[_without_boundary(t, codes) & t[level].notna(), ["code", "name", level]]


def _without_boundary(table: pd.DataFrame, codes: pd.Series | np.ndarray) -> np.ndarray:
    """Plan rows whose code is not among `codes` (a set lookup: Arrow strings' isin is slow)."""
    have = set(np.asarray(codes, dtype=object).tolist())
    return np.fromiter((c not in have for c in table["code"].tolist()), dtype=bool, count=len(table))


def mark_absent(areas: gpd.GeoDataFrame, plan: Plan, codes: pd.Series | np.ndarray, level: Level) -> gpd.GeoDataFrame:
    """Areas with a plan member that has no boundary: every figure unknown, never a partial total.

    An area none of whose members has a boundary still gets its row (no shape, figures unknown),
    so that a total over the areas is unknown too.
    """
    absent = absent_members(plan, codes, level)
    if absent.empty:
        return areas
    names = set(absent[level])
    figures = [
        c
        for c in [*COUNT_COLUMNS, *AGE_BANDS, "aging_rate", "share_75_plus", "area_km2", "density", *_ADDED]
        if c in areas.columns
    ]
    out = areas.copy()
    hit = out["area"].isin(names).to_numpy()
    for c in figures:
        out.loc[hit, c] = pd.NA  # Int64 counts become <NA>, float rates and km² NaN
    new = [a for a in dict.fromkeys(absent[level]) if a not in set(out["area"])]
    if new:
        rows = plan.table.drop_duplicates(level).set_index(level).loc[new]
        parent = PARENT_LEVEL[level]
        extra = pd.DataFrame(
            {
                "area": pd.array(new, dtype="string"),
                "parent": pd.array(
                    [None] * len(new) if parent == "prefecture" else rows[parent].tolist(), dtype="string"
                ),
                "level": level,
                "municipalities": np.zeros(len(new), dtype="int64"),
                "status": pd.array(rows["status"].tolist(), dtype="string"),
                "hub": pd.array(rows["hub"].tolist() if level == "homecare" else [None] * len(new), dtype="string"),
                "members": pd.array([""] * len(new), dtype="string"),
            }
        )
        extra = gpd.GeoDataFrame(extra, geometry=[None] * len(new), crs=areas.crs)
        out = pd.concat([out, extra], ignore_index=True)
        for c in figures:
            out[c] = out[c].astype(areas[c].dtype)
        out = gpd.GeoDataFrame(out[list(areas.columns)], geometry=areas.geometry.name, crs=areas.crs)
    return out


class _Level:
    """One level's tally: a slot per area (slots are reused), one row of integer sums per slot,
    and what is derived from a slot's members (re-derived whenever its members or labels change)."""

    def __init__(self, level: Level, n: int, width: int):
        cap = max(n, 1)  # an area with a boundary has at least one municipality
        self.level = level
        self.area_of = np.full(n, -1, dtype=np.int64)  # slot of each municipality's area; -1: none
        self.slot: dict[str, int] = {}
        self.name: list[str | None] = [None] * cap
        self.free: list[int] = list(range(cap - 1, -1, -1))
        self.sums = np.zeros((cap, width), dtype=np.int64)
        self.parent: list[str | None] = [None] * cap
        self.hub: list[str | None] = [None] * cap
        self.members_text: list[str] = [""] * cap
        self.first = np.zeros(cap, dtype=np.int64)  # the member with the smallest code
        self.km2 = np.full(cap, np.nan)
        self.geometry = np.full(cap, None, dtype=object)
        self.overlay = np.zeros(cap, dtype=bool)  # shape made by overlay union (members in no one coverage)
        self.pieces: list[int | None] = [None] * cap
        #: area → its plan rows without a boundary (code, parent, status, hub): unknown figures.
        self.absent: dict[str, tuple] = {}

    def open(self, area: str) -> int:
        s = self.slot.get(area)
        if s is None:
            s = self.free.pop()
            self.slot[area] = s
            self.name[s] = area
        return s

    def close(self, s: int) -> None:
        name = self.name[s]
        assert name is not None
        del self.slot[name]
        self.name[s] = None
        self.sums[s] = 0
        self.geometry[s] = None
        self.overlay[s] = False
        self.pieces[s] = None
        self.free.append(s)


class AreaTally:
    """A plan's areas with their figures and shapes, built from scratch and kept up to date edit by edit.

    `levels`: the levels tallied now (others are built from scratch when first read);
    `geometry=False`: figures only, no coverage union (compare and validation need no shapes);
    `counts`: the count columns to tally (None: every count column the municipalities have);
    `graph`: the adjacency graph for `pieces` (built on first use when not given).
    """

    def __init__(
        self,
        munis: pd.DataFrame,
        plan: Plan,
        *,
        levels: Iterable[Level] = LEVELS,
        geometry: bool = True,
        counts: Sequence[str] | None = None,
        graph: nx.Graph | None = None,
    ):
        self._graph = graph
        self._munis = munis  # for the adjacency graph, built only if `pieces` is asked for
        self.crs = getattr(munis, "crs", None)
        self._coverage = bool(munis.attrs.get("coverage_valid", True))
        wanted = [*COUNT_COLUMNS, *AGE_BANDS, *ADDED_COUNTS] if counts is None else list(counts)
        self._count_cols = [c for c in wanted if c in munis.columns]
        geom_name = munis.active_geometry_name if isinstance(munis, gpd.GeoDataFrame) else None
        has_geometry = geometry and geom_name is not None and geom_name in munis.columns
        geom_col = [geom_name] if has_geometry else []
        extra = [c for c in ("name", "pref", "area_km2") if c in munis.columns]
        # One block take, then no attrs: pandas deep-copies `attrs` (the loader's report) on every
        # column access, which would cost more than all the sums.
        block = pd.DataFrame(munis[["code", *extra, *self._count_cols, *geom_col]])
        block.attrs = {}
        self.codes = block["code"].astype(str).to_numpy(dtype=object)
        n = len(self.codes)
        if len(set(self.codes)) != n:
            raise PlanError("境界データに同じ市町村コードが2回以上あります。1市町村1行にしてください。")
        self._names = block["name"].to_numpy(dtype=object, na_value="") if "name" in extra else self.codes.copy()
        self._pref = (
            block["pref"].to_numpy(dtype=object, na_value=None) if "pref" in extra else np.full(n, None, dtype=object)
        )
        self._geoms = np.asarray(block[geom_col[0]].array, dtype=object) if has_geometry else None
        k = len(self._count_cols)
        # Per municipality, what it adds to its area's row: counts (0 when unknown), 1 per known
        # count, 1 member; the last column (1 when 未確定) depends on the plan and is set per flow.
        self._static = np.zeros((n, 2 * k + 2), dtype=np.int64)
        for j, c in enumerate(self._count_cols):
            col = block[c]
            self._static[:, j] = col.to_numpy(dtype=np.int64, na_value=0)
            self._static[:, k + j] = col.notna().to_numpy()
        self._static[:, 2 * k] = 1
        self._members_col, self._unconfirmed_col = 2 * k, 2 * k + 1
        self._km2 = block["area_km2"].to_numpy(dtype=np.float64, na_value=np.nan) if "area_km2" in extra else None
        self._code_order = np.argsort(self.codes.astype(str), kind="stable")
        self._rank = np.empty(n, dtype=np.int64)  # position of each municipality in code order
        self._rank[self._code_order] = np.arange(n)
        self._code_set = set(self.codes.tolist())
        self._cover_ids = self._coverage_ids(munis.attrs.get("coverage_groups")) if not self._coverage else None

        self._assign = self._arrays(plan)
        self._plan = plan
        self._levels: dict[str, _Level] = {}
        self._frames: dict[str, gpd.GeoDataFrame] = {}
        for lv in levels:
            self._tally(check_level_name(lv))

    # ---- public ---------------------------------------------------------------------------------
    @property
    def plan(self) -> Plan:
        return self._plan

    @property
    def graph(self) -> nx.Graph:
        """The adjacency graph (`pieces` needs it); built from the municipalities on first use."""
        if self._graph is None:
            from geo_app.core.adjacency import build_adjacency

            self._graph = build_adjacency(self._munis)
        return self._graph

    def apply(self, new_plan: Plan) -> set[tuple[str, str]]:
        """Bring the areas to `new_plan`; returns the (level, area) pairs whose rows changed.

        Listed: an area whose members or labels (parent, hub, 未確定) changed, an area that
        disappeared (under its old name), an area that appeared, and an area whose members
        without a boundary changed. Only the levels tallied so far are updated and reported.
        """
        new = self._arrays(new_plan)  # refuses a bad plan before anything changes
        old = self._assign
        differs = {c: np.asarray(old[c] != new[c], dtype=bool) for c in new}
        touched: set[tuple[str, str]] = set()
        any_change = any(d.any() for d in differs.values())
        for lv, st in self._levels.items():
            i = LEVELS.index(lv)
            cols = [*LEVELS[i:], "status", *(["hub"] if lv == "homecare" else [])]
            changed = np.flatnonzero(np.logical_or.reduce([differs[c] for c in cols]))
            if len(changed):
                touched |= {(lv, a) for a in self._move(st, changed, old, new)}
        self._assign, self._plan = new, new_plan
        gone = self._without_boundary(new_plan)
        for lv, st in self._levels.items():
            absent = self._absent(st.level, gone)
            if absent != st.absent:  # members with no boundary leave their areas unknown
                touched |= {(lv, a) for a in absent.keys() | st.absent.keys() if absent.get(a) != st.absent.get(a)}
                st.absent, any_change = absent, True
        if any_change:
            self._frames.clear()  # row order follows the upper levels, so every frame is rebuilt
        return touched

    def areas(self, level: Level = "homecare", *, with_pieces: bool = False) -> gpd.GeoDataFrame:
        """The Areas frame of `level`: one row per area, children next to their parents."""
        level = check_level_name(level)
        frame = self._frames.get(level)
        if frame is None:
            frame = self._frames[level] = self._frame(level)
        out = frame.copy()
        if with_pieces:
            out["pieces"] = [self.pieces(level, a) for a in out["area"]]
        return out

    def pieces(self, level: Level, area: str) -> int:
        """Number of separate pieces of an area (land borders join; ferry routes join too)."""
        st = self._tally(check_level_name(level))
        s = st.slot.get(area)
        if s is None:
            raise PlanError(f"{area} という圏域は今の区域案にありません。")
        count = st.pieces[s]
        if count is None:
            from geo_app.core.adjacency import components

            codes = self.codes[np.flatnonzero(st.area_of == s)].tolist()
            count = st.pieces[s] = len(components(self.graph, codes))
        return count

    def overlay_areas(self, level: Level = "homecare") -> list[str]:
        """Areas whose shape took the slow overlay union (members not all in one valid coverage), sorted."""
        st = self._tally(check_level_name(level))
        return sorted(a for a, s in st.slot.items() if st.overlay[s])

    def members(self, level: Level, area: str) -> list[str]:
        """Codes of an area's municipalities (with a boundary), in code order."""
        st = self._tally(check_level_name(level))
        s = st.slot.get(area)
        return [] if s is None else sorted(self.codes[np.flatnonzero(st.area_of == s)].tolist())

    def area_names(self, level: Level = "homecare") -> list[str]:
        """Areas with at least one municipality that has a boundary."""
        return list(self._tally(check_level_name(level)).slot)

    def area_of(self, code: str, level: Level = "homecare") -> str | None:
        hit = np.flatnonzero(self.codes == code)
        return None if not len(hit) else self._assign[check_level_name(level)][hit[0]]

    def assigned(self, level: Level) -> int:
        """How many municipalities (with a boundary) have an area of `level`."""
        return int(np.count_nonzero(self._tally(check_level_name(level)).area_of >= 0))

    # ---- the two branches -----------------------------------------------------------------------
    def _tally(self, level: Level) -> _Level:
        """The level's tally, built from scratch on first use: every member flows into an empty tally."""
        st = self._levels.get(level)
        if st is not None:
            return st
        st = _Level(level, len(self.codes), self._static.shape[1])
        names = self._assign[level]
        has = np.flatnonzero(pd.notna(names))
        ids, uniques = pd.factorize(names[has])
        for area in uniques:
            st.open(area)  # slots 0, 1, 2 … in order of factorize, so ids are slots
        st.area_of[has] = ids
        self._flow(st, has, self._assign, +1)
        self._derive(st, list(range(len(uniques))), self._assign)
        st.absent = self._absent(level, self._without_boundary(self._plan))
        self._levels[level] = st
        return st

    def _move(
        self, st: _Level, changed: np.ndarray, old: dict[str, np.ndarray], new: dict[str, np.ndarray]
    ) -> list[str]:
        """After an edit: each changed municipality flows out of its old area's row (old status)
        and into its new one's (new status); the areas touched are re-derived. Returns the names
        of the areas whose rows changed."""
        lv = st.level
        before_slots = st.area_of[changed]
        dirty = set(before_slots[before_slots >= 0].tolist())
        before = {s: self._labels(st, s) for s in dirty}
        names = {s: st.name[s] for s in dirty}
        moved = changed[np.asarray(old[lv][changed] != new[lv][changed], dtype=bool)]
        regrouped = set(st.area_of[moved][st.area_of[moved] >= 0].tolist())
        self._flow(st, changed[before_slots >= 0], old, -1)
        for p, area in zip(changed.tolist(), new[lv][changed].tolist(), strict=True):
            st.area_of[p] = -1 if area is None else st.open(area)
        after_slots = st.area_of[changed]
        self._flow(st, changed[after_slots >= 0], new, +1)
        joined = set(after_slots[after_slots >= 0].tolist())
        regrouped |= set(st.area_of[moved][st.area_of[moved] >= 0].tolist())
        dirty |= joined
        names.update({s: st.name[s] for s in joined})
        live = []
        for s in sorted(dirty):
            if st.sums[s, self._members_col] <= 0:
                st.close(s)
            else:
                live.append(s)
        self._derive(st, live, new)
        out = []
        for s in dirty:
            alive = st.name[s] is not None
            if not alive or s in regrouped or s not in before or before[s] != self._labels(st, s):
                out.append(str(names[s]))
        return out

    # ---- shared by both branches ----------------------------------------------------------------
    def _coverage_ids(self, groups: dict[str, bool] | None) -> np.ndarray | None:
        """Per municipality, its prefecture's index when that prefecture is a coverage by itself, else -1.

        The loader records this (`attrs["coverage_groups"]`); a frame that lost its attrs on the way is
        checked here, so one file per prefecture keeps the fast union wherever an area stays in one.
        """
        if self._geoms is None:
            return None
        pref = pd.Series(self.codes, dtype=object).str[:2].to_numpy(dtype=object)
        if groups is None:
            groups = coverage_groups(self._geoms, pref)
        ids = {code: i for i, code in enumerate(sorted(groups)) if groups[code]}
        return np.fromiter((ids.get(p, -1) for p in pref.tolist()), dtype=np.int64, count=len(pref))

    def _flow(self, st: _Level, positions: np.ndarray, assign: dict[str, np.ndarray], sign: int) -> None:
        """Add (+1) or take out (−1) the municipalities' contributions to their areas' rows."""
        if not len(positions):
            return
        contrib = self._static[positions]
        contrib[:, self._unconfirmed_col] = assign["status"][positions] == UNCONFIRMED
        np.add.at(st.sums, st.area_of[positions], contrib if sign > 0 else -contrib)

    def _derive(self, st: _Level, slots: list[int], assign: dict[str, np.ndarray]) -> None:
        """Labels, km² and shape of `slots`, from their members in code order (as one batch)."""
        if not slots:
            return
        pos = np.flatnonzero(np.isin(st.area_of, np.asarray(slots, dtype=np.int64)))
        keys = st.area_of[pos]
        order = np.lexsort((self._rank[pos], keys))
        pos, keys = pos[order], keys[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        bounds = list(zip(starts.tolist(), [*starts[1:].tolist(), len(pos)], strict=True))
        parent_level = PARENT_LEVEL[st.level]
        parents = (self._pref if parent_level == "prefecture" else assign[parent_level])[pos].tolist()
        hubs = assign["hub"][pos].tolist() if st.level == "homecare" else None
        names = self._names[pos].tolist()
        km2 = self._km2[pos].tolist() if self._km2 is not None else None
        for s, (a, b) in zip(keys[starts].tolist(), bounds, strict=True):
            st.parent[s] = "・".join(dict.fromkeys(p for p in parents[a:b] if p is not None)) or None
            st.hub[s] = next((h for h in hubs[a:b] if h is not None), None) if hubs is not None else None
            st.members_text[s] = "、".join(names[a:b])
            st.first[s] = pos[a]
            st.km2[s] = math.fsum(km2[a:b]) if km2 is not None else np.nan  # NaN when a member's is unknown
            st.pieces[s] = None
        if self._geoms is not None:
            fast = self._coverage if self._cover_ids is None else in_one_coverage(keys, self._cover_ids[pos])
            got, unions = grouped_coverage_union(self._geoms[pos], keys, coverage=fast)
            st.geometry[got.astype(np.int64)] = unions
            st.overlay[got.astype(np.int64)] = ~np.asarray(fast, dtype=bool)

    @staticmethod
    def _labels(st: _Level, s: int) -> tuple[object, object, bool]:
        """What a row shows of an area besides its members: parent, hub, 未確定 or not."""
        return st.parent[s], st.hub[s], bool(st.sums[s, -1] > 0)

    def _frame(self, level: Level) -> gpd.GeoDataFrame:
        """The Areas frame from the tally's rows: the same code whichever branch filled them."""
        st = self._tally(level)
        slots = self._order(st, np.fromiter(st.slot.values(), dtype=np.int64, count=len(st.slot)))
        sums = st.sums[slots]
        k = len(self._count_cols)
        members = sums[:, self._members_col]
        data: dict[str, object] = {
            "area": pd.array([st.name[s] for s in slots], dtype="string"),
            "parent": pd.array([st.parent[s] for s in slots], dtype="string"),
            "municipalities": members.astype("int64"),
        }
        for j, c in enumerate(self._count_cols):
            # A count is only as complete as its members: one without it makes the area's unknown.
            data[c] = pd.arrays.IntegerArray(sums[:, j].copy(), sums[:, k + j] != members)
        if self._km2 is not None:
            data["area_km2"] = st.km2[slots].astype(np.float64)
        data["status"] = pd.array(np.where(sums[:, self._unconfirmed_col] > 0, UNCONFIRMED, CONFIRMED), dtype="string")
        data["hub"] = pd.array(
            [st.hub[s] for s in slots] if level == "homecare" else [None] * len(slots), dtype="string"
        )
        data["members"] = pd.array([st.members_text[s] for s in slots], dtype="string")
        out = pd.DataFrame(data)
        out["level"] = level
        out = add_rates(out)  # on a plain frame: GeoDataFrame column assignment costs more than the maths
        ordered = [c for c in [*AREA_COLUMNS, *AGE_BANDS, *_ADDED] if c in out.columns]
        areas = gpd.GeoDataFrame(out[ordered], geometry=st.geometry[slots], crs=self.crs)
        return mark_absent(areas, self._plan, self.codes, level)

    def _order(self, st: _Level, slots: np.ndarray) -> np.ndarray:
        """Children next to their parents: by the first code of the tertiary, then of the secondary,
        then of the area itself; an upper area's first code counts this level's members only."""
        first = st.first[slots]
        keys = [self._rank[first]]
        present = self._code_order[st.area_of[self._code_order] >= 0]  # this level's members, in code order
        for upper in LEVELS[LEVELS.index(st.level) + 1 :]:
            upper_id = np.full(len(self.codes), -1, dtype=np.int64)
            upper_id[present] = pd.factorize(self._assign[upper][present])[0]  # numbered by first code
            keys.append(upper_id[first])
        return slots[np.lexsort(keys)]  # the last key is the primary one

    def _arrays(self, plan: Plan) -> dict[str, np.ndarray]:
        """The plan as one object array per column, aligned with the municipalities (None: not in it)."""
        check_unique_codes(plan)
        t = plan.table
        idx = pd.Index(t["code"].astype(str)).get_indexer(self.codes)
        missing = idx < 0
        out = {}
        for col in (*LEVELS, *_PLAN_ATTRS):
            v = t[col].to_numpy(dtype=object, na_value=None)[idx] if len(t) else np.full(len(idx), None, dtype=object)
            v[missing] = None
            out[col] = v
        return out

    def _without_boundary(self, plan: Plan) -> np.ndarray:
        """Plan rows whose municipality has no boundary here."""
        have = self._code_set
        return np.fromiter((c not in have for c in plan.table["code"].tolist()), dtype=bool, count=len(plan.table))

    def _absent(self, level: Level, without_boundary: np.ndarray) -> dict[str, tuple]:
        """Area → its plan rows with no boundary (what `mark_absent` reads), to tell when they change."""
        if not without_boundary.any():
            return {}
        t = self._plan.table
        gone = without_boundary & t[level].notna().to_numpy()
        if not gone.any():
            return {}
        parent = PARENT_LEVEL[level]
        cols = ["code", level, *([parent] if parent != "prefecture" else []), "status", "hub"]
        out: dict[str, list] = {}
        for row in t.loc[gone, cols].itertuples(index=False):
            out.setdefault(row[1], []).append(tuple(row))
        return {a: tuple(rows) for a, rows in out.items()}


def total(areas: pd.DataFrame) -> dict[str, float | int | None]:
    """The figures of all `areas` together, for every registry metric the frame has.

    Unknown is None. Used for the 合計 row of every table, the app's totals and map titles.
    """
    out: dict[str, float | int | None] = {}
    for key, m in METRICS.items():
        if key not in areas.columns or m.aggregation != "sum":
            continue
        col = areas[key]
        value = col.sum(skipna=False) if len(col) else 0
        out[key] = None if pd.isna(value) else (float(value) if m.kind == "decimal" else int(value))
    for key, m in METRICS.items():
        if key not in areas.columns or m.aggregation != "ratio" or m.numerator is None:
            continue
        num = out.get(m.numerator)
        den_parts = [out.get(d) for d in m.denominator]
        if num is None or any(d is None for d in den_parts) or not den_parts:
            out[key] = None
            continue
        known = [float(d) for d in den_parts if d is not None]  # none is None here: checked above
        den = known[0] - sum(known[1:], 0.0)
        out[key] = float(num) * m.scale / den if den > 0 and not math.isnan(den) else None
    return out
