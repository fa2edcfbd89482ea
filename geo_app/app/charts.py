"""Small charts for the app: an area's population pyramid by sex, or by age only (Vega-Lite specs).

The pyramid by sex needs the embedded census (男・女 per band); a user's own population table
has no split by sex, so then only the one-sided chart of both sexes together (男女計) is drawn.
Streamlit draws Vega-Lite charts with the Vega-Lite it ships, in the page itself: no image to
render on the server, no font to install, no request to a CDN. Names in titles are drawn by
Vega as text (SVG/canvas), never as markup.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from geo_app.core.counts import AGE_BANDS

__all__ = ["band_labels", "pyramid_frame", "pyramid_chart", "sex_pyramid_frame", "sex_pyramid_chart", "SEX_COLORS"]

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

    Both sexes together (男女計): the chart for a population table without a split by sex;
    shares (not counts) make areas of any size comparable with the whole. None when unknown.
    """
    frame = pyramid_frame(counts, reference)
    if frame is None:
        return None
    y = {"field": "band", "type": "nominal", "title": None, "sort": list(frame["band"])[::-1]}  # oldest on top
    bars = {
        "mark": {"type": "bar"},
        "encoding": {
            "x": {"field": "share", "type": "quantitative", "title": "男女計の人口に占める割合（%）"},
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


#: Colours of the pyramid by sex; the reference (prefecture) is an outline in the last colour.
SEX_COLORS = {"男": "#4a7fb5", "女": "#d9665b"}
_REFERENCE_COLOR = "#222222"


def sex_pyramid_frame(
    area: Mapping[str, Sequence[int]], reference: Mapping[str, Sequence[int]] | None = None, *, reference_label: str
) -> pd.DataFrame | None:
    """One row per band and series (男, 女, then the reference's 男 and 女 under `reference_label`).

    `share` is the band's share (%) of the area's (or the reference's) people of known age, both
    sexes together, so the two sides of a pyramid add up to 100; `x` is the share signed for
    drawing (男 to the left). None when the area has nobody of known age (no shares to draw).
    """
    labels = band_labels()
    parts = []
    for series, counts in (("area", area), ("reference", reference)):
        if counts is None:
            continue
        male, female = (np.asarray(counts[s], dtype="int64") for s in SEX_COLORS)
        total = int(male.sum() + female.sum())
        if total <= 0:
            if series == "area":
                return None
            continue
        for sex, values, sign in (("男", male, -1.0), ("女", female, 1.0)):
            share = values / total * 100
            parts.append(
                pd.DataFrame(
                    {
                        "band": labels,
                        "order": range(len(labels)),
                        "sex": sex,
                        "series": sex if series == "area" else reference_label,
                        "count": values,
                        "share": share,
                        "x": sign * share,
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


def sex_pyramid_chart(
    area: Mapping[str, Sequence[int]],
    reference: Mapping[str, Sequence[int]] | None = None,
    *,
    title: str = "",
    subtitle: str = "",
    reference_label: str = "県全体",
) -> dict[str, Any] | None:
    """A Vega-Lite population pyramid: 男 bars to the left, 女 to the right, 0〜4歳 at the bottom.

    Shares (%) of the area's population make areas of any size comparable with the reference,
    drawn as an outline on each side. Names reach Vega only as data and title text. None when
    the area has nobody of known age.
    """
    frame = sex_pyramid_frame(area, reference, reference_label=reference_label)
    if frame is None:
        return None
    bands = band_labels()
    limit = max(float(frame["share"].max()), 0.5)
    limit = float(np.ceil(limit * 2) / 2)  # a symmetric axis, rounded up to half a percent
    y = {
        "field": "band",
        "type": "ordinal",
        "title": "年齢（5歳階級）",
        "sort": bands[::-1],  # oldest on top, 0〜4歳 at the bottom
        "axis": {"labelOverlap": False, "labelFontSize": 10},  # every band labelled
    }
    x = {
        "field": "x",
        "type": "quantitative",
        "title": "人口に占める割合（%）　← 男 ｜ 女 →",
        "scale": {"domain": [-limit, limit]},
        "axis": {"labelExpr": "format(abs(datum.value), '~g')", "grid": True},
    }
    color = {
        "field": "series",
        "type": "nominal",
        "title": None,
        "scale": {
            "domain": [*SEX_COLORS, reference_label],
            "range": [*SEX_COLORS.values(), _REFERENCE_COLOR],
        },
        "legend": {
            "orient": "bottom",
            "direction": "horizontal",
            # the reference is drawn as an outline; the legend's swatch is filled, so say so
            "labelExpr": f"datum.label === {json.dumps(reference_label)} ? datum.label + '（枠線）' : datum.label",
        },
    }
    tooltip = [
        {"field": "series", "title": "区分"},
        {"field": "sex", "title": "男女"},
        {"field": "band", "title": "年齢"},
        {"field": "count", "title": "人口（人）", "format": ","},
        {"field": "share", "title": "割合（%）", "format": ".2f"},
    ]
    is_reference = f"datum.series === {json.dumps(reference_label)}"
    layers: list[dict[str, Any]] = [
        {
            "transform": [{"filter": f"!({is_reference})"}],
            "mark": {"type": "bar", "opacity": 0.85},
            "encoding": {"x": x, "y": y, "color": color, "tooltip": tooltip},
        },
        {"mark": {"type": "rule", "color": "#666666"}, "encoding": {"x": {"datum": 0}}},
    ]
    if reference is not None and (frame["series"] == reference_label).any():
        layers.append(
            {
                "transform": [{"filter": is_reference}],
                "mark": {"type": "bar", "filled": False, "strokeWidth": 1.3},
                "encoding": {"x": x, "y": y, "color": color, "tooltip": tooltip},
            }
        )
    spec: dict[str, Any] = {
        "data": {"values": json.loads(frame.to_json(orient="records"))},
        "layer": layers,
        "width": 360,
        "height": 420,
    }
    if title or subtitle:
        spec["title"] = {"text": title, "subtitle": subtitle, "fontSize": 13, "subtitleFontSize": 11}
    return spec
