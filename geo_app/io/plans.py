"""Plans: each municipality → home-care area (在宅医療圏) → secondary (二次医療圏) → tertiary (三次医療圏).

A plan is a plain table (one row per municipality, as users keep it in Excel) wrapped in an
immutable `Plan`; every edit returns a new Plan so that undo is just keeping the old one.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo_app.core.codes import PREFECTURES, city_of, prefecture_code
from geo_app.core.errors import InputError, PlanError
from geo_app.core.hubs import CoordinateError, format_coordinate, hub_points, parse_coordinate
from geo_app.core.plan import CONFIRMED, HUB_COLUMNS, HUB_LABELS, TABLE_COLUMNS, UNCONFIRMED, Plan
from geo_app.io.names import CODE_HEADERS, codes_for_rows
from geo_app.io.tables import (
    TableSource,
    as_text_frame,
    column_letter,
    file_row,
    japanese_errors,
    read_table,
    rename_columns,
)

__all__ = [
    "load_plan",
    "plan_from_frame",
    "builtin_plans",
    "is_builtin",
    "one_area_per_municipality",
    "hub_facilities",
    "plan_hub_points",
    "PLAN_ALIASES",
]

PLAN_ALIASES = {
    "code": CODE_HEADERS,
    "name": ("市町村名", "市区町村名", "市町村", "市区町村", "名称"),
    "homecare": ("在宅医療圏", "在宅医療圏名", "在宅", "home_care", "homecare_area"),
    "secondary": ("二次医療圏", "二次医療圏名", "2次医療圏", "secondary_area"),
    "tertiary": ("三次医療圏", "三次医療圏名", "3次医療圏", "tertiary_area"),
    "status": ("状態", "確定状況", "ステータス"),
    "hub": ("拠点", "連携拠点", "在宅医療連携拠点", "hub_name"),
    # Where the hub is: a facility of the embedded tables by its id, or a point (a municipality office
    # is given as a point: no stored source has the offices' coordinates).
    "hub_facility": (HUB_LABELS["hub_facility"], "拠点施設ID", "連携拠点の施設ID", "hub_facility_id"),
    "hub_lat": (HUB_LABELS["hub_lat"], "拠点緯度", "連携拠点の緯度", "hub_latitude"),
    "hub_lon": (HUB_LABELS["hub_lon"], "拠点経度", "連携拠点の経度", "hub_longitude", "hub_lng"),
    "prefecture": ("都道府県", "都道府県名", "pref"),
}
_STATUS = {
    "確定": CONFIRMED,
    "confirmed": CONFIRMED,
    "済": CONFIRMED,
    "未確定": UNCONFIRMED,
    "unconfirmed": UNCONFIRMED,
    "provisional": UNCONFIRMED,
    "暫定": UNCONFIRMED,
    "案": UNCONFIRMED,
}


def plan_from_frame(df: pd.DataFrame, name: str = "", *, prefecture: str | None = None, strict: bool = False) -> Plan:
    """Accept Japanese or English headers, re-pad Excel-mangled codes, check 6-digit codes.

    Rows without a code are matched by 市町村名 within `prefecture` (or the table's 都道府県
    column, or the prefecture of the other rows). `strict` (what `load_plan` uses for the
    user's files) also refuses codes that are no 2020 municipality, a name that contradicts
    its code, a municipality listed twice, and a city listed with its own wards; without it
    those are left to `dissolve` and the validation rules. Raises PlanError in Japanese.
    """
    return Plan(name=name, table=_plan_table(df, name=name, prefecture=prefecture, strict=strict))


#: The credit line of each built-in plan (Plan.source), in Japanese, as data/SOURCES.md gives it.
A38_SOURCE = "国土数値情報（医療圏データ A38-20）（国土交通省）を加工して作成"
HOKKAIDO_SOURCE = "北海道医療計画（2024〜2029）在宅医療の体制 をもとに作成（未公表の4圏域は「未確定」）"
AKITA_SECONDARY_2024_SOURCE = (
    "秋田県の二次医療圏（県北・県央・県南）は第8次秋田県医療計画による"
    "（秋田テレビ 2023年7月、中医協 総会 2024年6月25日 総-4）"
)
AKITA_HOMECARE_SOURCE = (
    "在宅医療圏は第8次秋田県医療計画（2024〜2029）の素案の報道による"
    "（秋田魁新報 2023年11月17日。公式の区域表ではありません）"
)
#: Built-in plan → (file in data/plans, title); secondary plans are per prefecture (`secondary-2020:岩手県`).
_SINGLE = {
    "hokkaido-2024": ("hokkaido-2024.csv", "北海道 2024（第8次医療計画）"),
    "akita-2024": ("akita-2024.csv", "秋田県 在宅医療圏 2024（第8次医療計画 素案の報道による）"),
}
_SECONDARY = {"secondary-2020": "第7次医療計画", "secondary-2024": "第8次医療計画"}


def builtin_plans() -> list[str]:
    """Names of the plans that ship with the package (new ones appended, so the list only grows at its end)."""
    secondary = [f"{kind}:{name}" for kind in _SECONDARY for name in PREFECTURES.values()]
    return ["hokkaido-2024", *secondary, "akita-2024"]


def is_builtin(name: object) -> bool:
    """Whether `name` asks for a built-in plan (a known name, or `secondary-20xx:` with any prefecture)."""
    return isinstance(name, str) and (name.strip() in _SINGLE or name.strip().split(":", 1)[0] in _SECONDARY)


def _builtin_source(name: str, pref_code: str | None) -> str:
    if name == "hokkaido-2024":
        return HOKKAIDO_SOURCE
    if name == "akita-2024":
        return f"{AKITA_HOMECARE_SOURCE}。{AKITA_SECONDARY_2024_SOURCE}。{A38_SOURCE}"
    if name.startswith("secondary-2024") and pref_code == "05":
        return f"{A38_SOURCE}。{AKITA_SECONDARY_2024_SOURCE}"
    return A38_SOURCE


def _builtin(name: str) -> Plan:
    """A built-in plan, marked as a reference plan with its credit line (an edit of it is the user's plan)."""
    from geo_app.io import datasets

    plans = datasets.plans_dir()
    if name in _SINGLE:
        file, title = _SINGLE[name]
        df = pd.read_csv(plans / file, dtype=str)
        plan = plan_from_frame(df.drop(columns=["prefecture"]), name=title)
        return plan.with_identity(source=_builtin_source(name, None), reference=True)
    kind, _, pref = name.partition(":")
    if kind in _SECONDARY:
        try:
            code = prefecture_code(pref)
        except ValueError as exc:
            raise PlanError(f"{exc}。`geo-app plans` で一覧を表示できます。") from None
        df = pd.read_csv(plans / f"{kind}.csv", dtype=str)
        df = df[df["code"].str[:2] == code].drop(columns=["prefecture"])
        title = f"{PREFECTURES[code]} 二次医療圏 {kind[-4:]}（{_SECONDARY[kind]}）"
        return plan_from_frame(df, name=title).with_identity(source=_builtin_source(kind, code), reference=True)
    raise PlanError(f"組み込みの区域案「{name}」はありません。`geo-app plans` で一覧を表示できます。")


def load_plan(
    source: str | Path | TableSource | pd.DataFrame, *, name: str | None = None, prefecture: str | None = None
) -> Plan:
    """A built-in plan by name, or a plan table (CSV/XLSX path, bytes, file object, or DataFrame).

    Reading never writes anything: a saved plan is only ever replaced by the store's own save.
    A user's table is read strictly (see `plan_from_frame`); every problem is a PlanError whose
    message names the file, the rows and the fix, in Japanese.
    """
    return _load_plan(source, name=name, prefecture=prefecture)


_TABLE_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xls", ".txt", ".tsv")


@japanese_errors("区域案", PlanError)
def _load_plan(source, *, name: str | None, prefecture: str | None) -> Plan:
    if isinstance(source, pd.DataFrame):
        return plan_from_frame(source, name=name or "区域案", prefecture=prefecture, strict=True)
    if isinstance(source, str) and is_builtin(source):
        return _builtin(source.strip())
    if (
        isinstance(source, (str, Path))
        and not Path(source).exists()
        and not str(source).lower().endswith(_TABLE_SUFFIXES)
    ):
        raise PlanError(
            f"区域案「{source}」は組み込みの名前でもファイルでもありません。`geo-app plans` で一覧を表示できます。"
        )
    try:
        df = read_table(source, name=name, header_hints=_PLAN_HINTS)
    except PlanError:
        raise
    except InputError as exc:
        raise PlanError(exc.message, source=exc.source, row=exc.row) from None
    label = name or (Path(source).stem if isinstance(source, (str, Path)) else df.attrs.get("source", "区域案"))
    return plan_from_frame(df, name=str(label), prefecture=prefecture, strict=True)


_PLAN_HINTS = [n for key in ("code", "name", "homecare", "secondary") for n in (key, *PLAN_ALIASES[key])]


@japanese_errors("区域表", PlanError)
def _plan_table(df: pd.DataFrame, *, name: str, prefecture: str | None, strict: bool) -> pd.DataFrame:
    """The reading half of `plan_from_frame`: headers, codes (or names), areas, status."""
    label = df.attrs.get("source", name or "区域表") if isinstance(df, pd.DataFrame) else (name or "区域表")
    text = as_text_frame(df)
    t = rename_columns(text, PLAN_ALIASES)
    # Each canonical column's header as the user wrote it, and its column letter (for messages).
    origin: dict[str, tuple[str, str]] = {}
    if len(text.columns) == len(t.columns):
        for j, (o, c) in enumerate(zip(text.columns, t.columns, strict=True)):
            origin.setdefault(str(c), (str(o), column_letter(j)))
    homecare_header = (
        origin["homecare"][0] if "homecare" in origin else ("在宅医療圏" if "homecare" in t.columns else None)
    )
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
        t,
        label=label,
        prefecture=prefecture,
        error=PlanError,
        unknown="error" if strict else "ignore",
        check_names=strict,
        check_duplicates=strict,
        check_wards=strict,
        what="区域表",
    )
    t = t.assign(code=codes)[keep]
    has_homecare = "homecare" in t.columns
    for col in ("name", "homecare", "secondary", "tertiary", "status", *HUB_COLUMNS):
        if col not in t.columns:
            t[col] = pd.NA
        t[col] = t[col].astype("string").str.strip().replace("", pd.NA)
    _check_hubs(t, origin, label)
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
    status = t["status"].map(
        lambda v: _STATUS.get(str(v).strip().lower(), _STATUS.get(str(v).strip())) if pd.notna(v) else CONFIRMED
    )
    bad = status.isna()
    if bad.any():
        first = bad[bad].index[0]
        raise PlanError(
            f"状態「{t.at[first, 'status']}」が分かりません。「確定」か「未確定」にしてください。",
            source=label,
            row=file_row(first),
        )
    t["status"] = status.astype("string")
    table = t[TABLE_COLUMNS].reset_index(drop=True)
    table.attrs = (
        {"source": label, "notes": [*df.attrs.get("notes", []), *notes]} if isinstance(df, pd.DataFrame) else {}
    )
    return table


def _check_hubs(t: pd.DataFrame, origin: dict[str, tuple[str, str]], label: str) -> None:
    """Hub locations as the plan keeps them: coordinates checked (a number, inside Japan) and written in
    one form; a location needs the hub's name. Every refusal names the row and the cell to fix
    (`origin`: canonical column → the header as written and its column letter)."""

    def cell(col: str, index: object) -> str:
        row = file_row(index)
        name, letter = origin.get(col, (HUB_LABELS[col], None))
        where = f"（セル {letter}{row}）" if letter is not None and row is not None else ""
        return f"「{name}」列{where}"

    for col, axis in (("hub_lat", "lat"), ("hub_lon", "lon")):
        values = t[col]
        out = values.copy()
        for index, value in values.dropna().items():
            try:
                out[index] = format_coordinate(parse_coordinate(value, axis))
            except CoordinateError as exc:
                raise PlanError(f"{cell(col, index)}: {exc}", source=label, row=file_row(index)) from None
        t[col] = out.astype("string")
    one = t["hub_lat"].isna() != t["hub_lon"].isna()
    if one.any():
        index = one[one].index[0]
        missing = "hub_lat" if pd.isna(t.at[index, "hub_lat"]) else "hub_lon"
        raise PlanError(
            f"{cell(missing, index)}が空です。拠点を地点で示すときは緯度と経度の両方を入れてください"
            "（市町村役場なども地点として緯度・経度で入れます）。",
            source=label,
            row=file_row(index),
        )
    located = (t["hub_facility"].notna() | t["hub_lat"].notna()) & t["hub"].isna()
    if located.any():
        index = located[located].index[0]
        raise PlanError(
            f"{cell('hub', index)}が空なのに、拠点の場所（施設ID または 緯度・経度）が入っています。"
            "拠点の名前を入れるか、場所を消してください。",
            source=label,
            row=file_row(index),
        )


def hub_facilities(plan: Plan) -> pd.DataFrame | None:
    """The facility points a plan's hubs are looked up in (`core.hubs.hub_points`, the hub rules), with
    each kind as people read it (訪問看護ステーション, 病院 …). Loaded only when a hub names a facility, so
    a plan without facility ids costs nothing: None then."""
    if plan.hub_table()["hub_facility"].isna().all():
        return None
    from geo_app.io.facilities import KIND_LABELS, load_facility_points

    points = load_facility_points()
    return points.assign(kind=points["kind"].map(lambda k: KIND_LABELS.get(k, k), na_action="ignore"))


def plan_hub_points(plan: Plan) -> pd.DataFrame:
    """`core.hubs.hub_points` of `plan`, its facility ids looked up in the embedded facility points:
    what every export draws and lists when it is not handed the hubs already computed."""
    return hub_points(plan, hub_facilities(plan))


def one_area_per_municipality(munis: pd.DataFrame, *, prefecture: str, status: str = UNCONFIRMED) -> Plan:
    """A starting plan: each municipality its own home-care area, in its 8th-plan (2024) 二次医療圏.

    Secondary and tertiary areas come from the built-in `secondary-2024:<prefecture>` plan, the
    areas home-care areas are now drawn in (秋田県: 県北・県央・県南; elsewhere the same as 2020; for
    北海道 the six 三次医療圏 of `hokkaido-2024`, whose 二次医療圏 are the same; a
    ward takes its city's area; a city whose wards lie in different secondary areas gets none,
    rather than a guess). Everything starts 未確定: nothing has been decided yet.
    """
    try:
        pref = prefecture_code(prefecture)
    except ValueError as exc:
        raise PlanError(f"{exc}。") from None
    sub = munis[munis["code"].astype(str).str[:2] == pref]
    if sub.empty:
        raise PlanError(
            f"境界データに{PREFECTURES[pref]}の市町村がありません。{PREFECTURES[pref]}を含む境界データを読み込んでください。"
        )
    base = load_plan(f"secondary-2024:{PREFECTURES[pref]}").table
    if pref == "01":  # A38-20 has no 三次医療圏; 北海道's six come with the 2024 plan (same 二次医療圏)
        hk = load_plan("hokkaido-2024").table.set_index("code")["tertiary"]
        base = base.assign(tertiary=base["code"].map(hk).fillna(base["tertiary"]))
    codes = sub["code"].astype("string").reset_index(drop=True)
    by_code = base.set_index("code")
    # Wards in the plan, city in the boundaries: the city's area when all its wards agree.
    base_city = base.assign(city=city_of(base["code"]))
    agree = base_city.groupby("city")[["secondary", "tertiary"]].agg(lambda s: s.iloc[0] if s.nunique() == 1 else pd.NA)
    lookup = pd.concat([by_code[["secondary", "tertiary"]], agree[~agree.index.isin(by_code.index)]])
    own = lookup.reindex(codes)
    via_city = lookup.reindex(city_of(codes))
    secondary = own["secondary"].fillna(pd.Series(via_city["secondary"].to_numpy(), index=own.index)).to_numpy()
    tertiary = own["tertiary"].fillna(pd.Series(via_city["tertiary"].to_numpy(), index=own.index)).to_numpy()
    names = sub["name"].astype("string").reset_index(drop=True)
    dup = names.duplicated(keep=False)
    homecare = names.where(~dup, names + "（" + codes + "）")
    table = pd.DataFrame(
        {
            "code": codes,
            "name": names,
            "homecare": homecare,
            "secondary": secondary,
            "tertiary": tertiary,
            "status": status,
            **dict.fromkeys(HUB_COLUMNS, pd.NA),
        }
    ).sort_values("code", kind="stable")
    return Plan.from_table(table, name=f"{PREFECTURES[pref]} 市町村ごと（初期案）")
