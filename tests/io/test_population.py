"""2020 census: exact figures and the census way of computing the aging rate."""

from __future__ import annotations

import pytest

from geo_app.core.counts import AGE_BANDS
from geo_app.io.population import load_population


def test_embedded_census_rows(census):
    assert (census["kind"] == "municipality").sum() == 1741
    assert (census["kind"] == "ward").sum() == 175
    munis = census[census["kind"] == "municipality"]
    assert int(munis["population"].sum()) == 126_146_099
    assert int(munis.loc[munis["prefecture"] == "北海道", "population"].sum()) == 5_224_614


def test_sapporo_exact_and_aging_rate_excludes_unknown_age(hokkaido):
    s = hokkaido.set_index("code").loc["01100"]
    assert int(s["population"]) == 1_973_395
    assert int(s["age_65_plus"]) == 541_242
    assert int(s["age_unknown"]) == 31_063
    assert s["aging_rate"] == pytest.approx(541_242 / (1_973_395 - 31_063))
    assert int(hokkaido.set_index("code").loc["01204", "population"]) == 329_306


def test_bands_add_up_to_known_age(hokkaido):
    known = hokkaido["population"] - hokkaido["age_unknown"]
    assert (hokkaido[AGE_BANDS].sum(axis=1) == known).all()


def test_user_table_with_japanese_headers_cp932_and_lost_zeros(tmp_path):
    text = (
        "市町村コード,市町村名,人口,65歳以上,75歳以上\n"
        "1100,札幌市,1960000,560000,280000\n"
        "1202,函館市,245000,90000,47000\n"
    )
    path = tmp_path / "住基.csv"
    path.write_bytes(text.encode("cp932"))
    pop = load_population(path)
    assert pop["code"].tolist() == ["01100", "01202"]
    assert pop["population"].tolist() == [1960000, 245000]


def test_unmatched_codes_reported_both_ways(tmp_path):
    from geo_app import load_municipalities

    path = tmp_path / "pop.csv"
    # 01100 present, 01999 is no municipality; every other Hokkaido municipality is missing
    path.write_text("code,population\n01100,1973395\n01999,5\n", encoding="utf-8")
    m = load_municipalities(prefectures=["北海道"], population=path)
    counts = m.attrs["report"].counts
    assert counts["population_missing"] == 178
    assert counts["population_unmatched"] == 1
    assert int(m["population"].sum()) == 1_973_395


def test_ward_level_table_gives_the_city_its_total(tmp_path, census):
    from geo_app import load_municipalities

    wards = census[census["parent_code"] == "01100"][["code", "name", "population"]]
    path = tmp_path / "wards.csv"
    wards.to_csv(path, index=False)
    m = load_municipalities(prefectures=["北海道"], population=path)
    assert int(m.set_index("code").loc["01100", "population"]) == 1_973_395  # the 10 wards of 札幌市
    assert m.attrs["report"].counts["population_unmatched"] == 0  # wards are not "unknown codes"


def test_age_group_larger_than_population_is_refused(tmp_path):
    from geo_app import InputError

    path = tmp_path / "bad.csv"
    path.write_text("市町村コード,人口,65歳以上\n01100,100,500\n", encoding="utf-8")
    with pytest.raises(InputError, match="2行目") as err:
        load_population(path)
    assert "「65歳以上」（500人）が人口（100人）より多く" in str(err.value)
