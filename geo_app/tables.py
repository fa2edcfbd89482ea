"""Read the tables users bring (CSV in UTF-8 / UTF-8 with BOM / cp932 / UTF-16, or XLSX) as text.

Everything is read as strings so that codes keep their leading zeros; callers convert numbers
themselves and report the row of any value that is not a number. Whatever the file holds, the
reader either returns a table or raises `InputError` with a Japanese message that names the
file, the row where it can, and what to do: it never lets a parser's own exception through.

Row numbers: the returned DataFrame's index is `row in the file − 2`, so `file_row(label)` gives
the row as the user sees it in Excel or a text editor (header = row 1), even when blank rows or
title rows above the header were skipped.
"""
from __future__ import annotations

import csv
import functools
import io
import re
import unicodedata
import warnings
import zipfile
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, TypeVar, Union

import numpy as np
import pandas as pd

from .errors import GeoAppError, InputError

__all__ = [
    "read_table", "rename_columns", "to_numbers", "file_row", "MAX_TABLE_BYTES", "MAX_TABLE_ROWS",
    "TableSource", "japanese_errors", "column_letter", "as_text_frame", "protect_text", "unprotect_text",
]

MAX_TABLE_BYTES = 50 * 1024 * 1024  # a municipality table is a few hundred kB; 50 MB is surely a wrong file
MAX_TABLE_ROWS = 100_000  # Japan has 1,916 municipalities and wards
MAX_TABLE_COLUMNS = 2_000
MAX_XLSX_UNZIPPED = 400 * 1024 * 1024  # guards against a zip bomb posing as a workbook
MAX_COUNT = 200_000_000  # more people than Japan has: surely a wrong cell
TableSource = Union[str, Path, bytes, BinaryIO]

_DEFAULT_LABEL = "アップロードされたファイル"
_SAVE_AS = "Excel で開いて「CSV UTF-8（コンマ区切り）」か「Excel ブック（.xlsx）」で保存し直してください。"
_HEADER_SCAN = 30  # rows searched for the header when hints are given

F = TypeVar("F", bound=Callable)


# ---- guard ----------------------------------------------------------------------------------
def _label_of(args: tuple, kwargs: dict) -> str | None:
    name = kwargs.get("name")
    if name:
        return str(name)
    first = args[0] if args else None
    if isinstance(first, (str, Path)):
        return Path(first).name or str(first)
    if isinstance(first, pd.DataFrame):
        return first.attrs.get("source")
    return getattr(first, "name", None) if first is not None else None


def japanese_errors(what: str, error: type[GeoAppError] = InputError, *, hint: str | None = None) -> Callable[[F], F]:
    """Decorator for public readers: any exception that is not a GeoAppError becomes `error`.

    The specific checks come first and say exactly what to fix; this is the last net, so that a
    planner never sees a traceback from a parser we did not foresee.
    """

    def deco(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except error:
                raise
            except GeoAppError as exc:
                if issubclass(error, type(exc)):  # an InputError met while reading a plan is a PlanError
                    raise error(exc.message, source=exc.source, row=exc.row) from None
                raise
            except MemoryError:
                raise error(f"{what}が大きすぎて読み込めません。ファイルを確かめてください。",
                            source=_label_of(args, kwargs)) from None
            except Exception as exc:  # noqa: BLE001 - the point of this net
                raise error(
                    f"{what}を読み込めませんでした（{type(exc).__name__}）。{hint or '形式が正しいか確かめ、' + _SAVE_AS}",
                    source=_label_of(args, kwargs),
                ) from exc

        return wrapper  # type: ignore[return-value]

    return deco


# ---- bytes ----------------------------------------------------------------------------------
def _too_big(label: str, size: int | None = None) -> InputError:
    shown = f"（{size / 1e6:.0f} MB、上限 {MAX_TABLE_BYTES / 1e6:.0f} MB）" if size else f"（上限 {MAX_TABLE_BYTES / 1e6:.0f} MB）"
    return InputError(f"ファイルが大きすぎます{shown}。市町村ごとの表か確かめてください。", source=label)


def _read_bytes(source: TableSource, name: str | None) -> tuple[bytes, str]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        label = name or path.name or str(path)
        try:
            if not path.exists():
                raise InputError("ファイルが見つかりません。パスを確かめてください。", source=str(path))
            if path.is_dir():
                raise InputError("フォルダではなく、表のファイル（.csv か .xlsx）を指定してください。", source=str(path))
            size = path.stat().st_size
            if size > MAX_TABLE_BYTES:
                raise _too_big(label, size)
            return path.read_bytes(), label
        except OSError as exc:
            raise InputError(f"ファイルを開けません（{exc.strerror or type(exc).__name__}）。", source=str(path)) from None
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = name or _DEFAULT_LABEL
    elif hasattr(source, "read"):
        label = name or getattr(source, "name", None) or _DEFAULT_LABEL
        label = Path(str(label)).name or str(label)
        try:
            data = source.read(MAX_TABLE_BYTES + 1)
        except Exception as exc:  # noqa: BLE001 - a stream from a browser upload may fail in any way
            raise InputError(f"ファイルを読めません（{type(exc).__name__}）。もう一度選んでください。", source=label) from None
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not isinstance(data, (bytes, bytearray)):
            raise InputError("ファイルの中身を読めません。もう一度選んでください。", source=label)
        data = bytes(data)
    else:
        raise InputError(
            f"表として読めない指定です（{type(source).__name__}）。CSV か Excel（.xlsx）のファイルを指定してください。",
            source=name,
        )
    if len(data) > MAX_TABLE_BYTES:
        raise _too_big(str(label))
    return data, str(label)


def _decode(data: bytes, label: str) -> tuple[str, str]:
    """Text and the encoding used: BOMs first, then UTF-8, then cp932 (Excel's 'CSV' in Japan)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's 「Unicode テキスト」 is UTF-16, tab-separated
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise InputError("UTF-16 のファイルが途中で壊れています。" + _SAVE_AS, source=label) from None
    head = data[:8192]
    if b"\x00" in head:
        raise InputError(
            "文字のファイルではありません（バイナリのようです）。CSV（UTF-8 または Shift_JIS）か Excel（.xlsx）で保存してください。",
            source=label,
        )
    for enc in ("utf-8-sig", "cp932"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        sample = text[:4096]
        control = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n")
        if control > max(2, len(sample) // 100):
            raise InputError(
                "文字のファイルではありません（制御文字が多く含まれています）。CSV か Excel（.xlsx）で保存してください。",
                source=label,
            )
        return text, enc
    raise InputError(
        "文字コードを読めません。CSV は UTF-8 または Shift_JIS（cp932）で保存してください。" + _SAVE_AS,
        source=label,
    )


# ---- CSV -----------------------------------------------------------------------------------
_DELIMITERS = {",": "カンマ", "\t": "タブ", ";": "セミコロン"}


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most, and most consistent, columns."""
    lines = [ln for ln in text.splitlines()[:60] if ln.strip()][:30]
    if not lines:
        return ","
    sample = "\n".join(lines)
    best, best_score = ",", (0.0, 0)
    for d in _DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=d)]
        except csv.Error:
            continue
        if not counts or max(counts) < 2:
            continue
        mode = max(set(counts), key=counts.count)
        score = (counts.count(mode) / len(counts), mode)
        if mode >= 2 and score > best_score:
            best, best_score = d, score
    return best


def _csv_rows(text: str, label: str) -> tuple[list[list[str]], list[int], str]:
    delimiter = _sniff_delimiter(text)
    rows: list[list[str]] = []
    lines: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    try:
        for row in reader:
            if len(rows) > MAX_TABLE_ROWS:
                raise InputError(
                    f"行が多すぎます（上限 {MAX_TABLE_ROWS:,} 行）。市町村ごとの表か確かめてください。", source=label
                )
            if len(row) > MAX_TABLE_COLUMNS:
                raise InputError(f"列が多すぎます（{len(row)} 列）。市町村ごとの表か確かめてください。", source=label, row=start)
            rows.append(row)
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        reason = "1つのセルが長すぎます" if "field larger" in str(exc) else "引用符（\"）の対応がとれていません"
        raise InputError(f"CSV の形式が崩れています（{reason}）。" + _SAVE_AS, source=label, row=start) from None
    return rows, lines, delimiter


# ---- XLSX ----------------------------------------------------------------------------------
def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            return str(value)
        return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _xlsx_rows(data: bytes, label: str, hints: list[str]) -> tuple[list[list[str | None]], list[int], str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            unzipped = sum(i.file_size for i in infos)
            broken = zf.testzip() if unzipped <= MAX_XLSX_UNZIPPED else None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, RuntimeError, NotImplementedError):
        raise InputError("Excel ファイルが壊れているか途中で切れています。Excel で開いて保存し直してください。", source=label) from None
    if broken is not None:
        raise InputError("Excel ファイルが壊れているか途中で切れています。Excel で開いて保存し直してください。", source=label)
    if "xl/workbook.xml" not in names:
        if "content.xml" in names:
            raise InputError("LibreOffice などの .ods ファイルは読めません。.xlsx か CSV で保存し直してください。", source=label)
        if any(n.lower().endswith((".shp", ".geojson", ".gpkg", ".dbf")) for n in names):
            raise InputError("これは境界データ（地図）の zip のようです。表（.csv / .xlsx）を指定してください。", source=label)
        raise InputError("Excel（.xlsx）ファイルではない zip です。表（.csv / .xlsx）を指定してください。", source=label)
    if unzipped > MAX_XLSX_UNZIPPED:
        raise _too_big(label)
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for broken files
        raise InputError(
            f"Excel ファイルを開けません（{type(exc).__name__}）。Excel で開き直して .xlsx で保存してください。",
            source=label,
        ) from None
    try:
        sheets = [ws for ws in wb.worksheets if hasattr(ws, "iter_rows")]
        if not sheets:
            raise InputError("Excel ファイルに表のシートがありません。", source=label)
        chosen = None
        if hints and len(sheets) > 1:
            for ws in sheets:
                head = _sheet_rows(ws, label, limit=_HEADER_SCAN)[0]
                if _header_at(head, hints) is not None:
                    chosen = ws
                    break
        ws = chosen or sheets[0]
        rows, numbers = _sheet_rows(ws, label)
        return rows, numbers, ws.title
    finally:
        wb.close()


def _sheet_rows(ws, label: str, *, limit: int | None = None) -> tuple[list[list[str | None]], list[int]]:
    rows: list[list[str | None]] = []
    numbers: list[int] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for n, values in enumerate(ws.iter_rows(values_only=True), start=1):
                if limit is not None and len(rows) >= limit:
                    break
                if n > MAX_TABLE_ROWS + _HEADER_SCAN:
                    if any(v is not None for v in values):
                        raise InputError(
                            f"行が多すぎます（上限 {MAX_TABLE_ROWS:,} 行）。市町村ごとの表か確かめてください。", source=label
                        )
                    break
                cells = [_cell_text(v) for v in values[:MAX_TABLE_COLUMNS + 1]]
                if len(cells) > MAX_TABLE_COLUMNS and any(c is not None for c in cells[MAX_TABLE_COLUMNS:]):
                    raise InputError("列が多すぎます。市町村ごとの表か確かめてください。", source=label, row=n)
                rows.append(cells)
                numbers.append(n)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - broken sheet XML surfaces only while iterating
        raise InputError(
            f"Excel ファイルのシートを読めません（{type(exc).__name__}）。Excel で開き直して .xlsx で保存してください。",
            source=label,
        ) from None
    return rows, numbers


# ---- rows → DataFrame ----------------------------------------------------------------------
def column_letter(i: int) -> str:
    """0 → A, 26 → AA: how Excel names the column."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def _blank(v: object) -> bool:
    return v is None or not str(v).strip()


def _header_at(rows: list[list[str | None]], hints: list[str]) -> int | None:
    """Position of the first of the top rows that holds one of the hinted column names."""
    wanted = {_key(h) for h in hints}
    seen = 0
    for i, row in enumerate(rows):
        if all(_blank(v) for v in row):
            continue
        if any(_key(v) in wanted for v in row if not _blank(v)):
            return i
        seen += 1
        if seen >= _HEADER_SCAN:
            break
    return None


def _frame(
    rows: list[list[str | None]], numbers: list[int], label: str, *, hints: list[str], strict_width: bool
) -> pd.DataFrame:
    first = next((i for i, r in enumerate(rows) if not all(_blank(v) for v in r)), None)
    if first is None:
        raise InputError("ファイルが空です（中身がありません）。", source=label)
    at = _header_at(rows, hints) if hints else None
    h = at if at is not None else first
    header = [("" if v is None else str(v)).strip().lstrip("\ufeff").strip() for v in rows[h]]
    if not strict_width:  # a sheet's row runs as far as any cell was ever formatted
        while header and not header[-1]:
            header.pop()
    body = [(numbers[i], r) for i, r in enumerate(rows[h + 1:], start=h + 1) if not all(_blank(v) for v in r)]
    if not body:
        raise InputError("データの行がありません（見出し行だけです）。2行目から市町村ごとの行を入れてください。", source=label)
    width = len(header)
    if strict_width:
        for line, r in body:
            extra = [v for v in r[width:] if not _blank(v)]
            if extra:
                used = max(j for j, v in enumerate(r) if not _blank(v)) + 1
                raise InputError(
                    f"この行は見出しより列が多くなっています（見出し {width} 列、この行 {used} 列）。"
                    "「1,234」のように値にカンマがあるなら、カンマを消すか値を「\"」で囲んでください。",
                    source=label,
                    row=line,
                )
    full = max(width, max(len(r) for _, r in body))
    cells = [[None if _blank(v) else str(v).strip() for v in (list(r) + [None] * (full - len(r)))[:full]] for _, r in body]
    columns = header + [""] * (full - width)
    keep = [j for j in range(full) if columns[j] or any(row[j] is not None for row in cells)]
    names: list[str] = []
    duplicates: dict[str, list[str]] = {}
    for j in keep:
        name = columns[j] or f"列{column_letter(j)}"
        if name in names:
            duplicates.setdefault(name, [column_letter(keep[names.index(name)])]).append(column_letter(j))
            name = f"{name}（{column_letter(j)}列）"
            while name in names:
                name += "'"
        names.append(name)
    df = pd.DataFrame([[row[j] for j in keep] for row in cells], columns=names, dtype="string")
    df.index = pd.Index([line - 2 for line, _ in body])
    df.attrs["source"] = label
    if duplicates:
        df.attrs["duplicate_columns"] = {k: v for k, v in duplicates.items()}
    return df


def read_table(
    source: TableSource, *, name: str | None = None, header_hints: Iterable[str] | None = None
) -> pd.DataFrame:
    """Read CSV or XLSX into a DataFrame of stripped strings (empty cells are NA).

    `header_hints` are column names the caller expects (e.g. 市町村コード); when given, title rows
    above the header are skipped and, in a workbook, the first sheet holding them is read.
    attrs: source (file label), encoding or sheet, delimiter, notes (what was assumed).
    """
    return _read_table(source, name=name, header_hints=header_hints)


@japanese_errors("表のファイル")
def _read_table(source: TableSource, *, name: str | None, header_hints: Iterable[str] | None) -> pd.DataFrame:
    data, label = _read_bytes(source, name)
    hints = [str(h) for h in header_hints] if header_hints else []
    if not data.strip():
        raise InputError("ファイルが空です。", source=label)
    notes: list[str] = []
    if data[:2] == b"PK":
        rows, numbers, sheet = _xlsx_rows(data, label, hints)
        df = _frame(rows, numbers, label, hints=hints, strict_width=False)
        df.attrs["sheet"] = sheet
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise InputError(
            "古い Excel 形式（.xls）か、パスワード付きの Excel ファイルです。パスワードを外し、「Excel ブック（.xlsx）」で保存し直してください。",
            source=label,
        )
    else:
        text, encoding = _decode(data, label)
        lead = text.lstrip("\ufeff \t\r\n")[:100].lower()
        if lead.startswith(("<html", "<!doctype", "<?xml", "<table")):
            raise InputError("HTML / XML のファイルです。" + _SAVE_AS, source=label)
        if lead.startswith(("{", "[")) and ("\"type\"" in text[:2000] or "\"features\"" in text[:2000]):
            raise InputError("これは境界データ（GeoJSON）のようです。表（.csv / .xlsx）を指定してください。", source=label)
        rows, numbers, delimiter = _csv_rows(text, label)
        df = _frame(rows, numbers, label, hints=hints, strict_width=True)
        df.attrs["encoding"] = encoding
        df.attrs["delimiter"] = delimiter
        if delimiter != ",":
            notes.append(f"{label}: 区切り文字を{_DELIMITERS[delimiter]}として読みました。")
    df.attrs["notes"] = notes
    return df


def as_text_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A DataFrame given in code, as read_table would give it: text headers and stripped string cells."""
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"表（DataFrame）ではありません（{type(df).__name__}）。")
    names: list[str] = []
    duplicates: dict[str, list[str]] = {}
    columns = {}
    for j in range(df.shape[1]):
        name = str(df.columns[j]).strip() or f"列{column_letter(j)}"
        if name in names:
            duplicates.setdefault(name, [column_letter(names.index(name))]).append(column_letter(j))
            name = f"{name}（{column_letter(j)}列）"
            while name in names:
                name += "'"
        names.append(name)
        col = df.iloc[:, j]
        if col.dtype.kind == "f":  # 1100.0 → "1100": Excel's floats are codes and counts here
            whole = col.notna() & np.isfinite(col.fillna(0)) & (col.fillna(0) % 1 == 0) & (col.abs().fillna(0) < 1e15)
            text = col.astype("string").where(~whole, col.where(whole, 0).astype("int64").astype("string"))
        else:
            text = col.astype("string")
        text = unprotect_text(text.str.strip())
        columns[name] = text.mask(text == "")
    out = pd.DataFrame(columns, index=df.index)
    out.attrs = {k: v for k, v in df.attrs.items() if isinstance(k, str)}
    if duplicates:
        out.attrs["duplicate_columns"] = duplicates
    return out


# ---- spreadsheet formulas ------------------------------------------------------------------
_FORMULA_START = ("=", "+", "-", "@")


def protect_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that Excel would run as a formula (=, +, -, @ first) get a leading apostrophe.

    Names are typed by users (`=HYPERLINK(...)` as an area name must stay text when a CSV is
    opened in Excel); `read_table` takes the apostrophe off again, so plans round-trip.
    """
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or isinstance(out[col].dtype, pd.StringDtype):
            text = out[col].astype("string")
            risky = text.str.startswith(_FORMULA_START).fillna(False) & text.str.contains(r"\D", regex=True).fillna(False)
            if risky.any():
                out[col] = text.where(~risky, "'" + text)
    return out


def unprotect_text(text: pd.Series) -> pd.Series:
    """Undo `protect_text`: "'=東部" → "=東部"."""
    guarded = text.str.match(r"^'[=+\-@]").fillna(False)
    return text.where(~guarded, text.str.slice(1))


# ---- columns -------------------------------------------------------------------------------
_UNIT = re.compile(r"[\(\[【](人|人数|件|km2|km²)[\)\]】]$")
_RESHOW = re.compile(r"^[\(\[【]再掲[\)\]】]")


def _key(name: object) -> str:
    """Header key: NFKC, lower case, no spaces/underscores, no （再掲） or （人）."""
    text = unicodedata.normalize("NFKC", str(name)).strip().lower()
    text = "".join(text.split()).replace("_", "")
    text = _RESHOW.sub("", text)
    return _UNIT.sub("", text)


def rename_columns(df: pd.DataFrame, aliases: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """Map Japanese or English headers onto canonical names (case and spaces ignored).

    Two columns that mean the same thing (e.g. 「市町村コード」 and 「code」, or a header written
    twice) are an error that names both, unless they hold the same values; the tool never picks
    one silently.
    """
    label = df.attrs.get("source")
    lookup = {}
    for canonical, names in aliases.items():
        for n in (canonical, *names):
            lookup[_key(n)] = canonical
    for dup, letters in (df.attrs.get("duplicate_columns") or {}).items():
        if _key(dup) in lookup:
            raise InputError(
                f"見出し「{dup}」の列が {len(letters)} つ（{'・'.join(letters)}列）あります。どちらを使うか決められないので、1つにしてください。",
                source=label,
            )
    mapping: dict[str, str] = {}
    first_of: dict[str, str] = {}
    drop: list[str] = []
    for col in df.columns:
        canonical = lookup.get(_key(col))
        if not canonical:
            continue
        if canonical in first_of:
            other = first_of[canonical]
            if df[other].astype("string").fillna("").equals(df[col].astype("string").fillna("")):
                drop.append(col)
                continue
            raise InputError(
                f"列「{other}」と列「{col}」は同じ項目（{aliases[canonical][0] if aliases[canonical] else canonical}）を表しています。"
                "どちらを使うか決められないので、一方の列を消すか名前を変えてください。",
                source=label,
            )
        first_of[canonical] = col
        mapping[col] = canonical
    out = df.drop(columns=drop).rename(columns=mapping)
    out.attrs = dict(df.attrs)
    out.attrs["headers"] = {**df.attrs.get("headers", {}), **{v: k for k, v in mapping.items()}}
    return out


def file_row(index_label: object) -> int | None:
    """Row number as the user sees it in Excel (header is row 1)."""
    if isinstance(index_label, (bool, np.bool_)):
        return None
    if isinstance(index_label, (int, np.integer)):
        return int(index_label) + 2 if index_label >= 0 else None
    text = str(index_label)
    return int(text) + 2 if text.isdigit() else None


# ---- numbers -------------------------------------------------------------------------------
#: Census placeholders: 「-」 means nobody (0); 「…」「X」「***」 mean not available (left empty).
ZERO_MARKS = ("-", "‐", "‑", "–", "—", "―", "−", "ー", "－")
MISSING_MARKS = ("…", "...", "‥", "x", "X", "***", "**", "*", "#N/A", "N/A", "NA", "n/a")


def to_numbers(df: pd.DataFrame, columns: list[str], *, label: str) -> pd.DataFrame:
    """Convert count columns to integers; name the first bad cell (row numbers as in the file).

    「1,234」 and 「１２３４」 are numbers, 「-」 is 0 (census style), 「…」「X」「***」 and empty cells
    are missing; negative, fractional and non-numeric values are errors.
    """
    out = df.copy()
    for col in columns:
        raw = df[col].astype("string").str.normalize("NFKC").str.strip()
        text = raw.str.replace(r"[,\s']", "", regex=True)
        zero = text.isin(ZERO_MARKS)
        missing = raw.isna() | (text == "") | text.isin(MISSING_MARKS)
        whole = text.str.fullmatch(r"\d+(\.0*)?").fillna(False).astype(bool)
        value = pd.to_numeric(text.where(whole).str.replace(r"\.0*$", "", regex=True), errors="coerce")
        huge = whole & ~(value <= MAX_COUNT).fillna(False).astype(bool)
        bad = ~(zero | missing | whole) | huge
        if bad.any():
            pos = np.flatnonzero(bad.to_numpy())
            first = df.index[pos[0]]
            shown = df[col].iloc[pos[0]]
            t = str(text.iloc[pos[0]])
            if re.fullmatch(r"[-−△▲]\d[\d.]*", t):
                why = "負の数です。人数は0以上にしてください"
            elif re.fullmatch(r"\d+\.\d+", t):
                why = "小数です。人数は整数にしてください"
            elif bool(huge.iloc[pos[0]]):
                why = "大きすぎます（日本の人口より多い）"
            else:
                why = "人数（0以上の整数）として読めません。数字だけにしてください（「-」は0とみなします）"
            more = f"（この列にはほかにも {len(pos) - 1} か所あります）" if len(pos) > 1 else ""
            header = df.attrs.get("headers", {}).get(col, col)  # the user's own header, not ours
            raise InputError(f"列「{header}」の値「{str(shown)[:20]}」は{why}。{more}", source=label, row=file_row(first))
        nums = value.where(whole, 0).where(~missing)
        out[col] = pd.array(nums.round().astype("Float64"), dtype="Float64").astype("Int64")
    return out
