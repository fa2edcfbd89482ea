"""The 提案 page through AppTest (issue 12, item 5): `geo-app propose` in the app, on real Hokkaido data.

The expected candidates come from the core itself (`make_problem` → `run_candidate` → `rank` →
`candidate_plan`), called here with the same inputs and seed as the page: the chains are seeded
by (seed, candidate number) only, so the page must list exactly those plans, in that order. A few
steps per candidate keep it fast; the method is the same at 1,000.
"""

from __future__ import annotations

import pytest
from conftest import new_app, rerun
from test_app_logic import move

from geo_app.app.text import md_escape
from geo_app.core.adjacency import build_adjacency
from geo_app.core.plan import CONFIRMED, UNCONFIRMED
from geo_app.core.propose import DISCLAIMER, areas_of, candidate_plan, make_problem, rank, run_candidate
from geo_app.io.store import PlanStore

#: 北海道 2024's four secondary areas whose home-care areas were not published to us (未確定).
SCOPE = ["西胆振", "札幌", "南渡島", "後志"]
K, CANDIDATES, STEPS, SEED = 10, 4, 40, 7
BIEI = "01459"  # 美瑛町, in 上川 (confirmed): an edit outside the scope


def core_candidates(hokkaido_plan, hokkaido):
    """The ranked candidates and their plans, straight from the core (no Dask, no page)."""
    graph = build_adjacency(hokkaido)
    problem = make_problem(hokkaido, hokkaido_plan, graph, within=SCOPE, k=K, candidates=CANDIDATES)
    ranked = rank(run_candidate(problem, i, SEED, STEPS) for i in range(CANDIDATES))
    names = dict(zip(hokkaido["code"], hokkaido["name"], strict=True))
    plans = [candidate_plan(hokkaido_plan, problem, c, no, names) for no, c in enumerate(ranked, start=1)]
    return problem, ranked, plans


@pytest.fixture(scope="module")
def expected(hokkaido_plan, hokkaido):
    return core_candidates(hokkaido_plan, hokkaido)


def allocation(problem, cand) -> str:
    """The table's 二次医療圏ごとの圏域数 for a candidate: 「西胆振 2・札幌 5・…」."""
    return "・".join(f"{g.secondary} {n}" for g, n in zip(problem.groups, cand.allocation, strict=True))


def propose_page(at):
    at.switch_page("page_propose.py")
    return rerun(at)


def computed(at, k: int = K):
    """Fill the form as a planner would (the four areas are already chosen) and press the button."""
    at.number_input(key="propose_k").set_value(k)
    at.number_input(key="propose_candidates").set_value(CANDIDATES)
    at.number_input(key="propose_steps").set_value(STEPS)
    at.number_input(key="propose_seed").set_value(SEED)
    at.button(key="btn_propose").click()
    return rerun(at)


def ranked_frame(at):
    return next(d.value for d in at.dataframe if d.value.columns[0] == "順位")


def areas_in_scope(plan, codes) -> set[frozenset[str]]:
    """The plan's home-care areas among `codes`, each as its set of municipality codes."""
    t = plan.table[plan.table["code"].isin(codes)]
    return {frozenset(g["code"]) for _, g in t.groupby("homecare")}


def test_defaults_compute_open_save(db, expected, hokkaido_plan):
    problem, ranked, plans = expected
    at = propose_page(new_app())
    # the notice, and the defaults for the published plan: the four 未確定 secondary areas, K = 10
    assert md_escape(DISCLAIMER) in [w.value for w in at.warning]
    assert at.multiselect(key="propose_within").value == SCOPE
    assert at.number_input(key="propose_k").value == K
    assert any(md_escape("平均 4.8 市町村") in c.value for c in at.caption)

    at = computed(at)
    table = ranked_frame(at)
    assert len(table) == len(ranked)
    for (_, row), cand in zip(table.iterrows(), ranked, strict=True):  # the first row first: rank()'s best
        assert row["二次医療圏ごとの圏域数"] == allocation(problem, cand)
        assert row["人口の偏り（%）"] == round(cand.balance["rms_pct"], 2)
        assert row["最大の偏り（%）"] == round(cand.balance["max_abs_pct"], 2)
        assert (row["最小人口"], row["最大人口"]) == (min(cand.populations), max(cand.populations))
        assert row["コンパクトさ"] == round(sum(cand.compactness) / len(cand.compactness), 4)
    assert list(table["順位"]) == list(range(1, len(ranked) + 1))
    assert sum(int(x.split()[-1]) for x in table.loc[0, "二次医療圏ごとの圏域数"].split("・")) == K

    # the result survives reruns (and is not computed again: the same object)
    result = at.session_state["propose_result"]
    rerun(at)
    assert at.session_state["propose_result"] is result and ranked_frame(at).equals(table)

    # 開いて編集: candidate 1 is the workspace's plan; 元に戻す leads back to the published plan
    at.button(key="btn_propose_open").click()
    rerun(at)
    ws = at.session_state["ws"]
    codes = set(problem.codes)
    assert ws.plan == plans[0] and ws.plan.name == plans[0].name
    mine = areas_in_scope(ws.plan, codes)
    assert mine == {frozenset(c for u in area for c in problem.members[u]) for area in areas_of(ranked[0])}
    assert len(mine) == K and mine != areas_in_scope(hokkaido_plan, codes)
    scope_rows = ws.plan.table[ws.plan.table["code"].isin(codes)]
    assert (scope_rows["status"] == UNCONFIRMED).all() and len(scope_rows) == 39
    outside = ~ws.plan.table["code"].isin(codes)
    assert ws.plan.table[outside].equals(hokkaido_plan.table[outside])  # confirmed areas untouched
    assert (ws.plan.table.loc[outside, "status"] == CONFIRMED).all()
    assert ws.saved_name is None and ws.dirty and len(ws.history) == 1
    assert ws.history.base == hokkaido_plan and any("提案1を開きました" in s.value for s in at.success)

    # 保存: under its name, in the store and in 案の比較's choices
    at.button(key="btn_propose_save").click()
    rerun(at)
    assert any("として保存しました（版1）" in s.value for s in at.success)
    assert plans[0].name in [p.name for p in PlanStore(path=db).list_plans()]
    saved, version = PlanStore(path=db).load(plans[0].name)
    assert saved == plans[0] and version == 1
    ws = at.session_state["ws"]  # it was the opened candidate, unchanged: now that saved plan
    assert ws.saved_name == plans[0].name and ws.saved_version == 1 and not ws.dirty

    # another candidate replaces an opened one without asking (nothing is lost: the list holds it)
    at.selectbox(key=f"propose_pick:{result['id']}").set_value(2)
    rerun(at)
    at.button(key="btn_propose_open").click()
    rerun(at)
    assert at.session_state["ws"].plan == plans[1]

    # …but a real unsaved edit is not dropped silently: the page asks, as 保存・読み込み does
    at.switch_page("page_map.py")
    rerun(at)
    move(at, BIEI, "富良野")
    before = at.session_state["ws"].plan
    propose_page(at)
    at.button(key="btn_propose_open").click()
    rerun(at)
    assert at.session_state["ws"].plan is before
    assert any("保存していない編集が2件あります" in w.value for w in at.warning)
    at.checkbox(key="discard_propose_open").check()
    at.button(key="btn_propose_open").click()
    rerun(at)
    assert at.session_state["ws"].plan == plans[1]

    # 元に戻す on the map page leads back to the plan the proposal was computed from
    at.switch_page("page_map.py")
    rerun(at)
    at.button(key="btn_undo").click()
    rerun(at)
    assert at.session_state["ws"].plan == hokkaido_plan and not at.session_state["ws"].history.can_undo

    at.switch_page("page_compare.py")
    rerun(at)
    options = at.selectbox(key="cmp_b").options
    assert f"保存した案「{plans[0].name}」（版1）" in options, options


def test_input_errors_in_the_pages_words(db):
    at = propose_page(new_app())
    at = computed(at, k=3)  # four secondary areas need four areas at least
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "少なくとも 4 圏域が要ります" in errors[0]
    assert "圏域の数 3 では足りません" in errors[0] and "--" not in errors[0]
    assert "propose_result" not in at.session_state
