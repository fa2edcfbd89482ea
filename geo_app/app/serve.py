"""The app's server process: Streamlit, with the default plan warmed up while it starts.

`streamlit run` imports the app only when the first browser connects, so the first visitor
would wait for geopandas, folium and the boundaries to load and for the first map to be built.
Here that happens in a background thread as the server starts, into the same process-wide
`st.cache_resource` caches the pages read; a visitor who comes earlier simply waits on the
same cache entry. A failure in the warm-up is ignored: the page then does the work and shows
any error in Japanese as usual. Before that, upload folders left by earlier runs are removed.

    python -m geo_app.app.serve --server.port=8501 …   (what `geo-app app` runs)
"""

from __future__ import annotations

import sys
import threading
import warnings

from geo_app.app.launch import MAIN_SCRIPT

__all__ = ["main"]


#: Warnings known to be noise in the warm-up, by message and category; every other warning is shown.
KNOWN_NOISE = [
    ("Numba not installed", UserWarning),  # mapclassify on import: numba is an optional speed-up
]


def quiet_known_noise() -> None:
    """Filter only the known, harmless warnings (never every warning of the process)."""
    for message, category in KNOWN_NOISE:
        warnings.filterwarnings("ignore", message=message, category=category)


def _warm_up() -> None:
    """Load the default plan's data and findings into the process-wide caches (errors: the page redoes it)."""
    try:
        import logging

        logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
        logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)
        from geo_app.app.page_map import warm_up

        warm_up()
    except Exception:  # noqa: BLE001 — the first page load will redo the work and report it
        pass


def _clean_uploads() -> None:
    """Remove the upload folders of earlier runs (servers that are gone) and claim this server's own."""
    try:
        from geo_app.app import uploads

        uploads.sweep()
        uploads.server_dir()  # locked from now on, so that another server's sweep leaves it alone
    except OSError:  # a temp folder we cannot clean must not stop the app
        pass


def main(argv: list[str] | None = None) -> None:
    quiet_known_noise()
    _clean_uploads()
    threading.Thread(target=_warm_up, name="geo-app-warm-up", daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(MAIN_SCRIPT), *(sys.argv[1:] if argv is None else argv)]
    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
