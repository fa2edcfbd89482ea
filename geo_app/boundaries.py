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

import os
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Literal, Sequence, Union

import geopandas as gpd
import numpy as np
import pandas as pd

from .codes import NORTHERN_TERRITORIES, city_of, normalize_codes
from .errors import InputError
from .geometry import JGD2011, area_km2, grouped_coverage_union, repair

__all__ = ["LoadReport", "read_n03_units", "merge_units", "load_municipalities", "BOUNDARY_SUFFIXES"]

PathLike = Union[str, Path]
BOUNDARY_SUFFIXES = (".shp", ".zip", ".geojson", ".json", ".topojson", ".gpkg", ".parquet")
MAX_BOUNDARY_BYTES = 1024 * 1024 * 1024  # the national N03 Shapefile is ~500 MB unzipped


@dataclass
class LoadReport:
    """What a loader decided about the user's data, in Japanese, with counts."""

    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, count: int, message: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + int(count)
        if count:
            self.notes.append(message)

    def extend(self, other: "LoadReport") -> None:
        for k, v in other.counts.items():
            self.counts[k] = self.counts.get(k, 0) + v
        self.notes.extend(other.notes)


def _read_one(path: Path) -> gpd.GeoDataFrame:
    label = path.name
    if not path.exists():
        raise InputError("境界ファイルが見つかりません。パスを確かめてください。", source=str(path))
    if path.suffix.lower() not in BOUNDARY_SUFFIXES:
        raise InputError(
            "この形式の境界ファイルは読めません。国土数値情報 N03 の .zip / .shp / .geojson / TopoJSON / .gpkg を指定してください。",
            source=label,
        )
    if path.stat().st_size > MAX_BOUNDARY_BYTES:
        raise InputError("境界ファイルが大きすぎます（上限 1 GB）。都道府県ごとのファイルを指定してください。", source=label)
    if path.suffix.lower() == ".shp":
        missing = [s for s in (".shx", ".dbf") if not path.with_suffix(s).exists() and not path.with_suffix(s.upper()).exists()]
        if missing:
            raise InputError(
                f"Shapefile の一部（{'、'.join(missing)}）がありません。ダウンロードした .zip をそのまま指定してください。",
                source=label,
            )
    try:
        if path.suffix.lower() == ".parquet":
            gdf = gpd.read_parquet(path)
        elif path.suffix.lower() == ".zip":
            gdf = _read_zip(path)
        else:
            gdf = gpd.read_file(path)
    except InputError:
        raise
    except Exception as exc:  # GDAL, JSON and zip errors come in many kinds
        raise InputError(
            f"境界ファイルを読めません（{type(exc).__name__}）。壊れていないか、国土数値情報 N03 のファイルか確かめてください。",
            source=label,
        ) from None
    gdf.attrs["source"] = label
    return gdf


def _read_zip(path: Path) -> gpd.GeoDataFrame:
    """N03 zips hold a .shp (and often a .geojson too); read one layer, preferring the Shapefile."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if not n.startswith("__MACOSX")]
    except zipfile.BadZipFile:
        raise InputError("zip ファイルが壊れているか途中で切れています。ダウンロードし直してください。", source=path.name) from None
    for ext in (".shp", ".geojson", ".json", ".gpkg"):
        inner = sorted(n for n in names if n.lower().endswith(ext))
        if inner:
            return gpd.read_file(f"zip://{path}!{inner[0]}")
    raise InputError("zip の中に境界データ（.shp / .geojson / .gpkg）がありません。", source=path.name)


def _to_jgd2011(gdf: gpd.GeoDataFrame, report: LoadReport) -> gpd.GeoDataFrame:
    label = gdf.attrs.get("source", "")
    if gdf.crs is None:
        bounds = gdf.total_bounds
        if not (-180 <= bounds[0] <= 180 and -90 <= bounds[1] <= 90 and bounds[2] <= 180 and bounds[3] <= 90):
            raise InputError(
                "座標系（CRS）が書かれておらず、座標も経緯度ではありません。.prj ファイルを添えるか、JGD2011（EPSG:6668）で保存し直してください。",
                source=label,
            )
        report.add("assumed_crs", 1, f"{label}: 座標系の記載がないため、N03 と同じ JGD2011（EPSG:6668）とみなしました。")
        return gdf.set_crs(JGD2011)
    if gdf.crs.to_epsg() != 6668:
        report.add("reprojected", 1, f"{label}: 座標系 {gdf.crs.name} を JGD2011（EPSG:6668）に変換しました。")
        return gdf.to_crs(JGD2011)
    return gdf


def _n03_columns(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """Normalise N03 attributes of either edition into code / name / pref / city names."""
    label = gdf.attrs.get("source", "")
    cols = {c.upper(): c for c in gdf.columns}
    if "N03_007" not in cols:
        raise InputError(
            "列 N03_007（行政区域コード）がありません。国土数値情報 N03 行政区域データを指定してください。",
            source=label,
        )
    get = lambda k: gdf[cols[k]].astype("string").str.strip().replace("", pd.NA) if k in cols else pd.Series(pd.NA, index=gdf.index, dtype="string")  # noqa: E731
    n1, n2, n3, n4, n5 = (get(f"N03_00{i}") for i in range(1, 6))
    has_n05 = n5.notna().any()
    # 2024 editions: N03_004 = city (札幌市), N03_005 = ward (中央区). Older: N03_003 = county or city, N03_004 = ward.
    if has_n05:
        city = n4
        ward = n5
    else:
        city_like = n3.fillna("").str.endswith("市")
        city = n3.where(city_like, n4)
        ward = n4.where(city_like, pd.NA)
    name = (city.fillna("") + ward.fillna("")).replace("", pd.NA)
    return pd.DataFrame(
        {
            "raw_code": gdf[cols["N03_007"]],
            "name": name,
            "city_name": city,
            "pref": n1,
            "subpref": n2,
        },
        index=gdf.index,
    )


def _select_prefectures(raw: pd.DataFrame, prefectures: Iterable[str]) -> pd.Series:
    """Mask of rows in the named prefectures (name 北海道 or code 01), 所属未定地 included."""
    wanted = {unicodedata.normalize("NFKC", str(p)).strip() for p in prefectures}
    wanted_codes = {w.zfill(2) for w in wanted if w.isdigit()}
    code_pref = raw["raw_code"].astype("string").str.strip().str.zfill(5).str[:2]
    names_of_codes = set(raw.loc[code_pref.isin(wanted_codes), "pref"].dropna())
    mask = raw["pref"].isin(wanted | names_of_codes) | code_pref.isin(wanted_codes)
    if not mask.any():
        raise InputError(
            f"都道府県「{'、'.join(sorted(wanted))}」が境界データにありません。名前（例: 北海道）か2桁のコード（例: 01）で指定してください。"
        )
    return mask.fillna(False).astype(bool)


def read_n03_units(
    paths: PathLike | Sequence[PathLike], *, prefectures: Iterable[str] | None = None
) -> tuple[gpd.GeoDataFrame, LoadReport]:
    """Read N03 files into one row per code (ward level), repaired, in JGD2011."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    report = LoadReport()
    frames = []
    for p in paths:
        gdf = _read_one(Path(p))
        if gdf.empty:
            raise InputError("境界ファイルに地物がありません。", source=gdf.attrs.get("source"))
        gdf = _to_jgd2011(gdf, report)
        attrs = _n03_columns(gdf)
        frames.append(gpd.GeoDataFrame(attrs, geometry=gdf.geometry.values, crs=JGD2011))
    raw = pd.concat(frames, ignore_index=True)
    raw = gpd.GeoDataFrame(raw, geometry="geometry", crs=JGD2011)
    if prefectures is not None:
        raw = raw[_select_prefectures(raw, prefectures)]

    unsettled = raw["raw_code"].isna() | (raw["raw_code"].astype("string").str.strip() == "")
    report.add(
        "unsettled_dropped",
        int(unsettled.sum()),
        f"所属未定地（市町村コードのない区域）{int(unsettled.sum())} 件を除きました（人口も所属市町村もないため）。",
    )
    raw = raw[~unsettled]
    codes, errors = normalize_codes(raw["raw_code"])
    if errors.notna().any():
        bad = raw.loc[errors.notna(), "raw_code"].unique()[:5]
        raise InputError(f"N03_007 に市町村コードとして読めない値があります: {', '.join(map(str, bad))}")
    raw = raw.assign(code=codes)

    geoms, invalid = repair(raw.geometry.values)
    raw = raw.set_geometry(gpd.GeoSeries(geoms, index=raw.index, crs=JGD2011))
    report.add(
        "repaired",
        int(invalid.sum()),
        f"不正な形状（自己交差など）{int(invalid.sum())} 件を修復しました: {', '.join(sorted(set(raw.loc[invalid, 'code'])))}。",
    )

    pieces = raw.groupby("code").size()
    multi = int((pieces > 1).sum())
    keys, unions = grouped_coverage_union(raw.geometry.values, raw["code"].to_numpy(dtype=object))
    first = raw.drop_duplicates("code").set_index("code").loc[keys]
    units = gpd.GeoDataFrame(first.drop(columns=["raw_code", "geometry"]), geometry=unions, crs=JGD2011)
    units.index.name = "code"
    units = units.reset_index()
    report.add("pieces_merged", multi, f"複数の断片（島など）からなる {multi} 市区町村を1つの形状にまとめました。")
    units["city_code"] = city_of(units["code"])
    units["kind"] = np.where(units["city_code"] != units["code"], "ward", "municipality")
    units["pref_code"] = units["code"].str[:2]
    return units[["code", "name", "pref", "pref_code", "subpref", "city_code", "city_name", "kind", "geometry"]], report


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
    return gpd.GeoDataFrame(out.sort_values("code", kind="stable").reset_index(drop=True), geometry="geometry", crs=units.crs)


def load_municipalities(
    paths: PathLike | Sequence[PathLike] | None = None,
    *,
    prefectures: Iterable[str] | None = None,
    wards: Literal["merge", "keep"] = "merge",
    keep_wards_of: Iterable[str] = (),
    drop_northern_territories: bool = True,
    population: "pd.DataFrame | str | Path | None" = "census2020",
) -> gpd.GeoDataFrame:
    """Municipalities with geometry, km² and population; `attrs['report']` holds what was decided.

    `paths` default to the embedded N03 2021 boundaries of all Japan; `prefectures` filters by
    name (北海道) or 2-digit code (01). `population` is a table from `load_population`, a path
    to a user table, "census2020" (embedded), or None.
    """
    from . import datasets
    from .population import attach_population, load_population

    if paths is None:
        paths = datasets.boundaries_path()
    units, report = read_n03_units(paths, prefectures=prefectures)
    if drop_northern_territories:
        nt = units["code"].isin(NORTHERN_TERRITORIES)
        report.add(
            "northern_territories_dropped",
            int(nt.sum()),
            f"北方領土の6村（01695〜01700）のうち {int(nt.sum())} 村を除きました（国勢調査の人口がないため）。",
        )
        units = units[~nt]
    munis = merge_units(units, wards=wards, keep_wards_of=keep_wards_of, report=report)
    munis["area_km2"] = area_km2(munis.geometry)
    if population is not None:
        pop = load_population(population) if not isinstance(population, pd.DataFrame) else population
        munis = attach_population(munis, pop, report=report)
    munis.attrs["report"] = report
    return munis
