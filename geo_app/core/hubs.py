"""Where each home-care area's hub (在宅医療連携拠点) is: a facility, a named point, or not known.

A plan names each home-care area's hub on its members' rows (`plan.HUB_COLUMNS`): the name, and
either the id of a facility of the embedded tables (`hub_facility`) or a point (`hub_lat`,
`hub_lon`). A municipality office is given as a named point, since no stored source has the
offices' coordinates. A hub with neither is named with an unknown location, as Hokkaido's two
designated hubs are in the built-in plan (their sources give no address): never placed by guess.

`hub_points` is the one answer to "where is it" for every view (print map, GIS, Excel, CSV, the
live map) and for the rules, so that they all agree. The facility points come from the caller
(`geo_app.io.facilities.load_facility_points`): core reads no file.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping

import numpy as np
import pandas as pd
from pyproj import Geod

from geo_app.core.metrics import FIELDS
from geo_app.core.plan import HUB_COLUMNS, HUB_LABELS, Plan

__all__ = [
    "JAPAN_LAT",
    "JAPAN_LON",
    "CONFLICT_M",
    "LOCATED_BY_JA",
    "UNKNOWN_JA",
    "HUB_POINT_COLUMNS",
    "HUB_EXPORT_LABELS",
    "CoordinateError",
    "parse_coordinate",
    "format_coordinate",
    "hub_location_of",
    "hub_points",
    "HUB_AREA_COLUMNS",
    "hub_area_columns",
    "add_hub_columns",
    "geodesic_m",
]

#: Japan's extent in degrees (沖ノ鳥島 20.4°N … 択捉島 45.6°N; 与那国島 122.9°E … 南鳥島 154.0°E): a hub
#: point outside it is a typing error (swapped or missing digits), not a place in Japan.
JAPAN_LAT = (20.0, 46.0)
JAPAN_LON = (122.0, 154.0)
#: A facility and a point given for the same hub that lie further apart than this (m) disagree: the
#: facility's point wins, and the rules say so. Closer, they are the same place written twice.
CONFLICT_M = 100.0
#: `located_by` as people read it (Excel's 位置の根拠, the print map, the CSV for people).
LOCATED_BY_JA = {"facility": "施設", "point": "地点"}
UNKNOWN_JA = "不明"
#: Columns of `hub_points`: one row per home-care area with a hub; the map draws from it directly.
HUB_POINT_COLUMNS = [
    "homecare",  # the home-care area
    "hub",  # the hub's name, as the plan gives it
    "hub_facility",  # the facility id the plan gives (NA: none)
    "lat",  # where the hub is drawn (degrees; NA: unknown)
    "lon",
    "located_by",  # "facility" | "point" | NA (unknown)
    "facility_kind",  # the facility's kind and name, from the facility table (NA: not a known facility)
    "facility_name",
    "facility_found",  # the id is in the facility table (NA: no id given, or no table to look in)
    "point_lat",  # the point the plan gives (NA: none)
    "point_lon",
    "conflict_m",  # facility point ↔ the plan's point, in metres, when both are given
]
#: The hub columns every export carries beside a home-care area (and a municipality): the name, the
#: facility id, where the location comes from (施設 / 地点 / 不明) and the point drawn.
HUB_AREA_COLUMNS = ["hub", "hub_facility", "hub_located_by", "hub_lat", "hub_lon"]
#: Their headers for people (Excel, the summary CSV): those of the plan file, and 位置の根拠.
HUB_EXPORT_LABELS = {k: FIELDS[k].label for k in (*HUB_LABELS, "hub_located_by")}
_GEOD = Geod(ellps="GRS80")
_AXIS = {"lat": ("緯度", JAPAN_LAT, "北緯"), "lon": ("経度", JAPAN_LON, "東経")}
_DEGREE = re.compile(r"\s*(?:°|度)\s*$")


class CoordinateError(ValueError):
    """A latitude or longitude that cannot be a place in Japan; `str()` is Japanese, without the cell
    (the reader and the edit add where it was)."""


def parse_coordinate(value: object, axis: str) -> float:
    """A latitude (`axis="lat"`) or longitude ("lon") in decimal degrees, checked against Japan's extent.

    Full-width digits and a trailing 「°」 or 「度」 are accepted, as typed in Japanese spreadsheets;
    degrees–minutes–seconds, text and numbers outside Japan raise CoordinateError, which names the
    value and says what to write instead.
    """
    what, (low, high), prefix = _AXIS[axis]
    text = _DEGREE.sub("", unicodedata.normalize("NFKC", str(value)).strip())
    try:
        number = float(text)
    except ValueError:
        raise CoordinateError(
            f"{what}「{value}」は数ではありません。10進数の度で入れてください（例: 43.5886）。"
        ) from None
    if not math.isfinite(number):
        raise CoordinateError(f"{what}「{value}」は数ではありません。10進数の度で入れてください（例: 43.5886）。")
    if not low <= number <= high:
        other = "lon" if axis == "lat" else "lat"
        _, (olow, ohigh), _ = _AXIS[other]
        swapped = "緯度と経度が入れ替わっていないか確かめてください。" if olow <= number <= ohigh else ""
        raise CoordinateError(
            f"{what} {text} は日本の範囲（{prefix}{low:g}〜{high:g}度）の外です。{swapped}"
            "10進数の度（世界測地系）で入れてください。"
        )
    return number


def format_coordinate(value: float) -> str:
    """A coordinate as the plan keeps it (text): to 7 decimals (about 1 cm), no trailing noise."""
    return repr(round(float(value), 7))


def _first(values: pd.Series) -> object:
    v = values.dropna()
    return v.iloc[0] if len(v) else pd.NA


def hub_location_of(rows: pd.DataFrame, name: object) -> dict[str, object]:
    """The hub fields (HUB_COLUMNS) of hub `name` among an area's member rows: its facility id from the
    first row of that name that gives one, its point from the first that gives both coordinates.
    All NA when `name` is NA: no hub, so nothing to locate."""
    out: dict[str, object] = dict.fromkeys(HUB_COLUMNS, pd.NA)
    if name is None or name is pd.NA or (isinstance(name, float) and math.isnan(name)):
        return out
    same = rows[(rows["hub"] == name).fillna(False)] if "hub" in rows.columns else rows.iloc[:0]
    out["hub"] = name
    if "hub_facility" in same.columns:
        out["hub_facility"] = _first(same["hub_facility"])
    if {"hub_lat", "hub_lon"} <= set(same.columns):
        both = same.dropna(subset=["hub_lat", "hub_lon"])
        if len(both):
            out["hub_lat"], out["hub_lon"] = both["hub_lat"].iloc[0], both["hub_lon"].iloc[0]
    return out


def _id_key(value: object) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip()


def _digits_key(value: str) -> str | None:
    """The number an id ends with, without leading zeros: what is left of 0155080039 after Excel
    read it as a number (155080039), whatever prefix the table gives its ids."""
    found = re.search(r"(\d+)$", value)
    if found is None:
        return None
    return found.group(1).lstrip("0") or "0"


class _FacilityIndex:
    """Facility ids → rows: the exact id first, else the id's number when exactly one facility has it."""

    def __init__(self, facilities: pd.DataFrame):
        self.frame = facilities.reset_index(drop=True)
        ids = [_id_key(v) for v in self.frame["id"]]
        self.exact = {k: i for i, k in reversed(list(enumerate(ids)))}
        by_digits: dict[str, list[int]] = {}
        for i, k in enumerate(ids):
            d = _digits_key(k)
            if d is not None:
                by_digits.setdefault(d, []).append(i)
        self.digits = {d: rows[0] for d, rows in by_digits.items() if len(rows) == 1}

    def find(self, value: object) -> int | None:
        key = _id_key(value)
        if key in self.exact:
            return self.exact[key]
        d = _digits_key(key) if key.isdigit() else None
        return self.digits.get(d) if d is not None else None


def geodesic_m(lat1: object, lon1: object, lat2: object, lon2: object) -> np.ndarray:
    """Geodesic distance in metres on GRS80, element-wise (the distance people mean, not a projected one)."""
    f = [np.asarray(v, dtype=float) for v in (lon1, lat1, lon2, lat2)]
    _, _, dist = _GEOD.inv(f[0], f[1], f[2], f[3])
    return np.asarray(dist, dtype=float)


def _number(value: object) -> float:
    """A plan cell's coordinate as a float (NaN when empty or unreadable: the reader refused those)."""
    if value is None or value is pd.NA:
        return math.nan
    try:
        return float(unicodedata.normalize("NFKC", str(value)))
    except ValueError:
        return math.nan


def hub_points(plan: Plan, facilities: pd.DataFrame | None) -> pd.DataFrame:
    """One row per home-care area that names a hub (HUB_POINT_COLUMNS), in the plan's order.

    Located from the facility when `hub_facility` is found in `facilities` (columns id, kind, name,
    lat, lon; the facility wins over a point the plan also gives, `conflict_m` says by how much),
    else from the plan's point, else unknown (`located_by` NA, lat/lon NaN). `facilities` None: no
    facility table to look in, so a hub given only by a facility id is unknown (`facility_found` NA,
    not False: nobody looked).
    """
    t = plan.hub_table().dropna(subset=["homecare"])
    index = _FacilityIndex(facilities) if facilities is not None and "id" in facilities.columns else None
    rows: list[dict[str, object]] = []
    for area, g in t.groupby("homecare", sort=False):
        named = g["hub"].dropna()
        if named.empty:
            continue
        loc = hub_location_of(g, named.iloc[0])
        point_lat, point_lon = _number(loc["hub_lat"]), _number(loc["hub_lon"])
        row: Mapping[str, object] = {
            "homecare": area,
            "hub": loc["hub"],
            "hub_facility": loc["hub_facility"],
            "lat": math.nan,
            "lon": math.nan,
            "located_by": pd.NA,
            "facility_kind": pd.NA,
            "facility_name": pd.NA,
            "facility_found": pd.NA,
            "point_lat": point_lat,
            "point_lon": point_lon,
            "conflict_m": math.nan,
        }
        row = dict(row)
        facility = None
        if pd.notna(loc["hub_facility"]) and index is not None:
            facility = index.find(loc["hub_facility"])
            row["facility_found"] = facility is not None
        if facility is not None:
            f = index.frame.iloc[facility]  # type: ignore[union-attr]
            row["facility_kind"] = f.get("kind", pd.NA)
            row["facility_name"] = f.get("name", pd.NA)
            flat, flon = _number(f.get("lat")), _number(f.get("lon"))
            if math.isfinite(flat) and math.isfinite(flon):
                row.update(lat=flat, lon=flon, located_by="facility")
                if math.isfinite(point_lat) and math.isfinite(point_lon):
                    row["conflict_m"] = float(geodesic_m(flat, flon, point_lat, point_lon))
        if pd.isna(row["located_by"]) and math.isfinite(point_lat) and math.isfinite(point_lon):
            row.update(lat=point_lat, lon=point_lon, located_by="point")
        rows.append(row)
    out = pd.DataFrame(rows, columns=HUB_POINT_COLUMNS)
    for col in ("homecare", "hub", "hub_facility", "located_by", "facility_kind", "facility_name"):
        out[col] = out[col].astype("string")
    for col in ("lat", "lon", "point_lat", "point_lon", "conflict_m"):
        out[col] = out[col].astype("float64")
    out["facility_found"] = out["facility_found"].astype("boolean")
    return out


def hub_area_columns(hubs: pd.DataFrame) -> pd.DataFrame:
    """`hub_points` as the exports carry it: HUB_AREA_COLUMNS indexed by home-care area, 位置の根拠 in
    words (施設 / 地点 / 不明), the point drawn (NaN when unknown: an empty cell, never 0)."""
    return pd.DataFrame(
        {
            "hub": hubs["hub"].to_numpy(),
            "hub_facility": hubs["hub_facility"].to_numpy(),
            "hub_located_by": hubs["located_by"].map(LOCATED_BY_JA, na_action="ignore").fillna(UNKNOWN_JA).to_numpy(),
            "hub_lat": hubs["lat"].to_numpy(dtype=float),
            "hub_lon": hubs["lon"].to_numpy(dtype=float),
        },
        index=pd.Index(hubs["homecare"].astype(str), name="homecare"),
    ).astype({"hub": "string", "hub_facility": "string", "hub_located_by": "string"})


def add_hub_columns(frame: pd.DataFrame, hubs: pd.DataFrame, key: str = "area") -> pd.DataFrame:
    """`frame` (rows keyed by home-care area in column `key`) with HUB_AREA_COLUMNS in place of its
    `hub` column (at the end when it has none). A plan that names no hub adds nothing, so its exports
    stay as they were; an area without a hub gets empty cells."""
    if hubs.empty:
        return frame
    cols = hub_area_columns(hubs)
    areas = frame[key].astype("string")
    at = list(frame.columns).index("hub") if "hub" in frame.columns else len(frame.columns)
    out = frame.drop(columns=[c for c in HUB_AREA_COLUMNS if c in frame.columns])
    at = min(at, len(out.columns))
    for j, col in enumerate(HUB_AREA_COLUMNS):
        values = cols[col].reindex(areas.fillna("").to_numpy()).to_numpy()
        out.insert(at + j, col, pd.array(values, dtype=cols[col].dtype))
    return out
