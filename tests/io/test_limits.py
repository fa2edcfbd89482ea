"""Names are data: limits are checked before parsing, and the input guard wraps only parsing.

A workbook is refused from its sheet XML, streamed, before openpyxl builds any cell (the 185 kB
workbook with one row of 6.3 million cells used to take a minute and gigabytes to be refused);
real tables (the embedded census and Hokkaido plan) still read exactly. Our own exceptions in
computation are not dressed up as problems with the user's file.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import geo_app.io.municipalities as municipalities
import geo_app.io.tables as tables
from geo_app import InputError, PlanError, load_municipalities, load_plan, load_population
from geo_app.io.tables import MAX_TABLE_COLUMNS, read_table

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
ROOT = Path(__file__).resolve().parents[2]


def raw_xlsx(
    sheet_body: bytes | list[bytes], *, dimension: str | None = None, strings: bytes | None = None, head: bytes = b""
) -> bytes:
    """A workbook written as XML, the way a hostile (or just odd) program would: nothing checked."""
    rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/>'
        + (
            '<Relationship Id="rId2" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
            'Target="sharedStrings.xml"/>'
            if strings is not None
            else ""
        )
        + "</Relationships>"
    )
    types = (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        + (
            '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            if strings is not None
            else ""
        )
        + "</Types>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", types)
        zf.writestr(
            "_rels/.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        zf.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{NS}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="表" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        zf.writestr("xl/_rels/workbook.xml.rels", rels)
        if strings is not None:
            zf.writestr("xl/sharedStrings.xml", strings)
        with zf.open("xl/worksheets/sheet1.xml", "w") as f:
            f.write(head + f'<worksheet xmlns="{NS}">'.encode())
            if dimension:
                f.write(f'<dimension ref="{dimension}"/>'.encode())
            f.write(b"<sheetData>")
            for part in [sheet_body] if isinstance(sheet_body, bytes) else sheet_body:
                f.write(part)
            f.write(b"</sheetData></worksheet>")
    return buf.getvalue()


def one_wide_row(cells: int) -> list[bytes]:
    """One row of `cells` numbers: 6.3 million of them compress to ~185 kB."""
    chunk = b"<c><v>1</v></c>" * 100_000
    return [b'<row r="1">', *([chunk] * (cells // 100_000)), b"<c><v>1</v></c>" * (cells % 100_000), b"</row>"]


@pytest.fixture
def no_openpyxl(monkeypatch) -> list:
    """Records every workbook openpyxl is asked to open: a refused file must not get that far."""
    opened: list = []
    real = openpyxl.load_workbook

    def spy(*args, **kwargs):
        opened.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", spy)
    return opened


def shared_strings_xlsx(frame: pd.DataFrame, *, declare: bool = True) -> bytes:
    """A table saved the way Excel saves it: every text in the shared-strings part, cells pointing there."""
    from xml.sax.saxutils import escape

    texts: dict[str, int] = {}
    rows = []
    for r, values in enumerate(
        [list(frame.columns), *frame.astype(object).where(frame.notna(), None).values.tolist()], 1
    ):
        cells = []
        for c, v in enumerate(values):
            if v is not None:
                i = texts.setdefault(str(v), len(texts))
                cells.append(f'<c r="{tables.column_letter(c)}{r}" t="s"><v>{i}</v></c>')
        rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    counts = f' count="{len(texts)}" uniqueCount="{len(texts)}"' if declare else ""
    sst = f'<sst xmlns="{NS}"{counts}>' + "".join(f"<si><t>{escape(t)}</t></si>" for t in texts) + "</sst>"
    return raw_xlsx("".join(rows).encode(), strings=sst.encode(), dimension=f"A1:G{len(frame) + 1}")


def plan_xlsx(plan, *, extra=None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    t = plan.to_japanese_frame()
    ws.append(list(t.columns))
    for row in t.astype(object).where(t.notna(), None).values.tolist():
        ws.append(row)
    if extra:
        extra(ws)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---- A. limits before parsing -------------------------------------------------------------------
def test_one_row_of_6_3_million_cells_is_refused_before_any_cell_is_built(tmp_path, no_openpyxl):
    data = raw_xlsx(one_wide_row(6_300_000))
    assert len(data) < 250_000  # the reproduction: a small file
    path = tmp_path / "wide.xlsx"
    path.write_bytes(data)
    for reader in (read_table, load_population, load_plan):
        with pytest.raises(InputError) as err:
            reader(path)
        text = str(err.value)
        assert "wide.xlsx" in text and "1行目" in text and f"{MAX_TABLE_COLUMNS:,} 列" in text, text
        assert "市町村ごとに1行" in text and "Traceback" not in text
    assert isinstance(err.value, PlanError)  # load_plan's kind of InputError
    assert no_openpyxl == []  # refused from the XML, before openpyxl


def test_the_cli_refuses_the_wide_workbook_with_exit_2(tmp_path):
    path = tmp_path / "wide.xlsx"
    path.write_bytes(raw_xlsx(one_wide_row(6_300_000)))
    p = subprocess.run(
        [sys.executable, "-m", "geo_app.cli", "summary", "--plan", str(path), "--quiet"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "GEO_APP_DEBUG": ""},
    )
    assert p.returncode == 2, p.stderr
    assert "列の上限 2,000 列" in p.stderr and "Traceback" not in p.stderr


def test_one_value_far_to_the_right_is_named_by_its_column(no_openpyxl):
    body = b'<row r="1"><c r="A1" t="inlineStr"><is><t>code</t></is></c><c r="XFD1"><v>1</v></c></row>'
    with pytest.raises(InputError, match="XFD 列に値があり"):
        read_table(raw_xlsx(body), name="x.xlsx")
    with pytest.raises(InputError, match="Excel の上限"):  # a declared range no Excel can have
        read_table(raw_xlsx(b'<row r="1"><c><v>1</v></c></row>', dimension="A1:XFE1"), name="x.xlsx")
    too_many = b'<row r="1">' + b"<c/>" * 16_385 + b"</row>"  # formatting-only cells, more than Excel has columns
    with pytest.raises(InputError, match="16,384 個を超えるセル"):
        read_table(raw_xlsx(too_many), name="x.xlsx")
    assert no_openpyxl == []


def test_a_value_below_the_row_limit_is_refused():
    body = b'<row r="1"><c><v>1</v></c></row><row r="200000"><c><v>2</v></c></row>'
    with pytest.raises(InputError, match="200,000 行目に値があり、行の上限 100,000 行"):
        read_table(raw_xlsx(body), name="x.xlsx")


def test_cells_and_used_range_have_a_ceiling(monkeypatch, census):
    monkeypatch.setattr(tables, "MAX_XLSX_CELLS", 1_000)
    pop = census[["code", "name", "population"]]
    buf = io.BytesIO()
    pop.to_excel(buf, index=False)
    with pytest.raises(InputError, match="セルが多すぎます（1,000 個を超えます）"):
        load_population(buf.getvalue(), name="pop.xlsx")
    sparse = b'<row r="1"><c><v>1</v></c></row><row r="200"><c r="CV200"><v>1</v></c></row>'
    with pytest.raises(InputError, match="値のある範囲が 200 行 × 100 列"):
        read_table(raw_xlsx(sparse), name="x.xlsx")


def test_shared_strings_are_counted_before_openpyxl_loads_them(monkeypatch, hokkaido_plan, no_openpyxl):
    data = shared_strings_xlsx(hokkaido_plan.to_japanese_frame())
    assert load_plan(data, name="p.xlsx").table.equals(hokkaido_plan.table)
    monkeypatch.setattr(tables, "MAX_XLSX_SHARED_STRINGS", 100)  # the plan has ~200 distinct names
    opened = len(no_openpyxl)
    with pytest.raises(PlanError, match="文字列が多すぎます（409 個、上限 100 個）"):  # as the file declares
        load_plan(data, name="p.xlsx")
    with pytest.raises(PlanError, match="文字列が多すぎます（100 個を超えます）"):  # as counted, when it does not
        load_plan(shared_strings_xlsx(hokkaido_plan.to_japanese_frame(), declare=False), name="p.xlsx")
    claim = f'<sst xmlns="{NS}" uniqueCount="50000000"><si><t>a</t></si></sst>'.encode()
    with pytest.raises(InputError, match="50,000,000 個、上限 100 個"):
        read_table(raw_xlsx(b'<row r="1"><c t="s"><v>0</v></c></row>', strings=claim), name="x.xlsx")
    assert len(no_openpyxl) == opened


def test_zip_bombs_are_refused_by_their_unzipped_size(monkeypatch, no_openpyxl):
    monkeypatch.setattr(tables, "MAX_XLSX_STRINGS_BYTES", 1 << 20)
    monkeypatch.setattr(tables, "MAX_XLSX_SHEET_BYTES", 1 << 20)
    strings = f'<sst xmlns="{NS}"><si><t>a</t></si>'.encode() + b" " * (2 << 20) + b"</sst>"
    data = raw_xlsx(b'<row r="1"><c t="s"><v>0</v></c></row>', strings=strings)
    assert len(data) < 20_000
    with pytest.raises(InputError, match="文字列の表が大きすぎます（展開すると 2 MB、上限 1 MB）"):
        read_table(data, name="x.xlsx")
    sheet = raw_xlsx([b'<row r="1"><c><v>1</v></c></row>', b"<!-- -->" * (300_000)])
    with pytest.raises(InputError, match="シート「表」が大きすぎます"):
        read_table(sheet, name="x.xlsx")
    assert no_openpyxl == []


def test_dtd_entities_and_endless_text_are_refused(no_openpyxl):
    laughs = b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    with pytest.raises(InputError, match="DOCTYPE"):
        read_table(raw_xlsx(b'<row r="1"><c t="inlineStr"><is><t>&b;</t></is></c></row>', head=laughs), name="x.xlsx")
    long_text = b'<row r="1"><c t="inlineStr"><is><t>' + "あ".encode() * 300_000 + b"</t></is></c></row>"
    with pytest.raises(InputError, match="32,767 文字"):
        read_table(raw_xlsx(long_text), name="x.xlsx")
    assert no_openpyxl == []


def test_formatting_beyond_the_table_is_not_read(hokkaido_plan):
    """Cells with only a style out to column 5,000 (Excel's used range says so): the table reads as it is."""

    def styled(ws):
        for col in (8, 1_000, 5_000):
            ws.cell(row=1, column=col).fill = openpyxl.styles.PatternFill("solid", fgColor="FFFF00")

    data = plan_xlsx(hokkaido_plan, extra=styled)
    assert openpyxl.load_workbook(io.BytesIO(data), read_only=True).active.max_column == 5_000
    df = read_table(data, name="p.xlsx")
    assert df.shape == (179, 7)
    assert load_plan(data, name="p.xlsx").table.equals(hokkaido_plan.table)


def test_an_estat_sized_sheet_still_reads(census):
    """All 1,916 municipalities and wards, title rows above, 300 columns: e-Stat's size, well inside the limits."""
    filler = pd.DataFrame({f"項目{j}": census["population"] % (j + 7) for j in range(296)})
    wide = pd.concat([census[["code", "name", "population", "age_65_plus"]], filler], axis=1)
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("表2-7-1")
    ws.append(["令和2年国勢調査 人口等基本集計"])
    ws.append([])
    ws.append(list(wide.columns))
    for row in wide.itertuples(index=False):
        ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    pop = load_population(buf.getvalue(), name="estat.xlsx")
    assert len(pop) == 1_916 and int(pop["population"].sum()) == int(census["population"].sum())
    assert pop.set_index("code").loc["01100", "age_65_plus"] == census.set_index("code").loc["01100", "age_65_plus"]


# ---- C. the input guard wraps only parsing ---------------------------------------------------------
def test_a_bug_in_the_km2_code_is_not_called_a_boundary_file_problem(monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("area")

    monkeypatch.setattr(municipalities, "area_km2", broken)
    for debug in ("", "1"):
        monkeypatch.setenv("GEO_APP_DEBUG", debug)
        with pytest.raises(KeyError, match="area"):
            load_municipalities(prefectures=["鳥取県"])


def test_a_bug_in_our_embedded_census_is_not_called_a_table_problem(monkeypatch):
    import geo_app.io.population as population

    def broken():
        raise KeyError("code")

    monkeypatch.setattr(population, "_embedded", broken)
    with pytest.raises(KeyError):
        load_population("census2020")


def test_a_broken_user_file_is_still_an_input_error(tmp_path):
    path = tmp_path / "N03.geojson"
    path.write_bytes(b"{not json")
    with pytest.raises(InputError, match="N03.geojson"):
        load_municipalities(path)
    pts = tmp_path / "points.geojson"
    pts.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"N03_007":"01100"},'
        '"geometry":{"type":"Point","coordinates":[141.35,43.06]}}]}'
    )
    with pytest.raises(InputError, match="ポリゴン"):
        load_municipalities(pts)


def test_the_converted_error_keeps_its_cause_for_debugging(monkeypatch):
    """An exception the parser did not foresee becomes an InputError, with the original chained."""

    def surprise(*args, **kwargs):
        raise KeyError("列")

    monkeypatch.setattr(tables, "_frame", surprise)
    for debug in ("", "1"):
        monkeypatch.setenv("GEO_APP_DEBUG", debug)
        with pytest.raises(InputError, match="KeyError") as err:
            read_table(b"code,name\n01100,x\n", name="t.csv")
        assert isinstance(err.value.__cause__, KeyError)

    def full(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(tables, "_frame", full)
    monkeypatch.setenv("GEO_APP_DEBUG", "1")
    with pytest.raises(InputError, match="大きすぎて") as err:
        read_table(b"code,name\n01100,x\n", name="t.csv")
    assert isinstance(err.value.__cause__, MemoryError)
    monkeypatch.setenv("GEO_APP_DEBUG", "")
    with pytest.raises(InputError) as err:
        read_table(b"code,name\n01100,x\n", name="t.csv")
    assert err.value.__cause__ is None and err.value.__suppress_context__
