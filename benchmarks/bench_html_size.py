#!/usr/bin/env python3
"""Size of the standalone HTML map (target: < 1.5 MB for Hokkaido at home-care level) and a check that
the topology-preserving simplification still gives a valid coverage, for several tolerances.

    python benchmarks/bench_html_size.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
import warnings
from pathlib import Path

import shapely

warnings.filterwarnings("ignore", message="Numba not installed")

from geo_app import load_plan  # noqa: E402
from geo_app.core.dissolve import dissolve  # noqa: E402
from geo_app.io.municipalities import municipalities_for_plan  # noqa: E402
from geo_app.views.build import HTML_SIMPLIFY_TOLERANCE, write_map_html  # noqa: E402


def main() -> None:
    plan = load_plan("hokkaido-2024")
    munis = municipalities_for_plan(plan)
    out = Path(tempfile.mkdtemp()) / "map.html"
    print(f"Hokkaido 2024, home-care level; default tolerance {HTML_SIMPLIFY_TOLERANCE}°")
    for tol in (None, 0.002, HTML_SIMPLIFY_TOLERANCE, 0.005):
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            write_map_html(munis, plan, out, simplify_tolerance=tol)
            times.append(time.perf_counter() - t0)
        size = out.stat().st_size
        simplified = munis.copy()
        if tol:
            simplified["geometry"] = shapely.coverage_simplify(munis.geometry.values, tol, simplify_boundary=True)
        areas = dissolve(simplified, plan, "homecare")
        valid = bool(shapely.coverage_is_valid(areas.geometry.values)) and bool(
            shapely.is_valid(areas.geometry.values).all()
        )
        vertices = int(shapely.get_num_coordinates(simplified.geometry.values).sum())
        print(
            f"tolerance {str(tol):>6}: {size / 1e6:5.2f} MB ({'<' if size < 1.5e6 else '≥'} 1.5 MB), "
            f"{vertices:6,} municipal vertices, valid coverage: {valid}, write median {statistics.median(times):.2f} s"
        )


if __name__ == "__main__":
    main()
