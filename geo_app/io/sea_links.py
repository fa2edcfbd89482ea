"""What joins municipalities across water or across a prefecture border, beyond their own shapes.

* Named ferry routes and bridges: the embedded table ``data/sea_links.csv`` plus the user's own
  (`load_user_sea_links`, behind `geo-app … --sea-links FILE` and the app's データ page). Islands
  without a named route need none: validation joins them to their area by distance
  (`geo_app.core.adjacency.sea_gaps`).
* Which other prefectures a municipality borders on land (`bordering_prefectures`), read from
  the embedded national boundaries, so that a prefecture loaded alone still knows that 北山村 is
  an exclave surrounded by 三重県 and 奈良県, not an island.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_app.core.adjacency import LAND, SEA, SEA_LINK_COLUMNS
from geo_app.core.codes import city_of, normalize_codes
from geo_app.core.errors import InputError
from geo_app.io.known_codes import known_codes, unknown_code_reason
from geo_app.io.tables import TableSource, file_row, read_table, rename_columns

__all__ = ["sea_links_path", "load_sea_links", "load_user_sea_links", "add_sea_links", "bordering_prefectures"]


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
    "": SEA,
    "sea": SEA,
    "ferry": SEA,
    "航路": SEA,
    "船": SEA,
    "フェリー": SEA,
    "海": SEA,
    "land": LAND,
    "bridge": LAND,
    "tunnel": LAND,
    "橋": LAND,
    "陸": LAND,
    "陸路": LAND,
    "トンネル": LAND,
}


def sea_links_path() -> Path:
    """The embedded table of well-known ferry routes (and bridges)."""
    from geo_app.io import datasets

    return datasets.data_dir() / "sea_links.csv"


def load_sea_links(path: TableSource | pd.DataFrame | None = None, *, name: str | None = None) -> pd.DataFrame:
    """Read a sea-links table (CSV in UTF-8/cp932 or XLSX; Japanese headers accepted).

    Columns: ``code_a``, ``code_b`` (municipality codes, required), ``name`` (route and
    operator), ``kind`` (``sea`` for a ferry — the default — or ``land`` for a bridge or
    tunnel, which joins two municipalities as if they shared a border), ``note``; ``place_a``
    and ``place_b`` (port names) are for people. `None` reads the embedded data/sea_links.csv;
    `name` labels bytes (an upload) in messages.
    """
    if isinstance(path, pd.DataFrame):
        df, label = path.copy(), path.attrs.get("source", "航路表")
        df = df.astype("string")
    else:
        source = sea_links_path() if path is None else path
        df = read_table(source, name=name)
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
        codes, errors = normalize_codes(df[col], known_codes())
        if errors.notna().any():
            first = errors[errors.notna()].index[0]
            raise InputError(
                f"{errors[first]}（列 {col}）。航路の両端の市町村コードを5桁で入れてください。",
                source=label,
                row=file_row(first),
            )
        unknown = codes.map(lambda c: unknown_code_reason(str(c)) if pd.notna(c) else None)
        if unknown.notna().any():
            first = unknown[unknown.notna()].index[0]
            raise InputError(
                f"{unknown[first]}（列 {col}）。2020年の市町村コード（5桁）を入れてください。",
                source=label,
                row=file_row(first),
            )
        out[col] = codes
    for col in ("place_a", "place_b", "name", "note"):
        out[col] = (
            df[col].astype("string").str.strip()
            if col in df.columns
            else pd.Series(pd.NA, index=df.index, dtype="string")
        )
    raw_kind = (
        df["kind"].astype("string").fillna("").str.strip().str.lower()
        if "kind" in df.columns
        else pd.Series("", index=df.index, dtype="string")
    )
    kind = raw_kind.map(_KINDS)
    if kind.isna().any():
        first = kind[kind.isna()].index[0]
        raise InputError(
            f"種類（kind）「{df.at[first, 'kind']}」が分かりません。"
            "航路なら sea、橋・トンネルなら land と書いてください。",
            source=label,
            row=file_row(first),
        )
    out["kind"] = kind.astype("string")
    same = out["code_a"] == out["code_b"]
    if same.any():
        first = same[same].index[0]
        raise InputError(
            "航路の両端が同じ市町村です。別々の市町村コードを入れてください。", source=label, row=file_row(first)
        )
    return out[SEA_LINK_COLUMNS].reset_index(drop=True)


def add_sea_links(base: pd.DataFrame | None, extra: pd.DataFrame) -> pd.DataFrame:
    """`base` (e.g. the embedded routes) with the rows of `extra` added: the user's routes add to
    the embedded ones, they never hide them."""
    frames = [f for f in (base, extra) if f is not None and not f.empty]
    if not frames:
        return extra.iloc[:0].copy()
    return pd.concat(frames, ignore_index=True)[SEA_LINK_COLUMNS].drop_duplicates(ignore_index=True)


def load_user_sea_links(source: TableSource, *, name: str | None = None) -> pd.DataFrame:
    """A user's routes file (CSV/XLSX, the columns of data/sea_links.csv) added to the embedded
    routes: the table to put in ``municipalities.attrs["sea_links"]`` (CLI --sea-links, app upload).

    A file that cannot be read, has no code_a/code_b columns, a bad code or kind, or no rows raises
    InputError with a Japanese message naming the file and row.
    """
    user = load_sea_links(source, name=name)
    if user.empty:
        raise InputError(
            "航路表に行がありません。1行に1航路、両端の市町村コード（code_a, code_b）を入れてください。",
            source=name or (str(source) if isinstance(source, (str, Path)) else None),
        )
    return add_sea_links(load_sea_links(), user)


@lru_cache(maxsize=1)
def _national_units() -> tuple[np.ndarray, np.ndarray]:
    """(geometry, code) of the embedded national boundaries, read once per process (about 0.1 s)."""
    from geo_app.io import datasets

    path = datasets.boundaries_path()
    if not path.exists():
        return np.array([], dtype=object), np.array([], dtype=object)
    units = gpd.read_parquet(path, columns=["N03_007", "geometry"])
    code = units["N03_007"].astype("string").str.strip()
    ok = code.str.fullmatch(r"\d{5}").fillna(False).to_numpy(dtype=bool)
    geoms = np.asarray(units.geometry.values, dtype=object)[ok]
    shapely.prepare(geoms)  # the intersects tests below run against these shapes again and again
    return geoms, code[ok].to_numpy(dtype=object)


def bordering_prefectures(munis: pd.DataFrame) -> pd.DataFrame:
    """(code, pref_code): for each of `munis`, the other prefectures it shares a land border with.

    Read from the embedded national boundaries by code, not from `munis`' own shapes: a plan's
    prefecture is often loaded alone, and a user's file of another vintage does not line up with
    the national one. The embedded shapes form a coverage, so neighbours touch exactly; a point
    contact (four corners) is not a border. Codes the national data lacks get no row.
    """
    out = pd.DataFrame({"code": pd.Series(dtype="string"), "pref_code": pd.Series(dtype="string")})
    if munis.empty or "code" not in munis.columns:
        return out
    geoms, codes = _national_units()
    if not len(codes):
        return out
    loaded = set(munis["code"].astype(str).tolist())
    cities = city_of(pd.Series(codes, dtype="string")).to_numpy(dtype=object)
    as_loaded = np.array([c if c in loaded else city for c, city in zip(codes, cities, strict=True)], dtype=object)
    mine = np.flatnonzero([c in loaded for c in as_loaded])
    if not len(mine):
        return out
    tree = shapely.STRtree(geoms)
    q, t = tree.query(geoms[mine])  # boxes only: the exact test runs on pairs across a prefecture line
    q = mine[q]
    other = np.array([a[:2] != b[:2] for a, b in zip(codes[q], codes[t], strict=True)], dtype=bool)
    q, t = q[other], t[other]
    touch = shapely.intersects(geoms[q], geoms[t])  # cheap on prepared shapes; most box pairs fail here
    q, t = q[touch], t[touch]
    line = shapely.relate_pattern(geoms[q], geoms[t], "****1****")  # boundaries share a line, not a point
    pairs = pd.DataFrame({"code": as_loaded[q[line]], "pref_code": [c[:2] for c in codes[t[line]]]}, dtype="string")
    return pairs.drop_duplicates().sort_values(["code", "pref_code"], ignore_index=True)
