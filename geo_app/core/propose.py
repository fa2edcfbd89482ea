"""Proposed home-care areas: contiguous, nested in their secondary areas, balanced in population.

A proposal is a starting point for people to edit, never the official plan; every output says so.
The method, stated with its parameters on every output (`Problem.method`):

1. **Scope.** The municipalities of the named secondary areas or prefectures whose home-care area is
   not confirmed (未確定 or empty). Confirmed areas stay as they are, unless `redraw_confirmed`.
2. **Locks.** Each lock group (municipalities to keep together) becomes one unit.
3. **Parts.** Areas nest in secondary areas, so each secondary area's units are a separate problem,
   split further into the groups joined by land, by ferry routes, or across the sea within the
   distance that validation uses (`adjacency.SEA_DISTANCE_KM`). Each part needs an area at least.
4. **How many areas per part.** The K areas are shared out by population with Huntington–Hill's method
   (at least one per part, then by priority w/√(s(s+1))), no more than a part has units (or than its
   population allows over the floor).
5. **Units larger than an area.** A unit with at least the part's mean area population is an area of
   its own (repeated until none is): joining anything to it would only unbalance it further. Cities
   such as 札幌市 or 旭川市 come out as single-municipality areas, as in the published plans.
6. **Search.** The rest of each part is seeded by GerryChain's `recursive_tree_part` (random spanning
   trees) and walked by a ReCom chain (GerryChain), with the smallest population tolerance of
   `EPSILONS` that the seed can meet. Each candidate is an independent chain with its own random
   stream derived from (seed, candidate number): the same seed gives the same plans, on one worker
   or many (`geo_app.core.propose_run` runs the chains as Dask tasks).
7. **Choice.** Of the plans a chain visits, each part keeps the best-balanced one (least squared
   deviation from the scope's mean area population, then the more compact by Polsby–Popper, from
   the municipalities' areas, perimeters and shared borders). Candidates are ranked the same way.

The core knows no file and no scheduler: `run_candidate` is a plain function of picklable inputs.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from geo_app.core.adjacency import LAND, SEA_DISTANCE_KM, sea_gaps
from geo_app.core.codes import PREFECTURES
from geo_app.core.errors import InputError
from geo_app.core.plan import CONFIRMED, UNCONFIRMED, Plan

__all__ = [
    "EPSILONS",
    "Candidate",
    "Group",
    "Part",
    "areas_of",
    "Problem",
    "balance",
    "candidate_plan",
    "make_problem",
    "redrawn_rows",
    "unconfirmed",
    "rank",
    "ranking_frame",
    "RANKING_COLUMNS",
    "run_candidate",
]

#: Population tolerances tried for a part's seed and chain, smallest first (a share of the mean).
EPSILONS: tuple[float, ...] = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99)
#: Spanning trees drawn for one split before a larger tolerance is tried (or another pair in ReCom).
_MAX_ATTEMPTS = 50
#: Tries of the last, unbounded tolerance: GerryChain 1.0 can fail on a subgraph's node numbering
#: (KeyError in `_calc_pops`) for some roots; another root and tree succeeds.
_WIDE_TRIES = 20
DISCLAIMER = "これはこのツールが計算した提案で、公式の区域案ではありません。協議の材料としてお使いください。"


@dataclass(frozen=True)
class Part:
    """Connected units of one secondary area and the number of areas they are split into
    (one area: nothing to search; more: a ReCom chain)."""

    secondary: str
    units: tuple[str, ...]
    k: int


@dataclass(frozen=True)
class Group:
    """Units of one secondary area joined by land, routes or the sea within reach: needs ≥ 1 area."""

    secondary: str
    units: tuple[str, ...]
    cap: int  # most areas it can hold (its units, or its population over the floor)


@dataclass(frozen=True)
class Problem:
    """Everything a candidate chain needs, in plain picklable values (sent once to each worker)."""

    k: int
    total: int  # population of the scope
    groups: tuple[Group, ...]
    #: areas per group for candidate i (i modulo their number): Huntington–Hill's first, then the
    #: allocations one area away from it, most evenly divisible first (module notes, step 4)
    allocations: tuple[tuple[int, ...], ...]
    members: dict[str, tuple[str, ...]]  # unit → its municipality codes
    population: dict[str, int]
    code_population: dict[str, int]  # per municipality (a unit may be several)
    area_m2: dict[str, float]
    perimeter_m: dict[str, float]
    edges: tuple[tuple[str, str, float], ...]  # units that touch, with the length of border they share (m)
    floor: int | None
    scope: tuple[str, ...]
    codes: tuple[str, ...]  # municipalities redrawn

    @property
    def ideal(self) -> float:
        return self.total / self.k

    def parts(self, allocation: Sequence[int]) -> tuple[Part, ...]:
        """The groups with their areas, split down to connected pieces: units larger than an area set
        apart as areas of their own (module notes, step 5), what is left apart shared out again."""
        adjacency: dict[str, set[str]] = {u: set() for u in self.members}
        for a, b, _ in self.edges:
            adjacency[a].add(b)
            adjacency[b].add(a)
        out: list[Part] = []
        for g, n in zip(self.groups, allocation, strict=True):
            out += _split(g.secondary, g.units, n, self.population, adjacency, self.floor)
        return tuple(out)

    def method(self, *, seed: int, steps: int, candidates: int) -> dict[str, object]:
        """What was done, for every output: algorithm, parameters and seed."""
        return {
            "algorithm": "GerryChain ReCom（recursive_tree_part で初期案、ReCom 連鎖で探索）",
            "seed": seed,
            "candidates": candidates,
            "recom_steps_per_candidate": steps,
            "areas": self.k,
            "population_floor": self.floor,
            "epsilons": list(EPSILONS),
            "scope": list(self.scope),
            "municipalities": len(self.codes),
            "groups": [{"secondary": g.secondary, "units": len(g.units)} for g in self.groups],
            "allocations": [list(a) for a in self.allocations],
            "ranking": "人口の偏り（平均人口からの二乗平均平方根）が小さい順、"
            "同じならポルスビー・ポッパー平均が大きい順",
        }


@dataclass(frozen=True)
class Candidate:
    """One chain's best plan: unit → area number (0 … K-1), with the figures it was ranked by."""

    index: int
    seed: int
    allocation: tuple[int, ...]  # areas per group of the problem
    assignment: dict[str, int]
    populations: tuple[int, ...]
    compactness: tuple[float, ...]  # Polsby–Popper per area
    epsilons: tuple[float, ...]  # per searched part: the population tolerance its chain ran with
    steps: int
    meets_floor: bool
    balance: dict[str, float] = field(default_factory=dict)

    @property
    def key(self) -> tuple[float, float]:
        return (round(self.balance["rms_pct"], 6), -round(float(np.mean(self.compactness)), 6))


# ---- the problem ------------------------------------------------------------------------------


def _named(codes: Sequence[str], names: dict[str, str]) -> str:
    """Municipalities as people read them in a message: 「江別市（01217）、当別町（01303）」."""
    return "、".join(f"{names[c]}（{c}）" if c in names else c for c in codes)


def unconfirmed(table: pd.DataFrame) -> pd.Series:
    """Rows a proposal redraws unless told otherwise: not in a confirmed home-care area."""
    return ~((table["status"] == CONFIRMED).fillna(False) & table["homecare"].notna())


def redrawn_rows(plan: Plan, within: Sequence[str], *, redraw_confirmed: bool = False) -> pd.DataFrame:
    """The plan's rows a proposal for `within` (secondary area names, prefecture names or 2-digit
    codes) redraws: the unconfirmed ones, or all with `redraw_confirmed`. Unknown names are an error."""
    t = plan.table
    pref = t["code"].str[:2].map(PREFECTURES)
    names_to_code = {v: k for k, v in PREFECTURES.items()}
    sel = pd.Series(False, index=t.index)
    unknown = []
    for name in within:
        name = name.strip()
        if name in names_to_code or name in PREFECTURES:
            hit = pref == PREFECTURES.get(name, name)
        else:
            hit = (t["secondary"] == name).fillna(False)
        if not hit.any():
            unknown.append(name)
        sel |= hit
    if unknown:
        known = "、".join(dict.fromkeys(t["secondary"].dropna()))
        raise InputError(
            f"範囲の「{'」「'.join(unknown)}」は区域案「{plan.name}」の二次医療圏にも都道府県にもありません。"
            f"二次医療圏の名前（{known}）か都道府県名を指定してください。"
        )
    if not redraw_confirmed:
        sel &= unconfirmed(t)
    return t[sel]


def _apportion(weights: Sequence[int], k: int, caps: Sequence[int]) -> list[int]:
    """k areas over parts by population, each at least one and at most its cap: Huntington–Hill, the
    method that keeps population per seat most even in relative terms (priority w/√(s(s+1)))."""
    seats = [1] * len(weights)
    for _ in range(k - len(weights)):
        open_ = [i for i in range(len(weights)) if seats[i] < caps[i]]
        best = max(open_, key=lambda i: (weights[i] / math.sqrt(seats[i] * (seats[i] + 1)), -i))
        seats[best] += 1
    return seats


def _allocations(weights: Sequence[int], k: int, caps: Sequence[int], n: int) -> tuple[tuple[int, ...], ...]:
    """Up to `n` allocations of k areas over the groups: Huntington–Hill's, then those that move one
    area from a group to another, the most evenly divisible first (Σ s·(w/s − mean)²)."""
    first = tuple(_apportion(weights, k, caps))
    mean = sum(weights) / k

    def spread(a: Sequence[int]) -> float:
        return sum(s * (w / s - mean) ** 2 for w, s in zip(weights, a, strict=True))

    near = set()
    for i in range(len(first)):
        for j in range(len(first)):
            if i != j and first[i] > 1 and first[j] < caps[j]:
                a = list(first)
                a[i] -= 1
                a[j] += 1
                near.add(tuple(a))
    return (first, *sorted(near, key=lambda a: (spread(a), a))[: max(n - 1, 0)])


def _pieces(units: Sequence[str], adjacency: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """Connected pieces of `units` (edges only among them), in a fixed order."""
    h = nx.Graph()
    h.add_nodes_from(units)
    h.add_edges_from((a, b) for a in units for b in adjacency[a] if b in h)
    return sorted((tuple(sorted(c)) for c in nx.connected_components(h)), key=lambda c: (-len(c), c))


def _split(
    secondary: str,
    units: Sequence[str],
    k: int,
    population: dict[str, int],
    adjacency: dict[str, set[str]],
    floor: int | None,
) -> list[Part]:
    """`units` (connected) into `k` areas: a unit with at least the mean area population is an area of
    its own when what is left can still take the other areas (as many pieces as areas at most, each
    piece able to reach the population floor); pieces left apart get areas by population
    (Huntington–Hill), each split the same way."""
    if k == 1 or k == len(units):
        return [Part(secondary, (u,), 1) for u in units] if k == len(units) else [Part(secondary, tuple(units), 1)]
    mean = sum(population[u] for u in units) / k
    for u in sorted(units, key=lambda x: (-population[x], x)):
        if population[u] < mean:
            break
        rest = [x for x in units if x != u]
        pieces = _pieces(rest, adjacency)
        weights = [sum(population[x] for x in p) for p in pieces]
        caps = [len(p) if floor is None else min(len(p), w // floor) for p, w in zip(pieces, weights, strict=True)]
        if len(pieces) <= k - 1 and min(caps) >= 1 and sum(caps) >= k - 1:  # the rest can take the other areas
            seats = _apportion(weights, k - 1, caps)
            out = [Part(secondary, (u,), 1)]
            for piece, n in zip(pieces, seats, strict=True):
                out += _split(secondary, piece, n, population, adjacency, floor)
            return out
    return [Part(secondary, tuple(units), k)]


def make_problem(
    munis: pd.DataFrame,
    plan: Plan,
    graph: nx.Graph,
    *,
    within: Sequence[str],
    k: int,
    floor: int | None = None,
    locks: Sequence[Sequence[str]] = (),
    redraw_confirmed: bool = False,
    sea_distance_km: float = SEA_DISTANCE_KM,
    candidates: int = 1,
) -> Problem:
    """The units, parts and areas per part for a proposal of `k` areas in `within` (module notes)."""
    if k < 1:
        raise InputError("圏域の数は1以上にしてください。")
    if floor is not None and floor < 1:
        raise InputError("人口の下限は1以上の人口にしてください。")
    rows = redrawn_rows(plan, within, redraw_confirmed=redraw_confirmed)
    if rows.empty:
        raise InputError(
            "指定した範囲の市町村は、すべて確定した在宅医療圏に入っています。"
            "確定した圏域も引き直すよう指定してください。"
        )
    if rows["secondary"].isna().any():
        empty = "、".join(rows.loc[rows["secondary"].isna(), "name"].astype(str).head(5))
        raise InputError(f"二次医療圏が空の市町村があります（{empty} など）。区域表で二次医療圏を入れてください。")
    pop = munis.set_index(munis["code"].astype(str))["population"]
    names = dict(zip(munis["code"].astype(str), munis["name"].astype(str), strict=True))
    codes = rows["code"].astype(str).tolist()
    missing = [c for c in codes if c not in pop.index or pd.isna(pop.get(c))]
    if missing:
        raise InputError(
            f"人口が分からない市町村があるため、人口の釣り合いを計算できません（{_named(missing[:5], names)} など）。"
            "人口表を確かめてください。"
        )
    secondary = dict(zip(codes, rows["secondary"].astype(str), strict=True))

    # units: lock groups joined, other municipalities alone
    unit_of = {c: c for c in codes}
    for group in locks:
        group = [str(c) for c in group]
        outside = [c for c in group if c not in unit_of]
        if outside:
            raise InputError(
                f"まとめる市町村の {_named(outside, names)} は提案する範囲（確定していない市町村）にありません。"
                "範囲の市町村コードを指定してください。"
            )
        if len({secondary[c] for c in group}) > 1:
            raise InputError(
                f"まとめる市町村の {_named(group, names)} は別々の二次医療圏にあり、1つの圏域にできません。"
            )
        sub = graph.subgraph(group)
        if len(group) > 1 and not nx.is_connected(sub):
            raise InputError(
                f"まとめる市町村の {_named(group, names)} は隣り合っていないため、それだけで1つにまとめられません。"
            )
        unit = "+".join(sorted(group))
        for c in group:
            if unit_of[c] != c:
                raise InputError(f"まとめる市町村に {_named([c], names)} が2回あります。1つのまとまりにしてください。")
            unit_of[c] = unit
    members: dict[str, list[str]] = {}
    for c in codes:
        members.setdefault(unit_of[c], []).append(c)
    upop = {u: int(sum(int(pop[c]) for c in m)) for u, m in members.items()}
    area = {u: sum(graph.nodes[c]["area_km2"] * 1e6 for c in m) for u, m in members.items()}
    perim = {u: sum(graph.nodes[c]["perimeter"] for c in m) for u, m in members.items()}
    edge_len: dict[tuple[str, str], float] = {}
    for a, b, d in graph.subgraph(codes).edges(data=True):
        ua, ub = unit_of[a], unit_of[b]
        length = float(d.get("length", 0.0)) if d.get("kind") == LAND else 0.0
        if ua == ub:
            perim[ua] -= 2 * length  # a border inside a lock group is not on the unit's boundary
            continue
        key = (min(ua, ub), max(ua, ub))
        edge_len[key] = edge_len.get(key, 0.0) + length

    # parts: per secondary area, joined by land, routes, or the sea within reach
    parts_units: list[tuple[str, list[str]]] = []
    for sec in dict.fromkeys(secondary[c] for c in codes):
        units = [u for u in members if secondary[members[u][0]] == sec]
        h = nx.Graph()
        h.add_nodes_from(units)
        h.add_edges_from(e for e in edge_len if e[0] in h and e[1] in h)
        groups = [sorted(g) for g in nx.connected_components(h)]
        if len(groups) > 1:
            gaps = sea_gaps(graph, [[c for u in g for c in members[u]] for g in groups])
            near = gaps[gaps["km"] <= sea_distance_km]
            for a, b in zip(near["code_a"], near["code_b"], strict=True):
                key = (min(unit_of[a], unit_of[b]), max(unit_of[a], unit_of[b]))
                edge_len.setdefault(key, 0.0)
                h.add_edge(*key)  # single linkage, as `adjacency.join_across_sea` joins pieces for validation
        for g in sorted(nx.connected_components(h), key=lambda s: (-sum(upop[u] for u in s), min(s))):
            parts_units.append((sec, sorted(g)))

    if k < len(parts_units):
        where = "、".join(f"{s}（{len(u)}単位）" for s, u in parts_units)
        raise InputError(
            f"圏域の数 {k} では足りません。圏域は二次医療圏をまたげず、"
            "陸・航路・海でつながらない市町村は別の圏域になるため、"
            f"少なくとも {len(parts_units)} 圏域が要ります（{where}）。"
        )
    weights = [sum(upop[u] for u in us) for _, us in parts_units]
    caps = [
        len(us) if floor is None else min(len(us), w // floor) for (_, us), w in zip(parts_units, weights, strict=True)
    ]
    if floor is not None and min(caps) < 1:
        small = [s for (s, _), c in zip(parts_units, caps, strict=True) if c < 1]
        raise InputError(
            f"人口が人口の下限 {floor:,} に届かない部分があります（{'、'.join(small)}）。下限を下げてください。"
        )
    if k > sum(caps):
        raise InputError(
            f"圏域の数 {k} は多すぎます。この範囲で作れるのは最大 {sum(caps)} 圏域です"
            f"（市町村の数{'・人口の下限' if floor else ''}による）。"
        )
    return Problem(
        k=k,
        total=sum(upop.values()),
        groups=tuple(Group(sec, tuple(us), cap) for (sec, us), cap in zip(parts_units, caps, strict=True)),
        allocations=_allocations(weights, k, caps, candidates),
        members={u: tuple(m) for u, m in members.items()},
        population=upop,
        code_population={c: int(pop[c]) for c in codes},
        area_m2=area,
        perimeter_m=perim,
        edges=tuple((a, b, L) for (a, b), L in sorted(edge_len.items())),
        floor=floor,
        scope=tuple(within),
        codes=tuple(codes),
    )


# ---- one candidate -------------------------------------------------------------------------------


def _part_arrays(
    problem: Problem, units: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per unit: population, area, perimeter; per edge inside `units`: ends (indices) and shared length."""
    idx = {u: i for i, u in enumerate(units)}
    e = [(idx[a], idx[b], L) for a, b, L in problem.edges if a in idx and b in idx]
    ei = np.array([x[0] for x in e], dtype=int)
    ej = np.array([x[1] for x in e], dtype=int)
    el = np.array([x[2] for x in e], dtype=float)
    return (
        np.array([problem.population[u] for u in units], dtype=np.int64),
        np.array([problem.area_m2[u] for u in units]),
        np.array([problem.perimeter_m[u] for u in units]),
        ei,
        ej,
        el,
    )


def _scores(labels: np.ndarray, k: int, arrays, ideal_k: tuple[int, int]) -> tuple[int, float, np.ndarray, np.ndarray]:
    """(K²·squared deviation as an exact integer, Σ(1−PP), populations, PP) of one assignment."""
    pop, area, perim, ei, ej, el = arrays
    big_k, total = ideal_k
    pops = np.zeros(k, dtype=np.int64)
    np.add.at(pops, labels, pop)
    inner = labels[ei] == labels[ej] if len(ei) else np.zeros(0, dtype=bool)
    shared = np.bincount(labels[ei][inner], weights=el[inner], minlength=k) if len(ei) else np.zeros(k)
    per = np.bincount(labels, weights=perim, minlength=k) - 2 * shared
    ar = np.bincount(labels, weights=area, minlength=k)
    pp = np.where(per > 0, 4 * math.pi * ar / np.maximum(per, 1e-9) ** 2, 1.0)
    dev = int(sum((big_k * int(x) - total) ** 2 for x in pops))
    return dev, float(np.sum(1 - pp)), pops, pp


def _chain_part(problem: Problem, part: Part, steps: int, rng: random.Random) -> tuple[dict[str, int], float | None]:
    """The best plan of `part` into `part.k` areas that a ReCom chain visits (labels 0 … k-1)."""
    from gerrychain import Graph, MarkovChain, Partition
    from gerrychain.partition.initial_partition_generators import recursive_tree_part
    from gerrychain.tree import bipartition_tree
    from gerrychain.updaters import Tally

    units = list(part.units)
    if part.k == 1:
        return dict.fromkeys(units, 0), None
    # nodes are numbers 0 … n-1, not codes: a string's hash differs between processes (PYTHONHASHSEED)
    # and GerryChain iterates sets of nodes, so code labels would make a seed's plans depend on the worker
    index = {u: i for i, u in enumerate(units)}
    h = nx.Graph()
    h.add_nodes_from((i, {"population": problem.population[u]}) for i, u in enumerate(units))
    h.add_edges_from((index[a], index[b]) for a, b, _ in problem.edges if a in index and b in index)
    graph = Graph.from_networkx(h)
    target = sum(problem.population[u] for u in units) / part.k
    split = partial(bipartition_tree, max_attempts=_MAX_ATTEMPTS, allow_pair_reselection=True)
    seed_split = partial(bipartition_tree, max_attempts=_MAX_ATTEMPTS)
    assignment = None
    # a unit too big for any tolerance (旭川市, whose removal would cut its part apart): any split; balance ranks it
    least = max(problem.population[u] for u in units) / target - 1  # the largest unit must fit in an area
    for eps in (*(e for e in EPSILONS if e >= least), *(1e6,) * _WIDE_TRIES):
        try:
            assignment = recursive_tree_part(
                graph, range(part.k), target, "population", eps, bipartition_tree_fn=seed_split, rng=rng
            )
            break
        except Exception:  # noqa: BLE001 - GerryChain says "no balanced cut" in several ways: try a wider tolerance
            continue
    if assignment is None:
        raise InputError(
            f"二次医療圏「{part.secondary}」の {len(units)} 単位を {part.k} 圏域に分けられませんでした。"
            "圏域の数を減らすか、まとめる市町村を見直してください。"
        )
    arrays = _part_arrays(problem, units)
    start = Partition(graph, assignment, {"population": Tally("population", alias="population")})
    chain = MarkovChain(
        partial(_recom_or_stay, pop_col="population", pop_target=target, epsilon=eps, bipartition_tree_fn=split),
        constraints=[],
        initial_partition=start,
        total_steps=steps + 1,  # the first state is the seed itself
        rng=rng,
    )
    best: tuple | None = None
    best_labels: dict[str, int] = {}
    # GerryChain works on internal node numbers: map them back to our units once
    internal: list[int] = sorted(int(n) for n in start.graph.node_indices)  # type: ignore[call-overload]
    order = np.array([start.graph.original_nx_node_id_for_internal_node_id(n) for n in internal])
    for state in chain:
        labels = np.empty(len(units), dtype=int)
        labels[order] = [state.assignment.mapping[n] for n in internal]
        dev, compact, pops, _ = _scores(labels, part.k, arrays, (problem.k, problem.total))
        ok = problem.floor is None or bool(pops.min() >= problem.floor)
        key = (not ok, dev, round(compact, 9))
        if best is None or key < best:
            best, best_labels = key, dict(zip(units, labels.tolist(), strict=True))
    return best_labels, eps


def _recom_or_stay(partition: Any, **kwargs: Any) -> Any:
    """One ReCom step, or the same plan again when no pair of areas can be split within the tolerance
    (a rejected proposal: the chain stays where it is, as Metropolis chains do).

    GerryChain raises MetagraphError when every adjacent pair fails, RuntimeError when it gives up
    drawing trees, and (1.0) KeyError in `_calc_pops` for some subgraph roots: all three mean "no
    step from here this time", not a bad plan."""
    from gerrychain.proposals import recom
    from gerrychain.proposals.tree_proposals import MetagraphError

    try:
        return recom(partition, **kwargs)
    except (MetagraphError, RuntimeError, KeyError):
        return partition


def _steps_per_part(parts: Sequence[Part], steps: int) -> list[int]:
    """The candidate's ReCom steps shared among the parts that need a chain, by their areas minus one."""
    need = [max(p.k - 1, 0) for p in parts]
    total = sum(need)
    if not total:
        return [0] * len(parts)
    share = [steps * n // total for n in need]
    for i in sorted(range(len(parts)), key=lambda i: -need[i])[: steps - sum(share)]:
        share[i] += 1
    return share


def run_candidate(problem: Problem, index: int, seed: int, steps: int) -> Candidate:
    """One candidate: an independent ReCom chain per part, on a random stream of (seed, index) only."""
    rng = random.Random(f"geo_app.propose:{seed}:{index}")
    allocation = problem.allocations[index % len(problem.allocations)]
    parts = problem.parts(allocation)
    assignment: dict[str, int] = {}
    epsilons: list[float] = []
    next_label = 0
    for part, n in zip(parts, _steps_per_part(parts, steps), strict=True):
        found, eps = _chain_part(problem, part, n, rng)
        for u, lab in found.items():
            assignment[u] = next_label + lab
        next_label += part.k
        if eps is not None:
            epsilons.append(eps)
    units = list(problem.members)
    labels = np.array([assignment[u] for u in units], dtype=int)
    _, _, pops, pp = _scores(labels, problem.k, _part_arrays(problem, units), (problem.k, problem.total))
    populations = tuple(int(x) for x in pops)
    return Candidate(
        index=index,
        seed=seed,
        allocation=allocation,
        assignment=assignment,
        populations=populations,
        compactness=tuple(float(x) for x in pp),
        epsilons=tuple(epsilons),
        steps=steps,
        meets_floor=problem.floor is None or min(populations) >= problem.floor,
        balance=balance(populations),
    )


# ---- ranking and plans ---------------------------------------------------------------------------


def balance(populations: Iterable[int]) -> dict[str, float]:
    """Population balance of a set of areas, measured the same way for a proposal and a published plan:
    deviation of each area from their mean, as root mean square and as the largest, in % of the mean;
    and the largest over the smallest."""
    p = np.asarray(list(populations), dtype=float)
    mean = p.mean()
    dev = (p - mean) / mean * 100
    return {
        "areas": float(len(p)),
        "mean": float(mean),
        "rms_pct": float(np.sqrt(np.mean(dev**2))),
        "max_abs_pct": float(np.abs(dev).max()),
        "max_over_min": float(p.max() / p.min()) if p.min() > 0 else math.inf,
        "min": float(p.min()),
        "max": float(p.max()),
    }


def areas_of(candidate: Candidate) -> frozenset[frozenset[str]]:
    """The candidate's areas as sets of units: two chains that found the same plan compare equal."""
    by_area: dict[int, set[str]] = {}
    for u, lab in candidate.assignment.items():
        by_area.setdefault(lab, set()).add(u)
    return frozenset(frozenset(m) for m in by_area.values())


def rank(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Distinct plans, best first: those meeting the floor, then the most balanced, then the most
    compact; a plan found by several chains is listed once (its lowest candidate number)."""
    seen: set[frozenset[frozenset[str]]] = set()
    out = []
    for c in sorted(candidates, key=lambda c: (not c.meets_floor, *c.key, c.index)):
        areas = areas_of(c)
        if areas not in seen:
            seen.add(areas)
            out.append(c)
    return out


#: The ranking's columns: key (English, for scripts) → the Japanese header of 提案一覧.csv and the app's table.
RANKING_COLUMNS = {
    "rank": "順位",
    "areas_per_secondary": "二次医療圏ごとの圏域数",
    "rms_deviation_pct": "人口の偏り（%）",
    "max_deviation_pct": "最大の偏り（%）",
    "smallest": "最小人口",
    "largest": "最大人口",
    "mean_polsby_popper": "コンパクトさ",
    "meets_floor": "人口の下限",
    "candidate": "候補",
    "seed": "乱数の種",
}


def ranking_frame(problem: Problem, ranked: Sequence[Candidate]) -> pd.DataFrame:
    """One row per distinct candidate, best first, with what it was ranked by (keys of RANKING_COLUMNS;
    人口の下限 only when a floor was given, as 満たす/満たさない)."""
    rows = []
    for no, cand in enumerate(ranked, start=1):
        b = cand.balance
        rows.append(
            {
                "rank": no,
                "areas_per_secondary": "・".join(
                    f"{g.secondary} {n}" for g, n in zip(problem.groups, cand.allocation, strict=True)
                ),
                "rms_deviation_pct": round(b["rms_pct"], 2),
                "max_deviation_pct": round(b["max_abs_pct"], 2),
                "smallest": int(b["min"]),
                "largest": int(b["max"]),
                "mean_polsby_popper": round(float(np.mean(cand.compactness)), 4),
                "meets_floor": "満たす" if cand.meets_floor else "満たさない",
                "candidate": cand.index + 1,
                "seed": cand.seed,
            }
        )
    frame = pd.DataFrame(rows, columns=list(RANKING_COLUMNS))
    return frame if problem.floor else frame.drop(columns="meets_floor")


def _area_names(problem: Problem, candidate: Candidate, names: dict[str, str], taken: set[str]) -> dict[int, str]:
    """A readable name per proposed area: its most populous municipality, 「など」 when it has others."""
    by_area: dict[int, list[str]] = {}
    for u, lab in candidate.assignment.items():
        by_area.setdefault(lab, []).extend(problem.members[u])
    out: dict[int, str] = {}
    for lab, codes in sorted(by_area.items()):
        head = max(codes, key=lambda c: (problem.code_population[c], c))
        name = names.get(head, head) + ("など" if len(codes) > 1 else "")
        while name in taken:
            name += "（提案）"
        taken.add(name)
        out[lab] = name
    return out


def candidate_plan(plan: Plan, problem: Problem, candidate: Candidate, rank_no: int, names: dict[str, str]) -> Plan:
    """The candidate as a normal plan: the scope's municipalities in their proposed (未確定) areas,
    everything else as in `plan`. Its name and credit say it is a proposal and how it was made."""
    t = plan.table.copy()
    redrawn = t["code"].isin(problem.codes)
    taken = set(t.loc[~redrawn, "homecare"].dropna().astype(str))
    area_name = _area_names(problem, candidate, names, taken)
    unit_of = {c: u for u, m in problem.members.items() for c in m}
    new = t.loc[redrawn, "code"].map(lambda c: area_name[candidate.assignment[unit_of[c]]])
    t.loc[redrawn, "homecare"] = new.astype("string")
    t.loc[redrawn, "status"] = UNCONFIRMED
    for col in [c for c in t.columns if c.startswith("hub")]:
        t.loc[redrawn, col] = pd.NA  # a hub served the old area
    source = (
        f"geo_app の提案（GerryChain ReCom、乱数の種 {candidate.seed}、候補 {candidate.index + 1}、"
        f"{candidate.steps:,} ステップ）。「{plan.name}」をもとに計算。公式の区域案ではありません"
    )
    return Plan(name=f"{plan.name}：提案{rank_no}（乱数の種 {candidate.seed}）", table=t, source=source)
