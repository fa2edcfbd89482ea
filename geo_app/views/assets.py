"""Front-end assets shipped inside the package, so maps render with no network.

Leaflet 1.9.4 comes from the npm registry package `leaflet` (BSD-2-Clause, licence beside it in
geo_app/static/leaflet/LICENSE); topojson-client 3.1.0 (ISC, geo_app/static/topojson/LICENSE)
from the npm package `topojson-client`; static/livemap/ is our own map renderer.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["STATIC_DIR", "LEAFLET_VERSION", "leaflet_js", "leaflet_css", "topojson_js", "livemap_js"]

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
LEAFLET_VERSION = "1.9.4"


@cache
def leaflet_js() -> str:
    return (STATIC_DIR / "leaflet" / "leaflet.js").read_text(encoding="utf-8")


@cache
def topojson_js() -> str:
    return (STATIC_DIR / "topojson" / "topojson-client.min.js").read_text(encoding="utf-8")


def livemap_js() -> str:
    """The map renderer shared by map.html and the app's map (read each time: it is small)."""
    return (STATIC_DIR / "livemap" / "render.js").read_text(encoding="utf-8")


@cache
def leaflet_css() -> str:
    """Leaflet's CSS without its image URLs (the layer-control icon is inlined as data URI)."""
    import base64

    css = (STATIC_DIR / "leaflet" / "leaflet.css").read_text(encoding="utf-8")
    for img in ("layers.png", "layers-2x.png"):
        data = base64.b64encode((STATIC_DIR / "leaflet" / "images" / img).read_bytes()).decode()
        css = css.replace(f"url(images/{img})", f"url(data:image/png;base64,{data})")
    return css
