"""The shared HTML map: opens offline in Chromium, draws the areas, and never runs a typed name."""

from __future__ import annotations

import re

import pytest
import shapely
from conftest import offline_page

from geo_app.core.plan import Plan
from geo_app.views.build import HTML_SIMPLIFY_TOLERANCE, write_map_html

XSS = "<img src=x onerror=alert(1)>"
#: Names that a template engine would evaluate or swallow (branca renders its output again as Jinja).
TEMPLATES = ["{{7*7}}", "{{ cycler.__init__.__globals__.os.getpid() }}", "A{#", "B#}C", "{% if 1 %}x{% endif %}", "{%"]


def test_html_has_no_external_scripts_or_styles(tmp_path, hokkaido, hokkaido_plan):
    path = write_map_html(hokkaido, hokkaido_plan, tmp_path / "map.html")
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=\"https?://", text)
    assert not re.search(r"<link[^>]+href=\"https?://", text)
    assert "L.version" in text or "Leaflet" in text  # Leaflet inlined
    assert path.stat().st_size < 1.5e6


def test_simplified_coverage_stays_valid(hokkaido):
    simplified = shapely.coverage_simplify(hokkaido.geometry.values, HTML_SIMPLIFY_TOLERANCE, simplify_boundary=True)
    assert shapely.coverage_is_valid(simplified)
    assert shapely.is_valid(simplified).all()


@pytest.mark.browser
def test_map_renders_offline_in_chromium(tmp_path, browser, hokkaido, hokkaido_plan):
    path = write_map_html(hokkaido, hokkaido_plan, tmp_path / "map.html")
    blocked: list[str] = []
    page = offline_page(browser, blocked)
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-container")
    page.wait_for_selector(".leaflet-overlay-pane path")
    # Leaflet drew the 179 municipalities (tooltip layer), the 33 home-care fills and 4 hatched 未確定 areas
    assert page.locator(".leaflet-overlay-pane path.leaflet-interactive").count() == 179
    assert page.locator("path.geoapp-hatch").count() == 4
    labels = page.locator(".geoapp-label").all_inner_texts()
    assert any("札幌市" in t and "1,973,395 人" in t for t in labels)
    assert "在宅医療圏の人口" in page.locator(".geoapp-legend").inner_text()
    assert "国土数値情報" in page.locator(".geoapp-credit").inner_text()
    assert blocked == []
    page.screenshot(path=str(tmp_path / "map.png"))


@pytest.mark.browser
def test_typed_names_stay_text(tmp_path, browser, hokkaido, hokkaido_plan):
    t = hokkaido_plan.table.copy()
    t.loc[t["homecare"] == "上川", "homecare"] = XSS
    plan = Plan(name=XSS, table=t)
    path = write_map_html(hokkaido, plan, tmp_path / "map.html")
    text = path.read_text(encoding="utf-8")
    assert XSS not in text  # neither in the title, the data nor any label
    assert "&lt;img src=x onerror=alert(1)&gt;" in text  # the escaped <title>
    dialogs: list[str] = []
    page = offline_page(browser, [])
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_selector(".geoapp-label")
    page.wait_for_timeout(500)
    assert dialogs == []
    assert page.locator(".leaflet-container img[src='x']").count() == 0
    names = page.locator(".geoapp-label .name").evaluate_all("els => els.map(e => e.textContent)")
    assert XSS in names  # shown as text, not markup


@pytest.mark.browser
def test_template_syntax_in_names_is_never_evaluated(tmp_path, browser, hokkaido, hokkaido_plan):
    import os

    t = hokkaido_plan.table.copy()
    areas = list(dict.fromkeys(t["homecare"]))
    for old, new in zip(areas, TEMPLATES, strict=False):
        t.loc[t["homecare"] == old, "homecare"] = new
    munis = hokkaido.copy()
    munis.loc[munis["code"] == "01100", "name"] = "{{7*7}}市"  # a municipality name (from a user's N03 file)
    plan = Plan(name="{{ 6*7 }}案", table=t)
    path = write_map_html(munis, plan, tmp_path / "map.html")  # `{%` or `{#` used to stop the build
    text = path.read_text(encoding="utf-8")
    assert "<title>{{ 6*7 }}案 在宅医療圏</title>" in text  # escaped for HTML after rendering, never rendered
    body = text.replace("<title>{{ 6*7 }}案 在宅医療圏</title>", "")
    assert "{{" not in body and "{#" not in body and "{%" not in body  # inert JSON escapes, nothing to render
    page = offline_page(browser, [])
    page.goto(path.as_uri())
    page.wait_for_selector(".geoapp-label")
    names = page.locator(".geoapp-label .name").evaluate_all("els => els.map(e => e.textContent)")
    assert set(TEMPLATES) <= set(names)  # each literally, 'A{#' and 'B#}C' still two labels
    assert "49" not in names and "x" not in names and str(os.getpid()) not in names
    assert "{{ 6*7 }}案" in page.locator(".geoapp-head .geoapp-title").inner_text()
    tips = page.evaluate("() => JSON.stringify(window.geoappTips)")
    assert "{{7*7}}市" in tips


def test_far_islands_outside_the_first_view_are_mentioned(tmp_path, japan, hokkaido, hokkaido_plan):
    from geo_app import load_plan

    tokyo = write_map_html(japan, load_plan("secondary-2020:東京都"), tmp_path / "tokyo.html").read_text(
        encoding="utf-8"
    )
    hokkaido_html = write_map_html(hokkaido, hokkaido_plan, tmp_path / "hokkaido.html").read_text(encoding="utf-8")
    note = "遠くの離島は最初の表示範囲の外です"
    assert note in tokyo  # 小笠原 lies ~1,000 km south of the 23 wards
    assert note not in hokkaido_html
