"""`geo-app build`: every file a coordination meeting needs, written into one folder.

map.html (offline, standalone), map.png / map.pdf (print), summary.xlsx / summary.csv, and
areas.gpkg / areas.geojson (GIS), all inside the chosen folder.

Compute once, write many: the areas of each level, the plan's municipalities and the findings
are computed here once and handed to every writer (each writer computes them itself only when
called alone), so a build costs three dissolves and one validation whatever the number of files.
The hubs (`core.hubs.hub_points`, facility ids looked up once in the embedded facility points) are
computed here once too, so every file places each hub in the same spot.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd

from geo_app.core.plan import LEVEL_JA, LEVELS, Plan
from geo_app.core.rules import Finding
from geo_app.io.tables import protect_text
from geo_app.views.livemap import MAP_SIMPLIFY
from geo_app.views.paths import safe_output_path
from geo_app.views.text import csv_frame, summary_frame

__all__ = ["build_outputs", "HTML_SIMPLIFY_TOLERANCE", "write_map_html"]

#: The shared HTML map's simplification: the app's (views.livemap), so both show the same shapes.
HTML_SIMPLIFY_TOLERANCE = MAP_SIMPLIFY


def write_map_html(
    munis: gpd.GeoDataFrame,
    plan: Plan,
    path: Path,
    *,
    level: str = "homecare",
    metric: str = "population",
    basemap: str = "none",
    simplify_tolerance: float | None = HTML_SIMPLIFY_TOLERANCE,
    areas: Mapping[str, gpd.GeoDataFrame] | None = None,
    hubs: pd.DataFrame | None = None,
) -> Path:
    """The standalone HTML map. `areas` (level → Areas) and `hubs` (`core.hubs.hub_points`): computed
    once by `build_outputs`, so the HTML map marks each hub where the print map does."""
    from geo_app.views.webmap import area_map, standalone_html

    fmap = area_map(
        munis,
        plan,
        level=level,  # type: ignore[arg-type]
        metric=metric,
        basemap=basemap,
        areas=areas.get(level) if areas else None,
        simplify_tolerance=simplify_tolerance,
        hubs=hubs,
    )
    title = f"{plan.title} {LEVEL_JA[level]}"
    path.write_text(standalone_html(fmap, title=title), encoding="utf-8")
    return path


def build_outputs(
    munis: gpd.GeoDataFrame,
    plan: Plan,
    out_dir: Path,
    *,
    level: str = "homecare",
    metric: str = "population",
    basemap: str = "none",
    paper: str = "A4",
    progress: Callable[[str], None] = lambda m: None,
    findings: Sequence[Finding] | None = None,
    csv_headers: Literal["ja", "en"] = "ja",
) -> list[Path]:
    """Write map.html, map.png, map.pdf, summary.xlsx, summary.csv, areas.gpkg and areas.geojson.

    `findings`: `validate(munis, plan)` when the caller already ran it (the CLI does, for its
    exit code); otherwise it is run here, once. `csv_headers`: summary.csv for people ("ja":
    Japanese headers, figures rounded as shown) or scripts ("en"), see `text.csv_frame`.
    """
    from geo_app.core.dissolve import assign, dissolve
    from geo_app.core.hubs import hub_points
    from geo_app.core.rules import ValidationOptions, validate
    from geo_app.io.plans import hub_facilities
    from geo_app.views.layers import write_geojson, write_gpkg
    from geo_app.views.printmap import write_print_map
    from geo_app.views.xlsx import write_summary_xlsx

    out = Path(out_dir)
    target = {
        name: safe_output_path(out, name)
        for name in ("map.html", "map.png", "map.pdf", "summary.xlsx", "summary.csv", "areas.gpkg", "areas.geojson")
    }
    facilities = hub_facilities(plan)  # None unless a hub names a facility
    hubs = hub_points(plan, facilities)
    if findings is None:
        findings = validate(munis, plan, ValidationOptions(facilities=facilities))
    # The loader's attrs (report, known codes, sea links) are for reading, not writing; pandas
    # deep-copies attrs on every column access, which cost ~1 s of a Hokkaido build.
    munis = munis.copy(deep=False)
    munis.attrs = {k: munis.attrs[k] for k in ("coverage_valid", "sources") if k in munis.attrs}
    areas: dict[str, gpd.GeoDataFrame] = {lv: dissolve(munis, plan, lv) for lv in LEVELS}
    assigned = assign(munis, plan)
    progress("地図（HTML）を作成中")
    write_map_html(munis, plan, target["map.html"], level=level, metric=metric, basemap=basemap, areas=areas, hubs=hubs)
    progress("印刷用の地図（PNG・PDF）を作成中")
    write_print_map(
        munis,
        plan,
        target["map.png"],
        target["map.pdf"],
        level=level,
        paper=paper,
        metric=metric,
        areas=areas,
        assigned=assigned,
        hubs=hubs,
    )
    progress("表（Excel・CSV）と GIS レイヤーを作成中")
    write_summary_xlsx(
        munis, plan, target["summary.xlsx"], findings=findings, areas=areas, assigned=assigned, hubs=hubs
    )
    summary = summary_frame(areas[level], hubs=hubs)
    protect_text(csv_frame(summary, level, headers=csv_headers)).to_csv(  # BOM: Excel reads UTF-8
        target["summary.csv"], index=False, encoding="utf-8-sig", lineterminator="\n"
    )
    write_gpkg(munis, plan, target["areas.gpkg"], areas=areas, assigned=assigned, hubs=hubs)
    write_geojson(areas[level], target["areas.geojson"], hubs=hubs)
    return list(target.values())
