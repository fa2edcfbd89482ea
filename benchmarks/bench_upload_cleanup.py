"""Server memory and temp folder after refused uploads: `geo-app app` driven by headless Chromium.

Starts the real server (its own temp folder, so every byte it leaves there is counted), opens the
data page, uploads `--count` files of `--size-mb` through the boundaries or population uploader,
presses 「このデータを使う」 after each, and prints the server process's RSS (VmRSS, and VmHWM for the
peak) before and after, and the bytes left in its temp folder. Only 127.0.0.1 / localhost.

    python benchmarks/bench_upload_cleanup.py --size-mb 250 --count 3 --kind population
    PYTHONPATH=/path/to/old/checkout python benchmarks/bench_upload_cleanup.py …   # the same for another version

Numbers for the report, not a test: nothing here asserts a time or a size.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "tests" / d) for d in ("app", "")]

from conftest import stop_server, wait_until_healthy  # noqa: E402  (one way to start and stop servers)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LABEL = {"boundaries": "行政区域", "population": "人口表"}
SUFFIX = {"boundaries": ".zip", "population": ".csv"}


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) // 1024
    return out


def server_pid(launcher: int, timeout: float = 30) -> int:
    """The Streamlit process `geo-app app` started (the launcher's child)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        kids = Path(f"/proc/{launcher}/task/{launcher}/children").read_text().split()
        if kids:
            return int(kids[0])
        time.sleep(0.2)
    raise RuntimeError("no server process")


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def start(port: int, work: Path, max_upload_mb: int | None = None) -> subprocess.Popen:
    """`geo-app app`; with `max_upload_mb`, the same server process with that upload limit instead."""
    exe = shutil.which("geo-app")
    cmd = [*([exe] if exe else [sys.executable, "-m", "geo_app.cli"]), "app", "--port", str(port), "--headless"]
    if max_upload_mb:
        from geo_app.app.launch import streamlit_flags

        flags = {**streamlit_flags(port, True), "server.maxUploadSize": max_upload_mb}
        cmd = [
            sys.executable,
            "-m",
            "geo_app.app.serve",
            *(f"--{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in flags.items()),
        ]
    tmp = work / "server_tmp"
    tmp.mkdir()
    env = dict(os.environ, GEO_APP_DB_PATH=str(work / "plans.sqlite3"), TMPDIR=str(tmp))
    env.pop("GEO_APP_DATABASE_URL", None)
    env.pop("GEO_APP_UPLOAD_DIR", None)
    proc = subprocess.Popen(
        cmd, env=env, stdout=(work / "server.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )
    wait_until_healthy(proc, port, work / "server.log", timeout=120)
    return proc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=250)
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--kind", choices=list(LABEL), default="population")
    ap.add_argument("--port", type=int, default=8599)
    ap.add_argument(
        "--server-max-upload-mb",
        type=int,
        default=None,
        help="start the server process directly with this upload limit (to compare with 1024)",
    )
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="geo_app_bench_upload_"))
    files = work / "files"
    files.mkdir()
    first = files / f"big_1{SUFFIX[args.kind]}"
    with first.open("wb") as f:  # random bytes: not a zip, not a table (a CSV of 'x' for the table)
        chunk = os.urandom(1 << 20) if args.kind == "boundaries" else b"x" * ((1 << 20) - 1) + b"\n"
        for _ in range(args.size_mb):
            f.write(chunk)
    paths = [first]
    for i in range(2, args.count + 1):  # the same bytes under other names (hard links: no extra disk)
        p = files / f"big_{i}{SUFFIX[args.kind]}"
        os.link(first, p)
        paths.append(p)

    proc = start(args.port, work, args.server_max_upload_mb)
    pid = proc.pid if args.server_max_upload_mb else server_pid(proc.pid)
    tmp = work / "server_tmp"
    where = subprocess.run(
        [sys.executable, "-c", "import geo_app; print(geo_app.__file__)"], capture_output=True, text=True
    )
    print(f"geo_app from: {where.stdout.strip()}")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1500, "height": 1100}, locale="ja-JP")
            page.route(
                "**/*",
                lambda r: (
                    r.continue_()
                    if r.request.url.startswith(
                        (
                            "http://localhost",
                            "http://127.0.0.1",
                            "ws://localhost",
                            "ws://127.0.0.1",
                            "data:",
                            "blob:",
                            "about:",
                        )
                    )
                    else r.abort()
                ),
            )
            page.goto(f"http://localhost:{args.port}/", wait_until="domcontentloaded")
            page.frame_locator("iframe[title='geo_app.app.mapview.folium_map']").locator(
                ".geoapp-label"
            ).first.wait_for(timeout=120_000)
            page.get_by_text("都道府県・データ", exact=True).first.click()
            page.get_by_role("button", name="このデータを使う").wait_for(timeout=60_000)
            time.sleep(3)
            before = proc_status(pid)
            print(
                f"before uploads: server RSS {before['VmRSS']} MB (peak so far {before['VmHWM']} MB), "
                f"temp folder {folder_bytes(tmp) / 1e6:.1f} MB"
            )
            for p in paths:
                t0 = time.perf_counter()
                uploader = page.locator("[data-testid='stFileUploader']").filter(has_text=LABEL[args.kind]).first
                uploader.locator("input[type='file']").set_input_files(str(p))
                # uploaded (its name listed) or refused by the browser (an error under the uploader)
                page.wait_for_function(
                    "([label, name]) => { const u = [...document.querySelectorAll(\"[data-testid='stFileUploader']\")]"
                    ".find(e => e.innerText.includes(label)); if (!u) return false;"
                    " if (/must be/.test(u.innerText)) return true;"
                    " const chips = [...u.querySelectorAll(\"[data-testid='stFileChipName']\")];"
                    " return chips.some(c => c.innerText.includes(name))"
                    " && !u.querySelector(\"[data-testid='stFileChipIconSpinner']\"); }",
                    arg=[LABEL[args.kind], p.name],
                    timeout=300_000,
                )
                time.sleep(1)  # the rerun that hands the file to the script
                uploaded = time.perf_counter() - t0
                shown = uploader.inner_text().replace("\n", " ")[-120:]
                page.get_by_role("button", name="このデータを使う").click()
                msg = page.locator("[data-testid='stAlert']").first
                msg.wait_for(timeout=300_000)
                text = msg.inner_text().replace("\n", " ")[:160]
                now = proc_status(pid)
                print(
                    f"{p.name} ({args.size_mb} MB): chosen in {uploaded:.1f} "
                    f"s, uploader shows 「{shown}」 → 「{text}」; "
                    f"server RSS {now['VmRSS']} MB (peak {now['VmHWM']} "
                    f"MB), temp folder {folder_bytes(tmp) / 1e6:.1f} MB"
                )
                time.sleep(1)
            time.sleep(10)
            after = proc_status(pid)
            print(
                f"after {len(paths)} uploads (+10 s): server RSS {after['VmRSS']} MB (peak {after['VmHWM']} MB), "
                f"temp folder {folder_bytes(tmp) / 1e6:.1f} MB"
            )
            for entry in sorted(tmp.rglob("*"))[:20]:
                print("   left:", entry.relative_to(tmp), entry.stat().st_size if entry.is_file() else "")
            browser.close()
    finally:
        stop_server(proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
