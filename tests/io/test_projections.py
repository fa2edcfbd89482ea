"""The embedded IPSS projections (data/projections/) and their loader, against the shared source files.

Expected figures are read here from ../shared/data/projections/*.csv with the csv module alone and
added up in the test (bands → 15–39, 40–64 …), never taken from the build script or the loader.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, SHARED, build_data_module

from geo_app.io.projections import RENAMED_2018, YEARS_2018, YEARS_2023, load_projections, sources
from geo_app.io.provenance import DataSource

PROJ = SHARED / "projections"
N_2023, N_2018 = "ipss_municipal_projections.csv", "ipss2018_municipal_projections_5yr.csv"
SRC_2023, SRC_2018 = PROJ / N_2023, PROJ / N_2018
needs_shared = pytest.mark.skipif(not SRC_2023.is_file(), reason="../shared/data is not beside this checkout")

HAMADORI = ["07204", "07209", "07212", "07541", "07542", "07543", "07544"]
HAMADORI += ["07545", "07546", "07547", "07548", "07561", "07564"]
KAWASAKI_WARDS = [f"1413{i}" for i in range(1, 8)]
#: Designated cities the 2018 edition projected only as whole cities (SOURCES.md §2).
NO_WARDS_2018 = {"11100", "14150", "15100", "22100", "22130", "27140", "33100", "43100"}
GROUPS = ["age_0_14", "age_15_39", "age_40_64", "age_65_74", "age_75_plus"]
COLS_2023 = [f"population_{y}" for y in range(2020, 2051, 5)] + [f"age_65_plus_{y}" for y in range(2020, 2051, 5)]
COLS_2018 = [f"ipss2018_{g}_{y}" for y in range(2020, 2046, 5) for g in GROUPS]


def _rows(path: Path) -> dict[tuple[str, int], dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return {(r["code"], int(r["year"])): r for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def src_2023() -> dict[tuple[str, int], dict[str, str]]:
    return _rows(SRC_2023)


@pytest.fixture(scope="module")
def src_2018() -> dict[tuple[str, int], dict[str, str]]:
    return _rows(SRC_2018)


def _bands(row: dict[str, str], first: int, last: int) -> int:
    """The sum of the published 5-year bands first…last (e.g. 15, 35 → 15_19 … 35_39)."""
    return sum(int(row[f"age_{a}_{a + 4}"]) for a in range(first, last + 1, 5))


def _groups_2018(row: dict[str, str]) -> dict[str, int]:
    """The five groups of one 2018 row, each added up here from its bands."""
    return {
        "age_0_14": _bands(row, 0, 10),
        "age_15_39": _bands(row, 15, 35),
        "age_40_64": _bands(row, 40, 60),
        "age_65_74": _bands(row, 65, 70),
        "age_75_plus": _bands(row, 75, 85) + int(row["age_90_plus"]),
    }


def _int(value: object) -> int | None:
    return None if pd.isna(value) else int(value)


# ---- shape ---------------------------------------------------------------------------------------


def test_columns_dtypes_and_index_follow_the_codes_given():
    codes = ["01100", "14131", "01100", "99999"]
    got = load_projections(codes)
    assert YEARS_2023 == (2020, 2025, 2030, 2035, 2040, 2045, 2050)
    assert YEARS_2018 == (2020, 2025, 2030, 2035, 2040, 2045)
    assert list(got.columns) == COLS_2023 + COLS_2018
    assert all(str(t) == "Int64" for t in got.dtypes)
    assert list(got.index) == codes and got.index.name == "code"
    assert got.iloc[0].equals(got.iloc[2])
    assert got.loc["99999"].isna().all()  # a code nobody publishes: unknown, not 0
    assert load_projections([]).shape == (0, len(COLS_2023) + len(COLS_2018))


def test_sources_are_the_two_ipss_editions():
    new, old = sources()
    assert isinstance(new, DataSource) and isinstance(old, DataSource)
    assert "『日本の地域別将来推計人口（令和5（2023）年推計）』" in new.credit
    assert "『日本の地域別将来推計人口（平成30（2018）年推計）』" in old.credit
    assert "国立社会保障・人口問題研究所" in new.credit and "国立社会保障・人口問題研究所" in old.credit
    text = (ROOT / "data" / "SOURCES.md").read_text(encoding="utf-8")
    assert "令和5（2023）年推計" in text and "平成30（2018）年推計" in text


# ---- anchors -------------------------------------------------------------------------------------


def test_sapporo_2050():
    assert load_projections(["01100"]).at["01100", "population_2050"] == 1_745_608


@needs_shared
def test_sapporo_every_figure_as_published(src_2023, src_2018):
    got = load_projections(["01100"]).loc["01100"]
    for y in YEARS_2023:
        assert got[f"population_{y}"] == int(src_2023["01100", y]["population"])
        assert got[f"age_65_plus_{y}"] == int(src_2023["01100", y]["age_65_plus"])
    for y in YEARS_2018:
        for group, value in _groups_2018(src_2018["01100", y]).items():
            assert got[f"ipss2018_{group}_{y}"] == value, (group, y)


def test_hokkaido_179_municipalities_2040(census):
    codes = census.loc[(census["kind"] == "municipality") & census["code"].str.startswith("01"), "code"]
    assert len(codes) == 179
    got = load_projections(codes)
    assert got[COLS_2023].notna().all().all()
    assert int(got["population_2040"].sum()) == 4_319_217


@needs_shared
def test_hokkaido_sum_equals_the_prefecture_row(census, src_2023):
    codes = census.loc[(census["kind"] == "municipality") & census["code"].str.startswith("01"), "code"]
    got = load_projections(codes)
    for y in YEARS_2023:
        assert int(got[f"population_{y}"].sum()) == int(src_2023["01000", y]["population"]), y
        assert int(got[f"age_65_plus_{y}"].sum()) == int(src_2023["01000", y]["age_65_plus"]), y


def test_kawasaki_wards_add_up_to_the_city_in_both_editions():
    got = load_projections(["14130", *KAWASAKI_WARDS])
    assert got.notna().all().all()
    wards = got.loc[KAWASAKI_WARDS].sum()
    assert (wards == got.loc["14130"]).all()
    assert got.at["14130", "ipss2018_age_75_plus_2040"] > 0


# ---- unknown where an edition did not project ------------------------------------------------------


def test_hamadori_only_as_its_group_in_2023(census):
    got = load_projections([*HAMADORI, "07999"])
    assert got.loc[HAMADORI, COLS_2023].isna().all().all()
    assert got.loc[HAMADORI, COLS_2018].isna().all().all()  # no Fukushima municipality in 2018 either
    assert pd.isna(got.at["07204", "population_2040"])
    # The group's 2020 figure is the census count of its 13 members, never split back to them.
    members = census.set_index("code").loc[HAMADORI, "population"].sum()
    assert got.at["07999", "population_2020"] == members == 452_508
    assert got.loc["07999", COLS_2018].isna().all()


def test_not_published_is_na_everywhere_else_never_partial(census):
    """Across every census code (1,741 municipalities + 175 wards): NA exactly where SOURCES.md says."""
    codes = list(census["code"])
    got = load_projections(codes)
    parent = census.set_index("code")["parent_code"]
    for cols in (COLS_2023, COLS_2018):  # a row is all known or all unknown in an edition
        part = got[cols].isna().sum(axis=1)
        assert set(part) <= {0, len(cols)}
    na_2023 = set(got.index[got[COLS_2023].isna().all(axis=1)])
    na_2018 = set(got.index[got[COLS_2018].isna().all(axis=1)])
    assert na_2023 == set(HAMADORI)
    fukushima = {c for c in codes if c.startswith("07")}
    assert len(fukushima) == 59
    unsplit = {c for c in codes if parent.get(c) in NO_WARDS_2018}
    assert len(unsplit) == 10 + 3 + 8 + 3 + 7 + 7 + 4 + 5
    assert na_2018 == fukushima | unsplit
    new_hamamatsu = load_projections(["22138", "22139", "22140"])
    assert new_hamamatsu.isna().all().all()


# ---- code changes --------------------------------------------------------------------------------


def test_nakagawa_2018_figures_under_its_2020_code():
    got = load_projections(["40231", "40305"])
    assert got.loc["40231", COLS_2018].equals(got.loc["40305", COLS_2018])
    assert got.loc["40231", COLS_2018].notna().all()
    assert got.loc["40305", COLS_2023].isna().all()  # 2023 has only the new code
    change = RENAMED_2018["40305"]
    assert (change.new, change.date) == ("40231", "2018-10-01")


@needs_shared
def test_renaming_table_covers_exactly_the_codes_that_changed(src_2023, src_2018, census):
    """Every 2018 code not in the 2023 edition is a listed renaming, and nothing else is mapped."""
    codes_2023 = {c for c, _ in src_2023}
    codes_2018 = {c for c, _ in src_2018}
    assert codes_2018 - codes_2023 == set(RENAMED_2018)
    for change in RENAMED_2018.values():
        assert change.new in codes_2023 and change.new not in codes_2018
        assert change.new in set(census["code"])
        assert src_2018[change.old, 2020]["name"] == change.old_name
        assert src_2023[change.new, 2020]["name"] == change.new_name


# ---- every figure, independently ---------------------------------------------------------------------


@needs_shared
def test_every_2023_figure_as_published(src_2023):
    areas = {c: r["kind"] for (c, _), r in src_2023.items() if r["kind"] != "prefecture"}
    assert len(areas) == 1728 + 175 + 1
    got = load_projections(sorted(areas))
    for code in areas:
        for y in YEARS_2023:
            row = src_2023[code, y]
            assert _int(got.at[code, f"population_{y}"]) == int(row["population"]), (code, y)
            assert _int(got.at[code, f"age_65_plus_{y}"]) == int(row["age_65_plus"]), (code, y)


@needs_shared
def test_every_2018_group_is_the_sum_of_its_bands(src_2018):
    """15–39 and 40–64 are sums of the published bands; 0–14, 65–74, 75+ also equal the file's subtotals."""
    areas = sorted({c for (c, _), r in src_2018.items() if r["kind"] in ("municipality", "ward")})
    assert len(areas) == 1682 + 128
    got = load_projections(areas)
    for code in areas:
        for y in YEARS_2018:
            row = src_2018[code, y]
            groups = _groups_2018(row)
            for name in ("age_0_14", "age_65_74", "age_75_plus"):
                assert groups[name] == int(row[name]), (code, y, name)
            assert groups["age_15_39"] + groups["age_40_64"] == int(row["age_15_64"]), (code, y)
            for name, value in groups.items():
                assert _int(got.at[code, f"ipss2018_{name}_{y}"]) == value, (code, y, name)


@needs_shared
def test_a_few_codes_spelled_out(src_2018):
    """旭川市, 美瑛町 and 川崎市川崎区 in 2040: 15–39 and 40–64 band by band."""
    got = load_projections(["01204", "01459", "14131"])
    for code in ("01204", "01459", "14131"):
        row = src_2018[code, 2040]
        young = sum(int(row[b]) for b in ("age_15_19", "age_20_24", "age_25_29", "age_30_34", "age_35_39"))
        middle = sum(int(row[b]) for b in ("age_40_44", "age_45_49", "age_50_54", "age_55_59", "age_60_64"))
        assert got.at[code, "ipss2018_age_15_39_2040"] == young
        assert got.at[code, "ipss2018_age_40_64_2040"] == middle
        assert got.at[code, "ipss2018_age_75_plus_2040"] == int(row["age_75_plus"])


# ---- where the files are found --------------------------------------------------------------------


def test_read_from_the_data_dir(tmp_path, monkeypatch):
    """GEO_APP_DATA_DIR (and so the wheel's _data) is where the tables come from, like the census."""
    shutil.copytree(ROOT / "data" / "projections", tmp_path / "copy" / "projections")
    monkeypatch.setenv("GEO_APP_DATA_DIR", str(tmp_path / "copy"))
    assert load_projections(["01100"]).at["01100", "population_2050"] == 1_745_608
    monkeypatch.setenv("GEO_APP_DATA_DIR", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError):
        load_projections(["01100"])


# ---- the build step ------------------------------------------------------------------------------


@needs_shared
def test_build_is_deterministic_and_equals_committed(tmp_path):
    mod = build_data_module()
    for builder in (mod.build_projections_2023, mod.build_projections_2018):
        first, second = builder(SHARED, tmp_path / "a"), builder(SHARED, tmp_path / "b")
        assert first.read_bytes() == second.read_bytes()
        rel = first.relative_to(tmp_path / "a")
        assert first.read_bytes() == (ROOT / "data" / rel).read_bytes(), rel
        text = first.read_text(encoding="utf-8")
        assert "\r" not in text and text.endswith("\n")
        codes = [line.split(",", 1)[0] for line in text.splitlines()[1:]]
        assert codes == sorted(codes) and len(codes) == len(set(codes))
        assert not any(c.endswith("000") for c in codes)  # no prefecture rows


def _tampered(tmp_path: Path, name: str, line_start: str, edit) -> Path:
    """A copy of the shared projections folder with one line of `name` changed by `edit`."""
    shared = tmp_path / "shared"
    shutil.copytree(PROJ, shared / "projections", ignore=shutil.ignore_patterns("raw"))
    path = shared / "projections" / name
    lines = path.read_text(encoding="utf-8").split("\n")
    [i] = [i for i, line in enumerate(lines) if line.startswith(line_start)]
    lines[i] = edit(lines[i])
    path.write_text("\n".join(lines), encoding="utf-8")
    return shared


def _add(line: str, columns: list[int], delta: int = 1) -> str:
    cells = line.split(",")
    for c in columns:
        cells[c] = str(int(cells[c]) + delta)
    return ",".join(cells)


@needs_shared
@pytest.mark.parametrize(
    ("name", "line_start", "columns", "message"),
    [
        # 2023: 65+ off by one → the age groups no longer add up to the total
        (N_2023, "01100,札幌市,北海道,municipality,,1,2040,", [11], "0–14 \\+ 15–64"),
        # 2023: total and 0–14 both +1 → consistent row, but 北海道's municipalities no longer add up
        (N_2023, "01202,函館市,北海道,municipality,,2,2030,", [8, 9], "add up to their prefecture"),
        # 2018: 15–19 and total +1 → bands add up, the file's own 15–64 subtotal does not
        (N_2018, "01204,旭川市,北海道,municipality,,2,2040,", [8, 12], "age_15_64"),
        # 2018: 75–79 off by one → the 19 bands do not add up to the total
        (N_2018, "01459,美瑛町,北海道,municipality,,3,2025,", [24], "19 bands"),
    ],
)
def test_build_refuses_a_shared_file_that_fails_its_checks(tmp_path, name, line_start, columns, message):
    shared = _tampered(tmp_path, name, line_start, lambda line: _add(line, columns))
    mod = build_data_module()
    builder = mod.build_projections_2023 if name == N_2023 else mod.build_projections_2018
    with pytest.raises(SystemExit, match=message):
        builder(shared, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing written
