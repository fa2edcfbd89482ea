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

__all__ = [
    "Plan",
    "Level",
    "LEVELS",
    "LEVEL_JA",
    "PARENT_LEVEL",
    "PLAN_COLUMNS",
    "HUB_COLUMNS",
    "HUB_LABELS",
    "TABLE_COLUMNS",
    "CONFIRMED",
    "UNCONFIRMED",
]

Level = Literal["homecare", "secondary", "tertiary"]
LEVELS: tuple[Level, ...] = ("homecare", "secondary", "tertiary")
LEVEL_JA = {"homecare": "在宅医療圏", "secondary": "二次医療圏", "tertiary": "三次医療圏"}
PARENT_LEVEL = {"homecare": "secondary", "secondary": "tertiary", "tertiary": "prefecture"}
PLAN_COLUMNS = ["code", "name", "homecare", "secondary", "tertiary", "status"]
#: The home-care area's hub (在宅医療連携拠点), repeated on each member's row and carried together by
#: every edit: its name, and where it is — a facility of the embedded tables (`hub_facility`, the
#: facility point's id) or a named point (`hub_lat`, `hub_lon`: degrees, JGD2011/WGS84, kept as text
#: like every plan cell). A municipality office is given as a named point: no stored source has the
#: offices' coordinates. All empty: the hub is named with an unknown location (or there is none).
HUB_COLUMNS = ("hub", "hub_facility", "hub_lat", "hub_lon")
#: Japanese headers of the hub columns in a plan file (「拠点」 is the registry's label of `hub`).
HUB_LABELS = {"hub": "拠点", "hub_facility": "拠点の施設ID", "hub_lat": "拠点の緯度", "hub_lon": "拠点の経度"}
#: Every column of `Plan.table`, in order.
TABLE_COLUMNS = [*PLAN_COLUMNS, *HUB_COLUMNS]
CONFIRMED, UNCONFIRMED = "確定", "未確定"


@dataclass(frozen=True)
class Plan:
    """An assignment of municipalities to areas. `table` columns: TABLE_COLUMNS (PLAN_COLUMNS + HUB_COLUMNS).

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
        """A plan from a table already in canonical form (TABLE_COLUMNS, 5-digit codes; missing hub
        columns are added empty): what edits build. Users' tables are read by
        `geo_app.io.plans.plan_from_frame`."""
        t = table.reindex(columns=TABLE_COLUMNS).reset_index(drop=True)
        for col in t.columns:
            t[col] = t[col].astype("string")
        return cls(name=name, table=t)

    def to_frame(self, *, hub: bool = True) -> pd.DataFrame:
        """The plan table as a user keeps it: the hub columns only where the plan fills them, so a
        plan without hubs (or without hub locations) writes the same file as before they existed."""
        t = self.table
        hubs = [c for c in HUB_COLUMNS if c in t.columns and t[c].notna().any()] if hub else []
        return t[[*PLAN_COLUMNS, *hubs]].copy()

    def to_japanese_frame(self) -> pd.DataFrame:
        """The table with Japanese headers (the registry's field labels, 拠点の施設ID … for the hub's
        location), for Excel users; `geo_app.io.plans` reads it back to the same plan."""
        from geo_app.core.metrics import FIELDS  # metrics names the levels by this module's LEVEL_JA

        frame = self.to_frame()
        return frame.rename(columns={c: FIELDS[c].label if c in FIELDS else HUB_LABELS[c] for c in frame.columns})

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
        """Home-care area → its hub's name (the first member row that names one)."""
        h = self.table.dropna(subset=["homecare", "hub"]).drop_duplicates("homecare")
        return dict(zip(h["homecare"], h["hub"], strict=True))

    def hub_table(self) -> pd.DataFrame:
        """The hub columns (HUB_COLUMNS) with `homecare` and `code`, whatever columns the table was built
        with (a table made before hub locations existed has none: they read as empty)."""
        return self.table.reindex(columns=["code", "homecare", *HUB_COLUMNS]).astype("string")

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
