"""The Excel summary and summary.csv as people print and open them, on real data.

Widths are checked against the cells as Excel shows them, worked out here from each cell's own
number format (not from the writer's helpers); the print setup from the saved XML; the footer by
reading its Excel codes the way Excel does; and, where LibreOffice is installed, the printout.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shutil
import subprocess
import unicodedata
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pandas as pd
import pytest

from geo_app import load_municipalities, load_plan
from geo_app.cli import main
from geo_app.core.plan import LEVEL_JA, Plan
from geo_app.core.rules import RULES, ValidationOptions, findings_frame, validate
from geo_app.views.xlsx import FUTURE_SHEETS, future_note, write_summary_xlsx

LEVEL_SHEETS = ("在宅医療圏", "二次医療圏", "三次医療圏")
OUR_SHEETS = (*LEVEL_SHEETS, "市町村", "所見")
ENGLISH_LEVELS = ("homecare", "secondary", "tertiary", "municipality", "prefecture")
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def _load(name: str, pref: str):
    plan = load_plan(name)
    return load_municipalities(prefectures=[pref], keep_wards_of=plan.ward_cities), plan


@pytest.fixture(scope="module")
def hokkaido():
    return _load("hokkaido-2024", "北海道")


@pytest.fixture(scope="module")
def workbooks(hokkaido, tmp_path_factory) -> dict[str, Path]:
    """summary.xlsx of hokkaido-2024 and secondary-2020:東京都, with all their findings."""
    out = tmp_path_factory.mktemp("xlsx")
    paths = {}
    for key, (munis, plan) in {"hokkaido": hokkaido, "tokyo": _load("secondary-2020:東京都", "東京都")}.items():
        findings = validate(munis, plan, ValidationOptions(population_floor=30_000))
        paths[key] = write_summary_xlsx(munis, plan, out / f"{key}.xlsx", findings=findings)
    return paths


# ---- what a cell shows -------------------------------------------------------------------------
def _half_up(value: float, places: int) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def shown(cell) -> str:
    """The text Excel shows for `cell` under its number format (the formats this workbook uses)."""
    v, fmt = cell.value, cell.number_format
    if v is None:
        return ""
    if isinstance(v, str) or fmt in ("@", "General"):
        return str(v)
    if fmt == "#,##0":
        return f"{_half_up(v, 0):,}"
    if m := re.fullmatch(r"#,##0\.(0+)", fmt):
        return f"{_half_up(v, len(m.group(1))):,}"
    if m := re.fullmatch(r"0\.(0+)%", fmt):
        return f"{_half_up(v * 100, len(m.group(1)))}%"
    raise AssertionError(f"{cell.coordinate}: number format {fmt!r} not known to this test")


def width(text: str) -> int:
    """Excel column units: a full-width (or ambiguous, ² ×) character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)


def overflowing(ws) -> list[str]:
    """Cells whose shown text is wider than their column (less Excel's padding); wrapped cells
    instead need a row tall enough for the lines the text must take at the least."""
    bad = []
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            text = shown(cell)
            col = ws.column_dimensions[cell.column_letter].width
            if cell.alignment.wrap_text:
                lines = math.ceil(width(text) / (col - 1))
                height = ws.row_dimensions[cell.row].height or 15
                if height < 15 * lines:
                    bad.append(f"{cell.coordinate} {lines} lines in {height} pt")
            elif width(text) > col - 2:
                bad.append(f"{cell.coordinate} {text!r} ({width(text)}) > {col}")
    for cell in ws[1]:  # headers wrap onto two lines, in a row made two lines tall
        col = ws.column_dimensions[cell.column_letter].width
        if width(str(cell.value)) > col - 2 and (
            math.ceil(width(str(cell.value)) / 2) > col - 2 or (ws.row_dimensions[1].height or 15) < 30
        ):
            bad.append(f"header {cell.coordinate} {cell.value!r} > {col}")
    return bad


# ---- widths ------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["hokkaido", "tokyo"])
def test_every_cell_fits_its_column_as_shown_total_row_included(workbooks, key):
    wb = openpyxl.load_workbook(workbooks[key])
    for name in OUR_SHEETS:
        assert overflowing(wb[name]) == [], name
    for name in LEVEL_SHEETS:
        ws = wb[name]
        total = ws[ws.max_row]
        assert total[0].value == "合計"
        header = [c.value for c in ws[1]]
        pop = total[header.index("人口")]
        # the 合計 is the widest figure of its column: it is what used to show as ###
        assert width(shown(pop)) == max(width(shown(c)) for c in next(ws.iter_cols(pop.column, pop.column, 2)))
        assert width(shown(pop)) <= ws.column_dimensions[pop.column_letter].width - 2


def test_tokyo_total_that_showed_hashes_now_fits(workbooks):
    ws = openpyxl.load_workbook(workbooks["tokyo"])["在宅医療圏"]
    header = [c.value for c in ws[1]]
    cell = ws.cell(ws.max_row, header.index("0〜14歳") + 1)
    # 東京都 2020: 0〜14歳 summed over the home-care areas (the column LibreOffice drew as ###)
    assert cell.value == sum(ws.cell(r, cell.column).value for r in range(2, ws.max_row))
    assert cell.value > 1_000_000 and width(shown(cell)) + 2 <= ws.column_dimensions[cell.column_letter].width


@pytest.mark.parametrize("key", ["hokkaido", "tokyo"])
def test_future_sheets_every_figure_fits_and_headers_have_their_lines(workbooks, key):
    """The 将来推計 tables (areas and 合計) as shown fit their columns; a header wraps on the lines
    its row is tall for; the note lines below, not wrapped, read on across the empty cells."""
    wb = openpyxl.load_workbook(workbooks[key])
    for name in FUTURE_SHEETS.values():
        ws = wb[name]
        end = next(c.row for c in ws["A"] if c.value == "合計")
        table = [row for row in ws.iter_rows(min_row=2, max_row=end)]
        bad = [
            f"{c.coordinate} {shown(c)!r}"
            for row in table
            for c in row
            if width(shown(c)) > ws.column_dimensions[c.column_letter].width - 2
        ]
        assert bad == [], name
        for cell in ws[1]:
            col = ws.column_dimensions[cell.column_letter].width
            lines = math.ceil(width(str(cell.value)) / (col - 2))
            assert lines <= 4 and (ws.row_dimensions[1].height or 15) >= 15 * lines, (name, cell.value, col)
        note = [ws.cell(r, 2).value for r in range(end + 1, ws.max_row + 1) if ws.cell(r, 2).value]
        assert note == future_note()
        assert all(ws.cell(r, c).value is None for r in range(end + 1, ws.max_row + 1) for c in (1, *range(3, 9)))


# ---- print setup -------------------------------------------------------------------------------
def footer_parts(code: str) -> dict[str, str]:
    """Read an Excel header/footer string as Excel does: &L/&C/&R sections, && a literal &,
    &P/&N/&A fields, &"font" and &nn size codes; anything else after & fails the test."""
    parts, side, i = {"L": "", "C": "", "R": ""}, "C", 0
    fields = {"P": "{page}", "N": "{pages}", "A": "{sheet}"}
    while i < len(code):
        ch = code[i]
        if ch != "&":
            parts[side] += ch
            i += 1
            continue
        nxt = code[i + 1]
        if nxt == "&":
            parts[side] += "&"
            i += 2
        elif nxt in "LCR":
            side, i = nxt, i + 2
        elif nxt in fields:
            parts[side] += fields[nxt]
            i += 2
        elif m := re.match(r"\d+ ?", code[i + 1 :]):
            i += 1 + len(m.group())
        elif m := re.match(r'"[^"]*"', code[i + 1 :]):
            i += 1 + len(m.group())
        else:
            raise AssertionError(f"unknown code &{nxt} in {code!r}")
    return parts


def footer_of(path: Path, name: str) -> str:
    """The odd-page footer of sheet `name` as stored in the file (openpyxl's reader would re-parse it)."""
    with zipfile.ZipFile(path) as z:
        book = ElementTree.fromstring(z.read("xl/workbook.xml"))
        index = [s.get("name") for s in book.iterfind("m:sheets/m:sheet", NS)].index(name)
        sheet = ElementTree.fromstring(z.read(f"xl/worksheets/sheet{index + 1}.xml"))
    footer = sheet.findtext("m:headerFooter/m:oddFooter", namespaces=NS)
    assert footer is not None, name
    return footer


def test_print_setup_a4_landscape_one_page_wide_titles_and_footer(workbooks):
    wb = openpyxl.load_workbook(workbooks["hokkaido"])
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert int(ws.page_setup.paperSize) == 9  # A4 in the OOXML paper-size table
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True
        wide = 3 if ws.title in FUTURE_SHEETS.values() else 1  # 41 future figures: see test_future_sheets_…
        assert (int(ws.page_setup.fitToWidth), int(ws.page_setup.fitToHeight)) == (wide, 0), ws.title
        assert 0.25 <= ws.page_margins.left <= 1 and 0.25 <= ws.page_margins.bottom <= 1
    for name in FUTURE_SHEETS.values():
        ws = wb[name]
        assert ws.print_title_rows == "$1:$1" and ws.print_title_cols == "$A:$A", name  # names on every page
        assert footer_parts(footer_of(workbooks["hokkaido"], name))["C"] == "{sheet}"
    for name in OUR_SHEETS:
        ws = wb[name]
        assert ws.print_title_rows == "$1:$1" and ws.freeze_panes in ("A2", "B2"), name
        parts = footer_parts(footer_of(workbooks["hokkaido"], name))
        assert parts == {"L": "北海道 2024（第8次医療計画）", "C": "{sheet}", "R": "ページ {page} / {pages}"}


@pytest.mark.parametrize(
    "title,printed",
    [
        ("R&D 案 &P &N &[Page] 100%&", "R&D 案 &P &N &[Page] 100%&"),  # & codes stay text
        ('案&"Arial"&14 &K00FF00', '案&"Arial"&14 &K00FF00'),
        ("案\x1b[2J\n二行目\u202e", "案\\x1b[2J\\n二行目<U+202E>"),  # shown, on one line
    ],
)
def test_footer_prints_the_plan_title_as_typed(hokkaido, tmp_path, title, printed):
    munis, plan = hokkaido
    path = write_summary_xlsx(munis, Plan(name=title, table=plan.table), tmp_path / "s.xlsx")
    footer = footer_of(path, "在宅医療圏")
    left = footer_parts(footer)["L"].lstrip()
    assert left.replace("\u200b", "") == printed
    assert "{page}" not in left and "{pages}" not in left
    assert not re.search("[\x00-\x1f\u202e]", footer)


# ---- 所見 in Japanese, no "None" -----------------------------------------------------------------
def _all_text(path: Path) -> list[tuple[str, str, str]]:
    wb = openpyxl.load_workbook(path)
    return [(ws.title, c.coordinate, c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value]


def test_findings_sheet_speaks_japanese_and_leaves_empty_cells_empty(hokkaido, workbooks, tmp_path):
    munis, plan = hokkaido
    findings = validate(munis, plan, ValidationOptions(population_floor=30_000))
    assert {f.rule for f in findings} >= {"multipart", "no_hub", "population_floor", "unconfirmed"}
    odd = pd.DataFrame(  # a frame as an older app handed it: English keys, None where nothing is known
        [
            {"rule": "duplicate_code", "severity": "error", "title": None, "level": None, "area": None,
             "codes": ["01100"], "names": None, "message": "重複しています。"},
            {"rule": "island", "severity": "info", "title": "離島", "level": "municipality", "area": "奥尻",
             "codes": "01367", "names": "奥尻町", "message": "離島です。"},
        ]
    )  # fmt: skip
    for given, n in ((findings, len(findings)), (findings_frame(findings), len(findings)), (odd, 2)):
        path = write_summary_xlsx(munis, plan, tmp_path / "s.xlsx", findings=given)
        ws = openpyxl.load_workbook(path)["所見"]
        rows = list(ws.iter_rows(min_row=2, values_only=True))
        assert [c.value for c in ws[1]] == ["ルール", "重大度", "単位", "圏域", "市町村コード", "市町村名", "説明"]
        assert len(rows) == n
        values = {v for r in rows for v in r if v is not None}
        assert not values & {*RULES, *ENGLISH_LEVELS, "None", "nan", "<NA>", "error", "warning", "info"}
    expected = [(RULES[f.rule].title, LEVEL_JA[f.level] if f.level else None) for f in findings]
    path = write_summary_xlsx(munis, plan, tmp_path / "s.xlsx", findings=findings)
    sheet = openpyxl.load_workbook(path)["所見"]
    assert [(r[0], r[2]) for r in sheet.iter_rows(min_row=2, values_only=True)] == expected
    path = write_summary_xlsx(munis, plan, tmp_path / "odd.xlsx", findings=odd)
    rows = list(openpyxl.load_workbook(path)["所見"].iter_rows(min_row=2, values_only=True))
    assert rows[0] == (RULES["duplicate_code"].title, "エラー", None, None, "01100", None, "重複しています。")
    assert rows[1][:4] == ("離島", "情報", "市町村", "奥尻")
    for key in ("hokkaido", "tokyo"):  # and nowhere in the workbooks
        assert [t for t in _all_text(workbooks[key]) if t[2] in ("None", "nan", "<NA>", "NaT")] == []


# ---- LibreOffice prints it ---------------------------------------------------------------------
def test_libreoffice_prints_hokkaido_on_few_pages_without_hashes(workbooks, tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice (soffice) or poppler is not installed; the printout is not checked")
    subprocess.run(
        [soffice, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(workbooks["hokkaido"])],
        check=True,
        capture_output=True,
        timeout=300,
    )
    pdf = tmp_path / "hokkaido.pdf"
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    by_sheet: dict[str, list[str]] = {}
    for page in pages.stdout.split("\f")[:-1]:
        footer = next(ln for ln in reversed(page.splitlines()) if "ページ" in ln)
        assert "北海道 2024（第8次医療計画）" in footer
        sheet = re.split(r"\s{2,}", footer.strip())[1]
        by_sheet.setdefault(sheet, []).append(page)
    for name in LEVEL_SHEETS:
        assert len(by_sheet[name]) == 1, name  # each level on one page, 合計 included
        assert "合計" in by_sheet[name][0] and "5,224,614" in by_sheet[name][0]
    assert sum(len(by_sheet[n]) for n in OUR_SHEETS) <= 10  # the workbook printed on 36 pages before
    assert [n for n in OUR_SHEETS if any("###" in p for p in by_sheet[n])] == []
    # 将来推計: three pages across, one down; 合計 and the area names on each; the note whole on the first
    for name in FUTURE_SHEETS.values():
        pages = by_sheet[name]
        assert len(pages) == 3, name
        assert all("合計" in p and "札幌" in p and "宗谷" in p for p in pages), name  # the names on each page
        assert not any("###" in p for p in pages), name
        assert "5,224,614" in pages[0] and "4,319,217" in pages[0] and "3,820,016" in pages[0]  # 2020/2040/2050
        first = re.sub(r"\s+", "", pages[0])
        assert [ln for ln in future_note() if re.sub(r"\s+", "", ln) not in first] == [], name
    # … and as large as the 在宅医療圏 sheet prints, one page wide (two pages wide it was 5 pt)
    size = _sheet_text_sizes(pdf, tmp_path)
    assert size[FUTURE_SHEETS["homecare"]] >= size["在宅医療圏"] >= 5.5


def _sheet_text_sizes(pdf: Path, tmp_path: Path) -> dict[str, float]:
    """Per sheet (by its footer): the height of the word 「合計」 on its first page, in points."""
    html = tmp_path / "bbox.html"
    subprocess.run(["pdftotext", "-bbox", str(pdf), str(html)], check=True, capture_output=True)
    word = re.compile(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>')
    sizes: dict[str, float] = {}
    for page in html.read_text(encoding="utf-8").split("<page ")[1:]:
        words = [(float(y1) - float(y0), text) for y0, y1, text in word.findall(page)]
        names = [t for _, t in words if t in (*OUR_SHEETS, *FUTURE_SHEETS.values())]
        heights = [h for h, t in words if t == "合計"]
        if names and heights:
            sizes.setdefault(names[-1], heights[0])  # the footer is the page's last sheet name
    return sizes


# ---- summary.csv ------------------------------------------------------------------------------
def _json_rows(capsys, plan: str) -> list[dict]:
    assert main(["summary", "--plan", plan, "--format", "json", "--quiet"]) == 0
    return json.loads(capsys.readouterr().out)


def test_summary_csv_has_japanese_headers_and_rounded_rates(capsys):
    exact = _json_rows(capsys, "secondary-2020:岩手県")
    assert main(["summary", "--plan", "secondary-2020:岩手県", "--format", "csv", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("\ufeff在宅医療圏名,二次医療圏,市町村数,人口,")  # BOM: Excel reads it as UTF-8
    rows = list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff"))))
    assert {"高齢化率", "75歳以上の割合", "面積（km²）", "人口密度（人/km²）"} <= rows[0].keys()
    assert not {"area", "population", "aging_rate"} & rows[0].keys()
    assert sum(int(r["人口"]) for r in rows) == 1_210_534  # 岩手県 2020
    for row, full in zip(rows, exact, strict=True):
        assert row["在宅医療圏名"] == full["area"]
        assert row["高齢化率"] == f"{_half_up(full['aging_rate'] * 100, 1)}%"  # 27.9%, not 0.27912…
        assert row["75歳以上の割合"] == f"{_half_up(full['share_75_plus'] * 100, 1)}%"
        assert row["面積（km²）"] == str(_half_up(full["area_km2"], 1))
        assert row["人口密度（人/km²）"] == str(_half_up(full["density"], 1))


def test_summary_csv_headers_en_for_scripts(capsys):
    exact = _json_rows(capsys, "secondary-2020:岩手県")
    args = ["summary", "--plan", "secondary-2020:岩手県", "--level", "homecare", "--format", "csv", "--quiet"]
    assert main([*args, "--headers", "en"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("area,parent,municipalities,population,")  # no BOM: a script reads it
    rows = pd.read_csv(io.StringIO(out))
    # full precision: the rate is the ratio of the row's own counts, not 0.3 or 29.8%
    rate = rows["age_65_plus"] / (rows["population"] - rows["age_unknown"])
    assert rows["aging_rate"].tolist() == pytest.approx(rate.tolist(), rel=1e-12)
    assert rows["area_km2"].tolist() == pytest.approx([r["area_km2"] for r in exact], rel=1e-9)
    assert (rows["area_km2"] != rows["area_km2"].round(1)).all()


def test_build_summary_csv_japanese_by_default_and_en_on_request(tmp_path, capsys):
    for headers in ("ja", "en"):
        out = tmp_path / headers
        args = ["build", "--plan", "secondary-2020:鳥取県", "--out", str(out), "--quiet", "--headers", headers]
        assert main(args) == 0, capsys.readouterr().err
        raw = (out / "summary.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # a file: opened in Excel either way
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
        if headers == "ja":
            assert [r["在宅医療圏名"] for r in rows] == ["東部", "西部", "中部"]
            assert sum(int(r["人口"]) for r in rows) == 553_407  # 鳥取県 2020
            assert all(re.fullmatch(r"\d+\.\d%", r["高齢化率"]) for r in rows)
        else:
            assert sum(int(r["population"]) for r in rows) == 553_407
            assert all(len(r["aging_rate"]) > 6 for r in rows)  # 0.3212…, as computed
    capsys.readouterr()
