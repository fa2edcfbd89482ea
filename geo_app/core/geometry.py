"""Vectorised geometry helpers shared by the boundary reader and the dissolve."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import shapely
from shapely import lib as _shapely_lib

__all__ = [
    "EQUAL_AREA_CRS",
    "JGD2011",
    "grouped_coverage_union",
    "coverage_groups",
    "simplify_coverages",
    "in_one_coverage",
    "is_coverage",
    "area_km2",
    "repair",
    "shared_borders",
]

JGD2011 = "EPSG:6668"
#: Albers equal-area fitted to Japan (standard parallels 25°N and 45°N, GRS80), for km².
EQUAL_AREA_CRS = "+proj=aea +lat_0=35 +lon_0=136 +lat_1=25 +lat_2=45 +ellps=GRS80 +units=m +no_defs"


def grouped_coverage_union(
    geoms: np.ndarray, keys: pd.Series | np.ndarray, *, coverage: bool | np.ndarray = True
) -> tuple[np.ndarray, np.ndarray]:
    """Union the polygons of each key in one GEOS call per group, with no Python loop.

    The members of each group must form a valid coverage (shared edges, no overlaps), as
    municipalities and wards of N03 do; pass coverage=False for inputs that do not (the loader
    checks and records it in `attrs["coverage_valid"]`), or a boolean per sorted unique key
    (`in_one_coverage`) to take the overlay union only for the groups that need it.
    Geometries are grouped into GeometryCollections with
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
    fast = np.broadcast_to(np.asarray(coverage, dtype=bool), len(uniques))
    out = np.full(len(uniques), None, dtype=object)
    if fast.any():
        out[fast] = _parallel_coverage_union(collections[fast])
    if not fast.all():  # overlapping or unmatched edges: GEOS overlay union, slower but exact for any input
        out[~fast] = np.asarray(_shapely_lib.unary_union(collections[~fast]), dtype=object)
    return uniques, out


def coverage_groups(geoms: np.ndarray, groups: pd.Series | np.ndarray) -> dict[str, bool]:
    """Per group (e.g. prefecture code), do its polygons form a valid coverage?

    Why per group: N03 as downloaded is one file per prefecture, simplified file by file, so the
    files do not share vertices along prefecture borders and the whole set is no coverage, while
    each prefecture is. GEOS CoverageIsValid is a generalised ufunc over the last axis, so the
    groups are laid out as rows of one array padded with missing geometries and checked in one call.
    """
    geoms = np.asarray(geoms, dtype=object)
    uniques, inverse = np.unique(np.asarray(groups, dtype=object).astype(str), return_inverse=True)
    if not len(uniques):
        return {}
    counts = np.bincount(inverse, minlength=len(uniques))
    order = np.argsort(inverse, kind="stable")
    column = np.arange(len(geoms)) - np.repeat(np.cumsum(counts) - counts, counts)
    grid = np.full((len(uniques), int(counts.max())), None, dtype=object)
    grid[inverse[order], column] = geoms[order]
    valid = np.asarray(_shapely_lib.coverage_is_valid(grid, 0.0), dtype=bool)
    return dict(zip(uniques.tolist(), valid.tolist(), strict=True))


def simplify_coverages(
    geoms: np.ndarray, tolerance: float, groups: np.ndarray | None = None, valid: dict[str, bool] | None = None
) -> np.ndarray:
    """Topology-preserving simplification of each valid coverage (neighbours keep sharing borders).

    `groups` (e.g. prefecture codes) and `valid` (`coverage_groups`) describe N03 as downloaded,
    one coverage per file: each valid group is simplified on its own; without them the whole set is
    taken as one coverage. Polygons of a group that is no coverage are left as they are.
    """
    geoms = np.asarray(geoms, dtype=object)
    if groups is None or valid is None:
        return np.asarray(shapely.coverage_simplify(geoms, tolerance, simplify_boundary=True), dtype=object)
    out = geoms.copy()
    keys = np.asarray(groups, dtype=object).astype(str)
    for key, ok in valid.items():
        sel = keys == key
        if ok and sel.any():
            out[sel] = shapely.coverage_simplify(geoms[sel], tolerance, simplify_boundary=True)
    return out


def in_one_coverage(keys: np.ndarray, group_ids: np.ndarray) -> np.ndarray:
    """Per sorted unique key, do all its members lie in one valid coverage group?

    `group_ids` gives each member's coverage group as an integer, -1 when its group is not a valid
    coverage. Two valid groups need not match each other along their common border, so a key
    mixing groups takes the overlay union.
    """
    _, inverse = np.unique(np.asarray(keys), return_inverse=True)
    group_ids = np.asarray(group_ids, dtype=np.int64)
    n = int(inverse.max()) + 1 if len(inverse) else 0
    low = np.full(n, np.iinfo(np.int64).max)
    high = np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(low, inverse, group_ids)
    np.maximum.at(high, inverse, group_ids)
    return (low == high) & (low >= 0)


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


def is_coverage(geoms: np.ndarray) -> bool:
    """Do these polygons share their edges exactly and never overlap (what coverage union needs)?"""
    return bool(shapely.coverage_is_valid(np.asarray(geoms, dtype=object)))


def area_km2(geoseries) -> np.ndarray:
    """Area in km² on an equal-area projection (geographic degrees are not areas)."""
    return geoseries.to_crs(EQUAL_AREA_CRS).area.to_numpy() / 1e6


def shared_borders(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, line) for every pair of polygons sharing a stretch of border, i < j.

    In a coverage, neighbours have identical vertices along their common edge, so the
    intersection is that edge exactly. Pairs touching only at points are left out.
    """
    geoms = np.asarray(geoms, dtype=object)
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    shared = shapely.intersection(geoms[i], geoms[j])
    line = shapely.get_dimensions(shared) >= 1
    return i[line], j[line], shared[line]
