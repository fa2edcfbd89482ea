"""Municipalities: boundaries (N03) + population + the embedded sea links, assembled for a plan.

The one place where the readers meet, so that the boundary and population readers need not
know each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd

from geo_app.core.codes import NORTHERN_TERRITORIES, city_of
from geo_app.core.demand import future_columns
from geo_app.core.geometry import area_km2, coverage_groups, is_coverage
from geo_app.core.metrics import SUPPLY_COUNTS
from geo_app.core.plan import Plan
from geo_app.io import datasets
from geo_app.io.boundaries import PathLike, merge_units, read_n03_units
from geo_app.io.facilities import SOURCE_OF, load_facilities
from geo_app.io.known_codes import known_codes
from geo_app.io.names import describe_unit_count
from geo_app.io.population import attach_population, load_population
from geo_app.io.projections import load_projections
from geo_app.io.projections import sources as projection_sources
from geo_app.io.provenance import DataSource, boundary_source, population_source
from geo_app.io.sea_links import bordering_prefectures, load_sea_links

__all__ = ["municipalities_for_plan", "load_municipalities"]


def _joined(munis: gpd.GeoDataFrame, by_code: pd.DataFrame) -> gpd.GeoDataFrame:
    """`munis` with the columns of `by_code` (one row per municipality, in `munis`' order) beside them."""
    return pd.concat([munis, by_code.set_axis(munis.index)], axis=1)


def _used(munis: pd.DataFrame, sources: Iterable[tuple[str, DataSource]]) -> tuple[DataSource, ...]:
    """The sources of the (column, source) pairs whose column has a known figure here: a source is
    credited only where it is behind one (北海道厚生局 only where 北海道 is loaded, the 2018 IPSS edition
    only where it has figures)."""
    return tuple(src for col, src in sources if col in munis and munis[col].notna().any())


def load_municipalities(
    paths: PathLike | Sequence[PathLike] | None = None,
    *,
    prefectures: Iterable[str] | None = None,
    wards: Literal["merge", "keep"] = "merge",
    keep_wards_of: Iterable[str] = (),
    drop_northern_territories: bool = True,
    population: pd.DataFrame | str | Path | None = "census2020",
    population_date: str | None = None,
    projections: bool = True,
    facilities: bool = True,
) -> gpd.GeoDataFrame:
    """Municipalities with geometry, km² and population; `attrs['report']` holds what was decided
    and `attrs['sources']` which inputs the figures come from (`population_date`: the date the
    user gives for their own population table, quoted in every source line).

    `paths` default to the embedded N03 2021 boundaries of all Japan; `prefectures` filters by
    name (北海道) or 2-digit code (01). `population` is a table from `load_population`, a path
    to a user table, "census2020" (embedded), or None. `projections`: add the IPSS future
    population and the demand weights (core.demand) per municipality, unknown where IPSS has none.
    `facilities`: add the counts of 訪問看護 stations, hospitals and (北海道) 在宅療養支援診療所・病院.

    Files are read under the input guard (their problems are InputErrors in Japanese); the rest is
    our computation, so an exception there is not dressed up as a problem with the user's file.
    """
    user_paths = None if paths is None else ([paths] if isinstance(paths, (str, Path)) else list(paths))
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
    wards_kept = int((city_of(munis["code"]) != munis["code"]).sum())
    report.add(
        "wards_kept",
        wards_kept,
        f"{describe_unit_count(munis['code'])}を読み込みました。",
    )
    munis["area_km2"] = area_km2(munis.geometry)
    coverage = is_coverage(munis.geometry.values)
    # per prefecture too: N03 as downloaded (one file per prefecture) is a coverage within each file only
    groups = {} if coverage else coverage_groups(munis.geometry.values, munis["pref_code"].to_numpy(dtype=object))
    fast = sum(groups.values())
    report.add(
        "not_a_coverage",
        int(not coverage and fast < len(groups)),
        "境界データの市町村どうしが重なっているか、境目の線が一致していません（年版の違うファイルを混ぜた場合など）。"
        f"{len(groups) - fast} 都道府県の圏域の形は重なりを許す方法で作ります（遅くなります）。"
        "同じ年版の N03 をそろえると正確で速くなります。",
    )
    report.add(
        "coverage_per_prefecture",
        int(not coverage and fast > 0),
        f"都道府県の境目の線がファイル間で一致していないため、圏域の形は都道府県ごとに作ります"
        f"（{fast} 都道府県は速い方法、都道府県をまたぐ圏域だけ重なりを許す方法）。",
    )
    pop_source = None
    if population is not None:
        read_here = not isinstance(population, pd.DataFrame)
        pop: pd.DataFrame = population if isinstance(population, pd.DataFrame) else load_population(population)
        for note in pop.attrs.get("notes", []) if read_here else []:  # a table read by the caller was said there
            report.add("population_table", 1, note)  # columns not understood, rows left out …
        munis = attach_population(munis, pop, report=report)
        pop_source = population_source(str(pop.attrs.get("source") or "人口表"), population_date)
    codes = munis["code"].astype(str)
    if projections:
        munis = _joined(munis, future_columns(load_projections(codes)))
    if facilities:
        munis = _joined(munis, load_facilities(codes)[list(SUPPLY_COUNTS)])
    munis.attrs["report"] = report
    ed2023, ed2018 = projection_sources()
    future = _used(munis, (("population_2040", ed2023), ("age_75_plus_2040", ed2018))) if projections else ()
    supply = _used(munis, SOURCE_OF.items()) if facilities else ()
    munis.attrs["sources"] = tuple(
        s for s in (boundary_source(user_paths), pop_source, *future, *supply) if s is not None
    )
    munis.attrs["coverage_valid"] = coverage  # the whole set: what coverage simplification needs
    munis.attrs["coverage_groups"] = groups  # prefecture code → a coverage by itself (only when the whole is not)
    munis.attrs["sea_links"] = load_sea_links()  # the embedded routes; users add theirs with --sea-links
    munis.attrs["bordering_prefectures"] = bordering_prefectures(munis)  # tells an exclave from an island
    munis.attrs["known_codes"] = known_codes()  # to tell a missing boundary from a wrong code
    return munis


def municipalities_for_plan(
    plan: Plan,
    *,
    boundaries: str | Path | Sequence[str | Path] | None = None,
    population: str | Path | pd.DataFrame | None = "census2020",
    population_date: str | None = None,
) -> gpd.GeoDataFrame:
    """The plan's prefectures, at the plan's granularity (wards only where the plan uses them)."""
    return load_municipalities(
        boundaries,
        prefectures=plan.prefectures or None,
        keep_wards_of=plan.ward_cities,
        population=population,
        population_date=population_date,
    )
