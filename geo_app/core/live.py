"""Areas kept up to date edit by edit: recompute only what an edit touched.

`dissolve` re-sums and re-unions everything (≈0.1 s for Hokkaido, ≈1 s for all Japan), which is
too slow to run on every click. `LivePlan` builds the three levels once and then, for each new
plan, finds the municipalities whose assignment changed, moves their counts from one tally to
another (subtract / add, never a full re-sum), re-unions only the changed areas (coverage union
of their members) and recomputes their labels, rates and contiguity. Its `areas(level)` has the
same rows, order, columns and dtypes as `dissolve(munis, plan, level)`; tests hold it to that.
Counts are integers and move exactly; km² are floats, so a changed area's km² is re-summed from
its members (math.fsum) instead of being added to and subtracted from edit after edit.
"""
from __future__ import annotations

import math
from typing import Iterable

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from geo_app.core.dissolve import AREA_COLUMNS, absent_members, check_unique_codes, mark_absent
from geo_app.core.errors import PlanError
from geo_app.core.geometry import grouped_coverage_union
from geo_app.core.plan import LEVELS, PARENT_LEVEL, UNCONFIRMED, Level, Plan
from geo_app.core.counts import AGE_BANDS, COUNT_COLUMNS, add_rates

__all__ = ["LivePlan"]

_ATTRS = ("status", "hub")


class _LevelState:
    """Tallies and cached results of one level, one slot per area (slots are reused)."""

    def __init__(self, level: Level, n: int, k: int):
        self.level = level
        self.slot: dict[str, int] = {}
        self.free: list[int] = list(range(n - 1, -1, -1))
        self.name: list[str | None] = [None] * n
        self.sums = np.zeros((n, k), dtype=np.int64)
        self.nonnull = np.zeros((n, k), dtype=np.int64)
        self.km2 = np.zeros(n, dtype=np.float64)
        self.count = np.zeros(n, dtype=np.int64)
        self.unconfirmed = np.zeros(n, dtype=np.int64)
        self.members: list[set[int]] = [set() for _ in range(n)]
        self.geometry = np.full(n, None, dtype=object)
        self.parent: list[object] = [pd.NA] * n
        self.hub: list[object] = [pd.NA] * n
        self.members_text: list[str] = [""] * n
        self.min_code: list[str] = [""] * n
        self.first = np.zeros(n, dtype=np.int64)  # position of the member with the smallest code
        self.pieces: list[int | None] = [None] * n

    def open(self, area: str) -> int:
        s = self.slot.get(area)
        if s is None:
            s = self.free.pop()
            self.slot[area] = s
            self.name[s] = area
        return s

    def close(self, s: int) -> None:
        del self.slot[self.name[s]]
        self.name[s] = None
        self.sums[s] = 0
        self.nonnull[s] = 0
        self.km2[s] = 0.0
        self.count[s] = 0
        self.unconfirmed[s] = 0
        self.geometry[s] = None
        self.pieces[s] = None
        self.free.append(s)


def _labels(st: _LevelState, s: int) -> tuple[object, object, bool]:
    """What a reader sees of an area besides its members: parent, hub, 未確定 or not."""
    parent, hub = st.parent[s], st.hub[s]
    return (None if parent is pd.NA else parent, None if hub is pd.NA else hub, bool(st.unconfirmed[s] > 0))


class LivePlan:
    """A plan's areas at all three levels, updated incrementally by `apply(new_plan)`."""

    def __init__(self, munis: gpd.GeoDataFrame, plan: Plan, *, graph: nx.Graph | None = None):
        if graph is None:
            from geo_app.core.adjacency import build_adjacency

            graph = build_adjacency(munis)
        self.graph = graph
        self.crs = munis.crs
        self.codes = munis["code"].astype(str).to_numpy(dtype=object)
        if len(set(self.codes)) != len(self.codes):
            raise PlanError("境界データに同じ市町村コードが2回以上あります。1市町村1行にしてください。")
        n = len(self.codes)
        self._names = munis["name"].astype("string").to_numpy(dtype=object, na_value=None) if "name" in munis.columns \
            else self.codes.copy()
        self._pref = munis["pref"].to_numpy(dtype=object, na_value=None) if "pref" in munis.columns else np.full(n, None, dtype=object)
        self._geoms = np.asarray(munis.geometry.values, dtype=object)
        self._coverage = bool(munis.attrs.get("coverage_valid", True))
        self._count_cols = [c for c in [*COUNT_COLUMNS, *AGE_BANDS] if c in munis.columns]
        vals = munis[self._count_cols] if self._count_cols else pd.DataFrame(index=munis.index)
        self._values = np.column_stack([vals[c].fillna(0).to_numpy(dtype=np.int64) for c in self._count_cols]) \
            if self._count_cols else np.zeros((n, 0), dtype=np.int64)
        self._present = np.column_stack([vals[c].notna().to_numpy() for c in self._count_cols]).astype(np.int64) \
            if self._count_cols else np.zeros((n, 0), dtype=np.int64)
        self._km2 = munis["area_km2"].fillna(0.0).to_numpy(dtype=np.float64) if "area_km2" in munis.columns else np.zeros(n)
        self._code_order = np.argsort(self.codes.astype(str), kind="stable")
        self._rank = np.empty(n, dtype=np.int64)
        self._rank[self._code_order] = np.arange(n)

        self._levels = {lv: _LevelState(lv, max(n, 1), len(self._count_cols)) for lv in LEVELS}
        empty = {c: np.full(n, None, dtype=object) for c in (*LEVELS, *_ATTRS)}
        self._assign = empty
        self._plan = Plan(name=plan.name, table=plan.table.iloc[:0])
        self._frames: dict[str, gpd.GeoDataFrame] = {}
        self._update(plan, eager_pieces=False)

    # ---- public ------------------------------------------------------------------------------
    @property
    def plan(self) -> Plan:
        return self._plan

    def apply(self, new_plan: Plan) -> set[tuple[str, str]]:
        """Bring the areas to `new_plan`; returns the (level, area) pairs that changed.

        An area whose members or labels changed is listed under its name; an area that became
        empty is listed and disappears; a new area is listed and appears.
        """
        return self._update(new_plan, eager_pieces=True)

    def areas(self, level: Level = "homecare", *, with_pieces: bool = False) -> gpd.GeoDataFrame:
        """Same frame as `dissolve(munis, self.plan, level)` (optionally with a `pieces` column)."""
        if level not in LEVELS:
            raise PlanError(f"集計の単位「{level}」が分かりません。homecare / secondary / tertiary のいずれかです。")
        frame = self._frames.get(level)
        if frame is None:
            frame = self._frames[level] = self._build(level)
        out = frame.copy()
        if with_pieces:
            out["pieces"] = [self.pieces(level, a) for a in out["area"]]
        return out

    def pieces(self, level: Level, area: str) -> int:
        """Number of separate pieces of an area (land borders join; ferry routes join too)."""
        st = self._levels[level]
        s = st.slot.get(area)
        if s is None:
            raise PlanError(f"{area} という圏域は今の区域案にありません。")
        if st.pieces[s] is None:
            st.pieces[s] = self._count_pieces(st.members[s])
        return int(st.pieces[s])  # type: ignore[arg-type]

    def members(self, level: Level, area: str) -> list[str]:
        """Codes of an area's municipalities, in code order."""
        st = self._levels[level]
        s = st.slot.get(area)
        return [] if s is None else sorted(self.codes[p] for p in st.members[s])

    def area_names(self, level: Level = "homecare") -> list[str]:
        return list(self._levels[level].slot)

    def area_of(self, code: str, level: Level = "homecare") -> str | None:
        hit = np.flatnonzero(self.codes == code)
        return None if not len(hit) else self._assign[level][hit[0]]

    # ---- internals -----------------------------------------------------------------------------
    def _arrays(self, plan: Plan) -> dict[str, np.ndarray]:
        t = plan.table
        check_unique_codes(plan)
        idx = pd.Index(t["code"].astype(str)).get_indexer(self.codes)
        missing = idx < 0
        out = {}
        for col in (*LEVELS, *_ATTRS):
            v = t[col].to_numpy(dtype=object, na_value=None)[idx] if len(t) else np.full(len(idx), None, dtype=object)
            v[missing] = None
            out[col] = v
        return out

    def _update(self, new_plan: Plan, *, eager_pieces: bool) -> set[tuple[str, str]]:
        new = self._arrays(new_plan)
        old = self._assign
        differs = {c: np.asarray(old[c] != new[c], dtype=bool) for c in new}
        touched: set[tuple[str, str]] = set()
        any_dirty = False
        for i, lv in enumerate(LEVELS):
            uppers = LEVELS[i + 1:]
            cols = [lv, *uppers, "status"] + (["hub"] if lv == "homecare" else [])
            changed = np.flatnonzero(np.logical_or.reduce([differs[c] for c in cols]))
            if not len(changed):
                continue
            st = self._levels[lv]
            dirty: set[int] = set()
            before: dict[int, tuple] = {}  # labels of the areas that existed before
            moved = changed[np.asarray(old[lv][changed] != new[lv][changed], dtype=bool)]
            # Leave the old areas (old labels), then join the new ones (new labels).
            for p in changed:
                a0 = old[lv][p]
                if a0 is None:
                    continue
                s = st.slot[a0]
                if s not in dirty:
                    dirty.add(s)
                    before[s] = _labels(st, s)
                st.unconfirmed[s] -= old["status"][p] == UNCONFIRMED
            leaving = [p for p in moved if old[lv][p] is not None]
            self._shift(st, leaving, old[lv], leave=True)
            for p in changed:
                a1 = new[lv][p]
                if a1 is None:
                    continue
                s = st.open(a1)
                dirty.add(s)
                st.unconfirmed[s] += new["status"][p] == UNCONFIRMED
            joining = [p for p in moved if new[lv][p] is not None]
            self._shift(st, joining, new[lv], leave=False)
            regrouped = {st.slot[old[lv][p]] for p in leaving} | {st.slot[new[lv][p]] for p in joining}
            names = {s: st.name[s] for s in dirty}
            self._refresh(st, dirty, new, eager_pieces=eager_pieces)
            for s in dirty:
                same = s not in regrouped and s in before and st.name[s] is not None \
                    and before[s] == _labels(st, s)
                if not same:
                    touched.add((lv, names[s]))
            any_dirty = True
        self._assign = new
        self._plan = new_plan
        absent = {lv: absent_members(new_plan, self.codes, lv).to_numpy(dtype=object).tolist() for lv in LEVELS}
        if absent != getattr(self, "_absent", None):  # members with no boundary leave their areas unknown
            touched |= {(lv, str(r[2])) for lv in LEVELS for r in [*absent[lv], *getattr(self, "_absent", {}).get(lv, [])]}
            self._absent, any_dirty = absent, True
        if any_dirty:
            self._frames.clear()
        return touched

    def _refresh(self, st: _LevelState, dirty: set[int], assign: dict[str, np.ndarray], *, eager_pieces: bool) -> None:
        """Recompute labels, geometry and contiguity of the dirty slots; close emptied ones."""
        live = []
        for s in sorted(dirty):
            if st.count[s] <= 0:
                st.close(s)
            else:
                live.append(s)
        if not live:
            return
        parent_level = PARENT_LEVEL[st.level]
        parent_of = self._pref if parent_level == "prefecture" else assign[parent_level]
        hub_of = assign["hub"]
        pos_lists = [np.fromiter(sorted(st.members[s]), dtype=np.int64) for s in live]
        for s, pos in zip(live, pos_lists):
            parents = [v for v in dict.fromkeys(parent_of[pos]) if v is not None]
            st.parent[s] = "・".join(parents) if parents else pd.NA
            if st.level == "homecare":
                hubs = [h for h in hub_of[pos] if h is not None]
                st.hub[s] = hubs[0] if hubs else pd.NA
            by_code = pos[np.argsort(self._rank[pos], kind="stable")]
            st.members_text[s] = "、".join(str(x) for x in self._names[by_code])
            st.min_code[s] = str(self.codes[by_code[0]])
            st.first[s] = by_code[0]
            st.km2[s] = math.fsum(self._km2[pos].tolist())  # floats: re-sum, so nothing drifts
            st.pieces[s] = self._count_pieces(st.members[s]) if eager_pieces else None
        allpos = np.concatenate(pos_lists)
        keys = np.repeat(np.array(live), [len(p) for p in pos_lists])
        got, unions = grouped_coverage_union(self._geoms[allpos], keys, coverage=self._coverage)
        st.geometry[got.astype(np.int64)] = unions

    def _shift(self, st: "_LevelState", positions: list[int], area_of: np.ndarray, *, leave: bool) -> None:
        """Take the municipalities' counts out of (leave) or into their areas' tallies."""
        if not positions:
            return
        slots = np.array([st.slot[area_of[p]] for p in positions])
        op = np.subtract if leave else np.add
        op.at(st.sums, slots, self._values[positions])
        op.at(st.nonnull, slots, self._present[positions])
        op.at(st.count, slots, 1)
        for s, p in zip(slots, positions):
            (st.members[s].discard if leave else st.members[s].add)(p)

    def _count_pieces(self, members: Iterable[int]) -> int:
        from geo_app.core.adjacency import components

        return len(components(self.graph, [self.codes[p] for p in members]))

    def _build(self, level: Level) -> gpd.GeoDataFrame:
        st = self._levels[level]
        slots = np.array(list(st.slot.values()), dtype=np.int64)
        # dissolve's order: first code of the tertiary, of the secondary, then of the area itself,
        # the parents being those of the area's first municipality (by code).
        present = np.flatnonzero(np.array([a is not None for a in self._assign[level]], dtype=bool))
        first = np.array([st.first[s] for s in slots], dtype=np.int64)
        keys = np.array([st.min_code[s] for s in slots], dtype=object)
        for u in LEVELS[LEVELS.index(level) + 1:]:
            values = self._assign[u]
            mins: dict[str, str] = {}  # first code of each upper area, over this level's rows
            for code, v in zip(self.codes[present].tolist(), values[present].tolist()):
                if v is not None and (v not in mins or code < mins[v]):
                    mins[v] = code
            keys = np.array([mins.get(v, "") if v is not None else "" for v in values[first].tolist()], dtype=object) + keys
        order = np.argsort(keys.astype(str), kind="stable") if len(keys) else np.array([], dtype=np.int64)
        slots = slots[order]
        data: dict[str, object] = {
            "area": pd.array([st.name[s] for s in slots], dtype="string"),
            "parent": pd.array([st.parent[s] for s in slots], dtype="string"),
            "municipalities": st.count[slots].astype("int64"),
        }
        sums, nonnull = st.sums[slots], st.nonnull[slots]
        members = st.count[slots]
        for j, c in enumerate(self._count_cols):
            complete = nonnull[:, j] == members  # as dissolve: one member without a count makes it NA
            data[c] = pd.array(np.where(complete, sums[:, j], 0), dtype="Int64")
            if (~complete).any():
                data[c][~complete] = pd.NA
        data["area_km2"] = st.km2[slots].astype(np.float64)
        data["status"] = pd.array(np.where(st.unconfirmed[slots] > 0, UNCONFIRMED, "確定"), dtype="string")
        data["hub"] = pd.array([st.hub[s] for s in slots] if level == "homecare" else [pd.NA] * len(slots), dtype="string")
        data["members"] = pd.array([st.members_text[s] for s in slots], dtype="string")
        out = pd.DataFrame(data)
        out["level"] = level
        out = add_rates(out)  # on a plain frame: GeoDataFrame column assignment costs more than the maths
        ordered = [c for c in AREA_COLUMNS if c in out.columns] + [b for b in AGE_BANDS if b in out.columns]
        areas = gpd.GeoDataFrame(out[ordered], geometry=st.geometry[slots], crs=self.crs)
        return mark_absent(areas, self._plan, self.codes, level)
