"""Page 都道府県・データ: start a plan for any prefecture; replace boundaries or population.

Uploads are written to the session's temporary folder (uploads.py) and read by the same loaders
as the CLI; any problem is shown as the loader's Japanese message and the current plan stays as
it was. A refused upload is deleted at once, a replaced one when it is replaced, and the uploader
is emptied after each use so that Streamlit lets go of the bytes.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import streamlit as st

from geo_app.app import uploads
from geo_app.app import workspace as ops
from geo_app.app.state import (
    discard_allowed,
    discard_checkbox,
    flash,
    load_data,
    set_workspace,
    shared_cache,
    show_flash,
    workspace,
)
from geo_app.app.text import md_escape, plain_text
from geo_app.app.workspace import START_OPTIONS, start_options
from geo_app.core.codes import PREFECTURES
from geo_app.core.errors import GeoAppError, InputError
from geo_app.io.names import describe_unit_count
from geo_app.io.provenance import credits

__all__ = ["render", "START_OPTIONS"]


def _session_id() -> str:
    """Streamlit's id of this session (names its upload folder); a random one outside a server."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is not None and ctx.session_id:
        return str(ctx.session_id)
    return st.session_state.setdefault("_upload_session_id", uuid.uuid4().hex)


def _alive(session_id: str) -> bool:
    """Whether the server still has this session connected (sessions of other runs never are)."""
    from streamlit import runtime

    if not runtime.exists():  # AppTest and bare mode: no sessions to compare with, keep everything
        return True
    return runtime.get_instance().is_active_session(session_id)


def _upload_dir() -> Path:
    """This session's upload folder: removed when the session ends (see uploads.SessionFolder)."""
    return uploads.session_folder(st.session_state, _session_id())


def _save_uploads(files, sub: str) -> list[str]:
    """Each upload in a folder of its own: a corrected file with the same name is a new path (the
    data cache is keyed by path), and the files the current workspace reads are never touched."""
    return uploads.save(files, _upload_dir(), sub)


def _consume_uploaders(**used: object) -> None:
    """Uploaders that were read: Streamlit drops their bytes now, and the page shows empty ones."""
    for base, files in used.items():
        if files:
            uploads.release_streamlit_files(files if isinstance(files, list) else [files])
            uploads.next_uploader(st.session_state, base)


def _do_start() -> None:
    if not discard_allowed("discard_start"):
        return
    pref = st.session_state.get("start_pref")
    how = st.session_state.get("start_how")
    ws_old = workspace()
    keep = st.session_state.get("start_keep_uploads") and (ws_old.boundaries or ws_old.population or ws_old.sea_links)
    boundaries = ws_old.boundaries if keep else None
    population = ws_old.population if keep else None
    sea_links = ws_old.sea_links if keep else None
    try:
        ws, origin = ops.start_plan(
            str(pref),
            str(how),
            boundaries=boundaries,
            population=population,
            sea_links=sea_links,
            load=load_data,
            cache=shared_cache(),
        )
    except GeoAppError as exc:
        flash("error", str(exc))
        return
    set_workspace(ws)
    uploads.release_unused(st.session_state, [*(ws.boundaries or ()), ws.population, ws.sea_links])  # not kept
    units = describe_unit_count(ws.plan.table["code"])
    flash("success", f"{origin}を開きました（{units}）。「地図と編集」で編集できます。")


def _do_upload_data() -> None:
    """Read the chosen files into the workspace, or refuse them; either way nothing is kept that
    the workspace does not read (disk: the upload folders; memory: Streamlit's copy of the bytes)."""
    ws_old = workspace()
    bfiles = st.session_state.get(uploads.uploader_key(st.session_state, "up_boundaries")) or []
    pfile = st.session_state.get(uploads.uploader_key(st.session_state, "up_population"))
    sfile = st.session_state.get(uploads.uploader_key(st.session_state, "up_sea_links"))
    if not bfiles and pfile is None and sfile is None:
        flash("error", "境界データ・人口表・航路表のどれかのファイルを選んでください。")
        return
    uploads.sweep(alive=_alive)  # folders of sessions that are gone (Streamlit has no session-end hook)
    folder = _upload_dir()
    saved: list[str] = []
    try:
        boundaries = ws_old.boundaries
        if bfiles:
            paths = _save_uploads(bfiles, "boundaries")
            saved += paths
            shp = [p for p in paths if p.lower().endswith(".shp")]
            others = [p for p in paths if p.lower().endswith((".zip", ".geojson", ".json", ".gpkg", ".topojson"))]
            if not shp and not others:
                raise InputError(
                    "境界データは N03 の .zip、.shp（.shx・.dbf・.prj と一緒に）、.geojson、.gpkg の"
                    "いずれかにしてください。"
                )
            boundaries = tuple(shp + others)
        population = ws_old.population
        if pfile is not None:
            population = _save_uploads([pfile], "population")[0]
            saved.append(population)
            from geo_app.io.population import load_population

            load_population(population)  # a bad table is reported here, before anything changes
        sea_links = ws_old.sea_links
        if sfile is not None:
            sea_links = _save_uploads([sfile], "sea_links")[0]
            saved.append(sea_links)
            from geo_app.io.sea_links import load_user_sea_links

            load_user_sea_links(sea_links, name=sfile.name)  # a bad table is reported before anything changes
        ws = ops.with_data(ws_old, boundaries, population, load=load_data, sea_links=sea_links)
        if pfile is not None:  # the date the user gives for their own counts, quoted in every source line
            ws.population_date = str(st.session_state.get("population_date") or "").strip()
    except GeoAppError as exc:
        uploads.discard(saved, folder)  # a refused upload leaves nothing behind
        flash("error", str(exc))
        return
    except Exception as exc:  # not the file's fault: our bug, said so (GEO_APP_DEBUG=1 shows the traceback)
        uploads.discard(saved, folder)
        if os.environ.get("GEO_APP_DEBUG"):
            raise
        flash(
            "error",
            f"データの読み込み中に geo_app の不具合が起きました（{type(exc).__name__}: {exc}）。"
            "ファイルの問題ではないかもしれません。いまの区域案とデータはそのままです。"
            "GEO_APP_DEBUG=1 を付けて起動し、表示された内容を開発者に送ってください。",
        )
        return
    finally:
        _consume_uploaders(up_boundaries=list(bfiles), up_population=pfile, up_sea_links=sfile)
    set_workspace(ws)
    uploads.release_unused(st.session_state, [*(ws.boundaries or ()), ws.population, ws.sea_links])  # replaced
    notes = ws.data.notes
    flash("success", "データを読み込みました。" + (" ".join(notes[:5]) if notes else ""))


def _do_reset_data() -> None:
    ws_old = workspace()
    try:
        ws = ops.with_data(ws_old, None, None, load=load_data)
    except GeoAppError as exc:
        flash("error", str(exc))
        return
    set_workspace(ws)
    uploads.release_unused(st.session_state, [])  # back on the embedded data: no upload is read any more
    flash("success", "内蔵データ（行政区域 2021年・令和2年国勢調査）に戻しました。")


def render() -> None:
    ws = workspace()
    show_flash()
    st.subheader("都道府県と出発点を選ぶ")
    prefs = list(PREFECTURES.values())
    current = ws.plan.prefectures[0] if ws.plan.prefectures else "北海道"
    c1, c2 = st.columns([1, 2])
    c1.selectbox(
        "都道府県",
        prefs,
        index=prefs.index(current) if current in prefs else 0,
        key="start_pref",
        placeholder="選ぶ",
        filter_mode="contains",
    )
    options = start_options(str(st.session_state.get("start_pref", current)))
    c2.radio("出発点", options, key="start_how", format_func=lambda k: START_OPTIONS[k])
    if ws.boundaries or ws.population:
        st.checkbox("アップロードした境界・人口を使う", value=True, key="start_keep_uploads")
    discard_checkbox("discard_start")
    st.button(
        "この内容で始める",
        key="btn_start",
        type="primary",
        on_click=_do_start,
        help="いまの編集は、保存していなければ失われます。",
    )
    if ws.dirty:
        st.caption("⚠ 保存していない編集があります。始める前に「保存・読み込み」で保存してください。")

    st.divider()
    st.subheader("境界データ・人口表を差し替える")
    st.caption(f"いま使っているデータ: {md_escape(ws.data.label)}")
    st.file_uploader(
        "行政区域（国土数値情報 N03）: .zip / .shp 一式 / .geojson / .gpkg",
        accept_multiple_files=True,
        type=["zip", "shp", "shx", "dbf", "prj", "cpg", "geojson", "json", "gpkg", "topojson"],
        key=uploads.uploader_key(st.session_state, "up_boundaries"),
        help=f"1ファイル {uploads.MAX_UPLOAD_MB} MB まで。全国版の N03 は大きすぎるので、"
        "使う都道府県の zip を（いくつでも）選んでください。",
    )
    st.file_uploader(
        "人口表（CSV または Excel）: 市町村コード, 人口, 年齢階級別人口",
        type=["csv", "xlsx", "txt"],
        key=uploads.uploader_key(st.session_state, "up_population"),
    )
    st.text_input(
        "人口表の時点（出典に書きます）",
        key="population_date",
        placeholder="例: 2024年1月1日（住民基本台帳）",
        help="地図・印刷・Excel の出典に「利用者の人口表「ファイル名」（この時点）」と書きます。",
    )
    st.file_uploader(
        "航路表（離島と本土を結ぶ航路・橋。CSV または Excel）: 市町村コード1, 市町村コード2, 航路名, 種類",
        type=["csv", "xlsx", "txt"],
        key=uploads.uploader_key(st.session_state, "up_sea_links"),
        help="離島は、同じ圏域のいちばん近い市町村と海を隔ててつながっているものとして扱います。"
        "実際の航路や橋（種類を「橋」に）で結びたいときに、1行に1つ、両端の市町村コードを書いて読み込みます。"
        "内蔵の航路に追加されます。",
    )
    b1, b2 = st.columns(2)
    b1.button("このデータを使う", key="btn_upload_data", on_click=_do_upload_data)
    b2.button(
        "内蔵データに戻す",
        key="btn_reset_data",
        on_click=_do_reset_data,
        disabled=not (ws.boundaries or ws.population or ws.sea_links),
    )
    if ws.data.notes:
        with st.expander(f"読み込みのお知らせ（{len(ws.data.notes)}件）"):
            for n in ws.data.notes:  # the loader's notes quote file, column and municipality names
                st.text(plain_text(f"・{n}"))

    st.divider()
    st.subheader("データの時点と出典")
    used = credits(ws.sourced_munis, ws.titled_plan)  # the inputs actually behind the figures
    st.text(plain_text(used.vintage))
    for c in used.lines:  # file names the user chose: plain text, never Markdown
        st.text(plain_text(f"・{c}"))


if __name__ == "__main__":  # run by st.navigation (main.py) as this page's script
    render()
