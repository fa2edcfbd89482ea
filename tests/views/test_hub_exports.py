"""Hubs in every export, opened the way users open them (real Hokkaido data).

One `geo-app build` of hokkaido-2024 with three hubs given a location — 北見's by a real facility id (a
訪問看護ステーション in 北見市), 上川's by a point in 美瑛町, 富良野's by a point under a hostile name — and
とかち's hub left as the sources give it, named with no location. Then: the Excel sheets (openpyxl), the
GeoPackage's `hubs` layer (pyogrio), GeoJSON, the summary CSV/JSON, and the print map's PNG and PDF
(rasterised with pdftoppm), where the stars are found by their colour at the place the hub's
coordinates project to, and the hubs not drawn are counted in the note.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess

import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
from PIL import Image
from pyproj import Transformer
from scipy import ndimage

from geo_app import load_municipalities
from geo_app.core.dissolve import dissolve
from geo_app.core.edits import set_hub
from geo_app.core.hubs import hub_points
from geo_app.io.facilities import load_facility_points
from geo_app.io.plans import hub_facilities
from geo_app.views.build import build_outputs
from geo_app.views.printmap import HUB_COLOR, write_print_map
from geo_app.views.text import summary_frame, to_json_records
from geo_app.views.textsafe import xlsx_text

KITAMI_ID = "0165090010"  # 北見地域訪問看護ステーション, 北見市 (the source's id; see tests/core/test_hubs.py)
KITAMI_HUB = "北見の連携拠点"
BIEI = (43.5886, 142.4675)  # a point in 美瑛町 (上川)
FURANO = (43.3421, 142.3833)  # a point in 富良野市 (富良野)
HOSTILE = '=HYPERLINK("http://127.0.0.1:9","x")<script>alert(1)</script>\u202e$x$\x1b[31m'
TOKACHI = "とかち在宅医療連携拠点（東十勝・西十勝・南十勝・北十勝）"


@pytest.fixture(scope="module")
def munis():
    return load_municipalities(prefectures=["北海道"])


@pytest.fixture(scope="module")
def plan(hokkaido_plan):
    p = set_hub(hokkaido_plan, "北見", KITAMI_HUB, facility=KITAMI_ID)
    p = set_hub(p, "上川", "美瑛町役場", lat=str(BIEI[0]), lon=str(BIEI[1]))
    return set_hub(p, "富良野", HOSTILE, lat=str(FURANO[0]), lon=str(FURANO[1]))


@pytest.fixture(scope="module")
def station() -> pd.Series:
    points = load_facility_points()
    return points[points["id"].str.endswith(KITAMI_ID) & (points["code"] == "01208")].iloc[0]


@pytest.fixture(scope="module")
def built(munis, plan, tmp_path_factory):
    out = tmp_path_factory.mktemp("hub_build")
    build_outputs(munis, plan, out)
    return out


# ---- Excel ---------------------------------------------------------------------------------------
def _rows(ws) -> tuple[list[str], list[tuple]]:
    return [c.value for c in ws[1]], list(ws.iter_rows(min_row=2, values_only=True))


def test_excel_carries_each_hub_with_where_it_is(built, station):
    wb = openpyxl.load_workbook(built / "summary.xlsx")
    heads, rows = _rows(wb["在宅医療圏"])
    at = heads.index("拠点")
    assert heads[at : at + 4] == ["拠点", "位置の根拠", "拠点の緯度", "拠点の経度"]
    by_area = {r[0]: r[at : at + 4] for r in rows}
    assert by_area["北見"] == (KITAMI_HUB, "施設", station["lat"], station["lon"])
    assert by_area["上川"] == ("美瑛町役場", "地点", *BIEI)
    assert by_area["東十勝"] == (TOKACHI, "不明", None, None)
    assert by_area["札幌市"] == (None, None, None, None) and by_area["合計"] == (None, None, None, None)
    lat_cell = wb["在宅医療圏"].cell(row=2 + [r[0] for r in rows].index("上川"), column=at + 3)
    assert lat_cell.data_type == "n" and lat_cell.number_format == "0.0000"  # a number, shown to ~10 m
    heads, rows = _rows(wb["市町村"])
    at = heads.index("拠点")
    biei = next(r for r in rows if r[0] == "01459")
    assert biei[at : at + 4] == ("美瑛町役場", "地点", *BIEI)
    kitami_towns = {r[0]: r[at : at + 4] for r in rows if r[heads.index("在宅医療圏")] == "北見"}
    assert set(kitami_towns) == {"01208", "01543", "01544", "01549", "01550"}
    assert set(kitami_towns.values()) == {(KITAMI_HUB, "施設", station["lat"], station["lon"])}


def test_excel_findings_say_which_hub_has_no_location(built):
    heads, rows = _rows(openpyxl.load_workbook(built / "summary.xlsx")["所見"])
    unlocated = [r for r in rows if r[heads.index("ルール")] == "場所の分からない連携拠点"]
    assert len(unlocated) == 1 and TOKACHI in unlocated[0][heads.index("説明")]


# ---- GIS -----------------------------------------------------------------------------------------
def test_geopackage_hubs_layer_has_the_points(built, station):
    path = built / "areas.gpkg"
    assert dict(pyogrio.list_layers(path))["hubs"] == "Point"
    info = pyogrio.read_info(path, layer="hubs")
    assert info["crs"] == "EPSG:6668" and info["layer_metadata"]["DESCRIPTION"].endswith(": 在宅医療連携拠点")
    hubs = pyogrio.read_dataframe(path, layer="hubs").set_index("homecare")
    assert len(hubs) == 7  # 北見, 上川, 富良野, and とかち's four areas
    kitami = hubs.loc["北見"]
    assert (kitami.geometry.x, kitami.geometry.y) == (station["lon"], station["lat"])
    assert (kitami["hub"], kitami["hub_facility"], kitami["located_by"]) == (KITAMI_HUB, KITAMI_ID, "施設")
    assert kitami["facility_name"] == station["name"] and kitami["facility_kind"] == "訪問看護ステーション"
    kamikawa = hubs.loc["上川"]
    assert (kamikawa.geometry.x, kamikawa.geometry.y) == (BIEI[1], BIEI[0]) and kamikawa["located_by"] == "地点"
    for area in ("東十勝", "西十勝", "南十勝", "北十勝"):
        assert hubs.loc[area].geometry is None and hubs.loc[area, "located_by"] == "不明"
        assert hubs.loc[area, "hub"] == TOKACHI
    homecare = pyogrio.read_dataframe(path, layer="homecare").set_index("area")
    assert homecare.loc["上川", ["hub", "hub_located_by", "hub_lat", "hub_lon"]].tolist() == [
        "美瑛町役場",
        "地点",
        *BIEI,
    ]
    assert homecare.loc["札幌市", ["hub", "hub_located_by"]].isna().all()
    muni = pyogrio.read_dataframe(path, layer="municipalities").set_index("code")
    assert muni.loc["01459", ["hub", "hub_lat", "hub_lon"]].tolist() == ["美瑛町役場", *BIEI]


def test_geojson_and_summary_csv_carry_the_hubs(built, munis, plan, station):
    doc = json.loads((built / "areas.geojson").read_text(encoding="utf-8"))
    props = {f["properties"]["area"]: f["properties"] for f in doc["features"]}
    assert (props["北見"]["hub_lat"], props["北見"]["hub_lon"]) == (station["lat"], station["lon"])
    assert props["東十勝"]["hub_located_by"] == "不明" and props["東十勝"]["hub_lat"] is None
    text = (built / "summary.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    kamikawa = next(r for r in rows if r["在宅医療圏名"] == "上川")
    assert (kamikawa["拠点"], kamikawa["位置の根拠"], kamikawa["拠点の緯度"], kamikawa["拠点の経度"]) == (
        "美瑛町役場",
        "地点",
        "43.5886",
        "142.4675",
    )
    kitami = next(r for r in rows if r["在宅医療圏名"] == "北見")
    assert kitami["拠点の施設ID"] == KITAMI_ID and kitami["位置の根拠"] == "施設"
    areas = dissolve(munis, plan, "homecare")
    records = json.loads(to_json_records(summary_frame(areas, hubs=hub_points(plan, hub_facilities(plan)))))
    by_area = {r["area"]: r for r in records}
    assert (by_area["上川"]["hub_lat"], by_area["上川"]["hub_lon"]) == BIEI
    assert by_area["東十勝"]["hub_lat"] is None and by_area["札幌市"]["hub"] is None


# ---- the print map -------------------------------------------------------------------------------
def _stars(rgb: np.ndarray, box: tuple[float, float, float, float]) -> list[tuple[float, float]]:
    """Centres of the blobs of the hub colour inside the main map's box (the legend's star is outside)."""
    target = np.array([int(HUB_COLOR[i : i + 2], 16) for i in (1, 3, 5)])
    near = np.abs(rgb.astype(int) - target).sum(axis=2) < 60
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    mask = np.zeros_like(near)
    mask[y0:y1, x0:x1] = near[y0:y1, x0:x1]
    labels, n = ndimage.label(mask)
    centres = ndimage.center_of_mass(mask, labels, range(1, n + 1))
    sizes = ndimage.sum(mask, labels, range(1, n + 1))
    return [(float(cx), float(cy)) for (cy, cx), s in zip(centres, sizes, strict=True) if s >= 20]


def _expected_px(r: dict, lat: float, lon: float) -> tuple[float, float]:
    """Where the map's own projection and frame put (lat, lon) on the page, computed here."""
    x, y = Transformer.from_crs("EPSG:4326", r["crs"], always_xy=True).transform(lon, lat)
    xmin, ymin, xmax, ymax = r["main_limits"]
    px0, py0, px1, py1 = r["main_axes_px"]
    return px0 + (x - xmin) / (xmax - xmin) * (px1 - px0), py0 + (ymax - y) / (ymax - ymin) * (py1 - py0)


def _check_stars(page: np.ndarray, r: dict, places: list[tuple[float, float]]) -> None:
    found = _stars(page, r["main_axes_px"])
    assert len(found) == len(places), found
    grey = page.astype(float) @ np.array([0.299, 0.587, 0.114])
    for lat, lon in places:
        ex, ey = _expected_px(r, lat, lon)
        cx, cy = min(found, key=lambda c: np.hypot(c[0] - ex, c[1] - ey))
        assert np.hypot(cx - ex, cy - ey) < 4, ((lat, lon), (ex, ey), (cx, cy))  # within 0.5 mm at 200 dpi
        # legible in greyscale: a dark star on the light fill around it
        yy, xx = np.ogrid[: grey.shape[0], : grey.shape[1]]
        ring = (np.hypot(xx - cx, yy - cy) > 24) & (np.hypot(xx - cx, yy - cy) < 34)
        assert grey[int(round(cy)), int(round(cx))] < 110 and np.median(grey[ring]) > 170


def test_print_map_marks_each_located_hub_in_png_and_pdf(munis, plan, tmp_path):
    png, pdf = tmp_path / "map.png", tmp_path / "map.pdf"
    r = write_print_map(munis, plan, png, pdf, level="homecare")
    assert r["hubs_not_drawn"] == {"unlocated": 1, "off_map": 0}  # とかち's, once for its four areas
    assert sorted(h["areas"][0] for h in r["hubs_drawn"]) == ["上川", "北見", "富良野"]
    station = load_facility_points()
    station = station[station["id"].str.endswith(KITAMI_ID)].iloc[0]
    places = [BIEI, FURANO, (station["lat"], station["lon"])]
    with Image.open(png) as im:
        _check_stars(np.asarray(im.convert("RGB")), r, places)
    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        pytest.skip("poppler (pdftoppm, pdftotext) is not installed; the PDF is not checked")
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-singlefile", str(pdf), str(tmp_path / "page")], check=True)
    with Image.open(tmp_path / "page.png") as page:
        assert abs(page.size[0] - r["size_px"][0]) <= 1 and abs(page.size[1] - r["size_px"][1]) <= 1
        _check_stars(np.asarray(page.convert("RGB")), r, places)
    words = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = "".join(words.split())
    assert "在宅医療連携拠点" in flat  # the legend entry
    assert "在宅医療連携拠点のうち場所の分からない1か所は地図に描いていません" in flat


def test_print_map_of_the_built_in_plan_draws_no_star_and_says_why(munis, hokkaido_plan, tmp_path):
    r = write_print_map(munis, hokkaido_plan, tmp_path / "map.png", level="homecare")
    assert r["hubs_drawn"] == [] and r["hubs_not_drawn"] == {"unlocated": 2, "off_map": 0}  # 北見 and とかち
    with Image.open(tmp_path / "map.png") as im:
        assert _stars(np.asarray(im.convert("RGB")), (0, 0, *im.size)) == []  # no star, not even in the legend


# ---- a hostile hub name stays inert ----------------------------------------------------------------
def test_a_hostile_hub_name_stays_text_in_every_export(built):
    wb = openpyxl.load_workbook(built / "summary.xlsx")
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no formula anywhere
    shown = xlsx_text(HOSTILE)
    heads, rows = _rows(wb["在宅医療圏"])
    assert next(r for r in rows if r[0] == "富良野")[heads.index("拠点")] == shown
    text = (built / "summary.csv").read_text(encoding="utf-8-sig")
    furano = next(r for r in csv.DictReader(io.StringIO(text)) if r["在宅医療圏名"] == "富良野")
    assert furano["拠点"] == "'" + HOSTILE  # Excel shows it as text, never runs it
    hubs = pyogrio.read_dataframe(built / "areas.gpkg", layer="hubs").set_index("homecare")
    assert hubs.loc["富良野", "hub"] == HOSTILE  # GIS: the value, exactly
    doc = json.loads((built / "areas.geojson").read_text(encoding="utf-8"))
    assert {f["properties"]["area"]: f["properties"]["hub"] for f in doc["features"]}["富良野"] == HOSTILE
    html = (built / "map.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
