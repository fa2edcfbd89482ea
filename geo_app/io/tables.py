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
import os
import posixpath
import re
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, NamedTuple, TypeVar

import numpy as np
import pandas as pd

from geo_app.core.errors import GeoAppError, InputError

__all__ = [
    "read_table",
    "rename_columns",
    "to_numbers",
    "file_row",
    "MAX_TABLE_BYTES",
    "MAX_TABLE_ROWS",
    "TableSource",
    "japanese_errors",
    "column_letter",
    "as_text_frame",
    "protect_text",
    "unprotect_text",
]

MAX_TABLE_BYTES = 50 * 1024 * 1024  # a municipality table is a few hundred kB; 50 MB is surely a wrong file
MAX_TABLE_ROWS = 100_000  # Japan has 1,916 municipalities and wards
MAX_TABLE_COLUMNS = 2_000
MAX_XLSX_UNZIPPED = 400 * 1024 * 1024  # guards against a zip bomb posing as a workbook
#: Workbook limits, checked on the sheet XML (streaming) before openpyxl builds a single cell: a
#: municipality table is ~1,900 rows × tens (e-Stat: a few hundred) columns, i.e. < 1 million cells.
MAX_XLSX_CELLS = 3_000_000  # used range (rows × columns) of one sheet: 100,000 rows × 30, 1,916 × 1,500
MAX_XLSX_SHEET_BYTES = 256 * 1024 * 1024  # one sheet's XML once unzipped (≈ 40–80 bytes a cell)
MAX_XLSX_SHARED_STRINGS = 1_000_000  # distinct texts in the workbook (a real table has a few thousand)
MAX_XLSX_STRINGS_BYTES = 64 * 1024 * 1024  # sharedStrings.xml once unzipped (openpyxl loads it whole)
MAX_XLSX_PART_BYTES = 32 * 1024 * 1024  # any other XML part openpyxl parses whole (styles, workbook …)
MAX_XLSX_CELL_CHARS = 32_767  # Excel's own limit for the text of one cell
MAX_COUNT = 200_000_000  # more people than Japan has: surely a wrong cell
TableSource = str | Path | bytes | BinaryIO

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


def _debug() -> bool:
    return bool(os.environ.get("GEO_APP_DEBUG"))


def japanese_errors(what: str, error: type[GeoAppError] = InputError, *, hint: str | None = None) -> Callable[[F], F]:
    """Decorator for the functions that parse a user's file: any exception that is not a GeoAppError
    becomes `error` ("check your file").

    The specific checks come first and say exactly what to fix; this is the last net, so that a
    planner never sees a traceback from a parser we did not foresee. Put it only around reading
    and interpreting the user's file, never around our own computation (areas, unions, joins):
    there an exception is our bug and must not be reported as a problem with the file. The
    original exception stays chained (`__cause__`), so GEO_APP_DEBUG=1 can show where it came from.
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
                    raise error(exc.message, source=exc.source, row=exc.row) from (exc if _debug() else None)
                raise
            except MemoryError as exc:
                raise error(
                    f"{what}が大きすぎて読み込めません。ファイルを確かめてください。", source=_label_of(args, kwargs)
                ) from (exc if _debug() else None)
            except Exception as exc:  # noqa: BLE001 - the point of this net
                raise error(
                    f"{what}を読み込めませんでした（{type(exc).__name__}）。"
                    f"{hint or '形式が正しいか確かめ、' + _SAVE_AS}",
                    source=_label_of(args, kwargs),
                ) from exc

        return wrapper  # type: ignore[return-value]

    return deco


# ---- bytes ----------------------------------------------------------------------------------
def _too_big(label: str, size: int | None = None) -> InputError:
    shown = (
        f"（{size / 1e6:.0f} MB、上限 {MAX_TABLE_BYTES / 1e6:.0f} MB）"
        if size
        else f"（上限 {MAX_TABLE_BYTES / 1e6:.0f} MB）"
    )
    return InputError(f"ファイルが大きすぎます{shown}。市町村ごとの表か確かめてください。", source=label)


def _read_bytes(source: TableSource, name: str | None) -> tuple[bytes, str]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        label = name or path.name or str(path)
        try:
            if not path.exists():
                raise InputError("ファイルが見つかりません。パスを確かめてください。", source=str(path))
            if path.is_dir():
                raise InputError(
                    "フォルダではなく、表のファイル（.csv か .xlsx）を指定してください。", source=str(path)
                )
            size = path.stat().st_size
            if size > MAX_TABLE_BYTES:
                raise _too_big(label, size)
            return path.read_bytes(), label
        except OSError as exc:
            raise InputError(
                f"ファイルを開けません（{exc.strerror or type(exc).__name__}）。", source=str(path)
            ) from None
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = name or _DEFAULT_LABEL
    elif hasattr(source, "read"):
        label = name or getattr(source, "name", None) or _DEFAULT_LABEL
        label = Path(str(label)).name or str(label)
        try:
            data = source.read(MAX_TABLE_BYTES + 1)
        except Exception as exc:  # noqa: BLE001 - a stream from a browser upload may fail in any way
            raise InputError(
                f"ファイルを読めません（{type(exc).__name__}）。もう一度選んでください。", source=label
            ) from exc
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
            "文字のファイルではありません（バイナリのようです）。"
            "CSV（UTF-8 または Shift_JIS）か Excel（.xlsx）で保存してください。",
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
                "文字のファイルではありません（制御文字が多く含まれています）。"
                "CSV か Excel（.xlsx）で保存してください。",
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
                raise InputError(
                    f"列が多すぎます（{len(row)} 列）。市町村ごとの表か確かめてください。", source=label, row=start
                )
            rows.append(row)
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        reason = "1つのセルが長すぎます" if "field larger" in str(exc) else '引用符（"）の対応がとれていません'
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
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# ---- XLSX limits, checked on the XML before openpyxl builds any cell ---------------------------
# openpyxl builds every cell of a row before we see it, and reads sharedStrings.xml whole: a 185 kB
# workbook holding one row of 6.3 million cells took about a minute and 3–4 GB before it was refused
# (the CLI now refuses it in ~2 s, its own start-up, at its start-up memory of ~140 MB). So the
# sheet XML is first read as a stream (expat, constant memory, nothing kept) and the workbook is
# refused at the first limit passed; openpyxl is then told exactly which rows and columns to build.
_EXCEL_MAX_COLUMNS = 16_384  # XFD
_EXCEL_MAX_ROWS = 1_048_576
_ONE_ROW_EACH = "区域案や人口表は市町村ごとに1行の表です（全国でも約1,900行、列は数十〜数百）。"
_COPY_TABLE = "表の部分だけを新しいブックに貼り付けて .xlsx で保存し直してください。"
_REL_NS_ID = "}id"


class _Refused(Exception):
    """Raised inside the streaming scan to stop at the first limit passed; becomes an InputError."""


class _Used(NamedTuple):
    """The part of a sheet that holds values: openpyxl is asked for these rows and columns only."""

    rows: int
    columns: int


_CELL_REF = re.compile(r"\$?([A-Za-z]{1,4})\$?([0-9]{1,9})")


def _cell_ref(ref: str) -> tuple[int, int] | None:
    """'AB12' → (column 28, row 12); None when it is not a cell reference."""
    m = _CELL_REF.fullmatch(ref.strip())
    if not m:
        return None
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return col, int(m.group(2))


def _mb(n: int) -> str:
    return f"{n / 1e6:,.0f} MB" if n >= 1e6 else f"{n / 1e6:.1f} MB"


def _member_chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, what: str) -> Iterator[bytes]:
    """The member's bytes in 1 MB pieces, refused once more than `cap` come out, whatever the zip's
    directory claims (a zip bomb may understate the size)."""
    if info.file_size > cap:
        raise _Refused(
            f"{what}が大きすぎます（展開すると {_mb(info.file_size)}、上限 {_mb(cap)}）。{_ONE_ROW_EACH}{_COPY_TABLE}"
        )
    seen = 0
    with zf.open(info) as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                return
            seen += len(chunk)
            if seen > cap:
                raise _Refused(
                    f"{what}が大きすぎます（展開すると {_mb(cap)} を超えます）。{_ONE_ROW_EACH}{_COPY_TABLE}"
                )
            yield chunk


def _expat_parser():
    """A namespace-aware expat parser that refuses DTDs (Excel never writes one; entities can explode)."""
    from xml.parsers import expat

    parser = expat.ParserCreate(namespace_separator="}")

    def doctype(*_args) -> None:
        raise _Refused(
            "Excel ファイルの中に文書型宣言（DOCTYPE）があります。Excel で作ったファイルではないようです。"
            "Excel で開いて .xlsx で保存し直してください。"
        )

    parser.StartDoctypeDeclHandler = doctype
    return parser


def _feed(parser, chunks: Iterable[bytes]) -> None:
    for chunk in chunks:
        parser.Parse(chunk, False)
    parser.Parse(b"", True)


_MAX_TEXT_BYTES = MAX_XLSX_CELL_CHARS * 8  # one cell's text as XML bytes (character references take up to 8)
_MAIN_NS = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
_TAGS = {f"{ns}}}{t}": t for ns in _MAIN_NS for t in ("c", "row", "v", "is", "t", "dimension", "si", "sst")}


@functools.lru_cache(maxsize=20_000)  # AAA…ZZZ at most (18,278)
def _column_number(letters: str) -> int:
    """'AB' → 28 (cached: a sheet has at most a few thousand distinct column letters)."""
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return col


def _scan_sheet(chunks: Iterable[bytes], sheet: str) -> _Used:
    """Stream one sheet's XML and refuse it at the first limit passed; the rows and columns in use.

    Checks the declared <dimension>, the position and number of <c> elements in every <row>, the
    last row and column holding a value, the cells in all, and the length of any text (as the
    bytes between two start tags, so no text is ever held). Only start tags are handled, to keep
    the pass at about a second per million cells. Cells without a value (formatting only) may lie
    beyond the used range; openpyxl is not asked for them.
    """
    row_limit = MAX_TABLE_ROWS + _HEADER_SCAN
    where = f"シート「{sheet}」"
    row = col = in_row = cells = last_row = last_col = 0
    declared = ""
    parser = _expat_parser()
    at = 0  # byte position of the last start tag

    def wide(at_row: int, reason: str) -> _Refused:
        shown = f"（シートの範囲 {declared}）" if declared else ""
        return _Refused(
            f"{where}の{at_row:,}行目{reason}、列の上限 {MAX_TABLE_COLUMNS:,} 列を超えています{shown}。"
            f"{_ONE_ROW_EACH}余分な列を消すか、{_COPY_TABLE}"
        )

    def too_long() -> _Refused:
        return _Refused(
            f"{where}の {max(row, 1):,} 行目あたりに、Excel の1セルの上限（{MAX_XLSX_CELL_CHARS:,} 文字）"
            "を超える長さの文字があります。"
            f"Excel で作ったファイルではないようです。{_COPY_TABLE}"
        )

    def start(name: str, attrs: dict) -> None:
        nonlocal row, col, in_row, cells, last_row, last_col, declared, at
        pos = parser.CurrentByteIndex
        if pos - at > _MAX_TEXT_BYTES:
            raise too_long()
        at = pos
        tag = _TAGS.get(name) or name[name.rfind("}") + 1 :]
        if tag == "c":
            ref = attrs.get("r")
            if ref:
                letters = ref.rstrip("0123456789")
                col = (
                    _column_number(letters)
                    if len(letters) <= 3 and letters.isascii() and letters.isalpha() and letters.isupper()
                    else ((_cell_ref(ref) or (col + 1, 0))[0])
                )
            else:
                col += 1
            in_row += 1
            cells += 1
            if in_row > _EXCEL_MAX_COLUMNS or col > _EXCEL_MAX_COLUMNS:
                raise wide(row, f"に {_EXCEL_MAX_COLUMNS:,} 個を超えるセルがあり（Excel の列数の上限より多く）")
            if cells > MAX_XLSX_CELLS:
                raise _Refused(
                    f"{where}のセルが多すぎます（{MAX_XLSX_CELLS:,} 個を超えます）。"
                    f"{_ONE_ROW_EACH}使っていない行と列を削除するか、{_COPY_TABLE}"
                )
        elif tag == "v" or tag == "is":  # the current cell holds a value
            if col > MAX_TABLE_COLUMNS:
                raise wide(row, f"の {column_letter(col - 1)} 列に値があり")
            if row > row_limit:
                raise _Refused(
                    f"{where}の {row:,} 行目に値があり、行の上限 {MAX_TABLE_ROWS:,} 行を超えています。"
                    f"{_ONE_ROW_EACH}余分な行を消すか、{_COPY_TABLE}"
                )
            if row > last_row:
                last_row = row
            if col > last_col:
                last_col = col
        elif tag == "row":
            r = attrs.get("r", "")
            row = int(r) if r.isdigit() and len(r) < 10 else row + 1
            col = in_row = 0
        elif tag == "dimension":
            declared = str(attrs.get("ref", ""))[:40]
            parsed = [_cell_ref(p) for p in declared.split(":")] if declared else []
            ends = [e for e in parsed if e is not None]
            if ends and len(ends) == len(parsed):
                columns, rows = max(e[0] for e in ends), max(e[1] for e in ends)
                if columns > _EXCEL_MAX_COLUMNS or rows > _EXCEL_MAX_ROWS:
                    raise _Refused(
                        f"{where}の範囲の宣言（{declared}: {rows:,} 行 × {columns:,} 列）が Excel の上限"
                        f"（{_EXCEL_MAX_ROWS:,} 行 × {_EXCEL_MAX_COLUMNS:,} 列）を超えています。"
                        f"Excel で作ったファイルではないようです。{_COPY_TABLE}"
                    )
                declared = f"{declared}、{rows:,} 行 × {columns:,} 列"

    parser.StartElementHandler = start
    _feed(parser, chunks)
    if parser.CurrentByteIndex - at > _MAX_TEXT_BYTES:
        raise too_long()
    if last_row * last_col > MAX_XLSX_CELLS:
        raise _Refused(
            f"{where}の表が大きすぎます（値のある範囲が {last_row:,} 行 × {last_col:,} 列、"
            f"上限 {MAX_XLSX_CELLS:,} セル）。"
            f"{_ONE_ROW_EACH}使っていない行と列を削除するか、{_COPY_TABLE}"
        )
    return _Used(last_row, last_col)


def _scan_shared_strings(chunks: Iterable[bytes]) -> None:
    """Refuse a shared-strings table openpyxl would load whole into memory: too many or too long texts."""
    count = at = 0
    parser = _expat_parser()

    def too_long() -> _Refused:
        return _Refused(
            f"Excel ファイルの中に、Excel の1セルの上限（{MAX_XLSX_CELL_CHARS:,} 文字）を超える長さの文字列があります。"
            f"Excel で作ったファイルではないようです。{_COPY_TABLE}"
        )

    def start(name: str, attrs: dict) -> None:
        nonlocal count, at
        pos = parser.CurrentByteIndex
        if pos - at > _MAX_TEXT_BYTES:
            raise too_long()
        at = pos
        tag = _TAGS.get(name) or name[name.rfind("}") + 1 :]
        if tag == "si":
            count += 1
            if count > MAX_XLSX_SHARED_STRINGS:
                raise _Refused(
                    f"Excel ファイルの中の文字列が多すぎます（{MAX_XLSX_SHARED_STRINGS:,} 個を超えます）。"
                    f"{_ONE_ROW_EACH}{_COPY_TABLE}"
                )
        elif tag == "sst":
            declared = str(attrs.get("uniqueCount", ""))
            if declared.isdigit() and int(declared) > MAX_XLSX_SHARED_STRINGS:
                raise _Refused(
                    f"Excel ファイルの中の文字列が多すぎます（{int(declared):,} 個、"
                    f"上限 {MAX_XLSX_SHARED_STRINGS:,} 個）。"
                    f"{_ONE_ROW_EACH}{_COPY_TABLE}"
                )

    parser.StartElementHandler = start
    _feed(parser, chunks)
    if parser.CurrentByteIndex - at > _MAX_TEXT_BYTES:
        raise too_long()


def _small_xml(zf: zipfile.ZipFile, name: str):
    """A small XML part (workbook, relationships) as an ElementTree element, within its byte cap."""
    import xml.etree.ElementTree as ET

    class NoDoctype(ET.TreeBuilder):
        def doctype(self, *_args) -> None:
            raise _Refused(
                "Excel ファイルの中に文書型宣言（DOCTYPE）があります。Excel で作ったファイルではないようです。"
                "Excel で開いて .xlsx で保存し直してください。"
            )

    parser = ET.XMLParser(target=NoDoctype())
    for chunk in _member_chunks(zf, zf.getinfo(name), MAX_XLSX_PART_BYTES, f"Excel ファイルの部品「{name}」"):
        parser.feed(chunk)
    return parser.close()


def _local(tag: str) -> str:
    return tag[tag.rfind("}") + 1 :]


def _xlsx_parts(zf: zipfile.ZipFile, names: set[str]) -> tuple[dict[str, str], set[str]]:
    """Sheet name → its worksheet XML, as openpyxl resolves them (workbook.xml and its relationships),
    and the shared-strings parts. Any worksheet-like part not named there is scanned too."""
    sheets: dict[str, str] = {}
    strings = {n for n in names if n.lower() == "xl/sharedstrings.xml"}
    rels_name = "xl/_rels/workbook.xml.rels"
    targets: dict[str, tuple[str, str]] = {}
    if rels_name in names:
        for rel in _small_xml(zf, rels_name).iter():
            if _local(rel.tag) != "Relationship":
                continue
            target = str(rel.get("Target", ""))
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            kind = str(rel.get("Type", "")).rsplit("/", 1)[-1]
            targets[str(rel.get("Id", ""))] = (kind, path)
            if kind == "sharedStrings" and path in names:
                strings.add(path)
    for el in _small_xml(zf, "xl/workbook.xml").iter():
        if _local(el.tag) != "sheet":
            continue
        rid = next((v for k, v in el.attrib.items() if k.endswith(_REL_NS_ID) or k == "id"), None)
        kind, path = targets.get(str(rid), ("", ""))
        if kind == "worksheet" and path in names:
            sheets[str(el.get("name", ""))] = path
    return sheets, strings


def _check_xlsx(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], label: str) -> dict[str, _Used]:
    """Refuse a workbook beyond the limits before openpyxl opens it; the used range of each sheet.

    Costs one streaming pass over the sheet XML with nothing kept: a refused workbook is refused
    in well under a second and a few MB, however many cells it claims.
    """
    from xml.parsers import expat

    names = {i.filename for i in infos}
    try:
        sheets, strings = _xlsx_parts(zf, names)
        sheet_parts = set(sheets.values()) | {
            n for n in names if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n, flags=re.IGNORECASE)
        }
        for info in infos:  # every other XML part openpyxl parses whole
            low = info.filename.lower()
            if (
                low.endswith((".xml", ".rels"))
                and info.filename not in sheet_parts | strings
                and info.file_size > MAX_XLSX_PART_BYTES
            ):
                raise _Refused(
                    f"Excel ファイルの部品「{info.filename}」が大きすぎます（展開すると {_mb(info.file_size)}、"
                    f"上限 {_mb(MAX_XLSX_PART_BYTES)}）。{_COPY_TABLE}"
                )
        for name in sorted(strings):
            _scan_shared_strings(
                _member_chunks(zf, zf.getinfo(name), MAX_XLSX_STRINGS_BYTES, "Excel ファイルの中の文字列の表")
            )
        by_part = {path: title for title, path in sheets.items()}
        used: dict[str, _Used] = {}
        for part in sorted(sheet_parts):
            title = by_part.get(part, posixpath.basename(part))
            what = f"シート「{title}」"
            used[part] = _scan_sheet(_member_chunks(zf, zf.getinfo(part), MAX_XLSX_SHEET_BYTES, what), title)
    except _Refused as exc:
        raise InputError(str(exc), source=label) from None
    except (
        expat.ExpatError,
        SyntaxError,
        zipfile.BadZipFile,
        zlib.error,
        OSError,
        EOFError,
        RuntimeError,
        NotImplementedError,
    ):
        # broken XML (ExpatError; ElementTree's ParseError is a SyntaxError), a bad CRC (BadZipFile), a
        # broken deflate stream (zlib.error), an encrypted member (RuntimeError); nothing of our own
        raise InputError(
            "Excel ファイルが壊れているか途中で切れています。Excel で開いて保存し直してください。", source=label
        ) from None
    widest = _Used(max((u.rows for u in used.values()), default=0), max((u.columns for u in used.values()), default=0))
    return {title: used.get(path, widest) for title, path in sheets.items()} | {"": widest}


def _xlsx_rows(data: bytes, label: str, hints: list[str]) -> tuple[list[list[str | None]], list[int], str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            unzipped = sum(i.file_size for i in infos)
            broken = zf.testzip() if unzipped <= MAX_XLSX_UNZIPPED else None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, RuntimeError, NotImplementedError):
        raise InputError(
            "Excel ファイルが壊れているか途中で切れています。Excel で開いて保存し直してください。", source=label
        ) from None
    if broken is not None:
        raise InputError(
            "Excel ファイルが壊れているか途中で切れています。Excel で開いて保存し直してください。", source=label
        )
    if "xl/workbook.xml" not in names:
        if "content.xml" in names:
            raise InputError(
                "LibreOffice などの .ods ファイルは読めません。.xlsx か CSV で保存し直してください。", source=label
            )
        if any(n.lower().endswith((".shp", ".geojson", ".gpkg", ".dbf")) for n in names):
            raise InputError(
                "これは境界データ（地図）の zip のようです。表（.csv / .xlsx）を指定してください。", source=label
            )
        raise InputError(
            "Excel（.xlsx）ファイルではない zip です。表（.csv / .xlsx）を指定してください。", source=label
        )
    if unzipped > MAX_XLSX_UNZIPPED:
        raise _too_big(label)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        used = _check_xlsx(zf, infos, label)
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for broken files
        raise InputError(
            f"Excel ファイルを開けません（{type(exc).__name__}）。Excel で開き直して .xlsx で保存してください。",
            source=label,
        ) from exc
    try:
        sheets = [ws for ws in wb.worksheets if hasattr(ws, "iter_rows")]
        if not sheets:
            raise InputError("Excel ファイルに表のシートがありません。", source=label)
        chosen = None
        if hints and len(sheets) > 1:
            for ws in sheets:
                head = _sheet_rows(ws, label, used.get(ws.title, used[""]), limit=_HEADER_SCAN)[0]
                if _header_at(head, hints) is not None:
                    chosen = ws
                    break
        ws = chosen or sheets[0]
        rows, numbers = _sheet_rows(ws, label, used.get(ws.title, used[""]))
        return rows, numbers, ws.title
    finally:
        wb.close()


def _sheet_rows(ws, label: str, used: _Used, *, limit: int | None = None) -> tuple[list[list[str | None]], list[int]]:
    """The sheet's values within its used range (`_check_xlsx`): openpyxl would otherwise pad every
    row to the declared <dimension>, however wide a file claims to be."""
    rows: list[list[str | None]] = []
    numbers: list[int] = []
    if not used.rows or not used.columns:
        return rows, numbers
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for n, values in enumerate(
                ws.iter_rows(max_row=used.rows, max_col=used.columns, values_only=True), start=1
            ):
                if limit is not None and len(rows) >= limit:
                    break
                if n > MAX_TABLE_ROWS + _HEADER_SCAN:
                    if any(v is not None for v in values):
                        raise InputError(
                            f"行が多すぎます（上限 {MAX_TABLE_ROWS:,} 行）。市町村ごとの表か確かめてください。",
                            source=label,
                        )
                    break
                cells = [_cell_text(v) for v in values[: MAX_TABLE_COLUMNS + 1]]
                if len(cells) > MAX_TABLE_COLUMNS and any(c is not None for c in cells[MAX_TABLE_COLUMNS:]):
                    raise InputError("列が多すぎます。市町村ごとの表か確かめてください。", source=label, row=n)
                rows.append(cells)
                numbers.append(n)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - broken sheet XML surfaces only while iterating
        raise InputError(
            f"Excel ファイルのシートを読めません（{type(exc).__name__}）。"
            "Excel で開き直して .xlsx で保存してください。",
            source=label,
        ) from exc
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


def _header_at(rows: Sequence[Sequence[str | None]], hints: list[str]) -> int | None:
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
    rows: Sequence[Sequence[str | None]], numbers: list[int], label: str, *, hints: list[str], strict_width: bool
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
    body = [(numbers[i], r) for i, r in enumerate(rows[h + 1 :], start=h + 1) if not all(_blank(v) for v in r)]
    if not body:
        raise InputError(
            "データの行がありません（見出し行だけです）。2行目から市町村ごとの行を入れてください。", source=label
        )
    width = len(header)
    if strict_width:
        for line, r in body:
            extra = [v for v in r[width:] if not _blank(v)]
            if extra:
                used = max(j for j, v in enumerate(r) if not _blank(v)) + 1
                raise InputError(
                    f"この行は見出しより列が多くなっています（見出し {width} 列、この行 {used} 列）。"
                    '「1,234」のように値にカンマがあるなら、カンマを消すか値を「"」で囲んでください。',
                    source=label,
                    row=line,
                )
    full = max(width, max(len(r) for _, r in body))
    cells = [
        [None if _blank(v) else str(v).strip() for v in (list(r) + [None] * (full - len(r)))[:full]] for _, r in body
    ]
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
            "古い Excel 形式（.xls）か、パスワード付きの Excel ファイルです。"
            "パスワードを外し、「Excel ブック（.xlsx）」で保存し直してください。",
            source=label,
        )
    else:
        text, encoding = _decode(data, label)
        lead = text.lstrip("\ufeff \t\r\n")[:100].lower()
        if lead.startswith(("<html", "<!doctype", "<?xml", "<table")):
            raise InputError("HTML / XML のファイルです。" + _SAVE_AS, source=label)
        if lead.startswith(("{", "[")) and ('"type"' in text[:2000] or '"features"' in text[:2000]):
            raise InputError(
                "これは境界データ（GeoJSON）のようです。表（.csv / .xlsx）を指定してください。", source=label
            )
        csv_rows, numbers, delimiter = _csv_rows(text, label)
        df = _frame(csv_rows, numbers, label, hints=hints, strict_width=True)
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
            risky = text.str.startswith(_FORMULA_START).fillna(False) & text.str.contains(r"\D", regex=True).fillna(
                False
            )
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
    lookup: dict[str, str] = {}
    for canon, names in aliases.items():
        for n in (canon, *names):
            lookup[_key(n)] = canon
    for dup, letters in (df.attrs.get("duplicate_columns") or {}).items():
        if _key(dup) in lookup:
            raise InputError(
                f"見出し「{dup}」の列が {len(letters)} つ（{'・'.join(letters)}列）あります。"
                "どちらを使うか決められないので、1つにしてください。",
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
                f"列「{other}」と列「{col}」は同じ項目（{aliases[canonical][0] if aliases[canonical] else canonical}）"
                "を表しています。"
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
            raise InputError(
                f"列「{header}」の値「{str(shown)[:20]}」は{why}。{more}", source=label, row=file_row(first)
            )
        nums = value.where(whole, 0).where(~missing)
        out[col] = pd.array(nums.round().astype("Float64"), dtype="Float64").astype("Int64")
    return out
