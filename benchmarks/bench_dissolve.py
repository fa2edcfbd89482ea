#!/usr/bin/env python3
"""Dissolve all of Japan (1,896 municipalities and wards) into the 47 prefectures, three ways, in one run.

    python benchmarks/bench_dissolve.py [--runs 7] [--n03-dir ../shared/data/boundaries/n03_2021_topojson_s0010]

Two inputs: the embedded national file (one coverage), and the 47 per-prefecture N03 files as users
download them (each a coverage, but their prefecture borders do not match, so geo_app checks and
unions per prefecture); the second is skipped when the folder is absent.

Prints the median of several runs for geo_app.core.dissolve (vectorised GEOS coverage union),
GeoDataFrame.dissolve() (default: unary union) and GeoDataFrame.dissolve(method="coverage"),
the two ratios (runs interleaved, so machine noise hits every method alike), and checks that all
three give the same areas and population sums.
Targets: ≥ 10× the default method, and at least as fast as the coverage method.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

warnings.filterwarnings("ignore", message="Numba not installed")

from geo_app import load_municipalities  # noqa: E402
from geo_app.core.codes import PREFECTURES  # noqa: E402
from geo_app.core.counts import AGE_BANDS, COUNT_COLUMNS  # noqa: E402
from geo_app.core.dissolve import dissolve  # noqa: E402
from geo_app.io.plans import plan_from_frame  # noqa: E402

#: the 47 per-prefecture N03 files (../shared/data/boundaries/SOURCES.md), as users download them
N03_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "boundaries" / "n03_2021_topojson_s0010"


def interleaved(fns: dict[str, Callable[[], Any]], runs: int) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Each round times every method once, in turn, so a noisy neighbour slows all of them alike."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    results: dict[str, Any] = {}
    for _ in range(runs):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - t0)
    return times, results


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--n03-dir", type=Path, default=N03_DIR)
    args = ap.parse_args()
    print("== input: embedded national file ==")
    bench(load_municipalities(wards="keep"), args.runs)
    files = [args.n03_dir / f"N03-21_{code}_210101.json" for code in PREFECTURES]
    if all(f.exists() for f in files):
        print(f"\n== input: the 47 per-prefecture files in {args.n03_dir} ==")
        units = load_municipalities(files, wards="keep")
        groups = units.attrs["coverage_groups"]
        print(
            f"whole set a coverage: {units.attrs['coverage_valid']}, "
            f"prefectures that are a coverage by themselves: {sum(groups.values())}/{len(groups)}"
        )
        bench(units, args.runs)
    else:
        print(f"\n(47 per-prefecture files not found in {args.n03_dir}: skipped)")


def bench(units: pd.DataFrame, runs: int) -> None:
    """Time the three methods on one input and check they give the same areas."""
    plan = plan_from_frame(
        pd.DataFrame(
            {
                "code": units["code"],
                "name": units["name"],
                "homecare": units["pref"],
                "secondary": units["pref"],
                "tertiary": "日本",
            }
        )
    )
    # The same counts geo_app.core.dissolve sums: totals, age groups and the 21 five-year bands.
    frame = units[["pref", *COUNT_COLUMNS, *AGE_BANDS, "geometry"]]
    print(
        f"units: {len(units)} (municipalities and designated-city wards), "
        f"target: {units['pref'].nunique()} prefectures, runs: {runs}"
    )

    times, res = interleaved(
        {
            "app": lambda: dissolve(units, plan, "homecare"),
            "default": lambda: frame.dissolve(by="pref", aggfunc="sum"),
            "coverage": lambda: frame.dissolve(by="pref", aggfunc="sum", method="coverage"),
        },
        runs,
    )
    ours, default, coverage = res["app"], res["default"], res["coverage"]
    t_app, t_def, t_cov = (statistics.median(times[k]) for k in ("app", "default", "coverage"))
    # per-round ratios: both sides of each ratio were timed seconds apart
    r_def = statistics.median(d / a for d, a in zip(times["default"], times["app"], strict=True))
    r_cov = statistics.median(c / a for c, a in zip(times["coverage"], times["app"], strict=True))

    ours = ours.set_index("area")
    sym = {}
    for label, other in (("default", default), ("coverage", coverage)):
        a = ours.geometry.loc[other.index].values
        sym[label] = float(np.max(shapely.area(shapely.symmetric_difference(a, other.geometry.values))))
        for col in (*COUNT_COLUMNS, *AGE_BANDS):
            assert (ours.loc[other.index, col].to_numpy() == other[col].to_numpy()).all(), (label, col)
    print(f"geo_app.core.dissolve                   median {t_app * 1000:8.1f} ms")
    print(
        f"GeoDataFrame.dissolve()            median {t_def * 1000:8.1f} ms   ratio "
        f"{t_def / t_app:5.1f}×, median per round {r_def:5.1f}× (target ≥ 10×)"
    )
    print(
        f"GeoDataFrame.dissolve(coverage)    median {t_cov * 1000:8.1f} ms   "
        f"ratio {t_cov / t_app:5.1f}×, median per round {r_cov:5.1f}× (target ≥ 1×)"
    )
    print(
        "same areas: max symmetric difference vs default "
        f"{sym['default']:.2e} deg², vs coverage {sym['coverage']:.2e} deg²"
    )
    print(
        f"population sums equal in all {len(COUNT_COLUMNS) + len(AGE_BANDS)} "
        f"count columns: yes ({int(ours['population'].sum()):,} people in all)"
    )


if __name__ == "__main__":
    main()
