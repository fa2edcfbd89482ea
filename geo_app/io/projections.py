"""IPSS municipal population projections, embedded: the 2023 edition to 2050, the 2018 edition's age groups.

The two editions are kept apart, never mixed: the 2023 edition (令和5年推計) gives population and 65+
for 2020–2050; only the older 2018 edition (平成30年推計) has 5-year bands, so 75+ and the groups the
demand indices weigh come from it, in columns prefixed `ipss2018_`. A code an edition did not project
is NA in that edition's columns, never filled or apportioned: 福島県's 13 浜通り municipalities
(projected in 2023 only as the group 07999), every Fukushima municipality in 2018, the wards of the 8
designated cities the 2018 edition projected only as whole cities, and codes created later (浜松市's
22138–22140). The one code change between the 2018 edition's codes and the 2020 census codes is the same
territory renamed, and is mapped through `RENAMED_2018` with its date and source.

The files are written by scripts/build_data.py from ../shared/data/projections (see data/SOURCES.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from geo_app.io import datasets
from geo_app.io.provenance import DataSource

__all__ = [
    "YEARS_2023",
    "YEARS_2018",
    "GROUPS_2018",
    "COLUMNS_2023",
    "COLUMNS_2018",
    "IPSS_2023",
    "IPSS_2018",
    "CodeChange",
    "RENAMED_2018",
    "load_projections",
    "sources",
]

YEARS_2023: tuple[int, ...] = (2020, 2025, 2030, 2035, 2040, 2045, 2050)
YEARS_2018: tuple[int, ...] = (2020, 2025, 2030, 2035, 2040, 2045)
#: The 2018 edition's groups (sums of its 5-year bands): what JMAP's demand weights apply to, and 75+.
GROUPS_2018: tuple[str, ...] = ("age_0_14", "age_15_39", "age_40_64", "age_65_74", "age_75_plus")
COLUMNS_2023: tuple[str, ...] = tuple(f"{c}_{y}" for c in ("population", "age_65_plus") for y in YEARS_2023)
COLUMNS_2018: tuple[str, ...] = tuple(f"ipss2018_{g}_{y}" for y in YEARS_2018 for g in GROUPS_2018)

IPSS_2023 = DataSource(
    "将来推計人口",
    "国立社会保障・人口問題研究所 令和5（2023）年推計（2020〜2050年）",
    "出典：国立社会保障・人口問題研究所『日本の地域別将来推計人口（令和5（2023）年推計）』を加工して作成",
)
IPSS_2018 = DataSource(
    "将来推計人口（75歳以上・年齢階級）",
    "国立社会保障・人口問題研究所 平成30（2018）年推計（2020〜2045年）",
    "出典：国立社会保障・人口問題研究所『日本の地域別将来推計人口（平成30（2018）年推計）』を加工して作成",
)


@dataclass(frozen=True)
class CodeChange:
    """A code the 2018 edition uses for a territory that has another code in 2020, unchanged in extent."""

    old: str
    new: str
    old_name: str
    new_name: str
    date: str  # ISO date the new code took effect
    source: str


#: 2018-edition code → the 2020 code of the same territory. Only renamings (a town becoming a city),
#: never mergers or splits: those would need apportioning, which is never done.
RENAMED_2018: dict[str, CodeChange] = {
    c.old: c
    for c in (
        CodeChange(
            "40305",
            "40231",
            "那珂川町",
            "那珂川市",
            "2018-10-01",
            "単独市制施行（那珂川町 → 那珂川市、区域の変更なし）。総務省「全国地方公共団体コード」平成30年10月1日改正",
        ),
    )
}
_FROM_2020 = {c.new: c.old for c in RENAMED_2018.values()}


def sources() -> tuple[DataSource, DataSource]:
    """The credits of the two editions, to be listed wherever their figures are shown."""
    return IPSS_2023, IPSS_2018


def _path(name: str) -> Path:
    """An embedded file, found like the census (GEO_APP_DATA_DIR, the wheel's _data, the repository's data/)."""
    return datasets.data_dir() / "projections" / name


@lru_cache(maxsize=4)
def _read(path: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """One edition's table by code, counts as nullable integers (read once per process and path)."""
    return datasets.read_code_table(path, columns)[list(columns)]


def load_projections(codes: Iterable[str]) -> pd.DataFrame:
    """Both editions' figures for `codes` (5-digit strings), in their order, NA where an edition has none.

    Columns: `population_{Y}` and `age_65_plus_{Y}` for Y in YEARS_2023 (2023 edition), then
    `ipss2018_{group}_{Y}` for Y in YEARS_2018 and group in GROUPS_2018 (2018 edition), all Int64.
    Municipalities, designated cities, 特別区 and wards are looked up by their own code only; the group
    07999 浜通り地域 by its own code too.
    """
    index = pd.Index([str(c) for c in codes], dtype="string", name="code")
    from_2023 = _read(str(_path("ipss2023.csv")), COLUMNS_2023)
    from_2018 = _read(str(_path("ipss2018.csv")), tuple(c.removeprefix("ipss2018_") for c in COLUMNS_2018))
    keys_2018 = pd.Index([_FROM_2020.get(c, c) for c in index], dtype="string", name="code")
    a = from_2023.reindex(index).reset_index(drop=True)
    b = from_2018.reindex(keys_2018).reset_index(drop=True).set_axis(list(COLUMNS_2018), axis=1)
    return pd.concat([a, b], axis=1).set_axis(index)
