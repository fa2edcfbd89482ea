"""Border lines by level from pieces computed once equal the lines of the dissolved areas."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo_app.core.dissolve import assign, dissolve
from geo_app.core.edits import move
from geo_app.core.geometry import border_pieces, classify_borders
from geo_app.views.webmap import plan_area_ids

ORDER = ["tertiary", "secondary", "homecare"]


def reference_borders(munis, plan) -> list:
    """The slow, obvious way: boundaries of each level's areas, minus what a coarser level drew."""
    coverages = [dissolve(munis, plan, lv).geometry.values for lv in ORDER] + [assign(munis, plan).geometry.values]
    out, drawn = [], None
    for geoms in coverages:
        lines = shapely.union_all(shapely.boundary(np.asarray(geoms, dtype=object)))
        out.append(lines if drawn is None else shapely.difference(lines, drawn))
        drawn = lines if drawn is None else shapely.union(drawn, lines)
    return out


@pytest.fixture(scope="module")
def pieces(hokkaido):
    return border_pieces(hokkaido.geometry.values)


def _check(munis, plan, pieces):
    got = classify_borders(pieces, plan_area_ids(munis, plan, ORDER))
    want = reference_borders(munis, plan)
    for level, g, w in zip([*ORDER, "municipality"], got, want, strict=True):
        assert g.length == pytest.approx(w.length, rel=1e-12), level
        assert shapely.symmetric_difference(g, w).length < 1e-9, level


def test_hokkaido_2024(hokkaido, hokkaido_plan, pieces):
    _check(hokkaido, hokkaido_plan, pieces)


def test_after_a_move_and_with_an_unplanned_municipality(hokkaido, hokkaido_plan, pieces):
    from geo_app.core.plan import Plan

    moved = move(hokkaido_plan, "01202", "上川")  # 函館市 into 上川: a new, far-away piece of 上川中部
    partial = Plan(
        name="part", table=moved.table[moved.table["code"] != "01459"].reset_index(drop=True)
    )  # 美瑛町 left out
    _check(hokkaido, partial, pieces)
