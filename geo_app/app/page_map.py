"""Page 地図と編集: the map, the table of areas, the edit panel, the age chart and the findings.

Every edit is a widget callback, so it runs before the page is drawn and the whole page (totals,
table, colours, findings) shows the new plan in the same rerun. The totals and the map come first
in the script (the map is a small state, views.livemap), so both change together before the table,
the rules and the chart are computed.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from geo_app.app import workspace as ops
from geo_app.app.charts import pyramid_chart, sex_pyramid_chart
from geo_app.app.mapview import show_map, workspace_base, workspace_hubs
from geo_app.app.state import DEFAULT_PLAN, LEVEL_OPTIONS, flash, open_plan, plan_signature, show_flash, workspace
from geo_app.app.text import md_escape, plain_text
from geo_app.core.codes import city_of
from geo_app.core.counts import AGE_BANDS
from geo_app.core.edits import (
    ParentChange,
    describe_kept_parents,
    describe_parent_changes,
    merge_areas,
    parent_changes_of_merge,
    parent_changes_of_move,
    rename_area,
    split_area,
)
from geo_app.core.errors import GeoAppError
from geo_app.core.metrics import FUTURE_KEYS, IPSS2018, IPSS2023, METRICS, SUPPLY_KEYS, TARGET_YEAR, header, label
from geo_app.core.plan import LEVEL_JA, PARENT_LEVEL, UNCONFIRMED
from geo_app.core.rules import SEVERITY_JA
from geo_app.core.tally import total
from geo_app.io.names import describe_unit_count
from geo_app.io.plans import load_plan
from geo_app.io.projections import IPSS_2018, IPSS_2023
from geo_app.io.readings import load_readings, search_municipalities
from geo_app.views.webmap import BASEMAPS
from geo_app.views.webmap import METRICS as MAP_METRICS

__all__ = [
    "render",
    "area_table",
    "future_caption",
    "metric_choices",
    "facility_switch",
    "NEW_AREA",
    "MAP_KEY",
    "FACILITY_KEY",
]

NEW_AREA = "__new__"
MAP_KEY = "main_map"
FACILITY_KEY = "view_facilities"  # the facility kinds shown on the map (a widget's key)
_FACILITIES_KEPT = "_facilities_shown"  # the same, kept while the widget is off the page (other pages)


def _names(ws) -> dict[str, str]:
    t = ws.plan.table
    return dict(zip(t["code"], t["name"].fillna(t["code"]), strict=True))


def _labeller(names: dict[str, str]):
    """format_func for municipality widgets (a closure: AppTest calls it outside the script run)."""
    return lambda code: f"{names.get(code, code)}（{code}）"


def _muni_label(code: str) -> str:
    return _labeller(_names(workspace()))(code)


def _readings() -> dict[str, str]:
    """Municipality code → reading in hiragana (Japan Post's; absent where it has none)."""
    r = load_readings().dropna(subset=["hiragana"]).drop_duplicates("code")
    return dict(zip(r["code"], r["hiragana"], strict=True))


def _search_labeller(names: dict[str, str]):
    """format_func for the municipality pickers: 「鷹栖町（たかすちょう）01452」, so that typing
    the name, the reading in hiragana or the code in the box finds it (the box searches the label)."""
    readings = _readings()

    def fmt(code: str) -> str:
        reading = readings.get(code)
        return f"{names.get(code, code)}（{reading}）{code}" if reading else f"{names.get(code, code)}（{code}）"

    return fmt


def _do_search() -> None:
    """The search box: kanji, hiragana, katakana (full or half width) or code (io.readings); one hit is selected."""
    ws = workspace()
    query = str(st.session_state.get("muni_search") or "")
    found = ws.plan.table.loc[search_municipalities(query, ws.plan.table), "code"].tolist()
    if query.strip() and len(found) == 1:
        st.session_state["sel_muni"] = found[0]
    elif query.strip() and not found:
        flash("warning", f"「{query.strip()}」に当てはまる市町村はありません。名前・よみ・市町村コードで探せます。")


# ---- callbacks (run before the page is drawn) ---------------------------------------------------
def _on_map_click(code: str) -> None:
    if code in _names(workspace()):
        st.session_state["sel_muni"] = code


def _do_move() -> None:
    ws = workspace()
    code = st.session_state.get("sel_muni")
    target = st.session_state.get("move_target")
    if not code:
        flash("error", "移動する市町村を、地図でクリックするか一覧から選んでください。")
        return
    if target is None:
        flash("error", "移動先の在宅医療圏を選んでください。")
        return
    if target == NEW_AREA:
        target = str(st.session_state.get("move_new_name") or "").strip()
        if not target:
            flash("error", "新しい在宅医療圏の名前を入れてください（例: 上川北部西）。")
            return
    keep = st.session_state.get("move_parents") != FOLLOW  # the radio shows only when parents would change
    try:
        kind, text = ops.move_municipality(ws, code, target, _muni_label(code), keep_parents=keep)
    except GeoAppError as exc:
        flash("error", str(exc))
        return
    if kind == "success":
        st.session_state["move_target"] = None  # the next move starts from a fresh choice
        st.session_state["move_new_name"] = ""
        st.session_state.pop("move_parents", None)  # and keeps the parents unless told again
    flash(kind, text)


KEEP, FOLLOW = "keep", "follow"


def _do_undo() -> None:
    label = workspace().undo()
    if label:
        flash("info", f"元に戻しました: {label}")


def _do_redo() -> None:
    label = workspace().redo()
    if label:
        flash("info", f"やり直しました: {label}")


def _apply(fn, *args, ok: str) -> None:
    try:
        changed = ops.apply_edit(workspace(), fn, *args)
    except GeoAppError as exc:
        flash("error", str(exc))
        return
    flash("success", ok) if changed else flash("warning", "変更はありませんでした。")


def _do_rename() -> None:
    lv, old, new = (
        str(st.session_state.get("ed_level") or "homecare"),
        st.session_state.get("rn_area"),
        str(st.session_state.get("rn_new") or "").strip(),
    )
    if not old or not new:
        flash("error", "名前を変える圏域と、新しい名前を入れてください。")
        return
    _apply(rename_area, lv, old, new, ok=f"{LEVEL_JA[lv]}「{old}」の名前を「{new}」に変えました。")


def _do_merge() -> None:
    lv, names, into = (
        str(st.session_state.get("ed_level") or "homecare"),
        list(st.session_state.get("mg_areas") or []),
        str(st.session_state.get("mg_into") or "").strip(),
    )
    if len(names) < 2:
        flash("error", f"統合する{LEVEL_JA[lv]}を2つ以上選んでください。")
        return
    into = into or names[0]
    keep = st.session_state.get("mg_parents") != FOLLOW  # the app keeps the parents unless told to move them
    ok = f"{LEVEL_JA[lv]}「{'」「'.join(names)}」を「{into}」に統合しました。"
    try:
        changes = parent_changes_of_merge(workspace().plan, lv, names, into)
        changed = ops.apply_edit(workspace(), partial(merge_areas, keep_parents=keep), lv, names, into)
    except GeoAppError as exc:
        flash("error", str(exc))
        return
    if not changed:
        flash("warning", "変更はありませんでした。")
        return
    if keep:
        ok += describe_kept_parents(workspace().plan, changes, lv)
    else:
        ok += describe_parent_changes(changes, level=lv, done=True)
    st.session_state.pop("mg_parents", None)  # the next merge keeps the parents unless told again
    flash("success", ok)


def _parent_choice(changes: tuple[ParentChange, ...], level: str, key: str, what: str) -> None:
    """Before an edit that would cross a parent area: say so, and let the user choose; the parents
    stay by default (the medical plan fixes them; home-care areas are designed inside them)."""
    if not changes:
        return
    parent = LEVEL_JA[PARENT_LEVEL[level]]
    st.warning(
        md_escape(
            f"この{what}は{parent}の境界をまたぎます。「{parent}も移す」を選ぶと、"
            + describe_parent_changes(changes, level=level)
            + f"「{parent}は変えない」なら{parent}はそのままで、"
            + f"{LEVEL_JA[level]}が{parent}をまたぎます（所見に出ます）。"
        )
    )
    labels = {KEEP: f"{parent}は変えない（既定）", FOLLOW: f"{parent}も移す"}
    st.radio(f"{parent}の扱い", [KEEP, FOLLOW], key=key, format_func=labels.__getitem__, horizontal=True)


def _merge_parent_choice(ws, level: str) -> None:
    """The notice and choice of `_parent_choice` for the merge the user has selected."""
    names = list(st.session_state.get("mg_areas") or [])
    if len(names) < 2:
        return
    into = str(st.session_state.get("mg_into") or "").strip() or names[0]
    try:
        changes = parent_changes_of_merge(ws.plan, level, names, into)
    except GeoAppError:
        return  # the merge is refused on the click, with its message
    _parent_choice(changes, level, "mg_parents", "統合")


def _do_split() -> None:
    lv, area = str(st.session_state.get("ed_level") or "homecare"), st.session_state.get("sp_area")
    codes, new = list(st.session_state.get("sp_codes") or []), str(st.session_state.get("sp_new") or "").strip()
    if not area or not codes or not new:
        flash("error", "分割する圏域、切り出す市町村、新しい圏域の名前をすべて入れてください。")
        return
    _apply(
        split_area,
        lv,
        area,
        codes,
        new,
        ok=f"{LEVEL_JA[lv]}「{area}」から{len(codes)}市町村を「{new}」として分けました。",
    )


# ---- drawing -------------------------------------------------------------------------------------
#: The target year's figures (core.metrics), beside the 2020 ones: what the national guidance plans for.
FUTURE_TABLE_COLUMNS = [
    f"population_{TARGET_YEAR}",
    f"aging_rate_{TARGET_YEAR}",
    f"demand_medical_index_{TARGET_YEAR}",
    f"demand_care_index_{TARGET_YEAR}",
    f"age_75_plus_{TARGET_YEAR}",
]
TABLE_COLUMNS = [
    "area",
    "parent",
    "municipalities",
    "population",
    "age_65_plus",
    "age_75_plus",
    "aging_rate",
    "share_75_plus",
    "area_km2",
    "density",
    *FUTURE_TABLE_COLUMNS,
    "home_nursing_stations",
    f"home_nursing_stations_per_1000_75_{TARGET_YEAR}",
    "zaitaku_shien",
    "status",
    "members",
]
#: The edition behind each projected figure (a registry source → its credit, io.projections).
EDITIONS = {IPSS2023: IPSS_2023, IPSS2018: IPSS_2018}


def _plain_label(key: str) -> str:
    """The registry label without its year and edition: 「人口（2040年推計）」 → 「人口」."""
    return re.sub(r"（[^（）]*）$", "", label(key))


def future_caption(columns: list[str]) -> str:
    """The line under the table: which IPSS edition each projected column comes from, and what an
    index of 2020 = 100 means (two editions are mixed in one table; a reader must see which is which)."""
    by_edition: dict[str, list[str]] = {}
    for key in columns:
        m = METRICS.get(key)
        if m is not None and m.source in EDITIONS:
            by_edition.setdefault(m.source, []).append(_plain_label(key))
    if not by_edition:
        return ""
    parts = [f"{'・'.join(names)}は{EDITIONS[src].vintage}" for src, names in by_edition.items()]
    text = f"{TARGET_YEAR}年の推計のうち、" + "、".join(parts) + "によります。"
    if any(METRICS[k].scale == 100.0 for k in columns if k in METRICS):
        text += (
            "需要指数は2020年を100とした値で、120なら2020年の1.2倍の需要を見込みます"
            "（年齢階級別の人口に日本医師会の需要の重みを掛けた合計を、2020年と比べたもの）。"
        )
    return text


def metric_choices() -> list[str]:
    """The 色分け options: the 2020 figures first, then the target year's projections, then the
    facilities per 1,000 aged 75+ (registry order within each)."""
    keys = list(MAP_METRICS)
    now = [k for k in keys if k not in FUTURE_KEYS and k not in SUPPLY_KEYS]
    return now + [k for k in keys if k in FUTURE_KEYS] + [k for k in keys if k in SUPPLY_KEYS]


def _metric_source_caption(metric: str) -> str:
    """Under the 色分け box when a projection colours the map: the edition it comes from."""
    m = METRICS[metric]
    return f"{TARGET_YEAR}年の推計: {EDITIONS[m.source].vintage}" if m.source in EDITIONS else ""


def area_table(areas: pd.DataFrame) -> pd.DataFrame:
    """The sortable table: numbers stay numbers (so sorting works), headers from the registry."""
    cols = [c for c in TABLE_COLUMNS if c in areas.columns]
    out = pd.DataFrame(areas[cols]).copy()
    for c in cols:
        m = METRICS.get(c)
        if m is None:
            continue
        if m.kind == "percent":
            out[c] = (out[c].astype(float) * 100).round(m.decimals)
        elif m.kind == "count":
            out[c] = out[c].astype("Int64")
    return out.rename(columns={c: header(c) for c in cols}).reset_index(drop=True)


def _column_config() -> dict[str, Any]:
    """Number formats of the table's columns, from the registry (a percent column holds ×100 values).

    The area's name stays pinned: the 2040 columns sit to the right of the 2020 ones, beyond the
    width of the page's right column, and a row scrolled to them must still say which area it is."""
    out: dict[str, Any] = {header("area"): st.column_config.Column(pinned=True)}
    for key in TABLE_COLUMNS:
        m = METRICS.get(key)
        if m is None:
            continue
        if m.kind == "percent":
            fmt = f"%.{m.decimals}f%%"
        elif m.kind == "count":
            fmt = "localized"
        else:
            fmt = f"%.{m.decimals}f"
        out[header(key)] = st.column_config.NumberColumn(format=fmt)
    return out


def _metrics(level: str, areas: pd.DataFrame, codes: pd.Series) -> Any:
    """The row of figures: sums are unknown when any area's is, ratios come from the sums (core.tally).
    `codes`: the assigned units; a designated city planned by ward counts once, its wards are said.
    Returns the slot of the findings count, filled by `_findings_metric` once the plan is checked
    (after the map: the totals and the map are on screen while the rules run)."""
    sums = total(areas)
    units = describe_unit_count(codes)  # 「33市町村（川崎市は7区に分けて数えています）」
    # One row that wraps (a horizontal container) of figures as wide as their text: five equal columns
    # cut 「5,224,614 人」 at 1366×768 with the sidebar open; exact totals are what planners quote.
    row = st.container(horizontal=True, gap="large")
    row.metric(f"{LEVEL_JA[level]}の数", f"{len(areas)}", width="content")
    cities = city_of(pd.Series(list(codes), dtype="string")).nunique()
    row.metric("市町村の数", f"{cities:,}", help=units if "区" in units else None, width="content")
    row.metric(f"{label('population')}（合計）", METRICS["population"].format(sums.get("population")), width="content")
    row.metric(label("aging_rate"), METRICS["aging_rate"].format(sums.get("aging_rate")), width="content")
    return row.empty()


def _findings_metric(slot: Any, findings: list) -> None:
    errors = sum(f.severity == "error" for f in findings)
    warns = sum(f.severity == "warning" for f in findings)
    slot.metric("所見（エラー・警告）", f"{errors}・{warns}", width="content")


def _edit_panel(ws) -> None:
    plan = ws.plan
    codes = plan.table["code"].tolist()
    name_of = _labeller(_names(ws))
    st.subheader("市町村を移す")
    st.caption("地図で市町村をクリックするか、名前・よみ（ひらがな・カタカナ）・市町村コードで探して選びます。")
    query = st.text_input(
        "市町村を探す",
        key="muni_search",
        on_change=_do_search,
        placeholder="例: 鷹栖、たかす、タカス、01452",
        help="名前の一部、よみ（ひらがな・カタカナ）、市町村コードの先頭で探します。1つに絞れたら選ばれます。",
    )
    if str(query or "").strip():  # the list below shows only what the search found (and the current choice)
        mask = search_municipalities(str(query), plan.table)
        keep = set(plan.table.loc[mask, "code"]) | {st.session_state.get("sel_muni")}
        codes = [c for c in codes if c in keep]
    code = st.selectbox(
        "市町村",
        codes,
        index=None,
        key="sel_muni",
        format_func=_search_labeller(_names(ws)),
        placeholder="名前・よみ・コードを入れて選ぶ",
        filter_mode="contains",
    )
    areas = ws.areas("homecare")
    names = [str(a) for a in areas["area"]]
    pops = dict(zip(names, areas["population"], strict=True))

    def people(v: object) -> str:
        return "不明" if v is None or pd.isna(v) else f"{int(v):,}人"  # type: ignore[call-overload]

    if code:
        row = ws.munis.loc[ws.munis["code"] == code]
        cur = plan.area_of(code) or "（未割当）"
        st.markdown(
            f"**{md_escape(name_of(code))}** 人口 {people(row['population'].iloc[0] if len(row) else None)}"
            f" ／ 今の在宅医療圏: **{md_escape(cur)}**（{people(pops.get(cur, 0))}）"
            f" ／ 二次: {md_escape(plan.area_of(code, 'secondary') or '—')}"
        )
    target = st.selectbox(
        "移動先の在宅医療圏",
        [NEW_AREA, *names],
        index=None,
        key="move_target",
        format_func=lambda a: "（新しい在宅医療圏を作る）" if a == NEW_AREA else f"{a}（{people(pops.get(a))}）",
        placeholder="移動先を選ぶ",
    )
    if target == NEW_AREA:
        st.text_input("新しい在宅医療圏の名前", key="move_new_name")
    elif code and target is not None:  # a new area keeps the municipality's own parents: nothing to ask
        try:
            _parent_choice(parent_changes_of_move(plan, [code], target), "homecare", "move_parents", "移動")
        except GeoAppError:
            pass  # the move is refused on the click, with its message
    st.button("移動する", key="btn_move", type="primary", on_click=_do_move, disabled=not code or target is None)
    h = ws.history
    c1, c2 = st.columns(2)
    c1.button(
        "元に戻す",
        key="btn_undo",
        on_click=_do_undo,
        disabled=not h.can_undo,
        help=f"元に戻す: {md_escape(h.undo_label, inline=True)}" if h.undo_label else "元に戻せる編集はありません",
    )
    c2.button(
        "やり直す",
        key="btn_redo",
        on_click=_do_redo,
        disabled=not h.can_redo,
        help=f"やり直す: {md_escape(h.redo_label, inline=True)}" if h.redo_label else "やり直せる編集はありません",
    )


def _area_tools(ws) -> None:
    with st.expander("圏域の名前の変更・統合・分割"):
        lv = st.radio("単位", LEVEL_OPTIONS, key="ed_level", format_func=lambda x: LEVEL_JA[x], horizontal=True)
        names = [str(a) for a in ws.areas(lv)["area"]]
        t1, t2, t3 = st.tabs(["名前の変更", "統合", "分割"])
        with t1:
            st.selectbox("圏域", names, index=None, key="rn_area", placeholder="選ぶ", filter_mode="contains")
            st.text_input("新しい名前", key="rn_new")
            st.button("名前を変える", key="btn_rename", on_click=_do_rename)
        with t2:
            st.multiselect(
                "統合する圏域（2つ以上）",
                names,
                key="mg_areas",
                placeholder="選ぶ",
                filter_mode="contains",
                select_all=False,
            )
            st.text_input("統合後の名前（空なら最初に選んだ圏域の名前）", key="mg_into")
            _merge_parent_choice(ws, lv)
            st.button("統合する", key="btn_merge", on_click=_do_merge)
        with t3:
            area = st.selectbox(
                "分割する圏域", names, index=None, key="sp_area", placeholder="選ぶ", filter_mode="contains"
            )
            members = ws.live.members(lv, area) if area else []
            st.multiselect(
                "新しい圏域に移す市町村",
                members,
                key="sp_codes",
                format_func=_search_labeller(_names(ws)),
                placeholder="名前・よみ・コードで選ぶ",
                filter_mode="contains",
                select_all=False,  # its "Select all" / "Select 2 matches" has no Japanese text
            )
            st.text_input("新しい圏域の名前", key="sp_new")
            st.button("分割する", key="btn_split", on_click=_do_split)


def _pyramid(ws, level: str, areas: pd.DataFrame) -> None:
    """The selected area's pyramid by sex beside its prefecture (the census's population); with a
    user's population table, which has no split by sex, the one-sided chart of both sexes together."""
    names = [str(a) for a in areas["area"]]
    sel = st.session_state.get("sel_muni")
    default = ws.plan.area_of(sel, level) if sel else None
    idx = names.index(default) if default in names else 0
    from geo_app.core.pyramid import area_pyramids, describes, prefecture_label, prefecture_pyramid, pyramid_of
    from geo_app.io.population_sex import load_population_by_sex

    by_sex = load_population_by_sex()
    if describes(by_sex, ws.munis):  # the census's population: 男・女 per band
        area = st.selectbox(
            "圏域", names, index=idx, key=f"pyr_area_{level}", placeholder="選ぶ", filter_mode="contains"
        )
        pyramids = area_pyramids(by_sex, ws.plan, level)
        counts = pyramid_of(pyramids[pyramids["area"] == area])
        if counts is None:
            st.info("この圏域には男女別・年齢階級別の人口が不明な市町村があるため、人口ピラミッドは表示できません。")
            return
        prefs = list(dict.fromkeys(ws.plan.table["code"].str[:2]))
        ref_label = prefecture_label(prefs)
        chart = sex_pyramid_chart(
            counts,
            pyramid_of(prefecture_pyramid(by_sex, prefs)),
            title=f"{area}（{LEVEL_JA[level]}）の人口ピラミッド",
            subtitle="男女別・5歳階級別（令和2年国勢調査）",
            reference_label=ref_label,
        )
        if chart is None:
            st.info("この圏域の人口（年齢不詳を除く）は0人のため、人口ピラミッドは表示できません。")
            return
        st.vega_lite_chart(chart, width="content")
        st.caption(
            f"棒は圏域の男女・5歳階級別人口が圏域人口（年齢不詳を除く）に占める割合。枠線は{ref_label}の同じ割合。"
        )
        return
    bands = [b for b in AGE_BANDS if b in areas.columns]
    if not bands:
        st.info("人口表に5歳階級の人口がないため、人口ピラミッドは表示できません。")
        return
    area = st.selectbox("圏域", names, index=idx, key=f"pyr_area_{level}", placeholder="選ぶ", filter_mode="contains")
    row = areas.loc[areas["area"] == area].iloc[0]
    counts_all = [None if pd.isna(row[b]) else int(row[b]) for b in bands]
    ref = [None if areas[b].isna().any() else int(areas[b].sum()) for b in bands]  # unknown if any is
    title = f"{area}（{LEVEL_JA[level]}）の年齢構成（男女計）"
    chart = pyramid_chart(counts_all, ref, title=title, reference_label="全体")
    if chart is None:
        st.info("この圏域には年齢階級別の人口が不明な市町村があるため、人口ピラミッドは表示できません。")
        return
    st.vega_lite_chart(chart, width="content")
    st.caption(
        "読み込んだ人口表には男女別の人口がないため、男女別の人口ピラミッドではなく男女計の年齢構成を表示しています"
        "（5歳階級別の人口の割合）。線は表示中の全圏域の合計。"
    )


def _focus(ws, level: str) -> list[str]:
    """The areas whose members changed since this session's map was last drawn (their labels go
    first, so an edit's result is labelled at any zoom); kept until the next change."""
    table = ws.plan.table
    now = dict(zip(table["code"], table[level].astype(object), strict=True))
    before = st.session_state.get("_map_members")
    if before is not None and before[0] == level and before[1] != now:
        changed = {a for c, a in now.items() if before[1].get(c) != a} | {
            a for c, a in before[1].items() if now.get(c) != a
        }
        st.session_state["_map_focus"] = sorted(str(a) for a in changed if isinstance(a, str))
    st.session_state["_map_members"] = (level, now)
    return list(st.session_state.get("_map_focus", []))


def _keep_facilities() -> None:
    st.session_state[_FACILITIES_KEPT] = list(st.session_state.get(FACILITY_KEY) or [])


def facility_switch(ws) -> list[str]:
    """「施設を表示」: the kinds of facility points drawn on the map, none at first. The choice survives
    reruns and a visit to another page; switching sends only the kinds (the points came with the map's
    base), so the map keeps its view. Each label carries the number of points drawn."""
    layers = ws.data.base.info.get("facilities") or []
    if not layers:
        return []
    names = {str(d["kind"]): str(d["short"]) for d in layers}
    current = st.session_state.get(FACILITY_KEY)
    if current is None:  # first run of this page in the session, or back from another page
        st.session_state[FACILITY_KEY] = [k for k in st.session_state.get(_FACILITIES_KEPT, []) if k in names]
    elif any(k not in names for k in current):  # a kind the data now shown has not: off
        st.session_state[FACILITY_KEY] = [k for k in current if k in names]
    chosen = st.pills(
        "施設を表示",
        list(names),
        selection_mode="multi",
        key=FACILITY_KEY,
        format_func=lambda k: names.get(k, k),
        on_change=_keep_facilities,
        help="訪問看護ステーション、病院、在宅療養支援診療所・病院。かっこ内は地図に表示する施設の数です。"
        + "".join(f"{d['label']}: {d['note']}。" for d in layers)
        + "出典と時点は地図の凡例に表示します。",
    )
    return [k for k in chosen or [] if k in names]


def show_plan_map(ws, level: str, metric: str, basemap: str, facilities: list[str] | None = None) -> None:
    """The workspace's plan on the live map: the base once per data set, then a small state."""
    from geo_app.views.livemap import map_state

    plan = ws.titled_plan  # the title on the map is the saved name and version, as on every export
    sel = st.session_state.get("sel_muni")
    signature = plan_signature(plan)
    state = map_state(
        ws.data.base,
        plan,
        ws.areas(level),
        level=level,
        metric=metric,
        highlight_codes=[sel] if sel else [],
        focus=_focus(ws, level),
        serial=f"{signature[:12]}-{level}-{metric}",
        hubs=workspace_hubs(ws, plan, signature),  # they change with an edit: in the state, not the base
    )
    show_map(ws, state, key=MAP_KEY, basemap=basemap, on_click=_on_map_click, facilities=facilities or [])


def warm_up() -> None:
    """What the first visitor's page needs, computed before anyone connects (see app/serve.py)."""
    ws = open_plan(load_plan(DEFAULT_PLAN), origin="warm-up")
    ws.findings()
    workspace_base(ws, "none")  # folium's base map, shared by every session


def _findings(findings: list) -> None:
    from geo_app.core.rules import FINDING_HEADERS, findings_frame

    if not findings:
        st.success("所見はありません。")
        return
    frame = findings_frame(findings, japanese=True)
    counts = pd.Series([f.severity for f in findings]).value_counts()
    st.markdown("　".join(f"{SEVERITY_JA[s]} {int(counts.get(s, 0))}件" for s in ("error", "warning", "info")))
    # the rule's id (multipart, no_hub …) is for the CLI and scripts: hidden; people read its title (項目)
    hidden: dict[str, Any] = {FINDING_HEADERS["rule"]: None}
    st.dataframe(frame, hide_index=True, width="stretch", height=320, column_config=hidden, placeholder="")


def render() -> None:
    ws = workspace()
    show_flash()
    c1, c2, c3 = st.columns([2, 2, 2])
    level = c1.radio(
        "表示する単位", LEVEL_OPTIONS, key="view_level", format_func=lambda x: LEVEL_JA[x], horizontal=True
    )
    metric = c2.selectbox(
        "色分け",
        metric_choices(),
        key="view_metric",
        format_func=lambda m: MAP_METRICS[m].label,
        placeholder="選ぶ",
        help=f"人口表の値（既定は2020年の国勢調査）のあとに、{TARGET_YEAR}年の推計（国立社会保障・人口問題研究所）が並びます。",
    )
    if metric and _metric_source_caption(metric):
        c2.caption(_metric_source_caption(metric))
    basemap = c3.selectbox(
        "背景地図", list(BASEMAPS), key="view_basemap", format_func=lambda b: BASEMAPS[b], placeholder="選ぶ"
    )
    if basemap != "none":
        c3.caption("背景地図はインターネット接続が必要です（出典: 国土地理院 地理院タイル）。")
    try:
        areas = ws.areas(level)
    except GeoAppError as exc:
        st.error(md_escape(exc))
        return
    findings_slot = _metrics(level, areas, ws.plan.table.dropna(subset=[level])["code"])

    # The map is drawn first, right after the totals: Streamlit sends each element as the script
    # reaches it, so an edit's new colours and labels arrive with the totals, before the table,
    # the rules and the chart are computed.
    left, right = st.columns([3, 2], gap="medium")
    with left:
        unconfirmed = int((areas["status"] == UNCONFIRMED).sum())
        st.caption(
            f"斜線は未確定の圏域（{unconfirmed}）。市町村にマウスを重ねると詳細、クリックで選択します。右上のボタンで表示する層を切り替えます。"
        )
        shown = facility_switch(ws)
        try:
            show_plan_map(ws, level, metric, basemap, shown)
        except GeoAppError as exc:
            st.error(md_escape(exc))
        _area_tools(ws)
    with right:
        _edit_panel(ws)
        st.subheader(f"{LEVEL_JA[level]}の一覧")
        st.dataframe(
            area_table(areas),
            hide_index=True,
            width="stretch",
            height=380,
            column_config=_column_config(),
            key="area_table",
            placeholder="",  # an unknown figure is an empty cell, not "None"
        )
        st.caption("列の見出しをクリックすると並べ替えます。")
        note = future_caption([c for c in TABLE_COLUMNS if c in areas.columns])
        if note:
            st.caption(note)
    try:
        findings = ws.findings(population_floor=st.session_state.get("population_floor") or None)
    except GeoAppError as exc:
        st.error(md_escape(exc))
        return
    _findings_metric(findings_slot, findings)

    t1, t2, t3 = st.tabs(["人口ピラミッド", f"所見（{len(findings)}件）", f"編集の記録（{len(ws.history)}件）"])
    with t1:
        _pyramid(ws, level, areas)
    with t2:
        st.number_input(
            "在宅医療圏の人口の下限（この人数未満を「警告」にします。0 なら確かめません）",
            min_value=0,
            max_value=10_000_000,
            step=5_000,
            key="population_floor",
        )
        _findings(findings)
    with t3:
        entries = ws.history.entries
        if not entries:
            st.caption("まだ編集していません。")
        for i, e in enumerate(entries, 1):
            st.text(plain_text(f"{i}. {e.label}"))  # edit labels quote typed names: no Markdown
        if ws.history.can_redo:
            st.caption(f"やり直せる編集: {len(ws.history.redo_entries)}件")


if __name__ == "__main__":  # run by st.navigation (main.py) as this page's script
    render()
