"""Population tables as users have them: the header variants of e-Stat and 住民基本台帳 downloads,
columns that are not understood (named, never dropped silently), long tables by sex, and missing
municipalities listed by name. Every table here is the embedded 2020 census (or the raw e-Stat file
it was built from) with its headers renamed, so the figures that come out must be the census's."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SHARED

from geo_app import load_municipalities
from geo_app.core.counts import AGE_BANDS, add_rates
from geo_app.io.names import describe_unit_count, named_codes
from geo_app.io.population import load_population

RAW_2_7_1 = SHARED / "population" / "raw" / "population_census_2020_table2-7-1.csv"

# Published figures for 北海道 (SOURCES.md: the source's own prefecture row of table 2-7-1).
HOKKAIDO_POPULATION = 5_224_614
HOKKAIDO_65_PLUS = 1_664_023
HOKKAIDO_UNKNOWN_AGE = 59_060


@pytest.fixture(scope="module")
def hokkaido_census(census) -> pd.DataFrame:
    """The 179 municipalities of 北海道 as the embedded census has them (wards left out)."""
    rows = census[(census["kind"] == "municipality") & (census["code"].str[:2] == "01")]
    return rows.reset_index(drop=True)


def _as_user_table(census_rows: pd.DataFrame, headers: dict[str, str]) -> pd.DataFrame:
    """The census columns given, renamed to a user's headers, every cell text as in a file."""
    renamed = {"code": "市町村コード", "name": "市町村名", **headers}
    return census_rows[["code", "name", *headers]].rename(columns=renamed)


def _loaded(table: pd.DataFrame) -> pd.DataFrame:
    return load_population(table.astype("string"), name="users.csv").set_index("code")


def _assert_same(loaded: pd.DataFrame, census_rows: pd.DataFrame, columns: list[str]) -> None:
    expected = census_rows.set_index("code")
    for col in columns:
        assert loaded[col].astype("int64").equals(expected.loc[loaded.index, col].astype("int64")), col


def test_hokkaido_figures_behind_the_tests_are_the_published_ones(hokkaido_census):
    assert len(hokkaido_census) == 179
    assert int(hokkaido_census["population"].sum()) == HOKKAIDO_POPULATION
    assert int(hokkaido_census["age_65_plus"].sum()) == HOKKAIDO_65_PLUS
    assert int(hokkaido_census["age_unknown"].sum()) == HOKKAIDO_UNKNOWN_AGE


@pytest.mark.parametrize(
    "over_65",
    ["65歳以上", "65歳以上人口", "うち65歳以上", "65歳～", "65歳以上（再掲）", "（再掲）65歳以上", "６５歳以上"],
)
@pytest.mark.parametrize("total", ["総数", "総人口", "人口総数", "人口（人）", "計", "総計", "住民基本台帳人口"])
def test_total_and_65_plus_variants_give_the_census_aging_rate(hokkaido_census, total, over_65):
    table = _as_user_table(
        hokkaido_census, {"population": total, "age_65_plus": over_65, "age_unknown": "年齢「不詳」"}
    )
    pop = _loaded(table)
    _assert_same(pop, hokkaido_census, ["population", "age_65_plus", "age_unknown"])
    assert int(pop["age_65_plus"].sum()) == HOKKAIDO_65_PLUS
    assert pop.attrs["notes"] == []  # every column understood: nothing to say
    sums = add_rates(pop[["population", "age_65_plus", "age_unknown"]].sum().to_frame().T)
    assert float(sums["aging_rate"].iloc[0]) == pytest.approx(
        HOKKAIDO_65_PLUS / (HOKKAIDO_POPULATION - HOKKAIDO_UNKNOWN_AGE)
    )
    expected = add_rates(hokkaido_census.set_index("code"))["aging_rate"]
    assert pop.pipe(add_rates)["aging_rate"].equals(expected.loc[pop.index])


_FULL_WIDTH = str.maketrans("0123456789~", "０１２３４５６７８９～")


@pytest.mark.parametrize("style", ["{a}～{b}歳", "{a}-{b}歳", "{a}歳～{b}歳", "{a}〜{b}歳", "{a}~{b}歳 full width"])
def test_five_year_bands_in_every_spelling_give_the_census_groups(hokkaido_census, style):
    """Bands only: the groups are summed from them and must equal the census's own 再掲 columns."""
    headers = {"population": "総数", "age_unknown": "年齢不詳", "age_100_plus": "100歳以上"}
    for first in range(0, 100, 5):
        header = style.removesuffix(" full width").format(a=first, b=first + 4)
        headers[f"age_{first}_{first + 4}"] = header.translate(_FULL_WIDTH) if "full" in style else header
    pop = _loaded(_as_user_table(hokkaido_census, headers))
    groups = ["age_0_14", "age_15_64", "age_65_plus", "age_75_plus", "age_85_plus"]
    _assert_same(pop, hokkaido_census, [*AGE_BANDS, *groups])
    assert int(pop["age_65_plus"].sum()) == HOKKAIDO_65_PLUS
    assert pop.attrs["notes"] == []


def test_group_columns_sexes_and_census_style_headers(hokkaido_census):
    table = _as_user_table(
        hokkaido_census,
        {
            "population": "人口総数",
            "age_0_14": "（再掲）15歳未満",
            "age_15_64": "15～64歳",
            "age_65_plus": "65歳以上",
            "age_75_plus": "75歳以上",
            "age_85_plus": "85歳以上",
            "male": "男",
            "female": "女",
        },
    )
    pop = _loaded(table)
    _assert_same(pop, hokkaido_census, ["age_0_14", "age_15_64", "age_75_plus", "age_85_plus", "male", "female"])


def test_columns_not_understood_are_named(hokkaido_census):
    table = _as_user_table(hokkaido_census, {"population": "総数", "age_65_plus": "65歳以上人口"})
    table["世帯数"] = "1"
    table["高齢者（前期）"] = "1"
    table["（再掲）20～69歳"] = "1"
    pop = _loaded(table)
    notes = pop.attrs["notes"]
    assert "users.csv: 列「世帯数」「高齢者（前期）」は使いませんでした（分からない見出し）。" in notes
    assert "users.csv: 列「（再掲）20～69歳」は使いませんでした（この年齢の区切りは使いません）。" in notes
    assert int(pop["age_65_plus"].sum()) == HOKKAIDO_65_PLUS


def test_japanese_residents_only_when_there_is_no_total(hokkaido_census):
    only = _as_user_table(hokkaido_census, {"population": "日本人住民"})
    pop = _loaded(only)
    assert int(pop["population"].sum()) == HOKKAIDO_POPULATION
    assert "users.csv: 列「日本人住民」を人口として使いました（総数の列がないため）。" in pop.attrs["notes"]
    both = only.assign(総計=only["日本人住民"], 日本人住民="1")
    pop = _loaded(both)
    assert int(pop["population"].sum()) == HOKKAIDO_POPULATION  # 総計, not the 日本人住民 column
    assert "users.csv: 列「日本人住民」は使いませんでした（人口は列「総計」を使います）。" in pop.attrs["notes"]


def test_long_table_by_sex_as_the_juki_tables_have_it(hokkaido_census):
    """住民基本台帳 style: one row each for 計, 男, 女; the 計 row holds the figures."""
    base = _as_user_table(hokkaido_census, {"population": "総数", "age_65_plus": "65歳以上"})
    men = base.assign(**{"性別": "男", "総数": hokkaido_census["male"], "65歳以上": None})
    women = base.assign(**{"性別": "女", "総数": hokkaido_census["female"], "65歳以上": None})
    long = pd.concat([base.assign(性別="計"), men, women]).sort_values("市町村コード", kind="stable")
    pop = _loaded(long.reset_index(drop=True))
    assert len(pop) == 179
    _assert_same(pop, hokkaido_census, ["population", "age_65_plus", "male", "female"])
    assert any("列「性別」が「計」の行を人口にしました" in n for n in pop.attrs["notes"])


@pytest.mark.skipif(not RAW_2_7_1.is_file(), reason="../shared/data is not beside this checkout")
def test_raw_estat_2_7_1_download_gives_the_embedded_census(census):
    """The e-Stat file as downloaded (title rows, 男女 rows, 旧市町村 rows) equals the embedded census."""
    pop = load_population(RAW_2_7_1).set_index("code")
    expected = census.set_index("code")
    assert sorted(pop.index) == sorted(expected.index)  # 1,741 municipalities + 175 wards
    columns = ["population", "age_unknown", *AGE_BANDS, "age_0_14", "age_15_64", "age_65_plus", "age_75_plus"]
    for col in [*columns, "age_85_plus", "male", "female"]:
        assert pop[col].astype("int64").equals(expected.loc[pop.index, col].astype("int64")), col
    notes = " ".join(pop.attrs["notes"])
    assert "列「（再掲）20～69歳」は使いませんでした" in notes
    assert "「表章事項 コード」" in notes and "（分からない見出し）" in notes
    assert "2121 行を除きました" in notes


def test_missing_and_unmatched_municipalities_are_listed_by_name(census):
    tottori = census[(census["kind"] == "municipality") & (census["code"].str[:2] == "31")]
    table = tottori[tottori["code"] != "31201"][["code", "population"]].astype("string")
    table = pd.concat([table, pd.DataFrame({"code": ["31999"], "population": ["5"]})])
    m = load_municipalities(prefectures=["鳥取県"], population=load_population(table, name="pop.csv"))
    notes = m.attrs["report"].notes
    assert "人口表（pop.csv）に人口がない市区町村 1 件: 鳥取市（31201）。人口は空欄として扱います。" in notes
    assert any("境界データにないもの 1 件: 31999。" in n for n in notes)  # no name anywhere: shown bare
    assert pd.isna(m.set_index("code").loc["31201", "population"])


def test_named_codes_cut_long_lists_short():
    assert named_codes(["31201", "31202", "31203"], limit=2) == "鳥取市（31201）、米子市（31202） ほか1件"
    assert named_codes(["01695"], {"01695": "色丹村"}) == "色丹村（01695）"  # boundary names where the census has none


def test_kanagawa_counts_kawasaki_once_and_says_its_wards(census):
    """The secondary-2020 plan splits 川崎市 into its 7 wards: 39 units, but 33 municipalities."""
    kanagawa = census[census["code"].str[:2] == "14"]
    n_munis = int((kanagawa["kind"] == "municipality").sum())
    n_wards = int((kanagawa["parent_code"] == "14130").sum())
    expected = f"{n_munis}市町村（川崎市は{n_wards}区に分けて数えています）"
    assert (n_munis, n_wards) == (33, 7)
    m = load_municipalities(prefectures=["神奈川県"], keep_wards_of={"14130"}, population=None)
    assert len(m) == n_munis - 1 + n_wards
    assert describe_unit_count(m["code"]) == expected
    assert f"{expected}を読み込みました。" in m.attrs["report"].notes
    merged = load_municipalities(prefectures=["神奈川県"], population=None)
    assert describe_unit_count(merged["code"]) == f"{n_munis}市町村"
    assert merged.attrs["report"].counts["wards_kept"] == 0


def test_a_table_read_by_the_loader_says_its_notes_in_the_report(tmp_path, census):
    """The app hands the loader a path: the columns it did not use must reach the report it shows."""
    tottori = census[(census["kind"] == "municipality") & (census["code"].str[:2] == "31")]
    table = tottori[["code", "name", "population", "age_65_plus"]].rename(
        columns={"code": "団体コード", "name": "市区町村名", "population": "総数", "age_65_plus": "うち65歳以上"}
    )
    table["世帯数"] = 1
    path = tmp_path / "住基.csv"
    table.to_csv(path, index=False, encoding="cp932")
    m = load_municipalities(prefectures=["鳥取県"], population=path)
    assert "住基.csv: 列「世帯数」は使いませんでした（分からない見出し）。" in m.attrs["report"].notes
    assert int(m["age_65_plus"].sum()) == int(tottori["age_65_plus"].sum())
    assert m["aging_rate"].notna().all()
