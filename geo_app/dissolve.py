"""Plan × Municipalities → Areas: one row per area with summed counts, rates and one geometry.

Counts are summed with a pandas groupby; geometries are unioned with GEOS CoverageUnion in a
single vectorised call (municipalities form a coverage, so the union is exact and fast).
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from .errors import PlanError
from .geometry import grouped_coverage_union
from .plans import LEVELS, PARENT_LEVEL, UNCONFIRMED, Level, Plan
from .population import AGE_BANDS, COUNT_COLUMNS, add_rates

__all__ = ["dissolve", "assign", "AREA_COLUMNS", "SUMMARY_COLUMNS"]

#: Columns of an Areas frame, in order (age bands follow when the population table has them).
AREA_COLUMNS = [
    "area", "parent", "level", "municipalities", *COUNT_COLUMNS,
    "aging_rate", "share_75_plus", "area_km2", "density", "status", "hub", "members",
]
SUMMARY_COLUMNS = [
    "area", "parent", "municipalities", "population", "age_0_14", "age_15_64", "age_65_plus",
    "age_75_plus", "age_85_plus", "age_unknown", "aging_rate", "share_75_plus", "area_km2", "density", "status",
]


def _check_unique(plan: Plan) -> None:
    dup = plan.table["code"].duplicated(keep=False)
    if dup.any():
        codes = sorted(set(plan.table.loc[dup, "code"]))
        raise PlanError(
            f"区域案で同じ市町村コードが2回以上あります: {', '.join(codes[:10])}。1市町村1行にしてから集計してください（geo-app validate で確認できます）。"
        )


def _assigned_rows(municipalities: pd.DataFrame, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """Positions of matching rows in municipalities and in the plan (inner join on code)."""
    _check_unique(plan)
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
    """One row per area of `level`, children next to their parents; a valid coverage."""
    if level not in LEVELS:
        raise PlanError(f"集計の単位「{level}」が分かりません。homecare / secondary / tertiary のいずれかです。")
    rows, plan_rows = _assigned_rows(municipalities, plan)
    # Attribute work on a plain DataFrame: GeoDataFrame indexing costs more than the sums themselves.
    counts = [c for c in [*COUNT_COLUMNS, *AGE_BANDS] if c in municipalities.columns]
    parent_level = PARENT_LEVEL[level]
    parent_col = "pref" if parent_level == "prefecture" else parent_level
    df = pd.DataFrame(municipalities[["code", "name", "pref", "area_km2", *counts]]).iloc[rows].reset_index(drop=True)
    ptab = plan.table.iloc[plan_rows].reset_index(drop=True)
    for col in (*LEVELS, "status", "hub"):
        df[col] = ptab[col].to_numpy()
    present = df[level].notna().to_numpy()
    df = df[present]
    geoms = municipalities.geometry.values[rows][present]
    if df.empty:
        raise PlanError("区域案の市町村コードが境界データと1つも一致しません。都道府県とコードを確かめてください。")

    key = df[level]
    grouped = df.groupby(level, sort=False)
    stats = grouped[[*counts, "area_km2"]].sum(min_count=1)
    stats["municipalities"] = grouped.size()
    stats["parent"] = df[[level, parent_col]].drop_duplicates().dropna().groupby(level, sort=False)[parent_col].agg("・".join)
    stats["status"] = np.where((df["status"] == UNCONFIRMED).groupby(key, sort=False).any(), UNCONFIRMED, "確定")
    if level == "homecare":
        stats["hub"] = df[[level, "hub"]].dropna().drop_duplicates(level).set_index(level)["hub"].reindex(stats.index).astype("string")
    else:
        stats["hub"] = pd.Series(pd.NA, index=stats.index, dtype="string")
    stats["members"] = df.sort_values("code").groupby(level, sort=False)["name"].agg("、".join)

    # Children stay next to their parents: order by the first code of the tertiary, then of the
    # secondary, then of the area itself.
    first = df.sort_values("code").drop_duplicates(level).set_index(level)
    sort_key = first["code"].copy()
    for lv in LEVELS[LEVELS.index(level) + 1:]:
        sort_key = df.groupby(lv)["code"].min().reindex(first[lv]).fillna("").to_numpy() + sort_key
    stats = stats.loc[sort_key.sort_values(kind="stable").index]

    keys, unions = grouped_coverage_union(geoms, key.to_numpy(dtype=object))
    geometry = pd.Series(unions, index=keys).reindex(stats.index).to_numpy()
    stats.index.name = "area"
    out = stats.reset_index()
    out["level"] = level
    out[["area", "parent", "status"]] = out[["area", "parent", "status"]].astype("string")
    out = add_rates(out)
    out[counts] = out[counts].astype("Int64")
    out["municipalities"] = out["municipalities"].astype("int64")
    ordered = [c for c in AREA_COLUMNS if c in out.columns] + [b for b in AGE_BANDS if b in out.columns]
    return gpd.GeoDataFrame(out[ordered], geometry=geometry, crs=municipalities.crs)
