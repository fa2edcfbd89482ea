"""Streamlit entry script of `geo-app app` (run by `streamlit run`, see launch.py).

Five pages through `st.navigation`, each its own URL (/map, /compare, /propose, /plans, /data), each a
page module run as a script. Japanese throughout; the plan's name, its save state, the data
vintage and credits stay visible in the sidebar under the page links. ``?plan=案A`` opens a
saved plan in a new session and is kept in the URL on every page (see `state.sync_query`).
Any error that reaches this level is shown as a Japanese message, never as a traceback.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import streamlit as st

# mapclassify asks for numba on import (a speed-up it does not need here): one known message, not all warnings
warnings.filterwarnings("ignore", message="Numba not installed", category=UserWarning)

from geo_app.app.page_plans import save_current  # noqa: E402
from geo_app.app.state import show_flash, sync_query, workspace  # noqa: E402
from geo_app.app.style import apply as apply_style  # noqa: E402
from geo_app.app.text import md_escape  # noqa: E402
from geo_app.core.errors import GeoAppError  # noqa: E402
from geo_app.io.provenance import credits  # noqa: E402

HERE = Path(__file__).resolve().parent

#: (script, title, URL path): the order of the page links in the sidebar.
PAGES = [
    ("page_map.py", "地図と編集", "map"),
    ("page_compare.py", "案の比較", "compare"),
    ("page_propose.py", "提案", "propose"),
    ("page_plans.py", "保存・読み込み", "plans"),
    ("page_data.py", "都道府県・データ", "data"),
]


def _quick_save() -> None:
    """The sidebar's 上書き保存 (a callback returns nothing; the outcome is flashed)."""
    save_current()


def _sidebar() -> None:
    ws = workspace()
    with st.sidebar:
        st.divider()
        # The saved name is what the user knows the plan by; names are typed text, never markup.
        titled = ws.titled_plan  # the name every export is titled with
        st.markdown(f"**{md_escape(titled.name)}**")
        if ws.saved_name:
            st.caption(f"保存先: 「{md_escape(ws.saved_name)}」{md_escape(titled.saved)}")
        else:
            st.caption("まだ保存していません（「保存・読み込み」で名前を付けて保存）")
        n = len(ws.unsaved_labels())
        if ws.saved_name:
            st.button(
                f"上書き保存（未保存の編集 {n}件）",
                key="btn_quick_save",
                on_click=_quick_save,
                disabled=not ws.dirty,
                width="stretch",
            )
        elif n:
            st.caption(f"保存していない編集: {n}件")
        st.divider()
        st.caption("データの時点と出典")
        used = credits(ws.sourced_munis, ws.titled_plan)  # the inputs actually behind the figures
        for line in used.all():
            st.caption(md_escape(line))  # user file names: text, not Markdown


def main() -> None:
    st.set_page_config(
        page_title="在宅医療圏 設計支援", page_icon="🗾", layout="wide", initial_sidebar_state="expanded"
    )
    pages = [
        st.Page(HERE / script, title=title, url_path=url, default=i == 0)
        for i, (script, title, url) in enumerate(PAGES)
    ]
    page = st.navigation(pages)
    apply_style()  # Japanese for the few Streamlit texts that have no parameter (see app/style.py)
    try:
        with st.sidebar:
            st.markdown("## 在宅医療圏 設計支援")
        _sidebar()
        sync_query(workspace())
        page.run()
    except GeoAppError as exc:
        show_flash()
        st.error(md_escape(exc))  # our message, quoting typed names: plain text
    except Exception as exc:  # last resort: a Japanese message, no traceback
        if os.environ.get("GEO_APP_DEBUG"):
            raise
        show_flash()
        st.error(
            f"予期しない問題が起きました（{type(exc).__name__}: {md_escape(exc)}）。保存した区域案は失われていません。"
            "ページを再読み込みしてください。解決しない場合は GEO_APP_DEBUG=1 を付けて起動し、"
            "表示された内容を開発者に送ってください。"
        )


main()
