"""Small charts for the app: an area's population by 5-year age band (a Vega-Lite spec).

Streamlit draws Vega-Lite charts with the Vega-Lite it ships, in the page itself: no image to
render on the server, no font to install, no request to a CDN. Names in titles are drawn by
Vega as text (SVG/canvas), never as markup.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pandas as pd

from geo_app.core.counts import AGE_BANDS

__all__ = ["band_labels", "pyramid_frame", "pyramid_chart"]

#: Children (0–14), working age (15–64), 65–74, 75 and over: the colours of the print version.
_GROUPS = (("0〜14歳", "#6baed6"), ("15〜64歳", "#9ecae1"), ("65〜74歳", "#fd8d3c"), ("75歳以上", "#e6550d"))


def band_labels() -> list[str]:
    out = []
    for b in AGE_BANDS:
        parts = b.split("_")[1:]
        out.append("100歳以上" if parts == ["100", "plus"] else f"{parts[0]}〜{parts[1]}歳")
    return out


def _group(i: int) -> str:
    return _GROUPS[0 if i < 3 else 1 if i < 13 else 2 if i < 15 else 3][0]


def pyramid_frame(counts: Sequence[int | None], reference: Sequence[int | None] | None = None) -> pd.DataFrame | None:
    """Each band's share (%) of the area, and of the reference; None when a band is unknown.

    Shares of a total with an unknown member would be wrong for every band, so the chart is not
    drawn then (a reference with an unknown band is left out instead).
    """
    if any(c is None for c in counts) or not counts:
        return None
    labels = band_labels()[: len(counts)]
    total = sum(int(c) for c in counts if c is not None) or 1
    frame = pd.DataFrame(
        {
            "band": labels,
            "order": range(len(labels)),
            "group": [_group(i) for i in range(len(labels))],
            "count": [int(c) for c in counts if c is not None],
            "share": [int(c) / total * 100 for c in counts if c is not None],
        }
    )
    if reference is not None and len(reference) == len(counts) and all(r is not None for r in reference):
        rtotal = sum(int(r) for r in reference if r is not None) or 1
        frame["reference"] = [int(r) / rtotal * 100 for r in reference if r is not None]
    return frame


def pyramid_chart(
    counts: Sequence[int | None],
    reference: Sequence[int | None] | None = None,
    *,
    title: str = "",
    reference_label: str = "都道府県全体",
) -> dict[str, Any] | None:
    """A Vega-Lite spec: horizontal bars of each 5-year band's share (%), the reference's shares as a line.

    The census table has no male/female split per band here, so this is a one-sided pyramid;
    shares (not counts) make areas of any size comparable with the whole. None when unknown.
    """
    frame = pyramid_frame(counts, reference)
    if frame is None:
        return None
    y = {"field": "band", "type": "nominal", "title": None, "sort": list(frame["band"])[::-1]}  # oldest on top
    bars = {
        "mark": {"type": "bar"},
        "encoding": {
            "x": {"field": "share", "type": "quantitative", "title": "人口に占める割合（%）"},
            "y": y,
            "color": {
                "field": "group",
                "type": "nominal",
                "title": "年齢",
                "scale": {"domain": [g for g, _ in _GROUPS], "range": [c for _, c in _GROUPS]},
            },
            "tooltip": [
                {"field": "band", "title": "年齢"},
                {"field": "count", "title": "人口", "format": ","},
                {"field": "share", "title": "割合（%）", "format": ".1f"},
            ],
        },
    }
    layers: list[dict[str, Any]] = [bars]
    if "reference" in frame:
        layers.append(
            {
                "mark": {
                    "type": "line",
                    "color": "#333333",
                    "strokeWidth": 1.2,
                    "point": {"shape": "stroke", "color": "#333333"},
                },
                "encoding": {
                    "x": {"field": "reference", "type": "quantitative"},
                    "y": y,
                    "order": {"field": "order", "type": "quantitative"},
                    "tooltip": [
                        {"field": "band", "title": "年齢"},
                        {"field": "reference", "title": f"{reference_label}（%）", "format": ".1f"},
                    ],
                },
            }
        )
    spec: dict[str, Any] = {
        "data": {"values": json.loads(frame.to_json(orient="records"))},
        "layer": layers,
        "width": 360,
        "height": 380,
    }
    if title:
        spec["title"] = {"text": title, "fontSize": 13}
    return spec
