"""The embedded census by sex (data/population/census2020_sex.csv) and its reader."""

from __future__ import annotations

import csv
import importlib.util

import pandas as pd
import pytest
from conftest import ROOT, SHARED

from geo_app.core.counts import AGE_BANDS
from geo_app.core.pyramid import PYRAMID_COUNTS, SEX_COLUMNS
from geo_app.io.population_sex import load_population_by_sex

RAW = SHARED / "population" / "raw" / "population_census_2020_table2-7-1.csv"
needs_shared = pytest.mark.skipif(not RAW.is_file(), reason="../shared/data is not beside this checkout")


def _raw_row(code: str, sex: str) -> list[int]:
    """The raw e-Stat row of `code` and `sex` (総数 column first), read with the csv module alone."""
    with RAW.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.reader(f):
            if len(row) > 11 and row[5] == sex and row[8] == code and not row[9].startswith("（旧"):
                return [0 if v == "-" else int(v.replace(",", "")) for v in row[11:]]
    raise AssertionError(f"{code} {sex} not in the raw file")


@pytest.fixture(scope="module")
def by_sex() -> pd.DataFrame:
    return load_population_by_sex()


def test_tidy_frame_two_rows_per_census_code(by_sex, census):
    assert list(by_sex.columns) == SEX_COLUMNS
    assert len(by_sex) == 2 * 1916
    assert set(by_sex["sex"]) == {"男", "女"}
    assert not by_sex.duplicated(["code", "sex"]).any()
    assert set(by_sex["code"]) == set(census["code"])
    assert all(str(by_sex[c].dtype) == "int64" for c in PYRAMID_COUNTS)


def test_sexes_add_up_to_the_census_bands_and_totals(by_sex):
    census = pd.read_csv(ROOT / "data" / "population" / "census2020.csv", dtype={"code": str}).set_index("code")
    wide = by_sex.pivot(index="code", columns="sex", values=PYRAMID_COUNTS)
    for col in PYRAMID_COUNTS:  # 男 + 女 = both sexes, band by band, for every code
        both = (wide[(col, "男")] + wide[(col, "女")]).reindex(census.index)
        assert (both == census[col]).all(), col
    male = by_sex[by_sex["sex"] == "男"].set_index("code")[PYRAMID_COUNTS].sum(axis=1).reindex(census.index)
    female = by_sex[by_sex["sex"] == "女"].set_index("code")[PYRAMID_COUNTS].sum(axis=1).reindex(census.index)
    assert (male == census["male"]).all()
    assert (female == census["female"]).all()


@needs_shared
def test_rows_equal_the_raw_file(by_sex):
    rows = by_sex.set_index(["code", "sex"])
    for code, sex in (("01100", "男"), ("01463", "女"), ("13101", "男"), ("14131", "女"), ("07546", "男")):
        raw = _raw_row(code, sex)  # 総数, 21 bands, 不詳, R1…
        assert [int(v) for v in rows.loc[(code, sex), PYRAMID_COUNTS]] == raw[1:23], (code, sex)
        assert int(rows.loc[(code, sex), PYRAMID_COUNTS].sum()) == raw[0]
    # Sapporo's totals as SOURCES.md records them
    assert int(rows.loc[("01100", "男"), PYRAMID_COUNTS].sum()) == 918_682
    assert int(rows.loc[("01100", "女"), PYRAMID_COUNTS].sum()) == 1_054_713


@needs_shared
def test_rebuild_equals_committed(tmp_path):
    spec = importlib.util.spec_from_file_location("build_sex_bands", ROOT / "scripts" / "build_sex_bands.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    built = mod.build_sex_bands(SHARED, tmp_path)
    assert built.read_bytes() == (ROOT / "data" / "population" / "census2020_sex.csv").read_bytes()


def test_each_call_gets_its_own_copy():
    first = load_population_by_sex()
    first.loc[:, AGE_BANDS[0]] = -1
    assert (load_population_by_sex()[AGE_BANDS[0]] >= 0).all()
    assert load_population_by_sex().attrs["source"].startswith("令和2年国勢調査")
