#!/usr/bin/env python3
"""Server-side recompute per edit: LivePlan.apply of one move vs a full dissolve of all levels.

    python benchmarks/bench_edit.py [--moves 30] [--runs 5] [--only hokkaido|japan]

Two plans: hokkaido-2024 (179 municipalities) and all of Japan as one plan (the 47 built-in
`secondary-2020:<prefecture>` plans concatenated; 1,747 units with 川崎市 by ward). A secondary
area name used in several prefectures (西部, 中部, 県央, …) gets the prefecture in brackets, so
that 西部 of 鳥取県 and 西部 of 静岡県 stay two areas, as in the source data (335 areas).

Each move takes one municipality on the edge of its home-care area into a neighbour's area
(seeded RNG), as a planner does on the map. Printed: the median (and 90th percentile) time of
`LivePlan.apply` for one move, of apply + `areas("homecare")` (what a redraw needs), and the
ratio against the baseline measured in the same run: `dissolve` of all three levels.
Targets: apply ≤ 50 ms for Hokkaido, ≤ 200 ms for all of Japan. Nothing is asserted about time;
the final areas are checked against a full dissolve.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import warnings

import numpy as np
import pandas as pd
import shapely

warnings.filterwarnings("ignore", message="Numba not installed")

from geo_app import LEVELS, Plan, load_municipalities, load_plan  # noqa: E402
from geo_app.core.adjacency import build_adjacency  # noqa: E402
from geo_app.core.codes import PREFECTURES  # noqa: E402
from geo_app.core.dissolve import dissolve  # noqa: E402
from geo_app.core.edits import move  # noqa: E402
from geo_app.core.live import LivePlan  # noqa: E402
from geo_app.io.municipalities import municipalities_for_plan  # noqa: E402


def japan_plan() -> Plan:
    tables = []
    for pref in PREFECTURES.values():
        t = load_plan(f"secondary-2020:{pref}").table.copy()
        t["pref"] = pref
        tables.append(t)
    t = pd.concat(tables, ignore_index=True)
    shared = t.groupby("secondary")["pref"].transform("nunique") > 1
    for col in ("homecare", "secondary"):
        t[col] = t[col].where(~shared, t[col] + "（" + t["pref"] + "）")
    return Plan(name="全国 二次医療圏（A38-20）", table=t.drop(columns="pref").reset_index(drop=True))


def median_ms(xs: list[float]) -> float:
    return statistics.median(xs) * 1000


def p90_ms(xs: list[float]) -> float:
    return float(np.percentile(xs, 90)) * 1000


def run(label: str, munis, plan: Plan, *, moves: int, runs: int, target_ms: float, seed: int) -> None:
    print(
        f"\n== {label}: {len(munis)} municipalities, {len(plan.areas('homecare'))} home-care / "
        f"{len(plan.areas('secondary'))} secondary / {len(plan.areas('tertiary'))} tertiary areas"
    )
    base = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for lv in LEVELS:
            dissolve(munis, plan, lv)
        base.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    graph = build_adjacency(munis)
    t_graph = time.perf_counter() - t0
    t0 = time.perf_counter()
    live = LivePlan(munis, plan, graph=graph)
    t_build = time.perf_counter() - t0

    rng = random.Random(seed)
    land = [(u, v) for u, v, k in graph.edges(data="kind") if k == "land"]
    current = plan
    t_move, t_apply, t_redraw, changed_sizes = [], [], [], []
    done = 0
    while done < moves:
        u, v = rng.choice(land)
        if rng.random() < 0.5:
            u, v = v, u
        src, dst = current.area_of(u), current.area_of(v)
        if src is None or dst is None or src == dst or (current.table["homecare"] == src).sum() < 2:
            continue
        t0 = time.perf_counter()
        new = move(current, u, dst)
        t1 = time.perf_counter()
        changed = live.apply(new)
        t2 = time.perf_counter()
        live.areas("homecare")
        t3 = time.perf_counter()
        t_move.append(t1 - t0)
        t_apply.append(t2 - t1)
        t_redraw.append(t3 - t1)
        changed_sizes.append(len(changed))
        current = new
        done += 1

    ok = True
    for lv in LEVELS:
        got, want = live.areas(lv), dissolve(munis, current, lv)
        floats = ["area_km2", "density"]
        same_counts = pd.DataFrame(got.drop(columns=["geometry", *floats])).equals(
            pd.DataFrame(want.drop(columns=["geometry", *floats]))
        )
        same_counts &= bool(np.allclose(got[floats].astype(float), want[floats].astype(float), rtol=1e-12, atol=0))
        sym = float(np.max(shapely.area(shapely.symmetric_difference(got.geometry.values, want.geometry.values))))
        ok &= same_counts and sym < 1e-9
    b = median_ms(base)
    a = median_ms(t_apply)
    print(f"baseline: dissolve of all 3 levels           median {b:8.1f} ms  ({runs} runs)")
    print(f"one-time: build_adjacency {t_graph * 1000:.0f} ms, LivePlan(...) {t_build * 1000:.0f} ms")
    print(f"edit fn:  move(plan, code, area)             median {median_ms(t_move):8.1f} ms")
    print(
        f"per edit: LivePlan.apply(one move)           median {a:8.1f} ms  p90 {p90_ms(t_apply):6.1f} ms  "
        f"ratio {b / a:5.1f}× faster than baseline  (target ≤ "
        f"{target_ms:.0f} ms: {'met' if a <= target_ms else 'NOT met'})"
    )
    print(
        "per edit: apply + areas('homecare')          median "
        f"{median_ms(t_redraw):8.1f} ms  p90 {p90_ms(t_redraw):6.1f} ms  "
        f"ratio {b / median_ms(t_redraw):5.1f}×"
    )
    print(
        f"{moves} moves, (level, area) pairs changed per move: median "
        f"{statistics.median(changed_sizes):.0f}, max {max(changed_sizes)}; "
        f"final areas equal a full dissolve at all levels: {'yes' if ok else 'NO'}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--moves", type=int, default=30)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", choices=["hokkaido", "japan"])
    ap.add_argument("--seed", type=int, default=8)
    args = ap.parse_args()
    if args.only in (None, "hokkaido"):
        plan = load_plan("hokkaido-2024")
        run(
            "北海道 hokkaido-2024",
            municipalities_for_plan(plan),
            plan,
            moves=args.moves,
            runs=args.runs,
            target_ms=50,
            seed=args.seed,
        )
    if args.only in (None, "japan"):
        munis = load_municipalities(keep_wards_of={"14130"})
        run(
            "全国 (47 × secondary-2020)",
            munis,
            japan_plan(),
            moves=args.moves,
            runs=args.runs,
            target_ms=200,
            seed=args.seed,
        )


if __name__ == "__main__":
    main()
