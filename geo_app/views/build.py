"""`geo-app build`: every file a coordination meeting needs, written into one folder.

map.html (offline, standalone), map.png / map.pdf (print), summary.xlsx / summary.csv, and
areas.gpkg / areas.geojson (GIS), all inside the chosen folder.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Callable

import geopandas as gpd

from geo_app.views.paths import safe_output_path
from geo_app.core.plan import LEVEL_JA, Plan
from geo_app.views.text import summary_frame
from geo_app.io.tables import protect_text

__all__ = ["build_outputs", "HTML_SIMPLIFY_TOLERANCE", "write_map_html"]

#: Topology-preserving simplification for the shared HTML map (degrees; ~300 m): Hokkaido at
#: home-care level stays under 1.5 MB while neighbouring areas still share their borders exactly.
HTML_SIMPLIFY_TOLERANCE = 0.003


def write_map_html(munis: gpd.GeoDataFrame, plan: Plan, path: Path, *, level: str = "homecare",
                   metric: str = "population", basemap: str = "none",
                   simplify_tolerance: float | None = HTML_SIMPLIFY_TOLERANCE) -> Path:
    from geo_app.views.webmap import area_map, standalone_html

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Numba not installed")
        fmap = area_map(munis, plan, level=level, metric=metric, basemap=basemap, simplify_tolerance=simplify_tolerance)
    title = f"{plan.name} {LEVEL_JA[level]}" if plan.name else LEVEL_JA[level]
    path.write_text(standalone_html(fmap, title=title), encoding="utf-8")
    return path


def build_outputs(munis: gpd.GeoDataFrame, plan: Plan, out_dir: Path, *, level: str = "homecare",
                  metric: str = "population", basemap: str = "none", paper: str = "A4",
                  progress: Callable[[str], None] = lambda m: None) -> list[Path]:
    """Write map.html, map.png, map.pdf, summary.xlsx, summary.csv, areas.gpkg and areas.geojson."""
    from geo_app.core.dissolve import dissolve
    from geo_app.views.layers import write_geojson, write_gpkg
    from geo_app.views.xlsx import write_summary_xlsx
    from geo_app.views.printmap import write_print_map
    from geo_app.core.rules import findings_frame, validate

    out = Path(out_dir)
    target = {name: safe_output_path(out, name) for name in
              ("map.html", "map.png", "map.pdf", "summary.xlsx", "summary.csv", "areas.gpkg", "areas.geojson")}
    progress("地図（HTML）を作成中")
    write_map_html(munis, plan, target["map.html"], level=level, metric=metric, basemap=basemap)
    progress("印刷用の地図（PNG・PDF）を作成中")
    write_print_map(munis, plan, target["map.png"], target["map.pdf"], level=level, paper=paper, metric=metric)
    progress("表（Excel・CSV）と GIS レイヤーを作成中")
    areas = dissolve(munis, plan, level)
    findings = findings_frame(validate(munis, plan), japanese=True)
    write_summary_xlsx(munis, plan, target["summary.xlsx"], findings=findings)
    protect_text(summary_frame(areas)).to_csv(target["summary.csv"], index=False, encoding="utf-8-sig", lineterminator="\n")  # BOM: Excel reads it as UTF-8
    write_gpkg(munis, plan, target["areas.gpkg"])
    write_geojson(areas, target["areas.geojson"])
    return list(target.values())
