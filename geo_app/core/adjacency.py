"""Which municipalities border which: one graph, built once, reused by validation and the app.

Nodes are municipality codes. Two municipalities are joined by a ``land`` edge when they share a
stretch of border (rook adjacency). Touching at a single point (queen adjacency, e.g. the
four-corner points of 釧路市・標茶町・弟子屈町・鶴居村 or around ニセコ町・京極町) does NOT make
them neighbours: nobody travels through a point. N03 municipalities form a coverage (shared edges
have the same vertices on both sides), so the shared length is exact and no tolerance is needed.

Islands are not adjacent to anything on land. Ferry routes (and bridges, which the boundaries do
not show) come from a small, user-extendable table, ``data/sea_links.csv`` (see `load_sea_links`),
and become ``sea`` edges (or ``land`` edges for a bridge). A municipality made of several pieces
(羽幌町 with 天売島・焼尻島, 瀬戸内町 with 加計呂麻島) is one node: its own pieces need no link.

Everything geometric is vectorised: one STRtree query, one `shapely.intersection` over all
candidate pairs, one `shapely.length`. The graph for a prefecture builds in well under a second
(Hokkaido, 179 municipalities: about 0.1 s; all Japan, 1,741: about 1 s).
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx
import numpy as np
import pandas as pd
import shapely

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
]

LAND, SEA = "land", "sea"
#: Columns of a sea-links table (`code_a`, `code_b` required; the others are for people).
SEA_LINK_COLUMNS = ["code_a", "place_a", "code_b", "place_b", "name", "kind", "note"]


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
