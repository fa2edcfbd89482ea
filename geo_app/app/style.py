"""The one place where the app changes Streamlit's own English texts with CSS.

Streamlit 1.67 has no locale setting, and a few texts its widgets draw have no parameter:
the file uploader's button ("Upload") and drop-zone line ("Drag and drop files here",
"200MB per file • CSV, XLSX"), the empty result of a select box's search ("No results"), and
a file the uploader refuses before sending it (wrong type, too large: its English reason is
only in a hover tooltip, so a Japanese one is written next to the file's name).
Every other English default is replaced through the widgets' own parameters (``placeholder=``,
``select_all=False``, ``st.dataframe(placeholder="")`` …, see the pages).

Each rule here hides Streamlit's text (``display: none``, so it is neither drawn nor in the
page's text) and draws a Japanese one with ``::after`` on an element Streamlit marks with a
stable ``data-testid``; no class name (they change between releases) and no Python-side
private attribute is used. If a release renames a test id, the English text simply comes back
(tests/app/test_japanese_ui.py fails), nothing breaks.
"""

from __future__ import annotations

from geo_app.app.uploads import MAX_UPLOAD_MB

__all__ = ["UPLOAD_BUTTON", "DROP_HINT", "NO_RESULTS", "REFUSED_FILE", "css", "apply"]

UPLOAD_BUTTON = "ファイルを選ぶ"
DROP_HINT = f"ここにファイルをドラッグ＆ドロップ（1ファイル {MAX_UPLOAD_MB} MB まで）"
NO_RESULTS = "該当するものがありません"
REFUSED_FILE = f"使えないファイルです（種類を確かめてください。1ファイル {MAX_UPLOAD_MB} MB まで）"

_UPLOADER = "[data-testid='stFileUploaderDropzone']"
# the lists of st.selectbox (stSelectboxVirtualDropdown) and st.multiselect (stMultiSelectDropdown)
_DROPDOWN = "[data-testid$='Dropdown'] [role='listbox'][data-empty='true']"


def css() -> str:
    """The style sheet: our own constants only (no quote or backslash in them), never user text."""
    return f"""
{_UPLOADER} [data-testid^='stBaseButton'] [data-testid='stMarkdownContainer'] > * {{ display: none; }}
{_UPLOADER} [data-testid^='stBaseButton'] [data-testid='stMarkdownContainer']::after {{
  content: "{UPLOAD_BUTTON}";
}}
{_UPLOADER} [data-testid='stFileUploaderDropzoneInstructions'] > * {{ display: none; }}
{_UPLOADER} [data-testid='stFileUploaderDropzoneInstructions']::after {{
  content: "{DROP_HINT}";
  font-size: 0.875rem;
  opacity: 0.7;
}}
[data-testid='stFileChip'][aria-invalid='true'] [data-testid='stFileChipName']::after {{
  content: "　{REFUSED_FILE}";
  color: inherit;
}}
{_DROPDOWN} [role='option'] {{ display: none !important; }}  /* its inline style is display: contents */
{_DROPDOWN}::after {{
  content: "{NO_RESULTS}";
  display: block;
  padding: 0.5rem 1rem;
  opacity: 0.7;
}}
""".strip()


def apply() -> None:
    """Add the style sheet to the page (a style-only `st.html` takes no space in the layout)."""
    import streamlit as st

    st.html(f"<style>{css()}</style>")
