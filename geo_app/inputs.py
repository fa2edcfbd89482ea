"""Resolve what a user names (a built-in plan or a file; boundary and population files) into data."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import geopandas as gpd
import pandas as pd

from .boundaries import load_municipalities
from .plans import Plan

__all__ = ["municipalities_for_plan"]


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
