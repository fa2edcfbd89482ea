"""A plan written as the table users keep in Excel: what `io.plans` reads back.

One writer for the app's 区域表 CSV download and `geo-app propose`'s candidate files.
"""

from __future__ import annotations

from pathlib import Path

from geo_app.core.plan import Plan
from geo_app.io.tables import protect_text

__all__ = ["plan_csv_bytes", "write_plan_csv"]


def plan_csv_bytes(plan: Plan) -> bytes:
    """The plan table with Japanese headers, UTF-8 with BOM so that Excel opens it correctly;
    text that a spreadsheet would take for a formula is kept as text."""
    return protect_text(plan.to_japanese_frame()).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def write_plan_csv(plan: Plan, path: Path) -> None:
    path.write_bytes(plan_csv_bytes(plan))
