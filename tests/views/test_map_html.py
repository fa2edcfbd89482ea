"""The shared HTML map: opens offline in Chromium, draws the areas and the hubs, and never runs a typed name."""

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
    # the built-in plan names two hubs and places neither: no star, no star in the legend, a line saying so
    legend = page.locator(".geoapp-legend").inner_text()
    assert page.locator(".geoapp-hub").count() == 0 and "在宅医療連携拠点" not in legend
    assert "場所の分からない拠点2か所は地図に描いていません" in legend
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


# ---- facility layers ----------------------------------------------------------------------------------
_HANDLE = "document.querySelector('.leaflet-container').__geoapp"
#: Of the kind's points drawn in the view, those with no other of their kind within 12 px, and how many of
#: those show the kind's fill at their centre on the facility canvas (read back pixel by pixel).
_CENTRES_JS = f"""kind => {{ const h = {_HANDLE}, f = h.facilities, d = f.layers.find(l => l.kind === kind);
  const c = f.canvas, ctx = c.getContext('2d'), sx = c.width / c.getBoundingClientRect().width;
  const mr = h.map.getContainer().getBoundingClientRect(), cr = c.getBoundingClientRect();
  const rgb = [1, 3, 5].map(i => parseInt(d.fill.slice(i, i + 2), 16)), pts = [];
  let a = 0, b = 0;
  for (let i = 0; i < d.lat.length; i++) {{
    a += d.lat[i]; b += d.lon[i];
    const p = h.map.latLngToContainerPoint([a * 1e-5, b * 1e-5]);
    pts.push([(p.x + mr.left - cr.left) * sx, (p.y + mr.top - cr.top) * sx]);
  }}
  const inside = pts.filter(([x, y]) => x >= 12 && y >= 12 && x < c.width - 12 && y < c.height - 12);
  const alone = inside.filter(([x, y]) => pts.every(([u, v]) => (u === x && v === y) || Math.hypot(u - x, v - y) > 12));
  const filled = alone.filter(([x, y]) => {{
    const px = ctx.getImageData(Math.floor(x), Math.floor(y), 1, 1).data;
    return px[3] === 255 && Math.abs(px[0] - rgb[0]) + Math.abs(px[1] - rgb[1]) + Math.abs(px[2] - rgb[2]) <= 6;
  }});
  return {{alone: alone.length, filled: filled.length}}; }}"""


@pytest.mark.browser
def test_facility_layers_are_off_until_switched_on(tmp_path, browser, hokkaido, hokkaido_plan, monkeypatch):
    """map.html for 北海道: three facility layers in Leaflet's layer control, named in Japanese with their
    number of points, all off; each switched on draws exactly the points of its kind (on one canvas: no
    element per point), where they are, with a legend naming the source and date; a facility's tooltip
    gives its name and kind as text, however its name reads."""
    from geo_app.io import facilities
    from geo_app.io.facilities import load_facility_points
    from geo_app.views import livemap

    real = load_facility_points
    station = "st-0163190036"  # 美瑛訪問看護ステーション, the one point in 美瑛町

    def hostile(codes=None):
        pts = real(codes)
        pts.loc[pts["id"] == station, "name"] = XSS + TEMPLATES[0]
        return pts

    monkeypatch.setattr(livemap, "load_facility_points", hostile)
    path = write_map_html(hokkaido, hokkaido_plan, tmp_path / "map.html")
    pts = facilities.load_facility_points(hokkaido_plan.table["code"])
    expected = pts["kind"].value_counts().to_dict()
    assert expected == {"home_nursing_station": 636, "hospital": 394, "zaitaku_shien": 129}
    names = {
        "home_nursing_station": "訪問看護ステーション（636）",
        "hospital": "病院（394）",
        "zaitaku_shien": "在宅療養支援診療所・病院（129）",
    }
    blocked: list[str] = []
    dialogs: list[str] = []
    page = offline_page(browser, blocked)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_selector(".geoapp-label")
    container = page.locator(".leaflet-container")

    def shown() -> str:
        return container.get_attribute("data-geoapp-facilities")

    def switch(name: str, on: bool) -> None:
        page.locator(".leaflet-control-layers").hover()  # the control opens on hover
        box = page.get_by_role("checkbox", name=name, exact=True)
        box.check() if on else box.uncheck()
        page.mouse.move(5, 5)

    # off by default: unchecked, nothing drawn, no legend
    page.locator(".leaflet-control-layers").hover()
    for name in names.values():
        assert not page.get_by_role("checkbox", name=name, exact=True).is_checked()
    page.mouse.move(5, 5)
    assert shown() == "" and page.locator(".geoapp-facilities").count() == 0
    assert page.evaluate(f"() => getComputedStyle({_HANDLE}.facilities.canvas).display") == "none"

    # every point in view, then each kind alone
    bounds = [[pts["lat"].min(), pts["lon"].min()], [pts["lat"].max(), pts["lon"].max()]]
    page.evaluate(f"b => {_HANDLE}.map.fitBounds(b, {{animate: false}})", bounds)
    for kind, name in names.items():
        switch(name, True)
        assert shown() == kind
        drawn = page.evaluate(f"() => {_HANDLE}.facilities.drawn")
        assert drawn == {k: (expected[k] if k == kind else 0) for k in names}, kind
        centres = page.evaluate(_CENTRES_JS, kind)
        assert centres["alone"] > 20 and centres["filled"] == centres["alone"], (kind, centres)
        legend = page.locator(".geoapp-facilities").inner_text()
        assert name in legend and "位置不明などで表示なし" in legend
        switch(name, False)
    assert page.locator(".leaflet-marker-pane img, .leaflet-overlay-pane circle").count() == 0  # no DOM per point

    # all three: the legend names each source with its date
    for name in names.values():
        switch(name, True)
    assert shown() == "home_nursing_station,hospital,zaitaku_shien"
    legend = page.locator(".geoapp-facilities").inner_text()
    assert "2025年6月1日" in legend and "2025年10月1日" in legend and "介護サービス情報公表" in legend
    assert "国土数値情報（医療機関データ）（国土交通省）を加工して作成" in legend

    # the station with a hostile name: its tooltip shows the name as text
    biei = pts.loc[pts["id"] == station].iloc[0]
    point_under_mouse(page, f"{_HANDLE}.map", biei["lat"], biei["lon"], zoom=14)
    tip = page.locator(".geoapp-fac-tip")
    tip.wait_for(timeout=10_000)
    assert tip.locator(".name").text_content() == XSS + TEMPLATES[0]
    assert tip.locator(".kind").text_content() == "訪問看護ステーション"
    assert page.locator("img[src='x']").count() == 0 and dialogs == []
    hidden = "ts => ts.length > 0 && ts.every(t => getComputedStyle(t).display === 'none')"
    assert page.locator(".geoapp-tip").evaluate_all(hidden)  # the town's tooltip gives way to the facility's
    at = page.evaluate(
        f"([lat, lon]) => {{ const m = {_HANDLE}.map, p = m.latLngToContainerPoint([lat, lon]);"
        " const r = m.getContainer().getBoundingClientRect(); return {x: p.x + r.left, y: p.y + r.top}; }",
        [biei["lat"], biei["lon"]],
    )
    page.mouse.move(at["x"] + 60, at["y"] + 60)  # off the point, still in 美瑛町 at zoom 14
    tip.wait_for(state="detached", timeout=10_000)
    assert page.locator(".geoapp-tip").evaluate("t => getComputedStyle(t).display") == "block"
    page.close()
    assert blocked == []


# ---- hubs (在宅医療連携拠点) ------------------------------------------------------------------------------
KITAMI_ID = "0165090010"  # 北見地域訪問看護ステーション (北見市), the source's id
BIEI_AT = (43.5886, 142.4675)  # a point inside 美瑛町
HUB_FILL = (0x1F, 0x4E, 0x9A)  # the print map's star (views.printmap.HUB_COLOR)
#: Each hub star drawn: its name, the centre of its element and of the map's own projection of [lat, lon]
#: (screen pixels), and whether the star is the element on top there (above the fills and borders).
_STARS_JS = f"""where => {{ const h = {_HANDLE}, r = h.map.getContainer().getBoundingClientRect();
  return h.hubs.markers.map(m => {{ const e = m.getElement(), b = e.getBoundingClientRect();
    const d = m.geoappHub, p = h.map.latLngToContainerPoint(where[d.name]);
    const x = (b.left + b.right) / 2, y = (b.top + b.bottom) / 2;
    return {{name: d.name, x, y, px: p.x + r.left, py: p.y + r.top,
            top: !!document.elementFromPoint(x, y).closest('.geoapp-hub') }}; }}); }}"""


def _hub_plan_file(tmp_path, plan, hostile: str):
    """The built-in plan as a user's CSV with two located hubs: 北見's by a facility id, 上川's by a point
    with a hostile name (とかち's hub stays as published: named, no location)."""
    from geo_app.core.plan import HUB_LABELS

    df = plan.to_japanese_frame()
    for col in ("hub_facility", "hub_lat", "hub_lon"):
        df[HUB_LABELS[col]] = ""
    area = df["在宅医療圏"]
    df.loc[area == "北見", [HUB_LABELS["hub"], HUB_LABELS["hub_facility"]]] = ["北見の拠点", KITAMI_ID]
    df.loc[area == "上川", [HUB_LABELS["hub"], HUB_LABELS["hub_lat"], HUB_LABELS["hub_lon"]]] = [
        hostile,
        str(BIEI_AT[0]),
        str(BIEI_AT[1]),
    ]
    path = tmp_path / "拠点つきの案.csv"
    df.to_csv(path, index=False, encoding="utf-8-sig")
    return path


@pytest.mark.browser
def test_hubs_are_stars_where_they_are_with_their_names_as_text(tmp_path, browser, hokkaido, hokkaido_plan):
    """A plan file with two located hubs: map.html draws a star at each (the map's own projection of the hub's
    point, on top of the fills and borders, in the print map's blue), with a tooltip that names it, its area
    and how it is located, as text however it reads; the legend shows the star and the unlocated one."""
    import io

    from PIL import Image

    from geo_app import load_plan
    from geo_app.io.facilities import load_facility_points
    from geo_app.io.plans import plan_hub_points

    hostile = XSS + TEMPLATES[0]
    plan = load_plan(_hub_plan_file(tmp_path, hokkaido_plan, hostile))
    hubs = plan_hub_points(plan).set_index("homecare")
    station = load_facility_points(["01208"]).set_index("name")
    station = station[station["id"].str.endswith(KITAMI_ID)]
    assert len(station) == 1
    assert (hubs.loc["北見", "lat"], hubs.loc["北見", "lon"]) == tuple(station.iloc[0][["lat", "lon"]])
    assert (hubs.loc["上川", "lat"], hubs.loc["上川", "lon"]) == BIEI_AT
    path = write_map_html(hokkaido, plan, tmp_path / "map.html")
    text = path.read_text(encoding="utf-8")
    assert XSS not in text and TEMPLATES[0] not in text.replace("<title>", "")  # only as inert JSON escapes

    blocked: list[str] = []
    dialogs: list[str] = []
    page = offline_page(browser, blocked)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_selector(".geoapp-hub")
    page.wait_for_selector(".geoapp-label")
    where = {hubs.loc[a, "hub"]: [hubs.loc[a, "lat"], hubs.loc[a, "lon"]] for a in ("北見", "上川")}
    stars = page.evaluate(_STARS_JS, where)
    assert sorted(d["name"] for d in stars) == sorted(where)
    shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    for d in stars:
        assert abs(d["x"] - d["px"]) <= 1 and abs(d["y"] - d["py"]) <= 1, d  # centred on the hub's point
        assert d["top"], d  # above the municipalities' fills and borders
        pixel = shot.getpixel((round(d["x"]), round(d["y"])))
        assert sum(abs(a - b) for a, b in zip(pixel, HUB_FILL, strict=True)) <= 12, (d["name"], pixel)
    legend = page.locator(".geoapp-legend").inner_text()
    assert "在宅医療連携拠点" in legend and "場所の分からない拠点1か所は地図に描いていません" in legend
    assert page.locator(".geoapp-legend .geoapp-hub-key svg polygon").count() == 2  # halo + star

    def tip_at(name: str) -> list[str]:
        d = next(d for d in stars if d["name"] == name)
        page.mouse.move(d["x"], d["y"])
        tip = page.locator(".geoapp-hub-tip")
        tip.wait_for(timeout=10_000)
        lines = tip.locator("div > div").evaluate_all("ds => ds.map(d => d.textContent)")
        page.mouse.move(5, 5)
        tip.wait_for(state="detached", timeout=10_000)
        return lines

    assert tip_at(hostile) == [hostile, "在宅医療連携拠点", "在宅医療圏: 上川", "地点: 北緯43.58860・東経142.46750"]
    facility = f"施設: {station.index[0]}（訪問看護ステーション）"
    assert tip_at("北見の拠点") == ["北見の拠点", "在宅医療連携拠点", "在宅医療圏: 北見", facility]
    assert page.locator("img[src='x']").count() == 0 and dialogs == []

    # the layer control switches the stars (and their legend entry) off and on
    def switch(on: bool) -> None:
        page.locator(".leaflet-control-layers").hover()
        box = page.get_by_role("checkbox", name="在宅医療連携拠点", exact=True)
        box.check() if on else box.uncheck()
        page.mouse.move(5, 5)

    switch(False)
    assert page.locator(".geoapp-hub").count() == 0 and not page.locator(".geoapp-hub-key").is_visible()
    switch(True)
    assert page.locator(".geoapp-hub").count() == 2 and page.locator(".geoapp-hub-key").is_visible()
    page.close()
    assert blocked == []
