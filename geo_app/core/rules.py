"""Check a plan before it is used: one registry of named rules, each giving Japanese findings.

Every rule is a `Rule` in `RULES` (registered with the `rule` decorator). A rule reads a
`ValidationContext` (municipalities, plan, options, and the adjacency graph built once, lazily)
and yields `Finding`s, each naming the municipalities involved and saying what to do.

Severities: ``error`` — the plan cannot be tallied correctly as it is (unknown, duplicated or
unassigned municipalities); ``warning`` — the plan works but looks unintended (areas in pieces,
enclaves, areas crossing their parent, areas under the population floor); ``info`` — facts
worth knowing that need no change now (islands, islands reached by ferry, 未確定 areas, areas
without a hub, hubs without a known location). `exit_code` is 1 when there is any error or warning, else 0.
A rule's own severity is the highest it can give: `multipart` gives a ``warning`` for a piece
with no link and only ``info`` for islands joined by a ferry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo_app.core.adjacency import (
    LAND,
    SEA_DISTANCE_KM,
    build_adjacency,
    components,
    edge_table,
    join_across_sea,
    land_components,
    links_of,
    prefectures_bordered,
    sea_gaps,
)
from geo_app.core.codes import NORTHERN_TERRITORIES, PREFECTURES, city_of
from geo_app.core.errors import InputError
from geo_app.core.geometry import EQUAL_AREA_CRS
from geo_app.core.hubs import CONFLICT_M, geodesic_m, hub_points
from geo_app.core.metrics import label as registry_label
from geo_app.core.plan import LEVEL_JA, LEVELS, UNCONFIRMED, Plan
from geo_app.core.tally import AreaTally, check_level_name

__all__ = [
    "Finding",
    "Rule",
    "RULES",
    "ValidationContext",
    "ValidationOptions",
    "SEVERITIES",
    "SEVERITY_JA",
    "register",
    "rule",
    "validate",
    "findings_frame",
    "exit_code",
]

SEVERITIES = ("error", "warning", "info")
SEVERITY_JA = {"error": "エラー", "warning": "警告", "info": "情報"}
_RANK = {s: i for i, s in enumerate(SEVERITIES)}
#: Unshared share of an area's outline below which it counts as wholly surrounded (0.1 %).
ENCLAVE_TOLERANCE = 1e-3
#: A hub this close (m) to its area counts as inside: a point on the coast or a boundary, drawn on
#: boundaries that are generalised, is not a finding.
HUB_OUTSIDE_TOLERANCE_M = 100.0
_MAX_NAMES = 10


@dataclass(frozen=True)
class Finding:
    """One thing a rule found. `codes` are the municipalities involved (5-digit, sorted as found)."""

    rule: str
    severity: str
    message: str
    codes: tuple[str, ...] = ()
    area: str | None = None
    level: str | None = None
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """A named check. `severity` is the highest severity its findings can have."""

    name: str
    severity: str
    title: str
    check: Callable[[ValidationContext], Iterable[Finding]]


RULES: dict[str, Rule] = {}


def register(r: Rule) -> Rule:
    """Add a rule to the registry (a later rule of the same name replaces the earlier one)."""
    if r.severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}: {r.severity}")
    RULES[r.name] = r
    return r


def rule(name: str, severity: str, title: str) -> Callable[[Callable[[ValidationContext], Iterable[Finding]]], Rule]:
    """Decorator: ``@rule("unknown_code", "error", "…")`` registers the function as a Rule."""

    def wrap(fn: Callable[[ValidationContext], Iterable[Finding]]) -> Rule:
        return register(Rule(name=name, severity=severity, title=title, check=fn))

    return wrap


@dataclass
class ValidationOptions:
    """What to check and against which thresholds.

    `population_floor`: smallest acceptable population of an area of `population_floor_level`
    (None: the rule is off). `sea_links`: ferry routes (None: those the loader attached,
    `municipalities.attrs["sea_links"]`). `sea_distance_km`: how far across the sea an island
    (or an exclave) may lie from the nearest other part of its own area and still be joined to it
    where no named route joins it (`adjacency.SEA_DISTANCE_KM`; CLI --sea-distance-km).
    `rules`: names of the rules to run (None: all). `graph`: an adjacency graph already built
    with `build_adjacency` (the app builds it once and passes it on every check).
    `facilities`: the facility points hub ids are looked up in (`geo_app.io.facilities.
    load_facility_points`, or `io.plans.hub_facilities(plan)`: columns id, kind, name, lat, lon);
    None: those the loader attached (`municipalities.attrs["facility_points"]`), else none, and a
    hub given only by a facility id is then reported as located nowhere, never as unknown.
    """

    population_floor: int | None = None
    population_floor_level: str = "homecare"
    sea_links: pd.DataFrame | None = None
    sea_distance_km: float = SEA_DISTANCE_KM
    rules: Iterable[str] | None = None
    graph: nx.Graph | None = field(default=None, repr=False)
    facilities: pd.DataFrame | None = field(default=None, repr=False)


@dataclass
class ValidationContext:
    """What the rules read. Expensive parts (graph, edge tallies) are built on first use only."""

    municipalities: pd.DataFrame
    plan: Plan
    options: ValidationOptions

    @cached_property
    def table(self) -> pd.DataFrame:
        """The plan's rows, with `known` (code is in the municipalities) and a row number."""
        t = self.plan.table.copy()
        t["known"] = t["code"].isin(self.muni_codes)
        t["row"] = np.arange(len(t)) + 2  # as in Excel: header on row 1
        return t

    @cached_property
    def muni_codes(self) -> set[str]:
        return set(self.municipalities["code"].astype(str))

    @cached_property
    def name_of(self) -> dict[str, str]:
        """Names from the boundaries, else from the plan's own name column."""
        names = {c: n for c, n in zip(self.plan.table["code"], self.plan.table["name"], strict=True) if pd.notna(n)}
        names.update(zip(self.municipalities["code"].astype(str), self.municipalities["name"].astype(str), strict=True))
        return names

    @cached_property
    def assigned(self) -> pd.DataFrame:
        """Rows whose code is in the municipalities (unknown codes are reported, not tallied)."""
        return self.table[self.table["known"]]

    @cached_property
    def graph(self) -> nx.Graph:
        if self.options.graph is not None:
            return self.options.graph
        links = self.options.sea_links  # None: the routes the loader attached to the municipalities
        return build_adjacency(self._plan_prefecture_munis(), sea_links=links)

    def _plan_prefecture_munis(self) -> pd.DataFrame:
        # The graph only needs the prefectures the plan's codes are in; building it for all
        # Japan when only 北海道 is planned would cost several times as much for nothing.
        prefs = set(self.plan.table["code"].str[:2])
        m = self.municipalities
        return m[m["code"].astype(str).str[:2].isin(prefs)]

    @cached_property
    def land_groups(self) -> dict[str, tuple[set[str], list[set[str]]]]:
        """Prefecture code → (mainland, other land groups): the largest land-joined group by area
        is the mainland; every other group is an island (or an island of several municipalities)."""
        g = self.graph
        area = nx.get_node_attributes(g, "area_km2")
        out: dict[str, tuple[set[str], list[set[str]]]] = {}
        for pref in sorted({c[:2] for c in g.nodes}):
            groups = land_components(g, [c for c in g.nodes if c[:2] == pref])
            mainland = max(groups, key=lambda s: sum(area.get(c, 0.0) for c in s))
            out[pref] = (mainland, [grp for grp in groups if grp is not mainland])
        return out

    @cached_property
    def mainland(self) -> set[str]:
        return set().union(*(m for m, _ in self.land_groups.values())) if self.land_groups else set()

    @cached_property
    def population(self) -> pd.Series:
        m = self.municipalities
        if "population" not in m.columns:
            return pd.Series(dtype="Int64")
        return pd.Series(m["population"].to_numpy(), index=m["code"].astype(str).to_numpy())

    @cached_property
    def facilities(self) -> pd.DataFrame | None:
        """The facility points hubs are looked up in (options first, then the loader's)."""
        if self.options.facilities is not None:
            return self.options.facilities
        attached = self.municipalities.attrs.get("facility_points")
        return attached if isinstance(attached, pd.DataFrame) else None

    @cached_property
    def hubs(self) -> pd.DataFrame:
        """`hubs.hub_points`: one row per home-care area that names a hub, with where it is."""
        return hub_points(self.plan, self.facilities)

    def hub_groups(self) -> Iterator[tuple[pd.DataFrame, list[str]]]:
        """The hubs one by one (a hub serving several home-care areas is one hub: とかち serves four),
        each with its rows of `hubs` and the known member codes of all the areas it serves."""
        h = self.hubs
        if h.empty:
            return
        members = self.members("homecare")
        cols = ["hub", "hub_facility", "point_lat", "point_lon"]
        key = [h[c].astype(object).where(h[c].notna(), "").astype(str) for c in cols]
        for _, rows in h.groupby(key, sort=False):
            codes = [c for area in rows["homecare"] for c in members.get(str(area), [])]
            yield rows, codes

    def members(self, level: str) -> dict[str, list[str]]:
        """Area → its known municipality codes, in plan order."""
        a = self.assigned.dropna(subset=[level])
        return {k: list(v) for k, v in a.groupby(level, sort=False)["code"]}

    def names(self, codes: Iterable[str]) -> tuple[str, ...]:
        return tuple(self.name_of.get(c, "") for c in codes)

    def listing(self, codes: Sequence[str], limit: int = _MAX_NAMES) -> str:
        """「函館市、北斗市 ほか3市町村」: names for a message, cut short when long."""
        names = [f"{self.name_of[c]}（{c}）" if self.name_of.get(c) else c for c in codes]
        if len(names) <= limit:
            return "、".join(names)
        return "、".join(names[:limit]) + f" ほか{len(names) - limit}市町村"

    def finding(
        self,
        rule_name: str,
        severity: str,
        message: str,
        codes: Iterable[str] = (),
        *,
        area: str | None = None,
        level: str | None = None,
    ) -> Finding:
        codes = tuple(dict.fromkeys(codes))
        return Finding(
            rule=rule_name,
            severity=severity,
            message=message,
            codes=codes,
            area=area,
            level=level,
            names=self.names(codes),
        )


def _area_label(level: str, area: str) -> str:
    return f"{LEVEL_JA.get(level, level)}「{area}」"


# ---- rules ------------------------------------------------------------------------------------


@rule("unknown_code", "error", "境界データにない市町村コード")
def _unknown_code(ctx: ValidationContext) -> Iterator[Finding]:
    """Plan codes that no municipality has: old codes of merged municipalities, typos, wards."""
    t = ctx.table
    bad = t[~t["known"]]
    city = city_of(bad["code"]) if not bad.empty else bad["code"]
    for (_, row), city_code in zip(bad.iterrows(), city, strict=True):
        code = row["code"]
        label = f"{row['name']}（{code}）" if pd.notna(row["name"]) else code
        if city_code != code and city_code in ctx.muni_codes:
            hint = (
                f"{ctx.name_of.get(city_code, city_code)}の区のコードで、境界データでは市全体（{city_code}）"
                "にまとめられています。"
                "区ごとに圏域を分けるなら区を残して境界を読み込み（load_municipalities(keep_wards_of=…)）、そうでなければ市のコードに直してください。"
            )
        elif "city_code" in ctx.municipalities.columns and (ctx.municipalities["city_code"].astype(str) == code).any():
            hint = (
                "境界データではこの市が区ごとに分かれています。区ごとの行（区のコード）にするか、"
                "区をまとめて読み込んでください（load_municipalities の keep_wards_of からこの市を外す）。"
            )
        elif code in NORTHERN_TERRITORIES:
            hint = (
                "北方領土の村は国勢調査の人口がないため境界データから除いています。区域表からこの行を削除してください。"
            )
        elif code[:2] not in PREFECTURES:
            hint = "先頭2桁の都道府県コードが正しくありません。コードを確かめてください。"
        elif not any(c.startswith(code[:2]) for c in ctx.muni_codes):
            hint = (
                f"{PREFECTURES[code[:2]]}の境界データが読み込まれていません。読み込む都道府県の指定を確かめてください。"
            )
        elif code in ctx.municipalities.attrs.get("known_codes", ()):
            hint = (
                "2020年国勢調査にある市町村ですが、読み込んだ境界データにありません。境界ファイルにこの市町村が入っているか確かめてください"
                "（この市町村の圏域の人口・面積などは、欠けた合計にならないよう「不明」にしています）。"
            )
        else:
            hint = "合併前の古いコードや入力誤りではないか確かめ、現在（2021年1月1日）の市町村コードに直してください。"
        yield ctx.finding(
            "unknown_code",
            "error",
            f"{row['row']}行目の市町村コード {label} は境界データにありません。{hint}",
            [code],
            area=None if pd.isna(row["homecare"]) else str(row["homecare"]),
            level="homecare",
        )


@rule("missing_count", "error", "人口が入っていない市町村")
def _missing_count(ctx: ValidationContext) -> Iterator[Finding]:
    """A member without a count makes its areas' figures unknown: say which member, and where."""
    m = ctx.municipalities
    if "population" not in m.columns:
        return
    empty = set(m.loc[m["population"].isna(), "code"].astype(str))
    rows = ctx.assigned[ctx.assigned["code"].isin(empty)]
    for area, grp in rows.groupby("homecare", sort=False, dropna=False):
        codes = list(grp["code"])
        where = f"{_area_label('homecare', str(area))}" if pd.notna(area) else "圏域"
        yield ctx.finding(
            "missing_count",
            "error",
            f"{ctx.listing(codes)} の人口が人口表にありません。"
            f"{where}とその上の圏域の人口・高齢化率などは「不明」になります"
            "（欠けた合計は出しません）。人口表にこの市町村の行を加えてください。",
            codes,
            area=None if pd.isna(area) else str(area),
            level="homecare",
        )


@rule("duplicate_code", "error", "同じ市町村コードが複数行")
def _duplicate_code(ctx: ValidationContext) -> Iterator[Finding]:
    t = ctx.table
    dup = t[t["code"].duplicated(keep=False)]
    for code, rows in dup.groupby("code", sort=True):
        where = "、".join(
            f"{r}行目（{h if pd.notna(h) else '在宅医療圏なし'}）"
            for r, h in zip(rows["row"], rows["homecare"], strict=True)
        )
        yield ctx.finding(
            "duplicate_code",
            "error",
            f"{ctx.name_of.get(code, code)}（{code}）が{len(rows)}行あります: {where}。"
            "1市町村1行にして、どの圏域に入れるか1つに決めてください。",
            [code],
            area=None,
            level=None,
        )


@rule("unassigned", "error", "圏域が決まっていない市町村")
def _unassigned(ctx: ValidationContext) -> Iterator[Finding]:
    prefs = set(ctx.plan.table["code"].str[:2])
    m = ctx.municipalities
    in_prefs = m[m["code"].astype(str).str[:2].isin(prefs)]
    missing = sorted(set(in_prefs["code"].astype(str)) - set(ctx.plan.table["code"]))
    for pref in sorted({c[:2] for c in missing}):
        codes = [c for c in missing if c[:2] == pref]
        yield ctx.finding(
            "unassigned",
            "error",
            f"{PREFECTURES.get(pref, pref)}の{len(codes)}市町村が区域表にありません: {ctx.listing(codes)}。"
            "行を追加して在宅医療圏・二次医療圏を入れてください。",
            codes,
        )
    t = ctx.table
    for level in ("homecare", "secondary"):
        empty = t[t[level].isna()]
        if not empty.empty:
            codes = list(empty["code"])
            rows = "、".join(str(r) for r in empty["row"].head(_MAX_NAMES))
            yield ctx.finding(
                "unassigned",
                "error",
                f"{len(codes)}市町村の{LEVEL_JA[level]}が空欄です: "
                f"{ctx.listing(codes)}（{rows}行目{' ほか' if len(codes) > _MAX_NAMES else ''}）。"
                f"{LEVEL_JA[level]}の名前を入れてください。",
                codes,
                level=level,
            )


#: Where users add a named route; never a file inside the package.
_ROUTES_HINT = (
    "航路表は --sea-links（コマンド）か「都道府県・データ」ページのアップロードで加えられます"
    "（列は 市町村コード1・市町村コード2・航路名・種類・備考。橋なら種類を「橋」に）。"
)


def _km(km: float) -> str:
    """「約 8.0 km」「約 342 km」: as precise as a planner reads it off a map."""
    return f"約 {km:.1f} km" if km < 10 else f"約 {km:,.0f} km"


def _max_sea_km(ctx: ValidationContext) -> float:
    km = ctx.options.sea_distance_km
    if km is None or not np.isfinite(km) or km <= 0:
        raise InputError("海を隔てた距離の上限（--sea-distance-km）は0より大きい数（km）にしてください。")
    return float(km)


def _land_group_of(ctx: ValidationContext) -> tuple[dict[str, int], set[int]]:
    """Each municipality's land group within its prefecture (an index), and the groups that are a
    prefecture's exclave: not its mainland, and bordering another prefecture on land."""
    group_of: dict[str, int] = {}
    exclaves: set[int] = set()
    k = 0
    for mainland, others in ctx.land_groups.values():
        for grp in (mainland, *others):
            group_of.update(dict.fromkeys(grp, k))
            if grp is not mainland and prefectures_bordered(ctx.graph, grp):
                exclaves.add(k)
            k += 1
    return group_of, exclaves


def _pref_names(codes: Iterable[str]) -> str:
    return "・".join(PREFECTURES.get(p, p) for p in codes)


@rule("multipart", "warning", "圏域が複数に分かれている（飛び地）")
def _multipart(ctx: ValidationContext) -> Iterator[Finding]:
    """Areas in pieces. Named routes (and bridges) join first and win where given; then an island,
    or a prefecture's exclave (北山村), joins the nearest part of its own area when that is at most
    `sea_distance_km` away, measured on the shapes (`adjacency.sea_gaps`): info, saying how far.

    Warnings: a piece on the same land as another piece of the area that does not touch it (two
    mainland towns with another area between them: no sea crossing excuses that), and an island
    farther than the limit. Land counts only inside the area; a ferry may call at a port in
    another area (竹芝 for the 伊豆諸島), see `adjacency.components`.
    """
    g = ctx.graph
    max_km = _max_sea_km(ctx)
    group_of, exclaves = _land_group_of(ctx)
    pop = ctx.population.astype("Float64") if len(ctx.population) else ctx.population

    def weight(piece: set[str]) -> float:
        return float(pop.reindex(sorted(piece)).fillna(0).sum()) if len(pop) else 0.0

    def exclave_of(piece: set[str]) -> list[str]:
        return prefectures_bordered(g, piece) if any(group_of.get(c) in exclaves for c in piece) else []

    for level in LEVELS:
        members = ctx.members(level)
        area_of = {c: a for a, cs in members.items() for c in cs}
        for area, codes in members.items():
            if len(codes) < 2:
                continue
            land = land_components(g, codes)
            if len(land) < 2:
                continue
            joined = components(g, codes)
            # The body: most municipalities, then most people (石垣市 rather than 竹富町 in 八重山).
            body = max(range(len(joined)), key=lambda k: (len(joined[k]), weight(joined[k])))
            joined.insert(0, joined.pop(body))
            main = joined[0]
            label = _area_label(level, area)
            # A piece on the same land as an earlier one is cut off on land; the others are apart
            # across the sea (or, for an exclave, across another prefecture).
            seen: set[int] = set()
            on_land: list[int] = []
            apart: list[int] = []
            for k, piece in enumerate(joined):
                groups = {group_of[c] for c in piece if c in group_of}
                (on_land if k and groups & seen else apart).append(k)
                seen |= groups
            gaps = sea_gaps(g, [joined[k] for k in apart])
            reach = join_across_sea(gaps, len(apart), max_km)
            linked = [x for x in range(1, len(apart)) if reach[x] == reach[0]]
            far = [x for x in range(1, len(apart)) if reach[x] != reach[0]]
            ga, gb, gkm = (gaps[c].to_numpy() for c in ("a", "b", "km"))
            to_body = {int(b): float(km) for a, b, km in zip(ga, gb, gkm, strict=True) if a == 0}
            with_body = np.array([reach[int(a)] == reach[0] for a in ga], dtype=bool)  # other end in the body's reach

            if on_land or far:
                main_nbrs = _land_neighbour_areas(g, main, area_of, area)
                parts = []
                for k in on_land:
                    comp = joined[k]
                    names = ctx.listing(sorted(comp), 5)
                    outside = _land_neighbour_areas(g, comp, area_of, area, include_unplanned=True)
                    between = [b for b in outside if b in main_nbrs]
                    via = "".join(f"「{b}」" for b in between[:3])
                    parts.append(
                        f"{names}（陸続きでなく、間に{LEVEL_JA[level]}{via}があります）"
                        if via
                        else f"{names}（陸続きでありません）"
                    )
                for x in far:
                    comp = joined[apart[x]]
                    names = ctx.listing(sorted(comp), 5)
                    b_with_body = np.array([reach[int(b)] == reach[0] for b in gb], dtype=bool)
                    near = gkm[((ga == x) & b_with_body) | ((gb == x) & with_body)]
                    what = "県の飛び地" if exclave_of(comp) else "島"
                    sea = "" if exclave_of(comp) else "海を隔てて"
                    parts.append(
                        f"{names}（{what}。圏域のほかの部分から{sea}{_km(float(near.min()))}あり、"
                        f"上限 {max_km:,.0f} km を超えています）"
                        if len(near)
                        else f"{names}（{what}。圏域のほかの部分との距離を測れません）"
                    )
                warned = [*on_land, *(apart[x] for x in far)]
                yield ctx.finding(
                    "multipart",
                    "warning",
                    f"{label}が{1 + len(warned)}か所に分かれています（飛び地）: {'、'.join(parts)}。"
                    "隣の圏域に移すか、圏域の分け方を見直してください。意図した飛び地ならそのままで構いません。"
                    + (
                        "島が船や橋で結ばれているなら、航路を加えるか、距離の上限（--sea-distance-km）を広げてください。"
                        + _ROUTES_HINT
                        if far
                        else ""
                    ),
                    [c for k in warned for c in sorted(joined[k])],
                    area=area,
                    level=level,
                )
            # Land pieces joined to the main body by a named route are islands: info, no change needed.
            in_main = [comp for comp in land if comp <= main]  # largest first
            all_islands = not (in_main[0] & ctx.mainland)
            islands = [c for comp in in_main[0 if all_islands else 1 :] for c in sorted(comp)]
            if len(in_main) > 1:
                routes = links_of(g, islands)
                route_text = f"（{'、'.join(routes[:4])}{' ほか' if len(routes) > 4 else ''}）" if routes else ""
                what = "は航路で結ばれた島々からなります" if all_islands else "には離島（航路で接続）があります"
                yield ctx.finding(
                    "multipart",
                    "info",
                    f"{label}{what}: {ctx.listing(islands)}。"
                    f"航路{route_text}で結ばれているため、飛び地ではありません。対応は不要です。",
                    islands,
                    area=area,
                    level=level,
                )
            # Pieces joined across the sea by distance (no named route): info, saying how far.
            if linked:
                parts = []
                for x in linked:
                    comp = joined[apart[x]]
                    names = ctx.listing(sorted(comp), 5)
                    km = _km(to_body[x]) if x in to_body else "（距離不明）"
                    beyond = exclave_of(comp)
                    if beyond:
                        pref = PREFECTURES.get(sorted(comp)[0][:2], "")
                        parts.append(
                            f"{names}は{label}の本体から{km}（{pref}の飛び地。{_pref_names(beyond)}の市町村と接し、"
                            "県内のほかの市町村とは陸続きでありません）"
                        )
                    else:
                        parts.append(f"{names}は{label}の本体から海を隔てて{km}（離島）")
                yield ctx.finding(
                    "multipart",
                    "info",
                    f"{'、'.join(parts)}。"
                    "離島や県の飛び地は、圏域の本体と陸続きでなくても区割りの誤りではありません。対応は不要です。",
                    [c for x in linked for c in sorted(joined[apart[x]])],
                    area=area,
                    level=level,
                )


def _land_neighbour_areas(
    g: nx.Graph, comp: Iterable[str], area_of: Mapping[str, str], own: str, include_unplanned: bool = False
) -> list[str]:
    """Areas (other than `own`) that border `comp` on land, most shared border first."""
    length: dict[str, float] = {}
    for c in comp:
        for n, d in g[c].items():
            if d.get("kind") != LAND:
                continue
            a = area_of.get(n, "（区域表にない市町村）" if include_unplanned else None)
            if a is None or a == own:
                continue
            length[a] = length.get(a, 0.0) + float(d.get("length", 0.0))
    return sorted(length, key=lambda a: -length[a])


@rule("island", "info", "離島（本土と陸続きでない市町村）")
def _island(ctx: ValidationContext) -> Iterator[Finding]:
    """Municipalities not joined by land to their prefecture's mainland (largest land group):
    islands, with their named routes or their distance to the mainland, and a prefecture's
    exclaves (a land group bordering only other prefectures: 北山村), said as such."""
    g = ctx.graph
    max_km = _max_sea_km(ctx)
    prefs = sorted(set(ctx.plan.table["code"].str[:2]))
    for pref in prefs:
        if pref not in ctx.land_groups:
            continue
        mainland, others = ctx.land_groups[pref]
        gaps = sea_gaps(g, [mainland, *others]) if others else None
        to_main = {} if gaps is None else {int(r.b): r for r in gaps[gaps["a"] == 0].itertuples(index=False)}
        for k, grp in enumerate(others, 1):
            members = sorted(grp)
            beyond = prefectures_bordered(g, members)
            if beyond:
                yield ctx.finding(
                    "island",
                    "info",
                    f"{ctx.listing(members)}は{PREFECTURES.get(pref, pref)}の飛び地です"
                    f"（県内のほかの市町村と陸続きでなく、{_pref_names(beyond)}の市町村に接しています）。"
                    "エラーではありません。",
                    members,
                )
                continue
            routes = links_of(g, members)
            if routes:
                tail = f"航路（{'、'.join(routes[:4])}{' ほか' if len(routes) > 4 else ''}）で結ばれています。"
            else:
                near = to_main.get(k)
                nearest = "" if near is None else ctx.name_of.get(near.code_a, near.code_a)
                where = ""
                if near is not None:
                    where = f"本土（いちばん近いのは{nearest}）から海を隔てて{_km(near.km)}です。"
                tail = (
                    f"{where}航路は登録されていないため、圏域の判定では圏域内のいちばん近い陸地までの距離"
                    f"（上限 {max_km:,.0f} km）で離島として扱います。" + _ROUTES_HINT
                )
            what = "離島" if len(members) == 1 else f"同じ島の{len(members)}市町村"
            yield ctx.finding(
                "island",
                "info",
                f"{ctx.listing(members)}は{PREFECTURES.get(pref, pref)}の本"
                f"土と陸続きでない{what}です（エラーではありません）。{tail}",
                members,
            )


@rule("enclave", "warning", "ほかの圏域に囲まれた圏域")
def _enclave(ctx: ValidationContext) -> Iterator[Finding]:
    """An area whose whole outline is shared with one other area (no coast, no outer border).

    Decided on shared border lengths, which are exact on a coverage: the outline of an area is
    the sum of its members' perimeters minus twice their inner borders; what is shared with
    each other area is the sum of the borders across. If less than 0.1 % of the outline is
    coast, prefecture border or unplanned land, and all of it is shared with a single area
    (areas that are themselves holes inside it aside), the area lies wholly inside that one.
    """
    g = ctx.graph
    edges = edge_table(g)
    edges = edges[(edges["kind"] == LAND) & (edges["length"] > 0)]
    perim = pd.Series(nx.get_node_attributes(g, "perimeter"), dtype=float)
    for level in LEVELS:
        a = ctx.assigned.dropna(subset=[level]).drop_duplicates("code")
        area_of = pd.Series(a[level].to_numpy(), index=a["code"].to_numpy())
        if area_of.nunique() < 2:
            continue
        e = edges.assign(au=edges["u"].map(area_of), av=edges["v"].map(area_of))
        inner = e[e["au"] == e["av"]].groupby("au")["length"].sum()
        outline = perim.reindex(area_of.index).groupby(area_of).sum().sub(2 * inner, fill_value=0)
        cross = e[e["au"].notna() & e["av"].notna() & (e["au"] != e["av"])]
        shared = (
            pd.concat(
                [
                    cross[["au", "av", "length"]].set_axis(["a", "b", "length"], axis=1),
                    cross[["av", "au", "length"]].set_axis(["a", "b", "length"], axis=1),
                ]
            )
            .groupby(["a", "b"])["length"]
            .sum()
        )
        covered = shared.groupby(level=0).sum().reindex(outline.index, fill_value=0.0)
        closed = (outline - covered) <= ENCLAVE_TOLERANCE * outline
        nbrs = {k: set(v.index.get_level_values(1)) for k, v in shared.groupby(level=0)}
        holes = {k for k in outline.index if closed[k] and len(nbrs.get(k, ())) == 1}
        for area in outline.index:
            if not closed[area]:
                continue
            others = {b for b in nbrs.get(area, set()) if not (b in holes and nbrs.get(b) == {area})}
            if len(others) != 1:
                continue
            (outer,) = others
            codes = list(area_of[area_of == area].index)
            yield ctx.finding(
                "enclave",
                "warning",
                f"{_area_label(level, area)}（{ctx.listing(codes, 5)}）"
                f"は{_area_label(level, outer)}に周りを完全に囲まれています"
                "（海岸や県境に接していません）。中心市とその周りの町村を分けた意図どおりの設定ならそのままで構いません。"
                "そうでなければ、周りの圏域とまとめることを検討してください。",
                codes,
                area=str(area),
                level=level,
            )


def _crosses(ctx: ValidationContext, child: str, parent: str, rule_name: str) -> Iterator[Finding]:
    a = ctx.assigned.dropna(subset=[child, parent])
    for area, rows in a.groupby(child, sort=False):
        parents = rows.groupby(parent, sort=False)["code"].agg(list)
        if len(parents) < 2:
            continue
        order = sorted(parents.index, key=lambda p: -len(parents[p]))
        # the largest parent in short; every municipality of the others by name (those are what to look at)
        parts = "、".join(f"{p}（{ctx.listing(parents[p], 3 if i == 0 else _MAX_NAMES)}）" for i, p in enumerate(order))
        minority = [c for p in order[1:] for c in parents[p]]
        yield ctx.finding(
            rule_name,
            "warning",
            f"{_area_label(child, area)}が{len(parents)}つの{LEVEL_JA[parent]}にまたがっています: {parts}。"
            f"{LEVEL_JA[child]}は1つの{LEVEL_JA[parent]}の中に収まるように、市町村の{LEVEL_JA[child]}か{LEVEL_JA[parent]}を直してください"
            "（意図してまたがせる場合はそのままで構いません）。",
            minority,
            area=str(area),
            level=child,
        )


@rule("crosses_secondary", "warning", "在宅医療圏が二次医療圏をまたぐ")
def _crosses_secondary(ctx: ValidationContext) -> Iterator[Finding]:
    yield from _crosses(ctx, "homecare", "secondary", "crosses_secondary")


@rule("crosses_tertiary", "warning", "二次医療圏が三次医療圏をまたぐ")
def _crosses_tertiary(ctx: ValidationContext) -> Iterator[Finding]:
    yield from _crosses(ctx, "secondary", "tertiary", "crosses_tertiary")


@rule("several_prefectures", "warning", "同じ名前の圏域が複数の都道府県にある")
def _several_prefectures(ctx: ValidationContext) -> Iterator[Finding]:
    """Areas are identified by name: 東部 of 鳥取県 and 東部 of 徳島県 in one plan become one area."""
    a = ctx.assigned
    for level in LEVELS:
        rows = a.dropna(subset=[level])
        prefs = rows["code"].astype(str).str[:2].groupby(rows[level], sort=False).unique()
        for area, codes_prefs in prefs.items():
            if len(codes_prefs) < 2:
                continue
            names = "・".join(PREFECTURES.get(p, p) for p in sorted(codes_prefs))
            codes = list(rows.loc[rows[level] == area, "code"].astype(str))
            yield ctx.finding(
                "several_prefectures",
                "warning",
                f"{_area_label(level, area)}に複数の都道府県（{names}）の市町村が入っています。"
                "圏域は名前で区別するため、"
                "別々の圏域ならまとめて集計されます。"
                f"都道府県ごとに名前を変えてください（例: {area}（{PREFECTURES.get(sorted(codes_prefs)[0], '')}））。",
                codes,
                area=str(area),
                level=level,
            )


@rule("population_floor", "warning", "人口が下限より少ない圏域")
def _population_floor(ctx: ValidationContext) -> Iterator[Finding]:
    """Areas under the floor, and areas whose population is unknown (a member without a count or
    a boundary): an unknown population is never taken as small or as enough. The populations are
    `AreaTally`'s, the same figures as every table shows."""
    floor = ctx.options.population_floor
    if floor is None:
        return
    level = check_level_name(ctx.options.population_floor_level)
    t = ctx.plan.table.drop_duplicates("code")  # a doubled row is the duplicate_code rule's finding
    plan = Plan(name=ctx.plan.name, table=t)
    areas = AreaTally(ctx.municipalities, plan, levels=(level,), geometry=False, counts=["population"]).areas(level)
    population = dict(zip(areas["area"], areas["population"], strict=True)) if "population" in areas.columns else {}
    members = {k: list(v) for k, v in t.dropna(subset=[level]).groupby(level, sort=False)["code"]}
    for area, codes in members.items():
        total = population.get(area, pd.NA)
        if pd.isna(total):
            unknown = [c for c in codes if pd.isna(ctx.population.get(c, pd.NA))]
            yield ctx.finding(
                "population_floor",
                "warning",
                f"{_area_label(level, area)}の人口が不明です"
                f"（人口の分からない市町村: {ctx.listing(unknown or codes, 5)}）。"
                f"下限 {floor:,} 人と比べられません。境界データと人口の表にこれらの市町村があるか確かめてください。",
                unknown or codes,
                area=str(area),
                level=level,
            )
        elif total < floor:
            yield ctx.finding(
                "population_floor",
                "warning",
                f"{_area_label(level, area)}の人口は {int(total):,} 人で、下限 {floor:,} 人を下回っています"
                f"（{ctx.listing(codes, 5)}）。隣の圏域とまとめるか、下限の設定を見直してください。",
                codes,
                area=str(area),
                level=level,
            )


@rule("no_hub", "info", "連携拠点が入っていない在宅医療圏")
def _no_hub(ctx: ValidationContext) -> Iterator[Finding]:
    """Only when the plan records hubs at all: a plan without hubs is not about hubs.

    Info, not warning: the hub does not change the partition, the tallies or the map, and
    plans often record hubs only where they are known (the embedded hokkaido-2024 names them for
    北見 and the four 十勝 areas only). The finding is a to-do list; it must not fail a check
    (exit code 1) that is about the areas themselves. Areas still 未確定 are left to the
    `unconfirmed` rule, since their hub cannot be decided before the area is.
    """
    t = ctx.table.dropna(subset=["homecare"])
    if t["hub"].isna().all():
        return
    has_hub = t.groupby("homecare", sort=False)["hub"].agg(lambda s: s.notna().any())
    unconfirmed = t.groupby("homecare", sort=False)["status"].agg(lambda s: (s == UNCONFIRMED).any())
    for area in has_hub.index[~has_hub & ~unconfirmed]:
        codes = list(t.loc[t["homecare"] == area, "code"])
        yield ctx.finding(
            "no_hub",
            "info",
            f"{_area_label('homecare', area)}（{ctx.listing(codes, 5)}）に在宅医療の連携拠点がありません。"
            "ほかの圏域には拠点が入っています。決まっていれば区域表の「拠点」列に拠点名を、"
            "「拠点の施設ID」か「拠点の緯度」「拠点の経度」にその場所を入れてください。",
            codes,
            area=str(area),
            level="homecare",
        )


def _hub_label(rows: pd.DataFrame) -> str:
    """「連携拠点「…」（在宅医療圏「東十勝」「西十勝」）」: the hub and the areas it serves."""
    areas = "".join(f"「{a}」" for a in rows["homecare"])
    return f"連携拠点「{rows['hub'].iloc[0]}」（在宅医療圏{areas}）"


def _found(row: pd.Series) -> bool | None:
    """Whether the hub's facility id is in the facility table (None: no id, or no table to look in)."""
    v = row["facility_found"]
    return None if v is None or v is pd.NA else bool(v)


def _located(row: pd.Series) -> str | None:
    """How the hub is located ("facility" / "point"), None when it is not."""
    v = row["located_by"]
    return None if v is None or v is pd.NA else str(v)


def _hub_finding(
    ctx: ValidationContext, rows: pd.DataFrame, rule_name: str, severity: str, message: str, codes: list[str]
) -> Finding:
    """A hub rule's finding, at the home-care level: on the one area the hub serves, or on none when it
    serves several (the message names them all)."""
    area = str(rows["homecare"].iloc[0]) if len(rows) == 1 else None
    return ctx.finding(rule_name, severity, message, codes, area=area, level="homecare")


def _where(lat: float, lon: float) -> str:
    return f"北緯{lat:.4f}°・東経{lon:.4f}°"


def _facility_text(row: pd.Series) -> str:
    kind = f"{row['facility_kind']}「" if pd.notna(row["facility_kind"]) else "「"
    return f"施設 {kind}{row['facility_name']}」（ID {row['hub_facility']}）"


_HUB_HOW = (
    "区域表の「拠点の施設ID」に内蔵の施設の一覧の ID を入れるか、「拠点の緯度」「拠点の経度」に地点を入れてください"
    "（市町村役場なども地点として緯度・経度で入れます）。"
)


@rule("hub_unlocated", "info", "場所の分からない連携拠点")
def _hub_unlocated(ctx: ValidationContext) -> Iterator[Finding]:
    """A hub named without a location: it cannot be drawn. Info: the areas and their figures do not
    depend on it, and a source that names a hub without its address (Hokkaido's two designated hubs,
    in the built-in plan) must not fail a check; the finding says what to add. A facility id that is
    not in the tables is `hub_unknown_facility`'s finding instead."""
    for rows, codes in ctx.hub_groups():
        row = rows.iloc[0]
        if _located(row) is not None or _found(row) is False:
            continue
        if _found(row):
            why = f"{_facility_text(row)}の一覧には位置（緯度・経度）がありません。"
        elif pd.notna(row["hub_facility"]):
            why = f"施設の一覧が読み込まれていないため、施設ID {row['hub_facility']} の位置を調べられません。"
        elif ctx.plan.reference:
            why = "組み込みの区域案の出典には拠点の所在地がないため、場所は入れていません（推測では入れません）。"
        else:
            why = "区域表に拠点の場所（施設ID または 緯度・経度）が入っていません。"
        yield _hub_finding(
            ctx,
            rows,
            "hub_unlocated",
            "info",
            f"{_hub_label(rows)}は場所が分からないため、地図に拠点の印を描けません。{why}場所が分かれば、{_HUB_HOW}",
            codes,
        )


@rule("hub_unknown_facility", "warning", "施設の一覧にない拠点の施設ID")
def _hub_unknown_facility(ctx: ValidationContext) -> Iterator[Finding]:
    """A hub's facility id that the embedded facility tables do not have: a typo, or a facility the
    tables miss. Warning: the plan says where its hub is, and that cannot be shown."""
    for rows, codes in ctx.hub_groups():
        row = rows.iloc[0]
        if _found(row) is not False:
            continue
        drawn = (
            f"地図には区域表の緯度・経度（{_where(row['lat'], row['lon'])}）に描いています。"
            if _located(row) == "point"
            else "場所が分からないため、地図に拠点の印を描けません。"
        )
        yield _hub_finding(
            ctx,
            rows,
            "hub_unknown_facility",
            "warning",
            f"{_hub_label(rows)}の施設ID「{row['hub_facility']}」は内蔵の施設の一覧"
            f"（訪問看護ステーション・病院など）にありません。{drawn}"
            "ID を確かめてください。"
            "一覧にない施設なら、ID を消して「拠点の緯度」「拠点の経度」に地点を入れてください。",
            codes,
        )


@rule("hub_location_conflict", "warning", "拠点の施設と緯度・経度の食い違い")
def _hub_location_conflict(ctx: ValidationContext) -> Iterator[Finding]:
    """A hub given both by a facility and by a point that lie more than `hubs.CONFLICT_M` apart:
    the facility's point is drawn, and one of the two is probably not what was meant."""
    for rows, codes in ctx.hub_groups():
        row = rows.iloc[0]
        if not row["conflict_m"] > CONFLICT_M:
            continue
        yield _hub_finding(
            ctx,
            rows,
            "hub_location_conflict",
            "warning",
            f"{_hub_label(rows)}の{_facility_text(row)}の位置（{_where(row['lat'], row['lon'])}）と、"
            f"区域表の緯度・経度（{_where(row['point_lat'], row['point_lon'])}）が{_km(row['conflict_m'] / 1000)}"
            "離れています。地図には施設の位置に描いています。どちらかを直すか、要らないほうを消してください。",
            codes,
        )


@rule("hub_outside_area", "warning", "圏域の外にある連携拠点")
def _hub_outside_area(ctx: ValidationContext) -> Iterator[Finding]:
    """A located hub outside every municipality of the home-care areas it serves (further than
    HUB_OUTSIDE_TOLERANCE_M), with how far: measured on the ellipsoid between the hub and the nearest
    point of the areas found in the equal-area projection, as `adjacency.sea_gaps` measures islands.
    Warning: a wrong point (or id) is the usual cause; a hub deliberately outside may stay so."""
    m = ctx.municipalities
    if "geometry" not in m.columns or getattr(m, "crs", None) is None:
        return
    located = [(rows, codes) for rows, codes in ctx.hub_groups() if _located(rows.iloc[0]) is not None and codes]
    if not located:
        return  # nothing to project
    shapes = pd.Series(np.asarray(m.geometry.to_numpy(), dtype=object), index=m["code"].astype(str).to_numpy())
    to_munis = Transformer.from_crs("EPSG:4326", m.crs, always_xy=True)
    to_proj = Transformer.from_crs("EPSG:4326", EQUAL_AREA_CRS, always_xy=True)
    to_lonlat = Transformer.from_crs(EQUAL_AREA_CRS, "EPSG:4326", always_xy=True)
    for rows, codes in located:
        row = rows.iloc[0]
        lon, lat = float(row["lon"]), float(row["lat"])
        members = shapes.reindex(codes).dropna()
        at = shapely.Point(*to_munis.transform(lon, lat))
        if members.empty or shapely.union_all(members.to_numpy()).covers(at):
            continue
        area = shapely.union_all(gpd.GeoSeries(members.to_numpy(), crs=m.crs).to_crs(EQUAL_AREA_CRS).to_numpy())
        point = shapely.Point(*to_proj.transform(lon, lat))
        near = shapely.get_coordinates(shapely.shortest_line(point, area))[-1]
        nlon, nlat = to_lonlat.transform(near[0], near[1])
        metres = float(geodesic_m(lat, lon, nlat, nlon))
        if metres <= HUB_OUTSIDE_TOLERANCE_M:
            continue
        inside = list(shapes.index[shapely.covers(shapes.to_numpy(), at)])
        if inside:
            other = ctx.plan.area_of(inside[0])
            there = f"{ctx.name_of.get(inside[0], inside[0])}" + (f"（在宅医療圏「{other}」）" if other else "")
            where = f"{there}の中で、"
        else:
            where = "どの市町村の中でもなく（海上など）、"
        how = _facility_text(row) if _located(row) == "facility" else "区域表の緯度・経度"
        yield _hub_finding(
            ctx,
            rows,
            "hub_outside_area",
            "warning",
            f"{_hub_label(rows)}の位置（{_where(row['lat'], row['lon'])}、{how}）は、"
            f"{where}担当する圏域の市町村から{_km(metres / 1000)}離れています。"
            "位置が正しいか確かめてください。圏域の外にある拠点が意図どおりなら、そのままで構いません。",
            codes,
        )


@rule("unconfirmed", "info", "未確定の圏域")
def _unconfirmed(ctx: ValidationContext) -> Iterator[Finding]:
    t = ctx.table[ctx.table["status"] == UNCONFIRMED]
    for area, rows in t.groupby(t["homecare"].fillna("（在宅医療圏なし）"), sort=False):
        codes = list(rows["code"])
        yield ctx.finding(
            "unconfirmed",
            "info",
            f"{_area_label('homecare', area)}は未確定です（{len(codes)}市町村: {ctx.listing(codes)}）。"
            "区割りが決まったら「状態」列を「確定」にしてください。",
            codes,
            area=str(area),
            level="homecare",
        )


# ---- running --------------------------------------------------------------------------------


def _selected(names: Iterable[str] | None) -> list[Rule]:
    if names is None:
        return list(RULES.values())
    names = list(names)
    unknown = [n for n in names if n not in RULES]
    if unknown:
        raise InputError(f"検証ルール「{'、'.join(unknown)}」はありません。使えるルール: {', '.join(RULES)}")
    return [RULES[n] for n in RULES if n in names]


def validate(municipalities: pd.DataFrame, plan: Plan, options: ValidationOptions | None = None) -> list[Finding]:
    """Run the rules; findings come errors first, then warnings, then info, in rule order."""
    options = options or ValidationOptions()
    if options.population_floor_level not in LEVELS:
        raise InputError(
            f"人口の下限を調べる単位「{options.population_floor_level}」が分かりません。"
            "homecare / secondary / tertiary のいずれかです。"
        )
    if options.population_floor is not None and options.population_floor < 0:
        raise InputError("人口の下限は0以上の数にしてください。")
    ctx = ValidationContext(municipalities=municipalities, plan=plan, options=options)
    findings: list[Finding] = []
    for r in _selected(options.rules):
        findings.extend(r.check(ctx))
    order = {name: i for i, name in enumerate(RULES)}
    return sorted(findings, key=lambda f: (_RANK[f.severity], order.get(f.rule, len(order))))


FINDING_COLUMNS = ["rule", "severity", "title", "level", "area", "codes", "names", "message"]
#: Japanese headers of the one findings table: the app, `geo-app build` and the app's Excel download.
FINDING_HEADERS = {
    "rule": "ルール",
    "severity": "重大度",
    "title": "項目",
    "level": "単位",
    "area": registry_label("area"),
    "codes": registry_label("code"),
    "names": registry_label("name"),
    "message": "説明",
}


def findings_frame(findings: Iterable[Finding] | pd.DataFrame, *, japanese: bool = False) -> pd.DataFrame:
    """The one findings table: FINDING_COLUMNS, one text row per finding, for the CLI, the app and Excel.

    `japanese=True`: FINDING_HEADERS and Japanese severities and levels. A frame this function
    made (either form, or with lists of codes) is accepted too and brought to the same shape, so
    every writer writes the same table whichever it was handed.
    """
    if isinstance(findings, pd.DataFrame):
        back = {v: k for k, v in FINDING_HEADERS.items()}
        given = findings.rename(columns=lambda c: back.get(str(c), str(c)))
        severity = {v: k for k, v in SEVERITY_JA.items()}
        level = {v: k for k, v in LEVEL_JA.items()}

        def text(v: object) -> object:
            return "、".join(map(str, v)) if isinstance(v, list | tuple | set | np.ndarray) else v

        rows = [{c: text(r.get(c)) for c in FINDING_COLUMNS} for r in given.to_dict(orient="records")]
        for r in rows:
            r["severity"] = severity.get(str(r["severity"]), r["severity"])
            r["level"] = level.get(str(r["level"]), r["level"])
            if not isinstance(r["title"], str) and r["rule"] in RULES:
                r["title"] = RULES[str(r["rule"])].title
    else:
        rows = [
            {
                "rule": f.rule,
                "severity": f.severity,
                "title": RULES[f.rule].title if f.rule in RULES else f.rule,
                "level": f.level,
                "area": f.area,
                "codes": "、".join(f.codes),
                "names": "、".join(n or "（名称不明）" for n in f.names),
                "message": f.message,
            }
            for f in findings
        ]
    df = pd.DataFrame(rows, columns=FINDING_COLUMNS).astype({c: "string" for c in FINDING_COLUMNS})
    if japanese:
        df["severity"] = df["severity"].map(lambda s: SEVERITY_JA.get(s, s), na_action="ignore").astype("string")
        df["level"] = df["level"].map(lambda v: LEVEL_JA.get(v, v), na_action="ignore").astype("string")
        df = df.rename(columns=FINDING_HEADERS)
    return df


def exit_code(findings: Iterable[Finding]) -> int:
    """0 when there is nothing to fix (info only), 1 when any warning or error was found."""
    return 1 if any(f.severity in ("error", "warning") for f in findings) else 0
