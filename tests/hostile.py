"""A corpus of hostile names ("names are data") and a Hokkaido plan that carries them.

Area, municipality, plan and hub names are text typed by users. Every output must show them
literally (or escaped the way that format escapes text): never evaluated as a template, never
rendered as markup, never run as a spreadsheet formula, never sent raw to a terminal.

`CORPUS` is a list of (id, text) pairs; `hostile_plan_frame()` renames the 33 home-care areas of
the embedded `hokkaido-2024` plan to the 33 corpus names (one each, all distinct), puts hostile
hub names on a few areas and hostile names on a few secondary areas.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from geo_app.core.metrics import header

LONG_NAME = ("北海道在宅医療連携推進協議会" * 22)[:300]  # 300 characters of Japanese

CORPUS: list[tuple[str, str]] = [
    # Jinja2 / template syntax
    ("jinja_expr", "{{7*7}}"),
    ("jinja_getpid", "{{ cycler.__init__.__globals__.os.getpid() }}"),
    ("jinja_block", "{% if 1 %}x{% endif %}"),
    ("jinja_comment_open", "A{#"),
    ("jinja_comment_close", "B#}C"),
    ("jinja_stmt_open", "{%"),
    ("dollar_brace", "${7*7}"),
    ("hash_brace", "#{7*7}"),
    # HTML and script
    ("html_img", "<img src=x onerror=alert(1)>"),
    ("html_script", "<script>alert(1)</script>"),
    ("html_attr_break", '"><svg onload=alert(1)>'),
    ("html_script_close", "</script><script>alert(1)</script>"),
    ("html_entities", "&amp;&lt;"),
    # Markdown (Streamlit): image, link, autolink, emphasis, colour directive, LaTeX
    ("md_image", "![x](http://127.0.0.1:9/x.png)"),
    ("md_js_link", "[a](javascript:alert(1))"),
    ("md_autolink", "<http://127.0.0.1:9/>"),
    ("md_bold", "**太字**"),
    ("md_colour", ":red[赤]"),
    ("md_latex", "$x^2$"),
    # spreadsheet formula prefixes
    ("formula_hyperlink", '=HYPERLINK("http://127.0.0.1:9","x")'),
    ("formula_plus", "+1"),
    ("formula_minus", "-2"),
    ("formula_at", "@SUM(A1)"),
    ("formula_eq", "=1+1"),
    # control and bidi characters
    ("ctl_esc", "\x1b[31mred"),
    ("ctl_bel", "ベル\x07鳴る"),
    ("bidi_rlo", "abc\u202edcba"),
    ("bidi_lri", "左\u2066右"),
    # backslashes and quotes
    ("backslash_quotes", "a\\b\"c'd"),
    # a very long Japanese name
    ("long_japanese", LONG_NAME),
    # ordinary names with a dollar sign
    ("dollar_sapporo", "$札幌"),
    # two more, so that every one of the 33 areas carries a corpus name
    ("html_comment", "<!-- x -->後志"),
    ("sql_quote", "'; DROP TABLE plans; --"),
]
IDS = [i for i, _ in CORPUS]
NAMES = [t for _, t in CORPUS]
BY_ID = dict(CORPUS)
assert len(set(NAMES)) == len(NAMES), "area names must stay distinct"

#: Hub names (拠点 column) and secondary-area names, per home-care corpus id.
HUBS = {
    "jinja_expr": "{{7*7}}拠点",
    "md_image": "![hub](http://127.0.0.1:9/hub.png)",
    "formula_hyperlink": '=HYPERLINK("http://127.0.0.1:9","hub")',
    "html_script": "<script>alert('hub')</script>",
}
#: Filled by hostile_plan_frame(): original secondary area → its hostile name (four secondary areas
#: made of a single home-care area are named after it).
SECONDARY: dict[str, str] = {}
#: Plan name (the CLI takes the plan file's stem) and saved-plan names for the app (no control
#: characters: the store refuses those).
PLAN_STEM = "{{7*7}}<img src=x onerror=alert(1)>案"
APP_PLAN_NAME = "![x](http://127.0.0.1:9/plan.png) {{7*7}} :red[赤] $x^2$ <b>案</b>"

#: Cells Excel would run as a formula.
FORMULA_START = ("=", "+", "-", "@")


def hostile_plan_frame() -> tuple[pd.DataFrame, dict[str, str]]:
    """The hokkaido-2024 plan table with every home-care area renamed to a corpus name.

    Returns the frame (English headers) and {original area → corpus id}. Areas are taken in the
    plan's order, so the mapping is deterministic.
    """
    from geo_app import load_plan

    df = load_plan("hokkaido-2024").to_frame()
    for col in df.columns:
        df[col] = df[col].astype(object).where(df[col].notna(), None)
    areas = list(dict.fromkeys(df["homecare"]))
    assert len(areas) == len(CORPUS) == 33, (len(areas), len(CORPUS))
    mapping = dict(zip(areas, IDS, strict=True))
    df["homecare"] = df["homecare"].map(lambda a: BY_ID[mapping[a]])
    ids = df["homecare"].map({v: k for k, v in BY_ID.items()})
    if "hub" not in df.columns:
        df["hub"] = None
    for cid, hub in HUBS.items():
        df.loc[ids == cid, "hub"] = hub
    # secondary areas made of a single home-care area get that area's hostile name, prefixed
    sec_members = df.groupby("secondary")["homecare"].nunique()
    single = [s for s in sec_members.index if sec_members[s] == 1]
    renamed: dict[str, str] = {}
    for s in single[:4]:
        hc = df.loc[df["secondary"] == s, "homecare"].iloc[0]
        renamed[s] = "二次" + hc if not hc.startswith(tuple("=+-@")) else hc + "二次"
    df["secondary"] = df["secondary"].map(lambda s: renamed.get(s, s))
    SECONDARY.clear()
    SECONDARY.update(renamed)
    return df.reset_index(drop=True), mapping


def protect_cell(value: object) -> object:
    """The project's CSV convention (geo_app.io.tables.protect_text): a text cell Excel would run as
    a formula gets a leading apostrophe, which read_table takes off again."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and any(not c.isdigit() for c in value):
        return "'" + value
    return value


def write_plan_csv(df: pd.DataFrame, path: Path) -> Path:
    """UTF-8 (BOM) CSV, Japanese headers, formula cells protected as geo_app.io.tables does."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([header(c) for c in df.columns])  # the headers the app and Excel exports use
    for row in df.itertuples(index=False):
        w.writerow(["" if v is None else protect_cell(v) for v in row])
    path.write_text(buf.getvalue(), encoding="utf-8-sig")
    return path


def write_plan_xlsx(df: pd.DataFrame, path: Path) -> Path:
    """An .xlsx plan as a person would type it: every name a text cell (never a formula)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "区域表"
    ws.append(["code", "name", "homecare", "secondary", "tertiary", "status", "hub"][: len(df.columns)])
    for r, row in enumerate(df.itertuples(index=False), start=2):
        for c, v in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c, value=v)
            if isinstance(v, str):
                cell.data_type = "s"  # openpyxl would otherwise store "=1+1" as a formula
                if c == 1:
                    cell.number_format = "@"
    wb.save(path)
    return path
