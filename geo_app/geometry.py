"""Vectorised geometry helpers shared by the boundary reader and the dissolve."""
from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from shapely import lib as _shapely_lib

__all__ = ["EQUAL_AREA_CRS", "JGD2011", "grouped_coverage_union", "area_km2", "repair"]

JGD2011 = "EPSG:6668"
#: Albers equal-area fitted to Japan (standard parallels 25°N and 45°N, GRS80), for km².
EQUAL_AREA_CRS = "+proj=aea +lat_0=35 +lon_0=136 +lat_1=25 +lat_2=45 +ellps=GRS80 +units=m +no_defs"


def grouped_coverage_union(geoms: np.ndarray, keys: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union the polygons of each key in one GEOS call per group, with no Python loop.

    The members of each group must form a valid coverage (shared edges, no overlaps), as
    municipalities and wards of N03 do. Geometries are grouped into GeometryCollections with
    `shapely.geometrycollections(..., indices=...)` and then passed to GEOS CoverageUnion as a
    ufunc (the same call `shapely.coverage_union_all` makes for a single collection).
    Returns (sorted unique keys, unions).
    """
    uniques, inverse = np.unique(np.asarray(keys), return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    collections = shapely.geometrycollections(np.asarray(geoms)[order], indices=inverse[order])
    collections = np.asarray(collections, dtype=object)
    if len(collections) < len(uniques):  # a trailing group with only missing geometries
        collections = np.concatenate([collections, np.full(len(uniques) - len(collections), None)])
    unions = _shapely_lib.coverage_union(collections)
    return uniques, np.asarray(unions, dtype=object)


def repair(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Make invalid polygons valid (GEOS 'structure' method keeps polygonal output); return mask too."""
    geoms = np.asarray(geoms, dtype=object)
    invalid = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
        geoms = geoms.copy()
        geoms[invalid] = fixed
    return geoms, invalid


def area_km2(geoseries) -> np.ndarray:
    """Area in km² on an equal-area projection (geographic degrees are not areas)."""
    return geoseries.to_crs(EQUAL_AREA_CRS).area.to_numpy() / 1e6
