#!/usr/bin/env python3
"""`geo-app propose` on Dask: speed-up from 1 to 2 local workers, and time per 1,000 ReCom steps.

    python benchmarks/bench_propose.py [--runs 3] [--steps 1000]

Three measurements, medians of `--runs`, all in this one run:

1. The issue's case: Hokkaido's four 未確定 secondary areas (南渡島, 札幌, 後志, 西胆振), K = 10, 8
   candidates of 1,000 steps, as `geo_app.core.propose_run.run_candidates` runs them for the CLI,
   on 1 worker and on 2 local worker processes. Prints both times and their ratio, and checks the
   plans are the same.
2. The same for a larger search where chains dominate: all 179 Hokkaido municipalities redrawn into
   39 areas nested in the 21 secondary areas (4 candidates).
3. Time per 1,000 ReCom steps of one chain: one candidate with `--steps` minus one with 0 steps (the
   seeds alone), for Hokkaido (K = 39) and for all Japan's municipalities (1,741, designated cities
   whole; plan secondary-2024) redrawn into K = 1,000 areas nested in the secondary areas.

Targets: none set by the issue beyond "benchmarked"; a 2-worker speed-up above 1 is expected on this
2-core machine when chains dominate (case 2), less in case 1, where starting the processes costs about
as much as the chains.
"""

from __future__ import annotations

import argparse
import statistics
import warnings
from functools import partial

import pandas as pd

warnings.filterwarnings("ignore", message="Numba not installed")

from bench_dissolve import interleaved  # noqa: E402  (this folder: one way to time alternatives)

from geo_app import load_plan  # noqa: E402
from geo_app.core.adjacency import build_adjacency  # noqa: E402
from geo_app.core.propose import make_problem, run_candidate  # noqa: E402
from geo_app.core.propose_run import run_candidates  # noqa: E402
from geo_app.io import datasets  # noqa: E402
from geo_app.io.municipalities import municipalities_for_plan  # noqa: E402
from geo_app.io.plans import plan_from_frame  # noqa: E402


def workers_case(label: str, problem, candidates: int, steps: int, runs: int) -> None:
    """1 and 2 workers in turn, run after run (`bench_dissolve.interleaved`): a noisy neighbour slows both alike."""
    times, plans = interleaved(
        {w: partial(run_candidates, problem, candidates=candidates, seed=1, steps=steps, workers=w) for w in (1, 2)},
        runs,
    )
    one, two = statistics.median(times[1]), statistics.median(times[2])
    same = [c.assignment for c in plans[1]] == [c.assignment for c in plans[2]]
    print(
        f"{label}: {candidates} candidates × {steps} steps — 1 worker {one:.2f} s, 2 workers {two:.2f} s "
        f"(medians of {runs}), speed-up {one / two:.2f}×, same plans: {same}"
    )


def per_thousand(label: str, problem, steps: int, runs: int) -> None:
    times, _ = interleaved({n: partial(run_candidate, problem, 0, 1, n) for n in (steps, 0)}, runs)
    full, seeds = statistics.median(times[steps]), statistics.median(times[0])
    print(
        f"{label}: {len(problem.codes)} municipalities, K = {problem.k}: "
        f"one candidate {full:.2f} s with {steps} steps, "
        f"{seeds:.2f} s seeds only → {(full - seeds) / steps * 1000:.2f} s per 1,000 ReCom steps"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--steps", type=int, default=1000)
    args = ap.parse_args()

    plan = load_plan("hokkaido-2024")
    munis = municipalities_for_plan(plan)
    graph = build_adjacency(munis)
    four = make_problem(munis, plan, graph, within=["南渡島", "札幌", "後志", "西胆振"], k=10, candidates=8)
    workers_case("Hokkaido 4 secondary areas, K=10", four, 8, args.steps, args.runs)
    whole = make_problem(munis, plan, graph, within=["北海道"], k=39, redraw_confirmed=True, candidates=8)
    workers_case("Hokkaido 179 municipalities, K=39", whole, 8, args.steps, args.runs)
    per_thousand("Hokkaido", whole, args.steps, args.runs)

    # every municipality of Japan in its 2024 secondary area (the built-in plan is per prefecture)
    table = pd.read_csv(datasets.plans_dir() / "secondary-2024.csv", dtype=str).drop(columns=["prefecture"])
    japan_plan = plan_from_frame(table, name="全国 二次医療圏 2024")
    japan = municipalities_for_plan(japan_plan)
    jgraph = build_adjacency(japan)
    probe = make_problem(japan, japan_plan, jgraph, within=japan_plan.prefectures, k=1_000, redraw_confirmed=True)
    per_thousand("All Japan", probe, args.steps, args.runs)


if __name__ == "__main__":
    main()
