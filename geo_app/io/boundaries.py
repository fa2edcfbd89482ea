"""Read 国土数値情報 N03 行政区域 boundaries as users download them → one row per unit.

Decisions, each reported in a `LoadReport` rather than made silently:
- 所属未定地 (pieces with no code) are dropped: no municipality, no population.
- The six Northern-Territory villages (01695–01700) are dropped by default: no census population.
- Invalid rings (self-intersections) are repaired with GEOS make_valid.
- The pieces of a municipality (islands, exclaves) are unioned into one (multi)polygon.
- Designated-city wards are merged into their city by default; wards are kept on request,
  for every city or only for named cities (川崎市 is split between two secondary areas by ward).
- CRS-less files are taken as JGD2011 (EPSG:6668), N03's CRS; other CRSs are reprojected to it.
"""

from __future__ import annotations

import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_app.core.codes import PREFECTURES, city_of, normalize_codes, prefecture_code
from geo_app.core.errors import InputError
from geo_app.core.geometry import JGD2011, grouped_coverage_union, repair
from geo_app.io.known_codes import known_codes
from geo_app.io.report import LoadReport
from geo_app.io.tables import japanese_errors

__all__ = ["read_n03_units", "merge_units", "BOUNDARY_SUFFIXES", "PathLike"]

PathLike = str | Path
BOUNDARY_SUFFIXES = (".shp", ".zip", ".geojson", ".json", ".topojson", ".gpkg", ".parquet")
MAX_BOUNDARY_BYTES = 1024 * 1024 * 1024  # the national N03 Shapefile is ~500 MB unzipped


_SIDECARS = (".shx", ".dbf")
_LAYER_ORDER = ((".shp",), (".geojson", ".json", ".topojson"), (".gpkg",), (".parquet",))
#: Longitude / latitude box around Japan (与那国島 122.9°E … 南鳥島 154.0°E, 沖ノ鳥島 20.4°N … 択捉島 45.6°N).
JAPAN_BOUNDS = (120.0, 19.5, 155.0, 46.5)
_HINT_BROKEN = "壊れていないか、国土数値情報 N03（行政区域）のファイルか確かめてください。"
_HINT_N03 = "国土数値情報 N03（行政区域）の .zip / .shp / .geojson / TopoJSON / .gpkg を指定してください。"


def _read_one(path: Path) -> gpd.GeoDataFrame:
    """One boundary file (or folder of them) → one GeoDataFrame; every failure an InputError."""
    label = path.name or str(path)
    if not path.exists():
        raise InputError("境界ファイルが見つかりません。パスを確かめてください。", source=str(path))
    if path.is_dir():
        return _read_dir(path)
    suffix = path.suffix.lower()
    if suffix in (".dbf", ".shx", ".prj", ".cpg") and path.with_suffix(".shp").exists():
        path, suffix, label = path.with_suffix(".shp"), ".shp", path.with_suffix(".shp").name
    if suffix == ".xml":
        raise InputError(
            "GML（.xml）形式は読めません。同じページの Shapefile（.zip）か GeoJSON を指定してください。", source=label
        )
    if suffix not in BOUNDARY_SUFFIXES:
        raise InputError("この形式の境界ファイルは読めません。" + _HINT_N03, source=label)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"境界ファイルを開けません（{exc.strerror or type(exc).__name__}）。", source=label) from None
    if size > MAX_BOUNDARY_BYTES:
        raise InputError(
            f"境界ファイルが大きすぎます（{size / 1e9:.1f} GB、上限 {MAX_BOUNDARY_BYTES / 1e9:.1f} GB）。"
            "都道府県ごとのファイルを指定してください。",
            source=label,
        )
    if size == 0:
        raise InputError("境界ファイルが空です（0 バイト）。ダウンロードし直してください。", source=label)
    if suffix == ".shp":
        missing = [
            s for s in _SIDECARS if not path.with_suffix(s).exists() and not path.with_suffix(s.upper()).exists()
        ]
        if missing:
            raise InputError(
                f"Shapefile の一部（{'、'.join(missing)}）が同じフォルダにありません。"
                ".shp は .shx・.dbf・.prj と組で使います。"
                "ダウンロードした .zip をそのまま指定してください。",
                source=label,
            )
    try:
        if suffix == ".parquet":
            gdf = gpd.read_parquet(path)
        elif suffix == ".zip":
            gdf = _read_zip(path)
        else:
            gdf = _read_vector(
                str(path),
                label,
                shapefile=suffix == ".shp",
                has_cpg=path.with_suffix(".cpg").exists() or path.with_suffix(".CPG").exists(),
            )
    except InputError:
        raise
    except Exception as exc:  # GDAL, JSON and zip errors come in many kinds
        raise InputError(
            f"境界ファイルを読めません（{type(exc).__name__}）。"
            "壊れていないか、国土数値情報 N03 のファイルか確かめてください。",
            source=label,
        ) from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry is None:
        raise InputError("境界ファイルに形状（ジオメトリ）の列がありません。" + _HINT_N03, source=label)
    gdf.attrs["source"] = label
    return gdf


def _looks_misdecoded(gdf: pd.DataFrame) -> bool:
    """Shift_JIS attributes read as Latin-1 (a .dbf without .cpg) show up as Latin-1 letters."""
    for col in gdf.columns:
        if col == getattr(gdf, "_geometry_column_name", "geometry") or gdf[col].dtype.kind not in "OUT":
            continue
        sample = "".join(str(v) for v in gdf[col].dropna().head(50).tolist())
        if any("\u0080" <= ch <= "\u00ff" for ch in sample) and not any("\u3000" <= ch <= "\u9fff" for ch in sample):
            return True
    return False


def _read_vector(target: str, label: str, *, shapefile: bool, has_cpg: bool = True) -> gpd.GeoDataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gdf = gpd.read_file(target, engine="pyogrio")
        if shapefile and not has_cpg and _looks_misdecoded(gdf):
            gdf = gpd.read_file(target, engine="pyogrio", encoding="cp932")  # N03 .dbf are Shift_JIS
    return gdf


def _layers(names: list[str]) -> list[str]:
    """The boundary layers among file names: all Shapefiles, else GeoJSON/TopoJSON, else GeoPackages."""
    visible = [n for n in names if not n.startswith("__MACOSX") and not Path(n).name.startswith("._")]
    for group in _LAYER_ORDER:
        found = sorted(n for n in visible if n.lower().endswith(group))
        if found:
            return found
    return []


def _concat(frames: list[gpd.GeoDataFrame], label: str) -> gpd.GeoDataFrame:
    crs = {str(f.crs) for f in frames}
    if len(crs) > 1:
        frames = [f.to_crs(JGD2011) if f.crs is not None else f.set_crs(JGD2011) for f in frames]
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry=frames[0].geometry.name, crs=frames[0].crs)
    out.attrs["source"] = label
    return out


def _read_dir(path: Path) -> gpd.GeoDataFrame:
    """A folder unpacked from N03 zips: every Shapefile in it (else GeoJSON, else GeoPackage)."""
    files = [
        str(p.relative_to(path)) for p in sorted(path.rglob("*")) if p.is_file() and len(p.relative_to(path).parts) <= 3
    ]
    layers = _layers(files)
    if not layers:
        raise InputError("フォルダの中に境界データ（.shp / .geojson / .gpkg）がありません。", source=path.name)
    frames = [_read_one(path / rel) for rel in layers]
    return _concat(frames, path.name)


def _read_zip(path: Path) -> gpd.GeoDataFrame:
    """N03 zips hold a .shp (and often a .geojson too); read every Shapefile, else the GeoJSON."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            names = [i.filename for i in infos]
            unzipped = sum(i.file_size for i in infos)
            bad = zf.testzip() if unzipped <= 4 * MAX_BOUNDARY_BYTES else None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, RuntimeError, NotImplementedError):
        raise InputError(
            "zip ファイルが壊れているか途中で切れています。ダウンロードし直してください。", source=path.name
        ) from None
    if bad is not None:
        raise InputError(f"zip の中のファイル「{bad}」が壊れています。ダウンロードし直してください。", source=path.name)
    if unzipped > 4 * MAX_BOUNDARY_BYTES:
        raise InputError("zip の中身が大きすぎます。都道府県ごとのファイルを指定してください。", source=path.name)
    inner_zips = [n for n in names if n.lower().endswith(".zip")]
    layers = _layers(names)
    if not layers:
        extra = "（zip の中にさらに zip があります。中の zip を取り出して指定してください）" if inner_zips else ""
        raise InputError(f"zip の中に境界データ（.shp / .geojson / .gpkg）がありません{extra}。", source=path.name)
    lower = {n.lower() for n in names}
    frames = []
    for inner in layers:
        if inner.lower().endswith(".shp"):
            stem = inner[:-4].lower()
            missing = [s for s in _SIDECARS if stem + s not in lower]
            if missing:
                raise InputError(
                    f"zip の中の Shapefile「{inner}」の一部（{'、'.join(missing)}）がありません。"
                    "ダウンロードし直してください。",
                    source=path.name,
                )
        has_cpg = not inner.lower().endswith(".shp") or inner[:-4].lower() + ".cpg" in lower
        frames.append(
            _read_vector(f"zip://{path}!{inner}", path.name, shapefile=inner.lower().endswith(".shp"), has_cpg=has_cpg)
        )
    return _concat(frames, path.name)


def _in_japan(bounds: np.ndarray) -> bool:
    x0, y0, x1, y1 = JAPAN_BOUNDS
    return bool(
        np.all(np.isfinite(bounds)) and bounds[0] >= x0 and bounds[1] >= y0 and bounds[2] <= x1 and bounds[3] <= y1
    )


def _to_jgd2011(gdf: gpd.GeoDataFrame, report: LoadReport) -> gpd.GeoDataFrame:
    """Bring a file to JGD2011 lon/lat: assume it when no CRS is written and the numbers look like
    lon/lat in Japan, reproject other CRSs (reported), and refuse coordinates outside Japan."""
    label = gdf.attrs.get("source", "")
    bounds = np.asarray(gdf.total_bounds, dtype=float)
    if not np.all(np.isfinite(bounds)):
        raise InputError("境界ファイルに有効な形状がありません（座標が空です）。", source=label)
    if gdf.crs is None:
        if not _in_japan(bounds):
            raise InputError(
                "座標系（CRS）が書かれておらず、座標も日本の経緯度ではありません"
                f"（範囲 {bounds[0]:.6g}, {bounds[1]:.6g} 〜 {bounds[2]:.6g}, {bounds[3]:.6g}）。"
                "Shapefile なら .prj ファイルを添えるか、JGD2011（EPSG:6668）の経緯度で保存し直してください。",
                source=label,
            )
        report.add(
            "assumed_crs",
            1,
            f"{label}: 座標系の記載がないため、N03 と同じ JGD2011（EPSG:6668）の経緯度とみなしました。",
        )
        out = gdf.set_crs(JGD2011)
        out.attrs = dict(gdf.attrs)
        return out
    epsg = None
    try:
        epsg = gdf.crs.to_epsg()
    except Exception:  # noqa: BLE001 - pyproj may fail to match an odd .prj
        epsg = None
    if epsg != 6668:
        name = f"{gdf.crs.name}（EPSG:{epsg}）" if epsg else str(gdf.crs.name)
        try:
            out = gdf.to_crs(JGD2011)
        except Exception as exc:  # noqa: BLE001 - pyproj errors
            raise InputError(
                f"座標系 {name} から JGD2011 に変換できません（{type(exc).__name__}）。"
                "JGD2011（EPSG:6668）で保存し直してください。",
                source=label,
            ) from exc
        report.add("reprojected", 1, f"{label}: 座標系 {name} を JGD2011（EPSG:6668）の経緯度に変換しました。")
    else:
        out = gdf
    out_bounds = np.asarray(out.total_bounds, dtype=float)
    if not _in_japan(out_bounds):
        raise InputError(
            f"座標が日本の範囲にありません（座標系 {gdf.crs.name} として読んだ範囲: "
            f"{out_bounds[0]:.6g}, {out_bounds[1]:.6g} 〜 {out_bounds[2]:.6g}, {out_bounds[3]:.6g}）。"
            "座標系（.prj）の指定が正しいか確かめてください。",
            source=label,
        )
    out.attrs = dict(gdf.attrs)
    return out


_CODE_COLUMNS = ("N03_007", "CODE", "市町村コード", "市区町村コード", "JCODE", "CITYCODE")


def _n03_columns(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """Normalise N03 attributes of either edition into code / name / pref / city names.

    Up to the 2023 edition N03_003 holds the county or designated city and N03_004 the
    municipality or ward; from 2024 N03_004 holds the city and N03_005 the ward. A file this
    tool exported (code, name, pref) is read too.
    """
    label = gdf.attrs.get("source", "")
    geom_name = gdf.geometry.name
    cols = {str(c).upper(): c for c in gdf.columns if c != geom_name}
    code_col = next((cols[k.upper()] for k in _CODE_COLUMNS if k.upper() in cols), None)
    if code_col is None:
        shown = "、".join(map(str, list(cols.values())[:10])) or "なし"
        raise InputError(
            f"列 N03_007（行政区域コード）がありません（今の列: {shown}）。"
            "国土数値情報 N03 行政区域データを指定してください。",
            source=label,
        )

    def get(*keys: str) -> pd.Series:
        for k in keys:
            if k.upper() in cols:
                return gdf[cols[k.upper()]].astype("string").str.strip().replace("", pd.NA)
        return pd.Series(pd.NA, index=gdf.index, dtype="string")

    n1, n2, n3, n4, n5 = (get(f"N03_00{i}") for i in range(1, 6))
    if "N03_001" not in cols and "N03_004" not in cols:  # this tool's own export
        name = get("NAME", "市町村名", "市区町村名")
        city = get("CITY_NAME")
        city = city.fillna(name)
        n1, n2 = get("PREF", "都道府県"), get("SUBPREF")
        return pd.DataFrame(
            {"raw_code": gdf[code_col], "name": name, "city_name": city, "pref": n1, "subpref": n2}, index=gdf.index
        )
    # 2024 edition: a ward has N03_005; its city is N03_004 (N03_003 when N03_004 is empty).
    ward_2024 = n5.notna() & n5.str.endswith("区").fillna(False)
    city_2024 = n4.fillna(n3)
    # older editions: N03_003 is the designated city when it ends in 市, and N03_004 its ward
    old_city_like = n3.str.endswith("市").fillna(False) & n4.notna() & (n4 != n3).fillna(True)
    city = city_2024.where(ward_2024, n3.where(old_city_like, n4.fillna(n3)))
    ward = n5.where(ward_2024, n4.where(old_city_like, pd.NA))
    name = (city.fillna("") + ward.fillna("")).replace("", pd.NA)
    return pd.DataFrame(
        {
            "raw_code": gdf[code_col],
            "name": name,
            "city_name": city,
            "pref": n1,
            "subpref": n2,
        },
        index=gdf.index,
    )


def _select_prefectures(raw: pd.DataFrame, prefectures: Iterable[str]) -> pd.Series:
    """Mask of rows in the named prefectures (北海道, 岩手, 01 or 1), 所属未定地 included."""
    wanted = {unicodedata.normalize("NFKC", str(p)).strip() for p in prefectures}
    wanted_codes = {w.zfill(2) for w in wanted if w.isdigit()}
    for w in wanted:
        try:
            wanted_codes.add(prefecture_code(w))
        except ValueError:
            pass
    wanted_names = wanted | {PREFECTURES[c] for c in wanted_codes if c in PREFECTURES}
    code_pref = raw["raw_code"].astype("string").str.strip().str.zfill(5).str[:2]
    names_of_codes = set(raw.loc[code_pref.isin(wanted_codes), "pref"].dropna())
    mask = raw["pref"].isin(wanted_names | names_of_codes) | code_pref.isin(wanted_codes)
    mask = mask.fillna(False).astype(bool)
    if not mask.any():
        order = {name: code for code, name in PREFECTURES.items()}
        present = sorted(set(raw["pref"].dropna()), key=lambda n: order.get(n, "99"))[:10]
        raise InputError(
            f"都道府県「{'、'.join(sorted(wanted))}」が境界データにありません"
            + (f"（このデータにあるのは {'、'.join(present)}）" if present else "")
            + "。名前（例: 北海道）か2桁のコード（例: 01）で指定してください。"
        )
    return mask


def read_n03_units(
    paths: PathLike | Sequence[PathLike], *, prefectures: Iterable[str] | None = None
) -> tuple[gpd.GeoDataFrame, LoadReport]:
    """Read N03 files into one row per code (ward level), repaired, in JGD2011.

    Accepts N03 zips, Shapefiles, GeoJSON/TopoJSON, GeoPackages, GeoParquet and folders of them,
    of the 2023-and-earlier or the 2024 attribute layout; any number of pieces per municipality.
    Every decision is in the returned LoadReport; every problem is an InputError in Japanese.
    """
    return _read_n03_units(paths, prefectures=prefectures)


@japanese_errors("境界ファイル", hint=_HINT_BROKEN)
def _read_units_file(path: Path, report: LoadReport) -> gpd.GeoDataFrame:
    """One user file → code, names and geometry in JGD2011: the parsing half of `read_n03_units`.

    Only this part runs under the input guard: whatever a file does to the readers is a problem
    with the file; what follows (codes, repair, unions) is our computation, and its exceptions are bugs.
    """
    gdf = _read_one(path)
    label = gdf.attrs.get("source")
    if gdf.empty:
        raise InputError("境界ファイルに地物（市区町村の形）がありません。", source=label)
    geoms = gdf.geometry.values
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.all():
        raise InputError("境界ファイルの地物に形状（座標）がありません。", source=label)
    if missing.any():
        report.add(
            "empty_dropped", int(missing.sum()), f"{label}: 形状が空の地物 {int(missing.sum())} 件を除きました。"
        )
        gdf = gdf[~missing]
        gdf.attrs["source"] = label
    kinds = set(shapely.get_type_id(gdf.geometry.values).tolist())
    if not kinds <= {3, 6, 7}:  # Polygon, MultiPolygon, GeometryCollection
        raise InputError(
            "点や線のデータです。市区町村の面（ポリゴン）の境界データを指定してください。" + _HINT_N03, source=label
        )
    gdf = _to_jgd2011(gdf, report)
    attrs = _n03_columns(gdf)
    return gpd.GeoDataFrame(attrs, geometry=gdf.geometry.values, crs=JGD2011)


def _read_n03_units(paths, *, prefectures: Iterable[str] | None) -> tuple[gpd.GeoDataFrame, LoadReport]:
    if isinstance(paths, (str, Path)):
        paths = [paths]
    try:
        paths = list(paths)
    except TypeError:
        raise InputError(
            f"境界ファイルの指定が分かりません（{type(paths).__name__}）。ファイルのパスを指定してください。"
        ) from None
    if not paths:
        raise InputError("境界ファイルが指定されていません。")
    if prefectures is not None and isinstance(prefectures, str):
        prefectures = [prefectures]
    report = LoadReport()
    frames = []
    for p in paths:
        if not isinstance(p, (str, Path)):
            raise InputError(
                f"境界ファイルの指定が分かりません（{type(p).__name__}）。ファイルのパスを指定してください。"
            )
        frames.append(_read_units_file(Path(p), report))
    raw = pd.concat(frames, ignore_index=True)
    raw = gpd.GeoDataFrame(raw, geometry="geometry", crs=JGD2011)
    if prefectures is not None:
        raw = raw[_select_prefectures(raw, prefectures)]

    unsettled = raw["raw_code"].isna() | (raw["raw_code"].astype("string").str.strip() == "").fillna(True)
    report.add(
        "unsettled_dropped",
        int(unsettled.sum()),
        f"所属未定地（市町村コードのない区域）{int(unsettled.sum())} 件を除きました（人口も所属市町村もないため）。",
    )
    raw = raw[~unsettled.astype(bool)]
    if raw.empty:
        raise InputError("境界データに市町村コード（N03_007）のある地物がありません。")
    codes, errors = normalize_codes(raw["raw_code"], known_codes())
    if errors.notna().any():
        bad = raw.loc[errors.notna(), "raw_code"].astype(str).unique()[:5]
        raise InputError(
            f"N03_007 に市町村コードとして読めない値があります: {', '.join(bad)}（{errors[errors.notna()].iloc[0]}）。"
            "国土数値情報 N03 のファイルか確かめてください。"
        )
    raw = raw.assign(code=codes)

    # the same shape twice (a prefecture file given together with the national file)
    wkb = pd.Series(shapely.to_wkb(raw.geometry.values), index=raw.index)
    twice = pd.DataFrame({"code": raw["code"], "wkb": wkb}).duplicated()
    if twice.any():
        report.add(
            "duplicates_dropped",
            int(twice.sum()),
            f"同じ市区町村の同じ形状が重複していた {int(twice.sum())} "
            "件を1つにしました（同じ地域のファイルを2回指定していませんか）。",
        )
        raw = raw[~twice.to_numpy()]

    geoms, invalid = repair(raw.geometry.values)
    raw = raw.set_geometry(gpd.GeoSeries(geoms, index=raw.index, crs=JGD2011))
    report.add(
        "repaired",
        int(invalid.sum()),
        "不正な形状（自己交差など）"
        f"{int(invalid.sum())} 件を修復しました: {', '.join(sorted(set(raw.loc[invalid, 'code'])))}。",
    )
    raw = raw[~(shapely.is_empty(raw.geometry.values) | shapely.is_missing(raw.geometry.values))]

    # attributes from the first piece that has a name
    raw = raw.assign(_named=raw["name"].notna()).sort_values(["code", "_named"], ascending=[True, False], kind="stable")
    raw = raw.drop(columns="_named")
    pieces = raw.groupby("code").size()
    multi = int((pieces > 1).sum())
    keys, unions = grouped_coverage_union(raw.geometry.values, raw["code"].to_numpy(dtype=object))
    unions = _fix_overlapping_pieces(raw, keys, unions, report)
    first = raw.drop_duplicates("code").set_index("code").loc[keys]
    units = gpd.GeoDataFrame(first.drop(columns=["raw_code", "geometry"]), geometry=unions, crs=JGD2011)
    units.index.name = "code"
    units = units.reset_index()
    report.add("pieces_merged", multi, f"複数の断片（島など）からなる {multi} 市区町村を1つの形状にまとめました。")
    units["code"] = units["code"].astype("string")
    units["city_code"] = city_of(units["code"])
    units["kind"] = np.where(units["city_code"] != units["code"], "ward", "municipality")
    units["pref_code"] = units["code"].str[:2]
    return units[["code", "name", "pref", "pref_code", "subpref", "city_code", "city_name", "kind", "geometry"]], report


def _fix_overlapping_pieces(
    raw: gpd.GeoDataFrame, keys: np.ndarray, unions: np.ndarray, report: LoadReport
) -> np.ndarray:
    """Coverage union assumes pieces that only touch; where pieces overlap (the union is smaller
    than the pieces added up, or invalid) fall back to a full union for those codes only."""
    piece_area = (
        pd.Series(shapely.area(raw.geometry.values)).groupby(raw["code"].to_numpy()).sum().reindex(keys).to_numpy()
    )
    union_area = shapely.area(unions)
    bad = ~shapely.is_valid(unions) | (union_area < piece_area * (1 - 1e-9) - 1e-15)
    if not bad.any():
        return unions
    unions = unions.copy()
    by_code = raw.geometry.values
    codes = raw["code"].to_numpy()
    for i in np.flatnonzero(bad):  # rare: only codes whose pieces overlap
        unions[i] = shapely.make_valid(shapely.union_all(by_code[codes == keys[i]]))
    report.add(
        "overlaps_merged",
        int(bad.sum()),
        f"断片どうしが重なっていた {int(bad.sum())} 市区町村は、"
        f"重なりを除いて1つの形状にまとめました: {', '.join(map(str, keys[bad][:10]))}。",
    )
    return unions


def merge_units(
    units: gpd.GeoDataFrame,
    *,
    wards: Literal["merge", "keep"] = "merge",
    keep_wards_of: Iterable[str] = (),
    report: LoadReport | None = None,
) -> gpd.GeoDataFrame:
    """Merge designated-city wards into their city, except where wards are asked for."""
    report = report if report is not None else LoadReport()
    keep = set(keep_wards_of)
    is_ward = units["kind"] == "ward"
    if wards == "keep":
        return units.reset_index(drop=True)
    to_merge = is_ward & ~units["city_code"].isin(keep)
    if not to_merge.any():
        return units.reset_index(drop=True)
    wards_df = units[to_merge]
    keys, unions = grouped_coverage_union(wards_df.geometry.values, wards_df["city_code"].to_numpy(dtype=object))
    first = wards_df.drop_duplicates("city_code").set_index("city_code").loc[keys]
    cities = gpd.GeoDataFrame(
        {
            "code": keys,
            "name": first["city_name"].to_numpy(),
            "pref": first["pref"].to_numpy(),
            "pref_code": first["pref_code"].to_numpy(),
            "subpref": first["subpref"].to_numpy(),
            "city_code": keys,
            "city_name": first["city_name"].to_numpy(),
            "kind": "municipality",
        },
        geometry=unions,
        crs=units.crs,
    )
    report.add(
        "wards_merged",
        int(to_merge.sum()),
        f"政令指定都市の区 {int(to_merge.sum())} 区を {len(keys)} 市にまとめました"
        + (f"（区のまま残した市: {', '.join(sorted(keep))}）" if keep else "")
        + "。",
    )
    out = pd.concat([units[~to_merge], cities], ignore_index=True)
    out["code"] = out["code"].astype("string")
    return gpd.GeoDataFrame(
        out.sort_values("code", kind="stable").reset_index(drop=True), geometry="geometry", crs=units.crs
    )
