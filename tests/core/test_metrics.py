"""The metric registry: one label, unit and format per figure, in every view."""

from __future__ import annotations

import math

import openpyxl
import pandas as pd
import pytest

from geo_app.core.dissolve import dissolve
from geo_app.core.metrics import FIELDS, MAP_METRICS, METRICS, header, label
from geo_app.core.tally import total

HOKKAIDO_TOTAL = 5_224_614


def test_labels_and_headers_are_unique():
    labels = [m.label for m in METRICS.values()] + [f.label for f in FIELDS.values()]
    assert len(labels) == len(set(labels))
    headers = [header(k) for k in [*METRICS, *FIELDS]]
    assert len(headers) == len(set(headers))
    # the drifted spellings are gone: one way of writing each
    assert header("area_km2") == "面積（km²）" and header("density") == "人口密度（人/km²）"
    assert header("share_75_plus") == "75歳以上の割合" and header("hub") == "拠点"
    assert header("aging_rate") == "高齢化率" and header("population") == "人口"  # cells carry % and 人 is evident
    assert header("area", "homecare") == "在宅医療圏名" and header("parent", "tertiary") == "都道府県"


def test_every_ratio_names_metrics_that_exist():
    for m in METRICS.values():
        if m.aggregation == "ratio":
            assert m.numerator in METRICS and m.denominator and all(d in METRICS for d in m.denominator), m.key
    assert "municipality" not in METRICS["municipalities"].levels and "municipality" in METRICS["population"].levels


@pytest.mark.parametrize(
    ("key", "value", "with_unit", "bare"),
    [
        ("population", 1_973_395, "1,973,395 人", "1,973,395"),
        ("aging_rate", 0.27904, "27.9%", "27.9%"),
        ("area_km2", 1121.26, "1,121.3 km²", "1,121.3"),
        ("density", 190.24, "190.2 人/km²", "190.2"),
        ("municipalities", 9, "9", "9"),
        ("population", None, "不明", "不明"),
        ("population", pd.NA, "不明", "不明"),
        ("aging_rate", math.nan, "不明", "不明"),
    ],
)
def test_format(key, value, with_unit, bare):
    assert METRICS[key].format(value) == with_unit
    assert METRICS[key].format(value, unit=False) == bare


def test_maps_and_cli_offer_the_registry_metrics():
    from geo_app.cli import build_parser
    from geo_app.views import printmap, webmap

    assert list(webmap.METRICS) == list(printmap.METRICS) == list(MAP_METRICS)
    assert all(webmap.METRICS[k] is METRICS[k] is printmap.METRICS[k] for k in MAP_METRICS)
    build = build_parser()._subparsers._group_actions[0].choices["build"]  # type: ignore[union-attr]
    metric = next(a for a in build._actions if a.dest == "metric")
    assert list(metric.choices) == list(MAP_METRICS)


def test_total_row_is_the_registry_aggregation(hokkaido, hokkaido_plan):
    from geo_app.views.text import summary_frame, with_total

    areas = summary_frame(dissolve(hokkaido, hokkaido_plan, "secondary"))
    row = with_total(areas).iloc[-1]
    t = total(areas)
    assert row["area"] == "合計" and row["population"] == t["population"] == HOKKAIDO_TOTAL
    assert row["aging_rate"] == pytest.approx(t["aging_rate"])
    known = areas["population"].sum() - areas["age_unknown"].sum()
    assert t["aging_rate"] == pytest.approx(areas["age_65_plus"].sum() / known)  # a ratio of sums, not a mean
    assert t["density"] == pytest.approx(HOKKAIDO_TOTAL / areas["area_km2"].sum())
    areas.loc[0, "population"] = pd.NA
    unknown = with_total(areas).iloc[-1]
    assert pd.isna(unknown["population"]) and pd.isna(unknown["aging_rate"]) and pd.isna(unknown["density"])


def test_cli_table_and_excel_use_the_registry_headers_and_formats(hokkaido, hokkaido_plan, tmp_path):
    from geo_app.core.metrics import FUTURE_COLUMNS, SUPPLY_KEYS
    from geo_app.views.text import TABLE_FUTURE, format_table, summary_frame
    from geo_app.views.xlsx import write_summary_xlsx

    areas = {lv: dissolve(hokkaido, hokkaido_plan, lv) for lv in ("homecare", "secondary", "tertiary")}
    table = format_table(summary_frame(areas["tertiary"])).splitlines()
    summary_cols = list(summary_frame(areas["tertiary"]).columns)
    shown = [c for c in summary_cols if c not in (*FUTURE_COLUMNS, *SUPPLY_KEYS) or c in TABLE_FUTURE]  # 2040's
    assert set(TABLE_FUTURE) <= set(shown)
    assert table[0].split() == [header(c) for c in shown]
    assert table[-1].split()[:3] == ["合計", "179", "5,224,614"]

    path = write_summary_xlsx(hokkaido, hokkaido_plan, tmp_path / "s.xlsx", areas=areas)
    wb = openpyxl.load_workbook(path)
    for level in ("homecare", "secondary", "tertiary"):
        ws = wb[{"homecare": "在宅医療圏", "secondary": "二次医療圏", "tertiary": "三次医療圏"}[level]]
        heads = [c.value for c in ws[1]]
        keys = [c for c in ["area", "parent", *METRICS, "status", "hub", "members"] if header(c, level) in heads]
        for key in keys:
            j = heads.index(header(key, level)) + 1
            if key in METRICS:
                assert ws.cell(2, j).number_format == METRICS[key].excel_format, (level, key)
    ws = wb["市町村"]
    heads = [c.value for c in ws[1]]
    assert "市町村数" not in heads  # a municipality has no 市町村数 (`levels`)
    assert [label(k) for k in ("code", "name", "homecare", "secondary", "tertiary", "status", "hub")] == heads[:7]
