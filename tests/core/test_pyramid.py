"""Pyramids by sex: area sums by AreaTally's rules (unknown when a member lacks figures) and the prefecture's."""

from __future__ import annotations

import csv

import pandas as pd
import pytest
from conftest import SHARED

from geo_app import load_plan
from geo_app.core.counts import AGE_BANDS
from geo_app.core.pyramid import (
    PYRAMID_COUNTS,
    area_pyramids,
    describes,
    prefecture_label,
    prefecture_pyramid,
    pyramid_of,
)
from geo_app.io.population_sex import load_population_by_sex

RAW = SHARED / "population" / "raw" / "population_census_2020_table2-7-1.csv"
needs_shared = pytest.mark.skipif(not RAW.is_file(), reason="../shared/data is not beside this checkout")


def _raw(codes: set[str]) -> dict[tuple[str, str], list[int]]:
    """(code, sex) → the raw row's numbers (総数, 21 bands, 不詳, R1–R6), read with the csv module alone."""
    out = {}
    with RAW.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.reader(f):
            if len(row) > 11 and row[8] in codes and row[5] in ("男", "女") and not row[9].startswith("（旧"):
                out[(row[8], row[5])] = [0 if v == "-" else int(v.replace(",", "")) for v in row[11:]]
    return out


@pytest.fixture(scope="module")
def by_sex() -> pd.DataFrame:
    return load_population_by_sex()


@needs_shared
def test_furano_75_plus_by_sex_equals_its_members_in_the_raw_file(by_sex, hokkaido_plan):
    t = hokkaido_plan.table
    members = set(t.loc[t["secondary"] == "富良野", "code"])
    assert len(members) == 5  # 富良野市, 上富良野町, 中富良野町, 南富良野町, 占冠村
    raw = _raw(members)
    pyr = area_pyramids(by_sex, hokkaido_plan, "secondary").set_index(["area", "sex"])
    for sex in ("男", "女"):
        expected_75 = sum(raw[(c, sex)][26] for c in members)  # R4 75歳以上: the source's own subtotal
        expected_total = sum(raw[(c, sex)][0] for c in members)
        row = pyr.loc[("富良野", sex)]
        assert int(row[AGE_BANDS[15:]].sum()) == expected_75, sex
        assert int(row[PYRAMID_COUNTS].sum()) == expected_total, sex
        assert [int(v) for v in row[AGE_BANDS]] == [sum(raw[(c, sex)][1 + i] for c in members) for i in range(21)]


def test_rows_per_area_in_tally_order(by_sex, hokkaido_plan, hokkaido):
    from geo_app import dissolve

    pyr = area_pyramids(by_sex, hokkaido_plan, "homecare")
    areas = dissolve(hokkaido, hokkaido_plan, "homecare")
    assert list(pyr["area"].iloc[::2]) == list(areas["area"])
    assert list(pyr["sex"]) == ["男", "女"] * len(areas)
    # 男 + 女 per area = the both-sexes figures the tally gives every other view
    both = pyr.groupby("area", sort=False)[AGE_BANDS].sum(min_count=1)
    known = areas.set_index("area")[AGE_BANDS].dropna()
    assert len(known) == 33
    assert (both.loc[known.index].astype("int64") == known.astype("int64")).all().all()


def test_a_member_without_figures_by_sex_makes_the_area_unknown(by_sex, hokkaido_plan):
    gone = by_sex[by_sex["code"] != "01463"]  # 占冠村, a member of 富良野
    pyr = area_pyramids(gone, hokkaido_plan, "secondary").set_index(["area", "sex"])
    assert pyr.loc["富良野", PYRAMID_COUNTS].isna().all().all()  # never a partial total
    assert pyramid_of(pyr.loc["富良野"].reset_index()) is None
    full = area_pyramids(by_sex, hokkaido_plan, "secondary").set_index(["area", "sex"])
    others = [a for a in full.index.get_level_values(0).unique() if a != "富良野"]
    assert full.loc[others].equals(pyr.loc[others])
    # only one sex missing: that side is unknown, the other is not
    no_men = by_sex[~((by_sex["code"] == "01463") & (by_sex["sex"] == "男"))]
    half = area_pyramids(no_men, hokkaido_plan, "secondary").set_index(["area", "sex"])
    assert half.loc[("富良野", "男"), PYRAMID_COUNTS].isna().all()
    assert half.loc[("富良野", "女"), PYRAMID_COUNTS].equals(full.loc[("富良野", "女"), PYRAMID_COUNTS])


@needs_shared
def test_prefecture_equals_the_raw_prefecture_row(by_sex):
    raw = _raw({"01000", "14000", "13000"})
    for code in ("01", "14", "13"):  # 14: 川崎市・横浜市・相模原市 wards are not counted twice
        pref = prefecture_pyramid(by_sex, [code])
        for sex in ("男", "女"):
            assert [int(v) for v in pref.loc[sex, PYRAMID_COUNTS]] == raw[(f"{code}000", sex)][1:23], (code, sex)


def test_whole_hokkaido_plan_adds_up_to_the_prefecture(by_sex, hokkaido_plan):
    pyr = area_pyramids(by_sex, hokkaido_plan, "tertiary")
    sums = pyr.groupby("sex")[PYRAMID_COUNTS].sum()
    pref = prefecture_pyramid(by_sex, ["01"])
    assert (sums.loc[["男", "女"]].astype("int64").to_numpy() == pref.astype("int64").to_numpy()).all()


def test_plan_by_ward_uses_ward_rows(by_sex):
    plan = load_plan("secondary-2020:神奈川県")
    pyr = area_pyramids(by_sex, plan, "secondary")
    assert not pyr[PYRAMID_COUNTS].isna().any().any()
    totals = pyr.groupby("sex")[PYRAMID_COUNTS].sum()
    pref = prefecture_pyramid(by_sex, ["14"])
    assert (totals.loc[["男", "女"]].to_numpy() == pref.to_numpy()).all()


def test_describes_only_the_census_population(by_sex, hokkaido):
    assert describes(by_sex, hokkaido)
    own = hokkaido.copy()
    own.loc[own["code"] == "01100", "population"] = 1_960_000  # a newer count of Sapporo
    assert not describes(by_sex, own)
    assert not describes(by_sex, hokkaido.drop(columns="population"))


def test_prefecture_labels():
    assert prefecture_label(["01"]) == "道全体"
    assert prefecture_label(["13"]) == "都全体"
    assert prefecture_label(["27"]) == "府全体"
    assert prefecture_label(["14"]) == "県全体"
    assert prefecture_label(["13", "14"]) == "都道府県全体"
