"""Page 保存・読み込み: named plans in the PlanStore, history, import and export (CSV / Excel / HTML).

A save sends the version the user loaded (optimistic locking). When someone else saved the same
plan first the store refuses with a Japanese message; the user's edits stay in the session, so
they can 'save as' another name or reopen and redo — nothing is lost.

Each save also keeps the workspace's whole edit history (`EditHistory.to_json()`) with the
version, next to the human-readable note, so that after opening the plan again (or reloading
the page with ?plan=…) 「元に戻す」 still walks back through the edits made before the save.
"""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st

from geo_app.app import uploads
from geo_app.app import workspace as ops
from geo_app.app.state import (
    discard_allowed,
    discard_checkbox,
    flash,
    get_store,
    load_data,
    set_workspace,
    shared_cache,
    show_flash,
    workspace,
)
from geo_app.app.text import file_stem, md_escape
from geo_app.core.errors import GeoAppError

__all__ = ["render", "save_current"]


def save_current(name: str | None = None) -> bool:
    """Save the workspace's plan (over its saved version, or as `name`) with its edit history; flash the outcome."""
    ws = workspace()
    try:
        saved = ops.save(ws, get_store(), name)
    except GeoAppError as exc:  # ConflictError included: the session keeps every edit
        flash("error", str(exc))
        return False
    for text in saved.warnings:
        flash("warning", text)
    set_workspace(ws)
    flash("success", f"区域案「{saved.name}」を保存しました（版{saved.version}）。")
    return True


def _do_save() -> None:
    save_current()


def _do_save_as() -> None:
    name = str(st.session_state.get("save_as_name") or "")
    save_current(name)


def _do_open() -> None:
    name = st.session_state.get("open_name")
    version = st.session_state.get("open_version")
    if not name:
        flash("error", "開く区域案を選んでください。")
        return
    if not discard_allowed("discard_open"):
        return
    try:
        chosen = None if version in (None, "最新") else int(version)
        ws, messages = ops.open_version(get_store(), name, chosen, load=load_data, cache=shared_cache())
    except GeoAppError as exc:
        flash("error", str(exc))
        return
    set_workspace(ws)
    for kind, text in messages:
        flash(kind, text)


def _do_delete() -> None:
    name = st.session_state.get("open_name")
    if not name:
        return
    ws = workspace()
    try:
        ops.delete_saved(ws, get_store(), name)
    except GeoAppError as exc:
        flash("error", str(exc))
        return
    set_workspace(ws)
    flash("success", f"区域案「{name}」を一覧から削除しました（履歴はデータベースに残ります）。")


def _consume_import(up) -> None:
    """The uploaded table was read: Streamlit drops its bytes now and the page shows an empty uploader."""
    uploads.release_streamlit_files([up])
    uploads.next_uploader(st.session_state, "import_file")


def _do_import() -> None:
    up = st.session_state.get(uploads.uploader_key(st.session_state, "import_file"))
    if up is None:
        flash("error", "読み込む区域表（CSV または Excel）を選んでください。")
        return
    keep_choice = False
    try:
        up.seek(0)
        plan = ops.read_plan(up, up.name)  # a bad file is reported first (read up to the size limit)
        if not discard_allowed("discard_import"):
            keep_choice = True  # the file stays chosen for the second press
            return
        ws, text = ops.import_plan(plan, up.name, workspace(), load=load_data, cache=shared_cache())
    except GeoAppError as exc:
        flash("error", str(exc))
        return
    except Exception as exc:  # load_plan guards the parsing: anything else is our bug, and said so
        if os.environ.get("GEO_APP_DEBUG"):
            raise
        flash(
            "error",
            f"区域表を開く途中で geo_app の不具合が起きました（{type(exc).__name__}: {exc}）。"
            "ファイルの問題ではないかもしれません。いまの区域案はそのままです。"
            "GEO_APP_DEBUG=1 を付けて起動し、表示された内容を開発者に送ってください。",
        )
        return
    finally:
        if not keep_choice:
            _consume_import(up)
    set_workspace(ws)
    uploads.release_unused(st.session_state, [*(ws.boundaries or ()), ws.population])  # uploads not carried over
    flash("success", text)


def _safe(fn, *args) -> bytes:
    try:
        return fn(*args)
    except GeoAppError as exc:
        return f"作成できませんでした: {exc}".encode("utf-8-sig")


def render() -> None:
    ws = workspace()
    show_flash()
    st.subheader("いま編集中の区域案")
    state = f"保存先: 「{md_escape(ws.saved_name)}」版{ws.saved_version}" if ws.saved_name else "まだ保存していません"
    st.markdown(
        f"**{md_escape(ws.plan.name)}**（{len(ws.plan)}市町村）　{state}　／　"
        f"保存していない編集: **{len(ws.unsaved_labels())}件**" + ("" if ws.dirty else "（変更なし）")
    )
    st.caption(f"出発点: {md_escape(ws.origin)}")  # quotes plan and file names
    c1, c2 = st.columns(2)
    with c1:
        st.button(
            "上書き保存",
            key="btn_save",
            type="primary",
            on_click=_do_save,
            disabled=not ws.saved_name,
            help="読み込んだ版に上書きします。ほかの人が先に保存していた場合は保存せずにお知らせします。",
        )
    with c2:
        st.text_input("名前を付けて保存（例: 現行, 案A, 案B）", key="save_as_name")
        st.button("名前を付けて保存", key="btn_save_as", on_click=_do_save_as)

    st.divider()
    st.subheader("保存した区域案")
    try:
        plans = get_store().list_plans()
    except GeoAppError as exc:
        st.error(md_escape(exc))
        plans = []
    if not plans:
        st.caption("まだ保存した区域案はありません。")
    else:
        listing = pd.DataFrame(
            [
                {
                    "名前": p.name,
                    "版": p.version,
                    "保存日時": p.updated_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                    "市町村数": p.rows,
                    "都道府県": "・".join(p.prefectures),
                    "メモ（編集の記録）": p.note,
                }
                for p in plans
            ]
        )
        st.dataframe(listing, hide_index=True, width="stretch")
        names = [p.name for p in plans]
        c1, c2 = st.columns([2, 1])
        name = c1.selectbox(
            "区域案", names, key="open_name", index=names.index(ws.saved_name) if ws.saved_name in names else 0
        )
        versions: list = ["最新"]
        history = []
        if name:
            try:
                history = get_store().history(name)
                versions += [h.version for h in history]
            except GeoAppError as exc:
                st.error(md_escape(exc))
        c2.selectbox("版", versions, key="open_version")
        if ws.dirty:
            st.caption("⚠ 保存していない編集があります。ほかの案を開く前に保存してください。")
            discard_checkbox("discard_open")
        b1, b2 = st.columns(2)
        b1.button(
            "開く",
            key="btn_open",
            on_click=_do_open,
            help="保存していない編集がある場合、その編集は失われます。先に保存してください。",
        )
        b2.button("一覧から削除", key="btn_delete", on_click=_do_delete)
        if history:
            with st.expander(f"「{md_escape(name, inline=True)}」の履歴（{len(history)}版）"):
                st.dataframe(
                    pd.DataFrame(
                        [
                            {
                                "版": h.version,
                                "保存日時": h.saved_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                                "市町村数": h.rows,
                                "メモ（編集の記録）": h.note,
                            }
                            for h in history
                        ]
                    ),
                    hide_index=True,
                    width="stretch",
                )

    st.divider()
    st.subheader("ファイルから読み込む")
    st.file_uploader(
        "区域表（CSV または Excel）: 市町村コード, 市町村名, 在宅医療圏, 二次医療圏, 三次医療圏, 状態",
        type=["csv", "xlsx", "txt"],
        key=uploads.uploader_key(st.session_state, "import_file"),
    )
    if ws.dirty:
        discard_checkbox("discard_import")
    st.button("この区域表を開く", key="btn_import", on_click=_do_import)

    st.divider()
    st.subheader("書き出す")
    stem = file_stem(ws.saved_name or ws.plan.name)
    c1, c2, c3 = st.columns(3)
    c1.download_button(
        "区域表 CSV（Excel 用）",
        data=lambda: ops.plan_csv_bytes(ws.plan),
        file_name=f"{stem}.csv",
        mime="text/csv",
        key="dl_csv",
    )
    c1.download_button(
        "区域表 Excel",
        data=lambda: ops.plan_xlsx_bytes(ws.plan),
        file_name=f"{stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="dl_xlsx",
    )
    c2.download_button(
        "集計表 Excel（全単位・所見・出典）",
        data=lambda: _safe(ops.summary_xlsx_bytes, ws),
        file_name=f"{stem}_集計.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="dl_summary",
    )
    c2.download_button(
        "地図 HTML（オフラインで開けます）",
        data=lambda: _safe(ops.map_html_bytes, ws),
        file_name=f"{stem}_地図.html",
        mime="text/html",
        key="dl_html",
    )
    c3.download_button(
        "印刷用地図 PNG",
        data=lambda: _safe(ops.print_map_bytes, ws, "png"),
        file_name=f"{stem}_地図.png",
        mime="image/png",
        key="dl_png",
    )
    c3.download_button(
        "印刷用地図 PDF",
        data=lambda: _safe(ops.print_map_bytes, ws, "pdf"),
        file_name=f"{stem}_地図.pdf",
        mime="application/pdf",
        key="dl_pdf",
    )


if __name__ == "__main__":  # run by st.navigation (main.py) as this page's script
    render()
