#!/usr/bin/env python3
"""Server memory per browser session of the app, with the live map (Hokkaido, the default plan).

    python benchmarks/bench_app_memory.py [--sessions 5]

Starts `geo-app app --headless` on a free port with a throw-away plan store and reads the resident
memory (VmRSS in /proc) of the server: the `geo-app` launcher and every process under it. Figures:
the idle server (after its warm-up), one session with the map shown, then `--sessions` concurrent
sessions (each its own browser context with the map shown and one edit done: 美瑛町 moved from
上川 to 富良野, the map showing 「富良野 49,562 人」), and the same after the sessions are closed.
Prints MB per additional session: (RSS with N sessions − RSS with one) / (N − 1); target ≤ 60 MB.
All requests that would leave localhost are refused and counted. No asserts.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
warnings.filterwarnings("ignore", message="Numba not installed")

from conftest import CHROMIUM_ARGS, offline_page, start_server, stop_server  # noqa: E402

VIEWPORT = (1500, 1100)
MOVED_LABEL = ("富良野", "49,562 人")  # 富良野 39,894 + 美瑛町 9,668 (2020 census)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree(pid: int) -> list[int]:
    """`pid` and every process under it (parents read from /proc/<pid>/stat)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])  # the name may hold spaces and brackets
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def rss_mb(pid: int) -> float:
    """Resident memory of the process tree in MB (VmRSS, summed)."""
    total = 0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])  # kB
        except OSError:
            continue
    return total / 1024


def steady_rss(pid: int, *, settle: float = 2.0, timeout: float = 60.0) -> float:
    """RSS once it has stopped growing for `settle` s (the server finished the work in flight)."""
    last, since, end = rss_mb(pid), time.perf_counter(), time.perf_counter() + timeout
    while time.perf_counter() < end:
        time.sleep(0.5)
        now = rss_mb(pid)
        if abs(now - last) > 1.0:
            last, since = now, time.perf_counter()
        elif time.perf_counter() - since >= settle:
            return now
    return rss_mb(pid)


def open_map(browser: Any, url: str, blocked: list[str]) -> Any:
    """A new browser context on the app with the map shown (labels drawn)."""
    page = offline_page(browser, blocked, viewport=VIEWPORT)
    page.goto(url)
    page.wait_for_selector(".geoapp-live .leaflet-container[data-geoapp-state] .geoapp-label", timeout=180_000)
    return page


def choose(page: Any, label: str, typed: str, option: re.Pattern) -> None:
    box = page.locator("[data-testid='stSelectbox']").filter(has_text=label).first
    box.click()
    page.keyboard.type(typed)
    page.get_by_role("option", name=option).first.click()


def edit(page: Any) -> None:
    """Move 美瑛町 to 富良野 and wait for the map's label to say so."""
    choose(page, "市町村", "美瑛", re.compile(r"^美瑛町"))
    page.get_by_text("美瑛町（01459）").first.wait_for(timeout=60_000)
    choose(page, "移動先の在宅医療圏", "富良野", re.compile(r"^富良野（"))
    page.wait_for_function(
        "() => { const bs = [...document.querySelectorAll('button')].filter(b => b.innerText.trim() === '移動する'"
        " && b.getBoundingClientRect().width > 0); return bs.length === 1 && !bs[0].disabled; }",
        timeout=60_000,
    )
    page.get_by_role("button", name="移動する", exact=True).filter(visible=True).click()
    page.wait_for_function(
        "([name, pop]) => [...document.querySelectorAll('.geoapp-live .geoapp-label')].some(e =>"
        " e.querySelector('.name').textContent === name && e.querySelector('.pop').textContent === pop)",
        arg=list(MOVED_LABEL),
        timeout=60_000,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=5)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="geo_app_bench_"))
    port = free_port()
    url = f"http://localhost:{port}/"
    blocked: list[str] = []
    proc = start_server(port, tmp / "plans.sqlite3", tmp / "server.log")
    try:
        idle = steady_rss(proc.pid, settle=3.0)
        print(f"server idle after its warm-up: {idle:.0f} MB RSS ({len(tree(proc.pid))} processes)")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            pages = [open_map(browser, url, blocked)]
            one_map = steady_rss(proc.pid)
            edit(pages[0])
            one = steady_rss(proc.pid)
            print(f"1 session, map shown: {one_map:.0f} MB; after one edit: {one:.0f} MB")
            for _ in range(args.sessions - 1):
                page = open_map(browser, url, blocked)
                edit(page)
                pages.append(page)
            many = steady_rss(proc.pid)
            n = len(pages)
            per = (many - one) / (n - 1) if n > 1 else float("nan")
            print(
                f"{n} concurrent sessions, each with the map and one edit: {many:.0f} MB → "
                f"{per:.1f} MB per additional session (target ≤ 60 MB)"
            )
            for page in pages:
                page.context.close()
            browser.close()
        time.sleep(5)
        print(f"after the {n} browser contexts closed (5 s later): {rss_mb(proc.pid):.0f} MB")
    finally:
        stop_server(proc)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"requests refused (would have needed the network): {len(blocked)}; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
