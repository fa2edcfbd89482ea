"""Page 保存・読み込み: named plans in the PlanStore, history, import and export (CSV / Excel / HTML).

A save sends the version the user loaded (optimistic locking). When someone else saved the same
plan first the store refuses with a Japanese message; the user's edits stay in the session, so
they can 'save as' another name or reopen and redo — nothing is lost.

Each save also keeps the workspace's whole edit history (`EditHistory.to_json()`) with the
version, next to the human-readable note, so that after opening the plan again (or reloading
the page with ?plan=…) 「元に戻す」 still walks back through the edits made before the save.

連携拠点: each home-care area's hub, chosen among the facility points in the area's municipalities or
typed as a name with a latitude and longitude (a municipality office is given this way). Setting it
is an edit like a move (`core.edits.set_hub` through `workspace.apply_edit`): undone with 元に戻す,
saved with the plan, carried by the plan's own CSV/Excel. Typed names are data, shown as plain text.
"""

from __future__ import annotations

import os
from functools import partial

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
from geo_app.app.text import file_stem, md_escape, plain_text
from geo_app.core.edits import set_hub
from geo_app.core.errors import GeoAppError
from geo_app.core.hubs import LOCATED_BY_JA, UNKNOWN_JA
from geo_app.io.names import describe_unit_count
from geo_app.io.plans import plan_hub_points

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


def _follow_saved(ws: ops.Workspace, names: list[str]) -> None:
    """Point the 区域案 selection at the plan just saved or opened (once per change), and at a listed plan.

    A keyed selectbox keeps its old choice across reruns and ignores `index=`: after saving 案A
    and then 案B it still showed 案A, and 一覧から削除 deleted 案A. The selection now follows each
    save or open (and starts there when the page is drawn afresh); the user can still pick
    another plan afterwards.
    """
    fresh = "open_name" not in st.session_state  # first draw, or back from another page
    if ws.saved_name in names and (fresh or st.session_state.get("_open_name_follows") != ws.saved_name):
        st.session_state["open_name"] = ws.saved_name
    st.session_state["_open_name_follows"] = ws.saved_name
    if st.session_state.get("open_name") not in names:
        st.session_state.pop("open_name", None)


def _ask_delete(name: str, version: int) -> None:
    """First step: remember exactly which plan (and version) the pressed button named."""
    st.session_state["delete_pending"] = (name, version)


def _cancel_delete() -> None:
    st.session_state.pop("delete_pending", None)


def _do_delete(name: str, version: int) -> None:
    """Second step: delete the plan the confirmation named (bound to the button, not read from a widget)."""
    st.session_state.pop("delete_pending", None)
    ws = workspace()
    try:
        deleted = ops.delete_saved(ws, get_store(), name, version)
    except GeoAppError as exc:
        flash("error", str(exc))
        return
    set_workspace(ws)
    st.session_state["delete_undo"] = deleted


def _do_undelete(name: str) -> None:
    last = st.session_state.get("delete_undo")
    mine = isinstance(last, ops.Deleted) and last.name == name
    deleted = last if mine and isinstance(last, ops.Deleted) else ops.Deleted(name, 0)
    ws = workspace()
    try:
        version = ops.restore_saved(ws, get_store(), deleted)
    except GeoAppError as exc:
        flash("error", str(exc))
        return
    if mine:
        st.session_state.pop("delete_undo", None)
    set_workspace(ws)
    flash("success", f"区域案「{name}」を元に戻しました（版{version}、これまでの版もすべて残っています）。")


def _deleted_section() -> None:
    """The last delete with 元に戻す, and the plans deleted recently (by anyone) with 元に戻す each."""
    last = st.session_state.get("delete_undo")
    if last is not None:
        st.success(f"{md_escape(last.name)} を削除しました（履歴はデータベースに残ります）。")
        st.button("元に戻す", key="btn_undelete", on_click=_do_undelete, args=(last.name,))
    try:
        gone = get_store().deleted_plans()
    except GeoAppError:
        return  # the list above already says what is wrong with the database
    if not gone:
        return
    with st.expander(f"最近削除した区域案（{len(gone)}）"):
        for i, info in enumerate(gone):
            when = info.deleted_at.astimezone().strftime("%Y-%m-%d %H:%M") if info.deleted_at else ""
            c1, c2 = st.columns([3, 1])
            c1.text(plain_text(f"{info.name}（版{info.version}、{info.rows}市町村、{when} 削除）"))
            c2.button("元に戻す", key=f"btn_restore_{i}", on_click=_do_undelete, args=(info.name,))


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


# ---- 連携拠点 ----------------------------------------------------------------------------------------
_BY_FACILITY, _BY_POINT = "facility", "point"
_HOW = {_BY_FACILITY: "施設の一覧から選ぶ", _BY_POINT: "名前と緯度・経度を入れる"}


@st.cache_data(show_spinner=False, max_entries=64)
def _facility_choices(codes: tuple[str, ...]) -> pd.DataFrame:
    """The facility points in these municipalities (a city's wards included), kinds in Japanese, by name."""
    from geo_app.io.facilities import KIND_LABELS, load_facility_points

    points = load_facility_points(codes)
    points = points.assign(kind=points["kind"].map(lambda k: KIND_LABELS.get(k, k), na_action="ignore"))
    return points.sort_values(["kind", "name"], kind="stable").reset_index(drop=True)


def _set_hub(area: str, name: str | None, *, facility: str | None = None, lat=None, lon=None, done: str) -> None:
    try:
        changed = ops.apply_edit(workspace(), partial(set_hub, facility=facility, lat=lat, lon=lon), area, name)
    except GeoAppError as exc:
        flash("error", str(exc))
        return
    flash("success", done) if changed else flash("warning", "変更はありませんでした。")


def _do_hub_facility(area: str, codes: tuple[str, ...]) -> None:
    chosen = st.session_state.get("hub_facility")
    points = _facility_choices(codes)
    hit = points[points["id"] == chosen]
    if chosen is None or hit.empty:
        flash("error", "拠点にする施設を選んでください。")
        return
    f = hit.iloc[0]
    name = str(st.session_state.get("hub_facility_name") or "").strip() or str(f["name"])
    _set_hub(
        area,
        name,
        facility=str(f["id"]),
        done=f"在宅医療圏「{area}」の連携拠点を「{name}」にしました（{f['kind']}「{f['name']}」の位置）。",
    )


def _do_hub_point(area: str) -> None:
    name = str(st.session_state.get("hub_point_name") or "").strip()
    lat, lon = st.session_state.get("hub_lat"), st.session_state.get("hub_lon")
    if not name:
        flash("error", "拠点の名前を入れてください。")
        return
    _set_hub(
        area,
        name,
        lat=lat,
        lon=lon,
        done=f"在宅医療圏「{area}」の連携拠点を「{name}」にしました（北緯{lat}・東経{lon}）。",
    )


def _do_hub_clear(area: str) -> None:
    _set_hub(area, None, done=f"在宅医療圏「{area}」の連携拠点を外しました。")


def _hub_section(ws: ops.Workspace) -> None:
    """Pick a home-care area, then its hub: a facility of that area, or a named point."""
    areas = ws.plan.areas("homecare")
    if not areas:
        st.caption("在宅医療圏がありません。")
        return
    area = st.selectbox("在宅医療圏", areas, key="hub_area", placeholder="選ぶ", filter_mode="contains")
    if not area:
        return
    hubs = plan_hub_points(ws.plan)
    now = hubs[hubs["homecare"] == area]
    if now.empty:
        st.text("いまの連携拠点: なし")
    else:
        h = now.iloc[0]
        how = LOCATED_BY_JA.get(str(h["located_by"]), UNKNOWN_JA) if pd.notna(h["located_by"]) else UNKNOWN_JA
        where = f"北緯{h['lat']:.5f}・東経{h['lon']:.5f}" if pd.notna(h["lat"]) else "地図に描けません"
        st.text(plain_text(f"いまの連携拠点: {h['hub']}（位置の根拠: {how}、{where}）"))
    how = st.radio("拠点の場所", list(_HOW), key="hub_how", format_func=_HOW.__getitem__, horizontal=True)
    if how == _BY_FACILITY:
        codes = tuple(ws.plan.table.loc[(ws.plan.table["homecare"] == area).fillna(False), "code"])
        points = _facility_choices(codes)
        if points.empty:
            st.caption(
                "この圏域の市町村には、内蔵の施設の一覧に位置のある施設がありません。緯度・経度で入れてください。"
            )
        else:
            label = dict(zip(points["id"], points["name"] + "（" + points["kind"].fillna("") + "）", strict=True))
            st.selectbox(
                f"施設（{len(points)}か所: 訪問看護ステーション・病院・在宅療養支援診療所など）",
                list(label),
                key="hub_facility",
                index=None,
                placeholder="選ぶ",
                format_func=label.__getitem__,
                filter_mode="contains",
            )
            st.text_input("拠点の名前（空欄なら施設の名前）", key="hub_facility_name")
            st.button("この施設を連携拠点にする", key="btn_hub_facility", on_click=_do_hub_facility, args=(area, codes))
    else:
        st.text_input("拠点の名前（例: ○○町役場、○○在宅医療連携拠点センター）", key="hub_point_name")
        c1, c2 = st.columns(2)
        c1.text_input("緯度（例: 43.5886）", key="hub_lat")
        c2.text_input("経度（例: 142.4675）", key="hub_lon")
        st.caption("10進数の度（世界測地系）で入れます。市町村役場も地点として入れてください。")
        st.button("この地点を連携拠点にする", key="btn_hub_point", on_click=_do_hub_point, args=(area,))
    if not now.empty:
        st.button("連携拠点を外す", key="btn_hub_clear", on_click=_do_hub_clear, args=(area,))


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
        f"**{md_escape(ws.titled_plan.name)}**（{describe_unit_count(ws.plan.table['code'])}）　{state}　／　"
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
    _deleted_section()
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
        st.dataframe(listing, hide_index=True, width="stretch", placeholder="")  # no note: empty, not "None"
        names = [p.name for p in plans]
        _follow_saved(ws, names)
        c1, c2 = st.columns([2, 1])
        name = c1.selectbox("区域案", names, key="open_name", placeholder="選ぶ", filter_mode="contains")
        versions: list = ["最新"]
        history = []
        if name:
            try:
                history = get_store().history(name)
                versions += [h.version for h in history]
            except GeoAppError as exc:
                st.error(md_escape(exc))
        c2.selectbox("版", versions, key="open_version", placeholder="選ぶ")
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
        if name:
            shown = next(p.version for p in plans if p.name == name)
            b2.button(
                f"{md_escape(name, inline=True)} を一覧から削除",
                key="btn_delete",
                on_click=_ask_delete,
                args=(name, shown),
                help="押すと確認が出ます。削除しても履歴はデータベースに残り、「元に戻す」で戻せます。",
            )
        pending = st.session_state.get("delete_pending")
        if pending and pending[0] != name:
            st.session_state.pop("delete_pending", None)  # the confirmation belongs to the plan shown
        elif pending:
            st.warning(
                f"区域案「{md_escape(pending[0])}」（版{pending[1]}）を一覧から削除しますか？"
                "履歴はデータベースに残り、削除のあとで「元に戻す」で戻せます。"
            )
            d1, d2 = st.columns(2)
            d1.button(
                f"{md_escape(pending[0], inline=True)} を削除する",
                key="btn_delete_confirm",
                type="primary",
                on_click=_do_delete,
                args=pending,
            )
            d2.button("やめる", key="btn_delete_cancel", on_click=_cancel_delete)
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
                    placeholder="",
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
    st.subheader("連携拠点")
    st.caption(
        "在宅医療圏ごとの在宅医療連携拠点と、その場所です。設定は編集として記録され（「元に戻す」で戻せます）、"
        "保存・書き出す区域表・地図・集計表に入ります。場所の分からない拠点は地図に描けず、所見に出ます。"
    )
    _hub_section(ws)

    st.divider()
    st.subheader("書き出す")
    stem = file_stem(ws.titled_plan.name)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    # (column, label, bytes when clicked, file name, MIME type, widget key): built only when asked for
    files = [
        (0, "区域表 CSV（Excel 用）", lambda: ops.plan_csv_bytes(ws.plan), f"{stem}.csv", "text/csv", "dl_csv"),
        (0, "区域表 Excel", lambda: ops.plan_xlsx_bytes(ws.plan), f"{stem}.xlsx", xlsx, "dl_xlsx"),
        (
            0,
            "GIS レイヤー GeoPackage（QGIS 用）",
            lambda: _safe(ops.gpkg_bytes, ws),
            f"{stem}.gpkg",
            "application/geopackage+sqlite3",
            "dl_gpkg",
        ),
        (
            1,
            "集計表 Excel（全単位・所見・出典）",
            lambda: _safe(ops.summary_xlsx_bytes, ws),
            f"{stem}_集計.xlsx",
            xlsx,
            "dl_summary",
        ),
        (
            1,
            "地図 HTML（オフラインで開けます）",
            lambda: _safe(ops.map_html_bytes, ws),
            f"{stem}_地図.html",
            "text/html",
            "dl_html",
        ),
        (2, "印刷用地図 PNG", lambda: _safe(ops.print_map_bytes, ws, "png"), f"{stem}_地図.png", "image/png", "dl_png"),
        (
            2,
            "印刷用地図 PDF",
            lambda: _safe(ops.print_map_bytes, ws, "pdf"),
            f"{stem}_地図.pdf",
            "application/pdf",
            "dl_pdf",
        ),
    ]
    columns = st.columns(3)
    for col, text, data, name, mime, key in files:
        columns[col].download_button(text, data=data, file_name=name, mime=mime, key=key)


if __name__ == "__main__":  # run by st.navigation (main.py) as this page's script
    render()
