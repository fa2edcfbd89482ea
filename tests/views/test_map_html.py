"""The shared HTML map: opens offline in Chromium, draws the areas, and never runs a typed name."""

from __future__ import annotations

import re

import pytest
import shapely
from conftest import offline_page, point_under_mouse

from geo_app.core.plan import UNCONFIRMED, Plan
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


#: The standalone map's Leaflet map: folium's global `map_<id>`.
_MAP_JS = "Object.keys(window).map(k => window[k]).find(v => v instanceof L.Map)"


def hover(page, lat: float, lon: float) -> dict[str, str]:
    """Centre the map on a point, put the mouse there, and read the tooltip Leaflet opens (row → cell)."""
    point_under_mouse(page, _MAP_JS, lat, lon)
    tip = page.locator(".geoapp-tip")
    tip.wait_for(timeout=10_000)
    return dict(tip.locator("tr").evaluate_all("trs => trs.map(tr => [...tr.children].map(c => c.textContent))"))


@pytest.mark.browser
def test_map_renders_offline_in_chromium(tmp_path, browser, hokkaido, hokkaido_plan):
    path = write_map_html(hokkaido, hokkaido_plan, tmp_path / "map.html")
    blocked: list[str] = []
    page = offline_page(browser, blocked)
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-container")
    page.wait_for_selector(".leaflet-overlay-pane path")
    # Leaflet drew the 179 municipalities (one path each, in the topology's order = the rows), filled
    # per home-care area; the 4 未確定 areas' municipalities are hatched (an SVG pattern over the colour)
    paths = page.locator(".leaflet-overlay-pane path.leaflet-interactive")
    assert paths.count() == 179
    fills = paths.evaluate_all("ps => ps.map(p => p.getAttribute('fill'))")
    hatched = {i for i, f in enumerate(fills) if f.startswith("url(#geoapp-hatch-")}
    unconfirmed = hokkaido_plan.table["status"].eq(UNCONFIRMED).to_numpy()
    assert hatched == {i for i, u in enumerate(unconfirmed) if u}
    assert len(hatched) == 39 and hokkaido_plan.table.loc[unconfirmed, "homecare"].nunique() == 4
    patterns = {f[5:-1] for f in fills if f.startswith("url(#")}
    assert page.evaluate("ids => ids.every(id => document.querySelector('pattern#' + id))", sorted(patterns))
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
    # the municipality's tooltip, built on hover: its name and its area's as text
    sapporo = shapely.point_on_surface(munis.loc[munis["code"] == "01100"].geometry.values[0])
    tip = hover(page, sapporo.y, sapporo.x)
    assert (tip["市町村名"], tip["市町村コード"], tip["在宅医療圏"]) == ("{{7*7}}市", "01100", "{{7*7}}"), tip
    assert page.locator(".geoapp-tip img, .geoapp-tip script").count() == 0


def test_far_islands_outside_the_first_view_are_mentioned(tmp_path, japan, hokkaido, hokkaido_plan):
    from geo_app import load_plan

    tokyo = write_map_html(japan, load_plan("secondary-2020:東京都"), tmp_path / "tokyo.html").read_text(
        encoding="utf-8"
    )
    hokkaido_html = write_map_html(hokkaido, hokkaido_plan, tmp_path / "hokkaido.html").read_text(encoding="utf-8")
    note = "遠くの離島は最初の表示範囲の外です"
    assert note in tokyo  # 小笠原 lies ~1,000 km south of the 23 wards
    assert note not in hokkaido_html


@pytest.mark.browser
def test_topology_decodes_to_a_gapless_coverage(tmp_path, browser, hokkaido, hokkaido_plan):
    """The map's geometry is one quantised TopoJSON topology: decoded in Chromium by the packaged
    topojson-client, it is still the 179 municipalities, each in its row, sharing every border
    (a valid coverage) and covering what the simplified input covers (no gaps), in a small file."""
    import geopandas as gpd

    from geo_app.views.livemap import map_geometry

    path = write_map_html(hokkaido, hokkaido_plan, tmp_path / "map.html")
    size = path.stat().st_size
    print(f"Hokkaido map.html: {size / 1e6:.3f} MB")
    assert size < 0.6e6
    blocked: list[str] = []
    page = offline_page(browser, blocked)
    page.goto(path.as_uri())
    page.wait_for_selector(".geoapp-label")
    decoded = page.evaluate(
        """() => { const ts = Object.keys(window).map(k => window[k]).filter(v => v && v.type === 'Topology');
          if (ts.length !== 1) return {topologies: ts.length};
          const fc = topojson.feature(ts[0], ts[0].objects.municipalities);
          return {topologies: 1, features: fc.features.map(f => [f.id, JSON.stringify(f.geometry)])}; }"""
    )
    page.close()
    assert blocked == []
    assert decoded["topologies"] == 1
    assert [i for i, _ in decoded["features"]] == list(range(179))
    shapes = gpd.GeoSeries([shapely.from_geojson(g) for _, g in decoded["features"]], crs=hokkaido.crs)
    assert shapely.is_valid(shapes.values).all()
    assert shapely.coverage_is_valid(shapes.values)

    simplified = map_geometry(hokkaido, HTML_SIMPLIFY_TOLERANCE).geometry.reset_index(drop=True)
    ea_out, ea_in = shapes.to_crs(6933), simplified.to_crs(6933)  # equal-area metres
    union_out, union_in = shapely.union_all(ea_out.values), shapely.union_all(ea_in.values)
    gap = union_out.symmetric_difference(union_in).area / union_in.area
    print(f"decoded vs simplified input: {gap:.5%} of the area differs")
    assert gap < 0.0005
    # each decoded shape is its own row's municipality (the renderer finds them by row)
    own = shapely.area(shapely.intersection(ea_out.values, ea_in.values)) / shapely.area(ea_in.values)
    assert own.min() > 0.99, hokkaido["name"].iloc[int(own.argmin())]


@pytest.mark.browser
def test_every_iwate_label_shows_when_there_is_room(tmp_path, browser):
    """岩手県's 9 secondary areas on a 1400×1000 page: every label is drawn, none over another."""
    from geo_app import load_plan
    from geo_app.io.municipalities import municipalities_for_plan

    plan = load_plan("secondary-2024:岩手県")
    munis = municipalities_for_plan(plan)
    assert len(munis) == 33 and plan.table["homecare"].nunique() == 9
    path = write_map_html(munis, plan, tmp_path / "iwate.html")
    blocked: list[str] = []
    page = offline_page(browser, blocked)
    page.goto(path.as_uri())
    page.wait_for_selector(".geoapp-label")
    page.wait_for_timeout(300)  # the declutter after the first fit
    labels = page.evaluate(
        """() => [...document.querySelectorAll('.geoapp-label')].map(e => {
          const r = e.firstChild.getBoundingClientRect(), pop = e.querySelector('.pop');
          return {text: e.querySelector('.name').textContent + ' ' + pop.textContent,
                  shown: !e.classList.contains('geoapp-label-hidden') && getComputedStyle(e).visibility === 'visible',
                  pop: getComputedStyle(pop).display !== 'none', box: [r.left, r.top, r.right, r.bottom]}; })"""
    )
    page.close()
    shown = [d for d in labels if d["shown"]]
    print(f"岩手県: {len(shown)} of {len(labels)} labels shown, {sum(d['pop'] for d in shown)} with their population:")
    print("  " + "、".join(d["text"] if d["pop"] else d["text"].split(" ")[0] for d in shown))
    assert len(labels) == 9 and len(shown) == 9, [d["text"] for d in labels if not d["shown"]]
    boxes = [d["box"] for d in shown]
    overlapping = [
        (shown[i]["text"], shown[j]["text"])
        for i in range(len(boxes))
        for j in range(i + 1, len(boxes))
        if not (
            boxes[i][2] <= boxes[j][0]
            or boxes[j][2] <= boxes[i][0]
            or boxes[i][3] <= boxes[j][1]
            or boxes[j][3] <= boxes[i][1]
        )
    ]
    assert overlapping == []
    assert blocked == []
