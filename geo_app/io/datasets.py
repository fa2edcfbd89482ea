"""Where the embedded default data lives (built by scripts/build_data.py from ../shared/data)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_dir", "boundaries_path", "population_path", "plans_dir", "readings_path"]


def data_dir() -> Path:
    """GEO_APP_DATA_DIR, else the copy inside an installed wheel, else the repository's data/."""
    env = os.environ.get("GEO_APP_DATA_DIR")
    if env:
        return Path(env)
    package = Path(__file__).resolve().parents[1]  # geo_app/
    packaged = package / "_data"
    if packaged.is_dir():
        return packaged
    return package.parent / "data"


def boundaries_path() -> Path:
    return data_dir() / "boundaries" / "n03_2021_japan.parquet"


def population_path() -> Path:
    return data_dir() / "population" / "census2020.csv"


def plans_dir() -> Path:
    return data_dir() / "plans"


def readings_path() -> Path:
    """Japan Post readings (katakana, hiragana) of every municipality and ward, for search."""
    return data_dir() / "municipalities" / "readings.csv"
