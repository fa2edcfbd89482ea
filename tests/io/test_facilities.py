"""The embedded facility counts (data/facilities/counts.csv) and their loader, against the shared source files.

Expected counts are tallied here from ../shared/data/facilities/*.csv with the csv module alone (one row =
one facility, by its `code`), never taken from the build script, the loader or the shared per-municipality
table; a designated city is added up here from its wards and its own rows.
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, SHARED, build_data_module

from geo_app.io.facilities import COLUMNS, SOURCE_OF, load_facilities, sources
from geo_app.io.provenance import DataSource

FAC = SHARED / "facilities"
STATIONS, HOSPITALS = "home_nursing_stations_mhlw130.csv", "hospitals_mhlw_navii_20250601.csv"
SHIEN = "hokkaido_zaitaku_shien_kouseikyoku_20251001.csv"
needs_shared = pytest.mark.skipif(not (FAC / SHIEN).is_file(), reason="../shared/data is not beside this checkout")

SAPPORO_WARDS = [f"0110{i}" for i in range(1, 10)] + ["01110"]
HAMAMATSU_WARDS = [f"2213{i}" for i in range(1, 8)]


def _rows(name: str) -> list[dict[str, str]]:
    with (FAC / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def raw() -> dict[str, Counter]:
    """Facilities per code as the sources code them: stations only, every hospital, 支援診療所 + 支援病院."""
    stations = [r for r in _rows(STATIONS) if r["provider_kind"] == "訪問看護ステーション"]
    shien = [r for r in _rows(SHIEN) if r["type"] in ("在宅療養支援診療所", "在宅療養支援病院")]
    return {
        "home_nursing_stations": Counter(r["code"] for r in stations),
        "hospitals": Counter(r["code"] for r in _rows(HOSPITALS)),
        "zaitaku_shien": Counter(r["code"] for r in shien),
    }


@pytest.fixture(scope="module")
def census_rows() -> list[dict[str, str]]:
    with (SHARED / "population" / "census2020_municipalities.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _int(value: object) -> int | None:
    return None if pd.isna(value) else int(value)


# ---- shape ---------------------------------------------------------------------------------------


def test_columns_dtypes_and_index_follow_the_codes_given():
    codes = ["01100", "13101", "01100", "99999", "01695"]
    got = load_facilities(codes)
    assert list(got.columns) == list(COLUMNS) == ["home_nursing_stations", "hospitals", "zaitaku_shien"]
    assert all(str(t) == "Int64" for t in got.dtypes)
    assert list(got.index) == codes and got.index.name == "code"
    assert got.iloc[0].equals(got.iloc[2])
    assert got.loc["99999"].isna().all()  # a code nobody publishes: unknown, not 0
    assert got.loc["01695"].isna().all()  # 色丹村: boundaries but no census row, no count
    assert pd.isna(got.at["13101", "zaitaku_shien"])  # 在宅療養支援 outside Hokkaido: unknown, not 0
    assert got.loc["13101", ["home_nursing_stations", "hospitals"]].notna().all()
    assert load_facilities([]).shape == (0, 3)


def test_sources_name_each_publisher_and_date():
    nursing, hospitals, shien = sources()
    assert all(isinstance(s, DataSource) for s in (nursing, hospitals, shien))
    assert "介護サービス情報公表システム（厚生労働省）のオープンデータを加工して作成" in nursing.credit
    assert "2026年4〜7月公開" in nursing.vintage
    assert "医療情報ネット（ナビイ）のオープンデータ（厚生労働省）を加工して作成" in hospitals.credit
    assert "2025年6月1日" in hospitals.vintage
    assert "北海道厚生局" in shien.credit and "2025年10月1日" in shien.vintage
    assert SOURCE_OF == dict(zip(COLUMNS, (nursing, hospitals, shien), strict=True))
    text = (ROOT / "data" / "SOURCES.md").read_text(encoding="utf-8")
    for credit in (nursing.credit, hospitals.credit, shien.credit):
        assert credit.removeprefix("出典：") in text


# ---- anchors (from the committed data alone) -------------------------------------------------------


def test_hokkaido_totals(census):
    codes = census.loc[(census["kind"] == "municipality") & census["code"].str.startswith("01"), "code"]
    assert len(codes) == 179
    got = load_facilities(codes)
    assert got.notna().all().all()
    assert got.sum().to_dict() == {"home_nursing_stations": 640, "hospitals": 434, "zaitaku_shien": 459}


def test_national_totals_over_the_1741_municipalities(census):
    got = load_facilities(census.loc[census["kind"] == "municipality", "code"])
    assert len(got) == 1741
    assert int(got["home_nursing_stations"].sum()) == 16_977
    assert int(got["hospitals"].sum()) == 7_587
    assert int(got["zaitaku_shien"].notna().sum()) == 179  # Hokkaido only


def test_merged_city_is_its_wards_plus_its_own_rows():
    """札幌市 has nothing coded to the city; 浜松市's 31 hospitals are all on the city (2024 wards)."""
    got = load_facilities(["01100", *SAPPORO_WARDS, "22130", *HAMAMATSU_WARDS])
    assert (got.loc[SAPPORO_WARDS].sum() == got.loc["01100"]).all()
    assert got.at["22130", "hospitals"] == 31
    assert got.loc[HAMAMATSU_WARDS, "hospitals"].isna().all()  # may lie in any ward: unknown by ward
    assert int(got.loc[HAMAMATSU_WARDS, "home_nursing_stations"].sum()) == got.at["22130", "home_nursing_stations"]


# ---- exact counts from the raw files ---------------------------------------------------------------


@needs_shared
def test_sapporo_merged_equals_wards_plus_city_rows(raw):
    got = load_facilities(["01100", *SAPPORO_WARDS])
    for col, counter in raw.items():
        expected = counter["01100"] + sum(counter[w] for w in SAPPORO_WARDS)
        assert got.at["01100", col] == expected, col
        for ward in SAPPORO_WARDS:
            assert got.at[ward, col] == counter[ward], (ward, col)
    assert got.loc["01100"].to_dict() == {"home_nursing_stations": 265, "hospitals": 148, "zaitaku_shien": 211}


@needs_shared
def test_asahikawa_biei_and_tokyo_wards(raw):
    got = load_facilities(["01204", "01459", "13101", "13104", "13111"])
    for code in ("01204", "01459"):
        for col, counter in raw.items():
            assert got.at[code, col] == counter[code], (code, col)
    for code in ("13101", "13104", "13111"):  # 千代田区, 新宿区, 大田区 (特別区: municipalities)
        assert got.at[code, "home_nursing_stations"] == raw["home_nursing_stations"][code]
        assert got.at[code, "hospitals"] == raw["hospitals"][code]
        assert pd.isna(got.at[code, "zaitaku_shien"])
    assert got.at["01204", "zaitaku_shien"] > 0 and got.at["13111", "hospitals"] > 0


@needs_shared
def test_hokkaido_shien_total_is_the_rows_of_those_types():
    """支援診療所 + 支援病院 rows of the list (not 後方支援病院), over Hokkaido's 179 municipalities."""
    rows = _rows(SHIEN)
    types = Counter(r["type"] for r in rows)
    assert types == {"在宅療養支援診療所": 366, "在宅療養支援病院": 93, "在宅療養後方支援病院": 34}
    munis = [r["code"] for r in _rows("facility_counts_by_municipality.csv") if r["code"][:2] == "01"]
    munis = [c for c in munis if not c.startswith("011") or c == "01100"]  # 札幌市's wards are 01101–01110
    assert len(munis) == 179
    got = load_facilities(munis)
    assert int(got["zaitaku_shien"].sum()) == types["在宅療養支援診療所"] + types["在宅療養支援病院"]


@needs_shared
def test_every_census_code_as_the_sources_give(raw, census_rows):
    """All 1,916 codes: own count; a designated city + its wards; a ward NA where its city has own rows."""
    codes = [r["code"] for r in census_rows]
    wards_of: dict[str, list[str]] = {}
    for r in census_rows:
        if r["kind"] == "ward":
            wards_of.setdefault(r["parent_code"], []).append(r["code"])
    parent = {r["code"]: r["parent_code"] for r in census_rows}
    got = load_facilities(codes)
    masked = []
    for code in codes:
        for col, counter in raw.items():
            if col == "zaitaku_shien" and not code.startswith("01"):
                expected = None
            elif code in wards_of:
                expected = counter[code] + sum(counter[w] for w in wards_of[code])
            elif parent[code] and counter[parent[code]] > 0:
                expected = None
                masked.append((code, col))
            else:
                expected = counter[code]
            assert _int(got.at[code, col]) == expected, (code, col)
    assert masked == [(w, "hospitals") for w in HAMAMATSU_WARDS]


@needs_shared
def test_equals_the_shared_per_municipality_table(census_rows):
    """The shared table's stations and ナビイ hospitals, on every code whose figure is known."""
    got = load_facilities([r["code"] for r in census_rows])
    for r in _rows("facility_counts_by_municipality.csv"):
        assert _int(got.at[r["code"], "home_nursing_stations"]) == int(r["home_nursing_station"]), r["code"]
        if r["code"] not in HAMAMATSU_WARDS:
            assert _int(got.at[r["code"], "hospitals"]) == int(r["hospitals_navii"]), r["code"]


# ---- where the file is found -----------------------------------------------------------------------


def test_read_from_the_data_dir(tmp_path, monkeypatch):
    """GEO_APP_DATA_DIR (and so the wheel's _data) is where the table comes from, like the census."""
    shutil.copytree(ROOT / "data" / "facilities", tmp_path / "copy" / "facilities")
    monkeypatch.setenv("GEO_APP_DATA_DIR", str(tmp_path / "copy"))
    assert load_facilities(["01100"]).at["01100", "hospitals"] == 148
    monkeypatch.setenv("GEO_APP_DATA_DIR", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError):
        load_facilities(["01100"])


# ---- the build step ------------------------------------------------------------------------------


@needs_shared
def test_build_is_deterministic_and_equals_committed(tmp_path):
    mod = build_data_module()
    first, second = mod.build_facilities(SHARED, tmp_path / "a"), mod.build_facilities(SHARED, tmp_path / "b")
    assert first.read_bytes() == second.read_bytes() == (ROOT / "data" / "facilities" / "counts.csv").read_bytes()
    lines = first.read_text(encoding="utf-8").split("\n")
    assert lines[0] == "code,kind,parent_code,home_nursing_stations,hospitals,zaitaku_shien" and lines[-1] == ""
    codes = [line.split(",", 1)[0] for line in lines[1:-1]]
    assert codes == sorted(codes) and len(codes) == 1916
    assert "01100,municipality,,0,0,0" in lines  # the city's own row: nothing coded to 札幌市 itself
    assert "13101,municipality,,9,15," in lines  # 在宅療養支援 empty (unknown) outside Hokkaido


def _tampered(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """A copy of the shared files the step reads, with `old` replaced once by `new` in `name`."""
    shared = tmp_path / "shared"
    shutil.copytree(FAC, shared / "facilities", ignore=shutil.ignore_patterns("raw"))
    (shared / "population").mkdir()
    shutil.copy(SHARED / "population" / "census2020_municipalities.csv", shared / "population")
    path = shared / "facilities" / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    return shared


ASAHIKAWA = "01204,旭川市,北海道,municipality,,62,"  # home_nursing_all 62, then home_nursing_station
ASAHIKAWA_MED = "北海道旭川市緑が丘東２条１丁目１番１号,01,"  # 旭川医科大学病院's address and pref_code
AIZEN = "0110112489,愛全病院訪問看護あいぜん,訪問看護,"  # a hospital's みなし指定 訪問看護


@needs_shared
@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        # the shared table says one more station in 旭川市 than the station list gives
        ("facility_counts_by_municipality.csv", ASAHIKAWA + "59,", ASAHIKAWA + "60,", "home_nursing_stations differs"),
        # a hospital moved from 旭川市 to 美瑛町: the file still adds up nationally, not by code
        (HOSPITALS, ASAHIKAWA_MED + "01204,", ASAHIKAWA_MED + "01459,", "hospitals differs"),
        # a みなし指定 clinic passed off as a station
        (STATIONS, AIZEN + "医療機関（医科）", AIZEN + "訪問看護ステーション", "provider_kind"),
    ],
)
def test_build_refuses_inputs_that_disagree(tmp_path, name, old, new, message):
    shared = _tampered(tmp_path, name, old, new)
    with pytest.raises(SystemExit, match=message):
        build_data_module().build_facilities(shared, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing written


# ---- points (data/facilities/points.csv, load_facility_points) ----------------------------------------
POINTS = ("home_nursing_station", "hospital", "zaitaku_shien")
PLACED = ("inside", "near_boundary")  # the sources' coord_check: in, or ≤ 2 km outside, the municipality


def _point(r: dict[str, str], lat: str, lon: str) -> tuple[str, str, float, float]:
    """name, code and the point rounded half up to 5 decimals on its digits, as the points file keeps them."""
    five = [float(Decimal(v).quantize(Decimal("0.00001"), rounding=ROUND_HALF_UP)) for v in (lat, lon)]
    return r["name"].strip(), r["code"], five[0], five[1]


@pytest.fixture(scope="module")
def expected_points() -> dict[str, dict[str, tuple[str, str, float, float]]]:
    """kind → id → (name, code, lat, lon): the rows of the counts that have a usable point, by SOURCES.md's
    rules, read here with the csv module: a station's or ナビイ hospital's own point when its coord_check places
    it in its municipality, else (hospitals) P04-20's when p04_fill_check is inside; 支援's point where given."""
    out: dict[str, dict[str, tuple[str, str, float, float]]] = {k: {} for k in POINTS}
    for r in _rows(STATIONS):
        if r["provider_kind"] == "訪問看護ステーション" and r["lat"] and r["coord_check"] in PLACED:
            out["home_nursing_station"]["st-" + r["id"]] = _point(r, r["lat"], r["lon"])
    for r in _rows(HOSPITALS):
        if r["lat"] and r["coord_check"] in PLACED:
            lat, lon = r["lat"], r["lon"]
        elif r["lat_p04"] and r["p04_fill_check"] == "inside":
            lat, lon = r["lat_p04"], r["lon_p04"]
        else:
            continue
        out["hospital"]["hp-" + r["id"]] = _point(r, lat, lon)
    for r in _rows(SHIEN):
        if r["type"] in ("在宅療養支援診療所", "在宅療養支援病院") and r["lat"]:
            out["zaitaku_shien"]["zs-" + r["inst_no"]] = _point(r, r["lat"], r["lon"])
    return out


def test_points_shape_and_ids():
    from geo_app.io.facilities import KIND_LABELS, POINT_COLUMNS, POINT_KINDS, load_facility_points

    pts = load_facility_points()
    assert tuple(pts.columns) == POINT_COLUMNS == ("id", "kind", "name", "code", "lat", "lon")
    assert POINT_KINDS == POINTS and set(pts["kind"]) == set(POINTS)
    assert KIND_LABELS == {
        "home_nursing_station": "訪問看護ステーション",
        "hospital": "病院",
        "zaitaku_shien": "在宅療養支援診療所・病院",
    }
    assert pts["id"].is_unique and pts["name"].notna().all() and (pts["name"].str.len() > 0).all()
    assert pts["code"].str.fullmatch(r"\d{5}").all()
    assert pts["lat"].between(20, 46).all() and pts["lon"].between(122, 154).all()
    for c in ("lat", "lon"):  # 5 decimals (≈ 1 m), no more
        assert (pts[c] * 1e5 - (pts[c] * 1e5).round()).abs().max() < 1e-6, c
    # at most the counts of the same codes (a point per counted facility, none invented)
    counts = load_facilities(sorted(set(pts["code"])))
    for kind, column in zip(POINTS, COLUMNS, strict=True):
        per_code = pts.loc[pts["kind"] == kind, "code"].value_counts()
        assert (per_code <= counts[column].reindex(per_code.index).fillna(0)).all(), kind
    assert load_facility_points([]).empty


@needs_shared
def test_hokkaido_points_are_the_rows_with_a_usable_coordinate(expected_points):
    """Per kind, 北海道's points are exactly the source rows with a usable point, same name, code and place."""
    from geo_app.io.facilities import load_facility_points

    codes = [r["code"] for r in _rows("facility_counts_by_municipality.csv") if r["code"][:2] == "01"]
    got = load_facility_points(codes)
    assert set(got["code"].str[:2]) == {"01"}
    sizes = {}
    for kind in POINTS:
        want = {i: v for i, v in expected_points[kind].items() if v[1].startswith("01")}
        mine = got[got["kind"] == kind]
        rows = zip(mine["name"], mine["code"], mine["lat"], mine["lon"], strict=True)
        assert dict(zip(mine["id"], rows, strict=True)) == want
        sizes[kind] = len(want)
    assert sizes == {"home_nursing_station": 636, "hospital": 394, "zaitaku_shien": 129}
    # of 640 stations, 434 hospitals and 459 支援 institutions counted (test_hokkaido_totals): the rest have no point


@needs_shared
def test_all_points_are_the_usable_rows_nationwide(expected_points):
    from geo_app.io.facilities import load_facility_points

    got = load_facility_points()
    for kind in POINTS:
        mine = got[got["kind"] == kind]
        assert set(mine["id"]) == set(expected_points[kind]), kind
    assert got["kind"].value_counts().to_dict() == {
        "home_nursing_station": 16_839,  # of 16,977: 18 without a point, 120 pointing outside their town
        "hospital": 7_491,  # of 7,587: 93 without a point (177 placed by P04-20), 3 outside
        "zaitaku_shien": 129,  # of 459
    }


def test_every_point_lies_in_or_beside_its_municipality():
    """Each point against its own municipality in the embedded N03 polygons (a code coded to a designated
    city: the union of its wards), in metres on its UTM zone: inside, or within the sources' 2 km margin
    for simplified borders (measured here a little longer: at most 2.5 km)."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from geo_app.core.codes import city_of
    from geo_app.io.facilities import load_facility_points

    n03 = gpd.read_parquet(ROOT / "data" / "boundaries" / "n03_2021_japan.parquet").dropna(subset=["N03_007"])
    n03 = n03.rename(columns={"N03_007": "code"})
    shapes = pd.concat([n03.dissolve("code").geometry, n03.assign(city=city_of(n03["code"])).dissolve("city").geometry])
    shapes = shapes[~shapes.index.duplicated()]
    pts = load_facility_points()
    assert pts["code"].isin(shapes.index).all()
    own = gpd.GeoSeries(shapes.reindex(pts["code"]).to_numpy(), crs=n03.crs)
    at = gpd.GeoSeries(gpd.points_from_xy(pts["lon"], pts["lat"]), crs=n03.crs)
    zone = ((pts["lon"] + 180) // 6 + 1).astype(int).to_numpy()
    metres = np.zeros(len(pts))
    for z in np.unique(zone):
        m = zone == z
        metres[m] = shapely.distance(own[m].to_crs(32600 + z).values, at[m].to_crs(32600 + z).values)
    far = pts.assign(m=metres).loc[metres > 2_500, ["id", "name", "code", "m"]]
    assert far.empty, far
    assert (metres == 0).mean() > 0.99  # 24,243 of 24,459 inside


def test_points_follow_the_codes_given():
    """A merged city takes its wards' points; a ward its own; 浜松市 shown by all its wards also takes the 31
    hospitals coded to the city (they lie in one of them), one ward alone does not."""
    from geo_app.io.facilities import load_facility_points

    city = load_facility_points(["01100"])
    wards = load_facility_points(SAPPORO_WARDS)
    assert len(city) > 400 and sorted(city["id"]) == sorted(wards["id"])
    assert set(city["code"]) == set(SAPPORO_WARDS)  # nothing is coded to 札幌市 itself
    chuo = load_facility_points(["01101"])
    assert set(chuo["code"]) == {"01101"} and 0 < len(chuo) < len(city)
    whole = load_facility_points(["22130"])
    by_wards = load_facility_points(HAMAMATSU_WARDS)
    assert sorted(whole["id"]) == sorted(by_wards["id"])
    assert int(((whole["code"] == "22130") & (whole["kind"] == "hospital")).sum()) == 31
    assert not (load_facility_points(HAMAMATSU_WARDS[:1])["code"] == "22130").any()
    assert load_facility_points(["99999", "01695"]).empty  # no such code; a Northern-Territory village


def test_points_read_from_the_data_dir(tmp_path, monkeypatch):
    from geo_app.io import facilities

    shutil.copytree(ROOT / "data" / "facilities", tmp_path / "copy" / "facilities")
    monkeypatch.setenv("GEO_APP_DATA_DIR", str(tmp_path / "copy"))
    assert len(facilities.load_facility_points(["01459"])) > 0
    monkeypatch.setenv("GEO_APP_DATA_DIR", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError):
        facilities.load_facility_points(["01459"])


def test_point_sources_name_publisher_and_date():
    from geo_app.io.facilities import P04_POSITIONS, POINT_SOURCES

    assert POINT_SOURCES["home_nursing_station"] == (SOURCE_OF["home_nursing_stations"],)
    assert POINT_SOURCES["hospital"] == (SOURCE_OF["hospitals"], P04_POSITIONS)
    assert POINT_SOURCES["zaitaku_shien"] == (SOURCE_OF["zaitaku_shien"], P04_POSITIONS)
    assert "国土数値情報（医療機関データ）（国土交通省）を加工して作成" in P04_POSITIONS.credit
    assert "令和2年度" in P04_POSITIONS.vintage
    text = (ROOT / "data" / "SOURCES.md").read_text(encoding="utf-8")
    assert P04_POSITIONS.credit.strip("「」") in text and "facilities/points.csv" in text


@needs_shared
def test_points_build_is_deterministic_and_reports_what_it_left_out(tmp_path, capsys):
    mod = build_data_module()
    first = mod.build_facility_points(SHARED, tmp_path / "a")
    printed = capsys.readouterr().out
    second = mod.build_facility_points(SHARED, tmp_path / "b", report=False)
    assert first.read_bytes() == second.read_bytes() == (ROOT / "data" / "facilities" / "points.csv").read_bytes()
    lines = first.read_text(encoding="utf-8").split("\n")
    assert lines[0] == "id,kind,name,code,lat,lon" and lines[-1] == ""
    assert "home_nursing_station: 16,839 points of 16,977 rows; left out: 18 without a coordinate, 120" in printed
    assert "hospital: 7,491 points of 7,587 rows; left out: 93 without a coordinate, 3" in printed
    assert "zaitaku_shien: 129 points of 459 rows; left out: 330 without a coordinate, 0" in printed


@needs_shared
def test_points_build_drops_a_point_its_source_places_elsewhere(tmp_path):
    """旭川医科大学病院 (ナビイ) marked `outside` by the source's check: left out of the points, still counted."""
    old = "北海道旭川市緑が丘東２条１丁目１番１号,01,01204,旭川市,01204,,43.729967,142.384425,ok,inside,"
    shared = _tampered(tmp_path, HOSPITALS, old, old.replace(",inside,", ",outside,"))  # its coord_check
    built = pd.read_csv(build_data_module().build_facility_points(shared, tmp_path / "out", report=False), dtype=str)
    committed = pd.read_csv(ROOT / "data" / "facilities" / "points.csv", dtype=str)
    assert len(committed) - len(built) == 1
    (gone,) = set(committed["id"]) - set(built["id"])
    assert gone == "hp-0111010002130"
