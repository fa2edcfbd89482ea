"""Page 案の比較: two plans side by side — moved municipalities on the map, population changes."""

from __future__ import annotations

from typing import cast

import pandas as pd
import streamlit as st

from geo_app.app.mapview import show_map, workspace_hubs
from geo_app.app.state import LEVEL_OPTIONS, get_store, plan_signature, show_flash, workspace
from geo_app.app.text import md_escape
from geo_app.core.compare import PlanDiff, compare_plans
from geo_app.core.errors import GeoAppError
from geo_app.core.plan import LEVEL_JA, Level, Plan
from geo_app.io.plans import load_plan

__all__ = ["render", "choices", "resolve"]

COMPARE_KEY = "compare_map"


def choices(ws) -> dict[str, str]:
    """Plans the user can compare: the edited one, where it started, saved plans, built-ins."""
    out = {"edit": f"編集中の案（{ws.plan.name}）", "base": f"編集を始める前の案（{ws.history.base.name}）"}
    try:
        for p in get_store().list_plans():
            out[f"saved:{p.name}"] = f"保存した案「{p.name}」（版{p.version}）"
    except GeoAppError:
        pass
    prefs = ws.plan.prefectures
    if "北海道" in prefs:
        out["builtin:hokkaido-2024"] = "組み込み: 北海道 2024（第8次医療計画）"
    if "秋田県" in prefs:
        out["builtin:akita-2024"] = "組み込み: 秋田県 在宅医療圏 2024（素案の報道による）"
    for pref in prefs:
        out[f"builtin:secondary-2024:{pref}"] = f"組み込み: {pref} 二次医療圏 2024（第8次医療計画）"
        out[f"builtin:secondary-2020:{pref}"] = f"組み込み: {pref} 二次医療圏 2020（第7次医療計画）"
    return out


def resolve(ws, key: str) -> Plan:
    if key == "edit":
        return ws.plan
    if key == "base":
        return ws.history.base
    if key.startswith("saved:"):
        return get_store().load(key.split(":", 1)[1])[0]
    if key.startswith("builtin:"):
        return load_plan(key.split(":", 1)[1])
    raise GeoAppError(f"比較する区域案「{key}」が分かりません。")


def _moved_table(moved: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "市町村": moved["name"],
            "コード": moved["code"],
            "人口": moved["population"],
            "在宅医療圏（A）": moved["from_homecare"],
            "在宅医療圏（B）": moved["to_homecare"],
            "二次医療圏（A）": moved["from_secondary"],
            "二次医療圏（B）": moved["to_secondary"],
            "三次医療圏（A）": moved["from_tertiary"],
            "三次医療圏（B）": moved["to_tertiary"],
        }
    )


def _areas_table(diff: PlanDiff, areas: pd.DataFrame) -> pd.DataFrame:
    """Areas paired by members: both names, both figures, and who joined or left (names as plain cells)."""
    return pd.DataFrame(
        {
            "圏域": areas["area"],
            "Aでの名前": areas["area_a"],
            "人口（A）": areas["population_a"],
            "人口（B）": areas["population_b"],
            "差（B−A）": areas["difference"],
            "市町村数（A）": areas["municipalities_a"],
            "市町村数（B）": areas["municipalities_b"],
            "変化": areas["change"],
            "加わる市町村": [diff.member_names(c) for c in areas["gained"]],
            "抜ける市町村": [diff.member_names(c) for c in areas["lost"]],
        }
    )


def _renamed_table(renamed: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "名前（A）": renamed["area_a"],
            "名前（B）": renamed["area_b"],
            "人口（A）": renamed["population_a"],
            "人口（B）": renamed["population_b"],
            "市町村数": renamed["municipalities_a"],
        }
    )


def render() -> None:
    ws = workspace()
    show_flash()
    opts = choices(ws)
    keys = list(opts)
    c1, c2, c3 = st.columns([2, 2, 1])

    def name(k: str) -> str:
        return opts.get(k, k)

    ka = (
        c1.selectbox(
            "案 A（比べる元）", keys, index=keys.index("base"), key="cmp_a", format_func=name, placeholder="選ぶ"
        )
        or "base"
    )
    kb = (
        c2.selectbox(
            "案 B（比べる先・地図に表示）",
            keys,
            index=keys.index("edit"),
            key="cmp_b",
            format_func=name,
            placeholder="選ぶ",
        )
        or "edit"
    )
    level = c3.radio("単位", LEVEL_OPTIONS, key="cmp_level", format_func=lambda x: LEVEL_JA[x])
    try:
        plan_a, plan_b = resolve(ws, ka), resolve(ws, kb)
        diff = compare_plans(ws.munis, plan_a, plan_b, level=level)
    except GeoAppError as exc:
        st.error(md_escape(exc))
        return
    st.info(md_escape(diff.summary()))  # plain text that quotes the plans' names
    moved_codes = list(diff.moved["code"].astype(str))

    left, right = st.columns([3, 2], gap="medium")
    with right:
        st.subheader(f"移る市町村（{len(moved_codes)}）")
        if moved_codes:
            st.dataframe(
                _moved_table(diff.moved),
                hide_index=True,
                width="stretch",
                height=260,
                column_config={"人口": st.column_config.NumberColumn(format="localized")},
                placeholder="",  # missing: an empty cell, not "None"
            )
        else:
            st.caption("所属が変わる市町村はありません。")
        st.subheader(f"{LEVEL_JA[level]}ごとの人口")
        st.caption(
            "圏域は構成する市町村で対応づけています（同じ市町村なら名前が違っても同じ圏域。"
            "構成が変わった圏域は、共通する人口が最も多い圏域と対応）。"
        )
        changed = diff.changed_areas
        # one box per comparison: its default (on when something changed) follows the plans chosen
        only_changed = st.checkbox(
            "構成が変わる圏域だけ表示", value=not changed.empty, key=f"cmp_only_changed:{ka}|{kb}|{level}"
        )
        num = st.column_config.NumberColumn(format="localized")
        st.dataframe(
            _areas_table(diff, changed if only_changed else diff.areas),
            hide_index=True,
            width="stretch",
            height=320,
            column_config={"人口（A）": num, "人口（B）": num, "差（B−A）": num},
            placeholder="",  # an area only in A or only in B: its other side is an empty cell
        )
        renamed = diff.renamed
        if len(renamed):
            st.subheader(f"名前だけが変わる{LEVEL_JA[level]}（{len(renamed)}）")
            pairs = zip(renamed["area_a"], renamed["area_b"], strict=True)
            st.caption("名前だけが変わった圏域: " + "、".join(f"{md_escape(a)} → {md_escape(b)}" for a, b in pairs))
            st.dataframe(
                _renamed_table(renamed),
                hide_index=True,
                width="stretch",
                column_config={"人口（A）": num, "人口（B）": num},
                placeholder="",
            )
    with left:
        st.caption("地図は案 B。赤い太線が、所属が変わる市町村です。")
        try:
            from geo_app.core.dissolve import dissolve
            from geo_app.views.livemap import map_state

            same_as_edit = plan_b == ws.plan and plan_b.name == ws.plan.name
            areas = (
                ws.areas(level)
                if same_as_edit
                else ws.maps.get(
                    ("areas", plan_signature(plan_b), level), lambda: dissolve(ws.munis, plan_b, cast(Level, level))
                )
            )
            state = map_state(
                ws.data.base,
                plan_b,
                areas,
                level=level,
                metric="population",
                highlight_codes=moved_codes,
                title=f"{plan_b.name}（赤: 案Aから移る市町村）",
                serial=f"{plan_signature(plan_b)[:12]}-{plan_signature(plan_a)[:12]}-{level}",
                hubs=workspace_hubs(ws, plan_b),
            )
            show_map(ws, state, key=COMPARE_KEY)
        except GeoAppError as exc:
            st.error(md_escape(exc))


if __name__ == "__main__":  # run by st.navigation (main.py) as this page's script
    render()
