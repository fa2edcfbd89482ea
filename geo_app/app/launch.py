"""Start the Streamlit server on the app's entry script, configured to work with no network."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from geo_app.app.uploads import MAX_UPLOAD_MB

__all__ = ["launch", "streamlit_flags", "MAIN_SCRIPT"]

MAIN_SCRIPT = Path(__file__).resolve().with_name("main.py")


def streamlit_flags(port: int = 8501, headless: bool = False) -> dict[str, object]:
    """Streamlit options, passed as command-line flags (they beat any config.toml the user has).

    No usage statistics (no network), no e-mail prompt on first start, no file watcher (the
    app is installed code, not a script being edited). Uploads up to `MAX_UPLOAD_MB` (200 MB):
    Streamlit holds each upload in memory, and a prefecture's N03 zip is far smaller; a larger
    file is refused by the browser before a byte is sent (see uploads.py for the reasoning).
    The map's assets are inlined by `mapview`, so static file serving is not needed.
    """
    return {
        "server.port": int(port),
        "server.headless": bool(headless),
        "server.address": "localhost",
        "server.showEmailPrompt": False,
        "server.fileWatcherType": "none",
        "server.runOnSave": False,
        "server.maxUploadSize": MAX_UPLOAD_MB,
        "server.enableStaticServing": False,
        "browser.gatherUsageStats": False,
        "browser.serverAddress": "localhost",
        "global.developmentMode": False,
        "client.toolbarMode": "minimal",
        "client.showErrorDetails": "none",
        "theme.base": "light",
    }


def _flag(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def launch(port: int = 8501, headless: bool = False) -> int:
    """Run the Streamlit server on geo_app/app/main.py until it stops; returns its exit code."""
    cmd = [sys.executable, "-m", "geo_app.app.serve"]
    for key, value in streamlit_flags(port, headless).items():
        cmd.append(f"--{key}={_flag(value)}")
    env = dict(os.environ)
    env.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    print(f"在宅医療圏アプリを起動します: http://localhost:{port}/ （終了は Ctrl+C）", file=sys.stderr, flush=True)
    proc = subprocess.Popen(cmd, env=env)
    if hasattr(signal, "SIGTERM"):  # stopping the launcher stops the server too
        signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
    try:
        return proc.wait()
    except KeyboardInterrupt:
        try:
            return proc.wait(timeout=10)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            proc.terminate()
            return 130
