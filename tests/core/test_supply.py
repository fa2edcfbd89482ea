"""Supply beside demand: facility counts per area and per 1,000 people aged 75+, as `geo-app summary` writes them.

The expected figures are computed here from the raw source files (the facility tables of ../shared, the census
and the 2018 IPSS edition) with the csv module: the members' counts added (a designated city's wards with it),
the ratio of the sums × 1,000, and unknown (an empty cell) where a source has nothing, never 0.
"""

from __future__ import annotations

import contextlib
import csv
import io
from fractions import Fraction
from functools import cache
from pathlib import Path

import pytest

from geo_app import load_plan
from geo_app.cli import main

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
STATIONS = SHARED / "facilities" / "home_nursing_stations_mhlw130.csv"
SUPPORT = SHARED / "facilities" / "hokkaido_zaitaku_shien_kouseikyoku_20251001.csv"
CENSUS = SHARED / "population" / "census2020_municipalities.csv"
IPSS2018 = SHARED / "projections" / "ipss2018_municipal_projections_5yr.csv"

pytestmark = pytest.mark.skipif(
    not all(p.exists() for p in (STATIONS, SUPPORT, CENSUS, IPSS2018)), reason="../shared/data is not here"
)


@cache
def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _city_and_wards(code: str) -> set[str]:
    """A code and, for a designated city, its wards (the census lists them with parent_code)."""
    return {code} | {r["code"] for r in _rows(CENSUS) if r.get("parent_code") == code}


def stations(codes: list[str]) -> int:
    want = set().union(*(_city_and_wards(c) for c in codes))
    return sum(1 for r in _rows(STATIONS) if r["code"] in want and r["provider_kind"] == "訪問看護ステーション")


def supports(codes: list[str]) -> int:
    """在宅療養支援診療所 and 在宅療養支援病院 (not 後方支援病院), each institution once."""
    want = set().union(*(_city_and_wards(c) for c in codes))
    kinds = {"在宅療養支援診療所", "在宅療養支援病院"}
    return len({r["inst_no"] for r in _rows(SUPPORT) if r["code"] in want and r["type"] in kinds})


def age75_census(codes: list[str]) -> int:
    by = {r["code"]: r for r in _rows(CENSUS)}
    return sum(int(by[c]["age_75_plus"]) for c in codes)


def age75_2040(codes: list[str]) -> int:
    bands = ("age_75_79", "age_80_84", "age_85_89", "age_90_plus")
    rows = {(r["code"], r["year"]): r for r in _rows(IPSS2018)}
    return sum(sum(int(rows[(c, "2040")][b]) for b in bands) for c in codes)


@cache
def summary(plan: str, level: str) -> dict[str, dict[str, str]]:
    out, err = io.StringIO(), io.StringIO()
    argv = ["summary", "--plan", plan, "--level", level, "--format", "csv", "--headers", "en", "--quiet"]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(argv) == 0, err.getvalue()
    return {r["area"]: r for r in csv.DictReader(io.StringIO(out.getvalue()))}


def members(plan: str, level: str) -> dict[str, list[str]]:
    t = load_plan(plan).table
    return {str(a): g["code"].astype(str).tolist() for a, g in t.groupby(level, sort=False)}


@pytest.mark.parametrize("area", ["上川", "富良野", "札幌市", "宗谷", "札幌（未確定）"])
def test_hokkaido_stations_and_support_per_1000_aged_75(area):
    row, codes = summary("hokkaido-2024", "homecare")[area], members("hokkaido-2024", "homecare")[area]
    n, s = stations(codes), supports(codes)
    assert int(row["home_nursing_stations"]) == n
    assert int(row["zaitaku_shien"]) == s
    now, later = age75_census(codes), age75_2040(codes)
    assert Fraction(row["home_nursing_stations_per_1000_75"]) == pytest.approx(Fraction(n * 1000, now), rel=1e-12)
    assert float(row["home_nursing_stations_per_1000_75_2040"]) == pytest.approx(n * 1000 / later, rel=1e-12)
    assert float(row["zaitaku_shien_per_1000_75"]) == pytest.approx(s * 1000 / now, rel=1e-12)


def test_support_is_unknown_outside_hokkaido_never_zero():
    rows = summary("secondary-2024:岩手県", "secondary")
    for area, codes in members("secondary-2024:岩手県", "secondary").items():
        row = rows[area]
        assert row["zaitaku_shien"] == "" and row["zaitaku_shien_per_1000_75"] == "", area  # unknown, not 0
        assert int(row["home_nursing_stations"]) == stations(codes), area
