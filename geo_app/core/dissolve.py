"""Plan × Municipalities → Areas: one row per area with summed counts, rates and one geometry.

Counts are summed with a pandas groupby; geometries are unioned with GEOS CoverageUnion in a
single vectorised call (municipalities form a coverage, so the union is exact and fast).
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_app.core.errors import PlanError
from geo_app.core.geometry import grouped_coverage_union
from geo_app.core.plan import LEVELS, PARENT_LEVEL, UNCONFIRMED, Level, Plan
from geo_app.core.counts import AGE_BANDS, COUNT_COLUMNS, add_rates

__all__ = ["dissolve", "assign", "check_unique_codes", "absent_members", "mark_absent", "AREA_COLUMNS", "SUMMARY_COLUMNS"]

#: Columns of an Areas frame, in order (age bands follow when the population table has them).
AREA_COLUMNS = [
    "area", "parent", "level", "municipalities", *COUNT_COLUMNS,
    "aging_rate", "share_75_plus", "area_km2", "density", "status", "hub", "members",
]
SUMMARY_COLUMNS = [
    "area", "parent", "municipalities", "population", "age_0_14", "age_15_64", "age_65_plus",
    "age_75_plus", "age_85_plus", "age_unknown", "aging_rate", "share_75_plus", "area_km2", "density", "status",
]


def check_unique_codes(plan: Plan) -> None:
    """One row per municipality, or every total would count some twice."""
    dup = plan.table["code"].duplicated(keep=False)
    if dup.any():
        codes = sorted(set(plan.table.loc[dup, "code"]))
        raise PlanError(
            f"区域案で同じ市町村コードが2回以上あります: {', '.join(codes[:10])}。1市町村1行にしてから集計してください（geo-app validate で確認できます）。"
        )


def _assigned_rows(municipalities: pd.DataFrame, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """Positions of matching rows in municipalities and in the plan (inner join on code)."""
    check_unique_codes(plan)
    pos = pd.Index(plan.table["code"]).get_indexer(municipalities["code"])
    keep = pos >= 0
    return np.flatnonzero(keep), pos[keep]


def absent_members(plan: Plan, codes: pd.Series | np.ndarray, level: Level) -> pd.DataFrame:
    """Plan rows of `level` areas whose municipality is not among `codes` (no boundary loaded)."""
    t = plan.table
    gone = t[level].notna() & ~t["code"].isin(pd.Index(np.asarray(codes, dtype=object)))
    return t.loc[gone, ["code", "name", level]]


def mark_absent(areas: gpd.GeoDataFrame, plan: Plan, codes: pd.Series | np.ndarray, level: Level) -> gpd.GeoDataFrame:
    """Areas with a plan member that has no boundary: every figure unknown, never a partial total.

    An area none of whose members has a boundary still gets its row (no shape, figures unknown),
    so that a total over the areas is unknown too. Both engines (`dissolve`, `LivePlan`) call this.
    """
    absent = absent_members(plan, codes, level)
    if absent.empty:
        return areas
    names = set(absent[level])
    figures = [c for c in [*COUNT_COLUMNS, *AGE_BANDS, "aging_rate", "share_75_plus", "area_km2", "density"] if c in areas.columns]
    out = areas.copy()
    hit = out["area"].isin(names).to_numpy()
    for c in figures:
        out.loc[hit, c] = pd.NA  # Int64 counts become <NA>, float rates and km² NaN
    new = [a for a in dict.fromkeys(absent[level]) if a not in set(out["area"])]
    if new:
        rows = plan.table.drop_duplicates(level).set_index(level).loc[new]
        parent = PARENT_LEVEL[level]
        extra = pd.DataFrame({
            "area": pd.array(new, dtype="string"),
            "parent": pd.array([None] * len(new) if parent == "prefecture" else rows[parent].tolist(), dtype="string"),
            "level": level,
            "municipalities": np.zeros(len(new), dtype="int64"),
            "status": pd.array(rows["status"].tolist(), dtype="string"),
            "hub": pd.array(rows["hub"].tolist() if level == "homecare" else [None] * len(new), dtype="string"),
            "members": pd.array([""] * len(new), dtype="string"),
        })
        extra = gpd.GeoDataFrame(extra, geometry=[None] * len(new), crs=areas.crs)
        out = pd.concat([out, extra], ignore_index=True)
        for c in figures:
            out[c] = out[c].astype(areas[c].dtype)
        out = gpd.GeoDataFrame(out[list(areas.columns)], geometry=areas.geometry.name, crs=areas.crs)
    return out


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
    # Two block takes, not one __getitem__ per column: per-column access dominates at this size.
    left = pd.DataFrame(municipalities[["code", "name", "pref", "area_km2", *counts]]).take(rows).reset_index(drop=True)
    right = plan.table[[*LEVELS, "status", "hub"]].take(plan_rows).reset_index(drop=True)
    df = pd.concat([left, right], axis=1)
    present = df[level].notna().to_numpy()
    df = df[present]
    geoms = municipalities.geometry.values[rows][present]
    if not df["code"].is_monotonic_increasing:  # loaded municipalities already are: sort only if needed
        order = np.argsort(df["code"].to_numpy(dtype=str), kind="stable")
        df, geoms = df.iloc[order], geoms[order]
    if df.empty:
        raise PlanError("区域案の市町村コードが境界データと1つも一致しません。都道府県とコードを確かめてください。")

    # Group by integer ids (areas numbered in order of their first, i.e. smallest, member code):
    # numpy on ids is several times faster than pandas grouping on Arrow-backed strings.
    ids, names = pd.factorize(df[level].to_numpy(dtype=object))
    n = len(names)
    order = np.argsort(ids, kind="stable")  # members of each area together, by code
    cuts = np.flatnonzero(np.diff(ids[order])) + 1

    def per_area(values: np.ndarray) -> list[np.ndarray]:
        return np.split(values[order], cuts)

    stats = pd.DataFrame(df[[*counts, "area_km2"]]).groupby(ids, sort=True).sum(min_count=1)
    stats.index = pd.Index(names, name=level)
    stats["municipalities"] = np.bincount(ids, minlength=n)
    # A count is only as complete as its members: one municipality without it makes the area's NA,
    # rather than a partial total that looks complete.
    missing = pd.DataFrame(df[counts]).isna().to_numpy()
    if missing.any():  # usual case: every member has every count, nothing to mask
        incomplete = np.add.reduceat(missing[order], np.r_[0, cuts], axis=0) > 0 if len(ids) else missing[:0]
        stats[counts] = stats[counts].mask(pd.DataFrame(incomplete, index=stats.index, columns=counts))
    parent_values = df[parent_col].to_numpy(dtype=object, na_value=None)
    stats["parent"] = ["・".join(dict.fromkeys(p for p in grp if p is not None)) or None for grp in per_area(parent_values)]
    unconfirmed = np.bincount(ids, weights=(df["status"] == UNCONFIRMED).to_numpy(dtype=bool, na_value=False), minlength=n) > 0
    stats["status"] = np.where(unconfirmed, UNCONFIRMED, "確定")
    if level == "homecare":
        hubs = [next((h for h in grp if h is not None), None) for grp in per_area(df["hub"].to_numpy(dtype=object, na_value=None))]
        stats["hub"] = pd.array(hubs, dtype="string")
    else:
        stats["hub"] = pd.array([None] * n, dtype="string")
    stats["members"] = ["、".join(grp) for grp in per_area(df["name"].to_numpy(dtype=object, na_value=""))]

    # Children stay next to their parents: order by the first code of the tertiary, then of the
    # secondary, then of the area itself (areas are already numbered by their first code).
    first = np.zeros(n, dtype=np.int64)
    first[ids[::-1]] = np.arange(len(ids))[::-1]  # row of each area's first member
    sort_cols = [np.arange(n)]
    for lv in LEVELS[LEVELS.index(level) + 1:]:
        parent_ids = pd.factorize(df[lv].to_numpy(dtype=object))[0]  # numbered by first code too
        sort_cols.append(parent_ids[first])
    rank = np.lexsort(sort_cols)  # last key is primary: tertiary, then secondary, then own
    stats = stats.iloc[rank]

    geometry = grouped_coverage_union(geoms, ids, coverage=municipalities.attrs.get("coverage_valid", True))[1][rank]
    stats.index.name = "area"
    out = stats.reset_index()
    out["level"] = level
    out[["area", "parent", "status", "members"]] = out[["area", "parent", "status", "members"]].astype("string")
    out = add_rates(out)
    out[counts] = out[counts].astype("Int64")  # already Int64 from the sums unless the input was not
    out["municipalities"] = out["municipalities"].astype("int64")
    ordered = [c for c in AREA_COLUMNS if c in out.columns] + [b for b in AGE_BANDS if b in out.columns]
    areas = gpd.GeoDataFrame(out[ordered], geometry=geometry, crs=municipalities.crs)
    return mark_absent(areas, plan, municipalities["code"], level)
