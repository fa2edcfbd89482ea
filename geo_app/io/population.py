"""Population tables keyed by municipality code: the embedded 2020 census or the user's own.

Counts are raw census counts: people of unknown age (年齢不詳) are kept apart, so the aging rate
is computed the census way, 65+ ÷ (population − 年齢不詳).

Users bring e-Stat and 住民基本台帳 downloads as they are, so headers are matched through one
table of variants (「総数」「計」「65歳以上人口」「うち65歳以上」「0歳～4歳」…, after NFKC), long tables
with a 男女/性別 column are read from their total rows, and every column left unused is named in
a note: a column silently dropped would make 65+ and the aging rate quietly unknown.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

from geo_app.core.codes import city_of
from geo_app.core.counts import AGE_BANDS, GROUP_COLUMNS, add_rates
from geo_app.core.errors import InputError
from geo_app.io.names import CODE_HEADERS, codes_for_rows, named_codes
from geo_app.io.tables import (
    TableSource,
    as_text_frame,
    file_row,
    japanese_errors,
    read_table,
    rename_columns,
    to_numbers,
)

__all__ = ["load_population", "attach_population"]

_GROUP_BANDS = {
    "age_0_14": AGE_BANDS[0:3],
    "age_15_64": AGE_BANDS[3:13],
    "age_65_plus": AGE_BANDS[13:],
    "age_75_plus": AGE_BANDS[15:],
    "age_85_plus": AGE_BANDS[17:],
}
_SEX_COLUMNS = ["male", "female"]
#: Count columns of a loaded table, in output order (male/female as the embedded census has them).
_COUNTED = ["population", "age_unknown", *GROUP_COLUMNS, *AGE_BANDS, *_SEX_COLUMNS]

# ---- headers: the variants of e-Stat and 住民基本台帳 downloads, as data -------------------------
#: Headers by canonical column, compared after `_header_key`. Age headers that are ranges
#: (「0～4歳」「0歳-4歳」「65歳以上人口」「うち65歳以上」「65歳～」「15歳未満」) are read by `_age_range`.
_NAMED: dict[str, tuple[str, ...]] = {
    "name": ("市町村名", "市区町村名", "市町村", "市区町村", "名称", "地域名", "地域", "自治体名", "municipality"),
    "prefecture": ("都道府県", "都道府県名", "pref", "prefecture"),
    "population": (
        "人口",
        "総人口",
        "人口総数",
        "総数",
        "人口(総数)",
        "総数(人口)",
        "計",
        "総計",
        "合計",
        "男女計",
        "総数(男女計)",
        "住民基本台帳人口",
        "住基人口",
        "人口計",
        "total",
        "pop",
    ),
    "age_unknown": ("年齢不詳", "年齢「不詳」", "年齢(不詳)", "不詳", "unknown"),
    "age_0_14": ("年少人口", "0-14"),
    "age_15_64": ("生産年齢人口", "15-64"),
    "age_65_plus": ("老年人口", "高齢者人口", "高齢者数", "65+", "65plus"),
    "age_75_plus": ("後期高齢者人口", "後期高齢者数", "75+", "75plus"),
    "age_85_plus": ("85+", "85plus"),
    "age_100_plus": ("100+", "100plus"),
    "male": ("男", "男性", "男総数", "総数男", "人口男", "総人口(男)", "男(人口)", "male"),
    "female": ("女", "女性", "女総数", "総数女", "人口女", "総人口(女)", "女(人口)", "female"),
}
#: Totals of part of the residents: the population only when the table has no total of everyone.
_PARTIAL_POPULATION = ("日本人住民", "日本人人口", "日本人", "日本人住民人口")
#: Columns that split rows instead of holding counts (long e-Stat and 住基 layouts): the header,
#: the values that mean everyone, and the values kept as columns of the total row.
_DIMENSIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...], dict[str, str]]] = {
    "sex": (
        ("男女", "性別", "男女別", "性", "sex"),
        ("総数", "計", "男女計", "総計", "合計"),
        {"男": "male", "男性": "male", "女": "female", "女性": "female"},
    ),
    "nationality": (
        ("国籍総数か日本人", "国籍", "国籍別", "日本人・外国人", "住民の別"),
        ("国籍総数", "総数", "計", "総計", "合計", "日本人住民+外国人住民"),
        {},
    ),
}
#: Age ranges (first, last; None = and over) → column.
_RANGES: dict[tuple[int, int | None], str] = {
    **{(a, a + 4): f"age_{a}_{a + 4}" for a in range(0, 100, 5)},
    (100, None): "age_100_plus",
    (0, 14): "age_0_14",
    (15, 64): "age_15_64",
    (65, None): "age_65_plus",
    (75, None): "age_75_plus",
    (85, None): "age_85_plus",
}
_NOISE = re.compile(r"[(\[【]再掲[)\]】]|^うち|[(\[【](?:人|人数)[)\]】]$")
_DASH = re.compile(r"(?<=[\d歳])[-‐‑–—―−ー〜~](?=\d|$)")
_AGE_SPAN = re.compile(r"(\d+)歳?~(\d+)歳(?:人口)?|(\d+)~(\d+)")
_AGE_OVER = re.compile(r"(\d+)(?:歳以上|歳~|\+|plus|歳以上人口|歳~人口)")
_AGE_UNDER = re.compile(r"(\d+)歳未満(?:人口)?")
_CODE_LIKE = re.compile(r".*(?:市区町村|市町村|地域|団体|自治体).*コード")
_NAME_LIKE = re.compile(r".*(?:市区町村|市町村)(?:名|名称)?(?:\(.*\))?")  # 「全国，都道府県，市区町村（…含む）」


def _header_key(header: object) -> str:
    """A header as compared: NFKC, lower case, no spaces, without （再掲）/うち/（人）, dashes as ~."""
    text = unicodedata.normalize("NFKC", str(header)).lower()
    text = "".join(text.split()).replace("_", "-")
    text = _NOISE.sub("", text)
    return _DASH.sub("~", text)


def _age_range(key: str) -> tuple[int, int | None] | None:
    """(first, last) of an age header key: 0~4歳 → (0, 4), 65歳以上 → (65, None), 15歳未満 → (0, 14)."""
    if m := _AGE_SPAN.fullmatch(key):
        lo, hi = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        return int(lo), int(hi)
    if m := _AGE_OVER.fullmatch(key):
        return int(m.group(1)), None
    if m := _AGE_UNDER.fullmatch(key):
        return 0, int(m.group(1)) - 1
    return None


_BY_KEY = {
    _header_key(h): canon for canon, headers in {"code": CODE_HEADERS, **_NAMED}.items() for h in (canon, *headers)
}
_BY_KEY.update({_header_key(c): c for c in [*AGE_BANDS, *GROUP_COLUMNS]})
_PARTIAL_KEYS = frozenset(_header_key(p) for p in _PARTIAL_POPULATION)
_DIMENSION_OF = {_header_key(h): dim for dim, (headers, _, _) in _DIMENSIONS.items() for h in headers}


def _column_of(header: object) -> str | None:
    """The canonical column a header means, or None when it is not understood."""
    key = _header_key(header)
    if key in _BY_KEY:
        return _BY_KEY[key]
    span = _age_range(key)
    if span is not None:
        return _RANGES.get(span)
    if _CODE_LIKE.fullmatch(key):
        return "code"
    if _NAME_LIKE.fullmatch(key) and "コード" not in key:
        return "name"
    return None


def _plan_columns(headers: list[str]) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """Aliases for `rename_columns` (canonical → the table's own headers) and notes on the rest.

    Every header that is not used is named in a note, so that a 65+ column with a header we do
    not know never disappears silently.
    """
    found: dict[str, list[str]] = {}
    partial: list[str] = []
    unknown: list[str] = []
    other_ages: list[str] = []
    for h in headers:
        key = _header_key(h)
        if key in _DIMENSION_OF:
            found.setdefault(_DIMENSION_OF[key], []).append(h)
        elif (canon := _column_of(h)) is not None:
            found.setdefault(canon, []).append(h)
        elif key in _PARTIAL_KEYS:
            partial.append(h)
        elif _age_range(key) is not None:
            other_ages.append(h)
        else:
            unknown.append(h)
    notes: list[str] = []
    if partial and "population" not in found:
        found["population"] = partial[:1]
        partial = partial[1:]
        notes.append(f"列「{found['population'][0]}」を人口として使いました（総数の列がないため）。")
    if partial:
        total = found["population"][0]
        notes.append(f"列{_quoted(partial)}は使いませんでした（人口は列「{total}」を使います）。")
    if other_ages:
        notes.append(f"列{_quoted(other_ages)}は使いませんでした（この年齢の区切りは使いません）。")
    if unknown:
        notes.append(f"列{_quoted(unknown)}は使いませんでした（分からない見出し）。")
    return {k: tuple(v) for k, v in found.items()}, notes


def _quoted(headers: list[str], limit: int = 12, width: int = 40) -> str:
    """「世帯数」「前年比」 ほかN列: headers for a note, each cut short (a header is user text of any length)."""
    shown = "".join(f"「{h if len(h) <= width else h[:width] + '…'}」" for h in headers[:limit])
    return shown + (f"ほか{len(headers) - limit}列" if len(headers) > limit else "")


def _label_of(col: str) -> str:
    """A canonical column as a person reads it (for messages about a table without our headers)."""
    named = _NAMED.get(col)
    if named:
        return named[0]
    span = next((k for k, v in _RANGES.items() if v == col), None)
    if span is None:
        return col
    return f"{span[0]}歳以上" if span[1] is None else f"{span[0]}～{span[1]}歳"


#: Header names that mark the header row among title rows (read_table's hints).
_HINTS = [
    *CODE_HEADERS,
    *_NAMED["name"],
    *_NAMED["population"],
    *_PARTIAL_POPULATION,
    "0～4歳",
    "0歳～4歳",
    "65歳以上",
    "code",
    "name",
    "population",
]


def _split_dimensions(df: pd.DataFrame, label: str) -> tuple[pd.DataFrame, list[str]]:
    """Long tables (one row per sex or nationality): keep the rows of everyone, the sexes as columns."""
    notes: list[str] = []
    headers = df.attrs.get("headers", {})
    for dim, (_, totals, parts) in _DIMENSIONS.items():
        if dim not in df.columns:
            continue
        values = df[dim].astype("string").map(lambda v: _header_key(v) if pd.notna(v) else "")
        total = values.isin({_header_key(t) for t in totals})
        shown = headers.get(dim, dim)
        if not total.any():
            raise InputError(
                f"列「{shown}」に総数の行（{'・'.join(totals[:3])}）がありません。"
                "総数の行を加えるか、この列を消して1市町村1行の表にしてください。",
                source=label,
            )
        key = "code" if "code" in df.columns else "name"
        used: list[str] = []
        for part, col in parts.items():
            rows = df[values == _header_key(part)]
            if rows.empty or col in df.columns or "population" not in df.columns:
                continue
            by_key = rows.drop_duplicates(key).set_index(key)["population"]
            df = df.assign(**{col: df[key].map(by_key)})
            used.append(part)
        used_rows = values.isin({_header_key(p) for p in used})
        others = int((~total & ~used_rows).sum())
        said = [f"「{'」「'.join(used)}」の行は男女別の人口に使いました"] if used else []
        said += [f"ほかの {others} 行は使いませんでした"] if others else []
        if said:
            notes.append(
                f"{label}: 列「{shown}」が「{df.loc[total, dim].iloc[0]}」の行を人口にしました（{'。'.join(said)}）。"
            )
        df = df[total].drop(columns=[dim])
    return df, notes


def _embedded() -> pd.DataFrame:
    from geo_app.io import datasets

    df = pd.read_csv(datasets.population_path(), dtype={"code": "string", "parent_code": "string"})
    return df


def load_population(
    source: TableSource | pd.DataFrame | str = "census2020",
    *,
    name: str | None = None,
    prefecture: str | None = None,
) -> pd.DataFrame:
    """A population table with `code` (5-digit), `name`, `population` and whatever age columns exist.

    "census2020" is the embedded 2020 census (1,741 municipalities + 175 wards). Otherwise a
    user's CSV/XLSX (UTF-8, UTF-8 with BOM, cp932, UTF-16; or a DataFrame) with Japanese or
    English headers. Codes may be integers that lost their zero, 6 digits with a check digit, or
    full-width; a table with names and no codes is matched by name within `prefecture` (or its
    都道府県 column, or the prefecture of the other rows' codes). 「1,234」 is a number and 「-」 is 0.
    Group columns are derived from 5-year bands when the table has bands and not the groups.
    A 男女/性別 column (e-Stat 2-7-1, 住基) selects the 総数/計 rows; 男/女 become `male`/`female`.
    Total rows (全国, 北海道, 特別区部, 合計) are dropped; `attrs['notes']` says what was assumed.
    Any problem raises InputError with a Japanese message naming the file and rows.
    """
    if isinstance(source, str) and source == "census2020":  # our own data: not under the input guard
        df = _embedded()
        df.attrs["source"] = "令和2年国勢調査（総務省統計局）"
        df.attrs["notes"] = []
        return df
    return _load_population(source, name=name, prefecture=prefecture)


@japanese_errors("人口表")
def _load_population(source, *, name: str | None, prefecture: str | None) -> pd.DataFrame:
    """A user's table, parsed under the input guard: whatever it does to the readers is its problem."""
    if isinstance(source, pd.DataFrame):
        raw = as_text_frame(source)
        raw.attrs["source"] = name or raw.attrs.get("source") or "人口表"  # the name given wins
    else:
        raw = read_table(source, name=name, header_hints=_HINTS)
    label = raw.attrs.get("source", name or "人口表")
    notes = list(raw.attrs.get("notes", []))
    aliases, header_notes = _plan_columns([str(c) for c in raw.columns])
    notes.extend(f"{label}: {n}" for n in header_notes)
    df = rename_columns(raw, aliases)
    headers = dict(df.attrs.get("headers", {}))
    if "population" not in df.columns or not ({"code", "name"} & set(df.columns)):
        missing = []
        if not ({"code", "name"} & set(df.columns)):
            missing.append("市町村コード（code）か市町村名（name）")
        if "population" not in df.columns:
            missing.append("人口（population）")
        raise InputError(
            f"人口表に必要な列がありません: {'、'.join(missing)}。"
            "見出し行に「市町村コード」「人口」などの列名を入れてください（今の列: "
            f"{'、'.join(map(str, raw.columns[:8]))}）。",
            source=label,
        )
    df, split_notes = _split_dimensions(df, label)
    notes.extend(split_notes)
    codes, keep, code_notes = codes_for_rows(
        df,
        label=label,
        prefecture=prefecture,
        error=InputError,
        unknown="note",
        drop_totals=True,
        check_wards=False,
        what="人口表",  # census tables hold a designated city and its wards
    )
    notes.extend(code_notes)
    df = df.assign(code=codes)[keep]
    df.attrs["headers"] = headers  # the user's own headers, for messages about a cell
    numeric = [c for c in _COUNTED if c in df.columns]
    df = to_numbers(df, numeric, label=label)
    if all(b in df.columns for b in AGE_BANDS):
        for group, bands in _GROUP_BANDS.items():
            if group not in df.columns:
                df[group] = df[bands].sum(axis=1, min_count=len(bands))
    _check_consistent(df, label, headers)
    if "name" not in df.columns:
        df["name"] = pd.NA
    # A designated city's wards point to the city, so a ward-level table still gives the city a
    # total, and a table with both city and ward rows does not report the wards as unknown.
    city = city_of(df["code"])
    df["parent_code"] = city.where(city != df["code"])
    keep_cols = [
        "code",
        "name",
        "parent_code",
        *[c for c in [*_COUNTED] if c in df.columns],
    ]
    out = df[keep_cols].reset_index(drop=True)
    out.attrs["source"] = label
    out.attrs["notes"] = notes
    return out


def _check_consistent(df: pd.DataFrame, label: str, headers: dict[str, str]) -> None:
    """An age group larger than the population is a shifted column or a typo, never data."""
    if "population" not in df.columns:
        return
    for col in [c for c in [*GROUP_COLUMNS, "age_unknown", *AGE_BANDS, *_SEX_COLUMNS] if c in df.columns]:
        bad = (df[col] > df["population"]).fillna(False)
        if bad.any():
            first = bad[bad].index[0]
            raise InputError(
                f"{df.at[first, 'code']} の「{headers.get(col) or _label_of(col)}」（{int(df.at[first, col]):,}人）"
                f"が人口（{int(df.at[first, 'population']):,}人）より多くなっています。"
                "列がずれていないか、数字を確かめてください。",
                source=label,
                row=file_row(first),
            )


def _value_columns(pop: pd.DataFrame) -> list[str]:
    return [c for c in ["population", "age_unknown", *GROUP_COLUMNS, *AGE_BANDS] if c in pop.columns]


def _with_city_totals(pop: pd.DataFrame, wanted: pd.Series) -> pd.DataFrame:
    """Add a city row summed from its wards where a wanted city has ward rows only."""
    if "parent_code" not in pop.columns:
        return pop
    lacking = set(wanted) - set(pop["code"])
    wards = pop[pop["parent_code"].isin(lacking)]
    if wards.empty:
        return pop
    sums = wards.groupby("parent_code")[_value_columns(pop)].sum().reset_index().rename(columns={"parent_code": "code"})
    out = pd.concat([pop, sums], ignore_index=True)
    out.attrs = dict(pop.attrs)
    return out


def attach_population(munis, pop: pd.DataFrame, *, report=None):
    """Join population onto municipalities by code and report what matched nothing, both ways."""
    from geo_app.io.report import LoadReport

    report = report if report is not None else LoadReport()
    label = pop.attrs.get("source", "人口表")
    cols = _value_columns(pop)
    table = _with_city_totals(pop, munis["code"]).drop_duplicates("code").set_index("code")
    joined = munis.join(table[cols], on="code")
    joined.attrs = dict(munis.attrs)
    for c in cols:
        joined[c] = joined[c].astype("Int64")

    missing = munis.loc[~munis["code"].isin(table.index), "code"].tolist()
    unit_names = dict(zip(munis["code"].astype(str), munis["name"], strict=True)) if "name" in munis else {}
    # Table rows that describe a loaded unit in another granularity are detail, not mismatches:
    # the city row behind kept wards, and the ward rows of a merged city.
    related = set(munis["code"]) | set(munis.get("city_code", munis["code"]))
    if "parent_code" in table.columns:
        related |= set(table.index[table["parent_code"].isin(munis["code"])])
    prefs = set(munis["code"].str[:2])
    extra = [c for c in table.index if c[:2] in prefs and c not in related]
    table_names = table["name"].dropna().astype(str).to_dict() if "name" in table.columns else {}
    report.add(
        "population_missing",
        len(missing),
        f"人口表（{label}）に人口がない市区町村 {len(missing)} 件: {named_codes(missing, unit_names)}。"
        "人口は空欄として扱います。",
    )
    report.add(
        "population_unmatched",
        len(extra),
        f"人口表（{label}）のコードで境界データにないもの {len(extra)} 件: {named_codes(extra, table_names)}。"
        "合併前の旧コードなどでないか確かめてください。",
    )
    return add_rates(joined)
