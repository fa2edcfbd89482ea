"""Which land a map shows at full scale and which far islands go into insets: shared by the print
map and the web map's first view (no plotting library here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo_app.core.geometry import EQUAL_AREA_CRS

__all__ = ["Views", "choose_views", "local_crs", "main_view_bounds", "fit_scale", "merge_bounds"]

#: Polygon parts closer than this belong to one cluster (an island chain, a coast).
CLUSTER_GAP_M = 30_000.0
#: Far clusters closer than this share one inset (伊豆諸島 as one, 奄美群島 + トカラ as one).
FAR_GAP_M = 100_000.0
#: A cluster joins the main map only while the map keeps this share of its scale.
KEEP_SCALE = 0.6
MAX_INSETS = 2


def _clusters(parts: np.ndarray, gap: float) -> np.ndarray:
    """Label parts by single-linkage clusters: parts within `gap` metres are connected."""
    n = len(parts)
    if n == 0:
        return np.zeros(0, dtype=int)
    i, j = shapely.STRtree(parts).query(parts, predicate="dwithin", distance=gap)
    graph = coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def fit_scale(bounds: np.ndarray, box_mm: tuple[float, float], margin: float = 0.04) -> float:
    """mm of paper per metre when `bounds` fill a box of `box_mm` (with a margin)."""
    w = max(bounds[2] - bounds[0], 1.0) * (1 + 2 * margin)
    h = max(bounds[3] - bounds[1], 1.0) * (1 + 2 * margin)
    return min(box_mm[0] / w, box_mm[1] / h)


def merge_bounds(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.array([min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])])


@dataclass
class Views:
    main: np.ndarray  # bounds in the local CRS
    insets: list[dict[str, Any]] = field(default_factory=list)  # bounds, muni positions, title
    omitted: list[dict[str, Any]] = field(default_factory=list)


def choose_views(geoms: np.ndarray, names: np.ndarray, box_mm: tuple[float, float]) -> Views:
    """Decide which parts go on the main map, which into insets and which into a note.

    Parts are clustered by gap; the biggest cluster (by land area) anchors the main map; other
    clusters join it nearest first while the main map keeps KEEP_SCALE of its scale. The rest
    are grouped by FAR_GAP_M; the MAX_INSETS largest groups get insets, others a note.
    """
    parts, owner = shapely.get_parts(geoms, return_index=True)
    lab = _clusters(parts, CLUSTER_GAP_M)
    ncl = int(lab.max()) + 1
    land = np.bincount(lab, shapely.area(parts), minlength=ncl)
    b = pd.DataFrame(shapely.bounds(parts), columns=["x0", "y0", "x1", "y1"]).groupby(lab)
    cb = pd.concat([b["x0"].min(), b["y0"].min(), b["x1"].max(), b["y1"].max()], axis=1).to_numpy()
    order = np.argsort(lab, kind="stable")
    groups = np.asarray(shapely.geometrycollections(parts[order], indices=lab[order]), dtype=object)
    main = int(np.argmax(land))
    dist = shapely.distance(groups, groups[main])
    bounds = cb[main].copy()
    base = fit_scale(bounds, box_mm)
    on_main = np.zeros(ncl, dtype=bool)
    on_main[main] = True
    for c in np.argsort(dist, kind="stable"):
        if on_main[c]:
            continue
        merged = merge_bounds(bounds, cb[c])
        if fit_scale(merged, box_mm) >= KEEP_SCALE * base:
            bounds, on_main[c] = merged, True
    views = Views(main=bounds)
    far = np.flatnonzero(~on_main)
    if len(far) == 0:
        return views
    far_lab = _clusters(groups[far], FAR_GAP_M)
    ranked = sorted(set(far_lab), key=lambda g: -land[far[far_lab == g]].sum())
    for rank, g in enumerate(ranked):
        members = far[far_lab == g]
        in_group = np.isin(lab, members)
        munis = np.unique(owner[in_group])
        partial = np.isin(owner[~in_group], munis).any()
        gb = np.array([cb[members, 0].min(), cb[members, 1].min(), cb[members, 2].max(), cb[members, 3].max()])
        entry = {"bounds": gb, "munis": munis, "names": list(dict.fromkeys(names[munis])), "partial": bool(partial)}
        (views.insets if rank < MAX_INSETS else views.omitted).append(entry)
    return views


def local_crs(gdf: gpd.GeoDataFrame) -> str:
    """Lambert azimuthal equal-area centred on the largest cluster of land (far islands aside)."""
    ea = gdf.to_crs(EQUAL_AREA_CRS).geometry.values
    parts, _ = shapely.get_parts(ea, return_index=True)
    lab = _clusters(parts, CLUSTER_GAP_M)
    big = int(np.argmax(np.bincount(lab, shapely.area(parts))))
    bx = shapely.bounds(shapely.union_all(parts[lab == big]))
    lon0, lat0 = Transformer.from_crs(EQUAL_AREA_CRS, "EPSG:4326", always_xy=True).transform(
        (bx[0] + bx[2]) / 2, (bx[1] + bx[3]) / 2
    )
    return f"+proj=laea +lat_0={lat0:.4f} +lon_0={lon0:.4f} +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"


def main_view_bounds(
    munis: gpd.GeoDataFrame, box_mm: tuple[float, float] = (260.0, 180.0)
) -> tuple[float, float, float, float]:
    """lon/lat bounds (minx, miny, maxx, maxy) of the main map: the land that the print map
    draws at full scale, without the far islands it puts into insets (東京都's 小笠原, 鹿児島県's 奄美).
    The interactive map starts on this view too."""
    local = local_crs(munis)
    m = munis.to_crs(local)
    views = choose_views(m.geometry.values, m["name"].to_numpy(dtype=object), box_mm)
    # Edges densified: in lon/lat the projected box's edges are curves, its corners not the extremes.
    bx0, by0, bx1, by1 = (float(b) for b in views.main)
    x0, y0, x1, y1 = Transformer.from_crs(local, "EPSG:4326", always_xy=True).transform_bounds(
        bx0, by0, bx1, by1, densify_pts=41
    )
    return x0, y0, x1, y1
