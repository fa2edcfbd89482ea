"""Two plans side by side: which areas are the same, renamed or changed, and who really moved.

Planners compare a draft with the current plan (or two drafts) before a meeting; the answer
they need is a table — which areas were only renamed, which gained or lost members, and who
moved from where to where. Areas are compared by their members, not by their names: a rename
moves nobody. Figures come from `AreaTally` (the one place that adds municipalities up into
areas), counts only (no geometry), so it is instant even for all of Japan.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from geo_app.core.edits import check_level
from geo_app.core.errors import PlanError
from geo_app.core.plan import LEVEL_JA, LEVELS, Level, Plan
from geo_app.core.tally import AreaTally

__all__ = ["PlanDiff", "compare_plans", "pair_areas", "MOVED_COLUMNS", "AREA_DIFF_COLUMNS", "RENAMED_COLUMNS"]

MOVED_COLUMNS = [
    "code",
    "name",
    "population",
    "from_homecare",
    "to_homecare",
    "from_secondary",
    "to_secondary",
    "from_tertiary",
    "to_tertiary",
]
AREA_DIFF_COLUMNS = [
    "level",
    "area",
    "area_a",
    "area_b",
    "population_a",
    "population_b",
    "difference",
    "municipalities_a",
    "municipalities_b",
    "change",
    "gained",
    "lost",
]
RENAMED_COLUMNS = ["level", "area_a", "area_b", "population_a", "population_b", "municipalities_a"]
#: Values of `areas["change"]`.
ONLY_A, ONLY_B, CHANGED, RENAMED, SAME = "Aのみ", "Bのみ", "構成が変化", "名前だけ変更", "変化なし"


@dataclass
class PlanDiff:
    """What differs between plan A and plan B (A = before, B = after).

    `areas` has one row per pair of areas (see `pair_areas`), A-only or B-only areas on rows of
    their own; `gained` / `lost` are the member codes B's area has that A's has not, and back;
    `municipality_names` turns those codes into names for people.
    """

    moved: pd.DataFrame
    areas: pd.DataFrame
    only_in_a: tuple[str, ...] = ()
    only_in_b: tuple[str, ...] = ()
    level: str = "homecare"
    names: tuple[str, str] = field(default=("A", "B"))
    municipality_names: dict[str, str] = field(default_factory=dict)

    @property
    def renamed(self) -> pd.DataFrame:
        """Areas with the same members under another name (area_a → area_b), at `level`."""
        return self.areas.loc[self.areas["change"] == RENAMED, RENAMED_COLUMNS].reset_index(drop=True)

    @property
    def changed_areas(self) -> pd.DataFrame:
        """Areas whose members differ, or that one plan only has (renamed areas are not changed)."""
        return self.areas[~self.areas["change"].isin([SAME, RENAMED])]

    def member_names(self, codes: tuple[str, ...]) -> str:
        """Codes as the names people know ('、'-joined plain text; escape it for Markdown)."""
        return "、".join(self.municipality_names.get(c, c) for c in codes)

    def summary(self) -> str:
        """One Japanese sentence for the top of a comparison page."""
        lv = LEVEL_JA.get(self.level, self.level)
        n_a = int(self.areas["area_a"].notna().sum())
        n_b = int(self.areas["area_b"].notna().sum())
        parts = [f"{len(self.moved)}市町村の所属が変わります", f"{lv}は {n_a} → {n_b}"]
        renamed = int((self.areas["change"] == RENAMED).sum())
        if renamed:
            parts.append(f"名前だけ変わる{lv} {renamed}")
        changed = len(self.changed_areas)
        if changed:
            parts.append(f"構成が変わる{lv} {changed}")
        if self.only_in_a:
            parts.append(f"「{self.names[0]}」だけにある市町村 {len(self.only_in_a)}")
        if self.only_in_b:
            parts.append(f"「{self.names[1]}」だけにある市町村 {len(self.only_in_b)}")
        return "、".join(parts) + "。"


def pair_areas(plan_a: Plan, plan_b: Plan, level: Level, population: pd.Series) -> dict[str, str]:
    """Which area of plan B is which area of plan A, at `level` ({area_a: area_b}; unpaired areas are left out).

    The pairing rule, in order:

    1. Same members → the same area, whatever the names (a rename; equal names: unchanged).
    2. The other areas are paired by a maximum-weight matching (`linear_sum_assignment`): the
       weight of (a, b) is the population of the municipalities they share (unknown counts as 0),
       ties broken by the number of shared municipalities, then by an equal name. Each area has
       at most one partner, and areas that share no municipality are never paired.

    So a split pairs the old area with its larger part (the other part is new), a merge pairs
    the new area with the larger old one (the other old area is gone), and a municipality has
    moved exactly when its area in B is not the partner of its area in A.
    """
    members_a = plan_a.table.dropna(subset=[level]).groupby(level, sort=False)["code"].agg(frozenset)
    members_b = plan_b.table.dropna(subset=[level]).groupby(level, sort=False)["code"].agg(frozenset)
    by_members = {m: name for name, m in members_b.items()}
    pairs = {str(a): str(by_members[m]) for a, m in members_a.items() if m in by_members}

    a = plan_a.table[["code", level]].dropna()
    b = plan_b.table[["code", level]].dropna()
    both = a.merge(b, on="code", suffixes=("_a", "_b"))
    both = both[~both[f"{level}_a"].isin(pairs.keys()) & ~both[f"{level}_b"].isin(pairs.values())]
    if both.empty:
        return pairs
    both = both.assign(people=both["code"].map(population).astype("Float64").fillna(0).to_numpy(dtype="float64"))
    shared = both.groupby([f"{level}_a", f"{level}_b"], sort=False)["people"].agg(["sum", "size"])
    rows = shared.index.get_level_values(0).unique()
    cols = shared.index.get_level_values(1).unique()
    # Lexicographic weight in one float: people, then shared municipalities, then an equal name.
    # Exact while people × 2(n+1) < 2**53 (all of Japan: 1.3e8 × 4e3).
    n = float(len(both))
    same_name = (shared.index.get_level_values(0) == shared.index.get_level_values(1)).astype("float64")
    weight = shared["sum"].to_numpy() * 2 * (n + 1) + shared["size"].to_numpy() * 2 + same_name
    matrix = np.zeros((len(rows), len(cols)))
    matrix[rows.get_indexer(shared.index.get_level_values(0)), cols.get_indexer(shared.index.get_level_values(1))] = (
        weight
    )
    for i, j in zip(*linear_sum_assignment(matrix, maximize=True), strict=True):
        if matrix[i, j] >= 2:  # at least one shared municipality
            pairs[str(rows[i])] = str(cols[j])
    return pairs


def compare_plans(munis: pd.DataFrame, plan_a: Plan, plan_b: Plan, *, level: str = "homecare") -> PlanDiff:
    """Areas paired by members (`pair_areas`) at `level`, and the municipalities that really moved.

    A municipality in both plans has moved when, at any level, its area in B is not the partner
    of its area in A (or it has an area in one plan only); a renamed area moves nobody. `moved`
    lists them largest population first. `areas` has one row per pair in plan B's order, then
    the areas only plan A has, with populations as `AreaTally` gives them: unknown (<NA>) when a
    member has no count or no boundary in `munis`, never a partial total; an area a plan does
    not have holds nobody (0).
    """
    lv: Level = check_level(level)
    if plan_a.ward_cities != plan_b.ward_cities:
        # One plan places a designated city by ward, the other whole: municipality-by-municipality
        # comparison has no common unit there, and silently dropping the city would mislead.
        cities = sorted(plan_a.ward_cities ^ plan_b.ward_cities)
        raise PlanError(
            f"2つの案で政令指定都市（{'、'.join(cities)}）の扱いが違います（一方は区ごと、もう一方は市全体）。"
            "同じ単位にそろえてから比べてください。"
        )
    a, b = plan_a.table, plan_b.table
    in_a, in_b = set(a["code"]), set(b["code"])
    only_a = tuple(sorted(in_a - in_b))
    only_b = tuple(sorted(in_b - in_a))

    by_code = munis.set_index(munis["code"].astype(str))
    pop = by_code["population"] if "population" in munis.columns else pd.Series(dtype="Int64")
    names = by_code["name"] if "name" in munis.columns else pd.Series(dtype="string")
    pairs = {col: pair_areas(plan_a, plan_b, col, pop) for col in LEVELS}

    both = a.merge(b, on="code", suffixes=("_a", "_b"), how="inner", sort=False)
    differ = pd.Series(False, index=both.index)
    for col in LEVELS:
        x, y = both[f"{col}_a"], both[f"{col}_b"]
        partner = x.map(pairs[col]).astype("string")
        stayed = (partner == y).fillna(False) | (x.isna() & y.isna())
        differ |= ~stayed
    d = both[differ]
    moved = pd.DataFrame(
        {
            "code": d["code"].astype("string"),
            "name": d["code"].map(names).fillna(d["name_b"]).fillna(d["name_a"]).astype("string"),
            "population": d["code"].map(pop).astype("Int64"),
            "from_homecare": d["homecare_a"],
            "to_homecare": d["homecare_b"],
            "from_secondary": d["secondary_a"],
            "to_secondary": d["secondary_b"],
            "from_tertiary": d["tertiary_a"],
            "to_tertiary": d["tertiary_b"],
        }
    )
    moved = moved.sort_values(["population", "code"], ascending=[False, True], na_position="last", kind="stable")
    moved = moved.reset_index(drop=True)[MOVED_COLUMNS]

    tally_a, tally_b = _tally(munis, plan_a, lv), _tally(munis, plan_b, lv)
    partner_of_b = {v: k for k, v in pairs[lv].items()}
    rows = [(partner_of_b.get(x), x) for x in tally_b.index]
    rows += [(x, None) for x in tally_a.index if x not in pairs[lv]]
    area_a = pd.array([r[0] for r in rows], dtype="string")
    area_b = pd.array([r[1] for r in rows], dtype="string")
    ta, tb = tally_a.reindex(area_a), tally_b.reindex(area_b)
    empty: frozenset[str] = frozenset()
    mem_a = [m if isinstance(m, frozenset) else empty for m in ta["members"]]
    mem_b = [m if isinstance(m, frozenset) else empty for m in tb["members"]]
    areas = pd.DataFrame(
        {
            "level": lv,
            "area": pd.array([r[1] if r[1] is not None else r[0] for r in rows], dtype="string"),
            "area_a": area_a,
            "area_b": area_b,
            "population_a": _people(ta),
            "population_b": _people(tb),
        }
    )
    areas["difference"] = areas["population_b"] - areas["population_a"]
    areas["municipalities_a"] = ta["municipalities"].fillna(0).astype("int64").to_numpy()
    areas["municipalities_b"] = tb["municipalities"].fillna(0).astype("int64").to_numpy()
    areas["change"] = [
        ONLY_B if x is None else ONLY_A if y is None else (SAME if x == y else RENAMED) if ma == mb else CHANGED
        for (x, y), ma, mb in zip(rows, mem_a, mem_b, strict=True)
    ]
    areas["gained"] = [tuple(sorted(mb - ma)) for ma, mb in zip(mem_a, mem_b, strict=True)]
    areas["lost"] = [tuple(sorted(ma - mb)) for ma, mb in zip(mem_a, mem_b, strict=True)]
    plan_names = pd.concat([a.set_index("code")["name"], b.set_index("code")["name"]])
    known = pd.concat([names.dropna().astype(str), plan_names.dropna().astype(str)])
    return PlanDiff(
        moved=moved,
        areas=areas[AREA_DIFF_COLUMNS],
        only_in_a=only_a,
        only_in_b=only_b,
        level=lv,
        names=(plan_a.name or "A", plan_b.name or "B"),
        municipality_names=known[~known.index.duplicated()].to_dict(),
    )


def _people(tally: pd.DataFrame) -> pd.arrays.IntegerArray:
    pop = tally["population"].astype("Int64").copy()
    pop[tally["municipalities"].isna()] = 0
    return pop.array


def _tally(munis: pd.DataFrame, plan: Plan, level: Level) -> pd.DataFrame:
    """Population and municipality count per area (from `AreaTally`) and member set, in the plan's own order."""
    areas = AreaTally(munis, plan, levels=(level,), geometry=False, counts=["population"]).areas(level)
    areas = pd.DataFrame(areas).set_index("area")
    population = (
        areas["population"] if "population" in areas.columns else pd.Series(pd.NA, index=areas.index, dtype="Int64")
    )
    rows = plan.table.dropna(subset=[level])
    out = pd.DataFrame(
        {
            "population": population,
            "municipalities": areas["municipalities"],
            "members": rows.groupby(level, sort=False)["code"].agg(frozenset),
        }
    )
    return out.reindex(plan.areas(level))
