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

from pathlib import Path
from typing import Iterable

import networkx as nx
import numpy as np
import pandas as pd
import shapely

from .codes import city_of, normalize_codes
from .errors import InputError
from .geometry import EQUAL_AREA_CRS, shared_borders
from .tables import TableSource, file_row, read_table, rename_columns

__all__ = [
    "LAND", "SEA", "SEA_LINK_COLUMNS", "sea_links_path", "load_sea_links", "build_adjacency",
    "components", "land_components", "edge_table", "links_of",
]

LAND, SEA = "land", "sea"
#: Columns of a sea-links table (`code_a`, `code_b` required; the others are for people).
SEA_LINK_COLUMNS = ["code_a", "place_a", "code_b", "place_b", "name", "kind", "note"]

_SEA_LINK_ALIASES = {
    "code_a": ("市町村コードA", "コードA", "市町村コード1", "コード1", "from_code", "code1"),
    "code_b": ("市町村コードB", "コードB", "市町村コード2", "コード2", "to_code", "code2"),
    "place_a": ("港A", "場所A", "市町村A", "地点A", "from", "place1"),
    "place_b": ("港B", "場所B", "市町村B", "地点B", "to", "place2"),
    "name": ("航路", "航路名", "名称", "運航", "route"),
    "kind": ("種類", "種別", "type"),
    "note": ("備考", "メモ", "注記", "notes"),
}
_KINDS = {
    "": SEA, "sea": SEA, "ferry": SEA, "航路": SEA, "船": SEA, "フェリー": SEA, "海": SEA,
    "land": LAND, "bridge": LAND, "tunnel": LAND, "橋": LAND, "陸": LAND, "陸路": LAND, "トンネル": LAND,
}


def sea_links_path() -> Path:
    """The embedded table of well-known ferry routes (and bridges)."""
    from . import datasets

    return datasets.data_dir() / "sea_links.csv"


def load_sea_links(path: "TableSource | pd.DataFrame | None" = None) -> pd.DataFrame:
    """Read a sea-links table (CSV in UTF-8/cp932 or XLSX; Japanese headers accepted).

    Columns: ``code_a``, ``code_b`` (municipality codes, required), ``name`` (route and
    operator), ``kind`` (``sea`` for a ferry — the default — or ``land`` for a bridge or
    tunnel, which joins two municipalities as if they shared a border), ``note``; ``place_a``
    and ``place_b`` (port names) are for people. `None` reads the embedded data/sea_links.csv.
    """
    if isinstance(path, pd.DataFrame):
        df, label = path.copy(), path.attrs.get("source", "航路表")
        df = df.astype("string")
    else:
        source = sea_links_path() if path is None else path
        df = read_table(source)
        label = df.attrs.get("source", "航路表")
    df = rename_columns(df, _SEA_LINK_ALIASES)
    missing = [c for c in ("code_a", "code_b") if c not in df.columns]
    if missing:
        raise InputError(
            "航路表に列 code_a と code_b（航路の両端の市町村コード）が必要です。"
            "1行目に code_a, code_b, name, note の列名を入れてください。",
            source=label,
        )
    out = pd.DataFrame(index=df.index)
    for col in ("code_a", "code_b"):
        codes, errors = normalize_codes(df[col])
        if errors.notna().any():
            first = errors[errors.notna()].index[0]
            raise InputError(f"{errors[first]}（列 {col}）。航路の両端の市町村コードを5桁で入れてください。", source=label, row=file_row(first))
        out[col] = codes
    for col in ("place_a", "place_b", "name", "note"):
        out[col] = df[col].astype("string").str.strip() if col in df.columns else pd.Series(pd.NA, index=df.index, dtype="string")
    raw_kind = df["kind"].astype("string").fillna("").str.strip().str.lower() if "kind" in df.columns else pd.Series("", index=df.index, dtype="string")
    kind = raw_kind.map(_KINDS)
    if kind.isna().any():
        first = kind[kind.isna()].index[0]
        raise InputError(
            f"種類（kind）「{df.at[first, 'kind']}」が分かりません。航路なら sea、橋・トンネルなら land と書いてください。",
            source=label, row=file_row(first),
        )
    out["kind"] = kind.astype("string")
    same = out["code_a"] == out["code_b"]
    if same.any():
        first = same[same].index[0]
        raise InputError("航路の両端が同じ市町村です。別々の市町村コードを入れてください。", source=label, row=file_row(first))
    return out[SEA_LINK_COLUMNS].reset_index(drop=True)


def _land_pairs(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, shared length in metres) for every pair sharing a line of border, i < j."""
    i, j, shared = shared_borders(geoms)  # point-only touches (queen, not rook) are left out
    return i, j, shapely.length(shared)


def build_adjacency(municipalities: pd.DataFrame, sea_links: "pd.DataFrame | TableSource | None" = None) -> nx.Graph:
    """The adjacency graph of `municipalities` (a GeoDataFrame with `code`, `name`, geometry).

    Nodes: codes, with attributes ``name``, ``pref_code``, ``area_km2`` and ``perimeter`` (m).
    Edges: ``kind`` = "land" (shared border; ``length`` in metres) or "sea" (a ferry route;
    ``name``, ``note``). A bridge listed as kind=land in the links table is a land edge of
    length 0. `sea_links` = None uses the embedded data/sea_links.csv; pass an empty frame
    (``load_sea_links(...).iloc[:0]``) for land only. Links whose ends are not both among the
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
    area = gdf["area_km2"].to_numpy(dtype=float) if "area_km2" in gdf.columns else shapely.area(np.asarray(projected, dtype=object)) / 1e6
    g.add_nodes_from(
        (c, {"name": n, "pref_code": c[:2], "area_km2": float(a), "perimeter": float(p)})
        for c, n, a, p in zip(codes, names, area, perimeter)
    )
    g.add_edges_from(
        (codes[a], codes[b], {"kind": LAND, "length": float(L)}) for a, b, L in zip(i, j, length)
    )

    links = load_sea_links(sea_links if sea_links is not None else None)
    skipped: list[dict] = []
    if not links.empty:
        present = set(codes)
        ends = []
        for col in ("code_a", "code_b"):
            c = links[col]
            ends.append(c.where(c.isin(present), city_of(c)))  # a ward's port → its merged city
        for a, b, row in zip(ends[0], ends[1], links.itertuples(index=False)):
            if a not in present or b not in present or a == b:
                skipped.append(row._asdict())
                continue
            kind = str(row.kind)
            attrs = {"kind": kind, "name": _text(row.name), "note": _text(row.note), "length": 0.0}
            if g.has_edge(a, b):
                old = g.edges[a, b]
                if old["kind"] == LAND:
                    continue  # already neighbours on land: the route adds nothing to connectivity
                attrs["name"] = "／".join(x for x in (old.get("name"), attrs["name"]) if x)
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
