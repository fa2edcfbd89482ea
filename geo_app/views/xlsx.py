"""An Excel workbook for the meeting: one sheet per level, future figures, municipalities, findings and sources.

Planners sort, filter and paste from these sheets, so numbers are stored as numbers (rates as
percent-formatted fractions), municipality codes as text (Excel would otherwise turn 01100 into
1100) and headers are Japanese. They also print them for the 協議の場: every column is as wide as
its widest cell as displayed (the 合計 row included, so no ####), and every sheet prints A4
landscape, one page wide, with the header row on each page and the plan's title in the footer.
The 将来推計 sheets (every future figure of the registry per area, year by year) are too wide for
that: they print three pages wide, headers on up to four lines, the area names on each page.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet

from geo_app.core.demand import CARE_WEIGHTS, MEDICAL_WEIGHTS
from geo_app.core.dissolve import SUMMARY_COLUMNS, assign, dissolve
from geo_app.core.hubs import HUB_AREA_COLUMNS, HUB_EXPORT_LABELS, add_hub_columns
from geo_app.core.metrics import FUTURE_COLUMNS, FUTURE_KEYS, METRICS, SUPPLY_KEYS, header
from geo_app.core.plan import LEVEL_JA, LEVELS, Plan
from geo_app.core.rules import FINDING_HEADERS, RULES, Finding, findings_frame
from geo_app.core.tally import total
from geo_app.views.text import display_width
from geo_app.views.textsafe import terminal_text, xlsx_text

__all__ = [
    "keep_text",
    "xlsx_frame",
    "write_summary_xlsx",
    "summary_frame",
    "municipality_frame",
    "SHEET_NAMES",
    "footer_text",
    "print_setup",
    "FUTURE_SHEETS",
    "SUPPLY_SHEETS",
    "future_columns",
    "future_note",
]

SHEET_NAMES = {**LEVEL_JA, "municipalities": "市町村", "findings": "所見", "sources": "出典"}
#: The 将来推計 sheets, after the level sheets: home-care areas (the areas being designed for 2040),
#: then the secondary areas they nest in, each a table of its own that sorts and filters.
FUTURE_SHEETS = {"homecare": "将来推計", "secondary": "将来推計（二次医療圏）"}
SUPPLY_SHEETS = {"homecare": "供給", "secondary": "供給（二次医療圏）"}
#: 41 figures of 33 areas: one page wide would print them at a third of their size, two at under half
#: (5 pt); three at about 70%, each page a few whole figures and still one page tall.
_FUTURE_PAGES_WIDE = 3
_FUTURE_HEADER_LINES = 4  # 「医療需要指数（2040年、2020年=100）」 over a column as narrow as its figures

_LEVEL_COLUMNS = [*SUMMARY_COLUMNS, "hub", "members"]  # the summary table, then hubs and members
_MUNI_COLUMNS = [
    "code",
    "name",
    "homecare",
    "secondary",
    "tertiary",
    "status",
    "hub",
    *(k for k, m in METRICS.items() if "municipality" in m.levels and k not in FUTURE_KEYS),
]
#: Cell formats of the columns that are not figures (figures take theirs from the registry); a hub's
#: point to 4 decimals (about 10 m), the value itself kept whole.
_TEXT_FORMATS = {"code": "@", "text": "General", "degrees": "0.0000"}
#: The hub's columns on the 在宅医療圏 and 市町村 sheets: name, 位置の根拠, 緯度, 経度 (the facility id is
#: the plan's business: its own 区域表 carries it; here it would only push the figures into a smaller print).
_HUB_SHEET_COLUMNS = ("hub", "hub_located_by", "hub_lat", "hub_lon")

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
_TOP_RULE = Border(top=Side(style="thin"), bottom=Side(style="double"))
#: Level keys a findings table may carry, as the 所見 sheet names them.
_LEVEL_NAMES = {**LEVEL_JA, "municipality": "市町村", "prefecture": "都道府県"}
#: Widest a list column (構成市町村, 拠点, 説明 …) gets before it wraps, in character widths.
_WRAP_WIDTH = {"members": 36, "hub": 18, FINDING_HEADERS["message"]: 60}
_LIST_WIDTH = 30  # other text columns wider than this wrap too (a finding's codes and names)
#: Column width = displayed width × slack + padding: the bold 合計 row and LibreOffice's
#: substitute for Calibri (wider digits) must still fit, or numbers turn into ####.
_WIDTH_SLACK, _WIDTH_PAD = 1.15, 2
_FOOTER_TITLE_LIMIT = 80  # characters: Excel refuses a header/footer over 255
_LINE_HEIGHT = 15.0  # points per line of 11 pt text, Excel's own row height for it
_TOP = Alignment(vertical="top")  # a row taller for a wrapped list reads from its top


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
    hubs: pd.DataFrame | None = None,
) -> Path:
    """Write 在宅医療圏 / 二次医療圏 / 三次医療圏 / 将来推計 (home-care and secondary areas) / 市町村 /
    所見 / 人口ピラミッド / 出典 sheets to `path` (.xlsx).

    The 在宅医療圏 and 市町村 sheets carry each home-care area's hub: its name, facility id, 位置の根拠
    (施設 / 地点 / 不明) and the point drawn (緯度・経度 as numbers; empty when unknown). `hubs`:
    `core.hubs.hub_points` when the caller has it, else looked up here (`io.plans.plan_hub_points`).

    `findings`: the checks' findings (a list, or a `findings_frame` in either language); None
    writes an empty 所見 sheet, since which rules to run is the caller's choice. `areas` (level →
    Areas) and `assigned` are what `geo-app build` computed once for every file; without them
    this writer dissolves and assigns itself.
    """
    from geo_app.io.plans import plan_hub_points
    from geo_app.io.provenance import credits

    path = Path(path)
    if hubs is None:
        hubs = plan_hub_points(plan)
    wb = Workbook()
    wb.remove(wb.active)
    level_frames: dict[str, gpd.GeoDataFrame] = {}
    for level in LEVELS:
        level_areas = areas[level] if areas is not None and level in areas else dissolve(munis, plan, level)
        frame = summary_frame(level_areas, japanese=False)
        if level == "homecare":
            frame = _sheet_hubs(add_hub_columns(frame, hubs, "area"))
        ws = wb.create_sheet(LEVEL_JA[level])
        total_row: dict[str, Any] = {**total(frame), "area": "合計"}
        _write_frame(ws, frame, level=level, total=total_row)
        level_frames[level] = level_areas
    for future_level, name in FUTURE_SHEETS.items():
        _write_future(wb.create_sheet(name), level_frames[future_level], future_level)
    for supply_level, name in SUPPLY_SHEETS.items():
        _write_supply(wb.create_sheet(name), level_frames[supply_level], supply_level)

    mf = _sheet_hubs(add_hub_columns(municipality_frame(munis, plan, assigned=assigned), hubs, "homecare"))
    _write_frame(wb.create_sheet(SHEET_NAMES["municipalities"]), mf, level="homecare")

    _write_findings(wb.create_sheet(SHEET_NAMES["findings"]), findings)
    from geo_app.views.xlsx_pyramid import write_pyramid_sheet  # imports this module's helpers

    write_pyramid_sheet(wb, munis, plan)

    ws = wb.create_sheet(SHEET_NAMES["sources"])
    used = credits(munis, plan)  # exactly the inputs behind these figures
    rows: list[tuple[str, str]] = [("区域案", plan.title), ("データ時点", used.vintage)]
    rows += [("出典", c) for c in used.lines]
    rows += [("出典", str(s)) for s in (sources or [])]
    rows.append(("作成日時", datetime.now().strftime("%Y-%m-%d %H:%M")))
    rows += [("注記", note) for note in _metric_notes()]
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
    title = str(getattr(plan, "title", plan.name) or "")
    for sheet in wb.worksheets:
        keep_text(sheet)
        print_setup(sheet, title)
    for name in FUTURE_SHEETS.values():
        _future_print_setup(wb[name])
    wb.save(path)
    return path


# ---- helpers ----------------------------------------------------------------------------------
def _sheet_hubs(frame: pd.DataFrame) -> pd.DataFrame:
    """The hub columns a sheet shows (_HUB_SHEET_COLUMNS), the others of `add_hub_columns` left out."""
    return frame.drop(columns=[c for c in HUB_AREA_COLUMNS if c in frame.columns and c not in _HUB_SHEET_COLUMNS])


def _kind(col: str) -> str:
    """A registry key for figures, else "code" (text Excel must not turn into a number), "degrees" (a
    hub's point) or "text"."""
    if col in METRICS:
        return col
    if col in ("hub_lat", "hub_lon"):
        return "degrees"
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


def _display_text(value: Any, kind: str) -> str:
    """The cell as Excel shows it under its number format (the registry's, for figures)."""
    if value is None:
        return ""
    if kind == "degrees" and isinstance(value, int | float):
        return f"{value:.4f}"
    return METRICS[kind].format(value, unit=False) if kind in METRICS else str(value)


def _display_width(value: Any, kind: str) -> int:
    """Width of the cell as Excel shows it, in half-width characters (Japanese counts 2)."""
    return display_width(_display_text(value, kind), ambiguous=2)


def _header_width(text: str, lines: int = 2) -> int:
    """Width a header needs on at most `lines` lines (headers wrap): its share of a line, plus one
    full-width character since a line breaks between characters, not mid-way; no Latin word cut."""
    words = re.findall(r"[\x21-\x7e]+", text)
    return max([math.ceil(display_width(text, ambiguous=2) / lines) + 2, *(len(w) for w in words)])


def _lines(text: str, width: float) -> int:
    """Lines a wrapped cell takes in a column `width` wide: characters laid out one by one, as
    Japanese text breaks between any two; a full-width character is a little over 2 widths."""
    lines, used, room = 1, 0.0, max(width - 1, 2.2)
    for ch in text:
        w = 2.1 if unicodedata.east_asian_width(ch) in "WFA" else 1.0
        if ch == "\n" or used + w > room:
            lines, used = lines + 1, 0.0 if ch == "\n" else w
        else:
            used += w
    return lines


def _style_header(ws: Worksheet, ncols: int) -> None:
    for c in range(1, ncols + 1):
        cell = ws.cell(row=1, column=c)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _write_rows(
    ws: Worksheet,
    columns: list[str],
    headers: list[str],
    kinds: list[str],
    rows: Iterable[Iterable[Any]],
    *,
    total: Sequence[Any] | None = None,
    header_lines: int = 2,
) -> int:
    """Append header, rows and the bold `total` row with typed cells, then fit the columns to them
    (headers on at most `header_lines` lines).

    Returns the last data row number (the total row not counted: the filter stops above it).
    """
    ws.append(headers)
    r = 1
    for values in rows:
        r += 1
        for j, (v, kind) in enumerate(zip(values, kinds, strict=True), start=1):
            cell = ws.cell(row=r, column=j, value=_cell_value(v, kind))
            cell.number_format = _number_format(kind)
            cell.alignment = _TOP
            if kind == "code":
                cell.data_type = "s"
    last = r
    if total is not None:
        for j, (v, kind) in enumerate(zip(total, kinds, strict=True), start=1):
            cell = ws.cell(row=last + 1, column=j, value=_cell_value(v, kind))
            cell.number_format = _number_format(kind)
            cell.font = _HEADER_FONT
            cell.fill = _TOTAL_FILL
            cell.border = _TOP_RULE
    _style_header(ws, len(headers))
    _fit_columns(ws, columns, headers, kinds, header_lines=header_lines)
    return last


def _fit_columns(
    ws: Worksheet, columns: list[str], headers: list[str], kinds: list[str], *, header_lines: int = 2
) -> None:
    """Each column as wide as its widest displayed cell; list columns (members …) wrap instead.

    A number wider than its column shows as #### (the 合計 row is the widest), so figures are
    never cut; headers may take two lines (or `header_lines`), which keeps the table narrow
    enough to print.
    """
    two_lines = False
    header_height = 1
    lines = [1] * (ws.max_row + 1)  # per row: the most lines a wrapped cell of it takes
    for j, (col, head, kind) in enumerate(zip(columns, headers, kinds, strict=True), start=1):
        cells = next(ws.iter_cols(min_col=j, max_col=j, min_row=2)) if ws.max_row > 1 else ()
        data = max((_display_width(c.value, kind) for c in cells), default=0)
        need = max(data, _header_width(head, header_lines))
        wrap = None if kind in METRICS else _WRAP_WIDTH.get(col, _LIST_WIDTH)
        if wrap is not None and data > wrap:
            need = max(wrap, _header_width(head, header_lines))
        width = math.ceil(need * _WIDTH_SLACK) + _WIDTH_PAD
        if wrap is not None and data > wrap:
            for c in cells:
                c.alignment = Alignment(wrap_text=True, vertical="top")
                lines[c.row] = max(lines[c.row], _lines(_display_text(c.value, kind), width))
        ws.column_dimensions[get_column_letter(j)].width = width
        two_lines = two_lines or display_width(head, ambiguous=2) > width - _WIDTH_PAD
        header_height = max(header_height, _lines(head, width))
    # Heights are set, not left to the reader: neither Excel nor LibreOffice grows a row for
    # wrapped text it did not type itself, and a cut list of members reads as a shorter one.
    if header_lines > 2:
        ws.row_dimensions[1].height = header_height * _LINE_HEIGHT
    elif two_lines:
        ws.row_dimensions[1].height = 2 * _LINE_HEIGHT
    for r, n in enumerate(lines):
        if n > 1:
            ws.row_dimensions[r].height = n * _LINE_HEIGHT


def _write_frame(ws: Worksheet, frame: pd.DataFrame, *, level: str, total: dict[str, Any] | None = None) -> None:
    columns = list(frame.columns)
    headers = [HUB_EXPORT_LABELS[c] if c in HUB_EXPORT_LABELS else header(c, level) for c in columns]
    kinds = [_kind(c) for c in columns]
    total_row = None if total is None else [total.get(c) for c in columns]
    last = _write_rows(ws, columns, headers, kinds, frame.itertuples(index=False, name=None), total=total_row)
    ncols = len(columns)
    ws.auto_filter.ref = f"A1:{get_column_letter(ncols)}{max(last, 1)}"
    ws.freeze_panes = "B2"


def future_columns(columns: Iterable[str]) -> list[str]:
    """The registry's listed future figures among `columns`, one figure after another, each year by
    year (人口 2020…2050, then 65歳以上 …): a row reads as a trend, and a printed page holds whole
    figures. The figures keep the order in which the registry first lists them."""
    have = set(columns)
    keys = [k for k in FUTURE_COLUMNS if k in have]
    stems = list(dict.fromkeys(_stem(k) for k in keys))
    return sorted(keys, key=lambda k: (stems.index(_stem(k)), k))


def _stem(key: str) -> str:
    """`population_index_2040` → `population_index`: the figure without its year."""
    return re.sub(r"_\d{4}$", "", key)


def _weights_text(weights: Mapping[str, int]) -> str:
    """JMAP's weights as published (core.demand keeps them ×10): 「0〜14歳 ×0.6、…、75歳以上 ×3.9」."""

    def group(key: str) -> str:
        parts = key.split("_")[1:]
        return f"{parts[0]}歳以上" if parts[-1] == "plus" else f"{parts[0]}〜{parts[1]}歳"

    return "、".join(f"{group(k)} ×{w / 10:.1f}" for k, w in weights.items())


def future_note() -> list[str]:
    """Lines under a 将来推計 table: which edition each figure comes from, and the demand weights.

    The editions' names are those credited on the 出典 sheet (io.projections); the weights are the
    ones the figures were computed with (core.demand), so the note cannot drift from either. Each
    line is short enough to print whole on the first page of the sheet.
    """
    from geo_app.io.projections import IPSS_2018, IPSS_2023

    return [
        f"注：人口・65歳以上・高齢化率・人口（2020年=100）は{IPSS_2023.vintage}。",
        f"75歳以上と医療・介護需要指数は{IPSS_2018.vintage}の年齢階級別人口から。",
        "（2023年推計には75歳以上と5歳階級の表がないため。2つの推計の数値を合算・混用はしていません。）",
        "需要指数：年齢階級別人口に日本医師会 JMAP（地域医療情報システム）の重みを掛けた和の、2020年に対する比 × 100。",
        f"　医療需要の重み：{_weights_text(MEDICAL_WEIGHTS)}。",
        f"　介護需要の重み：{_weights_text(CARE_WEIGHTS)}。",
        "推計のない市町村（福島県浜通りの13市町村など）を含む圏域の値と、その合計は空欄（不明）です。",
    ]


def _write_future(ws: Worksheet, areas: pd.DataFrame, level: str) -> None:
    """A 将来推計 sheet: per area every listed future figure, and the note on editions and weights."""
    figures = future_columns(areas.columns)
    if not figures:
        ws["A1"] = "将来推計人口が読み込まれていないため、この表はありません。"
        ws.column_dimensions["A"].width = 80
        return
    _write_figures(ws, areas, level, figures, future_note())


def supply_note() -> list[str]:
    """Lines under a 供給 table: each count's source and date (io.facilities, as on the 出典 sheet)."""
    from geo_app.io.facilities import sources

    return [
        *(f"{s.role}：{s.vintage}。" for s in sources()),
        "在宅療養支援診療所・病院は北海道のみ（ほかの都府県は空欄＝不明。0ではありません）。",
        "75歳以上千人あたり：いまは人口表の75歳以上、2040年は2018年推計の75歳以上で割っています。",
    ]


def _write_supply(ws: Worksheet, areas: pd.DataFrame, level: str) -> None:
    """A 供給 sheet: per area the facility counts and their ratios to people aged 75+, with sources."""
    figures = [k for k in SUPPLY_KEYS if k in areas.columns]
    if not figures:
        ws["A1"] = "施設の数が読み込まれていないため、この表はありません。"
        ws.column_dimensions["A"].width = 80
        return
    _write_figures(ws, areas, level, figures, supply_note())


def _write_figures(ws: Worksheet, areas: pd.DataFrame, level: str, figures: list[str], note: list[str]) -> None:
    """Per area the registry `figures` (headers and formats), the 合計 by `tally.total` (unknown stays
    empty) and the `note` lines below it."""
    columns = [c for c in ("area", "parent") if c in areas.columns] + figures
    frame = pd.DataFrame(areas[columns])
    total_row: dict[str, Any] = {**total(areas), "area": "合計"}  # all of `areas`: ratios need the weights
    headers = [header(c, level) for c in columns]
    kinds = [_kind(c) for c in columns]
    last = _write_rows(
        ws,
        columns,
        headers,
        kinds,
        frame.itertuples(index=False, name=None),
        total=[total_row.get(c) for c in columns],
        header_lines=_FUTURE_HEADER_LINES,
    )
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(last, 1)}"
    ws.freeze_panes = "B2"
    # Below the 合計, one short line per row, not wrapped: each reads across the empty cells to its
    # right on the first printed page. Column B, not A: A is printed again on every page, which
    # would repeat each line's first words there, cut.
    for i, line in enumerate(note):
        ws.cell(row=last + 3 + i, column=2, value=xlsx_text(line))


def _future_print_setup(ws: Worksheet) -> None:
    """As `print_setup`, but `_FUTURE_PAGES_WIDE` pages wide, with the area names (column A) on each."""
    if ws.max_column < 3:
        return
    ws.page_setup.fitToWidth = _FUTURE_PAGES_WIDE
    ws.print_title_cols = "A:A"


def _metric_notes() -> list[str]:
    """The registry's notes on how a figure is computed, once per note: the future figures of every
    year share theirs, listed as 「高齢化率（2025〜2050年推計） = …」, not six times."""
    groups: dict[str, list[str]] = {}
    for key, m in METRICS.items():
        if m.note:
            groups.setdefault(m.note, []).append(key)
    out = []
    for note, keys in groups.items():
        label = METRICS[keys[0]].label
        years = [k[-4:] for k in keys if re.search(r"_\d{4}$", k)]
        if len(keys) > 1 and len(years) == len(keys):
            label = label.replace(years[0], f"{years[0]}〜{years[-1]}", 1)
        out.append(f"{label} = {note}")
    return out


def footer_text(text: str, limit: int = _FOOTER_TITLE_LIMIT) -> str:
    """User text for an Excel header/footer, shown as typed and never read as a code.

    There `&` starts a code (&P page, &N pages, &"font", &14 size), so every `&` is doubled;
    control and bidi characters are shown visibly on one line (`terminal_text`), long text is
    cut to `limit` characters. openpyxl turns `&[Page]` into `&P`, which would make `&&[Page]`
    print as "&P": a zero-width space after the doubled `&` keeps such text as it was typed.
    """
    flat = terminal_text(text)
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return re.sub(r"&(?=\[)", "&\u200b", flat.replace("&", "&&"))


def print_setup(ws: Worksheet, title: str) -> None:
    """Print as a 協議の場 needs: A4 landscape, one page wide (as many pages tall as it takes),
    the header row on every page, gridlines, and a footer with the plan title, sheet and page."""
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # 0: no limit on the number of pages down
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.6, header=0.3, footer=0.3)
    ws.print_options.horizontalCentered = True
    ws.print_options.gridLines = True
    if ws.max_row > 1:
        ws.print_title_rows = "1:1"
    ws.oddFooter.left.text = footer_text(title)
    ws.oddFooter.center.text = "&A"  # the sheet's name
    ws.oddFooter.right.text = "ページ &P / &N"
    for part in (ws.oddFooter.left, ws.oddFooter.center, ws.oddFooter.right):
        part.size = 9


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
    """The one findings table (`rules.findings_frame`, Japanese), whatever form it was handed in,
    in words a reader of the printout knows: the rule by its Japanese title (not `multipart`),
    the level as 在宅医療圏 (not `homecare`), so the 項目 column, now the same as ルール, is left out."""
    frame = findings_frame([] if findings is None else findings, japanese=True)
    rule, title, level = FINDING_HEADERS["rule"], FINDING_HEADERS["title"], FINDING_HEADERS["level"]
    registered = frame[rule].map(lambda r: RULES[r].title if r in RULES else pd.NA, na_action="ignore")
    frame[rule] = frame[title].fillna(registered.astype("string")).fillna(frame[rule])
    frame[level] = frame[level].map(lambda v: _LEVEL_NAMES.get(v, v), na_action="ignore")
    frame = frame.drop(columns=title)
    columns = [str(c) for c in frame.columns]
    kinds = [_kind(c) for c in columns]
    last = _write_rows(ws, columns, columns, kinds, frame.itertuples(index=False, name=None))
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(last, 1)}"
    ws.freeze_panes = "A2"
