#!/usr/bin/env python3
"""Derive data/population/census2020_sex.csv (男・女 by 5-year band) from the raw e-Stat table 2-7-1.

    python scripts/build_sex_bands.py [--shared ../shared/data] [--out data]

The embedded census2020.csv has bands for both sexes together and male/female totals only; a
pyramid by sex needs the raw file's 男 and 女 rows. Same rows as census2020.csv (1,741
municipalities + 175 designated-city wards, chosen by the rules of ../shared/data/population/
SOURCES.md: no 「（旧」 rows, no 全国, prefecture or 13100 特別区部 rows), two rows per code
(男, then 女), sorted by code; counts as integers ("1,234" → 1234, "-" → 0). Deterministic.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = ROOT.parent / "shared" / "data"
RAW = Path("population") / "raw" / "population_census_2020_table2-7-1.csv"

BANDS = [f"age_{a}_{a + 4}" for a in range(0, 100, 5)] + ["age_100_plus"]
#: Output columns: the code, the sex, the 21 bands and 年齢「不詳」.
COLUMNS = ["code", "sex", *BANDS, "age_unknown"]
SEXES = ("男", "女")
_SOURCE_AGES = [f"{a}～{a + 4}歳" for a in range(0, 100, 5)] + ["100歳以上", "年齢「不詳」"]
_AREA_CODE = "全国，都道府県，市区町村（2000年市区町村含む） コード"
_AREA_NAME = "全国，都道府県，市区町村（2000年市区町村含む）"


def read_raw(path: Path) -> pd.DataFrame:
    """The raw table as text, headed by its age names (line 11); data from line 12."""
    return pd.read_csv(path, skiprows=10, header=0, dtype=str, encoding="utf-8-sig", keep_default_na=False)


def sex_bands(raw: pd.DataFrame) -> pd.DataFrame:
    """男 and 女 rows of municipalities and wards, as integers, sorted by code then sex."""
    code, name = raw[_AREA_CODE], raw[_AREA_NAME]
    keep = (
        raw["男女"].isin(SEXES)
        & ~name.str.startswith("（旧")
        & (code != "00000")
        & ~code.str.endswith("000")  # the 47 prefecture rows
        & (code != "13100")  # 特別区部: the 23 wards added together
    )
    rows = raw.loc[keep]
    counts = rows[_SOURCE_AGES].apply(lambda col: col.str.replace(",", "", regex=False).replace("-", "0"))
    out = pd.DataFrame({"code": rows[_AREA_CODE], "sex": rows["男女"]})
    for target, source in zip([*BANDS, "age_unknown"], _SOURCE_AGES, strict=True):
        out[target] = counts[source].astype("int64")  # anything else than digits is an error here
    out["sex_order"] = out["sex"].map({s: i for i, s in enumerate(SEXES)})
    out = out.sort_values(["code", "sex_order"], kind="stable").drop(columns="sex_order")
    if out.duplicated(["code", "sex"]).any():
        raise ValueError("raw table: a code appears twice for one sex")
    return out[COLUMNS].reset_index(drop=True)


def build_sex_bands(shared: Path = DEFAULT_SHARED, out: Path = ROOT / "data") -> Path:
    """Write out/population/census2020_sex.csv; refuse if its codes differ from the census CSV's."""
    frame = sex_bands(read_raw(shared / RAW))
    census = pd.read_csv(shared / "population" / "census2020_municipalities.csv", dtype={"code": str})
    if set(frame["code"]) != set(census["code"]) or len(frame) != 2 * len(census):
        raise ValueError("census2020_sex: the codes differ from census2020_municipalities.csv")
    path = out / "population" / "census2020_sex.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    ap.add_argument("--out", type=Path, default=ROOT / "data")
    args = ap.parse_args(argv)
    if not (args.shared / RAW).is_file():
        print(f"国勢調査の元ファイル {args.shared / RAW} がありません。", file=sys.stderr)
        return 2
    p = build_sex_bands(args.shared, args.out)
    print(f"wrote {p} ({p.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
