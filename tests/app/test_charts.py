"""Vega-Lite specs of the app's age charts: the pyramid by sex and the one-sided 男女計 chart."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from geo_app.app.charts import band_labels, pyramid_chart, sex_pyramid_chart, sex_pyramid_frame
from geo_app.core.counts import AGE_BANDS
from geo_app.core.pyramid import area_pyramids, prefecture_pyramid, pyramid_of
from geo_app.io.population_sex import load_population_by_sex

HOSTILE = '<img src=x onerror=alert(1)> **太字** {{7*7}} ${x} "引用"'


@pytest.fixture(scope="module")
def furano(hokkaido_plan):
    by_sex = load_population_by_sex()
    pyr = area_pyramids(by_sex, hokkaido_plan, "secondary")
    return pyramid_of(pyr[pyr["area"] == "富良野"]), pyramid_of(prefecture_pyramid(by_sex, ["01"]))


@pytest.fixture(scope="module")
def spec(furano):
    area, pref = furano
    title = f"{HOSTILE}の人口ピラミッド"
    return sex_pyramid_chart(area, pref, title=title, subtitle="男女別", reference_label="道全体")


def _layer(spec, mark_filter):
    return [layer for layer in spec["layer"] if mark_filter(layer)]


def test_both_sides_as_shares_of_the_area(spec, furano):
    rows = pd.DataFrame(spec["data"]["values"])
    area = rows[rows["series"].isin(["男", "女"])]
    men, women = area[area["sex"] == "男"], area[area["sex"] == "女"]
    assert (men["x"] < 0).any() and (men["x"] <= 0).all()  # 男 to the left
    assert (women["x"] > 0).any() and (women["x"] >= 0).all()  # 女 to the right
    assert area["share"].sum() == pytest.approx(100)
    total = sum(furano[0]["男"]) + sum(furano[0]["女"])
    assert list(men["count"]) == furano[0]["男"]
    assert men["share"].iloc[15] == pytest.approx(furano[0]["男"][15] / total * 100)
    ref = rows[rows["series"] == "道全体"]
    assert len(ref) == 2 * len(AGE_BANDS)
    assert ref["share"].sum() == pytest.approx(100)
    assert (ref.loc[ref["sex"] == "男", "x"] <= 0).all() and (ref.loc[ref["sex"] == "女", "x"] >= 0).all()


def test_axes_legend_and_order_in_japanese(spec):
    bars = _layer(spec, lambda layer: layer["mark"]["type"] == "bar" and layer["mark"].get("filled") is not False)[0]
    outline = _layer(spec, lambda layer: layer["mark"].get("filled") is False)[0]
    enc = bars["encoding"]
    assert enc["x"]["title"].startswith("人口に占める割合（%）") and "男" in enc["x"]["title"]
    assert enc["y"]["title"] == "年齢（5歳階級）"
    assert enc["y"]["sort"][0] == "100歳以上" and enc["y"]["sort"][-1] == "0〜4歳"  # 0〜4歳 at the bottom
    assert enc["color"]["scale"]["domain"] == ["男", "女", "道全体"]
    assert outline["encoding"]["color"] == enc["color"]  # one legend: 男・女・道全体
    lo, hi = enc["x"]["scale"]["domain"]
    assert lo == -hi and hi >= pd.DataFrame(spec["data"]["values"])["share"].max()
    assert "abs(" in enc["x"]["axis"]["labelExpr"]  # 男's negative positions are labelled as positive shares


def test_names_only_as_title_text_and_no_network(spec):
    assert spec["title"]["text"] == f"{HOSTILE}の人口ピラミッド"  # Vega draws titles as text
    text = json.dumps(spec, ensure_ascii=False)
    assert "http" not in text and "$schema" not in text  # nothing to fetch: Streamlit ships Vega-Lite
    assert HOSTILE not in json.dumps(spec["layer"], ensure_ascii=False)


def test_without_a_reference_or_people():
    area = {"男": [10] * 21, "女": [12] * 21}
    spec = sex_pyramid_chart(area, None, title="a")
    assert spec is not None and not any(layer["mark"].get("filled") is False for layer in spec["layer"])
    assert sex_pyramid_chart({"男": [0] * 21, "女": [0] * 21}, area) is None  # nobody of known age
    frame = sex_pyramid_frame(area, {"男": [0] * 21, "女": [0] * 21}, reference_label="県全体")
    assert frame is not None and set(frame["series"]) == {"男", "女"}


def test_one_sided_chart_is_labelled_both_sexes(hokkaido):
    counts = [int(hokkaido[b].sum()) for b in AGE_BANDS]
    spec = pyramid_chart(counts, counts, title="全体")
    assert spec is not None
    assert "男女計" in spec["layer"][0]["encoding"]["x"]["title"]
    assert [r["band"] for r in spec["data"]["values"]] == band_labels()
    assert pyramid_chart([None, *counts[1:]]) is None
