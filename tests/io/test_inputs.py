"""Whatever file a planner brings: it is read exactly, or refused with a Japanese message that names
the file, the row and the fix. Inputs are generated here from the embedded real data."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely
from shapely.geometry import Polygon

from geo_app import GeoAppError, InputError, PlanError, load_municipalities, load_plan, load_population
from geo_app.core.codes import PREFECTURES, check_digit, normalize_code, normalize_codes
from geo_app.io.boundaries import read_n03_units
from geo_app.io.datasets import boundaries_path
from geo_app.io.known_codes import known_codes
from geo_app.io.names import census_names, name_key, resolve_names
from geo_app.io.tables import MAX_TABLE_BYTES, read_table

pytestmark = pytest.mark.filterwarnings("ignore:'crs' was not provided")


def _japanese(err: BaseException) -> bool:
    text = str(err)
    return any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text) and "Traceback" not in text


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def plan_ja(hokkaido_plan) -> pd.DataFrame:
    return hokkaido_plan.to_japanese_frame()


# ---- plan tables: encodings, formats, codes ---------------------------------------------------
def test_hokkaido_plan_as_cp932_csv_with_integer_codes_is_identical(tmp_path, hokkaido_plan, plan_ja):
    df = plan_ja.copy()
    df["市町村コード"] = df["市町村コード"].astype(int)  # Excel: 01100 → 1100
    path = tmp_path / "在宅医療圏.csv"
    path.write_bytes(df.to_csv(index=False).encode("cp932"))
    assert b"01100" not in path.read_bytes() and b"\n1100," in path.read_bytes()
    plan = load_plan(path)
    assert plan.table.equals(hokkaido_plan.table)
    assert plan.name == "在宅医療圏"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932", "utf-16"])
@pytest.mark.parametrize("sep", [",", "\t", ";"])
def test_plan_csv_in_every_encoding_and_delimiter(hokkaido_plan, plan_ja, encoding, sep):
    data = plan_ja.to_csv(index=False, sep=sep).encode(encoding)
    plan = load_plan(data, name="plan.csv")
    assert plan.table.equals(hokkaido_plan.table)
    said = {",": None, "\t": "タブ", ";": "セミコロン"}[sep]
    assert (said is None) == (not plan.table.attrs["notes"])
    if said:
        assert f"区切り文字を{said}として読みました" in plan.table.attrs["notes"][0]


def test_plan_xlsx_with_float_codes_and_english_headers(hokkaido_plan):
    t = hokkaido_plan.to_frame()
    rows = [list(t.columns)] + [
        [float(int(r[0])), *r[1:]] for r in t.astype(object).where(t.notna(), None).values.tolist()
    ]
    data = _xlsx(rows)
    assert isinstance(openpyxl.load_workbook(io.BytesIO(data)).active["A2"].value, (int, float))
    assert load_plan(data, name="plan.xlsx").table.equals(hokkaido_plan.table)


def test_plan_codes_as_text_floats_fullwidth_and_check_digits(hokkaido_plan, plan_ja):
    forms = {
        "float text": [f"{int(c)}.0" for c in plan_ja["市町村コード"]],
        "full-width": [
            c.translate(str.maketrans("0123456789", "０１２３４５６７８９")) for c in plan_ja["市町村コード"]
        ],
        "6 digits": [c + check_digit(c) for c in plan_ja["市町村コード"]],
        "6 digits, zero lost": [str(int(c + check_digit(c))) for c in plan_ja["市町村コード"]],
    }
    for label, codes in forms.items():
        df = plan_ja.assign(市町村コード=codes)
        assert load_plan(df).table.equals(hokkaido_plan.table), label
    assert forms["6 digits, zero lost"][0] == "11002"


def test_wrong_check_digit_names_row_and_expected_digit(plan_ja):
    df = plan_ja.assign(市町村コード=[c + check_digit(c) for c in plan_ja["市町村コード"]])
    df.loc[3, "市町村コード"] = "012040"  # 旭川市 01204: the check digit is 1
    with pytest.raises(PlanError) as err:
        load_plan(df.to_csv(index=False).encode("utf-8"), name="plan.csv")
    assert err.value.row == 5 and err.value.source == "plan.csv"
    assert "検査数字" in str(err.value) and "01204 の検査数字は 1" in str(err.value)
    assert str(err.value).startswith("ファイル「plan.csv」 5行目:")


def test_normalize_code_forms():
    assert normalize_code(1100) == normalize_code(1100.0) == normalize_code("1100.0") == "01100"
    assert normalize_code("０１１００") == normalize_code("'01100") == normalize_code("011002") == "01100"
    assert normalize_code(np.int64(13206)) == "13206"
    for bad in ("abc", "12", 1100.5, float("inf"), True, "1234567"):
        with pytest.raises(ValueError):
            normalize_code(bad)
    # a column of 6-digit numbers: 01〜09 lost their zero, the others did not
    codes, errors = normalize_codes(pd.Series([11002, 132012, 12025]))
    assert codes.tolist() == ["01100", "13201", "01202"] and errors.isna().all()
    # true 5-digit codes stay as they are
    codes, _ = normalize_codes(pd.Series(["13206", "01100"]))
    assert codes.tolist() == ["13206", "01100"]


def test_unknown_code_may_be_a_pre_merger_code(plan_ja):
    df = plan_ja.copy()
    df.loc[5, "市町村コード"] = "01201"  # no municipality has 01201 (札幌市 is 01100)
    df.loc[5, "市町村名"] = pd.NA
    with pytest.raises(PlanError) as err:
        load_plan(df)
    assert err.value.row == 7
    assert "01201" in str(err.value) and "合併前" in str(err.value)


def test_name_contradicting_code_is_refused(plan_ja):
    df = plan_ja.copy()
    df.loc[1, "市町村コード"] = "01204"  # the row says 函館市; 01204 is 旭川市
    with pytest.raises(PlanError) as err:
        load_plan(df)
    msg = str(err.value)
    assert "01204 は旭川市" in msg and "函館市" in msg and "01202" in msg


def test_duplicates_and_city_with_its_wards_are_refused(plan_ja):
    doubled = pd.concat([plan_ja, plan_ja.iloc[[0]]], ignore_index=True)
    with pytest.raises(PlanError, match=r"01100（札幌市）が 2 行あります（2行目と181行目）"):
        load_plan(doubled)
    ward = plan_ja.iloc[[0]].assign(市町村コード="01101", 市町村名="札幌市中央区")
    with pytest.raises(PlanError, match="札幌市（01100）が、市全体の行と区ごとの行の両方"):
        load_plan(pd.concat([plan_ja, ward], ignore_index=True))


def test_several_problems_are_listed_at_once(plan_ja):
    df = plan_ja.copy()
    df.loc[2, "市町村コード"] = "x"
    df.loc[10, "市町村コード"] = "01999"
    with pytest.raises(PlanError) as err:
        load_plan(df)
    msg = str(err.value)
    assert "2 件あります" in msg and "4行目" in msg and "12行目" in msg


def test_prefecture_column_contradicting_the_code(plan_ja):
    df = plan_ja.assign(都道府県="北海道")
    df.loc[4, "都道府県"] = "青森県"
    with pytest.raises(PlanError) as err:
        load_plan(df)
    assert err.value.row == 6 and "北海道のコードですが、都道府県は「青森県」" in str(err.value)


def test_status_and_missing_columns(plan_ja):
    with pytest.raises(PlanError, match="状態「たぶん」"):
        load_plan(plan_ja.assign(状態="たぶん"))
    with pytest.raises(PlanError, match="在宅医療圏.*二次医療圏"):
        load_plan(plan_ja[["市町村コード", "市町村名"]])
    with pytest.raises(PlanError, match="市町村コード.*市町村名"):
        load_plan(plan_ja[["在宅医療圏", "二次医療圏"]])


def test_duplicate_header_names_are_named(plan_ja):
    text = plan_ja.to_csv(index=False).replace("状態", "市町村コード", 1)
    with pytest.raises(PlanError) as err:
        load_plan(text.encode("utf-8"), name="dup.csv")
    assert "見出し「市町村コード」の列が 2 つ（A・F列）" in str(err.value)
    both = plan_ja.assign(code=plan_ja["市町村コード"].str[::-1])
    with pytest.raises(PlanError, match="列「市町村コード」と列「code」"):
        load_plan(both)
    # the same values under two headers are fine
    same = plan_ja.assign(code=plan_ja["市町村コード"])
    assert load_plan(same).table.equals(load_plan(plan_ja).table)


def test_load_plan_neither_writes_nor_changes_the_file(tmp_path, plan_ja):
    path = tmp_path / "saved.csv"
    plan_ja.to_csv(path, index=False)
    before = (path.read_bytes(), path.stat().st_mtime_ns, sorted(p.name for p in tmp_path.iterdir()))
    load_plan(path)
    with pytest.raises(PlanError):
        load_plan(path, prefecture="アトランティス")
    assert (path.read_bytes(), path.stat().st_mtime_ns, sorted(p.name for p in tmp_path.iterdir())) == before


def test_load_plan_refuses_what_is_no_table(tmp_path):
    for source in (tmp_path, tmp_path / "none.csv", 42, None, "no-such-plan", "secondary-2020:ムー大陸"):
        with pytest.raises(PlanError) as err:
            load_plan(source)
        assert _japanese(err.value)


# ---- names instead of codes -------------------------------------------------------------------
def test_plan_with_names_only_is_matched_within_the_prefecture(hokkaido_plan, plan_ja):
    names_only = plan_ja.drop(columns=["市町村コード"])
    assert load_plan(names_only).table.equals(hokkaido_plan.table)  # 北海道 implied by the names
    assert load_plan(names_only.assign(都道府県="北海道")).table.equals(hokkaido_plan.table)
    assert load_plan(names_only, prefecture="01").table.equals(hokkaido_plan.table)
    empty_codes = plan_ja.assign(市町村コード=[c if i % 2 else "" for i, c in enumerate(plan_ja["市町村コード"])])
    assert load_plan(empty_codes).table.equals(hokkaido_plan.table)


def test_names_that_exist_twice_are_reported_not_guessed():
    codes, problems = resolve_names(pd.Series(["府中市", "伊達市"]), None)
    assert codes.isna().all()
    assert "東京都の府中市（13206）" in problems[0] and "広島県の府中市（34208）" in problems[0]
    assert problems[0].startswith("2行目:")
    assert "北海道の伊達市（01233）" in problems[1] and "福島県の伊達市（07213）" in problems[1]
    codes, problems = resolve_names(pd.Series(["府中市", "伊達市"]), pd.Series(["広島県", "福島県"]))
    assert codes.tolist() == ["34208", "07213"] and problems == []
    codes, _ = resolve_names(pd.Series(["府中市"]), "東京都")
    assert codes.tolist() == ["13206"]
    with pytest.raises(PlanError, match="府中市.*東京都.*広島県"):
        load_plan(pd.DataFrame({"市町村名": ["府中市"], "二次医療圏": ["A"]}))


def test_tomari_is_one_village_in_the_census():
    # N03 has two 泊村 in 北海道 (01403 and the Northern-Territory 01696), the census only 01403
    t = census_names()
    assert t.loc[t["name"] == "泊村", "code"].tolist() == ["01403"]
    codes, problems = resolve_names(pd.Series(["泊村"]), "北海道")
    assert codes.tolist() == ["01403"] and problems == []
    # against the N03 boundaries themselves, which keep both, the name is ambiguous
    units = read_n03_units(boundaries_path(), prefectures=["北海道"])[0]
    assert sorted(units.loc[units["name"] == "泊村", "code"]) == ["01403", "01696"]
    codes, problems = resolve_names(pd.Series(["泊村"]), "北海道", table=units[["code", "name"]])
    assert codes.isna().all() and "01403" in problems[0] and "01696" in problems[0]


def test_unknown_name_gets_the_closest_candidates():
    codes, problems = resolve_names(pd.Series(["札晃市", "静内町"]), "北海道")
    assert codes.isna().all()
    assert "近い名前: 札幌市（01100）" in problems[0]
    assert "静内町" in problems[1] and "合併前の旧市町村名" in problems[1]
    _, problems = resolve_names(pd.Series(["府中市"]), "北海道")
    assert "北海道にありません（東京都の府中市（13206）・広島県の府中市（34208）にあります）" in problems[0]


def test_spelling_variants_and_name_forms():
    names = [
        "梼原町",
        "鎌ヶ谷市",
        "竜ヶ崎市",
        "塩釜市",
        "飯館村",
        "ＳＡ",
        "北海道函館市",
        "上川郡東川町",
        "札幌市 中央区",
        "札幌",
    ]
    codes, problems = resolve_names(pd.Series(names), None)
    assert codes.tolist()[:4] == ["39405", "12224", "08208", "04203"]
    assert codes.tolist()[4] == "07564"
    assert pd.isna(codes.iloc[5]) and len(problems) == 1
    assert codes.tolist()[6:] == ["01202", "01458", "01101", "01100"]
    # 中央区 alone: 東京都中央区 and the 中央区 of 9 designated cities
    codes, problems = resolve_names(pd.Series(["中央区"]), None)
    assert codes.isna().all() and "10件" in problems[0]
    codes, _ = resolve_names(pd.Series(["中央区", "北区"]), "北海道")
    assert codes.tolist() == ["01101", "01102"]


def test_folded_names_stay_unique_within_each_prefecture():
    t = census_names()
    keys = t.assign(key=t["name"].map(name_key), pref=t["code"].str[:2])
    assert not keys.duplicated(["pref", "key"]).any()
    assert keys["pref"].map(PREFECTURES).eq(keys["prefecture"]).all()


# ---- population tables ------------------------------------------------------------------------
def test_census_style_population_table(tmp_path, census):
    """e-Stat style: title rows, 全国 and prefecture rows, 「1,234」, 「-」 = 0, cp932."""
    lines = [
        "令和2年国勢調査 人口等基本集計,,,",
        "表番号 2-7-1,,,",
        "",
        "地域コード,地域,総数,100歳以上",
        '00000,全国,"126,146,099","79,523"',
        '01000,北海道,"5,224,614","3,892"',
        '01100,札幌市,"1,973,395","1,145"',
        '01204,旭川市,"329,306",-',
        "01999,旧○○町,5,***",
        '0120B,（旧：札幌市）,"1,234",-',
    ]
    path = tmp_path / "estat.csv"
    path.write_bytes("\n".join(lines).encode("cp932"))
    pop = load_population(path)
    assert pop["code"].tolist() == ["01100", "01204", "01999"]
    assert pop["population"].tolist() == [1_973_395, 329_306, 5]
    assert pop["age_100_plus"].tolist()[:2] == [1145, 0] and pd.isna(pop["age_100_plus"].iloc[2])
    notes = " ".join(pop.attrs["notes"])
    assert (
        "全国" in notes and "北海道" in notes and "01999" in notes and "合併前" in notes and "（旧：…）」1 行" in notes
    )
    assert "旧○○町（01999）" in notes  # the code no census knows, named as the table names it


def test_population_by_name_and_six_digit_codes():
    by_name = load_population(
        pd.DataFrame({"市町村名": ["札幌市", "伊達市", "函館市"], "人口": ["1,973,395", "31,834", "-"]})
    )
    assert by_name["code"].tolist() == ["01100", "01233", "01202"]
    assert by_name["population"].tolist() == [1_973_395, 31_834, 0]
    six = load_population(pd.DataFrame({"団体コード": [11002.0, 132012.0], "総数": [1973395.0, 2.0]}))
    assert six["code"].tolist() == ["01100", "13201"] and six["population"].tolist() == [1973395, 2]


@pytest.mark.parametrize(
    "cell, fragment",
    [
        ("-5", "負の数"),
        ("△5", "負の数"),
        ("12.5", "小数"),
        ("abc", "人数（0以上の整数）として読めません"),
        ("9" * 12, "大きすぎます"),
    ],
)
def test_population_bad_numbers_name_the_cell(cell, fragment):
    text = f"code,人口\n01100,1973395\n01204,{cell}\n"
    with pytest.raises(InputError) as err:
        load_population(text.encode("utf-8"), name="pop.csv")
    assert err.value.row == 3 and fragment in str(err.value) and "「人口」" in str(err.value)


def test_population_unquoted_thousands_separator_is_explained():
    with pytest.raises(InputError) as err:
        load_population("code,人口\n01100,1,973,395\n".encode(), name="pop.csv")
    assert err.value.row == 2 and "カンマ" in str(err.value)


def test_population_duplicate_codes_name_both_rows():
    with pytest.raises(InputError, match=r"01100（札幌市）が 2 行あります（2行目と4行目）"):
        load_population("code,人口\n01100,1\n01204,2\n1100,3\n".encode())


# ---- files that are not tables ----------------------------------------------------------------
@pytest.mark.parametrize(
    "data, fragment",
    [
        (b"", "空です"),
        (b"   \r\n\r\n", "空です"),
        ("市町村コード,人口\n".encode("cp932"), "見出し行だけ"),
        (bytes(range(256)) * 4, "バイナリ"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, ".xls"),
        (b"PK\x03\x04\x14\x00truncated", "壊れているか途中で切れて"),
        (b"<html><body><table></table></body></html>", "HTML"),
        (b'{"type": "FeatureCollection", "features": []}', "GeoJSON"),
        (b"\x81\x82\x83\xff\xfe\xfd" * 50, "文字コード"),
    ],
)
def test_broken_files_are_explained(data, fragment):
    for reader in (read_table, load_population, load_plan):
        with pytest.raises(GeoAppError) as err:
            reader(data, name="upload.csv")
        assert fragment in str(err.value) and "upload.csv" in str(err.value), (reader, str(err.value))


def test_truncated_xlsx_is_explained(hokkaido_plan):
    data = _xlsx([list(hokkaido_plan.to_frame().columns), ["01100", "札幌市", "札幌", "札幌", "道央", "確定"]])
    for cut in (len(data) // 2, len(data) - 30, 200):
        with pytest.raises(PlanError) as err:
            load_plan(data[:cut], name="plan.xlsx")
        assert "Excel" in str(err.value)


def test_huge_file_refused_before_reading(tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as f:
        f.truncate(MAX_TABLE_BYTES + 1)  # sparse: nothing is written
    with pytest.raises(InputError, match="大きすぎます"):
        read_table(path)
    with pytest.raises(InputError, match="大きすぎます"):
        read_table(io.BytesIO(b"a" * (MAX_TABLE_BYTES + 2)))


def test_title_rows_blank_rows_and_row_numbers_as_in_the_file():
    text = "区域案（2024年度）\n\n市町村コード,市町村名,二次医療圏\n01100,札幌市,札幌\n\n01204,旭川市,x\n"
    df = read_table(text.encode("utf-8"), header_hints=["市町村コード"])
    assert list(df.columns) == ["市町村コード", "市町村名", "二次医療圏"]
    from geo_app.io.tables import file_row

    assert [file_row(i) for i in df.index] == [4, 6]
    with pytest.raises(PlanError) as err:
        load_plan(text.replace("01204", "01205").encode("utf-8"), name="p.csv")  # 01205 室蘭市 ≠ 旭川市
    assert err.value.row == 6


def test_xlsx_picks_the_sheet_with_the_header(hokkaido_plan):
    wb = openpyxl.Workbook()
    wb.active.title = "説明"
    wb.active.append(["この表は在宅医療圏の案です"])
    ws = wb.create_sheet("区域")
    t = hokkaido_plan.to_japanese_frame()
    ws.append(list(t.columns))
    for row in t.astype(object).where(t.notna(), None).values.tolist():
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    assert load_plan(buf.getvalue(), name="plan.xlsx").table.equals(hokkaido_plan.table)


# ---- boundaries -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hokkaido_n03() -> gpd.GeoDataFrame:
    g = gpd.read_parquet(boundaries_path())
    return g[g["N03_001"] == "北海道"].reset_index(drop=True)


@pytest.fixture(scope="module")
def hokkaido_units(hokkaido_n03):
    return read_n03_units(boundaries_path(), prefectures=["北海道"])[0].set_index("code")


def _zip(path: Path, folder: Path, names: list[str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for n in names:
            zf.write(folder / n, n)
    return path


def _pieces(g: gpd.GeoDataFrame, step: float = 0.25) -> gpd.GeoDataFrame:
    """Many pieces per municipality, as real N03 files have: islands apart, and each part cut by a grid."""
    parts = g.explode(index_parts=False).reset_index(drop=True)
    x0, y0, x1, y1 = parts.total_bounds
    xs, ys = np.meshgrid(np.arange(np.floor(x0), x1, step), np.arange(np.floor(y0), y1, step))
    cells = shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + step, ys.ravel() + step)
    left, right = shapely.STRtree(cells).query(parts.geometry.values, predicate="intersects")
    cut = shapely.get_parts(shapely.intersection(parts.geometry.values[left], cells[right]), return_index=True)
    polygonal = (shapely.get_type_id(cut[0]) == 3) & (shapely.area(cut[0]) > 0)
    rows = parts.iloc[left[cut[1][polygonal]]].drop(columns="geometry").reset_index(drop=True)
    return gpd.GeoDataFrame(rows, geometry=cut[0][polygonal], crs=g.crs)


def test_exploded_parts_are_merged_back(tmp_path, hokkaido_n03, hokkaido):
    parts = hokkaido_n03.explode(index_parts=False).reset_index(drop=True)
    assert len(parts) > len(hokkaido_n03)
    path = tmp_path / "parts.shp"
    parts.to_file(path, encoding="utf-8")
    m = load_municipalities(path, prefectures=["北海道"])
    assert len(m) == 179 and m["code"].is_unique
    assert m.attrs["report"].counts["pieces_merged"] > 0
    mine = m.set_index("code")["area_km2"]
    ref = hokkaido.set_index("code")["area_km2"].reindex(mine.index)
    np.testing.assert_allclose(mine.to_numpy(), ref.to_numpy(), rtol=1e-9)
    assert int(m["population"].sum()) == 5_224_614


def test_many_pieces_per_municipality_give_the_same_shapes(tmp_path, hokkaido_n03, hokkaido_units):
    parts = _pieces(hokkaido_n03)
    assert len(parts) > 4 * len(hokkaido_n03) and parts["N03_007"].value_counts().max() >= 15
    path = tmp_path / "pieces.gpkg"
    parts.sample(frac=1.0, random_state=1).to_file(path, driver="GPKG")  # pieces in any order
    units, report = read_n03_units(path)
    units = units.set_index("code")
    assert len(units) == 194 and report.counts["pieces_merged"] > 100
    ref = hokkaido_units.geometry.reindex(units.index).values
    np.testing.assert_allclose(shapely.area(units.geometry.values), shapely.area(ref), rtol=1e-9)
    gap = shapely.area(shapely.symmetric_difference(units.geometry.values, ref)) / shapely.area(ref)
    assert gap.max() < 1e-9
    assert units.is_valid.all()


def test_same_file_twice_counts_once(tmp_path, hokkaido_n03, hokkaido):
    path = tmp_path / "h.gpkg"
    hokkaido_n03.to_file(path, driver="GPKG")
    m = load_municipalities([path, path])
    assert len(m) == 179 and m.attrs["report"].counts["duplicates_dropped"] == len(hokkaido_n03)
    np.testing.assert_allclose(
        m.set_index("code")["area_km2"].sort_index(), hokkaido.set_index("code")["area_km2"].sort_index(), rtol=1e-9
    )


def _layout_2024(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """N03 2024 edition: N03_004 is the city (札幌市), N03_005 the ward (中央区)."""
    out = g.copy()
    ward = out["N03_003"].fillna("").str.endswith("市")
    out["N03_005"] = out["N03_004"].where(ward, None)
    out.loc[ward, "N03_004"] = out.loc[ward, "N03_003"]
    out.loc[ward, "N03_003"] = None
    return out[["N03_001", "N03_002", "N03_003", "N03_004", "N03_005", "N03_007", "geometry"]]


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp-zip"])
def test_n03_2024_layout(tmp_path, hokkaido_n03, hokkaido_units, fmt):
    g = _layout_2024(hokkaido_n03)
    assert g.loc[g["N03_007"] == "01101", ["N03_004", "N03_005"]].values.tolist() == [["札幌市", "中央区"]]
    if fmt == "geojson":
        path = tmp_path / "N03-20240101_01.geojson"
        g.to_file(path, driver="GeoJSON")
    elif fmt == "gpkg":
        path = tmp_path / "N03-20240101_01.gpkg"
        g.to_file(path, driver="GPKG")
    else:
        g.to_file(tmp_path / "N03-20240101_01.shp", encoding="utf-8")
        names = [f"N03-20240101_01{s}" for s in (".shp", ".shx", ".dbf", ".prj", ".cpg")]
        path = _zip(tmp_path / "N03-20240101_01_GML.zip", tmp_path, names)
    units, _ = read_n03_units(path)
    units = units.set_index("code")
    assert units.loc["01101", "name"] == "札幌市中央区" and units.loc["01101", "city_name"] == "札幌市"
    assert units.loc["01458", "name"] == "東川町"
    assert units["name"].equals(hokkaido_units["name"].reindex(units.index))
    m = load_municipalities(path)
    assert len(m) == 179 and int(m["population"].sum()) == 5_224_614
    assert m.set_index("code").loc["01100", "name"] == "札幌市"


def test_no_crs_lonlat_is_assumed_plane_is_refused(tmp_path, hokkaido_n03):
    g = hokkaido_n03.head(20)
    g.to_file(tmp_path / "a.shp", encoding="utf-8")
    (tmp_path / "a.prj").unlink()
    units, report = read_n03_units(tmp_path / "a.shp")
    assert report.counts["assumed_crs"] == 1 and "JGD2011（EPSG:6668）の経緯度とみなしました" in " ".join(report.notes)
    assert units.crs.to_epsg() == 6668
    plane = g.to_crs(6680).set_crs(None, allow_override=True)
    plane.to_file(tmp_path / "b.shp", encoding="utf-8")
    with pytest.raises(InputError, match=r"座標系（CRS）が書かれておらず.*\.prj") as err:
        read_n03_units(tmp_path / "b.shp")
    assert err.value.source == "b.shp"


@pytest.mark.parametrize("epsg", [3857, 6680, 6669, 4326])
def test_other_crs_is_reprojected_and_reported(tmp_path, hokkaido_n03, hokkaido_units, epsg):
    g = hokkaido_n03[hokkaido_n03["N03_007"].isin(["01204", "01458", "01202"])].to_crs(epsg)
    path = tmp_path / f"x{epsg}.gpkg"
    g.to_file(path, driver="GPKG")
    units, report = read_n03_units(path)
    assert report.counts["reprojected"] == 1 and f"EPSG:{epsg}" in report.notes[0]
    got = units.set_index("code").geometry
    ref = hokkaido_units.geometry.reindex(got.index)
    sym = shapely.area(shapely.symmetric_difference(got.values, ref.values)) / shapely.area(ref.values)
    assert (sym < 1e-6).all()


def test_declared_crs_with_coordinates_outside_japan_is_refused(tmp_path, hokkaido_n03):
    g = hokkaido_n03.head(5).to_crs(6680).set_crs(6668, allow_override=True)  # metres labelled as degrees
    g.to_file(tmp_path / "wrong.gpkg", driver="GPKG")
    with pytest.raises(InputError, match="座標が日本の範囲にありません"):
        read_n03_units(tmp_path / "wrong.gpkg")


def test_invalid_rings_are_repaired_and_counted(tmp_path):
    bowtie = Polygon([(141.0, 43.0), (141.2, 43.2), (141.2, 43.0), (141.0, 43.2), (141.0, 43.0)])
    square = Polygon([(141.3, 43.0), (141.4, 43.0), (141.4, 43.1), (141.3, 43.1)])
    g = gpd.GeoDataFrame(
        {
            "N03_001": ["北海道"] * 2,
            "N03_003": [None, None],
            "N03_004": ["夕張市", "岩見沢市"],
            "N03_007": ["01209", "01210"],
        },
        geometry=[bowtie, square],
        crs=6668,
    )
    g.to_file(tmp_path / "bad.geojson", driver="GeoJSON")
    units, report = read_n03_units(tmp_path / "bad.geojson")
    assert report.counts["repaired"] == 1 and "01209" in " ".join(report.notes)
    assert units.is_valid.all() and shapely.area(units.geometry.values[0]) == pytest.approx(0.02)


def test_missing_code_column_and_point_data(tmp_path):
    g = gpd.GeoDataFrame({"NAME": ["札幌市"]}, geometry=[Polygon([(141, 43), (141.1, 43), (141.1, 43.1)])], crs=6668)
    g.to_file(tmp_path / "nocode.geojson", driver="GeoJSON")
    with pytest.raises(InputError, match="N03_007（行政区域コード）がありません（今の列: NAME）"):
        read_n03_units(tmp_path / "nocode.geojson")
    pts = gpd.GeoDataFrame({"N03_007": ["01100"]}, geometry=gpd.points_from_xy([141.3], [43.0]), crs=6668)
    pts.to_file(tmp_path / "pts.geojson", driver="GeoJSON")
    with pytest.raises(InputError, match="面（ポリゴン）"):
        read_n03_units(tmp_path / "pts.geojson")


def test_shapefile_parts_missing(tmp_path, hokkaido_n03):
    hokkaido_n03.head(3).to_file(tmp_path / "a.shp", encoding="utf-8")
    (tmp_path / "a.dbf").unlink()
    with pytest.raises(InputError, match=r"Shapefile の一部（\.dbf）"):
        read_n03_units(tmp_path / "a.shp")
    hokkaido_n03.head(3).to_file(tmp_path / "b.shp", encoding="utf-8")
    (tmp_path / "b.shx").unlink()
    with pytest.raises(InputError, match=r"\.shx"):
        load_municipalities(tmp_path / "b.shp")
    hokkaido_n03.head(3).to_file(tmp_path / "c.shp", encoding="utf-8")
    path = _zip(tmp_path / "c.zip", tmp_path, ["c.shp", "c.shx", "c.prj"])
    with pytest.raises(InputError, match=r"zip の中の Shapefile「c.shp」の一部（\.dbf）"):
        read_n03_units(path)


def test_shift_jis_shapefile_without_cpg(tmp_path, hokkaido_n03, hokkaido_units):
    hokkaido_n03.to_file(tmp_path / "sjis.shp", encoding="cp932")
    (tmp_path / "sjis.cpg").unlink(missing_ok=True)
    units, _ = read_n03_units(tmp_path / "sjis.shp")
    assert units.set_index("code").loc["01458", "name"] == "東川町"
    assert units["name"].tolist() == hokkaido_units["name"].reindex(units["code"]).tolist()


def test_zip_and_folder_edge_cases(tmp_path, hokkaido_n03):
    (tmp_path / "readme.txt").write_text("N03")
    empty = _zip(tmp_path / "empty.zip", tmp_path, ["readme.txt"])
    with pytest.raises(InputError, match="zip の中に境界データ"):
        read_n03_units(empty)
    hokkaido_n03.head(3).to_file(tmp_path / "d.shp", encoding="utf-8")
    full = _zip(tmp_path / "d.zip", tmp_path, ["d.shp", "d.shx", "d.dbf", "d.prj", "d.cpg"])
    data = full.read_bytes()
    (tmp_path / "cut.zip").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="壊れているか途中で切れて"):
        read_n03_units(tmp_path / "cut.zip")
    folder = tmp_path / "unzipped"
    folder.mkdir()
    for s in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
        (folder / f"d{s}").write_bytes((tmp_path / f"d{s}").read_bytes())
    assert len(read_n03_units(folder)[0]) == 3
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(InputError, match="フォルダの中に境界データ"):
        read_n03_units(tmp_path / "empty_dir")
    for junk in (tmp_path / "nothing.geojson", tmp_path / "readme.txt"):
        with pytest.raises(InputError):
            load_municipalities(junk)


def test_boundary_size_limit(tmp_path, monkeypatch):
    import geo_app.io.boundaries as b

    path = tmp_path / "big.geojson"
    with path.open("wb") as f:
        f.truncate(4096)
    monkeypatch.setattr(b, "MAX_BOUNDARY_BYTES", 1024)
    with pytest.raises(InputError, match="境界ファイルが大きすぎます"):
        read_n03_units(path)


def test_known_codes_cover_census_and_northern_territories(census):
    known = known_codes()
    assert set(census["code"]) <= known and "01696" in known and len(known) == 1916 + 6
