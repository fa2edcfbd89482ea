"""Which municipalities border which: one graph, built once, reused by validation and the app.

Nodes are municipality codes. Two municipalities are joined by a ``land`` edge when they share a
stretch of border (rook adjacency). Touching at a single point (queen adjacency, e.g. the
four-corner points of 釧路市・標茶町・弟子屈町・鶴居村 or around ニセコ町・京極町) does NOT make
them neighbours: nobody travels through a point. N03 municipalities form a coverage (shared edges
have the same vertices on both sides), so the shared length is exact and no tolerance is needed.

Islands are not adjacent to anything on land. Named ferry routes (and bridges, which the
boundaries do not show) come from a small table, ``data/sea_links.csv``, that users extend with
their own file (`geo-app … --sea-links`, the app's データ page); they become ``sea`` edges (or
``land`` edges for a bridge) and win wherever they are given. Everywhere else the sea is crossed
by geometry: `sea_gaps` measures the nearest distance between groups of municipalities, so an
island (or a prefecture's exclave such as 北山村) is joined to the nearest part of its own area
when that is within a distance the user can set (`SEA_DISTANCE_KM`). A municipality made of
several pieces (羽幌町 with 天売島・焼尻島, 瀬戸内町 with 加計呂麻島) is one node: its own pieces
need no link.

Distances: the nearest pair of points is found on the graph's projected geometry (the JGD2011
Albers equal-area projection of `EQUAL_AREA_CRS`, simplified to 50 m for speed) and measured
geodesically between those two points on the GRS80 ellipsoid (`pyproj.Geod`), so "約 N km" is a
true distance, not a projected one (the projection alone is off by up to ±0.6 % in 沖縄).

Everything geometric is vectorised: one STRtree query, one `shapely.intersection` over all
candidate pairs, one `shapely.length`. The graph for a prefecture builds in well under a second
(Hokkaido, 179 municipalities: about 0.1 s; all Japan, 1,741: about 1 s).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod, Transformer

from geo_app.core.codes import city_of
from geo_app.core.errors import InputError
from geo_app.core.geometry import EQUAL_AREA_CRS, shared_borders

__all__ = [
    "LAND",
    "SEA",
    "SEA_LINK_COLUMNS",
    "build_adjacency",
    "components",
    "land_components",
    "edge_table",
    "links_of",
    "prefectures_bordered",
    "sea_gaps",
    "join_across_sea",
    "SEA_DISTANCE_KM",
]

LAND, SEA = "land", "sea"
#: Columns of a sea-links table (`code_a`, `code_b` required; the others are for people).
SEA_LINK_COLUMNS = ["code_a", "place_a", "code_b", "place_b", "name", "kind", "note"]
#: How far (km) an island may lie from the nearest other part of its own area and still be joined
#: to it across the sea. The longest crossing in the official secondary areas of the 47
#: prefectures is 大東諸島 → 沖縄本島 (南部: about 335 km; 小笠原 is joined by its named route);
#: 400 km covers it with room to spare, while an island put into an area on the far side of its
#: prefecture (与那国町 into 北部: about 500 km) is still questioned.
SEA_DISTANCE_KM = 400.0
#: Tolerance (m) of the simplification used only for measuring gaps: far below the km reported.
_GAP_SIMPLIFY_M = 50.0


def _land_pairs(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, shared length in metres) for every pair sharing a line of border, i < j."""
    i, j, shared = shared_borders(geoms)  # point-only touches (queen, not rook) are left out
    return i, j, shapely.length(shared)


def build_adjacency(municipalities: pd.DataFrame, sea_links: pd.DataFrame | None = None) -> nx.Graph:
    """The adjacency graph of `municipalities` (a GeoDataFrame with `code`, `name`, geometry).

    Nodes: codes, with attributes ``name``, ``pref_code``, ``area_km2`` and ``perimeter`` (m).
    Edges: ``kind`` = "land" (shared border; ``length`` in metres) or "sea" (a ferry route;
    ``name``, ``note``). A bridge listed as kind=land in the links table is a land edge of
    length 0. `sea_links` (a table read by `geo_app.io.sea_links.load_sea_links`) = None uses the
    links the loader attached (``municipalities.attrs["sea_links"]``: the embedded routes), else
    none; pass an empty frame for land only. Links whose ends are not both among the
    municipalities are skipped and listed in ``graph.graph["skipped_links"]``; a ward code is
    mapped to its city when the wards were merged.

    Also kept for `sea_gaps` and `prefectures_bordered`: ``graph.graph["geometry"]`` (the projected
    shapes by code, ``graph.graph["crs"]``) and the node attribute ``bordering_prefs``, the other
    prefectures a municipality borders on land beyond these municipalities (the loader's
    ``municipalities.attrs["bordering_prefectures"]``: 北山村 lies in 三重県 and 奈良県).
    """
    gdf = municipalities
    codes = gdf["code"].astype(str).to_numpy()
    if len(set(codes)) != len(codes):
        raise InputError("境界データに同じ市町村コードが2回以上あります。1市町村1行にしてください。")
    projected = gdf.geometry.to_crs(EQUAL_AREA_CRS).to_numpy() if gdf.crs is not None else gdf.geometry.to_numpy()
    i, j, length = _land_pairs(np.asarray(projected, dtype=object))
    perimeter = shapely.length(np.asarray(projected, dtype=object))

    g = nx.Graph()
    names = gdf["name"].astype(str).to_numpy() if "name" in gdf.columns else codes
    area = (
        gdf["area_km2"].to_numpy(dtype=float)
        if "area_km2" in gdf.columns
        else shapely.area(np.asarray(projected, dtype=object)) / 1e6
    )
    g.add_nodes_from(
        (c, {"name": n, "pref_code": c[:2], "area_km2": float(a), "perimeter": float(p)})
        for c, n, a, p in zip(codes, names, area, perimeter, strict=True)
    )
    g.add_edges_from(
        (codes[a], codes[b], {"kind": LAND, "length": float(L)}) for a, b, L in zip(i, j, length, strict=True)
    )
    g.graph["geometry"] = pd.Series(np.asarray(projected, dtype=object), index=codes)
    g.graph["crs"] = EQUAL_AREA_CRS if gdf.crs is not None else None
    bordering = municipalities.attrs.get("bordering_prefectures")
    if bordering is not None and len(bordering):
        prefs: dict[str, set[str]] = {}
        for c, p in zip(bordering["code"].tolist(), bordering["pref_code"].tolist(), strict=True):
            if c in g:  # a plain loop: the national table has ~800 rows, a groupby costs 100 times more
                prefs.setdefault(c, set()).add(p)
        nx.set_node_attributes(g, {c: tuple(sorted(p)) for c, p in prefs.items()}, "bordering_prefs")

    links = sea_links if sea_links is not None else municipalities.attrs.get("sea_links")
    links = links if links is not None else pd.DataFrame(columns=SEA_LINK_COLUMNS)
    skipped: list[dict] = []
    if not links.empty:
        present = set(codes)
        ends = []
        for col in ("code_a", "code_b"):
            c = links[col]
            ends.append(c.where(c.isin(present), city_of(c)))  # a ward's port → its merged city
        for a, b, row in zip(ends[0], ends[1], links.itertuples(index=False), strict=True):
            if a not in present or b not in present or a == b:
                skipped.append(row._asdict())
                continue
            kind = str(row.kind)
            attrs = {"kind": kind, "name": _text(row.name), "note": _text(row.note), "length": 0.0}
            if g.has_edge(a, b):
                old = g.edges[a, b]
                if old["kind"] == LAND:
                    continue  # already neighbours on land: the route adds nothing to connectivity
                attrs["name"] = "／".join(str(x) for x in (old.get("name"), attrs["name"]) if x)
            g.add_edge(a, b, **attrs)
    g.graph["skipped_links"] = skipped
    return g


def _text(v: object) -> str:
    return "" if v is None or (isinstance(v, float) and v != v) or v is pd.NA else str(v)


def _join_graph(graph: nx.Graph, codes: set[str], kinds: tuple[str, ...]) -> nx.Graph:
    h = nx.Graph()
    h.add_nodes_from(codes)
    sub = graph.subgraph(codes)
    h.add_edges_from((u, v) for u, v, k in sub.edges(data="kind") if k in kinds)
    if SEA in kinds:
        # Ferries run through ports that may belong to another area (竹芝 in 港区 serves every
        # 伊豆諸島 village): sea edges anywhere may join an area's pieces; land outside may not.
        h.add_edges_from((u, v) for u, v, k in graph.edges(data="kind") if k == SEA)
    return h


def components(graph: nx.Graph, codes: Iterable[str], kinds: Iterable[str] = (LAND, SEA)) -> list[set[str]]:
    """Groups of `codes` that are joined among themselves, largest first.

    Land edges count only between members of `codes`; sea edges (when ``"sea"`` is in `kinds`)
    may pass through ports outside `codes`, since a route is a route whoever owns the pier.
    Codes not in the graph are ignored. Order: most municipalities first, then largest area.
    One group means the area is contiguous.
    """
    wanted = {c for c in codes if c in graph}
    if not wanted:
        return []
    h = _join_graph(graph, wanted, tuple(kinds))
    groups = [comp & wanted for comp in nx.connected_components(h)]
    groups = [g for g in groups if g]
    area = nx.get_node_attributes(graph, "area_km2")
    return sorted(groups, key=lambda s: (-len(s), -sum(area.get(c, 0.0) for c in s), min(s)))


def land_components(graph: nx.Graph, codes: Iterable[str]) -> list[set[str]]:
    """`components` over land edges only (islands come out as their own groups)."""
    return components(graph, codes, kinds=(LAND,))


def links_of(graph: nx.Graph, codes: Iterable[str]) -> list[str]:
    """Names of the sea routes touching `codes` (for messages), without repeats."""
    seen: dict[str, None] = {}
    for c in codes:
        if c not in graph:
            continue
        for _, _, d in graph.edges(c, data=True):
            if d.get("kind") == SEA and d.get("name"):
                for part in str(d["name"]).split("／"):
                    seen.setdefault(part, None)
    return list(seen)


def edge_table(graph: nx.Graph) -> pd.DataFrame:
    """Edges as a frame (u, v, kind, length) for vectorised tallies such as shared border length."""
    rows = [(u, v, d.get("kind", LAND), float(d.get("length", 0.0))) for u, v, d in graph.edges(data=True)]
    return pd.DataFrame(rows, columns=["u", "v", "kind", "length"])


def prefectures_bordered(graph: nx.Graph, codes: Iterable[str]) -> list[str]:
    """Prefecture codes, other than each municipality's own, that `codes` share a land border with:
    in the graph, or beyond it (``bordering_prefs``). Bridges from the links table do not count."""
    out: set[str] = set()
    for c in codes:
        if c not in graph:
            continue
        out.update(p for p in graph.nodes[c].get("bordering_prefs", ()) if p != c[:2])
        out.update(
            n[:2] for n, d in graph[c].items() if d.get("kind") == LAND and d.get("length", 0) > 0 and n[:2] != c[:2]
        )
    return sorted(out)


@lru_cache(maxsize=4)
def _to_lonlat(crs: str) -> Transformer:
    return Transformer.from_crs(crs, "EPSG:6668", always_xy=True)


_GEOD = Geod(ellps="GRS80")
GAP_COLUMNS = ["a", "b", "km", "code_a", "code_b"]


def sea_gaps(graph: nx.Graph, groups: Sequence[Iterable[str]]) -> pd.DataFrame:
    """The nearest distance between every two `groups` of municipalities (one row per pair).

    Columns: ``a`` < ``b`` (indices into `groups`), ``km`` and ``code_a``/``code_b`` (the members
    nearest to each other). The nearest pair is found on the projected shapes and its distance is
    geodesic (GRS80), see the module notes; without a CRS the planar distance is used. Vectorised:
    one `shapely.distance` over all member pairs of different groups (a few hundred in 沖縄県).
    """
    geo: pd.Series | None = graph.graph.get("geometry")
    sets = [sorted(set(grp)) for grp in groups]
    if geo is None or len(sets) < 2:
        return pd.DataFrame(columns=GAP_COLUMNS)
    gid = np.array([k for k, grp in enumerate(sets) for c in grp if c in geo.index], dtype=int)
    mc = np.array([c for grp in sets for c in grp if c in geo.index], dtype=object)
    shapes = shapely.simplify(np.asarray(geo.loc[mc].to_numpy(), dtype=object), _GAP_SIMPLIFY_M)
    i, j = np.triu_indices(len(mc), 1)
    keep = gid[i] != gid[j]  # members are listed group by group, so gid[i] <= gid[j]
    i, j = i[keep], j[keep]
    if not len(i):
        return pd.DataFrame(columns=GAP_COLUMNS)
    pairs = pd.DataFrame({"a": gid[i], "b": gid[j], "i": i, "j": j, "d": shapely.distance(shapes[i], shapes[j])})
    best = pairs.sort_values("d", kind="stable").drop_duplicates(["a", "b"]).sort_values(["a", "b"])
    bi, bj = best["i"].to_numpy(), best["j"].to_numpy()
    crs = graph.graph.get("crs")
    if crs is None:
        km = best["d"].to_numpy() / 1000
    else:
        ends = shapely.get_coordinates(shapely.shortest_line(shapes[bi], shapes[bj])).reshape(-1, 2, 2)
        lon, lat = _to_lonlat(crs).transform(ends[:, :, 0], ends[:, :, 1])
        km = _GEOD.inv(lon[:, 0], lat[:, 0], lon[:, 1], lat[:, 1])[2] / 1000
    return pd.DataFrame(
        {"a": best["a"].to_numpy(), "b": best["b"].to_numpy(), "km": km, "code_a": mc[bi], "code_b": mc[bj]}
    ).reset_index(drop=True)


def join_across_sea(gaps: pd.DataFrame, n: int, max_km: float) -> list[int]:
    """A label for each of `n` groups: groups whose `sea_gaps` are at most `max_km` apart share one
    (single linkage, so a chain of islands each within reach is joined: 北大東 via 南大東)."""
    h = nx.Graph()
    h.add_nodes_from(range(n))
    near = gaps[gaps["km"] <= max_km]
    h.add_edges_from(zip(near["a"].astype(int), near["b"].astype(int), strict=True))
    label = [0] * n
    for k, comp in enumerate(nx.connected_components(h)):
        for x in comp:
            label[x] = k
    return label
