"""Read the tables users bring (CSV in UTF-8 / UTF-8 with BOM / cp932, or XLSX) as text.

Everything is read as strings so that codes keep their leading zeros; callers convert numbers
themselves and report the row of any value that is not a number.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import BinaryIO, Union

import pandas as pd

from .errors import InputError

__all__ = ["read_table", "rename_columns", "to_numbers", "file_row", "MAX_TABLE_BYTES", "TableSource"]

MAX_TABLE_BYTES = 50 * 1024 * 1024  # a municipality table is a few hundred kB; 50 MB is surely a wrong file
TableSource = Union[str, Path, bytes, BinaryIO]

_ENCODINGS = ("utf-8-sig", "cp932")


def _read_bytes(source: TableSource, name: str | None) -> tuple[bytes, str]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        label = name or path.name
        if not path.exists():
            raise InputError("ファイルが見つかりません。パスを確かめてください。", source=str(path))
        size = path.stat().st_size
        if size > MAX_TABLE_BYTES:
            raise InputError(
                f"ファイルが大きすぎます（{size / 1e6:.0f} MB、上限 {MAX_TABLE_BYTES / 1e6:.0f} MB）。"
                "市町村ごとの表か確かめてください。",
                source=label,
            )
        return path.read_bytes(), label
    if isinstance(source, bytes):
        data = source
    else:
        data = source.read(MAX_TABLE_BYTES + 1)
    label = name or getattr(source, "name", None) or "アップロードされたファイル"
    if len(data) > MAX_TABLE_BYTES:
        raise InputError(
            f"ファイルが大きすぎます（上限 {MAX_TABLE_BYTES / 1e6:.0f} MB）。市町村ごとの表か確かめてください。",
            source=label,
        )
    return data, str(label)


def _decode(data: bytes, label: str) -> str:
    if b"\x00" in data[:4096]:
        raise InputError(
            "文字のファイルではありません（バイナリのようです）。CSV（UTF-8 または Shift_JIS）か Excel（.xlsx）で保存してください。",
            source=label,
        )
    for enc in _ENCODINGS:
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputError(
        "文字コードを読めません。CSV は UTF-8 または Shift_JIS（cp932）で保存してください。",
        source=label,
    )


def _read_xlsx(data: bytes, label: str) -> pd.DataFrame:
    try:
        return pd.read_excel(io.BytesIO(data), dtype=str, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many kinds for broken files
        raise InputError(
            f"Excel ファイルを開けません（{type(exc).__name__}）。Excel で開き直して .xlsx で保存してください。",
            source=label,
        ) from None


def read_table(source: TableSource, *, name: str | None = None) -> pd.DataFrame:
    """Read CSV or XLSX into a DataFrame of stripped strings (empty cells are NA)."""
    data, label = _read_bytes(source, name)
    if not data.strip():
        raise InputError("ファイルが空です。", source=label)
    if data[:2] == b"PK":
        if not zipfile.is_zipfile(io.BytesIO(data)):
            raise InputError("Excel ファイルが壊れているか途中で切れています。保存し直してください。", source=label)
        df = _read_xlsx(data, label)
    else:
        text = _decode(data, label)
        try:
            df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=True)
        except pd.errors.ParserError as exc:
            raise InputError(
                f"CSV の形式が崩れています（{exc}）。列の数がそろっているか確かめてください。", source=label
            ) from None
        except pd.errors.EmptyDataError:
            raise InputError("ファイルが空です。", source=label) from None
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    df = df.apply(lambda col: col.astype("string").str.strip()).replace("", pd.NA)
    df = df.dropna(how="all")
    if df.empty:
        raise InputError("データの行がありません（見出し行だけです）。", source=label)
    df.attrs["source"] = label
    return df


def rename_columns(df: pd.DataFrame, aliases: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """Map Japanese or English headers onto canonical names (case and spaces ignored)."""
    lookup = {}
    for canonical, names in aliases.items():
        for n in (canonical, *names):
            lookup[_key(n)] = canonical
    mapping = {}
    for col in df.columns:
        canonical = lookup.get(_key(col))
        if canonical and canonical not in mapping.values():
            mapping[col] = canonical
    out = df.rename(columns=mapping)
    out.attrs = dict(df.attrs)
    return out


def file_row(index_label: object) -> int | None:
    """Row number as the user sees it in Excel (header is row 1)."""
    return int(index_label) + 2 if isinstance(index_label, (int,)) or str(index_label).isdigit() else None


def _key(name: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", str(name)).strip().lower().replace(" ", "").replace("_", "")


def to_numbers(df: pd.DataFrame, columns: list[str], *, label: str) -> pd.DataFrame:
    """Convert count columns to integers; name the first bad cell (row numbers as in the file)."""
    out = df.copy()
    for col in columns:
        raw = out[col].astype("string").str.replace(",", "", regex=False).str.replace("，", "", regex=False)
        raw = raw.str.normalize("NFKC")
        raw = raw.mask(raw.isin(["-", "－", "―", "…", "***", "X", "x"]), "0")
        nums = pd.to_numeric(raw, errors="coerce")
        bad = nums.isna() & raw.notna() | (nums < 0)
        if bad.any():
            first = bad[bad].index[0]
            raise InputError(
                f"列「{col}」の値「{df.at[first, col]}」は人数（0以上の数）ではありません。数字だけにしてください。",
                source=label,
                row=file_row(first),
            )
        out[col] = nums.round().astype("Int64")
    return out
