#!/usr/bin/env python3
"""The standalone map.html (issue 11): its size, the time of a whole `geo-app build`, and all Japan.

    python benchmarks/bench_html_size.py [--runs 3] [--no-japan] [--no-tolerances]

Prints
- Hokkaido (hokkaido-2024, home-care level): the size of the map.html that `geo-app build` writes
  (target ≤ 0.6 MB, aim 0.4 MB) and the wall time of the whole command as users run it (a new
  process: map.html, map.png/pdf, xlsx, csv, gpkg, geojson), median of `--runs` (target ≤ 5 s),
  with its CPU time (user + system), which other work on the machine does not inflate; also
  `write_map_html` alone, in this process;
- for information, map.html of all Japan as one plan (the 47 prefectures' secondary-2024 plans,
  1,747 units), written by `write_map_html`;
- for several simplification tolerances: map.html size, the municipal vertices the map draws
  (views.livemap.map_geometry), and whether they still dissolve into a valid coverage (the
  embedded boundaries are already compact, so the default tolerance removes little).
No asserts.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
warnings.filterwarnings("ignore", message="Numba not installed")

from geo_app import load_plan  # noqa: E402
from geo_app.core.dissolve import dissolve  # noqa: E402
from geo_app.io.municipalities import municipalities_for_plan  # noqa: E402
from geo_app.views.build import HTML_SIMPLIFY_TOLERANCE, write_map_html  # noqa: E402
from geo_app.views.livemap import map_geometry  # noqa: E402


def timed(fn, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def child_cpu() -> float:
    """CPU seconds (user + system) used so far by this process's finished children."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cli_build(out: Path) -> None:
    """`geo-app build --plan hokkaido-2024` in a new process, as users run it."""
    exe = shutil.which("geo-app")
    cmd = [exe] if exe else [sys.executable, "-m", "geo_app.cli"]
    subprocess.run(
        [*cmd, "build", "--plan", "hokkaido-2024", "--out", str(out), "--quiet"],
        check=False,  # exit 1 = written with findings; the files are what we measure
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-japan", action="store_true")
    ap.add_argument("--no-tolerances", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="geo_app_bench_html_"))

    cpu0 = child_cpu()
    builds = timed(lambda: cli_build(tmp / "build"), args.runs)
    cpu = (child_cpu() - cpu0) / max(args.runs, 1)
    html = tmp / "build" / "map.html"
    size = html.stat().st_size if html.exists() else 0
    print(f"Hokkaido 2024, home-care level (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print(f"map.html written by `geo-app build`: {size / 1e6:.3f} MB ({size:,} bytes; target ≤ 0.6 MB, aim 0.4 MB)")
    print(
        f"`geo-app build --plan hokkaido-2024` wall time (all 7 files, new process): median "
        f"{statistics.median(builds):.2f} s over {len(builds)} (target ≤ 5 s); each: "
        + ", ".join(f"{t:.2f}" for t in builds)
        + f"; CPU time per build {cpu:.2f} s (what a quiet machine would need at least)"
    )

    plan = load_plan("hokkaido-2024")
    munis = municipalities_for_plan(plan)
    out = tmp / "map.html"
    alone = timed(lambda: write_map_html(munis, plan, out), args.runs)
    print(
        f"write_map_html alone (data loaded, areas dissolved inside): median {statistics.median(alone):.2f} s, "
        f"{out.stat().st_size / 1e6:.3f} MB"
    )

    if not args.no_japan:
        from bench_app_browser import japan_plan

        japan = japan_plan()
        units = municipalities_for_plan(japan)
        t0 = time.perf_counter()
        write_map_html(units, japan, tmp / "japan.html")
        dt = time.perf_counter() - t0
        j = (tmp / "japan.html").stat().st_size
        print(
            f"all Japan as one plan ({len(japan)} units, {japan.table['homecare'].nunique()} areas): map.html "
            f"{j / 1e6:.2f} MB ({j:,} bytes), written in {dt:.1f} s (for information)"
        )

    if not args.no_tolerances:
        print(f"simplification tolerance (default {HTML_SIMPLIFY_TOLERANCE}°), Hokkaido:")
        for tol in (None, HTML_SIMPLIFY_TOLERANCE, 0.002, 0.005):
            write_map_html(munis, plan, out, simplify_tolerance=tol)
            simplified = map_geometry(munis, tol)  # what the map draws
            areas = dissolve(simplified, plan, "homecare")
            valid = bool(shapely.coverage_is_valid(areas.geometry.values)) and bool(
                shapely.is_valid(areas.geometry.values).all()
            )
            vertices = int(shapely.get_num_coordinates(simplified.geometry.values).sum())
            print(
                f"  tolerance {str(tol):>6}: map.html {out.stat().st_size / 1e6:5.3f} MB, "
                f"{vertices:7,} municipal vertices, areas a valid coverage: {valid}"
            )
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
