"""Population tables keyed by municipality code: the embedded 2020 census or the user's own.

Counts are raw census counts: people of unknown age (年齢不詳) are kept apart, so the aging rate
is computed the census way, 65+ ÷ (population − 年齢不詳).
"""

from __future__ import annotations

import pandas as pd

from geo_app.core.codes import city_of
from geo_app.core.counts import AGE_BANDS, GROUP_COLUMNS, add_rates
from geo_app.core.errors import InputError
from geo_app.io.names import CODE_HEADERS, codes_for_rows
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


def _aliases() -> dict[str, tuple[str, ...]]:
    al: dict[str, tuple[str, ...]] = {
        "code": CODE_HEADERS,
        "name": ("市町村名", "市区町村名", "市町村", "市区町村", "名称", "地域名", "地域", "municipality"),
        "population": ("人口", "総人口", "人口総数", "総数", "人口（総数）", "total", "pop"),
        "age_unknown": ("年齢不詳", "年齢「不詳」", "不詳", "unknown"),
        "age_0_14": ("0～14歳", "0-14歳", "0〜14歳", "15歳未満", "年少人口", "0_14", "0-14"),
        "age_15_64": ("15～64歳", "15-64歳", "15〜64歳", "生産年齢人口", "15_64", "15-64"),
        "age_65_plus": ("65歳以上", "老年人口", "高齢者人口", "65+", "65plus"),
        "age_75_plus": ("75歳以上", "後期高齢者人口", "75+", "75plus"),
        "age_85_plus": ("85歳以上", "85+", "85plus"),
    }
    for a in range(0, 100, 5):
        al[f"age_{a}_{a + 4}"] = (
            f"{a}～{a + 4}歳",
            f"{a}-{a + 4}歳",
            f"{a}〜{a + 4}歳",
            f"{a}_{a + 4}",
            f"{a}-{a + 4}",
        )
    al["age_100_plus"] = ("100歳以上", "100+", "100plus")
    al["prefecture"] = ("都道府県", "都道府県名", "pref")
    return al


ALIASES = _aliases()
_HINTS = [n for key in ("code", "name", "population") for n in (key, *ALIASES[key])]


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
        raw.attrs.setdefault("source", name or "人口表")
    else:
        raw = read_table(source, name=name, header_hints=_HINTS)
    label = raw.attrs.get("source", name or "人口表")
    notes = list(raw.attrs.get("notes", []))
    df = rename_columns(raw, ALIASES)
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
    numeric = [c for c in ["population", "age_unknown", *AGE_BANDS, *GROUP_COLUMNS] if c in df.columns]
    df = to_numbers(df, numeric, label=label)
    if all(b in df.columns for b in AGE_BANDS):
        for group, bands in _GROUP_BANDS.items():
            if group not in df.columns:
                df[group] = df[bands].sum(axis=1, min_count=len(bands))
    _check_consistent(df, label)
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
        *[c for c in ["population", "age_unknown", *GROUP_COLUMNS, *AGE_BANDS] if c in df.columns],
    ]
    out = df[keep_cols].reset_index(drop=True)
    out.attrs["source"] = label
    out.attrs["notes"] = notes
    return out


def _check_consistent(df: pd.DataFrame, label: str) -> None:
    """An age group larger than the population is a shifted column or a typo, never data."""
    if "population" not in df.columns:
        return
    for col in [c for c in [*GROUP_COLUMNS, "age_unknown", *AGE_BANDS] if c in df.columns]:
        bad = (df[col] > df["population"]).fillna(False)
        if bad.any():
            first = bad[bad].index[0]
            raise InputError(
                f"{df.at[first, 'code']} の「{ALIASES[col][0]}」（{int(df.at[first, col]):,}人）"
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
    # Table rows that describe a loaded unit in another granularity are detail, not mismatches:
    # the city row behind kept wards, and the ward rows of a merged city.
    related = set(munis["code"]) | set(munis.get("city_code", munis["code"]))
    if "parent_code" in table.columns:
        related |= set(table.index[table["parent_code"].isin(munis["code"])])
    prefs = set(munis["code"].str[:2])
    extra = [c for c in table.index if c[:2] in prefs and c not in related]
    report.add(
        "population_missing",
        len(missing),
        f"人口表（{label}）に人口がない市区町村 {len(missing)} 件: {', '.join(missing[:10])}"
        + (" ほか" if len(missing) > 10 else "")
        + "。人口は空欄として扱います。",
    )
    report.add(
        "population_unmatched",
        len(extra),
        f"人口表（{label}）のコードで境界データにないもの {len(extra)} 件: {', '.join(extra[:10])}"
        + (" ほか" if len(extra) > 10 else "")
        + "。合併前の旧コードなどでないか確かめてください。",
    )
    return add_rates(joined)
