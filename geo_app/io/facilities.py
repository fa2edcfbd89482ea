"""Facility counts per municipality, embedded: 訪問看護ステーション, hospitals, Hokkaido's 在宅療養支援診療所・病院.

What an area's supply is measured with, beside its demand. The counts are per census code, each facility
counted once where its source codes it (data/facilities/counts.csv, written by scripts/build_data.py from
../shared/data/facilities; see data/SOURCES.md). A designated city merged from its wards is the sum of its
wards and of the facilities coded to the city itself; a ward is its own count, but unknown when the city has
facilities its source could not place in a ward (浜松市's hospitals on its 2024 wards), since any of them may
lie in that ward. 在宅療養支援 is known for Hokkaido only: NA elsewhere, never 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import pandas as pd

from geo_app.core.codes import city_of
from geo_app.io import datasets
from geo_app.io.provenance import DataSource

__all__ = [
    "COLUMNS",
    "HOME_NURSING",
    "HOSPITALS",
    "ZAITAKU_SHIEN",
    "SOURCE_OF",
    "POINT_COLUMNS",
    "POINT_KINDS",
    "KIND_LABELS",
    "KIND_COLUMN",
    "POINT_SOURCES",
    "P04_POSITIONS",
    "load_facilities",
    "load_facility_points",
    "sources",
]

COLUMNS: tuple[str, ...] = ("home_nursing_stations", "hospitals", "zaitaku_shien")

HOME_NURSING = DataSource(
    "訪問看護ステーション数",
    "厚生労働省 介護サービス情報公表 オープンデータ 2026年4〜7月公開の版（2025年12月末時点とみられる）",
    "出典：介護サービス情報公表システム（厚生労働省）のオープンデータを加工して作成",
)
HOSPITALS = DataSource(
    "病院数",
    "厚生労働省 医療情報ネット（ナビイ）オープンデータ 2025年6月1日時点",
    "出典：医療情報ネット（ナビイ）のオープンデータ（厚生労働省）を加工して作成",
)
ZAITAKU_SHIEN = DataSource(
    "在宅療養支援診療所・病院数（北海道）",
    "北海道厚生局 届出受理医療機関名簿（医科）2025年10月1日現在",
    "出典：北海道厚生局「届出受理医療機関名簿（医科）」（令和7年10月1日現在）を加工して作成",
)
#: The source of each column, for a figure that shows one of them.
SOURCE_OF: dict[str, DataSource] = dict(zip(COLUMNS, (HOME_NURSING, HOSPITALS, ZAITAKU_SHIEN), strict=True))


#: The points' columns and kinds, in the order the map draws and lists them.
POINT_COLUMNS: tuple[str, ...] = ("id", "kind", "name", "code", "lat", "lon")
POINT_KINDS: tuple[str, ...] = ("home_nursing_station", "hospital", "zaitaku_shien")
#: What the user reads for each kind (the map's layers, its legend, the app's switch).
KIND_LABELS: dict[str, str] = {
    "home_nursing_station": "訪問看護ステーション",
    "hospital": "病院",
    "zaitaku_shien": "在宅療養支援診療所・病院",
}
#: The counts column (COLUMNS) a kind's points are a subset of.
KIND_COLUMN: dict[str, str] = dict(zip(POINT_KINDS, COLUMNS, strict=True))
#: Where a hospital (and a 在宅療養支援 institution) has no point of its own in ナビイ, its point is 国土数値情報's.
P04_POSITIONS = DataSource(
    "医療機関の位置（一部）",
    "P04-20、令和2年度",
    "「国土数値情報（医療機関データ）（国土交通省）を加工して作成」",
)
#: The sources behind each kind of point: the list it comes from, then where some of its points come from.
POINT_SOURCES: dict[str, tuple[DataSource, ...]] = {
    "home_nursing_station": (HOME_NURSING,),
    "hospital": (HOSPITALS, P04_POSITIONS),
    "zaitaku_shien": (ZAITAKU_SHIEN, P04_POSITIONS),
}


def sources() -> tuple[DataSource, DataSource, DataSource]:
    """The credits of the three sources, to be listed wherever their counts are shown."""
    return HOME_NURSING, HOSPITALS, ZAITAKU_SHIEN


def _path(name: str = "counts.csv") -> Path:
    """An embedded table, found like the census (GEO_APP_DATA_DIR, the wheel's _data, the repository's data/)."""
    return datasets.data_dir() / "facilities" / name


@lru_cache(maxsize=4)
def _table(path: str) -> pd.DataFrame:
    """Counts per code as read, and per code as looked up (cities merged, wards masked); read once per path."""
    own = datasets.read_code_table(path, COLUMNS)
    counts = own[list(COLUMNS)]
    is_ward = own["kind"] == "ward"
    city_of = own["parent_code"].where(is_ward, own.index.to_series())  # a ward's city, else the code itself
    # A code other than a ward: its own row plus its wards' rows; unknown if any of them is (never skipped).
    sums = counts.groupby(city_of).sum()
    merged = sums.mask(counts.isna().groupby(city_of).any())
    # A ward: unknown in a column where its city has facilities that could not be placed in a ward.
    wards = counts[is_ward]
    city_own = counts.reindex(city_of[is_ward].to_numpy()).set_axis(wards.index)
    by_ward = wards.mask(city_own.fillna(0).gt(0))
    return pd.concat([merged, by_ward]).astype("Int64")


def load_facilities(codes: Iterable[str]) -> pd.DataFrame:
    """Counts for `codes` (5-digit strings), in their order: Int64 columns COLUMNS, NA where unknown.

    A designated city's code gives the whole city (its wards and its own rows); a ward's code the ward;
    a code not in the census (or 在宅療養支援 outside Hokkaido) NA.
    """
    index = pd.Index([str(c) for c in codes], dtype="string", name="code")
    return _table(str(_path())).reindex(index)


@lru_cache(maxsize=4)
def _points(path: str) -> pd.DataFrame:
    """The points as read (about 24,000 rows, 2.5 MB), with each code's designated city; read once per path."""
    df = pd.read_csv(
        path,
        dtype={"id": "string", "kind": "string", "name": "string", "code": "string", "lat": float, "lon": float},
        keep_default_na=False,
    )
    missing = [c for c in POINT_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: columns {missing} missing (rebuild with scripts/build_data.py)")
    df = df[list(POINT_COLUMNS)]
    df["city"] = city_of(df["code"])
    return df


@lru_cache(maxsize=4)
def _wards_of(path: str) -> dict[str, frozenset[str]]:
    """Designated city code → its census wards (from the counts table's `parent_code`)."""
    own = datasets.read_code_table(path, COLUMNS)
    wards = own[own["kind"] == "ward"]
    return {str(c): frozenset(map(str, w.index)) for c, w in wards.groupby("parent_code")}


def load_facility_points(codes: Iterable[str] | None = None) -> pd.DataFrame:
    """The facilities with a usable point: columns POINT_COLUMNS, kind one of POINT_KINDS, in the file's
    order (kind, code, id); all of Japan when `codes` is None.

    `codes` are the municipalities a map shows, at the granularity of its data: a designated city's code
    takes its wards' points and its own, a ward's code its own; a city shown by all its wards also takes
    the points coded to the city itself (浜松市's hospitals on its 2024 wards: they lie in one of them).
    """
    table = _points(str(_path("points.csv")))
    if codes is None:
        return table[list(POINT_COLUMNS)].reset_index(drop=True)
    wanted = {str(c) for c in codes}
    wards_of = _wards_of(str(_path()))
    whole = {city for city, wards in wards_of.items() if wards <= wanted}  # every ward of the city is shown
    keep = table["code"].isin(wanted) | table["city"].isin(wanted)
    keep |= (table["code"] == table["city"]) & table["code"].isin(whole)
    return table.loc[keep, list(POINT_COLUMNS)].reset_index(drop=True)
