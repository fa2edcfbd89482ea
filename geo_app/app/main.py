"""Streamlit entry script of `geo-app app` (run by `streamlit run`, see launch.py).

Japanese throughout; the data vintage and credits stay visible in the sidebar. Any error that
reaches this level is shown as a Japanese message, never as a traceback.
"""
from __future__ import annotations


import os
import warnings

import streamlit as st

warnings.filterwarnings("ignore", message="Numba not installed")

from geo_app.app import page_compare, page_data, page_map, page_plans  # noqa: E402
from geo_app.app.page_plans import save_current  # noqa: E402
from geo_app.app.state import show_flash, workspace  # noqa: E402
from geo_app.app.text import md_escape  # noqa: E402
from geo_app.io.datasets import CREDITS, VINTAGE  # noqa: E402
from geo_app.core.errors import GeoAppError  # noqa: E402

PAGES = {
    "地図と編集": page_map.render,
    "案の比較": page_compare.render,
    "保存・読み込み": page_plans.render,
    "都道府県・データ": page_data.render,
}


def _sidebar() -> str:
    with st.sidebar:
        st.markdown("## 在宅医療圏 設計支援")
        page = st.radio("画面", list(PAGES), key="page")
        ws = workspace()
        st.divider()
        # The saved name is what the user knows the plan by; names are typed text, never markup.
        st.markdown(f"**{md_escape(ws.saved_name or ws.plan.name)}**")
        if ws.saved_name:
            st.caption(f"保存先: 「{md_escape(ws.saved_name)}」版{ws.saved_version}")
        else:
            st.caption("まだ保存していません（「保存・読み込み」で名前を付けて保存）")
        n = len(ws.unsaved_labels())
        if ws.saved_name:
            st.button(f"上書き保存（未保存の編集 {n}件）", key="btn_quick_save", on_click=save_current,
                      disabled=not ws.dirty, width="stretch")
        elif n:
            st.caption(f"保存していない編集: {n}件")
        st.divider()
        st.caption("データの時点と出典")
        st.caption(VINTAGE)
        for c in CREDITS:
            st.caption(c)
    return page


def main() -> None:
    st.set_page_config(page_title="在宅医療圏 設計支援", page_icon="🗾", layout="wide", initial_sidebar_state="expanded")
    try:
        page = _sidebar()
        PAGES[page]()
    except GeoAppError as exc:
        show_flash()
        st.error(md_escape(exc))  # our message, quoting typed names: plain text
    except Exception as exc:  # last resort: a Japanese message, no traceback
        if os.environ.get("GEO_APP_DEBUG"):
            raise
        show_flash()
        st.error(f"予期しない問題が起きました（{type(exc).__name__}: {md_escape(exc)}）。保存した区域案は失われていません。"
                 "ページを再読み込みしてください。解決しない場合は GEO_APP_DEBUG=1 を付けて起動し、表示された内容を開発者に送ってください。")


main()
