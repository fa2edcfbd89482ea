"""Plans: each municipality → home-care area (在宅医療圏) → secondary (二次医療圏) → tertiary (三次医療圏).

A plan is a plain table (one row per municipality, as users keep it in Excel) wrapped in an
immutable `Plan`; every edit returns a new Plan so that undo is just keeping the old one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from .codes import PREFECTURES, city_of, prefecture_code
from .errors import InputError, PlanError
from .names import codes_for_rows
from .tables import TableSource, as_text_frame, file_row, japanese_errors, read_table, rename_columns

__all__ = ["Plan", "load_plan", "builtin_plans", "LEVELS", "LEVEL_JA", "PARENT_LEVEL", "PLAN_COLUMNS"]

Level = Literal["homecare", "secondary", "tertiary"]
LEVELS: tuple[Level, ...] = ("homecare", "secondary", "tertiary")
LEVEL_JA = {"homecare": "在宅医療圏", "secondary": "二次医療圏", "tertiary": "三次医療圏"}
PARENT_LEVEL = {"homecare": "secondary", "secondary": "tertiary", "tertiary": "prefecture"}
PLAN_COLUMNS = ["code", "name", "homecare", "secondary", "tertiary", "status"]
CONFIRMED, UNCONFIRMED = "確定", "未確定"

PLAN_ALIASES = {
    "code": ("市町村コード", "市区町村コード", "団体コード", "全国地方公共団体コード", "地域コード", "コード", "jiscode",
             "municipality_code"),
    "name": ("市町村名", "市区町村名", "市町村", "市区町村", "名称"),
    "homecare": ("在宅医療圏", "在宅医療圏名", "在宅", "home_care", "homecare_area"),
    "secondary": ("二次医療圏", "二次医療圏名", "2次医療圏", "secondary_area"),
    "tertiary": ("三次医療圏", "三次医療圏名", "3次医療圏", "tertiary_area"),
    "status": ("状態", "確定状況", "ステータス"),
    "hub": ("拠点", "連携拠点", "在宅医療連携拠点", "hub_name"),
    "prefecture": ("都道府県", "都道府県名", "pref"),
}
_STATUS = {
    "確定": CONFIRMED, "confirmed": CONFIRMED, "済": CONFIRMED,
    "未確定": UNCONFIRMED, "unconfirmed": UNCONFIRMED, "provisional": UNCONFIRMED, "暫定": UNCONFIRMED, "案": UNCONFIRMED,
}


@dataclass(frozen=True)
class Plan:
    """An assignment of municipalities to areas. `table` columns: PLAN_COLUMNS + hub."""

    name: str
    table: pd.DataFrame = field(repr=False)

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_frame(
        cls, df: pd.DataFrame, name: str = "", *, prefecture: str | None = None, strict: bool = False
    ) -> "Plan":
        """Accept Japanese or English headers, re-pad Excel-mangled codes, check 6-digit codes.

        Rows without a code are matched by 市町村名 within `prefecture` (or the table's 都道府県
        column, or the prefecture of the other rows). `strict` (what `load_plan` uses for the
        user's files) also refuses codes that are no 2020 municipality, a name that contradicts
        its code, a municipality listed twice, and a city listed with its own wards; without it
        those are left to `dissolve` and the validation rules. Raises PlanError in Japanese.
        """
        return cls(name=name, table=_plan_table(df, name=name, prefecture=prefecture, strict=strict))

    def to_frame(self, *, hub: bool = True) -> pd.DataFrame:
        cols = [*PLAN_COLUMNS, "hub"] if hub and self.table["hub"].notna().any() else PLAN_COLUMNS
        return self.table[cols].copy()

    def to_japanese_frame(self) -> pd.DataFrame:
        """The table with Japanese headers, for Excel users."""
        ja = {"code": "市町村コード", "name": "市町村名", "homecare": "在宅医療圏", "secondary": "二次医療圏",
              "tertiary": "三次医療圏", "status": "状態", "hub": "拠点"}
        return self.to_frame().rename(columns=ja)

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
        return dict(zip(h["homecare"], h["hub"]))

    def with_name(self, name: str) -> "Plan":
        return Plan(name=name, table=self.table)

    def __len__(self) -> int:
        return len(self.table)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Plan) and self.table.equals(other.table)

    __hash__ = None  # type: ignore[assignment]


def builtin_plans() -> list[str]:
    """Names of the plans that ship with the package."""
    return ["hokkaido-2024", *(f"secondary-2020:{name}" for name in PREFECTURES.values())]


def _builtin(name: str) -> Plan:
    from . import datasets

    plans = datasets.plans_dir()
    if name == "hokkaido-2024":
        df = pd.read_csv(plans / "hokkaido-2024.csv", dtype=str)
        return Plan.from_frame(df.drop(columns=["prefecture"]), name="北海道 2024（第8次医療計画）")
    if name.startswith("secondary-2020:"):
        pref = name.split(":", 1)[1]
        try:
            code = prefecture_code(pref)
        except ValueError as exc:
            raise PlanError(f"{exc}。`geo-app plans` で一覧を表示できます。") from None
        df = pd.read_csv(plans / "secondary-2020.csv", dtype=str)
        df = df[df["code"].str[:2] == code].drop(columns=["prefecture"])
        return Plan.from_frame(df, name=f"{PREFECTURES[code]} 二次医療圏（A38-20, 2020）")
    raise PlanError(f"組み込みの区域案「{name}」はありません。`geo-app plans` で一覧を表示できます。")


def load_plan(
    source: "str | Path | TableSource | pd.DataFrame", *, name: str | None = None, prefecture: str | None = None
) -> Plan:
    """A built-in plan by name, or a plan table (CSV/XLSX path, bytes, file object, or DataFrame).

    Reading never writes anything: a saved plan is only ever replaced by the store's own save.
    A user's table is read strictly (see `Plan.from_frame`); every problem is a PlanError whose
    message names the file, the rows and the fix, in Japanese.
    """
    return _load_plan(source, name=name, prefecture=prefecture)


_TABLE_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xls", ".txt", ".tsv")


@japanese_errors("区域案", PlanError)
def _load_plan(source, *, name: str | None, prefecture: str | None) -> Plan:
    if isinstance(source, pd.DataFrame):
        return Plan.from_frame(source, name=name or "区域案", prefecture=prefecture, strict=True)
    if isinstance(source, str) and (source.strip() == "hokkaido-2024" or source.strip().startswith("secondary-2020:")):
        return _builtin(source.strip())
    if isinstance(source, (str, Path)) and not Path(source).exists() and not str(source).lower().endswith(_TABLE_SUFFIXES):
        raise PlanError(f"区域案「{source}」は組み込みの名前でもファイルでもありません。`geo-app plans` で一覧を表示できます。")
    try:
        df = read_table(source, name=name, header_hints=_PLAN_HINTS)
    except PlanError:
        raise
    except InputError as exc:
        raise PlanError(exc.message, source=exc.source, row=exc.row) from None
    label = name or (Path(source).stem if isinstance(source, (str, Path)) else df.attrs.get("source", "区域案"))
    return Plan.from_frame(df, name=str(label), prefecture=prefecture, strict=True)


_PLAN_HINTS = [n for key in ("code", "name", "homecare", "secondary") for n in (key, *PLAN_ALIASES[key])]


@japanese_errors("区域表", PlanError)
def _plan_table(df: pd.DataFrame, *, name: str, prefecture: str | None, strict: bool) -> pd.DataFrame:
    """The reading half of `Plan.from_frame`: headers, codes (or names), areas, status."""
    label = df.attrs.get("source", name or "区域表") if isinstance(df, pd.DataFrame) else (name or "区域表")
    text = as_text_frame(df)
    t = rename_columns(text, PLAN_ALIASES)
    homecare_header = next((str(o) for o, c in zip(text.columns, t.columns) if c == "homecare"), None) \
        if len(text.columns) == len(t.columns) else ("在宅医療圏" if "homecare" in t.columns else None)
    if "code" not in t.columns and "name" not in t.columns:
        raise PlanError(
            "区域表に「市町村コード」（code）か「市町村名」（name）の列がありません。"
            "1行目に列名（市町村コード, 市町村名, 在宅医療圏, 二次医療圏, 三次医療圏）を入れてください"
            f"（今の列: {'、'.join(map(str, list(t.columns)[:8])) or 'なし'}）。",
            source=label,
        )
    if "homecare" not in t.columns and "secondary" not in t.columns:
        raise PlanError(
            "区域表に「在宅医療圏」または「二次医療圏」の列がありません。"
            f"1行目の列名を確かめてください（今の列: {'、'.join(map(str, list(t.columns)[:8]))}）。",
            source=label,
        )
    codes, keep, notes = codes_for_rows(
        t, label=label, prefecture=prefecture, error=PlanError,
        unknown="error" if strict else "ignore",
        check_names=strict, check_duplicates=strict, check_wards=strict, what="区域表",
    )
    t = t.assign(code=codes)[keep]
    has_homecare = "homecare" in t.columns
    for col in ("name", "homecare", "secondary", "tertiary", "status", "hub"):
        if col not in t.columns:
            t[col] = pd.NA
        t[col] = t[col].astype("string").str.strip().replace("", pd.NA)
    if has_homecare and len(t) and t["homecare"].isna().all():
        # Never filled from another level: an empty column is usually formulas saved without their
        # results (a script-written .xlsx) or the wrong column, and the plan would silently change.
        rows = [r for r in (file_row(i) for i in t.index[:3]) if r is not None]
        shown = f"（{'、'.join(map(str, rows))}行目{' ほか' if len(t) > 3 else ''}）" if rows else ""
        raise PlanError(
            f"「{homecare_header or '在宅医療圏'}」列がすべて空です{shown}。在宅医療圏の名前を入れてください。"
            "数式で作った列なら、Excel で開いて保存し直すと計算結果が保存されます。"
            "二次医療圏をそのまま在宅医療圏にするなら、この列を削除してください。",
            source=label,
        )
    notes = list(notes)
    if not has_homecare:
        t["homecare"] = t["secondary"]
        notes.append("区域表に「在宅医療圏」の列がないため、二次医療圏をそのまま在宅医療圏の出発点にしました。")
    pref_names = t["code"].str[:2].map(PREFECTURES).astype("string")
    t["tertiary"] = t["tertiary"].fillna(pref_names)
    status = t["status"].map(lambda v: _STATUS.get(str(v).strip().lower(), _STATUS.get(str(v).strip())) if pd.notna(v) else CONFIRMED)
    bad = status.isna()
    if bad.any():
        first = bad[bad].index[0]
        raise PlanError(
            f"状態「{t.at[first, 'status']}」が分かりません。「確定」か「未確定」にしてください。", source=label, row=file_row(first)
        )
    t["status"] = status.astype("string")
    table = t[[*PLAN_COLUMNS, "hub"]].reset_index(drop=True)
    table.attrs = {"source": label, "notes": [*df.attrs.get("notes", []), *notes]} if isinstance(df, pd.DataFrame) else {}
    return table
