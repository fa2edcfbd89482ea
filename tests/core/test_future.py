"""Future figures per area (issue 12) against the IPSS source tables, summed here, independently.

`geo-app summary` is run as users run it; every future figure of its CSV is compared with what this
test computes itself from ../shared/data/projections/*.csv with the csv module: the members' rows
added up (2023 edition: population and 65+; 2018 edition: its 5-year bands), JMAP's published
weights applied to the bands, ratios taken from the sums (exact fractions), and unknown wherever a
member has no row — never a partial sum. Nothing of geo_app's data loading, tally or weights is
used for the expected values; only the plans' membership comes from the plans themselves.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from fractions import Fraction
from functools import cache
from pathlib import Path

import pytest

from geo_app import load_plan
from geo_app.cli import main

PROJECTIONS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "projections"
FILE_2023 = PROJECTIONS / "ipss_municipal_projections.csv"
FILE_2018 = PROJECTIONS / "ipss2018_municipal_projections_5yr.csv"

pytestmark = pytest.mark.skipif(
    not (FILE_2023.exists() and FILE_2018.exists()), reason="../shared/data/projections is not here"
)

#: JMAP's demand weights as published, on the 2018 edition's age groups (5-year bands).
_BANDS = {
    "0_14": ("age_0_4", "age_5_9", "age_10_14"),
    "15_39": ("age_15_19", "age_20_24", "age_25_29", "age_30_34", "age_35_39"),
    "40_64": ("age_40_44", "age_45_49", "age_50_54", "age_55_59", "age_60_64"),
    "65_74": ("age_65_69", "age_70_74"),
    "75_plus": ("age_75_79", "age_80_84", "age_85_89", "age_90_plus"),
}
WEIGHTS = {
    "medical": {"0_14": "0.6", "15_39": "0.4", "40_64": "1.0", "65_74": "2.3", "75_plus": "3.9"},
    "care": {"40_64": "1.0", "65_74": "9.7", "75_plus": "87.3"},
}
YEARS_2023 = (2025, 2030, 2035, 2040, 2045, 2050)
YEARS_2018 = (2025, 2030, 2035, 2040, 2045)
HOKKAIDO_2040 = 4_319_217  # 北海道 2040, 2023 edition (SOURCES.md: 5,224,614 / … / 4,319,217 / …)


# ---- the source tables, read here -----------------------------------------------------------------
@cache
def _table(path: Path) -> dict[tuple[str, int], dict[str, str]]:
    """(code, year) → the row, exactly as published (every kind: municipality, ward, group)."""
    with path.open(encoding="utf-8", newline="") as f:
        return {(r["code"], int(r["year"])): r for r in csv.DictReader(f)}


def _sum(codes: Iterable[str], path: Path, year: int, columns: Iterable[str]) -> int | None:
    """The members' rows added up over `columns`; None when any member has no row for `year`."""
    table, total = _table(path), 0
    for code in codes:
        row = table.get((code, year))
        if row is None:
            return None
        total += sum(int(row[c]) for c in columns)
    return total


def _weighted(codes: list[str], year: int, kind: str) -> Fraction | None:
    parts = [_sum(codes, FILE_2018, year, _BANDS[g]) for g in WEIGHTS[kind]]
    if any(p is None for p in parts):
        return None
    return sum((Fraction(w) * p for w, p in zip(WEIGHTS[kind].values(), parts, strict=True)), Fraction(0))


def _ratio(num: int | Fraction | None, den: int | Fraction | None, scale: int = 1) -> Fraction | None:
    return None if num is None or den is None or den == 0 else Fraction(num) * scale / Fraction(den)


def expected(codes: list[str], key: str) -> int | Fraction | None:
    """The figure `key` (a registry key such as `demand_care_index_2040`) of an area of `codes`."""
    stem, year = re.fullmatch(r"(.+)_(\d{4})", key).groups()  # type: ignore[union-attr]
    y = int(year)
    if stem == "population":
        return _sum(codes, FILE_2023, y, ["population"])
    if stem == "age_65_plus":
        return _sum(codes, FILE_2023, y, ["age_65_plus"])
    if stem == "aging_rate":
        return _ratio(_sum(codes, FILE_2023, y, ["age_65_plus"]), _sum(codes, FILE_2023, y, ["population"]))
    if stem == "population_index":
        return _ratio(_sum(codes, FILE_2023, y, ["population"]), _sum(codes, FILE_2023, 2020, ["population"]), 100)
    if stem == "age_75_plus":
        return _sum(codes, FILE_2018, y, _BANDS["75_plus"])
    if m := re.fullmatch(r"demand_(medical|care)_index", stem):
        return _ratio(_weighted(codes, y, m.group(1)), _weighted(codes, 2020, m.group(1)), 100)
    raise AssertionError(f"no independent computation for {key}: add one to this test")


# ---- geo-app summary, as users run it ---------------------------------------------------------------
@cache
def summary(plan: str, level: str, *args: str) -> tuple[list[str], list[dict[str, str]]]:
    """`geo-app summary --plan PLAN --level LEVEL --format csv ARGS`: header and rows (cached per call)."""
    out, err = io.StringIO(), io.StringIO()
    argv = ["summary", "--plan", plan, "--level", level, "--format", "csv", "--quiet", *args]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    assert code == 0, err.getvalue()
    reader = csv.DictReader(io.StringIO(out.getvalue().removeprefix("\ufeff")))
    return list(reader.fieldnames or []), list(reader)


def members(plan: str, level: str) -> dict[str, list[str]]:
    table = load_plan(plan).table
    return {str(a): g["code"].astype(str).tolist() for a, g in table.groupby(level, sort=False)}


def assert_area(row: dict[str, str], codes: list[str], keys: Iterable[str]) -> None:
    """Every figure of `keys` in the CSV row equals the sum computed here (empty when unknown)."""
    for key in keys:
        want, got = expected(codes, key), row[key]
        where = f"{row['area']} {key}"
        if want is None:
            assert got == "", f"{where}: {got!r}, but a member has no IPSS row: unknown, never a partial sum"
        elif isinstance(want, int):
            assert got != "" and int(got) == want, f"{where}: {got!r} != {want}"
        else:
            assert got != "" and float(got) == pytest.approx(float(want), rel=1e-12, abs=0), f"{where}: {got} != {want}"


def future_keys(header: list[str]) -> list[str]:
    """The CSV's future columns: those with a year, but for the facilities per 1,000 aged 75+ of a
    year (tests/core/test_supply.py checks those)."""
    return [k for k in header if re.fullmatch(r".+_20\d\d", k) and "_per_1000_75" not in k]


# ---- Hokkaido ---------------------------------------------------------------------------------------
def test_hokkaido_homecare_every_future_figure_equals_the_sum_of_the_ipss_tables():
    header, rows = summary("hokkaido-2024", "homecare", "--headers", "en")
    by_area = {r["area"]: r for r in rows}
    plan = members("hokkaido-2024", "homecare")
    assert set(by_area) == set(plan) and len(rows) == 33
    keys = future_keys(header)
    assert {f"{s}_2040" for s in ("population", "age_65_plus", "aging_rate", "age_75_plus")} <= set(keys)
    assert {"demand_medical_index_2040", "demand_care_index_2040"} <= set(keys)
    assert len(keys) == 2 + 4 * len(YEARS_2023) + 3 * len(YEARS_2018)  # 2020 base, every year of both editions
    for area in ("上川", "富良野", "札幌市", "宗谷", "札幌（未確定）"):  # the named ones, first
        assert_area(by_area[area], plan[area], keys)
    assert len(plan["上川"]) == 9 and len(plan["札幌（未確定）"]) == 6  # areas of several members
    for area, row in by_area.items():
        assert_area(row, plan[area], keys)
    # every member is projected: all 2040 figures known, and together they are the prefecture's row
    assert all(r["population_2040"] and r["demand_care_index_2040"] for r in rows)
    assert sum(int(r["population_2040"]) for r in rows) == HOKKAIDO_2040 == expected(["01000"], "population_2040")
    assert int(by_area["札幌市"]["population_2050"]) == 1_745_608  # SOURCES.md anchor


def test_japanese_csv_headers_and_figures_as_shown():
    header, rows = summary("hokkaido-2024", "homecare")
    assert {"人口（2040年推計）", "医療需要指数（2040年、2020年=100）", "介護需要指数（2040年、2020年=100）"} <= set(
        header
    )
    assert {"高齢化率（2040年推計）", "75歳以上（2040年、2018年推計）", "65歳以上（2040年推計）"} <= set(header)
    assert not {"population_2040", "demand_medical_index_2040"} & set(header)
    plan = members("hokkaido-2024", "homecare")
    for row in rows:
        codes = plan[row["在宅医療圏名"]]
        assert int(row["人口（2040年推計）"]) == expected(codes, "population_2040")
        assert int(row["75歳以上（2040年、2018年推計）"]) == expected(codes, "age_75_plus_2040")
        for head, key in (
            ("医療需要指数（2040年、2020年=100）", "demand_medical_index_2040"),
            ("介護需要指数（2040年、2020年=100）", "demand_care_index_2040"),
        ):
            assert re.fullmatch(r"\d+\.\d", row[head]), row[head]  # one decimal place, as the registry shows it
            assert abs(float(row[head]) - float(expected(codes, key))) <= 0.05 + 1e-9
        rate = float(expected(codes, "aging_rate_2040")) * 100
        assert re.fullmatch(r"\d+\.\d%", row["高齢化率（2040年推計）"])
        assert abs(float(row["高齢化率（2040年推計）"].rstrip("%")) - rate) <= 0.05 + 1e-9


# ---- members IPSS did not publish -------------------------------------------------------------------
HAMADORI = {"07204", "07209", "07212", "07541", "07542", "07543", "07544", "07545", "07546", "07547"}
HAMADORI |= {"07548", "07561", "07564"}  # the 13 municipalities of the group 07999 浜通り地域


def _display_cells(line: str) -> list[tuple[int, str]]:
    """(display column where each token ends, token) of a terminal table line (wide characters: 2)."""
    out, col = [], 0
    for m in re.finditer(r"\S+", line):
        col_start = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line[: m.start()])
        col = col_start + sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in m.group())
        out.append((col, m.group()))
    return out


def test_fukushima_hamadori_members_make_their_areas_unknown_never_partial():
    plan_name = "secondary-2024:福島県"
    header, rows = summary(plan_name, "secondary", "--headers", "en")
    by_area = {r["area"]: r for r in rows}
    plan = members(plan_name, "secondary")
    with_hamadori = {a for a, codes in plan.items() if HAMADORI & set(codes)}
    assert with_hamadori == {"いわき", "相双"}
    for codes in plan.values():  # the 13 have no row of their own in either edition
        assert all(expected([c], "population_2040") is None for c in HAMADORI & set(codes))
    for area, row in by_area.items():
        assert_area(row, plan[area], future_keys(header))
        if area in with_hamadori:
            assert row["population_2040"] == "" and row["aging_rate_2040"] == "" and row["population_2020"] == ""
        else:  # the rest of the prefecture is projected one by one in 2023 …
            assert int(row["population_2040"]) > 100_000
        assert row["demand_medical_index_2040"] == row["age_75_plus_2040"] == ""  # … and not at all in 2018
    # 浜通り's figure exists only for the group as a whole, which no area here is
    assert expected(["07999"], "population_2040") is not None

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(["summary", "--plan", plan_name, "--level", "secondary", "--quiet"]) == 0
    lines = out.getvalue().splitlines()
    head = dict((t, c) for c, t in _display_cells(lines[0]))
    total = dict(_display_cells(next(ln for ln in lines if ln.startswith("合計"))))
    assert total[head["人口（2040年推計）"]] == "不明"  # the 合計 too: not the four known areas' sum
    assert total[head["人口"]] == "1,833,152"  # while the census count is known for all 59


# ---- designated cities planned by ward ----------------------------------------------------------------
def test_kawasaki_planned_by_ward_sums_its_wards():
    plan_name = "secondary-2020:神奈川県"
    header, rows = summary(plan_name, "secondary", "--headers", "en")
    by_area = {r["area"]: r for r in rows}
    plan = members(plan_name, "secondary")
    north, south = plan["川崎北部"], plan["川崎南部"]
    assert sorted(north + south) == [f"1413{i}" for i in range(1, 8)]  # the 7 wards, not 14130
    keys = future_keys(header)
    for area in ("川崎北部", "川崎南部", "横浜", "相模原"):
        assert_area(by_area[area], plan[area], keys)
    for key in ("population_2040", "age_65_plus_2040", "age_75_plus_2040"):  # wards add up to the city
        city = expected(["14130"], key)
        assert city is not None and int(by_area["川崎北部"][key]) + int(by_area["川崎南部"][key]) == city
    both = {k: expected(north + south, k) for k in ("demand_medical_index_2040", "demand_care_index_2040")}
    assert both == {k: expected(["14130"], k) for k in both}  # ratios of the wards' sums = the city's
    for area, row in by_area.items():
        assert_area(row, plan[area], keys)
        assert row["population_2040"] and row["demand_care_index_2040"], area  # Kanagawa: all projected
