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
"""

from __future__ import annotations

import argparse
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


def build_secondary_plans(shared: Path, out: Path) -> Path:
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
    rows = rows[PLAN_COLUMNS].sort_values("code", kind="stable")
    path = out / "plans" / "secondary-2020.csv"
    _write_csv(rows, path)
    return path


def build_all(shared: Path = DEFAULT_SHARED, out: Path = ROOT / "data") -> list[Path]:
    return [
        build_boundaries(shared, out),
        build_population(shared, out),
        build_hokkaido_plan(shared, out),
        build_secondary_plans(shared, out),
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
