"""An Excel workbook for the meeting: one sheet per level, municipalities, findings and sources.

Planners sort, filter and paste from these sheets, so numbers are stored as numbers (rates as
percent-formatted fractions), municipality codes as text (Excel would otherwise turn 01100 into
1100) and headers are Japanese.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from geo_app.core.dissolve import SUMMARY_COLUMNS, assign, dissolve
from geo_app.core.metrics import METRICS, header
from geo_app.core.plan import LEVEL_JA, LEVELS, Plan
from geo_app.core.rules import FINDING_HEADERS, Finding, findings_frame
from geo_app.core.tally import total
from geo_app.views.textsafe import xlsx_text

__all__ = ["keep_text", "xlsx_frame", "write_summary_xlsx", "summary_frame", "municipality_frame", "SHEET_NAMES"]

SHEET_NAMES = {**LEVEL_JA, "municipalities": "市町村", "findings": "所見", "sources": "出典"}

_LEVEL_COLUMNS = [*SUMMARY_COLUMNS, "hub", "members"]  # the summary table, then hubs and members
_MUNI_COLUMNS = [
    "code",
    "name",
    "homecare",
    "secondary",
    "tertiary",
    "status",
    "hub",
    *(k for k, m in METRICS.items() if "municipality" in m.levels),
]
#: Cell formats of the columns that are not figures (figures take theirs from the registry).
_TEXT_FORMATS = {"code": "@", "text": "General"}

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
_TOP_RULE = Border(top=Side(style="thin"), bottom=Side(style="double"))


def summary_frame(areas: gpd.GeoDataFrame | pd.DataFrame, japanese: bool = True) -> pd.DataFrame:
    """The table part of an Areas frame (no geometry), in sheet order, headers in Japanese if asked."""
    level = str(areas["level"].iloc[0]) if "level" in areas.columns and len(areas) else "homecare"
    cols = [c for c in _LEVEL_COLUMNS if c in areas.columns]
    if level != "homecare" or ("hub" in cols and areas["hub"].isna().all()):
        cols = [c for c in cols if c != "hub"]
    out = pd.DataFrame(areas[cols]).copy()
    if not japanese:
        return out
    return out.rename(columns={c: header(c, level) for c in cols})


def municipality_frame(
    munis: gpd.GeoDataFrame, plan: Plan, *, assigned: gpd.GeoDataFrame | None = None
) -> pd.DataFrame:
    """One row per municipality of the plan's prefectures, with its three areas (blank if unassigned).

    `assigned`: `assign(munis, plan)` when the caller already has it (`geo-app build` computes it once).
    """
    cols = ["code", "homecare", "secondary", "tertiary", "status", "hub"]
    prefs = set(plan.table["code"].str[:2])
    base = pd.DataFrame(munis.drop(columns="geometry"))
    base = base[base["code"].str[:2].isin(prefs)]
    if assigned is None:
        assigned = assign(munis, plan)
    out = base.merge(pd.DataFrame(assigned[cols]), on="code", how="left")
    out["status"] = out["status"].astype("string").fillna("未割当")
    return out[[c for c in _MUNI_COLUMNS if c in out.columns]].sort_values("code", kind="stable").reset_index(drop=True)


def write_summary_xlsx(
    munis: gpd.GeoDataFrame,
    plan: Plan,
    path: Path | str,
    *,
    findings: Iterable[Finding] | pd.DataFrame | None = None,
    sources: list[str] | None = None,
    areas: Mapping[str, gpd.GeoDataFrame] | None = None,
    assigned: gpd.GeoDataFrame | None = None,
) -> Path:
    """Write 在宅医療圏 / 二次医療圏 / 三次医療圏 / 市町村 / 所見 / 出典 sheets to `path` (.xlsx).

    `findings`: the checks' findings (a list, or a `findings_frame` in either language); None
    writes an empty 所見 sheet, since which rules to run is the caller's choice. `areas` (level →
    Areas) and `assigned` are what `geo-app build` computed once for every file; without them
    this writer dissolves and assigns itself.
    """
    from geo_app.io import datasets

    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    for level in LEVELS:
        level_areas = areas[level] if areas is not None and level in areas else dissolve(munis, plan, level)
        frame = summary_frame(level_areas, japanese=False)
        ws = wb.create_sheet(LEVEL_JA[level])
        total_row: dict[str, Any] = {**total(frame), "area": "合計"}
        _write_frame(ws, frame, level=level, total=total_row)

    mf = municipality_frame(munis, plan, assigned=assigned)
    _write_frame(wb.create_sheet(SHEET_NAMES["municipalities"]), mf, level="homecare")

    _write_findings(wb.create_sheet(SHEET_NAMES["findings"]), findings)

    ws = wb.create_sheet(SHEET_NAMES["sources"])
    rows: list[tuple[str, str]] = [("区域案", plan.name or "（名前なし）"), ("データ時点", datasets.VINTAGE)]
    rows += [("出典", c) for c in datasets.CREDITS]
    rows += [("出典", str(s)) for s in (sources or [])]
    rows.append(("作成日時", datetime.now().strftime("%Y-%m-%d %H:%M")))
    rows += [("注記", f"{m.label} = {m.note}") for m in METRICS.values() if m.note]
    ws.append(["項目", "内容"])
    for key, value in rows:
        ws.append([xlsx_text(key), xlsx_text(value)])
    _style_header(ws, 2)
    ws.column_dimensions["A"].width = 12
    ws.column_dimensions["B"].width = 110
    for row in ws.iter_rows(min_row=2):
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"

    path.parent.mkdir(parents=True, exist_ok=True)
    for sheet in wb.worksheets:
        keep_text(sheet)
    wb.save(path)
    return path


# ---- helpers ----------------------------------------------------------------------------------
def _kind(col: str) -> str:
    """A registry key for figures, else "code" (text Excel must not turn into a number) or "text"."""
    if col in METRICS:
        return col
    return "code" if col in ("code", "codes", FINDING_HEADERS["codes"]) else "text"


def _number_format(kind: str) -> str:
    return METRICS[kind].excel_format if kind in METRICS else _TEXT_FORMATS[kind]


def _cell_value(value: Any, kind: str) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if kind in METRICS:
        return int(value) if METRICS[kind].kind == "count" else float(value)
    if kind == "code":
        return str(value)
    if isinstance(value, list | tuple | set | np.ndarray):
        return "、".join(map(str, value))
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value if isinstance(value, int | float) else xlsx_text(str(value))


def _display_width(value: Any, kind: str) -> int:
    """Width of the cell as Excel shows it (its registry format), in half-width characters."""
    if value is None:
        return 0
    text = METRICS[kind].format(value, unit=False) if kind in METRICS else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _style_header(ws: Worksheet, ncols: int) -> None:
    for c in range(1, ncols + 1):
        cell = ws.cell(row=1, column=c)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _write_rows(
    ws: Worksheet, columns: list[str], headers: list[str], kinds: list[str], rows: Iterable[Iterable[Any]]
) -> int:
    """Append header and rows with typed cells; return the last data row number."""
    ws.append(headers)
    widths = [_display_width(h, "text") for h in headers]
    r = 1
    for values in rows:
        r += 1
        for j, (v, kind) in enumerate(zip(values, kinds, strict=True), start=1):
            value = _cell_value(v, kind)
            cell = ws.cell(row=r, column=j, value=value)
            cell.number_format = _number_format(kind)
            if kind == "code":
                cell.data_type = "s"
            widths[j - 1] = max(widths[j - 1], _display_width(value, kind))
    _style_header(ws, len(headers))
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(max(w + 2, 8), 60)
    return r


def _write_frame(ws: Worksheet, frame: pd.DataFrame, *, level: str, total: dict[str, Any] | None = None) -> None:
    columns = list(frame.columns)
    headers = [header(c, level) for c in columns]
    kinds = [_kind(c) for c in columns]
    last = _write_rows(ws, columns, headers, kinds, frame.itertuples(index=False, name=None))
    ncols = len(columns)
    ws.auto_filter.ref = f"A1:{get_column_letter(ncols)}{max(last, 1)}"
    ws.freeze_panes = "B2"
    if total is not None:
        r = last + 1
        for j, (c, kind) in enumerate(zip(columns, kinds, strict=True), start=1):
            cell = ws.cell(row=r, column=j, value=_cell_value(total.get(c), kind))
            cell.number_format = _number_format(kind)
            cell.font = _HEADER_FONT
            cell.fill = _TOTAL_FILL
            cell.border = _TOP_RULE
    if "members" in columns:  # long lists: wrap instead of a 60-char-wide column pushing the numbers away
        j = columns.index("members") + 1
        ws.column_dimensions[get_column_letter(j)].width = 60
        for row in ws.iter_rows(min_row=2, min_col=j, max_col=j):
            row[0].alignment = Alignment(wrap_text=True, vertical="top")


def keep_text(ws: Worksheet) -> None:
    """openpyxl stores any string starting with "=" as a formula; we never write formulas, so a
    user's name such as `=HYPERLINK(...)` is turned back into plain text."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


def xlsx_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame whose text cells an xlsx can hold (see `textsafe.xlsx_text`), for pandas' writer."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or isinstance(out[col].dtype, pd.StringDtype):
            out[col] = out[col].map(xlsx_text, na_action="ignore")
    return out


def _write_findings(ws: Worksheet, findings: Iterable[Finding] | pd.DataFrame | None) -> None:
    """The one findings table (`rules.findings_frame`, Japanese), whatever form it was handed in."""
    frame = findings_frame([] if findings is None else findings, japanese=True)
    columns = [str(c) for c in frame.columns]
    kinds = [_kind(c) for c in columns]
    last = _write_rows(ws, columns, columns, kinds, frame.itertuples(index=False, name=None))
    message = FINDING_HEADERS["message"]
    j = columns.index(message) + 1
    ws.column_dimensions[get_column_letter(j)].width = 80
    for row in ws.iter_rows(min_row=2, min_col=j, max_col=j):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(last, 1)}"
    ws.freeze_panes = "A2"
