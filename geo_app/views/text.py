"""Tabular views of Areas: the CLI's table/CSV/JSON.

Headers, units and number formats come from the registry (`core.metrics`). The CSV is for people
first (Japanese headers, figures rounded as the registry shows them, opened in Excel); `csv_frame(...,
headers="en")` and JSON keep the English keys and full precision, for scripts.
"""

from __future__ import annotations

import json
import math
import unicodedata
from typing import Literal

import pandas as pd

from geo_app.core.dissolve import SUMMARY_COLUMNS
from geo_app.core.hubs import HUB_EXPORT_LABELS, add_hub_columns
from geo_app.core.metrics import FUTURE_COLUMNS, METRICS, SUPPLY_KEYS, TARGET_YEAR, header
from geo_app.core.tally import total
from geo_app.views.textsafe import json_text, terminal_text

__all__ = [
    "summary_frame",
    "with_total",
    "cell_text",
    "display_width",
    "format_table",
    "csv_frame",
    "CSV_HEADERS",
    "to_json_records",
]

#: Header languages of the summary CSV: Japanese for people (the default), English for scripts.
CSV_HEADERS: tuple[str, ...] = ("ja", "en")


#: The future figures a terminal table shows (the target year's); CSV and JSON carry every year.
TABLE_FUTURE = tuple(
    f"{k}_{TARGET_YEAR}" for k in ("population", "aging_rate", "demand_medical_index", "demand_care_index")
)


def summary_frame(areas: pd.DataFrame, *, future: bool = True, hubs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Areas without geometry, in the documented column order, then (with `future`) every future
    figure of the registry the areas have (population and 65+ per year, aging rates, indices) and the
    facilities (counts, per 1,000 aged 75+ now and in 2040).

    `hubs` (`core.hubs.hub_points` of the plan): home-care areas carry their hub after 状態 — its name,
    facility id, 位置の根拠 (施設 / 地点 / 不明) and point (hub_lat, hub_lon; empty when unknown); a plan
    that names no hub adds no column."""
    cols = [c for c in SUMMARY_COLUMNS if c in areas.columns]
    homecare = "level" in areas.columns and len(areas) and str(areas["level"].iloc[0]) == "homecare"
    with_hubs = hubs is not None and not hubs.empty and bool(homecare)
    if with_hubs and "hub" in areas.columns:
        cols.append("hub")  # replaced by the hub's columns below, at this place
    if future:
        cols += [c for c in FUTURE_COLUMNS if c in areas.columns]
        cols += [c for c in SUPPLY_KEYS if c in areas.columns]
    out = pd.DataFrame(areas[cols]).reset_index(drop=True)
    return add_hub_columns(out, hubs, "area") if with_hubs and hubs is not None else out


def with_total(summary: pd.DataFrame, source: pd.DataFrame | None = None) -> pd.DataFrame:
    """`summary` with a 合計 row from `tally.total` (the registry's aggregation: unknown stays unknown).

    `source`: the full areas the summary was cut from, when a ratio's parts are not among the summary's
    columns (a demand index is the ratio of weighted sums that no table shows)."""
    row: dict[str, object] = {c: pd.NA for c in summary.columns}
    sums = total(summary if source is None else pd.DataFrame(source))
    row.update({k: pd.NA if v is None else v for k, v in sums.items() if k in summary.columns})
    row["area"] = "合計"
    return pd.concat([summary, pd.DataFrame([row])], ignore_index=True)


def cell_text(col: str, value: object) -> str:
    """A cell as a person reads it under `header(col)`: figures by the registry, other text as is."""
    if col in METRICS:
        return METRICS[col].format(value, unit=False)
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def display_width(text: str, *, ambiguous: int = 1) -> int:
    """Columns `text` takes in a fixed-width grid: full-width (Japanese) characters take two.

    `ambiguous`: width of East Asian "ambiguous" characters (², ×, —): narrow on a terminal,
    but Japanese spreadsheet fonts may draw them wide, so Excel column widths count them as 2.
    """
    wide = "WFA" if ambiguous == 2 else "WF"
    return sum(2 if unicodedata.east_asian_width(ch) in wide else 1 for ch in text)


def format_table(summary: pd.DataFrame, source: pd.DataFrame | None = None) -> str:
    """A fixed-width text table with Japanese headers and a total row (East Asian width aware).

    For a terminal: names are escaped (`terminal_text`), so a name cannot drive the terminal,
    and the columns are measured on what is shown (the target year's future figures only).
    `source`: the areas the summary was cut from (`with_total`).
    """
    width = display_width
    keep = [c for c in summary.columns if c not in (*FUTURE_COLUMNS, *SUPPLY_KEYS) or c in TABLE_FUTURE]
    df = with_total(summary, summary if source is None else source)[keep]
    headers = [terminal_text(header(c)) for c in df.columns]
    cells = [
        [terminal_text(cell_text(c, v)) for c, v in zip(df.columns, row, strict=True)]
        for row in df.itertuples(index=False)
    ]
    widths = [max(width(h), *(width(r[i]) for r in cells)) for i, h in enumerate(headers)]
    numeric = [c not in ("area", "parent", "status") for c in df.columns]

    def line(values: list[str]) -> str:
        out = []
        for v, w, num in zip(values, widths, numeric, strict=True):
            pad = " " * (w - width(v))
            out.append(pad + v if num else v + pad)
        return "  ".join(out).rstrip()

    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    body = [line(r) for r in cells]
    return "\n".join([line(headers), rule, *body[:-1], rule, body[-1]])


def csv_frame(summary: pd.DataFrame, level: str | None = None, *, headers: Literal["ja", "en"] = "ja") -> pd.DataFrame:
    """The summary as CSV cells: for people in Excel by default, for scripts with `headers="en"`.

    "ja": the registry's headers for `level` (「在宅医療圏名」「人口」「高齢化率」「面積（km²）」) and
    figures rounded as the registry shows them: counts whole, rates as text with their sign
    (27.9%, which Excel reads back as a percentage, since the header names no unit), other
    decimals to the registry's places (no thousands separator, so the cell stays a number).
    "en": the English keys and full precision, as `summary_frame` has them.
    An unknown figure stays an empty cell in both (never 0, never a partial total).
    """
    if headers == "en":
        return summary.copy()
    out = {}
    for col in summary.columns:
        values = summary[col]
        if col in METRICS:
            m = METRICS[col]
            number = pd.to_numeric(values, errors="coerce").astype("Float64")
            if m.kind == "percent":
                values = number.map(lambda v, m=m: m.format(v, unit=False), na_action="ignore").astype("string")
            elif m.decimals == 0:
                values = number.round().astype("Int64")
            else:
                values = number.round(m.decimals)
        name = HUB_EXPORT_LABELS[col] if col in HUB_EXPORT_LABELS else header(col, level)
        out[name] = values.reset_index(drop=True)
    return pd.DataFrame(out)


def to_json_records(summary: pd.DataFrame) -> str:
    """Records with English keys; names stay literal (JSON is data, not a spreadsheet), see `json_text`."""
    records = json.loads(summary.to_json(orient="records", force_ascii=False))
    return json_text(records)
