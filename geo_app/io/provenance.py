"""Where the figures on a page come from: the boundary, population and plan sources actually used.

Every output (sidebar, 出典 sheet, print footer, HTML credits, GeoPackage metadata) takes its
source lines from `credits(munis, plan)`, so a user's own population table is named by its file
and the date the user gave, the census is credited only when the census was used, and a
published plan (北海道医療計画, A38-20) only when that plan, or a copy of it, is on the page.
The loader records the inputs on `munis.attrs["sources"]`; the plan carries its own `source`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geo_app.core.plan import Plan

__all__ = [
    "DataSource",
    "Credits",
    "EMBEDDED_BOUNDARIES",
    "CENSUS_2020",
    "user_file",
    "boundary_source",
    "population_source",
    "data_sources",
    "credits",
]


@dataclass(frozen=True)
class DataSource:
    """One input behind the figures: its role, when it stands (vintage) and the credit it asks for."""

    role: str  # 行政区域 / 人口
    vintage: str
    credit: str


EMBEDDED_BOUNDARIES = DataSource(
    "行政区域",
    "2021年1月1日（国土数値情報 N03）",
    "「国土数値情報（行政区域データ）（国土交通省）を加工して作成」",
)
CENSUS_2020 = DataSource(
    "人口",
    "令和2年国勢調査（2020年10月1日）",
    "出典：総務省統計局「令和2年国勢調査 人口等基本集計」（e-Stat 表番号2-7-1）を加工して作成",
)
CENSUS_LABEL = "令和2年国勢調査（総務省統計局）"  # what load_population writes for the embedded table


def user_file(role: str, names: Iterable[str], date: str | None = None) -> DataSource:
    """A user's own file(s), named as the user knows them, with the date the user gave."""
    shown = "・".join(f"「{Path(str(n)).name}」" for n in names) or "「（名前なし）」"
    when = f"（{date.strip()}時点）" if date and date.strip() else "（時点の記載なし）"
    what = "境界データ" if role == "行政区域" else "人口表"
    return DataSource(role, f"利用者の{what}{shown}{when}", f"{role}: 利用者の{what}{shown}{when}")


def boundary_source(paths: Iterable[Any] | None) -> DataSource:
    files = [] if paths is None else [p for p in paths if p is not None]
    return user_file("行政区域", files) if files else EMBEDDED_BOUNDARIES


def population_source(label: str | None, date: str | None = None) -> DataSource | None:
    """None: no population was attached (figures are boundaries only)."""
    if label is None:
        return None
    if label == CENSUS_LABEL:
        return CENSUS_2020
    return user_file("人口", [label], date)


def data_sources(munis: Any) -> tuple[DataSource, ...]:
    """The sources recorded by the loader; a frame built elsewhere is taken as the embedded data."""
    attrs: Mapping[str, Any] = getattr(munis, "attrs", {}) or {}
    found = attrs.get("sources")
    if found is None:
        pop = CENSUS_2020 if "population" in getattr(munis, "columns", ()) else None
        return tuple(s for s in (EMBEDDED_BOUNDARIES, pop) if s is not None)
    return tuple(found)


@dataclass(frozen=True)
class Credits:
    """The source lines of one output: a one-line vintage and the credit lines, in Japanese."""

    vintage: str
    lines: tuple[str, ...]

    def all(self) -> list[str]:
        return [self.vintage, *self.lines]


def plan_credit(plan: Plan) -> str:
    return plan.source or f"区域案「{plan.name or '（名前なし）'}」は利用者の作成"


def credits(munis: Any, plan: Plan) -> Credits:
    """Exactly the sources behind the figures of `plan` on `munis`."""
    sources = data_sources(munis)
    # the plan first: the line is long (boundaries, population, projections) and wraps on a printout
    parts = [f"区域案: {plan.title}"] + [f"{s.role}: {s.vintage}" for s in sources]
    lines = [s.credit for s in sources] + [plan_credit(plan)]
    return Credits("／".join(parts), tuple(dict.fromkeys(lines)))
