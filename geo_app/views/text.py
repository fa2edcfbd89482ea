"""Tabular views of Areas: the CLI's table/CSV/JSON and the headers people read."""
from __future__ import annotations

import json

import pandas as pd

from geo_app.core.dissolve import SUMMARY_COLUMNS
from geo_app.views.textsafe import json_text, terminal_text

__all__ = ["summary_frame", "with_total", "JA_HEADERS", "format_table", "to_json_records"]

JA_HEADERS = {
    "area": "圏域", "parent": "上位の圏域", "municipalities": "市町村数", "population": "人口",
    "age_0_14": "0〜14歳", "age_15_64": "15〜64歳", "age_65_plus": "65歳以上", "age_75_plus": "75歳以上",
    "age_85_plus": "85歳以上", "age_unknown": "年齢不詳", "aging_rate": "高齢化率", "share_75_plus": "75歳以上の割合",
    "area_km2": "面積(km²)", "density": "人口密度(人/km²)", "status": "状態", "hub": "拠点", "members": "構成市町村",
}
_RATES = ("aging_rate", "share_75_plus")


def summary_frame(areas: pd.DataFrame) -> pd.DataFrame:
    """Areas without geometry, in the documented column order."""
    cols = [c for c in SUMMARY_COLUMNS if c in areas.columns]
    return pd.DataFrame(areas[cols]).reset_index(drop=True)


def with_total(summary: pd.DataFrame) -> pd.DataFrame:
    """Append a 合計 row: counts summed, rates recomputed from the sums (never averaged)."""
    total: dict[str, object] = {c: pd.NA for c in summary.columns}
    total["area"] = "合計"
    for c in summary.columns:
        if c.startswith("age_") or c in ("population", "municipalities", "area_km2"):
            total[c] = summary[c].sum(skipna=False)  # an unknown area count leaves the total unknown
    unknown_age = total.get("age_unknown", 0)
    known = total["population"] - unknown_age if "population" in summary else pd.NA
    if not pd.isna(known) and known > 0:
        if "age_65_plus" in summary:
            total["aging_rate"] = total["age_65_plus"] / known
        if "age_75_plus" in summary:
            total["share_75_plus"] = total["age_75_plus"] / known
    if "density" in summary and total.get("area_km2") and not pd.isna(total.get("population")):
        total["density"] = total["population"] / total["area_km2"]
    return pd.concat([summary, pd.DataFrame([total])], ignore_index=True)


def _fmt(col: str, v: object) -> str:
    if v is None or pd.isna(v):
        return ""
    if col in _RATES:
        return f"{float(v) * 100:.1f}%"
    if col in ("area_km2", "density"):
        return f"{float(v):,.1f}"
    if isinstance(v, (int, float)) or hasattr(v, "__int__") and not isinstance(v, str):
        try:
            return f"{int(v):,}"
        except (TypeError, ValueError):
            return str(v)
    return str(v)


def format_table(summary: pd.DataFrame) -> str:
    """A fixed-width text table with Japanese headers and a total row (East Asian width aware).

    For a terminal: names are escaped (`terminal_text`), so a name cannot drive the terminal,
    and the columns are measured on what is shown.
    """
    import unicodedata

    def width(s: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)

    df = with_total(summary)
    headers = [terminal_text(JA_HEADERS.get(c, c)) for c in df.columns]
    cells = [[terminal_text(_fmt(c, v)) for c, v in zip(df.columns, row)] for row in df.itertuples(index=False)]
    widths = [max(width(h), *(width(r[i]) for r in cells)) for i, h in enumerate(headers)]
    numeric = [c not in ("area", "parent", "status") for c in df.columns]

    def line(values: list[str]) -> str:
        out = []
        for v, w, num in zip(values, widths, numeric):
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
