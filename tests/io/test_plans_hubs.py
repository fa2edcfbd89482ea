"""Hub locations in the plan file: Japanese and English headers, Excel's numbers, refusals, round trips.

A planner's file: hokkaido-2024 as the app writes it, with 北見's hub given by a real facility id (a
訪問看護ステーション in 北見市, its source's id) and 上川's by a point in 美瑛町.
"""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from geo_app import InputError, PlanError, load_plan
from geo_app.app.workspace import plan_csv_bytes, plan_xlsx_bytes
from geo_app.core.hubs import hub_points
from geo_app.io.facilities import load_facility_points
from geo_app.io.plans import hub_facilities, plan_hub_points
from geo_app.io.tables import column_letter

KITAMI_ID = "0165090010"  # 北見地域訪問看護ステーション, 北見市 (see tests/core/test_hubs.py)
KITAMI_TOWNS = ["01208", "01543", "01544", "01549", "01550"]
BIEI = "01459"
HEADERS_JA = ["市町村コード", "市町村名", "在宅医療圏", "二次医療圏", "三次医療圏", "状態", "拠点"]


def planners_frame(hokkaido_plan) -> pd.DataFrame:
    """The plan with Japanese headers, hubs filled in as a planner would: once per area, on one row."""
    df = hokkaido_plan.to_japanese_frame()
    df["拠点の施設ID"] = pd.NA
    df["拠点の緯度"] = pd.NA
    df["拠点の経度"] = pd.NA
    df.loc[df["市町村コード"] == "01208", ["拠点", "拠点の施設ID"]] = ["北見在宅医療圏連携拠点センター", KITAMI_ID]
    df.loc[df["市町村コード"] == BIEI, ["拠点", "拠点の緯度", "拠点の経度"]] = ["美瑛町役場", "43.5886", "142.4675"]
    return df


def file_row_of(df: pd.DataFrame, code: str) -> int:
    return int(df.index[df["市町村コード"] == code][0]) + 2  # header on row 1


def test_a_planners_csv_gives_each_hub_its_location(hokkaido_plan):
    df = planners_frame(hokkaido_plan)
    plan = load_plan(df.to_csv(index=False).encode("cp932"), name="案.csv")
    t = plan.table.set_index("code")
    assert t.loc["01208", ["hub", "hub_facility"]].tolist() == ["北見在宅医療圏連携拠点センター", KITAMI_ID]
    assert t.loc[BIEI, ["hub", "hub_lat", "hub_lon"]].tolist() == ["美瑛町役場", "43.5886", "142.4675"]
    assert t["hub_facility"].notna().sum() == 1 and t["hub_lat"].notna().sum() == 1  # as given: one row each
    hubs = plan_hub_points(plan).set_index("homecare")
    points = load_facility_points()
    station = points[points["id"].str.endswith(KITAMI_ID) & (points["code"] == "01208")].iloc[0]
    assert (hubs.loc["北見", "lat"], hubs.loc["北見", "lon"]) == (station["lat"], station["lon"])
    assert hubs.loc["北見", "located_by"] == "facility" and hubs.loc["上川", "located_by"] == "point"
    assert (hubs.loc["上川", "lat"], hubs.loc["上川", "lon"]) == (43.5886, 142.4675)
    assert pd.isna(hubs.loc["東十勝", "located_by"])  # とかち: named, no location


def test_english_headers_and_excels_numbers_read_the_same(hokkaido_plan):
    ja = load_plan(planners_frame(hokkaido_plan).to_csv(index=False).encode(), name="ja.csv")
    df = planners_frame(hokkaido_plan).rename(
        columns={"拠点": "hub_name", "拠点の施設ID": "hub_facility", "拠点の緯度": "hub_lat", "拠点の経度": "hub_lon"}
    )
    # Excel keeps what it reads as numbers: the coordinates as floats, the id without its leading zero
    df["hub_lat"] = pd.to_numeric(df["hub_lat"])
    df["hub_lon"] = pd.to_numeric(df["hub_lon"])
    df["hub_facility"] = pd.to_numeric(df["hub_facility"])
    buf = io.BytesIO()
    df.to_excel(buf, index=False)
    plan = load_plan(buf.getvalue(), name="en.xlsx")
    assert plan.table.drop(columns="hub_facility").equals(ja.table.drop(columns="hub_facility"))
    assert plan.table.set_index("code").loc["01208", "hub_facility"] == KITAMI_ID.lstrip("0")
    assert plan_hub_points(plan).equals(plan_hub_points(ja).assign(hub_facility=plan_hub_points(plan)["hub_facility"]))


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("拠点の緯度", "北緯43度35分", ["数ではありません", "例: 43.5886"]),
        ("拠点の緯度", "50.2", ["日本の範囲（北緯20〜46度）の外"]),
        ("拠点の経度", "43.5886", ["経度 43.5886", "入れ替わって"]),
        ("拠点の経度", None, ["が空です", "緯度と経度の両方"]),
        ("拠点", None, ["拠点の場所（施設ID または 緯度・経度）が入っています", "拠点の名前を入れる"]),
    ],
)
def test_a_hub_cell_that_cannot_be_used_names_the_row_and_cell(hokkaido_plan, column, value, words):
    df = planners_frame(hokkaido_plan)
    df.loc[df["市町村コード"] == BIEI, column] = value
    row = file_row_of(df, BIEI)
    cell = f"{column_letter(list(df.columns).index(column))}{row}"
    with pytest.raises(PlanError) as err:
        load_plan(df.to_csv(index=False).encode(), name="案.csv")
    text = str(err.value)
    assert isinstance(err.value, InputError) and err.value.exit_code == 2
    assert err.value.row == row and f"「{column}」列（セル {cell}）" in text and "ファイル「案.csv」" in text, text
    assert all(w in text for w in words), text


def test_the_apps_plan_files_read_back_to_the_same_plan(hokkaido_plan):
    plan = load_plan(planners_frame(hokkaido_plan).to_csv(index=False).encode(), name="案")
    csv = plan_csv_bytes(plan)
    header = csv.decode("utf-8-sig").splitlines()[0].split(",")
    assert header == [*HEADERS_JA, "拠点の施設ID", "拠点の緯度", "拠点の経度"]
    assert load_plan(csv, name="案.csv").table.equals(plan.table)
    xlsx = plan_xlsx_bytes(plan)
    ws = openpyxl.load_workbook(io.BytesIO(xlsx))["区域表"]
    heads = [c.value for c in ws[1]]
    assert heads == header
    kitami = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == "01208")
    assert kitami[heads.index("拠点の施設ID")] == KITAMI_ID  # text: the leading zero kept
    lats = [r[heads.index("拠点の緯度")] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert any(isinstance(v, float) for v in lats)  # degrees are numbers in Excel, not text
    assert load_plan(xlsx, name="案.xlsx").table.equals(plan.table)
    # a plan without hub locations writes the file it always wrote (no empty columns)
    assert plan_csv_bytes(hokkaido_plan).decode("utf-8-sig").splitlines()[0].split(",") == HEADERS_JA
    assert list(load_plan("secondary-2020:鳥取県").to_japanese_frame().columns) == HEADERS_JA[:-1]  # no hubs


def test_facilities_are_loaded_only_for_a_plan_that_names_one(hokkaido_plan):
    assert hub_facilities(hokkaido_plan) is None  # names only: nothing to look up
    plan = load_plan(planners_frame(hokkaido_plan).to_csv(index=False).encode(), name="案.csv")
    points = hub_facilities(plan)
    assert points is not None and {"id", "kind", "name", "lat", "lon"} <= set(points.columns)
    assert "訪問看護ステーション" in set(points["kind"])  # kinds as people read them
    assert hub_points(plan, points).set_index("homecare").loc["北見", "facility_kind"] == "訪問看護ステーション"
