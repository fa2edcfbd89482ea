"""GIS files for colleagues who use QGIS or web maps: a GeoPackage and RFC 7946 GeoJSON.

Field names are the registry's English keys (`core.metrics`: population, aging_rate, area_km2 …),
the same as the CLI's CSV/JSON, while the values keep their Japanese names. Not the Japanese
headers: shapefile conversions cut field names to 10 bytes (mangling multibyte text), some GIS
tools and SQL need quoting for them, and QGIS projects and styles that colleagues already made
refer to these names. The units are those of the registry (人, fractions for rates, km²).
The area layers carry the future figures too (`population_2040`, `aging_rate_2040`,
`demand_medical_index_2040` … for every year, as in the CSV), numbers that GIS tools colour by;
not the weighted sums the indices are computed from, which the registry lists as no column.
The GeoPackage is written to a temporary file and moved into place, so re-exporting never
leaves stale layers from an earlier run.

Hubs (在宅医療連携拠点): when the plan names any, the GeoPackage has a `hubs` point layer (one feature
per home-care area with a hub: its name, facility, 位置の根拠 and point; no geometry where the location
is unknown, so an unlocated hub is still listed), and the home-care and municipality layers carry the
same hub fields (`hub`, `hub_facility`, `hub_located_by`, `hub_lat`, `hub_lon`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_app.core.dissolve import assign, dissolve
from geo_app.core.errors import InputError
from geo_app.core.geometry import JGD2011
from geo_app.core.hubs import LOCATED_BY_JA, UNKNOWN_JA, add_hub_columns
from geo_app.core.metrics import METRICS
from geo_app.core.plan import LEVEL_JA, LEVELS, Plan
from geo_app.io.provenance import credits

__all__ = ["write_gpkg", "write_geojson", "municipality_layer", "area_layer", "hub_layer", "MAX_FIELD_NAME"]

#: Longest field name GDAL writes unchanged to a GeoPackage (and that PostGIS keeps, 63 bytes).
MAX_FIELD_NAME = 63

_LAYER_JA = {"municipalities": "市町村", **LEVEL_JA, "hubs": "在宅医療連携拠点"}

_MUNI_COLUMNS = [
    "code",
    "name",
    "pref",
    "city_code",
    "kind",
    "homecare",
    "secondary",
    "tertiary",
    "status",
    "hub",
    "population",
    "age_unknown",
    "age_0_14",
    "age_15_64",
    "age_65_plus",
    "age_75_plus",
    "age_85_plus",
    "aging_rate",
    "share_75_plus",
    "area_km2",
    "density",
]


def municipality_layer(
    munis: gpd.GeoDataFrame, plan: Plan, *, assigned: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    """Municipalities of the plan with their three areas, ASCII column names.

    `assigned`: `assign(munis, plan)` when the caller already has it.
    """
    joined = assign(munis, plan) if assigned is None else assigned
    cols = [c for c in _MUNI_COLUMNS if c in joined.columns]
    return gpd.GeoDataFrame(joined[cols], geometry=joined.geometry.values, crs=munis.crs)


def hub_layer(hubs: pd.DataFrame) -> gpd.GeoDataFrame:
    """`core.hubs.hub_points` as points in EPSG:6668, one per home-care area with a hub; an unknown
    location has no geometry (the feature stays, with 位置の根拠 「不明」)."""
    located = hubs["lat"].notna() & hubs["lon"].notna()
    geoms = [
        shapely.Point(float(lon), float(lat)) if ok else None
        for lat, lon, ok in zip(hubs["lat"], hubs["lon"], located, strict=True)
    ]
    frame = pd.DataFrame(
        {
            "homecare": hubs["homecare"].to_numpy(),
            "hub": hubs["hub"].to_numpy(),
            "hub_facility": hubs["hub_facility"].to_numpy(),
            "located_by": hubs["located_by"].map(LOCATED_BY_JA, na_action="ignore").fillna(UNKNOWN_JA).to_numpy(),
            "facility_kind": hubs["facility_kind"].to_numpy(),
            "facility_name": hubs["facility_name"].to_numpy(),
            "lat": hubs["lat"].to_numpy(dtype=float),
            "lon": hubs["lon"].to_numpy(dtype=float),
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=JGD2011), crs=JGD2011)


def area_layer(areas: gpd.GeoDataFrame, hubs: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """An Areas frame as a layer: every column but the registry's unlisted inputs (the demand
    indices' weighted sums, ×10: a figure nobody reads, which a colleague would take for one), with
    the hub's fields in place of `hub` when `hubs` (`hub_points`, home-care areas) is given."""
    hidden = [c for c in areas.columns if c in METRICS and not METRICS[c].listed]
    out = areas.drop(columns=hidden) if hidden else areas
    return add_hub_columns(out, hubs, "area") if hubs is not None else out


def _for_file(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Plain dtypes GDAL understands (nullable ints/floats/strings), polygons as MultiPolygons."""
    out = gdf.copy()
    for c in out.columns:
        if c == out.geometry.name:
            continue
        s = out[c]
        if pd.api.types.is_bool_dtype(s):
            out[c] = s.astype("Int8")
        elif pd.api.types.is_integer_dtype(s):
            out[c] = s.astype("Int64")
        elif pd.api.types.is_float_dtype(s):
            out[c] = s.astype("float64")
        else:
            out[c] = s.astype(object).where(s.notna(), None).map(lambda v: v if v is None else str(v))
    geoms = out.geometry.values
    single = shapely.get_type_id(np.asarray(geoms)) == 3  # Polygon → MultiPolygon, one type per layer
    if single.any():
        arr = np.asarray(geoms, dtype=object).copy()
        arr[single] = shapely.multipolygons(arr[single][:, None])
        out = out.set_geometry(gpd.GeoSeries(arr, index=out.index, crs=out.crs))
    long = [c for c in out.columns if len(str(c).encode()) > MAX_FIELD_NAME]
    if long:  # a registry key this long is a bug: GDAL would cut or refuse it
        raise ValueError(f"field names longer than {MAX_FIELD_NAME} bytes: {long}")
    if out.crs is None:
        raise InputError(
            "境界データに座標参照系（CRS）がありません。EPSG:6668（JGD2011）などを設定してから書き出してください。"
        )
    return out.to_crs(JGD2011)


def write_gpkg(
    munis: gpd.GeoDataFrame,
    plan: Plan,
    path: Path | str,
    *,
    areas: Mapping[str, gpd.GeoDataFrame] | None = None,
    assigned: gpd.GeoDataFrame | None = None,
    hubs: pd.DataFrame | None = None,
) -> Path:
    """Layers municipalities, homecare, secondary, tertiary (and hubs, when the plan names any) in
    EPSG:6668, replacing any old file.

    `areas` (level → Areas) and `assigned`: what `geo-app build` computed once for every file;
    `hubs`: `core.hubs.hub_points`, else looked up here (`io.plans.plan_hub_points`).
    """
    from geo_app.io.plans import plan_hub_points

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if hubs is None:
        hubs = plan_hub_points(plan)
    layers = {"municipalities": add_hub_columns(municipality_layer(munis, plan, assigned=assigned), hubs, "homecare")}
    for level in LEVELS:
        level_areas = areas[level] if areas is not None and level in areas else dissolve(munis, plan, level)
        layers[level] = area_layer(level_areas, hubs if level == "homecare" else None)
    if not hubs.empty:
        layers["hubs"] = hub_layer(hubs)
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp_", suffix=".gpkg", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # GDAL creates the file itself
    used = credits(munis, plan)  # the GeoPackage says what it is and where its figures come from
    dataset_metadata = {"TITLE": plan.title, "DATA": used.vintage} | {
        f"SOURCE_{i}": line for i, line in enumerate(used.lines, start=1)
    }
    try:
        for name, gdf in layers.items():
            _for_file(gdf).to_file(
                tmp,
                layer=name,
                driver="GPKG",
                engine="pyogrio",
                dataset_metadata=dataset_metadata,
                layer_metadata={"DESCRIPTION": f"{plan.title}: {_LAYER_JA[name]}"},
                # Points even when no hub's location is known (every geometry empty): the layer's type
                # is what GIS tools style by, not guessed from its features.
                **({"geometry_type": "Point"} if name == "hubs" else {}),
            )
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            if leftover.exists():
                leftover.unlink()
    for side in (Path(f"{path}-wal"), Path(f"{path}-shm")):  # journal files of the file we replaced
        if side.exists():
            side.unlink()
    return path


def write_geojson(areas: gpd.GeoDataFrame, path: Path | str, *, hubs: pd.DataFrame | None = None) -> Path:
    """RFC 7946 GeoJSON: WGS84 lon/lat, counter-clockwise outer rings, no `crs` member, UTF-8 text.

    `hubs` (`core.hubs.hub_points`): home-care areas carry their hub's fields (hub_lat, hub_lon …)."""
    if areas.crs is None:
        raise InputError("座標参照系（CRS）のないデータは GeoJSON に書き出せません。EPSG:6668 などを設定してください。")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    level = str(areas["level"].iloc[0]) if "level" in areas.columns and len(areas) else None
    gdf = area_layer(areas, hubs if level == "homecare" else None).to_crs("EPSG:4326")
    geoms = shapely.orient_polygons(np.asarray(gdf.geometry.values, dtype=object), exterior_cw=False)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, 7))  # ~1 cm; RFC 7946 §11.2
    props = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    records = [{k: _json_value(v) for k, v in row.items()} for row in props.to_dict(orient="records")]
    features = [
        {"type": "Feature", "properties": rec, "geometry": None if g is None else shapely.geometry.mapping(g)}
        for rec, g in zip(records, geoms, strict=True)
    ]
    bounds = gdf.total_bounds
    doc = {
        "type": "FeatureCollection",
        "bbox": [round(float(b), 7) for b in bounds] if np.isfinite(bounds).all() else None,
        "features": features,
    }
    if doc["bbox"] is None:
        del doc["bbox"]
    path.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return path


def _json_value(v):
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if np.isnan(v) else float(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_json_value(x) for x in v]
    if isinstance(v, (int, str, bool)):
        return v
    return str(v)
