"""Counts and the rates derived from them: the columns that add up over municipalities.

Rates are computed from sums, never averaged: the aging rate the census way,
65+ ÷ (population − 年齢不詳); density from people and km².
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo_app.core.metrics import METRICS

__all__ = ["AGE_BANDS", "GROUP_COLUMNS", "COUNT_COLUMNS", "add_rates"]

_BAND_EDGES = list(range(0, 100, 5))
AGE_BANDS = [f"age_{a}_{a + 4}" for a in _BAND_EDGES] + ["age_100_plus"]
GROUP_COLUMNS = ["age_0_14", "age_15_64", "age_65_plus", "age_75_plus", "age_85_plus"]
#: Columns that add up over municipalities (rates are derived after summing).
COUNT_COLUMNS = ["population", "age_unknown", *GROUP_COLUMNS]


def _floats(df: pd.DataFrame, col: str, missing: float = np.nan) -> np.ndarray:
    return df[col].to_numpy(dtype="float64", na_value=missing)


def _ratio(num: np.ndarray, den: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """num / den as nullable floats: NA where either is missing or the denominator is not positive."""
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.where(den > 0, num / den, np.nan)
    return pd.array(values, dtype="Float64")  # NaN becomes NA


def add_rates(df: pd.DataFrame) -> pd.DataFrame:
    """Aging rate (census way), 75+ share and density, from summed counts; then every other ratio of
    the registry whose parts the frame has (future aging rates, indices with 2020 = 100)."""
    out = df.copy()
    if "population" not in out.columns:
        return _registry_ratios(out)
    pop = _floats(out, "population")
    if "age_65_plus" in out.columns:
        known = pop - (_floats(out, "age_unknown", 0.0) if "age_unknown" in out.columns else 0.0)
        out["aging_rate"] = _ratio(_floats(out, "age_65_plus"), known)
        if "age_75_plus" in out.columns:
            out["share_75_plus"] = _ratio(_floats(out, "age_75_plus"), known)
    if "area_km2" in out.columns:
        out["density"] = _ratio(pop, _floats(out, "area_km2"))
    return _registry_ratios(out)


_CENSUS_RATES = ("aging_rate", "share_75_plus", "density")  # computed above, the census way


def _registry_ratios(out: pd.DataFrame) -> pd.DataFrame:
    """numerator ÷ (first denominator − the rest) × scale, for the registry's other ratios."""
    for key, m in METRICS.items():
        if m.aggregation != "ratio" or key in _CENSUS_RATES or m.numerator is None or not m.denominator:
            continue
        if m.numerator not in out.columns or any(d not in out.columns for d in m.denominator):
            continue
        den = _floats(out, m.denominator[0])
        for d in m.denominator[1:]:
            den = den - _floats(out, d)
        out[key] = _ratio(_floats(out, m.numerator) * m.scale, den)
    return out
