"""Where the embedded default data lives (built by scripts/build_data.py from ../shared/data)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

__all__ = ["data_dir", "boundaries_path", "population_path", "plans_dir", "readings_path", "read_code_table"]


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


def read_code_table(path: str | Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """An embedded table of counts by code (`code, kind, parent_code, *columns`), indexed by code, the
    counts nullable integers. A missing column or a repeated code means the file is stale: rebuild it."""
    df = pd.read_csv(
        path,
        dtype={"code": "string", "kind": "string", "parent_code": "string", **dict.fromkeys(columns, "Int64")},
    )
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: columns {missing} missing (rebuild with scripts/build_data.py)")
    table = df.set_index("code")
    if not table.index.is_unique:
        raise ValueError(f"{path}: a code appears twice")
    return table
