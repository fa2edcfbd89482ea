"""Two plans side by side: which municipalities moved, and how each area's population changed.

Planners compare a draft with the current plan (or two drafts) before a meeting; the answer
they need is a table — who moved from where to where, and which areas grew or shrank by how
many people. Figures come from `AreaTally` (the one place that adds municipalities up into
areas), counts only (no geometry), so it is instant even for all of Japan.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from geo_app.core.edits import check_level
from geo_app.core.errors import PlanError
from geo_app.core.plan import LEVEL_JA, LEVELS, Level, Plan
from geo_app.core.tally import AreaTally

__all__ = ["PlanDiff", "compare_plans", "MOVED_COLUMNS", "AREA_DIFF_COLUMNS"]

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
    "population_a",
    "population_b",
    "difference",
    "municipalities_a",
    "municipalities_b",
    "change",
]
#: Values of `areas["change"]`.
ONLY_A, ONLY_B, CHANGED, SAME = "Aのみ", "Bのみ", "構成が変化", "変化なし"


@dataclass
class PlanDiff:
    """What differs between plan A and plan B (A = before, B = after)."""

    moved: pd.DataFrame
    areas: pd.DataFrame
    only_in_a: tuple[str, ...] = ()
    only_in_b: tuple[str, ...] = ()
    level: str = "homecare"
    names: tuple[str, str] = field(default=("A", "B"))
    #: Areas with the same members under another name (area_a → area_b), at `level`.
    renamed: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["level", "area_a", "area_b"]))

    @property
    def changed_areas(self) -> pd.DataFrame:
        """Areas that exist in one plan only or whose members differ."""
        return self.areas[self.areas["change"] != SAME]

    def summary(self) -> str:
        """One Japanese sentence for the top of a comparison page."""
        lv = LEVEL_JA.get(self.level, self.level)
        n_a = int((self.areas["change"] != ONLY_B).sum())
        n_b = int((self.areas["change"] != ONLY_A).sum())
        parts = [f"{len(self.moved)}市町村の所属が変わります", f"{lv}は {n_a} → {n_b}"]
        changed = int((self.areas["change"] != SAME).sum())
        if changed:
            parts.append(f"変わる{lv} {changed}")
        if self.only_in_a:
            parts.append(f"「{self.names[0]}」だけにある市町村 {len(self.only_in_a)}")
        if self.only_in_b:
            parts.append(f"「{self.names[1]}」だけにある市町村 {len(self.only_in_b)}")
        return "、".join(parts) + "。"


def compare_plans(munis: pd.DataFrame, plan_a: Plan, plan_b: Plan, *, level: str = "homecare") -> PlanDiff:
    """Municipalities whose area differs (any level) and the per-area population change at `level`.

    Populations are the areas' figures as `dissolve` gives them: unknown (<NA>) when a member has
    no count or no boundary in `munis`, never a partial total. `moved` lists municipalities in
    both plans whose home-care, secondary or tertiary area differs, largest population first;
    `areas` has every area of either plan, in plan B's order followed by areas that only plan A
    has.
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

    pop = (
        munis.set_index(munis["code"].astype(str))["population"]
        if "population" in munis.columns
        else pd.Series(dtype="Int64")
    )
    names = munis.set_index(munis["code"].astype(str))["name"] if "name" in munis.columns else pd.Series(dtype="string")
    both = a.merge(b, on="code", suffixes=("_a", "_b"), how="inner", sort=False)
    differ = pd.Series(False, index=both.index)
    for col in LEVELS:
        x, y = both[f"{col}_a"], both[f"{col}_b"]
        differ |= ~(x.isna() & y.isna()) & (x.isna() | y.isna() | (x.astype(object) != y.astype(object)))
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
    order = list(dict.fromkeys([*tally_b.index, *tally_a.index]))
    areas = pd.DataFrame({"area": pd.array(order, dtype="string")})
    ta, tb = tally_a.reindex(order), tally_b.reindex(order)
    areas["level"] = lv
    # An area a plan does not have holds nobody (0); an area with no census data stays blank.
    areas["population_a"] = _people(ta)
    areas["population_b"] = _people(tb)
    areas["difference"] = areas["population_b"] - areas["population_a"]
    areas["municipalities_a"] = ta["municipalities"].fillna(0).astype("int64").to_numpy()
    areas["municipalities_b"] = tb["municipalities"].fillna(0).astype("int64").to_numpy()
    change = [
        ONLY_B
        if name not in tally_a.index
        else ONLY_A
        if name not in tally_b.index
        else SAME
        if tally_a.at[name, "members"] == tally_b.at[name, "members"]
        else CHANGED
        for name in order
    ]
    areas["change"] = change
    areas = areas[AREA_DIFF_COLUMNS]
    gone = tally_a[~tally_a.index.isin(tally_b.index)]
    new_by_members = {m: n for n, m in tally_b.loc[~tally_b.index.isin(tally_a.index), "members"].items()}
    pairs = [(old, new_by_members[m]) for old, m in gone["members"].items() if m in new_by_members]
    renamed = pd.DataFrame(
        {"level": lv, "area_a": [p[0] for p in pairs], "area_b": [p[1] for p in pairs]},
        columns=["level", "area_a", "area_b"],
    )
    return PlanDiff(
        moved=moved,
        areas=areas,
        only_in_a=only_a,
        only_in_b=only_b,
        level=lv,
        names=(plan_a.name or "A", plan_b.name or "B"),
        renamed=renamed,
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
