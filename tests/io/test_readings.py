"""Readings: the Japan Post readings of municipality names, and the search that uses them."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import ROOT

from geo_app.io.readings import load_readings, search_municipalities, to_hiragana

TAKASU = "01452"  # 鷹栖町 (上川郡), census 2020


@pytest.fixture(scope="module")
def readings() -> pd.DataFrame:
    return load_readings()


QUERIES = ["たかす", "タカス", "ﾀｶｽ", "鷹栖", "鷹栖町", TAKASU, "０１４５２", "014524", " たかす "]


@pytest.mark.parametrize("query", QUERIES)
def test_takasu_is_found(readings, query):
    found = readings[search_municipalities(query, readings)]
    assert list(found["code"]) == [TAKASU] and list(found["name"]) == ["鷹栖町"]


def test_code_prefix_and_wrong_check_digit(readings):
    hokkaido_0145 = readings[search_municipalities("0145", readings)]
    assert TAKASU in set(hokkaido_0145["code"]) and hokkaido_0145["code"].str.startswith("0145").all()
    assert not search_municipalities("014525", readings).any()  # 6 digits with a wrong check digit


def test_reading_search_on_a_frame_without_readings():
    """A frame of the app's own (code, name) gets its readings by code; its index is kept."""
    frame = pd.DataFrame(
        {"code": ["01460", TAKASU, "01100"], "name": ["上富良野町", "鷹栖町", "札幌市"]}, index=[7, 8, 9]
    )
    mask = search_municipalities("タカス", frame)
    assert list(mask.index) == [7, 8, 9] and list(mask) == [False, True, False]
    assert list(search_municipalities("さっぽろ", frame)) == [False, False, True]
    assert search_municipalities("", frame).all()


def test_readings_table_and_coverage(readings):
    census = pd.read_csv(ROOT / "data" / "population" / "census2020.csv", dtype={"code": str})
    assert list(readings.columns) == ["code", "name", "kana", "hiragana"]
    assert readings["code"].is_unique
    # every census municipality and ward, plus the six Northern-Territory villages N03 has
    northern = {"01695", "01696", "01697", "01698", "01699", "01700"}
    assert set(readings["code"]) == set(census["code"]) | northern
    assert len(readings) == 1_916 + 6
    missing = set(readings.loc[readings["kana"].isna(), "code"])
    # no postal codes (Northern Territories); 浜松市's wards abolished on 2024-01-01
    assert missing == northern | {"22131", "22132", "22133", "22134", "22135", "22136"}
    assert readings["kana"].notna().sum() == 1_910
    kana = readings["kana"].dropna()
    assert kana.str.fullmatch(r"[ァ-ヶー]+").all()
    assert (readings["hiragana"].dropna() == kana.map(to_hiragana)).all()
    assert readings["hiragana"].dropna().str.fullmatch(r"[ぁ-ゖー]+").all()


@pytest.mark.parametrize(
    ("code", "kana"),
    [
        ("01100", "サッポロシ"),  # designated city: what its wards share
        ("01101", "サッポロシチュウオウク"),
        ("10344", "シントウムラ"),  # 北群馬郡榛東村: the 郡 (キタグンマグン) cut at its last グン
        ("13381", "ミヤケムラ"),  # 三宅島三宅村: the island cut
        ("40344", "スエマチ"),  # Japan Post writes 須惠町
        ("22137", "ハママツシテンリュウク"),  # renumbered 22140 in 2024, same name
        ("27140", "サカイシ"),
    ],
)
def test_known_readings(readings, code, kana):
    assert readings.set_index("code").at[code, "kana"] == kana


def test_load_readings_returns_a_copy():
    first = load_readings()
    first.loc[:, "kana"] = pd.NA
    assert load_readings()["kana"].notna().sum() == 1_910
