"""Tabular views of Areas: the CLI's table/CSV/JSON.

Headers, units and number formats come from the registry (`core.metrics`); CSV and JSON keep
the English keys, for scripts.
"""

from __future__ import annotations

import json
import math
import unicodedata

import pandas as pd

from geo_app.core.dissolve import SUMMARY_COLUMNS
from geo_app.core.metrics import METRICS, header
from geo_app.core.tally import total
from geo_app.views.textsafe import json_text, terminal_text

__all__ = ["summary_frame", "with_total", "cell_text", "format_table", "to_json_records"]


def summary_frame(areas: pd.DataFrame) -> pd.DataFrame:
    """Areas without geometry, in the documented column order."""
    cols = [c for c in SUMMARY_COLUMNS if c in areas.columns]
    return pd.DataFrame(areas[cols]).reset_index(drop=True)


def with_total(summary: pd.DataFrame) -> pd.DataFrame:
    """`summary` with a 合計 row from `tally.total` (the registry's aggregation: unknown stays unknown)."""
    row: dict[str, object] = {c: pd.NA for c in summary.columns}
    row.update({k: pd.NA if v is None else v for k, v in total(summary).items()})
    row["area"] = "合計"
    return pd.concat([summary, pd.DataFrame([row])], ignore_index=True)


def cell_text(col: str, value: object) -> str:
    """A cell as a person reads it under `header(col)`: figures by the registry, other text as is."""
    if col in METRICS:
        return METRICS[col].format(value, unit=False)
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def format_table(summary: pd.DataFrame) -> str:
    """A fixed-width text table with Japanese headers and a total row (East Asian width aware).

    For a terminal: names are escaped (`terminal_text`), so a name cannot drive the terminal,
    and the columns are measured on what is shown.
    """

    def width(s: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)

    df = with_total(summary)
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


def to_json_records(summary: pd.DataFrame) -> str:
    """Records with English keys; names stay literal (JSON is data, not a spreadsheet), see `json_text`."""
    records = json.loads(summary.to_json(orient="records", force_ascii=False))
    return json_text(records)
