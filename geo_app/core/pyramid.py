"""Population pyramids: 男・女 by 5-year band per area of a plan, and for the plan's prefecture(s).

The input is the tidy table of `SEX_COLUMNS` (one row per code and sex: the embedded census's
`io.population_sex`). Area sums go through `AreaTally`, once per sex, so they follow the same
rules as every other area figure: a member without a row of that sex makes the area's figures
unknown (<NA>), never a partial total.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from geo_app.core.codes import PREFECTURES, city_of
from geo_app.core.counts import AGE_BANDS
from geo_app.core.plan import Level, Plan
from geo_app.core.tally import AreaTally, check_level_name

__all__ = [
    "SEXES",
    "SEX_COLUMNS",
    "PYRAMID_COUNTS",
    "area_pyramids",
    "describes",
    "prefecture_pyramid",
    "prefecture_label",
    "pyramid_of",
]

SEXES = ("男", "女")
#: What a pyramid adds up, per sex: the 21 bands and 年齢不詳.
PYRAMID_COUNTS = [*AGE_BANDS, "age_unknown"]
#: Columns of the tidy table by sex (`io.population_sex.load_population_by_sex`).
SEX_COLUMNS = ["code", "sex", *PYRAMID_COUNTS]


def area_pyramids(by_sex: pd.DataFrame, plan: Plan, level: Level | str) -> pd.DataFrame:
    """Per area of `level`: a 男 and a 女 row of `PYRAMID_COUNTS` (Int64; <NA> when a member lacks them).

    Areas come in the tally's order (children next to their parents), 男 before 女.
    """
    lv = check_level_name(level)
    in_plan = by_sex[by_sex["code"].isin(set(plan.table["code"].dropna()))]
    parts = []
    for sex in SEXES:
        rows = pd.DataFrame(in_plan.loc[in_plan["sex"] == sex, ["code", *PYRAMID_COUNTS]]).reset_index(drop=True)
        tally = AreaTally(rows, plan, levels=(lv,), geometry=False, counts=PYRAMID_COUNTS)
        areas = pd.DataFrame(tally.areas(lv))
        part = areas[["area", *PYRAMID_COUNTS]].assign(sex=sex)
        part["order"] = range(len(part))
        parts.append(part)
    out = pd.concat(parts, ignore_index=True).sort_values(["order", "sex"], key=_sex_key, kind="stable")
    return out[["area", "sex", *PYRAMID_COUNTS]].reset_index(drop=True)


def describes(by_sex: pd.DataFrame, munis: pd.DataFrame) -> bool:
    """Whether the table by sex holds the municipalities' population: for every code in both,
    男 + 女 (bands and 年齢不詳) equals its `population`. A user's own table (a newer count, say)
    does not, and a pyramid by sex drawn from the census would then contradict every other figure."""
    if "population" not in munis.columns or by_sex.empty:
        return False
    totals = by_sex.groupby("code")[PYRAMID_COUNTS].sum().sum(axis=1)
    pop = pd.Series(munis["population"].to_numpy(), index=munis["code"].astype(str).to_numpy())
    both = pop.index.intersection(totals.index.astype(str))
    if not len(both):
        return False
    known = pop[both].notna().to_numpy(dtype=bool)
    return bool((pop[both][known].to_numpy(dtype="int64") == totals[both][known].to_numpy(dtype="int64")).all())


def _sex_key(col: pd.Series) -> pd.Series:
    return col.map({s: i for i, s in enumerate(SEXES)}) if col.name == "sex" else col


def prefecture_pyramid(by_sex: pd.DataFrame, prefectures: Iterable[str]) -> pd.DataFrame:
    """男 and 女 rows (index: sex) of `PYRAMID_COUNTS` summed over the municipalities of the prefectures.

    `prefectures`: 2-digit prefecture codes. Designated-city wards are left out (their city's row
    holds them), as the census's prefecture rows do. Empty rows of zeros when none match.
    """
    wanted = set(prefectures)
    codes = by_sex["code"].astype("string")
    municipal = codes.str[:2].isin(wanted) & (city_of(codes) == codes)
    sums = by_sex.loc[municipal.to_numpy(dtype=bool)].groupby("sex")[PYRAMID_COUNTS].sum(min_count=1)
    return sums.reindex(list(SEXES)).astype("Int64")


def prefecture_label(prefectures: Iterable[str]) -> str:
    """「道全体」「都全体」「府全体」「県全体」 by the prefecture's suffix; 「都道府県全体」 for several."""
    names = [PREFECTURES.get(p, "") for p in dict.fromkeys(prefectures)]
    if len(names) != 1 or not names[0]:
        return "都道府県全体"
    return f"{names[0][-1]}全体"


def pyramid_of(frame: pd.DataFrame) -> dict[str, list[int]] | None:
    """{男: bands, 女: bands} of a frame with one row per sex (an area's or the prefecture's); None if unknown."""
    if "sex" in frame.columns:
        frame = frame.set_index("sex")
    if not set(SEXES) <= set(frame.index):
        return None
    out: dict[str, list[int]] = {}
    for sex in SEXES:
        values = frame.loc[sex, AGE_BANDS]
        if values.isna().any():
            return None
        out[sex] = [int(v) for v in values]
    return out
