"""An Excel workbook for the meeting: one sheet per level, municipalities, findings and sources.

Planners sort, filter and paste from these sheets, so numbers are stored as numbers (rates as
percent-formatted fractions), municipality codes as text (Excel would otherwise turn 01100 into
1100) and headers are Japanese.
"""
from __future__ import annotations

import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from geo_app.core.dissolve import assign, dissolve
from geo_app.core.plan import LEVEL_JA, LEVELS, Plan
from geo_app.views.textsafe import xlsx_text
from geo_app.core.rules import SEVERITY_JA

__all__ = ["keep_text", "xlsx_frame", "write_summary_xlsx", "summary_frame", "municipality_frame", "SHEET_NAMES", "FINDING_COLUMNS"]

SHEET_NAMES = {**LEVEL_JA, "municipalities": "市町村", "findings": "所見", "sources": "出典"}

#: English column → (Japanese header, kind). Kinds decide the cell format.
_COLUMNS: dict[str, tuple[str, str]] = {
    "area": ("圏域名", "text"),
    "code": ("市町村コード", "code"),
    "name": ("市町村名", "text"),
    "homecare": ("在宅医療圏", "text"),
    "secondary": ("二次医療圏", "text"),
    "tertiary": ("三次医療圏", "text"),
    "municipalities": ("市町村数", "int"),
    "population": ("人口", "int"),
    "age_0_14": ("0〜14歳", "int"),
    "age_15_64": ("15〜64歳", "int"),
    "age_65_plus": ("65歳以上", "int"),
    "age_75_plus": ("75歳以上", "int"),
    "age_85_plus": ("85歳以上", "int"),
    "age_unknown": ("年齢不詳", "int"),
    "aging_rate": ("高齢化率", "pct"),
    "share_75_plus": ("75歳以上割合", "pct"),
    "area_km2": ("面積（km²）", "float"),
    "density": ("人口密度（人/km²）", "float"),
    "status": ("状態", "text"),
    "hub": ("在宅医療連携拠点", "text"),
    "members": ("構成市町村", "text"),
}
_PARENT_JA = {"homecare": "二次医療圏", "secondary": "三次医療圏", "tertiary": "都道府県"}
_LEVEL_COLUMNS = [
    "area", "parent", "municipalities", "population", "age_0_14", "age_15_64", "age_65_plus", "age_75_plus",
    "age_85_plus", "age_unknown", "aging_rate", "share_75_plus", "area_km2", "density", "status", "hub", "members",
]
_MUNI_COLUMNS = [
    "code", "name", "homecare", "secondary", "tertiary", "status", "hub", "population", "age_0_14", "age_15_64",
    "age_65_plus", "age_75_plus", "age_85_plus", "age_unknown", "aging_rate", "share_75_plus", "area_km2", "density",
]
_COUNTS = ["municipalities", "population", "age_0_14", "age_15_64", "age_65_plus", "age_75_plus", "age_85_plus", "age_unknown"]

#: Findings columns (from the checks), with Japanese headers; extra columns are written as they come.
FINDING_COLUMNS = {
    "rule": "ルール", "severity": "重要度", "title": "項目", "level": "単位", "area": "圏域",
    "codes": "市町村コード", "names": "市町村名", "message": "内容",
}
_NUMBER_FORMATS = {"int": "#,##0", "pct": "0.0%", "float": "#,##0.0", "code": "@", "text": "General"}

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
    return out.rename(columns={c: _header(c, level) for c in cols})


def municipality_frame(munis: gpd.GeoDataFrame, plan: Plan) -> pd.DataFrame:
    """One row per municipality of the plan's prefectures, with its three areas (blank if unassigned)."""
    cols = ["code", "homecare", "secondary", "tertiary", "status", "hub"]
    prefs = set(plan.table["code"].str[:2])
    base = pd.DataFrame(munis.drop(columns="geometry"))
    base = base[base["code"].str[:2].isin(prefs)]
    assigned = assign(munis, plan)
    out = base.merge(pd.DataFrame(assigned[cols]), on="code", how="left")
    out["status"] = out["status"].astype("string").fillna("未割当")
    return out[[c for c in _MUNI_COLUMNS if c in out.columns]].sort_values("code", kind="stable").reset_index(drop=True)


def write_summary_xlsx(
    munis: gpd.GeoDataFrame,
    plan: Plan,
    path: Path | str,
    *,
    findings: pd.DataFrame | None = None,
    sources: list[str] | None = None,
) -> Path:
    """Write 在宅医療圏 / 二次医療圏 / 三次医療圏 / 市町村 / 所見 / 出典 sheets to `path` (.xlsx)."""
    from geo_app.io import datasets

    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    for level in LEVELS:
        areas = dissolve(munis, plan, level)
        frame = summary_frame(areas, japanese=False)
        ws = wb.create_sheet(LEVEL_JA[level])
        total = _total_row(frame, level)
        _write_frame(ws, frame, level=level, total=total)

    mf = municipality_frame(munis, plan)
    _write_frame(wb.create_sheet(SHEET_NAMES["municipalities"]), mf, level="homecare")

    _write_findings(wb.create_sheet(SHEET_NAMES["findings"]), findings)

    ws = wb.create_sheet(SHEET_NAMES["sources"])
    rows: list[tuple[str, str]] = [("区域案", plan.name or "（名前なし）"), ("データ時点", datasets.VINTAGE)]
    rows += [("出典", c) for c in datasets.CREDITS]
    rows += [("出典", str(s)) for s in (sources or [])]
    rows.append(("作成日時", datetime.now().strftime("%Y-%m-%d %H:%M")))
    rows.append(("注記", "高齢化率 = 65歳以上 ÷（人口 − 年齢不詳）。国勢調査の算出方法に合わせています。"))
    ws.append(["項目", "内容"])
    rows = [tuple(xlsx_text(v) for v in r) for r in rows]
    for r in rows:
        ws.append(list(r))
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
def _header(col: str, level: str) -> str:
    if col == "parent":
        return _PARENT_JA.get(level, "上位圏域")
    if col == "area":
        return f"{LEVEL_JA.get(level, '圏域')}名"
    return _COLUMNS.get(col, (col, "text"))[0]


def _kind(col: str) -> str:
    return _COLUMNS.get(col, (col, "text"))[1]


def _total_row(frame: pd.DataFrame, level: str) -> dict[str, Any]:
    """Sums of counts and area, rates recomputed from the sums (not averaged); unknown if any area is."""
    from geo_app.views.text import with_total

    return with_total(frame).iloc[-1].to_dict()


def _cell_value(value: Any, kind: str) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if kind == "code":
        return str(value)
    if kind == "int":
        return int(value)
    if kind in ("pct", "float"):
        return float(value)
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return "、".join(map(str, value))
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    return value if isinstance(value, (int, float)) else xlsx_text(str(value))


def _display_width(value: Any, kind: str) -> int:
    if value is None:
        return 0
    if kind == "int":
        text = f"{value:,}"
    elif kind == "pct":
        text = f"{value:.1%}"
    elif kind == "float":
        text = f"{value:,.1f}"
    else:
        text = str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _style_header(ws: Worksheet, ncols: int) -> None:
    for c in range(1, ncols + 1):
        cell = ws.cell(row=1, column=c)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _write_rows(ws: Worksheet, columns: list[str], headers: list[str], kinds: list[str], rows: Iterable[Iterable[Any]]) -> int:
    """Append header and rows with typed cells; return the last data row number."""
    ws.append(headers)
    widths = [_display_width(h, "text") for h in headers]
    r = 1
    for values in rows:
        r += 1
        for j, (v, kind) in enumerate(zip(values, kinds), start=1):
            value = _cell_value(v, kind)
            cell = ws.cell(row=r, column=j, value=value)
            cell.number_format = _NUMBER_FORMATS[kind]
            if kind == "code":
                cell.data_type = "s"
            widths[j - 1] = max(widths[j - 1], _display_width(value, kind))
    _style_header(ws, len(headers))
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(max(w + 2, 8), 60)
    return r


def _write_frame(ws: Worksheet, frame: pd.DataFrame, *, level: str, total: dict[str, Any] | None = None) -> None:
    columns = list(frame.columns)
    headers = [_header(c, level) for c in columns]
    kinds = [_kind(c) for c in columns]
    last = _write_rows(ws, columns, headers, kinds, frame.itertuples(index=False, name=None))
    ncols = len(columns)
    ws.auto_filter.ref = f"A1:{get_column_letter(ncols)}{max(last, 1)}"
    ws.freeze_panes = "B2"
    if total is not None:
        r = last + 1
        for j, (c, kind) in enumerate(zip(columns, kinds), start=1):
            cell = ws.cell(row=r, column=j, value=_cell_value(total.get(c), kind))
            cell.number_format = _NUMBER_FORMATS[kind]
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


def _write_findings(ws: Worksheet, findings: pd.DataFrame | None) -> None:
    """Whatever frame the checks produced; known columns get Japanese headers, codes stay text."""
    if findings is None:
        findings = pd.DataFrame(columns=list(FINDING_COLUMNS))
    frame = pd.DataFrame(findings).copy()
    if "severity" in frame.columns:
        frame["severity"] = frame["severity"].map(lambda s: SEVERITY_JA.get(str(s), s) if pd.notna(s) else s)
    for col in frame.columns:  # list-valued cells (codes, names) → one text
        frame[col] = frame[col].map(lambda v: "、".join(map(str, v)) if isinstance(v, (list, tuple, set, np.ndarray)) else v)
    columns = [str(c) for c in frame.columns]
    headers = [FINDING_COLUMNS.get(c, c) for c in columns]
    kinds = []
    for c in frame.columns:
        if c == "codes":
            kinds.append("code")
        elif pd.api.types.is_integer_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]):
            kinds.append("text" if pd.api.types.is_bool_dtype(frame[c]) else "int")
        elif pd.api.types.is_float_dtype(frame[c]):
            kinds.append("float")
        else:
            kinds.append("text")
    last = _write_rows(ws, columns, headers, kinds, frame.itertuples(index=False, name=None))
    if "message" in columns:
        j = columns.index("message") + 1
        ws.column_dimensions[get_column_letter(j)].width = 80
        for row in ws.iter_rows(min_row=2, min_col=j, max_col=j):
            row[0].alignment = Alignment(wrap_text=True, vertical="top")
    if columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(last, 1)}"
    ws.freeze_panes = "A2"
