"""The 人口ピラミッド sheet of the Excel summary: counts by sex per area, the prefecture's, native bar charts."""

from __future__ import annotations

import re
import zipfile
from xml.etree import ElementTree

import openpyxl
import pytest
from openpyxl import Workbook

from geo_app.core.counts import AGE_BANDS
from geo_app.views.xlsx import write_summary_xlsx
from geo_app.views.xlsx_pyramid import BAND_LABELS, BOTH_SIDES_FORMAT, SHEET_NAME, write_pyramid_sheet


@pytest.fixture(scope="module")
def summary(hokkaido, hokkaido_plan, tmp_path_factory):
    return write_summary_xlsx(hokkaido, hokkaido_plan, tmp_path_factory.mktemp("xlsx") / "summary.xlsx")


def _table(ws) -> list[tuple]:
    rows = []
    for row in ws.iter_rows(min_row=2, values_only=True):
        if row[1] not in ("男", "女"):
            break
        rows.append(row)
    return rows


def test_counts_by_sex_add_up_to_the_level_sheet(summary):
    wb = openpyxl.load_workbook(summary)
    assert SHEET_NAME in wb.sheetnames
    ws = wb[SHEET_NAME]
    headers = [c.value for c in ws[1]]
    assert headers[:2] == ["在宅医療圏", "男女"] and headers[2:23] == BAND_LABELS
    assert headers[23:26] == ["年齢不詳", "計", "注記"]
    rows = _table(ws)
    assert len(rows) == 2 * 33 + 2  # 33 home-care areas × 男・女, then 北海道
    assert rows[-1][0] == rows[-2][0] == "北海道（全体）"
    # the level sheet's figures come from the both-sexes census through the tally: an independent path
    level = wb["在宅医療圏"]
    head = [c.value for c in level[1]]
    col_pop, col_75 = head.index("人口"), head.index("75歳以上")
    by_area = {r[0]: r for r in level.iter_rows(min_row=2, values_only=True) if r[0] != "合計"}
    assert len(by_area) == 33
    for men, women in zip(rows[0:-2:2], rows[1:-2:2], strict=True):
        assert men[0] == women[0] and (men[1], women[1]) == ("男", "女")
        area = by_area[men[0]]
        assert men[24] + women[24] == area[col_pop], men[0]
        assert sum(men[17:23]) + sum(women[17:23]) == area[col_75], men[0]  # 75〜79歳 … 100歳以上
    men, women = rows[-2], rows[-1]
    assert men[24] + women[24] == 5_224_614  # 北海道 (SOURCES.md)


def test_native_bar_charts_with_men_to_the_left(summary):
    wb = openpyxl.load_workbook(summary)
    ws = wb[SHEET_NAME]
    rows = _table(ws)
    totals: dict[str, int] = {}
    for r in rows[:-2]:
        totals[r[0]] = totals.get(r[0], 0) + r[24]
    largest = max(totals, key=lambda a: totals[a])
    blocks = [r for r in range(1, ws.max_row + 1) if str(ws.cell(r, 1).value or "").startswith("グラフ: ")]
    assert len(blocks) == 2
    assert ws.cell(blocks[0], 1).value.startswith(f"グラフ: {largest}（")
    assert ws.cell(blocks[1], 1).value == "グラフ: 北海道（全体）"
    top = blocks[0] + 1
    assert [ws.cell(top, c).value for c in (1, 2, 3)] == ["年齢", "男", "女"]
    assert ws.cell(top + 1, 1).value == "0〜4歳" and ws.cell(top + 21, 1).value == "100歳以上"
    men_row = next(r for r in rows if r[0] == largest and r[1] == "男")
    for i in range(len(AGE_BANDS)):
        cell = ws.cell(top + 1 + i, 2)
        assert cell.value == -men_row[2 + i] and cell.number_format == BOTH_SIDES_FORMAT
        assert ws.cell(top + 1 + i, 3).value >= 0

    with zipfile.ZipFile(summary) as z:
        charts = sorted(n for n in z.namelist() if re.match(r"xl/charts/chart\d+\.xml$", n))
        assert len(charts) == 2
        root = ElementTree.fromstring(z.read(charts[0]))
    ns = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart"}
    assert root.find(".//c:barChart/c:barDir", ns).get("val") == "bar"  # horizontal bars
    assert root.find(".//c:barChart/c:overlap", ns).get("val") == "100"
    assert root.find(".//c:valAx/c:numFmt", ns).get("formatCode") == BOTH_SIDES_FORMAT
    refs = [f.text for f in root.iterfind(".//c:ser/c:val//c:f", ns)]
    assert refs == [f"'{SHEET_NAME}'!$B${top + 1}:$B${top + 21}", f"'{SHEET_NAME}'!$C${top + 1}:$C${top + 21}"]


def test_area_with_a_member_lacking_figures_by_sex_is_blank(hokkaido, hokkaido_plan, monkeypatch):
    import geo_app.io.population_sex as population_sex

    full = population_sex.load_population_by_sex()
    monkeypatch.setattr(population_sex, "load_population_by_sex", lambda: full[full["code"] != "01463"])
    wb = Workbook()
    ws = write_pyramid_sheet(wb, hokkaido, hokkaido_plan)
    rows = {(r[0], r[1]): r for r in _table(ws)}
    area = hokkaido_plan.area_of("01463", "homecare")  # 占冠村's home-care area
    for sex in ("男", "女"):
        assert all(v is None for v in rows[(area, sex)][2:25])  # unknown, never a partial total
        assert "不明" in rows[(area, sex)][25]
    assert all(r[24] is not None for (a, _), r in rows.items() if a != area)
    assert len(ws._charts) == 2  # the largest area and 北海道 are still drawn


def test_a_table_without_sex_rows_gives_a_note(hokkaido, hokkaido_plan):
    own = hokkaido.copy()
    own.loc[own["code"] == "01100", "population"] = 1_960_000  # the user's own, newer count
    wb = Workbook()
    ws = write_pyramid_sheet(wb, own, hokkaido_plan)
    assert ws.title == SHEET_NAME
    assert "男女別の人口がない" in ws["A1"].value
    assert ws.max_row == 1 and not ws._charts
