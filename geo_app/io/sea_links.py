"""Ferry routes and bridges that join municipalities across water: read from a table users can extend."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo_app.core.adjacency import LAND, SEA, SEA_LINK_COLUMNS
from geo_app.core.codes import normalize_codes
from geo_app.core.errors import InputError
from geo_app.io.known_codes import known_codes
from geo_app.io.tables import TableSource, file_row, read_table, rename_columns

__all__ = ["sea_links_path", "load_sea_links"]


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


def load_sea_links(path: TableSource | pd.DataFrame | None = None) -> pd.DataFrame:
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
        codes, errors = normalize_codes(df[col], known_codes())
        if errors.notna().any():
            first = errors[errors.notna()].index[0]
            raise InputError(
                f"{errors[first]}（列 {col}）。航路の両端の市町村コードを5桁で入れてください。",
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
