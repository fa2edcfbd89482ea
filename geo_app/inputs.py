"""Resolve what a user names (a built-in plan or a file; boundary and population files) into data."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import geopandas as gpd
import pandas as pd

from .boundaries import load_municipalities
from .plans import Plan, load_plan

__all__ = ["municipalities_for_plan", "load_inputs"]


def municipalities_for_plan(
    plan: Plan,
    *,
    boundaries: str | Path | Sequence[str | Path] | None = None,
    population: "str | Path | pd.DataFrame | None" = "census2020",
) -> gpd.GeoDataFrame:
    """The plan's prefectures, at the plan's granularity (wards only where the plan uses them)."""
    return load_municipalities(
        boundaries,
        prefectures=plan.prefectures or None,
        keep_wards_of=plan.ward_cities,
        population=population,
    )


def load_inputs(
    plan: str | Path | Plan,
    *,
    boundaries: str | Path | Sequence[str | Path] | None = None,
    population: "str | Path | pd.DataFrame | None" = "census2020",
) -> tuple[Plan, gpd.GeoDataFrame]:
    p = plan if isinstance(plan, Plan) else load_plan(plan)
    return p, municipalities_for_plan(p, boundaries=boundaries, population=population)
