"""`geo-app build`: every file a coordination meeting needs, written into one folder.

map.html (offline, standalone), areas.geojson, summary.csv, and — where their writers are
installed in this package — map.png / map.pdf, summary.xlsx and areas.gpkg.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Callable

import geopandas as gpd

from .paths import safe_output_path
from .plans import LEVEL_JA, Plan
from .summary import summary_frame

__all__ = ["build_outputs", "HTML_SIMPLIFY_TOLERANCE", "write_map_html"]

#: Topology-preserving simplification for the shared HTML map (degrees; ~300 m): Hokkaido at
#: home-care level stays under 1.5 MB while neighbouring areas still share their borders exactly.
HTML_SIMPLIFY_TOLERANCE = 0.003


def write_map_html(munis: gpd.GeoDataFrame, plan: Plan, path: Path, *, level: str = "homecare",
                   metric: str = "population", basemap: str = "none",
                   simplify_tolerance: float | None = HTML_SIMPLIFY_TOLERANCE) -> Path:
    from .maps import area_map, standalone_html

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Numba not installed")
        fmap = area_map(munis, plan, level=level, metric=metric, basemap=basemap, simplify_tolerance=simplify_tolerance)
    title = f"{plan.name} {LEVEL_JA[level]}" if plan.name else LEVEL_JA[level]
    path.write_text(standalone_html(fmap, title=title), encoding="utf-8")
    return path


def build_outputs(munis: gpd.GeoDataFrame, plan: Plan, out_dir: Path, *, level: str = "homecare",
                  metric: str = "population", basemap: str = "none", paper: str = "A4",
                  progress: Callable[[str], None] = lambda m: None) -> list[Path]:
    from .dissolve import dissolve

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    progress("地図（HTML）を作成中")
    written.append(write_map_html(munis, plan, safe_output_path(out_dir, "map.html"), level=level, metric=metric, basemap=basemap))

    areas = dissolve(munis, plan, level)
    geo = safe_output_path(out_dir, "areas.geojson")
    areas.drop(columns=["members"]).to_crs("EPSG:4326").to_file(geo, driver="GeoJSON", engine="pyogrio")
    written.append(geo)
    csv = safe_output_path(out_dir, "summary.csv")
    summary_frame(areas).to_csv(csv, index=False, encoding="utf-8-sig", lineterminator="\n")  # BOM: Excel reads it as UTF-8
    written.append(csv)
    return written
