"""A plan's identity and the sources behind its figures, in every file `geo-app build` writes.

As the issue found them: a printout of 案A titled as the official plan, and the census credited
under a user's own population table. Each output is opened the way its users open it: the HTML's
page text, the PDF's text layer (pdftotext), the PNG's metadata, the xlsx in openpyxl and the
GeoPackage's metadata through GDAL (pyogrio).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pyogrio
import pytest
from PIL import Image

from geo_app.cli import main
from geo_app.io import datasets
from geo_app.io.provenance import CENSUS_2020

REFERENCE_TITLE = "北海道 2024（第8次医療計画）"


def _pdf_text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _texts(out: Path) -> dict[str, str]:
    """Every user-visible text of the build, by file."""
    wb = openpyxl.load_workbook(out / "summary.xlsx")
    sources = "\n".join(f"{a}\t{b}" for a, b in wb["出典"].iter_rows(min_row=2, values_only=True))
    info = pyogrio.read_info(out / "areas.gpkg", layer="homecare")
    gpkg = "\n".join(f"{k}={v}" for k, v in (info.get("dataset_metadata") or {}).items())
    return {
        "html": (out / "map.html").read_text(encoding="utf-8"),
        "pdf": _pdf_text(out / "map.pdf"),
        "png": str(Image.open(out / "map.png").info.get("Title", "")),
        "xlsx": sources + "\n" + str(wb["在宅医療圏"].oddFooter.center.text or ""),
        "gpkg": gpkg,
    }


@pytest.fixture(scope="module")
def user_population(tmp_path_factory) -> Path:
    """The user's own counts for Hokkaido as a 住民基本台帳-style file. The figures are the
    census's (we invent none); what matters is that the file, not the census, is credited."""
    census = pd.read_csv(datasets.population_path(), dtype={"code": str})
    hok = census[(census["code"].str[:2] == "01") & (census["kind"] == "municipality")]
    path = tmp_path_factory.mktemp("pop") / "北海道_住基_2024.csv"
    hok[["code", "name", "population", "age_65_plus", "age_75_plus"]].rename(
        columns={"code": "市町村コード", "name": "市町村名", "population": "人口", "age_65_plus": "65歳以上"}
    ).rename(columns={"age_75_plus": "75歳以上"}).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def test_build_titles_every_output_with_the_users_plan_and_sources(tmp_path, user_population, capsys):
    out = tmp_path / "out"
    code = main(
        [
            "build",
            "--plan",
            "hokkaido-2024",
            "--title",
            "案A",
            "--population",
            str(user_population),
            "--population-date",
            "2024年1月1日",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    capsys.readouterr()
    assert code in (0, 1)
    for kind, text in _texts(out).items():
        assert "案A" in text, kind
        assert REFERENCE_TITLE not in text.replace(f"「{REFERENCE_TITLE}」をもとに", ""), kind  # only as its basis
        if kind != "png":  # the PNG's metadata holds the title only
            assert "北海道_住基_2024.csv" in text and "2024年1月1日" in text, kind
            assert CENSUS_2020.credit not in text and "令和2年国勢調査" not in text, kind


def test_reference_plan_is_credited_as_itself_and_only_where_it_is_used(tmp_path, capsys):
    out = tmp_path / "hok"
    assert main(["build", "--plan", "hokkaido-2024", "--out", str(out), "--quiet"]) in (0, 1)
    hok = _texts(out)
    for kind, text in hok.items():
        assert REFERENCE_TITLE in text, kind
        if kind != "png":
            assert "北海道医療計画" in text and "令和2年国勢調査" in text, kind

    out = tmp_path / "iwate"
    assert main(["build", "--plan", "secondary-2020:岩手県", "--out", str(out), "--quiet"]) in (0, 1)
    capsys.readouterr()
    for kind, text in _texts(out).items():
        assert "北海道" not in text, kind  # no other prefecture's plan credited on an Iwate map
        assert "岩手県" in text, kind


def test_title_must_not_be_empty(capsys):
    code = main(["summary", "--plan", "hokkaido-2024", "--title", "  "])
    assert code == 2
    assert "--title が空です" in capsys.readouterr().err


def test_population_date_needs_a_population_table(capsys):
    code = main(["summary", "--plan", "hokkaido-2024", "--population-date", "2024年1月1日"])
    assert code == 2
    assert "--population" in capsys.readouterr().err
