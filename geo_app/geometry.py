"""Vectorised geometry helpers shared by the boundary reader and the dissolve."""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

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
    geoms = np.asarray(geoms, dtype=object)[order]
    collections = shapely.geometrycollections(geoms, indices=inverse[order])
    collections = np.asarray(collections, dtype=object)
    if len(collections) < len(uniques):  # a trailing group with only missing geometries
        collections = np.concatenate([collections, np.full(len(uniques) - len(collections), None)])
    return uniques, _parallel_coverage_union(collections)


_PARALLEL_MIN_COORDS = 100_000  # below this, starting threads costs more than it saves


def _parallel_coverage_union(collections: np.ndarray) -> np.ndarray:
    """GEOS releases the GIL, so large inputs are split across cores by vertex count."""
    workers = min(os.cpu_count() or 1, 4, len(collections))
    sizes = shapely.get_num_coordinates(collections)
    if workers < 2 or sizes.sum() < _PARALLEL_MIN_COORDS:
        return np.asarray(_shapely_lib.coverage_union(collections), dtype=object)
    cuts = np.searchsorted(np.cumsum(sizes), sizes.sum() * np.arange(1, workers) / workers)
    chunks = np.split(collections, cuts)
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(_shapely_lib.coverage_union, chunks))
    return np.concatenate([np.asarray(p, dtype=object) for p in parts])


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


def nested_borders(coverages: list[np.ndarray]) -> list[object]:
    """Border lines of nested coverages, coarse to fine, each edge drawn only once.

    `coverages[0]` is the coarsest level (e.g. tertiary areas), the last the finest
    (municipalities). Item i holds the edges of level i that are not edges of a coarser level,
    so a map can style each level's borders without repeating shared linework.
    """
    out: list[object] = []
    drawn = None
    for geoms in coverages:
        lines = shapely.line_merge(shapely.union_all(shapely.boundary(np.asarray(geoms, dtype=object))))
        own = lines if drawn is None else shapely.line_merge(shapely.difference(lines, drawn))
        out.append(own)
        drawn = lines if drawn is None else shapely.union(drawn, lines)
    return out
