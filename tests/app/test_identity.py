"""The plan's identity in the app: the title every export carries follows what the user did.

Workspace operations without Streamlit (the pages call exactly these), real Hokkaido data, a
private SQLite store. The exports are opened as users open them: HTML text, PDF text layer,
PNG metadata, the xlsx in openpyxl.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

import openpyxl
import pytest
from PIL import Image

from geo_app.app import workspace as ops
from geo_app.io.plans import load_plan
from geo_app.io.provenance import credits
from geo_app.io.store import PlanStore

REFERENCE = "北海道 2024（第8次医療計画）"
BIEI = "01459"  # 美瑛町


@pytest.fixture(scope="module")
def cache():
    return ops.MapCache()


def _open(cache):
    return ops.open_plan(load_plan("hokkaido-2024"), load=ops.build_data, cache=cache, origin="テスト")


def test_reference_plan_keeps_its_title_until_edited_then_never_again(cache):
    ws = _open(cache)
    assert ws.titled_plan.title == REFERENCE and ws.titled_plan.reference
    ops.move_municipality(ws, BIEI, "富良野", "美瑛町")
    edited = ws.titled_plan
    assert edited.title != REFERENCE and edited.title.startswith(REFERENCE) and not edited.reference
    assert edited.title == f"{REFERENCE}の編集案"
    assert "をもとに利用者が作成" in edited.source and "北海道医療計画" in edited.source
    ws.undo()  # back to exactly the published assignments: the reference again, truthfully
    assert ws.titled_plan.title == REFERENCE and ws.titled_plan.reference


def test_saved_plan_titles_with_name_version_and_date(cache, tmp_path):
    store = PlanStore(path=tmp_path / "plans.sqlite3")
    ws = _open(cache)
    ops.move_municipality(ws, BIEI, "富良野", "美瑛町")
    ops.save(ws, store, "案A")
    t = ws.titled_plan
    assert t.name == "案A" and t.title.startswith("案A（版1・") and t.title.endswith("保存）")
    ops.move_municipality(ws, BIEI, "上川", "美瑛町")
    assert ws.titled_plan.title == "案A（版1＋未保存の編集）"

    again, _ = ops.open_saved(store, "案A", load=ops.build_data, cache=cache)
    assert again.titled_plan.title == t.title  # reopened: the same version and date
    assert "北海道医療計画" in again.titled_plan.source  # what it was made from survives the save
    line = credits(again.sourced_munis, again.titled_plan)
    assert line.vintage.startswith(f"区域案: {t.title}／")  # the plan first: a long line wraps after it


def _pdf_text(data: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        return subprocess.run(["pdftotext", f.name, "-"], capture_output=True, text=True, check=True).stdout


def test_every_export_of_a_saved_plan_carries_its_name(cache, tmp_path):
    store = PlanStore(path=tmp_path / "plans.sqlite3")
    ws = _open(cache)
    ops.move_municipality(ws, BIEI, "富良野", "美瑛町")
    ops.save(ws, store, "案A")
    html = ops.map_html_bytes(ws).decode("utf-8")
    pdf = _pdf_text(ops.print_map_bytes(ws, "pdf"))
    png = Image.open(io.BytesIO(ops.print_map_bytes(ws, "png"))).info["Title"]
    wb = openpyxl.load_workbook(io.BytesIO(ops.summary_xlsx_bytes(ws)))
    sheet = dict(wb["出典"].iter_rows(min_row=2, max_row=2, values_only=True))
    for kind, text in {"html": html, "pdf": pdf, "png": png, "xlsx": str(sheet.get("区域案"))}.items():
        assert "案A（版1・" in text, kind
        assert f"{REFERENCE}　" not in text and f"<title>{REFERENCE}" not in text, kind


def test_user_population_file_and_date_are_the_source(cache, tmp_path):
    from geo_app.io import datasets

    src = Path(datasets.population_path())
    mine = tmp_path / "住基_2024-01.csv"
    mine.write_bytes(src.read_bytes())  # the census's own figures: we invent none
    ws = _open(cache)
    ws = ops.with_data(ws, None, str(mine), load=ops.build_data)
    ws.population_date = "2024年1月1日"
    used = credits(ws.sourced_munis, ws.titled_plan)
    text = "\n".join(used.all())
    assert "「住基_2024-01.csv」（2024年1月1日時点）" in text
    assert "国勢調査" not in text
    wb = openpyxl.load_workbook(io.BytesIO(ops.summary_xlsx_bytes(ws)))
    rows = [r[1] for r in wb["出典"].iter_rows(min_row=2, values_only=True) if r[0] in ("出典", "データ時点")]
    assert any("住基_2024-01.csv" in str(r) and "2024年1月1日" in str(r) for r in rows)
    assert not any("国勢調査" in str(r) for r in rows)
