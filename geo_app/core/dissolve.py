"""Plan × Municipalities → Areas: one row per area with summed counts, rates and one geometry.

The work is `geo_app.core.tally.AreaTally`'s from-scratch branch (integer sums per area, the
members' km² and one vectorised GEOS coverage union: municipalities form a coverage, so the
union is exact and fast); the app's incremental tally is the same object, so both agree.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_app.core.errors import PlanError
from geo_app.core.plan import LEVELS, Level, Plan
from geo_app.core.tally import (
    AREA_COLUMNS,
    AreaTally,
    absent_members,
    check_level_name,
    check_unique_codes,
    mark_absent,
)

__all__ = [
    "dissolve",
    "assign",
    "check_unique_codes",
    "absent_members",
    "mark_absent",
    "AREA_COLUMNS",
    "SUMMARY_COLUMNS",
]

SUMMARY_COLUMNS = [
    "area",
    "parent",
    "municipalities",
    "population",
    "age_0_14",
    "age_15_64",
    "age_65_plus",
    "age_75_plus",
    "age_85_plus",
    "age_unknown",
    "aging_rate",
    "share_75_plus",
    "area_km2",
    "density",
    "status",
]


def _assigned_rows(municipalities: pd.DataFrame, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """Positions of matching rows in municipalities and in the plan (inner join on code)."""
    check_unique_codes(plan)
    pos = pd.Index(plan.table["code"]).get_indexer(municipalities["code"])
    keep = pos >= 0
    return np.flatnonzero(keep), pos[keep]


def assign(municipalities: gpd.GeoDataFrame, plan: Plan) -> gpd.GeoDataFrame:
    """Municipalities joined with their areas (inner join on code); the plan decides the rows."""
    rows, plan_rows = _assigned_rows(municipalities, plan)
    out = municipalities.iloc[rows].reset_index(drop=True)
    extra = plan.table.iloc[plan_rows][[*LEVELS, "status", "hub"]].reset_index(drop=True)
    for col in extra.columns:
        out[col] = extra[col].to_numpy()
    return out


def dissolve(municipalities: gpd.GeoDataFrame, plan: Plan, level: Level = "homecare") -> gpd.GeoDataFrame:
    """One row per area of `level`, children next to their parents; a valid coverage.

    Counts of an area with a member lacking them, or with a member that has no boundary, are
    unknown (never a partial total).
    """
    level = check_level_name(level)
    tally = AreaTally(municipalities, plan, levels=(level,))
    if not tally.assigned(level):
        raise PlanError("区域案の市町村コードが境界データと1つも一致しません。都道府県とコードを確かめてください。")
    return tally.areas(level)
