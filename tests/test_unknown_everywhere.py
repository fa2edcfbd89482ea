"""A total that misses a member is unknown on every output, with a finding naming the members.

The issue's case: a user's population table without two municipalities. The print title said
総人口 1,035,591人, the app a 高齢化率, while the 所見 sheet did not mention it and the floor
rule skipped the blank areas. Here every output is opened as users open it.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from geo_app.cli import main
from geo_app.core.metrics import METRICS, UNKNOWN_TEXT
from geo_app.core.tally import total
from geo_app.io import datasets

MISSING = {"01459": "美瑛町", "01460": "上富良野町"}  # both in the home-care areas 上川 and 富良野


@pytest.fixture(scope="module")
def partial_table(tmp_path_factory) -> Path:
    census = pd.read_csv(datasets.population_path(), dtype={"code": str})
    hok = census[(census["code"].str[:2] == "01") & (census["kind"] == "municipality")]
    assert set(MISSING) <= set(hok["code"]) and dict(zip(hok["code"], hok["name"], strict=True))["01459"] == "美瑛町"
    path = tmp_path_factory.mktemp("pop") / "人口_2市町村なし.csv"
    hok[~hok["code"].isin(MISSING)].drop(columns=["prefecture", "kind", "parent_code"]).to_csv(path, index=False)
    return path


def _area_of(code: str) -> str:
    from geo_app.io.plans import load_plan

    return str(load_plan("hokkaido-2024").area_of(code))


def test_summary_leaves_the_areas_and_the_total_blank(partial_table, capsys):
    code = main(["summary", "--plan", "hokkaido-2024", "--population", str(partial_table), "--format", "csv"])
    out, err = capsys.readouterr()
    assert code == 1  # a total is affected: a script must notice
    rows = {r[next(iter(r))]: r for r in csv.DictReader(io.StringIO(out.lstrip("\ufeff")))}
    affected = {_area_of(c) for c in MISSING}
    assert len(affected) == 2
    for area in affected:
        pop = next(v for k, v in rows[area].items() if k in ("population", "人口"))
        assert pop == "", area
    for name, c in MISSING.items():
        assert f"{c}（{name}）" in err or f"{name}（{c}）" in err


def test_floor_rule_reports_unknown_areas_by_member(partial_table, capsys):
    code = main(
        ["validate", "--plan", "hokkaido-2024", "--population", str(partial_table), "--population-floor", "20000"]
    )
    out, err = capsys.readouterr()
    text = out + err
    assert code == 1
    for area in {_area_of(c) for c in MISSING}:
        assert f"{area}」の人口が不明です" in text or f"{area}の人口が不明です" in text, area
    assert "美瑛町" in text and "上富良野町" in text


def test_build_outputs_say_unknown_and_name_the_members(partial_table, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["build", "--plan", "hokkaido-2024", "--population", str(partial_table), "--out", str(out), "--quiet"])
    capsys.readouterr()
    assert code == 1
    if shutil.which("pdftotext"):
        pdf = subprocess.run(["pdftotext", str(out / "map.pdf"), "-"], capture_output=True, text=True).stdout
        assert f"総人口 {UNKNOWN_TEXT}" in pdf.replace("\n", "")
        assert "1,035,591" not in pdf
    html = (out / "map.html").read_text(encoding="utf-8")
    assert f"人口 {UNKNOWN_TEXT}" in html
    wb = openpyxl.load_workbook(out / "summary.xlsx")
    sheet = wb["在宅医療圏"]
    header = [c.value for c in sheet[1]]
    last = [c.value for c in sheet[sheet.max_row]]
    assert last[0] == "合計" and last[header.index("人口")] in (None, "")
    findings = "\n".join(" ".join(str(v) for v in r if v is not None) for r in wb["所見"].iter_rows(values_only=True))
    for c, name in MISSING.items():
        assert c in findings and name in findings


def test_app_metric_is_unknown(partial_table):
    from geo_app.app import workspace as ops
    from geo_app.io.plans import load_plan

    ws = ops.open_plan(
        load_plan("hokkaido-2024"),
        load=ops.build_data,
        cache=ops.MapCache(),
        origin="テスト",
        population=str(partial_table),
    )
    sums = total(ws.areas("homecare"))  # what the map page's metrics show (page_map._metrics)
    assert METRICS["population"].format(sums.get("population")) == UNKNOWN_TEXT
    assert METRICS["aging_rate"].format(sums.get("aging_rate")) == UNKNOWN_TEXT
    rules = {f.rule for f in ws.findings()}
    assert "missing_count" in rules
