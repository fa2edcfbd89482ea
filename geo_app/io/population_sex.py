"""The embedded 2020 census by sex: 男・女 per 5-year band, for population pyramids.

Only the embedded census has a split by sex (data/population/census2020_sex.csv, derived from
e-Stat table 2-7-1 by scripts/build_sex_bands.py); a user's own population table has none, so
the app draws a pyramid by sex only on the embedded census.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from geo_app.core.counts import AGE_BANDS
from geo_app.core.pyramid import SEX_COLUMNS

__all__ = ["load_population_by_sex", "population_by_sex_path"]


def population_by_sex_path():
    from geo_app.io import datasets

    return datasets.data_dir() / "population" / "census2020_sex.csv"


@lru_cache(maxsize=1)
def _read() -> pd.DataFrame:
    dtypes = {"code": "string", "sex": "string", **dict.fromkeys([*AGE_BANDS, "age_unknown"], "int64")}
    return pd.read_csv(population_by_sex_path(), dtype=dtypes, usecols=SEX_COLUMNS)[SEX_COLUMNS]


def load_population_by_sex() -> pd.DataFrame:
    """Tidy: one row per code and sex (男, 女) with the 21 bands and age_unknown (1,916 codes × 2).

    Read once per process; each call gets its own copy, so a caller may change it freely.
    """
    out = _read().copy()
    out.attrs["source"] = "令和2年国勢調査 人口等基本集計（総務省統計局、e-Stat 表番号2-7-1）"
    return out
