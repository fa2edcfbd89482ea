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


def assign(municipalities: gpd.GeoDataFrame, plan: Plan) -> gpd.GeoDataFrame:
    """Municipalities joined with their areas (inner join on code); the plan decides the rows."""
    dup = plan.table["code"].duplicated(keep=False)
    if dup.any():
        codes = sorted(set(plan.table.loc[dup, "code"]))
        raise PlanError(
            f"区域案で同じ市町村コードが2回以上あります: {', '.join(codes[:10])}。1市町村1行にしてから集計してください（geo-app validate で確認できます）。"
        )
    cols = ["code", *LEVELS, "status", "hub"]
    return municipalities.merge(plan.table[cols], on="code", how="inner", validate="one_to_one")


def dissolve(municipalities: gpd.GeoDataFrame, plan: Plan, level: Level = "homecare") -> gpd.GeoDataFrame:
    """One row per area of `level`, children next to their parents; a valid coverage."""
    if level not in LEVELS:
        raise PlanError(f"集計の単位「{level}」が分かりません。homecare / secondary / tertiary のいずれかです。")
    joined = assign(municipalities, plan)
    joined = joined[joined[level].notna()]
    if joined.empty:
        raise PlanError("区域案の市町村コードが境界データと1つも一致しません。都道府県とコードを確かめてください。")
    parent_level = PARENT_LEVEL[level]
    parent_col = "pref" if parent_level == "prefecture" else parent_level
    counts = [c for c in [*COUNT_COLUMNS, *AGE_BANDS] if c in joined.columns]

    grouped = joined.groupby(level, sort=False)
    stats = grouped[counts].sum(min_count=1) if counts else pd.DataFrame(index=grouped.size().index)
    stats["municipalities"] = grouped.size()
    stats["area_km2"] = grouped["area_km2"].sum()
    # Children stay next to their parents: order by tertiary, then secondary, then own first code.
    upper = LEVELS[LEVELS.index(level):][::-1]
    order_keys = pd.DataFrame({lv: joined.groupby(lv)["code"].transform("min") for lv in upper})
    stats["first_code"] = order_keys.assign(key=joined[level]).groupby("key").min().agg("".join, axis=1)
    parents = joined[[level, parent_col]].drop_duplicates().dropna()
    stats["parent"] = parents.groupby(level)[parent_col].agg("・".join)
    stats["status"] = np.where(grouped["status"].agg(lambda s: (s == UNCONFIRMED).any()), UNCONFIRMED, "確定")
    hubs = joined[[level, "hub"]].dropna().drop_duplicates(level).set_index(level)["hub"] if level == "homecare" else pd.Series(dtype="string")
    stats["hub"] = hubs.reindex(stats.index).astype("string")
    stats["members"] = joined.sort_values("code").groupby(level, sort=False)["name"].agg("、".join)

    keys, unions = grouped_coverage_union(joined.geometry.values, joined[level].to_numpy(dtype=object))
    geom = pd.Series(unions, index=pd.Index(keys, name=level))
    stats = stats.sort_values("first_code", kind="stable")
    areas = gpd.GeoDataFrame(
        stats.drop(columns="first_code").reset_index().rename(columns={level: "area"}),
        geometry=geom.reindex(stats.index).to_numpy(),
        crs=municipalities.crs,
    )
    areas["level"] = level
    areas = add_rates(areas)
    for c in counts:
        areas[c] = areas[c].astype("Int64")
    areas["municipalities"] = areas["municipalities"].astype("int64")
    ordered = [c for c in AREA_COLUMNS if c in areas.columns] + [b for b in AGE_BANDS if b in areas.columns]
    return areas[[*ordered, "geometry"]]
