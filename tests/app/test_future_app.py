"""The target year in the app (issue 12, items 1–2): 2040 columns in the table of areas, 2040 colourings of the map.

Every expected figure is computed here, independently of the app's tally, from the embedded IPSS tables
(data/projections: the 2023 edition's population and 65+, the 2018 edition's age groups) and the plan's
membership, with JMAP's published weights written out below: an area's 2040 population is its members'
sum, its aging rate the ratio of the sums, a demand index the ratio of the members' weighted sums for
2040 and 2020 × 100. The AppTest tests read the table and the map's state as the app sends them; the
browser test colours the live map by the medical demand index and reads what is drawn.
"""

from __future__ import annotations

import csv
import json
import re
from functools import cache
from pathlib import Path

import pytest
from conftest import new_app, rerun

YEAR = 2040
#: JMAP (日本医師会 地域医療情報システム) demand weights by age group, ×10 so that sums stay integers
#: (the ratio is the same): medical 0–14 × 0.6, 15–39 × 0.4, 40–64 × 1.0, 65–74 × 2.3, 75+ × 3.9;
#: care 40–64 × 1.0, 65–74 × 9.7, 75+ × 87.3.
MEDICAL = {"age_0_14": 6, "age_15_39": 4, "age_40_64": 10, "age_65_74": 23, "age_75_plus": 39}
CARE = {"age_40_64": 10, "age_65_74": 97, "age_75_plus": 873}
#: The table's 2040 headers, as a planner reads them, right after the 2020 figures.
FUTURE_HEADERS = [
    "人口（2040年推計）",
    "高齢化率（2040年推計）",
    "医療需要指数（2040年、2020年=100）",
    "介護需要指数（2040年、2020年=100）",
    "75歳以上（2040年、2018年推計）",
]
#: The 色分け options: the 2020 figures, then the 2040 projections.
OPTIONS_2020 = ["人口", "65歳以上", "75歳以上", "高齢化率", "75歳以上の割合", "人口密度"]
OPTIONS_2040 = {
    f"population_{YEAR}": "人口（2040年推計）",
    f"population_index_{YEAR}": "人口（2040年、2020年=100）",
    f"aging_rate_{YEAR}": "高齢化率（2040年推計）",
    f"demand_medical_index_{YEAR}": "医療需要指数（2040年、2020年=100）",
    f"demand_care_index_{YEAR}": "介護需要指数（2040年、2020年=100）",
}
#: The facilities after the projections: the table's columns and the last 色分け options.
SUPPLY_HEADERS = [
    "訪問看護ステーション数（か所）",
    "訪問看護ステーション（2040年の75歳以上千人あたり）（か所）",
    "在宅療養支援診療所・病院数（か所）",
]
OPTIONS_SUPPLY = [
    "訪問看護ステーション（75歳以上千人あたり）",
    "訪問看護ステーション（2040年の75歳以上千人あたり）",
    "在宅療養支援診療所・病院（75歳以上千人あたり）",
]
DEMAND = f"demand_medical_index_{YEAR}"


# ---- the expected figures, from the source tables ------------------------------------------------
@cache
def _rows(name: str) -> dict[str, dict[str, str]]:
    from geo_app.io.datasets import data_dir

    path = Path(data_dir()) / "projections" / name
    with path.open(encoding="utf-8", newline="") as f:
        return {r["code"]: r for r in csv.DictReader(f)}


def _weighted(row: dict[str, str], weights: dict[str, int], year: int) -> int:
    return sum(int(row[f"{g}_{year}"]) * w for g, w in weights.items())


@cache
def expected(level: str) -> dict[str, dict[str, float]]:
    """Per area of hokkaido-2024 at `level`: the 2040 figures as sums and ratios of sums of its members."""
    from geo_app import load_plan

    new, old = _rows("ipss2023.csv"), _rows("ipss2018.csv")
    sums: dict[str, dict[str, int]] = {}
    table = load_plan("hokkaido-2024").table
    for code, area in zip(table["code"], table[level], strict=True):
        s = sums.setdefault(str(area), dict.fromkeys(("pop", "pop20", "a65", "a75", "m40", "m20", "c40", "c20"), 0))
        a, b = new[code], old[code]  # every Hokkaido municipality is in both editions
        s["pop"] += int(a[f"population_{YEAR}"])
        s["pop20"] += int(a["population_2020"])
        s["a65"] += int(a[f"age_65_plus_{YEAR}"])
        s["a75"] += int(b[f"age_75_plus_{YEAR}"])
        s["m40"] += _weighted(b, MEDICAL, YEAR)
        s["m20"] += _weighted(b, MEDICAL, 2020)
        s["c40"] += _weighted(b, CARE, YEAR)
        s["c20"] += _weighted(b, CARE, 2020)
    return {
        area: {
            f"population_{YEAR}": s["pop"],
            f"population_index_{YEAR}": s["pop"] / s["pop20"] * 100,
            f"aging_rate_{YEAR}": s["a65"] / s["pop"],
            f"demand_medical_index_{YEAR}": s["m40"] / s["m20"] * 100,
            f"demand_care_index_{YEAR}": s["c40"] / s["c20"] * 100,
            f"age_75_plus_{YEAR}": s["a75"],
        }
        for area, s in sums.items()
    }


def text_of(key: str, value: float) -> str:
    """How a planner reads the figure: 「1,868,252 人」, 「36.2%」, 「113.8」 (written out here, not the registry)."""
    if key.startswith("population_2"):
        return f"{int(value):,} 人"
    if key.startswith("aging_rate"):
        return f"{value * 100:.1f}%"
    return f"{value:.1f}"


def test_expected_figures_are_the_published_ones():
    """The independent sums give the figures a planner can check in the IPSS tables and JMAP."""
    sapporo, kamikawa = expected("homecare")["札幌市"], expected("homecare")["上川"]
    assert sapporo[f"population_{YEAR}"] == 1_868_252  # IPSS 2023, 札幌市 2040
    assert text_of(DEMAND, sapporo[DEMAND]) == "113.8"
    assert text_of(f"demand_care_index_{YEAR}", sapporo[f"demand_care_index_{YEAR}"]) == "143.7"
    assert sapporo[f"age_75_plus_{YEAR}"] == 415_742  # IPSS 2018, 札幌市 2040, 75+
    assert kamikawa[f"population_{YEAR}"] == 39_290  # 上川's 9 towns (美瑛町 6,851 among them)
    assert len(expected("homecare")) == 33 and len(expected("secondary")) == 21


# ---- AppTest: the table ------------------------------------------------------------------------------
def map_state(at) -> dict:
    """The state the map component received in this run (its data, as the browser gets it)."""
    comps = [c for c in at.get("bidi_component") if json.loads(c.proto.json).get("key") == "main_map"]
    assert len(comps) == 1
    return json.loads(comps[0].proto.json)["state"]


def test_table_has_2040_columns_with_registry_formats_and_a_source_line(db):
    at = new_app()
    df = at.dataframe[0]
    t = df.value
    cols = list(t.columns)
    i = cols.index("人口密度（人/km²）")  # the last 2020 figure
    assert cols[i + 1 : i + 6] == FUTURE_HEADERS
    assert cols[i + 6 :] == [*SUPPLY_HEADERS, "状態", "構成市町村"]
    # formats from the registry: counts with separators, a rate as a percent (the cell holds ×100), an index 1 place
    formats = {k: v["type_config"]["format"] for k, v in json.loads(df.proto.columns).items() if "type_config" in v}
    assert [formats[h] for h in FUTURE_HEADERS] == ["localized", "%.1f%%", "%.1f", "%.1f", "localized"]
    assert json.loads(df.proto.columns)["圏域"].get("pinned") is True  # the name stays while scrolling right
    # every area's figures are the sums of its members' source figures
    want = expected("homecare")
    assert set(t["圏域"]) == set(want)
    for _, row in t.iterrows():
        w = want[row["圏域"]]
        assert int(row["人口（2040年推計）"]) == w[f"population_{YEAR}"], row["圏域"]
        assert float(row["高齢化率（2040年推計）"]) == round(w[f"aging_rate_{YEAR}"] * 100, 1), row["圏域"]
        assert float(row["医療需要指数（2040年、2020年=100）"]) == pytest.approx(w[DEMAND], rel=1e-12)
        assert float(row["介護需要指数（2040年、2020年=100）"]) == pytest.approx(
            w[f"demand_care_index_{YEAR}"], rel=1e-12
        )
        assert int(row["75歳以上（2040年、2018年推計）"]) == w[f"age_75_plus_{YEAR}"], row["圏域"]
    sapporo = t.set_index("圏域").loc["札幌市"]
    assert f"{sapporo['医療需要指数（2040年、2020年=100）']:.1f}" == "113.8"  # as the %.1f format draws it
    assert sapporo["高齢化率（2040年推計）"] == 36.2
    # the line under the table: which edition each column comes from, and what 2020 = 100 means
    note = next(c.value for c in at.main.caption if "年推計" in c.value and "2020年を100" in c.value)
    assert "人口・高齢化率は国立社会保障・人口問題研究所 令和5（2023）年推計" in note, note
    assert "医療需要指数・介護需要指数・75歳以上は国立社会保障・人口問題研究所 平成30（2018）年推計" in note, note
    assert "需要指数は2020年を100とした値" in note, note


# ---- AppTest: the 色分け choice and the map's state --------------------------------------------------
def test_each_2040_colouring_gives_its_legend_and_figures(db):
    at = new_app()
    box = at.selectbox(key="view_metric")
    assert box.options == [*OPTIONS_2020, *OPTIONS_2040.values(), *OPTIONS_SUPPLY]  # 2020, 2040, supply
    assert box.value == "population"
    assert "国勢調査" in box.help and "2040年の推計" in box.help
    for level, n in (("homecare", 33), ("secondary", 21)):
        want = expected(level)
        if level != "homecare":
            at.radio(key="view_level").set_value(level)
        for key, label in OPTIONS_2040.items():
            at.selectbox(key="view_metric").set_value(key)
            rerun(at)
            state = map_state(at)
            assert state["serial"].endswith(f"-{level}-{key}")
            legend = next(b for b in state["boxes"] if b["cls"] == "geoapp-legend")
            level_ja = {"homecare": "在宅医療圏", "secondary": "二次医療圏"}[level]
            assert legend["title"] == f"{level_ja}の{label}"
            # labels: every area's figure as the registry writes it (「113.8」, 「36.2%」, 「1,868,252 人」)
            labels = {d["name"]: d["value"] for d in state["labels"]}
            assert labels == {a: text_of(key, w[key]) for a, w in want.items()}, key
            # classes: no area is unknown; the largest value is in the darkest class, whose upper bound it is
            classes = [s for s in legend["swatches"] if not s.get("hatch")]
            assert len(classes) == 5 and "#dddddd" not in state["fill"] and len(state["fill"]) == n
            top = max(want, key=lambda a: want[a][key])
            assert state["fill"][state["names"][level].index(top)] == classes[-1]["colour"]
            assert classes[-1]["text"].endswith(f"〜 {text_of(key, want[top][key])}")
            shown = json.dumps(legend, ensure_ascii=False) + json.dumps(state["labels"], ensure_ascii=False)
            assert not re.search(r"None|nan|NaN|null|不明", shown), shown[:300]
            # under the choice: the edition the colouring comes from
            edition = "平成30（2018）年推計" if "demand" in key else "令和5（2023）年推計"
            assert any(c.value.startswith("2040年の推計: ") and edition in c.value for c in at.main.caption), key
    assert labels["札幌"] == text_of(f"demand_care_index_{YEAR}", want["札幌"][f"demand_care_index_{YEAR}"])
    # back to a 2020 figure: no 2040 source line under the choice
    at.selectbox(key="view_metric").set_value("population")
    rerun(at)
    assert not any(c.value.startswith("2040年の推計: ") for c in at.main.caption)


def test_medical_index_of_sapporo_in_the_state_is_113_8(db):
    """The brief's figure, checked where the user sees it: 札幌市's label on the map reads 「113.8」."""
    at = new_app()
    at.selectbox(key="view_metric").set_value(DEMAND)
    rerun(at)
    labels = {d["name"]: d["value"] for d in map_state(at)["labels"]}
    assert labels["札幌市"] == "113.8"
    assert labels["上川"] == text_of(DEMAND, expected("homecare")["上川"][DEMAND]) == "85.1"


# ---- the browser: the live map coloured by the medical demand index -----------------------------------
SHOT, PAGE_SHOT = Path("/tmp/geo_app_future_demand_map.png"), Path("/tmp/geo_app_future_page.png")


@pytest.mark.browser
def test_map_coloured_by_medical_demand_in_chromium(tmp_path, browser):
    from conftest import start_server, stop_server
    from test_app_browser import MAIN_MAP, choose, free_port, map_labels, offline_page, settle, wait_for_map
    from test_japanese_ui import VISIBLE_TEXT_JS, english

    port = free_port()
    proc = start_server(port, tmp_path / "plans.sqlite3", tmp_path / "server.log")
    blocked: list[str] = []
    try:
        page = offline_page(browser, blocked)
        page.goto(f"http://localhost:{port}/")
        wait_for_map(page)
        settle(page)
        legend = page.locator(".geoapp-live .geoapp-legend")
        assert legend.locator(".geoapp-title").inner_text() == "在宅医療圏の人口"
        before = {d["name"]: d["pop"] for d in map_labels(page)}
        assert before["札幌市"] == "1,973,395 人"

        choose(page, "色分け", "医療需要", re.compile(r"^医療需要指数（2040年、2020年=100）$"))
        page.wait_for_function(
            f"() => (window.geoappMaps.{MAIN_MAP}.getContainer().getAttribute('data-geoapp-state') || '')"
            f".endsWith('-homecare-{DEMAND}')",
            timeout=30_000,
        )
        settle(page)
        assert legend.locator(".geoapp-title").inner_text() == "在宅医療圏の医療需要指数（2040年、2020年=100）"
        rows = [t.strip() for t in legend.inner_text().splitlines() if "〜" in t]
        assert len(rows) == 5 and all(re.fullmatch(r"(\d+\.\d )?〜 \d+\.\d", r) for r in rows), rows
        assert rows[-1].endswith("〜 113.8")  # 札幌市, the highest
        # every label now shows the index of its area (hidden ones included), computed from the sources
        want = {a: text_of(DEMAND, w[DEMAND]) for a, w in expected("homecare").items()}
        labels = map_labels(page)
        assert {d["name"]: d["pop"] for d in labels} == want
        sapporo = next(d for d in labels if d["name"] == "札幌市")
        assert sapporo["shown"] and sapporo["popShown"] and sapporo["pop"] == "113.8"
        assert sum(d["shown"] for d in labels) >= 10  # the map is labelled, not just one area
        # the fills follow: the darkest class is 札幌市's colour in the legend
        fills = page.evaluate(
            "() => { const h = document.querySelector('.geoapp-live').__geoapp;"
            " return [...new Set(h.paths.map(p => p.options.fillColor))]; }"
        )
        assert len(fills) >= 5 and "#dddddd" not in fills
        # the sources under the choice and the table, and no English or None anywhere drawn
        main = page.locator("[data-testid='stMain']").inner_text()
        assert "2040年の推計: 国立社会保障・人口問題研究所 平成30（2018）年推計" in main
        assert "医療需要指数・介護需要指数・75歳以上は" in main
        texts = page.evaluate(VISIBLE_TEXT_JS)
        map_text = page.locator(".geoapp-live").evaluate("e => e.textContent")
        assert english([*texts, map_text]) == {}
        assert not re.search(r"None|NaN|undefined|null", " ".join([*texts, map_text]))
        page.locator(".geoapp-live").screenshot(path=str(SHOT))
        page.get_by_text("需要指数は2020年を100とした値").scroll_into_view_if_needed()
        page.screenshot(path=str(PAGE_SHOT))
        page.close()
    finally:
        stop_server(proc)
    assert blocked == [], blocked[:5]
