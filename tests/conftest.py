"""Shared fixtures: real embedded data, loaded once per test session."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

import pandas as pd
import pytest

warnings.filterwarnings("ignore", message="Numba not installed")

ROOT = Path(__file__).resolve().parents[1]
APP_MAIN = str(ROOT / "geo_app" / "app" / "main.py")
SHARED = ROOT.parent / "shared" / "data"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def census() -> pd.DataFrame:
    from geo_app.io.population import load_population

    return load_population("census2020")


@pytest.fixture(scope="session")
def hokkaido_plan():
    from geo_app import load_plan

    return load_plan("hokkaido-2024")


@pytest.fixture(scope="session")
def hokkaido(hokkaido_plan):
    from geo_app.io.municipalities import municipalities_for_plan

    return municipalities_for_plan(hokkaido_plan)


@pytest.fixture(scope="session")
def japan():
    """All of Japan with 川崎市 by ward, the granularity of the secondary-2020 plans."""
    from geo_app import load_municipalities

    return load_municipalities(keep_wards_of={"14130"})


def require_chromium() -> str:
    """Path to Chromium; a skip locally, but a failure in CI, where .ci/run installs it."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail("Chromium がありません（.ci/run が apt-get install chromium するはずです）")
    pytest.skip("no /usr/bin/chromium")


def chromium_browser():
    """Headless Chromium as the tests drive it (the system's /usr/bin/chromium, no download)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


browser = pytest.fixture(chromium_browser, name="browser")


def offline_page(browser, requests: list[str], *, viewport: tuple[int, int] = (1400, 1000)):
    """A page whose every non-file, non-localhost request is refused and recorded."""
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]}, locale="ja-JP")

    def route(r):
        url = r.request.url
        if url.startswith(
            (
                "file:",
                "data:",
                "http://127.0.0.1",
                "http://localhost",
                "ws://127.0.0.1",
                "ws://localhost",
                "blob:",
                "about:",
            )
        ):
            return r.continue_()
        requests.append(url)
        return r.abort()

    page.route("**/*", route)
    return page


# ---- the app server, as users start it ------------------------------------------------------------
def build_data_module():
    """scripts/build_data.py as a module (it is a script, not part of the package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "build_data", Path(__file__).resolve().parents[1] / "scripts" / "build_data.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def point_under_mouse(page, map_js: str, lat: float, lon: float, zoom: int = 9) -> None:
    """Centre the Leaflet map `map_js` (a JS expression) on a point at `zoom` and move the mouse there."""
    pt = page.evaluate(
        f"([lat, lon, z]) => {{ const m = {map_js}; m.setView([lat, lon], z, {{animate: false}});"
        " const p = m.latLngToContainerPoint([lat, lon]), r = m.getContainer().getBoundingClientRect();"
        " return {x: p.x + r.left, y: p.y + r.top}; }",
        [lat, lon, zoom],
    )
    page.mouse.move(pt["x"], pt["y"])


def start_server(port: int, db: Path, log: Path) -> subprocess.Popen:
    exe = shutil.which("geo-app")
    cmd = [exe] if exe else [sys.executable, "-m", "geo_app.cli"]
    env = dict(os.environ, GEO_APP_DB_PATH=str(db))
    env.pop("GEO_APP_DATABASE_URL", None)
    proc = subprocess.Popen(
        [*cmd, "app", "--port", str(port), "--headless"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_until_healthy(proc, port, log)
    return proc


def wait_until_healthy(
    proc: subprocess.Popen, port: int, log: Path, *, host: str = "localhost", timeout: float = 90.0
) -> None:
    """Wait for a Streamlit server's health check; a server that exits or never answers is
    stopped and reported with the end of its log (a start-up failure, not a timing check)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    stop_server(proc)
    raise RuntimeError(f"server did not answer within {timeout:.0f} s: {log.read_text(errors='replace')[-2000:]}")


def stop_server(proc: subprocess.Popen) -> None:
    """Stop the launcher and the Streamlit process it started (its own process group)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture
def db(tmp_path, monkeypatch):
    """A private SQLite store for the app under test (never the user's own)."""
    path = tmp_path / "plans.sqlite3"
    monkeypatch.setenv("GEO_APP_DB_PATH", str(path))
    monkeypatch.delenv("GEO_APP_DATABASE_URL", raising=False)
    return path


# ---- the app through Streamlit's AppTest (no browser) ------------------------------------------------
def rerun(at):
    """Run the app script once more and fail on any exception it shows."""
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def new_app(timeout: float = 120, **query):
    """A fresh user session on the app's main script (`query`: ?plan=… and the like)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP_MAIN, default_timeout=timeout)
    for k, v in query.items():
        at.query_params[k] = v
    return rerun(at)
