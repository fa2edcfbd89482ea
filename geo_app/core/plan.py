"""The plan: each municipality → home-care area (在宅医療圏) → secondary (二次医療圏) → tertiary (三次医療圏).

A plan is a plain table (one row per municipality, as users keep it in Excel) wrapped in an
immutable `Plan`; every edit returns a new Plan so that undo is just keeping the old one.
Reading a user's table into a Plan is `geo_app.io.plans`'s work: this module knows no file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from geo_app.core.codes import PREFECTURES, city_of

__all__ = ["Plan", "Level", "LEVELS", "LEVEL_JA", "PARENT_LEVEL", "PLAN_COLUMNS", "CONFIRMED", "UNCONFIRMED"]

Level = Literal["homecare", "secondary", "tertiary"]
LEVELS: tuple[Level, ...] = ("homecare", "secondary", "tertiary")
LEVEL_JA = {"homecare": "在宅医療圏", "secondary": "二次医療圏", "tertiary": "三次医療圏"}
PARENT_LEVEL = {"homecare": "secondary", "secondary": "tertiary", "tertiary": "prefecture"}
PLAN_COLUMNS = ["code", "name", "homecare", "secondary", "tertiary", "status"]
CONFIRMED, UNCONFIRMED = "確定", "未確定"


@dataclass(frozen=True)
class Plan:
    """An assignment of municipalities to areas. `table` columns: PLAN_COLUMNS + hub.

    Its identity travels with it so that no output can carry another plan's title or credit:
    `source` is the credit line for the assignments (a reference plan's publication, the
    user's file, a saved version), `reference` marks a published plan shipped with the package,
    and `saved` says which saved version and when (empty until saved). An edit of a reference
    plan is a new, user-made plan (`edited`), never printed under the reference's title.
    """

    name: str
    table: pd.DataFrame = field(repr=False)
    source: str = ""
    reference: bool = False
    saved: str = ""

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_table(cls, table: pd.DataFrame, name: str = "") -> Plan:
        """A plan from a table already in canonical form (PLAN_COLUMNS + hub, 5-digit codes):
        what edits build. Users' tables are read by `geo_app.io.plans.plan_from_frame`."""
        t = table.reindex(columns=[*PLAN_COLUMNS, "hub"]).reset_index(drop=True)
        for col in t.columns:
            t[col] = t[col].astype("string")
        return cls(name=name, table=t)

    def to_frame(self, *, hub: bool = True) -> pd.DataFrame:
        cols = [*PLAN_COLUMNS, "hub"] if hub and self.table["hub"].notna().any() else PLAN_COLUMNS
        return self.table[cols].copy()

    def to_japanese_frame(self) -> pd.DataFrame:
        """The table with Japanese headers (the registry's field labels), for Excel users."""
        from geo_app.core.metrics import FIELDS  # metrics names the levels by this module's LEVEL_JA

        frame = self.to_frame()
        return frame.rename(columns={c: FIELDS[c].label for c in frame.columns})

    # ---- queries ------------------------------------------------------------------------
    @property
    def codes(self) -> pd.Series:
        return self.table["code"]

    @property
    def prefectures(self) -> list[str]:
        return sorted(PREFECTURES[c] for c in set(self.table["code"].str[:2]) if c in PREFECTURES)

    @property
    def ward_cities(self) -> set[str]:
        """Designated cities this plan assigns ward by ward (e.g. 川崎市 in secondary-2020:神奈川県)."""
        cities = city_of(self.table["code"])
        return set(cities[cities != self.table["code"]])

    def areas(self, level: Level) -> list[str]:
        return list(dict.fromkeys(self.table[level].dropna()))

    def area_of(self, code: str, level: Level = "homecare") -> str | None:
        hit = self.table.loc[self.table["code"] == code, level]
        return None if hit.empty or pd.isna(hit.iloc[0]) else str(hit.iloc[0])

    def hubs(self) -> dict[str, str]:
        h = self.table.dropna(subset=["homecare", "hub"]).drop_duplicates("homecare")
        return dict(zip(h["homecare"], h["hub"], strict=True))

    @property
    def title(self) -> str:
        """The plan's title on every output: its name, with the saved version and date when saved."""
        name = self.name or "名前のない区域案"
        return f"{name}（{self.saved}）" if self.saved else name

    def with_name(self, name: str) -> Plan:
        """The same assignments under a new name: the user's plan now (not a reference)."""
        return Plan(name=name, table=self.table, source=self.source if not self.reference else self._edit_source())

    def with_identity(
        self, *, source: str | None = None, reference: bool | None = None, saved: str | None = None
    ) -> Plan:
        """The same plan with its credit, reference mark or saved version set (what a reader knows)."""
        return Plan(
            name=self.name,
            table=self.table,
            source=self.source if source is None else source,
            reference=self.reference if reference is None else reference,
            saved=self.saved if saved is None else saved,
        )

    def _edit_source(self) -> str:
        return (
            f"「{self.name}」をもとに利用者が作成（{self.source}）"
            if self.source
            else f"「{self.name}」をもとに利用者が作成"
        )

    def edited(self, table: pd.DataFrame) -> Plan:
        """A plan after an edit. An edited reference plan gets its own name, so that a printout of
        a change can never be taken for the published plan."""
        if self.reference:
            return Plan(name=f"{self.name}の編集案", table=table, source=self._edit_source())
        return Plan(name=self.name, table=table, source=self.source, saved=self.saved)

    def __len__(self) -> int:
        return len(self.table)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Plan) and self.table.equals(other.table)

    __hash__ = None  # type: ignore[assignment]
