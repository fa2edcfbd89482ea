"""Page 提案: `geo-app propose` in the app (issue 12, item 5) — proposed home-care areas for the current plan.

The planner picks the secondary areas (or the prefecture) to propose for, the number of areas and,
if they like, a population floor and municipalities to keep together; 「提案を計算する」 runs the
core (`propose.make_problem` + `propose_run.run_candidates`) on the workspace's plan and
municipalities, and the ranked distinct candidates are listed. Each can be opened for editing or
saved under its name, so that 案の比較 can set it beside the published plan. Every candidate is a
proposal, never the official plan (`propose.DISCLAIMER` on the page, 「提案」 in every name).

* **Where the chains run.** Dask's local scheduler with one worker (`WORKERS = 1`, Dask's
  synchronous scheduler in the script's own thread). Worker processes would not pay here: the
  default start method spawns a fresh pool for every press (each child imports the server module,
  GeoPandas and GerryChain again), measured no faster than one worker on a 2-core machine for the
  default 8 × 1,000 steps (about 6 s either way), and on a server shared by several planners each
  press would take every core. In the script thread the progress bar is fed between candidates,
  and a planner who leaves the page or presses again stops the run there (Streamlit stops a script
  run at its next call into Streamlit, here the next bar update). The CLI
  (`geo-app propose --workers/--scheduler`) is the tool for large runs.
* **The result survives reruns.** It is kept in `st.session_state[RESULT]` (a plain dict: classes
  defined in a page script are new on every run) and computed only when the button is pressed.
* **Opening a candidate** makes it the workspace's plan as opening a saved plan does (a new
  workspace, not linked to any saved plan, so 上書き保存 can never write a proposal over the plan it
  came from), with an edit history that starts at the plan the proposal was computed from:
  「元に戻す」 on the map page goes back to it. Unsaved edits are never dropped silently: the same
  confirmation box as 保存・読み込み (`state.discard_allowed`) — unless the only unsaved edit is the
  opening of another candidate of this very result, which the list still holds.
* **Saving a candidate** writes it to the plan store under its name (editable), with that same
  one-step history, so opening it later also walks back to the plan it came from. When the
  workspace is that very candidate, opened and unchanged, it is linked to the saved plan, as a
  save from 保存・読み込み would.

User text (plan, area and municipality names) reaches the page only escaped (`text.md_escape`) or
as plain cells and options.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from geo_app.app.state import (
    discard_allowed,
    discard_checkbox,
    flash,
    get_store,
    open_plan,
    set_workspace,
    show_flash,
    workspace,
)
from geo_app.app.text import md_escape
from geo_app.core.codes import PREFECTURES
from geo_app.core.edits import EditHistory
from geo_app.core.errors import GeoAppError
from geo_app.core.plan import CONFIRMED, Plan
from geo_app.core.propose import redrawn_rows, unconfirmed

__all__ = [
    "render",
    "scope_options",
    "unconfirmed_secondaries",
    "default_k",
    "compute",
    "ranked_table",
    "RESULT",
    "WORKERS",
    "COLUMNS",
]

RESULT = "propose_result"  # session key of the last result (a dict, see `compute`)
WORKERS = 1  # Dask's synchronous scheduler in the script thread (module notes)
DISCARD_KEY = "discard_propose_open"
_PICK_KEPT = "_propose_pick_kept"  # (result id, candidate no.) chosen, kept across pages
#: The ranked table's columns, in order.
COLUMNS = [
    "順位",
    "二次医療圏ごとの圏域数",
    "人口の偏り（%）",
    "最大の偏り（%）",
    "最小人口",
    "最大人口",
    "コンパクトさ",
]
_PREF_SUFFIX = "（全域）"


# ---- inputs ------------------------------------------------------------------------------------
def scope_options(plan: Plan) -> list[str]:
    """The plan's secondary areas in table order, then its prefectures (a name the core accepts)."""
    secondaries = list(dict.fromkeys(plan.table["secondary"].dropna().astype(str)))
    return [*secondaries, *[p for p in plan.prefectures if p not in secondaries]]


def unconfirmed_secondaries(plan: Plan) -> list[str]:
    """The secondary areas that hold a municipality not yet in a confirmed home-care area."""
    t = plan.table
    return list(dict.fromkeys(t.loc[unconfirmed(t), "secondary"].dropna().astype(str)))


def default_k(plan: Plan, within: Sequence[str], redraw_confirmed: bool) -> tuple[int, str]:
    """A starting number of areas for the scope, and what it is based on (shown under the field).

    The plan's own confirmed home-care areas outside the scope say how many municipalities an area
    takes there; each secondary area in scope gets its municipalities ÷ that mean, rounded up (at
    least 1). For 北海道 2024's four 未確定 secondary areas: 29 confirmed areas of 4.8 municipalities
    on average → 南渡島 2, 後志 4, 札幌 2, 西胆振 2 = 10. With no confirmed area outside the scope, the
    number of home-care areas the scope has now."""
    rows = redrawn_rows(plan, within, redraw_confirmed=redraw_confirmed)
    if rows.empty:
        return 1, "範囲に提案する市町村がありません。"
    t = plan.table
    outside = t[~t.index.isin(rows.index) & (t["status"] == CONFIRMED).fillna(False) & t["homecare"].notna()]
    per_secondary = rows.groupby(rows["secondary"].fillna(""), sort=False).size()
    if len(outside):
        mean = len(outside) / outside["homecare"].nunique()
        k = int(sum(max(1, math.ceil(n / mean - 1e-9)) for n in per_secondary))
        basis = (
            f"既定値 {k}: この区域案の確定した在宅医療圏（範囲の外、{outside['homecare'].nunique()}圏域）は"
            f"平均 {mean:.1f} 市町村です。範囲の二次医療圏ごとに、市町村の数 ÷ {mean:.1f} を切り上げて合計しました"
            f"（範囲の市町村 {len(rows)}、二次医療圏 {len(per_secondary)}）。"
        )
    else:
        now = rows.groupby(rows["secondary"].fillna(""), sort=False)["homecare"].nunique()
        k = int(sum(max(1, n) for n in now))
        basis = f"既定値 {k}: 範囲にいまある在宅医療圏の数です（範囲の市町村 {len(rows)}）。"
    return min(k, len(rows)), basis


# ---- computing ---------------------------------------------------------------------------------
def compute(
    ws: Any,
    *,
    within: Sequence[str],
    k: int,
    floor: int | None,
    lock: Sequence[str],
    redraw_confirmed: bool,
    seed: int,
    candidates: int,
    steps: int,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Ranked candidates for the workspace's plan, as a plain dict kept in the session.

    Keys: base (the plan computed from), data_key, problem, ranked (Candidates, best first), plans
    (each as a Plan, `candidate_plan`), params, seconds. Raises GeoAppError (InputError) in Japanese."""
    from geo_app.core.propose import candidate_plan, make_problem, rank
    from geo_app.core.propose_run import run_candidates

    plan = ws.plan
    problem = make_problem(
        ws.munis,
        plan,
        ws.data.graph,
        within=list(within),
        k=int(k),
        floor=int(floor) if floor else None,
        locks=[list(lock)] if lock else (),
        redraw_confirmed=redraw_confirmed,
        candidates=int(candidates),
    )
    t0 = time.perf_counter()
    found = run_candidates(
        problem, candidates=int(candidates), seed=int(seed), steps=int(steps), workers=WORKERS, progress=progress
    )
    seconds = time.perf_counter() - t0
    ranked = rank(found)
    names = dict(zip(ws.munis["code"].astype(str), ws.munis["name"].astype(str), strict=True))
    plans = [candidate_plan(plan, problem, c, no, names) for no, c in enumerate(ranked, start=1)]
    serial = int(st.session_state.get("_propose_serial", 0)) + 1
    st.session_state["_propose_serial"] = serial
    return {
        "id": serial,
        "base": plan,
        "data_key": ws.data.key,
        "problem": problem,
        "ranked": ranked,
        "plans": plans,
        "params": {
            "within": list(within),
            "k": int(k),
            "floor": int(floor) if floor else None,
            "lock": list(lock),
            "redraw_confirmed": bool(redraw_confirmed),
            "seed": int(seed),
            "candidates": int(candidates),
            "steps": int(steps),
        },
        "seconds": seconds,
    }


def ranked_table(result: dict[str, Any]) -> pd.DataFrame:
    """One row per distinct candidate, best first, with the figures it was ranked by (as the CLI's 提案一覧.csv)."""
    from geo_app.core.propose import RANKING_COLUMNS, ranking_frame

    table = ranking_frame(result["problem"], result["ranked"]).drop(columns=["candidate", "seed"])
    return table.rename(columns=RANKING_COLUMNS)


def _areas_of(result: dict[str, Any], no: int) -> pd.DataFrame:
    """The proposed areas of candidate `no` (1-based): name, secondary area, population, members."""
    problem, plan = result["problem"], result["plans"][no - 1]
    t = plan.table[plan.table["code"].isin(problem.codes)]
    rows = []
    for area, g in t.groupby("homecare", sort=False):
        rows.append(
            {
                "圏域（提案）": str(area),
                "二次医療圏": str(g["secondary"].iloc[0]),
                "人口": int(sum(problem.code_population[c] for c in g["code"])),
                "市町村数": len(g),
                "市町村": "・".join(g["name"].astype(str)),
            }
        )
    return pd.DataFrame(rows).sort_values(["二次医療圏", "人口"], ascending=[True, False], kind="stable")


#: `Problem.method` keys in Japanese, in the order shown.
_METHOD_JA = {
    "algorithm": "方法",
    "scope": "範囲",
    "municipalities": "提案した市町村の数",
    "areas": "圏域の数",
    "population_floor": "人口の下限",
    "groups": "部分（二次医療圏: 単位の数。陸・航路・海でつながらない部分は別々）",
    "allocations": "二次医療圏ごとの圏域数の候補（案ごとに順に使う）",
    "candidates": "案の数",
    "recom_steps_per_candidate": "1案あたりのステップ数",
    "seed": "乱数の種",
    "epsilons": "試した人口の許容幅（平均に対する割合）",
    "ranking": "並べ方",
}


def _method_table(method: dict[str, Any]) -> pd.DataFrame:
    """What was done (`Problem.method`) as a two-column table in Japanese (values as plain text)."""

    def text(key: str, value: Any) -> str:
        if value is None:
            return "なし"
        if key == "groups":
            return "、".join(f"{g['secondary']}: {g['units']}" for g in value)
        if key == "allocations":
            return " ／ ".join("・".join(str(n) for n in a) for a in value)
        if isinstance(value, list):
            return "、".join(str(v) for v in value)
        return f"{value:,}" if isinstance(value, int) and key != "seed" else str(value)

    rows = [{"項目": ja, "内容": text(key, method[key])} for key, ja in _METHOD_JA.items() if key in method]
    return pd.DataFrame(rows)


# ---- opening and saving ------------------------------------------------------------------------
def _one_step_history(result: dict[str, Any], no: int) -> EditHistory:
    """The candidate as one edit of the plan it was computed from (「元に戻す」 goes back to that plan)."""
    history = EditHistory(result["base"])
    p = result["params"]
    history.apply(
        result["plans"][no - 1],
        label=f"提案{no}を開く（{'・'.join(p['within'])}、{p['k']}圏域、乱数の種 {p['seed']}）",
    )
    return history


def _nothing_to_lose(ws: Any, result: dict[str, Any]) -> bool:
    """The workspace holds only an opened candidate of this result, unchanged: replacing it loses nothing."""
    h = ws.history
    return (
        ws.saved_name is None
        and len(h) == 1
        and not h.can_redo
        and h.base == result["base"]
        and any(ws.plan == p and ws.plan.name == p.name for p in result["plans"])
    )


def _current(result_id: int) -> dict[str, Any] | None:
    result = st.session_state.get(RESULT)
    if result is None or result["id"] != result_id:
        flash("error", "この提案はもう表示されていません。もう一度計算してください。")
        return None
    return result


def _do_open(result_id: int, no: int) -> None:
    result = _current(result_id)
    if result is None:
        return
    ws = workspace()
    if result["data_key"] != ws.data.key:
        flash("error", "この提案を計算したあとで市町村のデータが変わりました。もう一度計算してください。")
        return
    if not _nothing_to_lose(ws, result) and not discard_allowed(DISCARD_KEY):
        return
    st.session_state[DISCARD_KEY] = False
    plan = result["plans"][no - 1]
    try:
        new = open_plan(
            plan,
            origin=f"提案{no}（「{result['base'].name}」をもとに geo_app が計算。公式の区域案ではありません）",
            boundaries=ws.boundaries,
            population=ws.population,
            sea_links=ws.sea_links,
            history=_one_step_history(result, no),
        )
    except GeoAppError as exc:
        flash("error", str(exc))
        return
    new.population_date = ws.population_date
    set_workspace(new)
    flash(
        "success",
        f"提案{no}を開きました（「{plan.name}」、まだ保存していません）。「地図と編集」で編集できます。"
        f"「元に戻す」で提案のもとの「{result['base'].name}」に戻れます。",
    )


def _save_key(result_id: int, no: int) -> str:
    return f"propose_save_name:{result_id}:{no}"


def _do_save(result_id: int, no: int) -> None:
    result = _current(result_id)
    if result is None:
        return
    plan = result["plans"][no - 1]
    name = str(st.session_state.get(_save_key(result_id, no)) or plan.name)
    p = result["params"]
    note = (
        f"geo_app の提案{no}（{'・'.join(p['within'])}、{p['k']}圏域、乱数の種 {p['seed']}、"
        f"{p['steps']:,} ステップ）。公式の区域案ではありません"
    )
    try:
        version = get_store().save(
            plan.with_name(name),
            expected_version=None,
            note=note,
            edit_log=_one_step_history(result, no).to_json(),
        )
    except GeoAppError as exc:  # the name taken (ConflictError) or unusable: said in Japanese
        flash("error", str(exc))
        return
    ws = workspace()
    if ws.saved_name is None and len(ws.history) == 1 and ws.plan == plan and ws.plan.name == plan.name:
        ws.mark_saved(name, version, ws.plan)  # the opened candidate, unchanged: 上書き保存 now continues it
        set_workspace(ws)
    flash(
        "success",
        f"提案{no}を区域案「{name}」として保存しました（版{version}）。「案の比較」で公表された案と比べられます。",
    )


# ---- the page ----------------------------------------------------------------------------------
def _scope_label(option: str) -> str:
    return f"{option}{_PREF_SUFFIX}" if option in PREFECTURES.values() else option


def _muni_labeller(names: dict[str, str], secondary: dict[str, str]) -> Callable[[str], str]:
    """format_func of まとめる市町村 (a closure: AppTest calls it outside the script run)."""
    return lambda code: f"{names.get(code, code)}（{secondary.get(code, '')}）"


def _candidate_labeller(result: dict[str, Any]) -> Callable[[int], str]:
    """format_func of 案を選ぶ: 「提案1（偏り 37.5%、10圏域）」."""
    return lambda no: f"提案{no}（偏り {result['ranked'][no - 1].balance['rms_pct']:.1f}%、{result['problem'].k}圏域）"


def _inputs(ws: Any) -> dict[str, Any] | None:
    """The form; the parameters when 「提案を計算する」 was pressed, else None."""
    plan = ws.plan
    options = scope_options(plan)
    chosen = st.session_state.get("propose_within")
    if chosen is None or any(x not in options for x in chosen):
        st.session_state["propose_within"] = unconfirmed_secondaries(plan)
    within = st.multiselect(
        "範囲（二次医療圏、または都道府県の全域）",
        options,
        key="propose_within",
        format_func=_scope_label,
        placeholder="二次医療圏を選ぶ",
        select_all=False,  # its "Select all" has no Japanese text
        help="選んだ範囲の、確定していない市町村に在宅医療圏を提案します。圏域は二次医療圏をまたぎません。",
    )
    redraw = st.checkbox(
        "確定した圏域も引き直す",
        key="propose_redraw",
        help="チェックすると、範囲の確定した在宅医療圏もいったん外して提案します。",
    )
    if not within:
        st.info("提案する範囲を選んでください。")
        return None
    rows = redrawn_rows(plan, within, redraw_confirmed=redraw)
    if rows.empty:
        st.info(
            "選んだ範囲の市町村は、すべて確定した在宅医療圏に入っています。"
            "引き直すには「確定した圏域も引き直す」にチェックを入れてください。"
        )
        return None
    k_default, basis = default_k(plan, within, redraw)
    k_for = (tuple(within), bool(redraw), plan.name)
    if "propose_k" not in st.session_state or st.session_state.get("_propose_k_for") != k_for:
        st.session_state["propose_k"] = k_default
    st.session_state["_propose_k_for"] = k_for
    st.caption(
        md_escape(
            f"範囲の市町村 {len(rows)}（{'、'.join(dict.fromkeys(rows['secondary'].dropna().astype(str)))}）。"
            "確定した在宅医療圏は" + ("引き直します。" if redraw else "そのまま残します。")
        )
    )
    c1, c2 = st.columns(2)
    k = c1.number_input("圏域の数 K", min_value=1, step=1, key="propose_k")
    c1.caption(md_escape(basis))
    floor = c2.number_input(
        "人口の下限（任意）",
        min_value=1,
        value=None,
        step=1000,
        key="propose_floor",
        placeholder="なし",
        help="どの圏域もこの人口以上にします。届かない案は一覧の後ろに回ります。",
    )
    names = dict(zip(rows["code"].astype(str), rows["name"].fillna(rows["code"]).astype(str), strict=True))
    secondary = dict(zip(rows["code"].astype(str), rows["secondary"].fillna("").astype(str), strict=True))
    codes = list(names)
    picked = st.session_state.get("propose_lock")
    if picked and any(c not in names for c in picked):
        st.session_state["propose_lock"] = [c for c in picked if c in names]
    lock = st.multiselect(
        "まとめる市町村（任意: 選んだ市町村を必ず同じ圏域にします）",
        codes,
        key="propose_lock",
        format_func=_muni_labeller(names, secondary),
        placeholder="市町村を選ぶ",
        select_all=False,
    )
    c3, c4, c5 = st.columns(3)
    candidates = c3.number_input("案の数", min_value=1, max_value=64, value=8, step=1, key="propose_candidates")
    steps = c4.number_input(
        "ステップ数（1案あたり）",
        min_value=1,
        max_value=100_000,
        value=1000,
        step=100,
        key="propose_steps",
        help="多いほど時間がかかり、人口の釣り合った案が見つかりやすくなります。",
    )
    seed = c5.number_input(
        "乱数の種",
        min_value=0,
        value=1,
        step=1,
        key="propose_seed",
        help="同じ種なら同じ案になります。変えると別の案が出ます。",
    )
    if not st.button("提案を計算する", key="btn_propose", type="primary"):
        return None
    return {
        "within": list(within),
        "k": int(k),
        "floor": int(floor) if floor else None,
        "lock": list(lock),
        "redraw_confirmed": bool(redraw),
        "seed": int(seed),
        "candidates": int(candidates),
        "steps": int(steps),
    }


def _run(ws: Any, params: dict[str, Any]) -> None:
    """Compute with a progress bar; the result replaces the last one, an input error is shown in Japanese."""
    bar = st.progress(0.0, text=f"{params['candidates']} 案を計算しています…")
    t0 = time.perf_counter()

    def tick(done: int, total: int) -> None:
        bar.progress(done / total, text=f"{done}/{total} 案（{time.perf_counter() - t0:.1f} 秒）")

    try:
        st.session_state[RESULT] = compute(ws, progress=tick, **params)
    except GeoAppError as exc:
        bar.empty()
        st.error(md_escape(exc))
        return
    bar.empty()


def _results(ws: Any, result: dict[str, Any]) -> None:
    p, rid = result["params"], result["id"]
    n = len(result["ranked"])
    st.subheader("提案の一覧（人口の偏りが小さい順）")
    st.caption(
        md_escape(
            f"「{result['base'].name}」をもとに、{'・'.join(_scope_label(x) for x in p['within'])} に "
            f"{p['k']} 圏域を {p['candidates']} 案計算し、異なる案は {n} 件でした"
            f"（乱数の種 {p['seed']}、1案あたり {p['steps']:,} ステップ、{result['seconds']:.1f} 秒）。"
        )
    )
    if result["data_key"] != ws.data.key:
        st.caption("この提案を計算したあとで市町村のデータが変わりました。開く前に計算し直してください。")
    elif ws.plan != result["base"] and not any(ws.plan == x for x in result["plans"]):
        st.caption(
            md_escape(
                f"この提案は「{result['base'].name}」から計算したもので、"
                f"いま編集中の「{ws.plan.name}」とは違う区域案がもとになっています。"
            )
        )
    num = st.column_config.NumberColumn(format="localized")
    st.dataframe(
        ranked_table(result),
        hide_index=True,
        width="stretch",
        key=f"propose_table:{rid}",
        column_config={
            "人口の偏り（%）": st.column_config.NumberColumn(format="%.1f"),
            "最大の偏り（%）": st.column_config.NumberColumn(format="%.1f"),
            "最小人口": num,
            "最大人口": num,
            "コンパクトさ": st.column_config.NumberColumn(format="%.3f"),
        },
    )
    st.caption(
        "人口の偏り: 範囲の圏域の人口が、その平均からどれだけずれているか（二乗平均平方根、平均に対する%）。"
        "最大の偏り: 平均から最もずれた圏域のずれ。コンパクトさ: 圏域の形の丸さ（ポルスビー・ポッパー指数の平均、"
        "1 に近いほど丸い）。確定した圏域は含みません。"
    )
    pick = f"propose_pick:{rid}"
    kept = st.session_state.get(_PICK_KEPT)
    if pick not in st.session_state and kept and kept[0] == rid:  # back from another page: the same choice
        st.session_state[pick] = kept[1]
    choices: list[int] = list(range(1, n + 1))
    no = st.selectbox("案を選ぶ", choices, key=pick, format_func=_candidate_labeller(result))
    no = int(no or 1)
    st.session_state[_PICK_KEPT] = (rid, no)  # widget state is dropped while another page is shown
    plan = result["plans"][no - 1]
    st.dataframe(
        _areas_of(result, no), hide_index=True, width="stretch", column_config={"人口": num}, key=f"propose_areas:{rid}"
    )
    c1, c2 = st.columns(2)
    with c1:
        if ws.dirty and not _nothing_to_lose(ws, result):
            st.caption("⚠ 保存していない編集があります。提案を開く前に保存してください。")
            discard_checkbox(DISCARD_KEY)
        st.button(
            "開いて編集",
            key="btn_propose_open",
            on_click=_do_open,
            args=(rid, no),
            help="この提案を編集中の区域案にします（保存はしません）。「元に戻す」で提案のもとの区域案に戻れます。",
        )
    with c2:
        key = _save_key(rid, no)
        if key not in st.session_state:
            st.session_state[key] = plan.name
        st.text_input("保存する名前", key=key)
        st.button(
            "保存",
            key="btn_propose_save",
            on_click=_do_save,
            args=(rid, no),
            help="保存した提案は「保存・読み込み」で開け、「案の比較」で公表された案と比べられます。",
        )
    with st.expander("計算の方法"):
        method = result["problem"].method(seed=p["seed"], steps=p["steps"], candidates=p["candidates"])
        st.dataframe(_method_table(method), hide_index=True, width="stretch", key=f"propose_method:{rid}")


def render() -> None:
    from geo_app.core.propose import DISCLAIMER

    ws = workspace()
    show_flash()
    st.subheader("区域案の提案")
    st.warning(md_escape(DISCLAIMER))
    st.caption(
        md_escape(
            f"いま編集中の「{ws.plan.name}」をもとに、選んだ範囲の市町村を、二次医療圏の中で隣り合う市町村どうし、"
            "人口がなるべく均等になるように K 個の在宅医療圏に分ける案を計算します"
            "（区切り方を少しずつ変えながら、人口の釣り合った区切りを探します）。"
            "案は人口の偏りが小さい順に並びます。気に入った案は開いて編集するか、保存して「案の比較」で比べてください。"
        )
    )
    params = _inputs(ws)
    if params is not None:
        _run(ws, params)
    result = st.session_state.get(RESULT)
    if result is not None:
        _results(ws, result)


if __name__ == "__main__":  # run by st.navigation (main.py) as this page's script
    render()
