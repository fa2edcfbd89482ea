"""Candidate chains as independent Dask tasks: the local scheduler, or a cluster at an address.

Each candidate is one task, `propose.run_candidate(problem, i, seed, steps)`, whose randomness comes
from (seed, i) only, so the plans for a seed are the same on one worker, on many, or on a cluster.
Locally the tasks run in worker processes (the chains are pure Python, threads would share one GIL),
forked where that is safe (`_start_method`); with one worker they run in this process, which is what
a single worker would do without the cost of starting one. On a cluster (`scheduler="tcp://host:8786"`)
the problem is one task result shared by all candidates, sent to the workers once; the workers need
geo_app and GerryChain installed (README, 提案).
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from typing import Any

import dask
from dask.callbacks import Callback

from geo_app.core.propose import Candidate, Problem, run_candidate

__all__ = ["run_candidates", "Progress"]

#: Called with (finished, total) after each candidate.
Progress = Callable[[int, int], None]


class _Counter(Callback):
    """Dask's local-scheduler callback: counts finished candidate tasks."""

    def __init__(self, total: int, progress: Progress):
        super().__init__()
        self.total, self.progress, self.done = total, progress, 0

    def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        if isinstance(result, Candidate):
            self.done += 1
            self.progress(self.done, self.total)


def run_candidates(
    problem: Problem,
    *,
    candidates: int,
    seed: int,
    steps: int,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> list[Candidate]:
    """The `candidates` chains, in candidate order, on Dask. `workers`: local worker processes
    (None: one per core); `scheduler`: the address of a Dask distributed scheduler instead."""
    shared = dask.delayed(problem, name=f"problem-{dask.base.tokenize(problem)}")  # one copy for all tasks
    tasks = [
        dask.delayed(run_candidate, pure=True)(shared, i, seed, steps, dask_key_name=f"candidate-{seed}-{i}")
        for i in range(candidates)
    ]
    report = progress or (lambda done, total: None)
    if scheduler:
        return _on_cluster(problem, tasks, scheduler, report)
    with _Counter(candidates, report):
        if workers == 1:
            out = dask.compute(*tasks, scheduler="sync")
        else:
            with dask.config.set({"multiprocessing.context": _start_method()}):
                out = dask.compute(*tasks, scheduler="processes", num_workers=workers)
    return list(out)


def _start_method() -> str:
    """How local workers start: forked from this process when it runs one thread (the CLI), so that they
    need not import geo_app and GerryChain again (about 1 s each); else spawned, as forking a process
    with threads (the app's server) can deadlock."""
    forkable = "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
    return "fork" if forkable else "spawn"


def _on_cluster(problem: Problem, tasks: list, address: str, report: Progress) -> list[Candidate]:
    """Run on a distributed scheduler, counting results as they arrive."""
    from distributed import Client, as_completed

    with Client(address, set_as_default=False) as client:
        futures = client.compute(tasks)
        done = 0
        for _ in as_completed(futures, loop=client.loop):
            done += 1
            report(done, len(futures))
        return [f.result() for f in futures]
