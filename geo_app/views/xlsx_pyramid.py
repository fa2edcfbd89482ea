"""The 「人口ピラミッド」 sheet of the Excel summary: 男・女 by 5-year band per area and for the prefecture.

The table holds counts (people), one 男 and one 女 row per area of the level and for the plan's
prefecture(s), so planners can paste them; an area with a member lacking figures by sex has
empty cells and says so. Below it, the largest area and the prefecture are drawn as native
Excel bar charts (男 to the left: stored negative, shown positive by the number format), which
Excel and LibreOffice draw themselves, so the chart follows any figure a planner corrects.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from geo_app.core.codes import PREFECTURES
from geo_app.core.counts import AGE_BANDS
from geo_app.core.plan import LEVEL_JA, Plan
from geo_app.core.pyramid import PYRAMID_COUNTS, SEXES, area_pyramids, describes, prefecture_pyramid
from geo_app.views.textsafe import xlsx_text
from geo_app.views.xlsx import _style_header

__all__ = ["SHEET_NAME", "BOTH_SIDES_FORMAT", "write_pyramid_sheet", "pyramid_table"]

SHEET_NAME = "人口ピラミッド"
#: Positive numbers as they are, negative ones (男, drawn to the left) without their minus sign.
BOTH_SIDES_FORMAT = "#,##0;#,##0"
_COUNT_FORMAT = "#,##0"
_UNKNOWN_NOTE = "男女別の人口が不明な市町村を含むため空欄"
_CHART_ROWS = 24  # rows a chart takes, so the next block starts below it


def _band_label(band: str) -> str:
    parts = band.split("_")[1:]
    return "100歳以上" if parts == ["100", "plus"] else f"{parts[0]}〜{parts[1]}歳"


BAND_LABELS = [_band_label(b) for b in AGE_BANDS]


def pyramid_table(by_sex: pd.DataFrame, plan: Plan, level: str = "homecare") -> pd.DataFrame:
    """Rows 圏域 × 男女 (and the prefecture's last) with the 21 bands, 年齢不詳 and 計 (Int64; <NA> unknown)."""
    areas = area_pyramids(by_sex, plan, level)
    prefs = list(dict.fromkeys(plan.table["code"].str[:2]))
    pref = prefecture_pyramid(by_sex, prefs).reset_index()
    pref.insert(0, "area", f"{'・'.join(PREFECTURES.get(p, p) for p in prefs)}（全体）")
    out = pd.concat([areas, pref[["area", "sex", *PYRAMID_COUNTS]]], ignore_index=True)
    out["total"] = out[PYRAMID_COUNTS].sum(axis=1, min_count=len(PYRAMID_COUNTS)).astype("Int64")
    out.loc[out[PYRAMID_COUNTS].isna().any(axis=1), "total"] = pd.NA
    out.attrs["prefecture_rows"] = 2
    return out


def write_pyramid_sheet(wb: Workbook, munis: pd.DataFrame, plan: Plan, *, level: str = "homecare") -> Worksheet:
    """Add the 人口ピラミッド sheet; a note instead when the population is not the census's (no split by sex)."""
    from geo_app.io.population_sex import load_population_by_sex

    ws = wb.create_sheet(SHEET_NAME)
    by_sex = load_population_by_sex()
    if not describes(by_sex, munis):
        ws["A1"] = (
            "この人口表には男女別の人口がないため、人口ピラミッド（男女別・5歳階級別）は作れません。"
            "男女計の5歳階級別人口は各圏域のシートにあります。"
        )
        ws.column_dimensions["A"].width = 100
        return ws
    table = pyramid_table(by_sex, plan, level)
    last = _write_table(ws, table, level)
    area_rows = table.iloc[: len(table) - table.attrs["prefecture_rows"]]
    known = area_rows.dropna(subset=["total"])
    row = last + 3
    if not known.empty:
        sizes = known.groupby("area", sort=False)["total"].sum()
        largest = str(sizes.idxmax())
        _chart_block(ws, row, table[table["area"] == largest], largest, f"（{LEVEL_JA.get(level, level)}、人口最大）")
        row += _CHART_ROWS + 2
    pref_rows = table.iloc[len(table) - 2 :]
    _chart_block(ws, row, pref_rows, str(pref_rows["area"].iloc[0]))
    return ws


def _write_table(ws: Worksheet, table: pd.DataFrame, level: str) -> int:
    headers = [LEVEL_JA.get(level, "圏域"), "男女", *BAND_LABELS, "年齢不詳", "計", "注記"]
    ws.append(headers)
    r = 1
    for rec in table.itertuples(index=False):
        r += 1
        values: dict[str, Any] = rec._asdict()
        ws.cell(row=r, column=1, value=xlsx_text(str(values["area"])))
        ws.cell(row=r, column=2, value=str(values["sex"]))
        for j, col in enumerate([*PYRAMID_COUNTS, "total"], start=3):
            v = values[col]
            cell = ws.cell(row=r, column=j, value=None if pd.isna(v) else int(v))
            cell.number_format = _COUNT_FORMAT
        if pd.isna(values["total"]):
            ws.cell(row=r, column=len(headers), value=_UNKNOWN_NOTE)
    _style_header(ws, len(headers))
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 10  # also the chart blocks' 男 column: "-123,456" must fit
    for j in range(3, len(headers)):
        ws.column_dimensions[get_column_letter(j)].width = 10
    ws.column_dimensions[get_column_letter(len(headers))].width = 36
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(r, 1)}"
    return r


def _chart_block(ws: Worksheet, top: int, rows: pd.DataFrame, name: str, note: str = "") -> None:
    """Chart data (年齢 | 男 as negative | 女, 0〜4歳 first) at column A from `top`, its bar chart beside it."""
    by_sex = rows.set_index("sex")
    ws.cell(row=top, column=1, value=xlsx_text(f"グラフ: {name}{note}")).font = Font(bold=True)
    ws.cell(
        row=top, column=4, value="男の人口は左に描くため負の数で入れ、表示は正の数にしています。"
    ).alignment = Alignment(wrap_text=False)
    head = top + 1
    for j, text in enumerate(("年齢", *SEXES), start=1):
        ws.cell(row=head, column=j, value=text).font = Font(bold=True)
    for i, band in enumerate(AGE_BANDS):
        r = head + 1 + i
        ws.cell(row=r, column=1, value=BAND_LABELS[i])
        for j, (sex, sign) in enumerate(zip(SEXES, (-1, 1), strict=True), start=2):
            cell = ws.cell(row=r, column=j, value=sign * int(by_sex.at[sex, band]))
            cell.number_format = BOTH_SIDES_FORMAT
    end = head + len(AGE_BANDS)

    chart = BarChart()
    chart.type = "bar"  # horizontal bars; the first category (0〜4歳) at the bottom
    chart.grouping = "clustered"
    chart.overlap = 100  # 男 and 女 of a band on one line, on either side of zero
    chart.gapWidth = 10
    chart.title = xlsx_text(f"{name}の人口ピラミッド（人）")
    chart.y_axis.title = "人口（人）"
    chart.x_axis.title = "年齢"
    chart.y_axis.number_format = BOTH_SIDES_FORMAT
    chart.y_axis.majorGridlines = None
    chart.x_axis.tickLblPos = "low"  # band labels at the left edge, not over the bars
    chart.x_axis.tickLblSkip = 1  # every band labelled
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend.position = "b"
    chart.add_data(Reference(ws, min_col=2, max_col=3, min_row=head, max_row=end), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=head + 1, max_row=end))
    for series, color in zip(chart.series, ("4A7FB5", "D9665B"), strict=True):
        series.graphicalProperties.solidFill = color
        series.graphicalProperties.line.solidFill = color
    chart.height = 12
    chart.width = 16
    ws.add_chart(chart, f"E{top + 1}")
