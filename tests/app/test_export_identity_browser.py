"""End to end in Chromium: the user's own population table, a move, 案A saved, and every export
downloaded from the page carries 案A (never the reference's title) and names the user's file.

The server is `geo-app app` in a subprocess on a private SQLite store; every request that does
not go to this machine is refused and recorded. The downloads are opened as users open them:
the HTML's text, the PNG's metadata, the PDF's text layer (pdftotext), the xlsx in openpyxl and
the GeoPackage through GDAL.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pyogrio
import pytest
from conftest import offline_page, start_server, stop_server
from PIL import Image
from test_app_browser import alert, choose, click_button, free_port, settle, wait_for_map

from geo_app.io import datasets

pytestmark = pytest.mark.browser

REFERENCE = "北海道 2024（第8次医療計画）"
POP_FILE = "北海道_人口_2024年1月.csv"
POP_DATE = "2024年1月1日"


def _population_file(folder: Path) -> Path:
    """Hokkaido's municipalities with the census's figures (we invent none) under the user's name."""
    census = pd.read_csv(datasets.population_path(), dtype={"code": str})
    hok = census[(census["code"].str[:2] == "01") & (census["kind"] == "municipality")]
    path = folder / POP_FILE
    hok.drop(columns=["prefecture", "kind", "parent_code"]).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def _download(page, label: str, folder: Path) -> Path:
    """Click a download button once the page is idle; a click that a rerun swallowed is made again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    button = page.locator("[data-testid='stDownloadButton']").filter(has_text=label).first
    for attempt in range(3):
        settle(page)
        try:
            with page.expect_download(timeout=90_000) as info:
                button.click()
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    target = folder / info.value.suggested_filename
    info.value.save_as(target)
    return target


def test_saved_plan_exports_carry_its_name_and_the_users_source(tmp_path, browser):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    pop = _population_file(tmp_path)
    db, log = tmp_path / "plans.sqlite3", tmp_path / "server.log"
    port = free_port()
    blocked: list[str] = []
    proc = start_server(port, db, log)
    try:
        page = offline_page(browser, blocked, viewport=(1500, 1100))
        page.goto(f"http://localhost:{port}/")
        wait_for_map(page)
        sidebar = page.locator("[data-testid='stSidebar']")
        assert REFERENCE in sidebar.inner_text()

        # the user's population table, with the date they give it
        sidebar.get_by_text("都道府県・データ", exact=True).click()
        uploader = page.locator("[data-testid='stFileUploader']").filter(has_text="人口表").first
        uploader.locator("input[type=file]").set_input_files(str(pop))
        page.wait_for_function(  # uploaded: its name listed under the uploader, no spinner left
            "name => [...document.querySelectorAll(\"[data-testid='stFileChipName']\")].some(c =>"
            " c.innerText.includes(name)) && !document.querySelector(\"[data-testid='stFileChipIconSpinner']\")",
            arg=POP_FILE,
            timeout=120_000,
        )
        field = page.locator(".st-key-population_date input")
        field.fill(POP_DATE)
        field.press("Enter")
        click_button(page, "このデータを使う")
        alert(page, "データを読み込みました")
        page.wait_for_function(
            "t => document.querySelector(\"[data-testid='stSidebar']\").innerText.includes(t)",
            arg=f"「{POP_FILE}」（{POP_DATE}時点）",
            timeout=60_000,
        )
        assert "国勢調査" not in sidebar.inner_text()

        # one move, so that the plan is no longer the published one
        sidebar.get_by_text("地図と編集", exact=True).click()
        wait_for_map(page)
        choose(page, "市町村", "美瑛", re.compile(r"^美瑛町"))
        choose(page, "移動先の在宅医療圏", "富良野", re.compile(r"^富良野（"))
        click_button(page, "移動する")
        alert(page, "移動しました")
        assert re.search(rf"{re.escape(REFERENCE)}(?!の編集案|」をもとに)", sidebar.inner_text()) is None

        # save it as 案A
        sidebar.get_by_text("保存・読み込み", exact=True).click()
        field = page.get_by_label("名前を付けて保存（例: 現行, 案A, 案B）")
        field.fill("案A")
        field.press("Enter")
        click_button(page, "名前を付けて保存")
        alert(page, "保存しました（版1）")
        page.wait_for_function(
            "() => document.querySelector(\"[data-testid='stSidebar']\").innerText.includes('案A（版1・')",
            timeout=30_000,
        )

        got = {
            kind: _download(page, label, tmp_path)
            for kind, label in (
                ("html", "地図 HTML"),
                ("png", "印刷用地図 PNG"),
                ("pdf", "印刷用地図 PDF"),
                ("xlsx", "集計表 Excel"),
                ("gpkg", "GeoPackage"),
            )
        }
        page.close()
    finally:
        stop_server(proc)
    assert blocked == [], blocked[:5]

    assert all(p.name.startswith("案A") for p in got.values()), [p.name for p in got.values()]
    wb = openpyxl.load_workbook(got["xlsx"])
    texts = {
        "html": got["html"].read_text(encoding="utf-8"),
        "png": str(Image.open(got["png"]).info.get("Title", "")),
        "pdf": subprocess.run(["pdftotext", str(got["pdf"]), "-"], capture_output=True, text=True, check=True).stdout,
        "xlsx": "\n".join(f"{a}\t{b}" for a, b in wb["出典"].iter_rows(min_row=2, values_only=True)),
        "gpkg": "\n".join(
            f"{v}" for v in (pyogrio.read_info(got["gpkg"], layer="homecare")["dataset_metadata"] or {}).values()
        ),
    }
    for kind, text in texts.items():
        flat = text.replace("\n", "")
        assert "案A（版1・" in flat, kind
        assert re.search(rf"{re.escape(REFERENCE)}(?!の編集案|」をもとに)", flat) is None, kind
        if kind != "png":  # the PNG's metadata holds the title; its pixels are checked by the print tests
            assert POP_FILE in flat and POP_DATE in flat, kind
            assert "令和2年国勢調査（2020年10月1日）" not in flat, kind
