#!/usr/bin/env python3
"""The live map in headless Chromium: first map, edits, view switches, bytes per edit, and all Japan.

    python benchmarks/bench_app_browser.py [--runs 5] [--edits 10] [--switches 2] [--japan-runs 2]
                                           [--japan-edits 4] [--no-japan]

Starts `geo-app app --headless` on a free port with a throw-away plan store in which a plan of all
Japan is saved first (the 47 prefectures' `secondary-2024:<都道府県>` plans in one table, 1,747 units,
named 全国), then measures, Hokkaido (the default plan hokkaido-2024) unless said:

(a) first map: navigation start → the map's labels drawn (in-page clock). The first load after
    the server starts is printed apart (cold, target ≤ 6 s); the median is over new browser
    contexts on the warm server (target ≤ 3 s). The bytes the page's websocket received on the
    first load, and the one-time base (folium script + topology) and the state, as JSON.
(b) map switches: 色分け (人口 ↔ 高齢化率) and 表示する単位 (在宅医療圏 ↔ 二次医療圏): the click → the map
    repainted (target ≤ 0.3 s); for the level, also the time 「二次医療圏の数 21」 is shown.
(c) edits: 美瑛町 is selected by a click on the map, then moved between 上川 and 富良野 `--edits`
    times and the last move undone. Per edit: click 移動する → map repainted (target ≤ 0.3 s, aim
    0.1 s) and → the success message with both areas' new totals (they should arrive together);
    websocket bytes received per edit and the state's JSON (target ≤ 20 KB per edit).
(d) the map's view (zoom + centre, set to 美瑛町 at zoom 9 before the edits) after the edits and
    the undo: should be identical, on the same Leaflet map object.
(e) all Japan (/?plan=全国): the 市町村の数 the app shows, first map (cold: first open of the 47
    prefectures' data in this server; warm: median over new contexts; target ≤ 8 s) and a move of
    美瑛町 between 上川中部 and 富良野 (target ≤ 0.5 s).
(f) facility points (Hokkaido after (d), all Japan after (e)): 「施設を表示」 訪問看護ステーション switched on:
    pointerdown → the points drawn (first time: the kind's points are sent then; again after switching
    it off: already in the page), websocket bytes for each, and the renderer's redraw of the points in
    view (with the projection cached per zoom, and after a zoom change).

"Repainted" = the map container's `data-geoapp-state` changed to a new serial ending in the
level and metric asked for, AND an area's label reads the new figure computed here with geo_app
(e.g. 「富良野 49,562 人」 after moving 美瑛町 there); the time is taken at the next animation frame
after both hold, on the page's own clock from the click's pointerdown. Each repaint is split into
the arrival of the websocket message carrying the map component (the server's share), the start
of render.js's apply (Streamlit's frontend, with the main thread's long tasks before it) and the
apply itself. Bytes: every websocket frame after the click until the rerun is over, with the map
component's message and the largest messages by element (widget key). Colliding area names of
the 47 plans (中部, 西部, …) are prefixed with their prefecture, so all Japan keeps its 330 areas.
All requests that would leave localhost are refused and counted. Prints medians; no asserts.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import sys
import tempfile
import time
import urllib.parse
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
warnings.filterwarnings("ignore", message="Numba not installed")

from conftest import CHROMIUM_ARGS, offline_page, start_server, stop_server  # noqa: E402

BIEI, BIEI_POP = "01459", 9_668
BIEI_POINT = (43.5886, 142.4675)  # lat, lon inside 美瑛町
JAPAN = "全国"
VIEWPORT = (1500, 1100)

#: Installed in every page before its own scripts: the time (navigation start = 0) the map first
#: has its state applied and a visible label.
FIRST_MAP_JS = """
(() => {
  // arrival of each websocket message that carries the map component (page clock)
  const WS = window.WebSocket, find = new TextEncoder().encode('geo-app.livemap');
  const hasMap = buf => {
    const a = new Uint8Array(buf);
    outer: for (let i = 0; i + find.length <= a.length; i++) {
      for (let j = 0; j < find.length; j++) { if (a[i + j] !== find[j]) continue outer; }
      return true;
    }
    return false;
  };
  window.__mapMessages = [];
  window.__longTasks = [];  // main-thread tasks over 50 ms: the page busy with something else
  new PerformanceObserver(l => l.getEntries().forEach(e => window.__longTasks.push([e.startTime, e.duration])))
    .observe({type: 'longtask'});
  window.WebSocket = class extends WS {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', e => {
        if (e.data instanceof ArrayBuffer && hasMap(e.data)) window.__mapMessages.push(performance.now());
      });
    }
  };
  const seen = () => {
    const c = document.querySelector('.geoapp-live .leaflet-container[data-geoapp-state]');
    return c && [...c.querySelectorAll('.geoapp-label')].some(e => e.style.visibility === 'visible');
  };
  const obs = new MutationObserver(() => {
    if (window.__firstMap === undefined && seen()) { window.__firstMap = performance.now(); obs.disconnect(); }
  });
  obs.observe(document, {subtree: true, childList: true, attributes: true});
})();
"""

#: Armed before an action: from the next pointerdown, when the map shows the new state (serial
#: changed, ends as asked, an area's label reads the expected figure) and when the totals do.
ARM_JS = """
(spec) => {
  const bm = window.__bm = {t0: null, dom: null, map: null, totals: null, apply: null, before: spec.before};
  const live = window.GeoAppLive;
  if (!live.__bench) {  // time the renderer's own work: each apply's start and end
    const apply = live.apply;
    live.apply = function () {
      const a = performance.now(), r = apply.apply(this, arguments), b = window.__bm;
      const fresh = b && arguments[1] && arguments[1].serial !== b.before;  // not a re-apply of the old state
      if (fresh && b.t0 !== null && b.apply === null) {
        const got = window.__mapMessages.filter(t => t >= b.t0);
        const busy = window.__longTasks.filter(([t]) => t >= b.t0 && t < a).reduce((n, [, d]) => n + d, 0);
        b.apply = [a - b.t0, performance.now() - a, got.length ? got[got.length - 1] - b.t0 : -1, busy];
      }
      return r;
    };
    live.__bench = true;
  }
  const mapOK = () => {
    const c = document.querySelector('.geoapp-live .leaflet-container');
    const s = c ? c.getAttribute('data-geoapp-state') || '' : '';
    if (!s || s === spec.before || !s.endsWith(spec.suffix)) return false;
    return [...c.querySelectorAll('.geoapp-label')].some(e => {
      const n = e.querySelector('.name'), p = e.querySelector('.pop');
      return n && p && n.textContent === spec.label[0] && p.textContent === spec.label[1];
    });
  };
  const totalsOK = () => !spec.totals || [...document.querySelectorAll(spec.totals[0])].some(
    e => spec.totals[1].every(t => e.textContent.includes(t)));
  const check = () => {
    if (bm.t0 === null) return;
    const now = performance.now();
    if (bm.dom === null && mapOK()) {
      bm.dom = now - bm.t0;
      requestAnimationFrame(() => { bm.map = performance.now() - bm.t0; });
    }
    if (bm.totals === null && totalsOK()) bm.totals = now - bm.t0;
    if (bm.dom !== null && bm.totals !== null) obs.disconnect();
  };
  const obs = new MutationObserver(check);
  obs.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
  window.addEventListener('pointerdown', () => { if (bm.t0 === null) bm.t0 = performance.now(); },
                          {capture: true, once: true});
}
"""

#: The renderer's handle, the sizes of its state and base as UTF-8 JSON, and the view.
HANDLE_JS = """
() => {
  const h = document.querySelector('.geoapp-live').__geoapp;
  const size = o => new TextEncoder().encode(JSON.stringify(o)).length;
  const bases = globalThis.__geoappBases || {};
  const c = h.map.getCenter();
  return {serial: h.map.getContainer().getAttribute('data-geoapp-state'), state: size(h.state),
          base: h.baseKey in bases ? size(bases[h.baseKey]) : null, zoom: h.map.getZoom(), lat: c.lat, lng: c.lng,
          sameMap: window.geoappMaps.main_map === h.map && window.__benchMap === h.map,
          labels: document.querySelectorAll('.geoapp-live .geoapp-label').length,
          hidden: document.querySelectorAll('.geoapp-live .geoapp-label-hidden').length};
}
"""


@dataclass
class Wire:
    """What the page's websocket received (Streamlit's ForwardMsgs): every frame, and when the last came."""

    frames: list[bytes] = field(default_factory=list)
    last: float = field(default_factory=time.perf_counter)

    @property
    def total(self) -> int:
        return sum(len(f) for f in self.frames)

    def listen(self, page: Any) -> None:
        def on_ws(ws: Any) -> None:
            ws.on("framereceived", self._frame)

        page.on("websocket", on_ws)

    def _frame(self, payload: bytes | str) -> None:
        self.frames.append(payload.encode("utf-8") if isinstance(payload, str) else payload)
        self.last = time.perf_counter()

    def settle(self, page: Any, quiet: float = 0.8, timeout: float = 60.0) -> int:
        """Frames so far, once nothing has arrived for `quiet` s (the rerun has finished sending)."""
        end = time.perf_counter() + timeout
        while time.perf_counter() < end and time.perf_counter() - self.last < quiet:
            page.wait_for_timeout(100)
        return len(self.frames)


def kind(frame: bytes) -> str:
    """What a ForwardMsg carries, roughly: the map component, a widget (by key), a table, a chart."""
    if b"geo-app.livemap" in frame:
        return "map"
    key = re.search(rb"\$\$ID-[0-9a-f]+-([A-Za-z_0-9]+)", frame)
    if key:
        return key.group(1).decode()
    if b"index_columns" in frame:
        return "table (Arrow)"
    if b"vega" in frame.lower():
        return "chart"
    return "other"


# ---- expected figures, from geo_app itself ---------------------------------------------------------
def japan_plan() -> Any:
    """The 47 prefectures' secondary-2024 plans as one plan; names used by several prefectures
    (中部, 西部 …) get the prefecture in front, so each published area stays one area."""
    import pandas as pd

    from geo_app.core.codes import PREFECTURES
    from geo_app.core.plan import Plan
    from geo_app.io.plans import load_plan

    tables = [load_plan(f"secondary-2024:{p}").table.assign(_pref=p) for p in PREFECTURES.values()]
    t = pd.concat(tables, ignore_index=True)
    for level in ("homecare", "secondary"):
        shared = t.groupby(level)["_pref"].transform("nunique") > 1
        t.loc[shared, level] = t.loc[shared, "_pref"] + t.loc[shared, level]
    plan = Plan.from_table(t.drop(columns="_pref"), name=JAPAN)
    return plan.with_identity(source="国土数値情報（医療圏データ A38-20）の47都道府県の二次医療圏（2024）を結合")


def area_figures(plan: Any, level: str, metric: str) -> dict[str, str]:
    """Area → its label's figure as the map writes it (the registry's format)."""
    from geo_app.core.dissolve import dissolve
    from geo_app.core.metrics import METRICS
    from geo_app.io.municipalities import municipalities_for_plan

    areas = dissolve(municipalities_for_plan(plan), plan, level)  # type: ignore[arg-type]
    return {str(a): METRICS[metric].format(v) for a, v in zip(areas["area"], areas[metric], strict=True)}


def moved(plan: Any, code: str, target: str) -> Any:
    """`plan` with `code` in the home-care area `target` (the figures the app should then show)."""
    t = plan.table.copy()
    t.loc[t["code"] == code, "homecare"] = target
    return type(plan).from_table(t, name=plan.name)


# ---- page helpers ------------------------------------------------------------------------------------
def moved_text(pops: dict[str, dict[str, str]], where: str, target: str) -> str:
    """The success message's part for the target: 「富良野」39,894人 → 49,562人 (`pops[a]`: figures
    with the municipality in area a)."""
    return f"「{target}」{pops[where][target]} → {pops[target][target]}".replace(" 人", "人")


def load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_page(browser: Any, blocked: list[str]) -> tuple[Any, Wire]:
    page = offline_page(browser, blocked, viewport=VIEWPORT)  # a new browser context each time
    page.add_init_script(FIRST_MAP_JS)
    wire = Wire()
    wire.listen(page)
    return page, wire


def first_map(page: Any, url: str, timeout: float = 180_000) -> float:
    """Seconds from navigation start to the first map with labels (the page's own clock)."""
    page.goto(url)
    page.wait_for_function("() => window.__firstMap !== undefined", timeout=timeout)
    page.evaluate("() => { window.__benchMap = window.geoappMaps.main_map; }")
    return page.evaluate("() => window.__firstMap") / 1000


def idle(page: Any, wire: Wire) -> None:
    """Wait for the rerun in progress (if any) to end: no 'running' icon and a quiet websocket."""
    page.wait_for_function("() => !document.querySelector('[data-testid^=\"stStatusWidgetRunning\"]')", timeout=60_000)
    wire.settle(page, quiet=0.4)


def choose(page: Any, label: str, typed: str, option: re.Pattern) -> None:
    box = page.locator("[data-testid='stSelectbox']").filter(has_text=label).first
    box.click()
    page.keyboard.type(typed)
    page.get_by_role("option", name=option).first.click()


def button(page: Any, name: str) -> Any:
    """The one shown, enabled button of that name, once the rerun that drew it is over. (A button
    with a help tooltip has a second, zero-width copy in the page: only laid-out buttons count.)"""
    page.wait_for_function(
        "name => { const bs = [...document.querySelectorAll('button')].filter(b => b.innerText.trim() === name"
        " && b.getBoundingClientRect().width > 0); return bs.length === 1 && !bs[0].disabled; }",
        arg=name,
        timeout=30_000,
    )
    return page.get_by_role("button", name=name, exact=True).filter(visible=True)


def measure(page: Any, wire: Wire, action: Any, *, suffix: str, label: tuple[str, str], totals=None) -> dict:
    """Run `action` (ending in one click) and time it: map repainted, totals shown, bytes received."""
    idle(page, wire)
    before = page.evaluate(HANDLE_JS)["serial"]
    page.evaluate(ARM_JS, {"before": before, "suffix": suffix, "label": list(label), "totals": totals})
    start = len(wire.frames)
    action()
    page.wait_for_function(
        "() => { const b = window.__bm; return b.map !== null && b.totals !== null && b.apply !== null; }",
        timeout=60_000,
    )
    bm = page.evaluate("() => window.__bm")
    frames = wire.frames[start : wire.settle(page)]
    after = page.evaluate(HANDLE_JS)
    return {
        "map": bm["map"] / 1000,
        "dom": bm["dom"] / 1000,
        "totals": bm["totals"] / 1000,
        "apply_at": bm["apply"][0] / 1000,
        "apply": bm["apply"][1] / 1000,
        "message_at": bm["apply"][2] / 1000,
        "busy": bm["apply"][3] / 1000,
        "bytes": sum(len(f) for f in frames),
        "component": sum(len(f) for f in frames if kind(f) == "map"),
        "largest": sorted(((len(f), kind(f)) for f in frames), reverse=True)[:4],
        "state": after["state"],
        "serial": after["serial"],
    }


def med(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def report(name: str, rows: list[dict], target: str, *, totals: str | None = None, noun: str = "edit") -> None:
    if not rows:
        return
    print(
        f"{name}: map repainted median {med(rows, 'map'):.3f} s (DOM {med(rows, 'dom'):.3f} s) over {len(rows)}"
        f" ({target}); each: " + ", ".join(f"{r['map']:.3f}" for r in rows)
    )
    print(
        f"    where the time goes (medians): the map's message arrives {med(rows, 'message_at'):.3f} s after the "
        f"click (server), the renderer's apply starts at {med(rows, 'apply_at'):.3f} s (Streamlit's frontend; "
        f"main thread in long tasks {med(rows, 'busy'):.3f} s before it) and takes {med(rows, 'apply'):.3f} s "
        "(render.js)"
    )
    if totals:
        print(
            f"    {totals}: median {med(rows, 'totals'):.3f} s; each: " + ", ".join(f"{r['totals']:.3f}" for r in rows)
        )
    print(
        f"    websocket bytes received per {noun}: median {med(rows, 'bytes') / 1e3:.1f} KB, max "
        f"{max(r['bytes'] for r in rows) / 1e3:.1f} KB; of which the map component's message median "
        f"{med(rows, 'component') / 1e3:.1f} KB (state JSON {med(rows, 'state') / 1e3:.1f} KB; target ≤ 20 KB)"
    )
    print("    largest messages of the last one: " + ", ".join(f"{k} {n / 1e3:.1f} KB" for n, k in rows[-1]["largest"]))


def first_load(page: Any, wire: Wire) -> str:
    """What the first load sent: all websocket bytes, the map component's message (base + state),
    the base and the state as JSON, and the labels drawn."""
    sent = wire.frames[: wire.settle(page)]
    h = page.evaluate(HANDLE_JS)
    component = sum(len(f) for f in sent if kind(f) == "map")
    return (
        f"websocket {sum(map(len, sent)) / 1e3:.0f} KB received, of which the map component's message "
        f"{component / 1e3:.0f} KB (base, once per session: {h['base'] / 1e3:.0f} KB JSON; state "
        f"{h['state'] / 1e3:.1f} KB); labels {h['labels']} ({h['hidden']} given way at the first zoom {h['zoom']})"
    )


#: Armed before a click on a facility switch: from the next pointerdown, when `kind` is shown and drawn.
ARM_FACILITY_JS = """kind => {
  const c = window.geoappMaps.main_map.getContainer(), f = window.__fac = {t0: null, t: null};
  document.addEventListener('pointerdown', () => { if (f.t0 === null) f.t0 = performance.now(); },
    {capture: true, once: true});
  const tick = () => {
    const h = c.__geoapp, on = (c.getAttribute('data-geoapp-facilities') || '').split(',').includes(kind);
    if (f.t0 !== null && on && h.facilities.drawn[kind] > 0) { f.t = performance.now() - f.t0; return; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""
#: The renderer's redraw of the facility points in view: [ms with the projection cached, ms after a zoom
#: change (projection recomputed), points drawn].
REDRAW_JS = """kind => { const f = window.geoappMaps.main_map.getContainer().__geoapp.facilities;
  let t = performance.now(); f.redraw(); const cached = performance.now() - t;
  f.proj = {}; t = performance.now(); f.redraw(); return [cached, performance.now() - t, f.drawn[kind]]; }"""


def facility_points(page: Any, wire: Wire, where: str, kind: str = "home_nursing_station") -> None:
    """(f): switch a kind of facility points on (its points sent then), off, and on again."""
    pill = page.locator(".st-key-view_facilities").get_by_role("button", name=re.compile("^訪問看護ステーション（"))
    label = pill.inner_text().strip()
    rows = []
    for _ in range(2):
        idle(page, wire)
        start = len(wire.frames)
        page.evaluate(ARM_FACILITY_JS, kind)
        pill.click()
        page.wait_for_function("() => window.__fac.t !== null", timeout=120_000)
        received = sum(map(len, wire.frames[start : wire.settle(page)]))
        rows.append((page.evaluate("() => window.__fac.t") / 1000, received))
        cached, fresh, drawn = page.evaluate(REDRAW_JS, kind)
        idle(page, wire)
        pill.click()  # off again
        page.wait_for_function(
            "() => !(window.geoappMaps.main_map.getContainer().getAttribute('data-geoapp-facilities') || '')",
            timeout=60_000,
        )
    (first, first_bytes), (again, again_bytes) = rows
    print(
        f"(f) {where}, 「施設を表示」 {label} on: points drawn {first:.3f} s after the click, the first time (its "
        f"points sent then: {first_bytes / 1e3:.0f} KB received); again after off {again:.3f} s "
        f"({again_bytes / 1e3:.0f} KB); redraw of the {drawn:,} points in view {cached:.1f} ms "
        f"({fresh:.1f} ms after a zoom change)"
    )


# ---- the parts ---------------------------------------------------------------------------------------
def hokkaido(browser: Any, port: int, blocked: list[str], args: argparse.Namespace) -> None:
    from geo_app import load_plan
    from geo_app.core.plan import LEVEL_JA

    url = f"http://localhost:{port}/"
    paints: list[float] = []
    for i in range(args.runs + 1):
        page, wire = new_page(browser, blocked)
        dt = first_map(page, url)
        if i == 0:
            print(f"(a) first map, cold server (first load after start): {dt:.2f} s (target ≤ 6 s)")
            print("    first load: " + first_load(page, wire))
        else:
            paints.append(dt)
        if i < args.runs:
            page.context.close()
    if paints:
        print(
            f"(a) first map, warm server: median {statistics.median(paints):.2f} s over {len(paints)} new contexts "
            f"(target ≤ 3 s); each: " + ", ".join(f"{t:.2f}" for t in paints)
        )

    plan = load_plan("hokkaido-2024")
    figs = {
        (lv, m): area_figures(plan, lv, m) for lv in ("homecare", "secondary") for m in ("population", "aging_rate")
    }
    top = {"homecare": "札幌市", "secondary": "札幌"}  # the most populous area: labelled at any zoom

    # (b) switches of the colouring and of the level, on the unedited plan
    metric_rows, level_rows = [], []
    for k in range(args.switches * 2):
        metric, typed = ("aging_rate", "高齢化率") if k % 2 == 0 else ("population", "人口")
        idle(page, wire)
        page.locator("[data-testid='stSelectbox']").filter(has_text="色分け").first.click()
        page.keyboard.type(typed)
        option = page.get_by_role("option", name=re.compile(rf"^{typed}$")).first
        metric_rows.append(
            measure(
                page,
                wire,
                option.click,
                suffix=f"-homecare-{metric}",
                label=(top["homecare"], figs[("homecare", metric)][top["homecare"]]),
            )
        )
    radio = page.locator("[data-testid='stRadio']").filter(has_text="表示する単位")
    n_secondary = len(plan.areas("secondary"))
    for k in range(args.switches * 2):
        level = "secondary" if k % 2 == 0 else "homecare"
        count = str(n_secondary if level == "secondary" else len(plan.areas("homecare")))
        idle(page, wire)
        level_rows.append(
            measure(
                page,
                wire,
                radio.get_by_text(LEVEL_JA[level], exact=True).click,
                suffix=f"-{level}-population",
                label=(top[level], figs[(level, "population")][top[level]]),
                totals=["[data-testid='stMetric']", [f"{LEVEL_JA[level]}の数", count]],
            )
        )
    report("(b) 色分け 人口 ↔ 高齢化率", metric_rows, "target ≤ 0.3 s", noun="switch")
    report(
        "(b) 表示する単位 在宅医療圏 ↔ 二次医療圏",
        level_rows,
        "target ≤ 0.3 s",
        totals="click → 「…医療圏の数」 shows the new count",
        noun="switch",
    )

    # (c) edits: select 美瑛町 on the map at a view of our own, move it back and forth, undo the last move
    idle(page, wire)
    page.evaluate(
        "([lat, lon]) => { const m = window.geoappMaps.main_map;"
        " m.getContainer().scrollIntoView({block: 'center'}); m.setView([lat, lon], 9, {animate: false}); }",
        list(BIEI_POINT),
    )
    page.wait_for_timeout(300)
    view0 = page.evaluate(HANDLE_JS)
    pt = page.evaluate(
        "([lat, lon]) => { const m = window.geoappMaps.main_map, p = m.latLngToContainerPoint([lat, lon]);"
        " const r = m.getContainer().getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; }",
        list(BIEI_POINT),
    )
    page.mouse.click(*pt)
    page.get_by_text(f"美瑛町（{BIEI}）").first.wait_for(timeout=30_000)
    home = plan.area_of(BIEI) or ""
    other = "富良野"
    pops = {home: area_figures(plan, "homecare", "population")}
    pops[other] = area_figures(moved(plan, BIEI, other), "homecare", "population")
    edits = []
    where = home
    for _ in range(args.edits):
        target = other if where == home else home
        after = pops[target]  # the figures with 美瑛町 in `target`
        idle(page, wire)
        choose(page, "移動先の在宅医療圏", target, re.compile(rf"^{target}（"))
        move = button(page, "移動する")
        edits.append(
            measure(
                page,
                wire,
                move.click,
                suffix="-homecare-population",
                label=(target, after[target]),
                totals=["[data-testid='stAlert']", [moved_text(pops, where, target)]],
            )
        )
        where = target
    idle(page, wire)
    undo_button = button(page, "元に戻す")
    back = home if where == other else other
    undo = measure(
        page,
        wire,
        undo_button.click,
        suffix="-homecare-population",
        label=(back, pops[back][back]),
        totals=["[data-testid='stAlert']", ["元に戻しました"]],
    )
    view1 = page.evaluate(HANDLE_JS)
    report(
        f"(c) click 移動する (美瑛町 {home} ↔ {other})",
        edits,
        "target ≤ 0.3 s, aim 0.1 s",
        totals="click → success message with both new totals",
    )
    print(
        f"    labels after the moves: 「{other} {pops[other][other]}」 / 「{home} {pops[other][home]}」 (expected from "
        f"geo_app); the map's serial went {view0['serial']} → {edits[0]['serial']} → … → {view1['serial']}"
    )
    print(
        f"(c) click 元に戻す → map repainted {undo['map']:.3f} s (apply {undo['apply']:.3f} s), message "
        f"{undo['totals']:.3f} s, "
        f"{undo['bytes'] / 1e3:.1f} KB received"
    )
    same = (view0["zoom"], view0["lat"], view0["lng"]) == (view1["zoom"], view1["lat"], view1["lng"])
    print(
        f"(d) view before: zoom {view0['zoom']} centre {view0['lat']:.5f}, {view0['lng']:.5f}; after {len(edits)} "
        f"edits and an undo: zoom {view1['zoom']} centre {view1['lat']:.5f}, {view1['lng']:.5f} → "
        f"{'identical' if same else 'CHANGED'}; same Leaflet map object: {view1['sameMap']}"
    )
    facility_points(page, wire, "Hokkaido (zoom 9 on 美瑛町)")
    page.context.close()


def japan(browser: Any, port: int, blocked: list[str], args: argparse.Namespace, plan: Any) -> None:
    url = f"http://localhost:{port}/?plan={urllib.parse.quote(JAPAN)}"
    loads: list[float] = []
    for i in range(args.japan_runs + 1):
        page, wire = new_page(browser, blocked)
        dt = first_map(page, url)
        if i == 0:
            sent = first_load(page, wire)
            metrics = page.locator("[data-testid='stMetric']").all_inner_texts()
            units = next((m.split()[-1] for m in metrics if m.startswith("市町村の数")), "?")
            print(
                f"(e) all Japan: the app shows 市町村の数 {units} for {len(plan)} planned units "
                f"({plan.table['homecare'].nunique()} areas); metrics: "
                + " / ".join(" ".join(m.split()) for m in metrics)
            )
            print(f"(e) all Japan, first map, first open in this server: {dt:.2f} s (target ≤ 8 s)")
            print(f"    first load: {sent}")
        else:
            loads.append(dt)
        if i < args.japan_runs:
            page.context.close()
    if loads:
        print(
            f"(e) all Japan, first map, warm: median {statistics.median(loads):.2f} s over {len(loads)} "
            "(target ≤ 8 s); each: " + ", ".join(f"{t:.2f}" for t in loads)
        )
    home, other = plan.area_of(BIEI) or "", "富良野"
    pops = {home: area_figures(plan, "homecare", "population")}
    pops[other] = area_figures(moved(plan, BIEI, other), "homecare", "population")
    idle(page, wire)
    choose(page, "市町村", "美瑛", re.compile(r"^美瑛町"))
    page.get_by_text(f"美瑛町（{BIEI}）").first.wait_for(timeout=30_000)
    rows, where = [], home
    for _ in range(args.japan_edits):
        target = other if where == home else home
        idle(page, wire)
        choose(page, "移動先の在宅医療圏", target, re.compile(rf"^{target}（"))
        move = button(page, "移動する")
        rows.append(
            measure(
                page,
                wire,
                move.click,
                suffix="-homecare-population",
                label=(target, pops[target][target]),
                totals=["[data-testid='stAlert']", [moved_text(pops, where, target)]],
            )
        )
        where = target
    shown = page.evaluate(
        "name => [...document.querySelectorAll('.geoapp-live .geoapp-label')].filter("
        "e => e.querySelector('.name').textContent === name).map(e => !e.classList.contains('geoapp-label-hidden'))",
        where,
    )
    report(
        f"(e) all Japan, click 移動する (美瑛町 {home} ↔ {other})",
        rows,
        "target ≤ 0.5 s",
        totals="click → success message with the new totals",
    )
    print(f"    the moved-to area's label 「{where} {pops[where][where]}」 visible at the first zoom: {shown}")
    facility_points(page, wire, "all Japan (first view)")
    page.context.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5, help="warm first-map loads (Hokkaido)")
    ap.add_argument("--edits", type=int, default=10)
    ap.add_argument("--switches", type=int, default=2, help="round trips of each switch")
    ap.add_argument("--japan-runs", type=int, default=2)
    ap.add_argument("--japan-edits", type=int, default=4)
    ap.add_argument("--no-japan", action="store_true")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from geo_app.io.store import PlanStore

    tmp = Path(tempfile.mkdtemp(prefix="geo_app_bench_"))
    db = tmp / "plans.sqlite3"
    plan = japan_plan()
    with PlanStore(path=db) as store:
        store.save(plan, expected_version=None, note="bench_app_browser: 47 prefectures' secondary-2024")
    port = free_port()
    blocked: list[str] = []
    t0 = time.perf_counter()
    proc = start_server(port, db, tmp / "server.log")
    print(f"server up in {time.perf_counter() - t0:.2f} s; load average {load()}")
    t_all = time.perf_counter()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            hokkaido(browser, port, blocked, args)
            if not args.no_japan:
                japan(browser, port, blocked, args, plan)
            browser.close()
    finally:
        stop_server(proc)
        shutil.rmtree(tmp, ignore_errors=True)
    took = time.perf_counter() - t_all
    print(f"requests refused (would have needed the network): {len(blocked)}; run took {took:.0f} s")
    print(f"load average at the end: {load()} on {os.cpu_count()} CPUs (other work on the machine slows every figure)")


if __name__ == "__main__":
    main()
