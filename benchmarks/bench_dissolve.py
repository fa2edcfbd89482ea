#!/usr/bin/env python3
"""Dissolve all of Japan (1,896 municipalities and wards) into the 47 prefectures, three ways, in one run.

    python benchmarks/bench_dissolve.py [--runs 7]

Prints the median of several runs for geo_app.dissolve (vectorised GEOS coverage union),
GeoDataFrame.dissolve() (default: unary union) and GeoDataFrame.dissolve(method="coverage"),
the two ratios, and checks that all three give the same areas and population sums.
Targets: ≥ 10× the default method, and at least as fast as the coverage method.
"""
from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import pandas as pd
import shapely

warnings.filterwarnings("ignore", message="Numba not installed")

from geo_app import dissolve, load_municipalities  # noqa: E402
from geo_app.plans import Plan  # noqa: E402
from geo_app.population import COUNT_COLUMNS  # noqa: E402


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()

    units = load_municipalities(wards="keep")
    plan = Plan.from_frame(pd.DataFrame({"code": units["code"], "name": units["name"], "homecare": units["pref"], "secondary": units["pref"], "tertiary": "日本"}))
    frame = units[["pref", *COUNT_COLUMNS, "geometry"]]
    print(f"units: {len(units)} (municipalities and designated-city wards), target: {units['pref'].nunique()} prefectures, runs: {args.runs}")

    t_app, ours = timed(lambda: dissolve(units, plan, "homecare"), args.runs)
    t_def, default = timed(lambda: frame.dissolve(by="pref", aggfunc="sum"), args.runs)
    t_cov, coverage = timed(lambda: frame.dissolve(by="pref", aggfunc="sum", method="coverage"), args.runs)

    ours = ours.set_index("area")
    sym = {}
    for label, other in (("default", default), ("coverage", coverage)):
        a = ours.geometry.loc[other.index].values
        sym[label] = float(np.max(shapely.area(shapely.symmetric_difference(a, other.geometry.values))))
        assert (ours.loc[other.index, "population"].to_numpy() == other["population"].to_numpy()).all(), label
    print(f"geo_app.dissolve                   median {t_app * 1000:8.1f} ms")
    print(f"GeoDataFrame.dissolve()            median {t_def * 1000:8.1f} ms   ratio {t_def / t_app:5.1f}× (target ≥ 10×)")
    print(f"GeoDataFrame.dissolve(coverage)    median {t_cov * 1000:8.1f} ms   ratio {t_cov / t_app:5.1f}× (target ≥ 1×)")
    print(f"same areas: max symmetric difference vs default {sym['default']:.2e} deg², vs coverage {sym['coverage']:.2e} deg²")
    print(f"population sums equal: yes ({int(ours['population'].sum()):,} in all)")


if __name__ == "__main__":
    main()
