"""Colour classes of a choropleth: Fisher–Jenks breaks (mapclassify), palette and legend texts."""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import mapclassify
import numpy as np
import pandas as pd

from geo_app.core.metrics import Metric

__all__ = ["PALETTE", "class_breaks", "colour_of", "legend_colours", "legend_text"]

PALETTE = ["#fff5eb", "#fdd0a2", "#fdae6b", "#f16913", "#a63603", "#6b2102", "#3d1301"]
UNKNOWN_COLOUR = "#dddddd"


def class_breaks(values: Iterable[float], k: int = 5) -> list[float]:
    """Upper bounds of k classes (Fisher–Jenks via mapclassify); fewer when values are few."""
    v = np.asarray([x for x in values if x is not None and not pd.isna(x)], dtype=float)
    if v.size == 0:
        return []
    k = max(1, min(k, len(np.unique(v))))
    if k == 1:
        return [float(v.max())]
    with warnings.catch_warnings():  # mapclassify's note that numba would be faster
        warnings.filterwarnings("ignore", message="Numba not installed")
        return [float(b) for b in mapclassify.FisherJenks(v, k=k).bins]


def colour_of(value: float | None, bins: list[float]) -> str:
    """The class colour of a value; grey when the value is unknown."""
    if value is None or pd.isna(value) or not bins:
        return UNKNOWN_COLOUR
    idx = int(np.searchsorted(bins, value, side="left"))
    palette = PALETTE[1 : len(bins) + 1] if len(bins) < len(PALETTE) else PALETTE
    return palette[min(idx, len(palette) - 1)]


def legend_colours(bins: list[float]) -> list[str]:
    return [colour_of(b, bins) for b in bins]


def legend_text(i: int, bins: list[float], m: Metric) -> str:
    """「a 〜 b」 for class i, formatted by the metric's registry entry."""
    lo = None if i == 0 else bins[i - 1]
    hi = bins[i]
    return f"〜 {m.format(hi)}" if lo is None else f"{m.format(lo)} 〜 {m.format(hi)}"
