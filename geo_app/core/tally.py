"""Totals over areas, by the registry's aggregation rules: the one place that adds areas up.

A sum is unknown when any area's value is unknown (never a partial total); a ratio is computed
from the summed numerator and denominator (never an average of the areas' ratios).
"""
from __future__ import annotations

import math

import pandas as pd

from geo_app.core.metrics import METRICS

__all__ = ["total"]


def total(areas: pd.DataFrame) -> dict[str, float | int | None]:
    """The figures of all `areas` together, for every registry metric the frame has.

    Unknown is None. Used for the 合計 row of every table, the app's totals and map titles.
    """
    out: dict[str, float | int | None] = {}
    for key, m in METRICS.items():
        if key not in areas.columns or m.aggregation != "sum":
            continue
        col = areas[key]
        value = col.sum(skipna=False) if len(col) else 0
        out[key] = None if pd.isna(value) else (float(value) if m.kind == "decimal" else int(value))
    for key, m in METRICS.items():
        if key not in areas.columns or m.aggregation != "ratio" or m.numerator is None:
            continue
        num = out.get(m.numerator)
        den_parts = [out.get(d) for d in m.denominator]
        if num is None or any(d is None for d in den_parts) or not den_parts:
            out[key] = None
            continue
        den = float(den_parts[0]) - sum(float(d) for d in den_parts[1:])  # type: ignore[arg-type]
        out[key] = float(num) / den if den > 0 and not math.isnan(den) else None
    return out
