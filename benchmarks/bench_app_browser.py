#!/usr/bin/env python3
"""The app in headless Chromium: first paint of the map, and click-to-updated-totals of a move.

    python benchmarks/bench_app_browser.py [--runs 5]

Starts `geo-app app --headless` on a free port with a throw-away plan store, then measures
(a) first paint: a new page → Leaflet has drawn the area paths and labels in the map iframe
    (the first, cold load — data read from disk — is printed separately; the median is over
    later loads, each a new browser session); target ≤ 5 s;
(b) a move in Hokkaido: click 「移動する」 → the message with both areas' new totals is shown
    (美瑛町 moved back and forth between 上川 and 富良野); target ≤ 1.5 s. The time until the
    map's labels show the new totals is printed too.
All requests that would leave localhost are refused and counted. Prints medians; no asserts.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "tests" / d) for d in ("app", "")]

from test_app_browser import (  # noqa: E402
    CHROMIUM_ARGS,
    MAP_IFRAME,
    alert,
    choose,
    click_button,
    free_port,
    offline_page,
    start_server,
    stop_server,
    wait_for_map,
)

BIEI, BIEI_POP, KAMIKAWA, FURANO = "01459", 9_668, 51_990, 39_894


def label_has(page, text: str, timeout: float = 30_000) -> None:
    page.wait_for_function(
        "([sel, want]) => { const f = document.querySelector(sel); if (!f) return false;"
        " return [...f.contentDocument.querySelectorAll('.geoapp-label')].some(e => "
        "(e.querySelector('.name').textContent + ' ' + e.querySelector('.pop').textContent) === want); }",
        arg=[MAP_IFRAME, text],
        timeout=timeout,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="geo_app_bench_"))
    port = free_port()
    blocked: list[str] = []
    t0 = time.perf_counter()
    proc = start_server(port, tmp / "plans.sqlite3", tmp / "server.log")
    print(f"server up in {time.perf_counter() - t0:.2f} s")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            paints = []
            for i in range(args.runs + 1):
                page = offline_page(browser, blocked)  # a new browser context each time
                t = time.perf_counter()
                page.goto(f"http://localhost:{port}/")
                wait_for_map(page)
                dt = time.perf_counter() - t
                if i == 0:
                    print(f"(a) first paint, cold server (data loaded from disk): {dt:.2f} s")
                else:
                    paints.append(dt)
                if i < args.runs:
                    page.close()

            # (b) moves in the last page
            page.get_by_text("市町村", exact=True).first.wait_for()
            choose(page, "市町村", "美瑛", re.compile(r"^美瑛町"))
            page.get_by_text(f"美瑛町（{BIEI}）").first.wait_for()
            totals, maps = [], []
            where = "上川"
            for _ in range(args.runs * 2):
                target = "富良野" if where == "上川" else "上川"
                choose(page, "移動先の在宅医療圏", target, re.compile(rf"^{target}（"))
                new_k = KAMIKAWA - BIEI_POP if target == "富良野" else KAMIKAWA
                new_f = FURANO + BIEI_POP if target == "富良野" else FURANO
                t = click_button(page, "移動する")
                text = alert(page, f"から「{target}」へ移動しました")
                totals.append(time.perf_counter() - t)
                if f"→ {new_k:,}人" not in text and f"→ {new_f:,}人" not in text:
                    print("unexpected message:", text)
                label_has(page, f"富良野 {new_f:,} 人")
                maps.append(time.perf_counter() - t)
                where = target
            browser.close()
    finally:
        stop_server(proc)
    print(
        "(a) first paint of the map, warm server: median "
        f"{statistics.median(paints):.2f} s over {len(paints)} loads (target ≤ 5 s)"
    )
    print(
        "(b) click 移動する → both totals updated: median "
        f"{statistics.median(totals):.2f} s over {len(totals)} moves (target ≤ 1.5 s)"
    )
    print(f"    click 移動する → map labels updated:  median {statistics.median(maps):.2f} s")
    print(
        "    each move (totals / map), s: "
        + ", ".join(f"{a:.2f}/{b:.2f}" for a, b in zip(totals, maps, strict=True))
        + "  (moves 1–2 build new layers; later moves revisit plans whose layers are cached)"
    )
    print(f"requests refused (would have needed the network): {len(blocked)}")


if __name__ == "__main__":
    main()
