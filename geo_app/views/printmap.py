"""A print map for the meeting handout: PNG (200 dpi) and vector PDF, A4 or A3 landscape.

Drawn with matplotlib's object API (Figure + Agg canvas, no pyplot state, safe in a server) and
the IPAexGothic font shipped by matplotlib-fontja, so Japanese prints the same on every machine.

What the sheet shows, and why it is built this way:
- areas of one level filled by class (mapclassify Fisher–Jenks, k ≤ 5) with a legend in 人 / %;
- borders of every level on top, tertiary thickest, municipalities as hairlines;
- name + population inside each area. Labels are measured with the renderer and placed greedily:
  at the pole of inaccessibility (maximum inscribed circle), else nudged inside the area, else
  shrunk, else replaced by a circled number explained in a key. No two label boxes overlap;
- a local equal-area projection (Lambert azimuthal, centred on the map) so areas compare fairly;
  the scale bar's length is measured geodesically from the projection, and the north arrow
  points to true north at its own position;
- far islands (伊豆・小笠原, 奄美 …) are detected from the gaps between parts: clusters of
  polygon parts that would shrink the main map too much go to inset maps (each with its own
  scale bar) or, beyond two insets, to a note giving their position;
- 未確定 areas are hatched; credits and data vintage run along the bottom;
- each located hub (在宅医療連携拠点) is a star: blue with a black edge inside a white halo, so it reads
  on every fill colour and in a greyscale copy; labels keep clear of it. A hub whose location is
  unknown (or off the map) is not drawn, and the note along the bottom says how many.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import mapclassify
import matplotlib
import matplotlib.patheffects as pe
import matplotlib_fontja  # noqa: F401  (registers IPAexGothic and makes it the default family)
import numpy as np
import pandas as pd
import shapely
from matplotlib import font_manager
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.text import Annotation, Text
from pyproj import Geod, Transformer

from geo_app.core.dissolve import assign, dissolve
from geo_app.core.errors import GeoAppError, InputError, PlanError
from geo_app.core.metrics import MAP_METRICS, UNKNOWN_TEXT, Metric
from geo_app.core.metrics import METRICS as REGISTRY
from geo_app.core.plan import LEVEL_JA, LEVELS, UNCONFIRMED, Plan
from geo_app.core.tally import total
from geo_app.views.extent import choose_views, fit_scale, local_crs

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

__all__ = ["write_print_map", "METRICS", "PAPER_MM", "font_file", "missing_glyphs"]

PAPER_MM = {"A4": (297.0, 210.0), "A3": (420.0, 297.0)}
DPI = 200
#: The figures a print map can be coloured by: registry entries (`core.metrics`), in the order offered.
METRICS: dict[str, Metric] = {k: REGISTRY[k] for k in MAP_METRICS}
FONT_FAMILY = "IPAexGothic"
CMAP = "YlOrRd"
NO_DATA_COLOR = "#d9d9d9"
#: The hub marker: a star unlike any fill of the YlOrRd scale, dark in greyscale (luminance about 70 of
#: 255), edged black and haloed white, so it stands out on the palest and the darkest classes alike.
HUB_COLOR = "#1f4e9a"
HUB_LABEL = "在宅医療連携拠点"
BORDERS = {  # level → (line width pt, colour); drawn bottom to top
    "municipality": (0.25, "#8a8a8a"),
    "homecare": (0.6, "#4a4a4a"),
    "secondary": (1.1, "#1a1a1a"),
    "tertiary": (1.9, "#000000"),
}
_CIRCLED = (
    {i: chr(0x2460 + i - 1) for i in range(1, 21)}
    | {i: chr(0x3251 + i - 21) for i in range(21, 36)}
    | {i: chr(0x32B1 + i - 36) for i in range(36, 51)}
)


# ---- font ------------------------------------------------------------------------------------
def font_file() -> str:
    """Path of the font matplotlib will use for the map text; must be the packaged IPAexGothic."""
    try:
        path = str(font_manager.findfont(font_manager.FontProperties(family=FONT_FAMILY), fallback_to_default=False))
    except ValueError:
        path = ""
    pkg = Path(matplotlib_fontja.__file__).resolve().parent
    if not path or not Path(path).resolve().is_relative_to(pkg):
        raise GeoAppError(
            "日本語フォント（matplotlib-fontja の IPAexゴシック）が見つかりません。"
            "`pip install matplotlib-fontja` を実行してから、もう一度印刷用地図を作ってください。"
        )
    return path


def missing_glyphs(texts: list[str], path: str | None = None) -> list[str]:
    """Characters of `texts` the Japanese font cannot draw (matplotlib would print tofu □)."""
    from matplotlib.ft2font import FT2Font

    charmap = FT2Font(path or font_file()).get_charmap()
    chars = set("".join(texts))
    return sorted(ch for ch in chars if not ch.isspace() and ord(ch) not in charmap)


def _fallback_covers(chars: list[str]) -> tuple[list[str], list[str]]:
    """Split characters missing from IPAexGothic into (drawn by DejaVu Sans fallback, still missing)."""
    from matplotlib.ft2font import FT2Font

    if not chars:
        return [], []
    dejavu = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"))
    charmap = FT2Font(dejavu).get_charmap()
    return [c for c in chars if ord(c) in charmap], [c for c in chars if ord(c) not in charmap]


# ---- geometry helpers -----------------------------------------------------------------------
def _paths(geoms: np.ndarray) -> list[MplPath | None]:
    """Shapely (multi)polygons → matplotlib Paths with holes, built from flat coordinate arrays."""
    geoms = np.asarray(geoms, dtype=object)
    out: list[MplPath | None] = [None] * len(geoms)
    parts, pidx = shapely.get_parts(geoms, return_index=True)
    if len(parts) == 0:
        return out
    parts = shapely.orient_polygons(parts)  # exterior CCW, holes CW: holes stay empty when filled
    rings, ridx = shapely.get_rings(parts, return_index=True)
    coords, cidx = shapely.get_coordinates(rings, return_index=True)
    codes = np.full(len(coords), MplPath.LINETO, dtype=MplPath.code_type)
    starts = np.r_[0, np.flatnonzero(np.diff(cidx)) + 1]
    ends = np.r_[starts[1:] - 1, len(coords) - 1]
    codes[starts] = MplPath.MOVETO
    codes[ends] = MplPath.CLOSEPOLY
    owner = pidx[ridx][cidx]
    cuts = np.flatnonzero(np.diff(owner)) + 1
    for g, xy, cd in zip(owner[np.r_[0, cuts]], np.split(coords, cuts), np.split(codes, cuts), strict=True):
        out[int(g)] = MplPath(xy, cd)
    return out


def _group_title(names: list[str], partial: bool) -> str:
    shown = "・".join(names[:2]) + (f" ほか{len(names) - 2}市町村" if len(names) > 2 else "")
    return shown + ("（一部）" if partial and len(names) <= 2 else "")


# ---- classes ------------------------------------------------------------------------------
def _compact(m: Metric, value: object) -> str:
    """The registry's number with its unit set close, as print labels are: 1,973,395人 · 27.9% · 190.2人/km²."""
    text = m.format(value, unit=False)
    return text if text == UNKNOWN_TEXT or m.kind == "percent" else text + m.unit


def _classes(values: pd.Series, m: Metric) -> tuple[np.ndarray, list[str], list[tuple[float, float, int]]]:
    """Class index per area (-1 = no data), legend texts and (low, high, count) per class."""
    v = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
    ok = np.isfinite(v)
    idx = np.full(len(v), -1, dtype=int)
    if not ok.any():
        return idx, [], []
    uniq = np.unique(v[ok])
    k = min(5, len(uniq))
    if k >= 2:
        yb = mapclassify.FisherJenks(v[ok], k=k).yb
    else:
        yb = np.zeros(ok.sum(), dtype=int)
    idx[ok] = yb
    stats, texts = [], []
    for c in range(int(yb.max()) + 1):
        sel = v[ok][yb == c]
        if len(sel) == 0:
            continue
        lo, hi = float(sel.min()), float(sel.max())
        stats.append((lo, hi, len(sel)))
        span = m.format(lo, unit=False) if lo == hi else f"{m.format(lo, unit=False)} 〜 {m.format(hi, unit=False)}"
        texts.append(f"{span}（{len(sel)}）" if m.kind == "percent" else f"{span} {m.unit}（{len(sel)}）")
    return idx, texts, stats


# ---- text helpers --------------------------------------------------------------------------
def _wrap(text: str, width_em: float) -> list[str]:
    """Wrap by display width (full-width = 1 em, others ½ em), keeping lines under width_em."""
    lines, cur, w = [], "", 0.0
    for ch in text:
        cw = 1.0 if unicodedata.east_asian_width(ch) in "WFA" else 0.55
        if w + cw > width_em and cur:
            lines.append(cur)
            cur, w = "", 0.0
        cur += ch
        w += cw
    if cur:
        lines.append(cur)
    return lines


def _circled(n: int) -> str:
    return _CIRCLED.get(n, f"({n})")


def _credits_for(munis: gpd.GeoDataFrame, plan: Plan) -> tuple[str, list[str]]:
    from geo_app.io.provenance import credits
    from geo_app.views.textsafe import terminal_text

    c = credits(munis, plan)  # file names the user chose: written visibly, like every name on the page
    return terminal_text(c.vintage), [terminal_text(line) for line in c.lines]


# ---- the drawing --------------------------------------------------------------------------
@dataclass
class _Placer:
    """Greedy, renderer-measured label placement with a shared list of occupied boxes."""

    fig: Figure
    renderer: Any
    pad: float
    boxes: list[np.ndarray] = field(default_factory=list)

    def occupy(self, bbox) -> None:
        self.boxes.append(np.array([bbox.x0, bbox.y0, bbox.x1, bbox.y1]))

    def _free(self, cand: np.ndarray) -> np.ndarray:
        if not self.boxes:
            return np.ones(len(cand), dtype=bool)
        occ = np.vstack(self.boxes)
        sep = (
            (cand[:, None, 2] <= occ[None, :, 0])
            | (cand[:, None, 0] >= occ[None, :, 2])
            | (cand[:, None, 3] <= occ[None, :, 1])
            | (cand[:, None, 1] >= occ[None, :, 3])
        )
        return np.asarray(sep.all(axis=1), dtype=bool)

    def place(self, ax, text, anchor, own, land, sizes, limits, *, rings: int, island: bool = False, **kw):
        """Try each font size at the anchor and on rings around it; return (Text, size, score) or None.

        A candidate must stay in the axes, overlap no placed box and touch (or nearly touch) its
        own area. Its score grows with the distance moved, with the share of the box covering
        *other* areas' land (sea is fine: island names sit beside the island) and when the box's
        centre is outside its own area (or, for islands smaller than the label, with the share of
        the box that hides the island itself). The best candidate is taken if its score is under the
        limit for that font size; otherwise a smaller size is tried.
        """
        t = ax.text(anchor[0], anchor[1], text, ha="center", va="center", **kw)
        axbox = ax.get_window_extent(self.renderer)
        ax0 = np.array([axbox.x0, axbox.y0, axbox.x1, axbox.y1])
        origin = ax.transData.transform(anchor)
        inv = ax.transData.inverted()
        px_per_m = ax.transData.transform((1.0, 0.0))[0] - ax.transData.transform((0.0, 0.0))[0]
        ang = np.linspace(0, 2 * np.pi, 16, endpoint=False)
        for size, limit in zip(sizes, limits, strict=True):
            t.set_fontsize(size)
            bb = t.get_window_extent(self.renderer)
            w, h = bb.width + 2 * self.pad, bb.height + 2 * self.pad
            step = max(h * 0.4, 2.0)
            radii = np.repeat(np.arange(1, rings + 1) * step, len(ang))
            angles = np.tile(ang, rings)
            off = np.vstack([[0.0, 0.0], np.column_stack([radii * np.cos(angles), radii * np.sin(angles)])])
            cen = origin + off
            cand = np.column_stack([cen[:, 0] - w / 2, cen[:, 1] - h / 2, cen[:, 0] + w / 2, cen[:, 1] + h / 2])
            ok = (cand[:, 0] >= ax0[0]) & (cand[:, 1] >= ax0[1]) & (cand[:, 2] <= ax0[2]) & (cand[:, 3] <= ax0[3])
            ok &= self._free(cand)
            if not ok.any():
                continue
            sel = np.flatnonzero(ok)
            lo = inv.transform(cand[sel][:, :2])
            hi = inv.transform(cand[sel][:, 2:])
            boxes = shapely.box(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1])
            near = shapely.dwithin(boxes, own, 0.3 * h / px_per_m)
            if not near.any():
                continue
            sel, boxes = sel[near], boxes[near]
            barea = np.maximum(shapely.area(boxes), 1e-9)
            on_own = shapely.area(shapely.intersection(boxes, own)) / barea
            on_land = shapely.area(shapely.intersection(boxes, land)) / barea
            centre = inv.transform(cen[sel])
            outside = ~shapely.contains_xy(own, centre[:, 0], centre[:, 1])
            # An island smaller than about two label boxes is better named beside it, over the sea,
            # than hidden under its own name; anything else wants the name inside.
            small = island and shapely.area(own) < 2.0 * float(barea[0])
            score = (
                0.35 * np.hypot(off[sel, 0], off[sel, 1]) / max(h, 1.0)
                + 4.0 * np.clip(on_land - on_own, 0, 1)
                + (2.0 * on_own if small else 1.0 * outside)
            )
            k = int(np.argmin(score))
            if score[k] > limit:
                continue
            t.set_position(tuple(centre[k]))
            self.boxes.append(cand[sel[k]])
            return t, size, float(score[k])
        t.remove()
        return None


def _collection(paths: list[MplPath | None], facecolors: Any = "none", **kw) -> PathCollection:
    """One collection for many polygons (fast to draw, small PDF); empty geometries are skipped."""
    keep = np.array([p is not None for p in paths], dtype=bool)
    if isinstance(facecolors, np.ndarray) and facecolors.ndim == 2 and len(facecolors) == len(paths):
        facecolors = facecolors[keep]
    return PathCollection([p for p in paths if p is not None], facecolors=facecolors, **kw)


def _scalebar(
    ax, to_lonlat: Transformer, corner: str, fontsize: float, axes_mm: float, *, paper: str | None, frac: float = 0.22
) -> tuple[list, float, float]:
    """Alternating bar whose labelled length is geodesic km at its own position."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    W, H = x1 - x0, y1 - y0
    target_km = frac * W / 1000.0
    mag = 10 ** math.floor(math.log10(max(target_km, 1e-6)))
    nice = max(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag <= target_km) if target_km >= mag else mag
    sx = x0 + 0.04 * W
    sy = y0 + 0.055 * H
    geod = Geod(ellps="GRS80")
    lon, lat = to_lonlat.transform([sx, sx + nice * 1000.0], [sy, sy])
    ground = geod.inv(lon[0], lat[0], lon[1], lat[1])[2]
    length = nice * 1000.0 * (nice * 1000.0 / ground)
    if corner.endswith("right"):
        sx = x1 - 0.04 * W - length - 0.6 * fontsize * 5 / 72 * 25.4 * W / axes_mm  # room for the "NN km" label
    h = 0.012 * H
    artists = []
    for i in range(4):
        r = Rectangle(
            (sx + i * length / 4, sy),
            length / 4,
            h,
            facecolor="black" if i % 2 == 0 else "white",
            edgecolor="black",
            linewidth=0.5,
            zorder=20,
        )
        ax.add_patch(r)
        artists.append(r)
    halo = [pe.withStroke(linewidth=2.0, foreground="white")]
    bar_pt = length / W * axes_mm * 72 / 25.4
    ticks = (
        ((0, "0"), (0.5, f"{nice / 2:g}"), (1, f"{nice:g} km"))
        if bar_pt > fontsize * 9
        else ((0, "0"), (1, f"{nice:g} km"))
    )
    for pos, txt in ticks:
        artists.append(
            ax.text(
                sx + pos * length,
                sy + h * 1.6,
                txt,
                ha="center",
                va="bottom",
                fontsize=fontsize,
                zorder=21,
                path_effects=halo,
            )
        )
    if paper:  # representative fraction: ground metres across the frame ÷ paper metres
        denom = (W * nice * 1000.0 / length) / (axes_mm / 1000.0)
        digits = 10 ** max(math.floor(math.log10(denom)) - 1, 0)
        artists.append(
            ax.text(
                sx,
                sy - h * 0.8,
                f"縮尺 約1:{round(denom / digits) * digits:,.0f}（{paper}印刷時）",
                ha="left",
                va="top",
                fontsize=fontsize * 0.85,
                zorder=21,
                path_effects=halo,
            )
        )
    return artists, nice, length


def _north_arrow(ax, to_lonlat: Transformer, to_local: Transformer, corner: str, fontsize: float) -> list:
    """Arrow pointing to true north at its own position (meridians converge off-centre)."""
    fx = 0.93 if corner.endswith("right") else 0.07
    fy = 0.86
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    px, py = x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)
    lon, lat = to_lonlat.transform(px, py)
    nx, ny = to_local.transform(lon, lat + 0.05)
    d = np.array([nx - px, ny - py])
    d /= np.hypot(*d)
    L = fontsize * 3.2
    arrow = ax.annotate(
        "",
        xy=(fx, fy),
        xycoords="axes fraction",
        xytext=(-d[0] * L, -d[1] * L),
        textcoords="offset points",
        zorder=21,
        arrowprops=dict(arrowstyle="-|>,head_length=0.8,head_width=0.4", lw=1.4, color="black", shrinkA=0, shrinkB=0),
    )
    label = ax.annotate(
        "N",
        xy=(fx, fy),
        xycoords="axes fraction",
        xytext=(d[0] * fontsize * 0.9, d[1] * fontsize * 0.9),
        textcoords="offset points",
        ha="center",
        va="center",
        fontsize=fontsize,
        zorder=21,
        path_effects=[pe.withStroke(linewidth=2.0, foreground="white")],
    )
    return [arrow, label]


def _corner_occupancy(land: shapely.Geometry, lim: tuple[float, float, float, float]) -> dict[str, float]:
    x0, x1, y0, y1 = lim
    W, H = x1 - x0, y1 - y0
    boxes = {
        "lower left": (x0, y0, x0 + 0.3 * W, y0 + 0.16 * H),
        "lower right": (x1 - 0.3 * W, y0, x1, y0 + 0.16 * H),
        "upper left": (x0, y1 - 0.2 * H, x0 + 0.14 * W, y1),
        "upper right": (x1 - 0.14 * W, y1 - 0.2 * H, x1, y1),
    }
    geoms = shapely.box(*np.array(list(boxes.values())).T)
    share = shapely.area(shapely.intersection(geoms, land)) / shapely.area(geoms)
    return dict(zip(boxes, share, strict=True))


def _set_view(ax, bounds: np.ndarray, margin: float = 0.04) -> None:
    """Limits that contain `bounds` and match the axes' physical aspect (so 1 m = 1 m both ways)."""
    pos = ax.get_position()
    fw, fh = ax.figure.get_size_inches()
    aspect = (pos.width * fw) / (pos.height * fh)
    cx, cy = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    w = max(bounds[2] - bounds[0], 1.0) * (1 + 2 * margin)
    h = max(bounds[3] - bounds[1], 1.0) * (1 + 2 * margin)
    if w / h > aspect:
        h = w / aspect
    else:
        w = h * aspect
    ax.set_xlim(cx - w / 2, cx + w / 2)
    ax.set_ylim(cy - h / 2, cy + h / 2)
    ax.set_aspect("equal", adjustable="box")


def _real_text_over_halos(fig: Figure) -> None:
    """Labels in the PDF as text people can search and copy, not outlines.

    matplotlib draws a text with path effects (the white halo) as outlines. A plain copy on top
    of each such text is drawn as real text; the haloed one underneath keeps the halo, and its
    own glyphs are covered exactly, so the page looks the same.
    """
    for t in fig.findobj(lambda a: isinstance(a, Text) and not isinstance(a, Annotation)):
        assert isinstance(t, Text)
        if not t.get_path_effects() or not t.get_visible() or not t.get_text():
            continue
        x, y = t.get_position()
        twin = Text(
            x,
            y,
            t.get_text(),
            transform=t.get_transform(),
            fontproperties=t.get_fontproperties(),
            color=t.get_color(),
            ha=t.get_horizontalalignment(),
            va=t.get_verticalalignment(),
            rotation=t.get_rotation(),
            linespacing=t.get_linespacing(),
            zorder=t.get_zorder() + 0.01,
            clip_on=t.get_clip_on(),
        )
        twin.update_from(t)  # colour, font, alignment (multi-line too) as the haloed text
        twin.set_path_effects([])
        if t.get_clip_on():
            twin.set_clip_box(t.get_clip_box())
            twin.set_clip_path(t.get_clip_path())
        (t.axes or fig).add_artist(twin)


def _printable(munis: gpd.GeoDataFrame, plan: Plan, title: str | None) -> tuple[gpd.GeoDataFrame, Plan, str | None]:
    """Names as a printed page can show them: control and bidi characters, which no font draws
    and which would reach the log raw in matplotlib's missing-glyph warnings, written visibly."""
    from geo_app.views.textsafe import terminal_text

    def show(col: pd.Series) -> pd.Series:
        return col.map(terminal_text, na_action="ignore").astype(col.dtype)

    table = plan.table.copy()
    for col in ("name", *LEVELS, "hub"):
        table[col] = show(table[col])
    munis = munis.copy()
    munis["name"] = show(munis["name"])
    shown = Plan(
        name=terminal_text(plan.name),
        table=table,
        source=terminal_text(plan.source),
        reference=plan.reference,
        saved=terminal_text(plan.saved),
    )
    return munis, shown, None if title is None else terminal_text(title)


def _limits(ax) -> np.ndarray:
    """What an axes shows, as (xmin, ymin, xmax, ymax) in its data coordinates."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return np.array([min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)])


def _hub_sites(hubs: pd.DataFrame, to_local: Transformer) -> tuple[pd.DataFrame, int]:
    """The places to mark (one per point: a hub serving several areas is one star), in the map's
    projection, and how many hubs have no known location (each hub once, however many areas it serves)."""
    located = hubs[hubs["lat"].notna() & hubs["lon"].notna()]
    unknown = hubs[~hubs.index.isin(located.index)]
    unlocated = len(unknown[["hub", "hub_facility"]].astype(str).drop_duplicates())
    rows = []
    for (lat, lon), g in located.groupby([located["lat"].round(6), located["lon"].round(6)], sort=False):
        x, y = to_local.transform(float(lon), float(lat))
        rows.append(
            {
                "x": x,
                "y": y,
                "hubs": list(dict.fromkeys(map(str, g["hub"]))),
                "areas": list(map(str, g["homecare"])),
                "view": None,
                "artist": None,
            }
        )
    sites = pd.DataFrame(rows, columns=["x", "y", "hubs", "areas", "view", "artist"]).astype({"view": object})
    return sites, unlocated


def _proj_param(proj: str, key: str) -> float:
    """A number of a PROJ string (`+lat_0=43.2`): where the local projection is centred."""
    found = re.search(rf"\+{key}=([-0-9.]+)", proj)
    if found is None:
        raise GeoAppError(f"投影法の指定に {key} がありません: {proj}")
    return float(found.group(1))


def _printable_frame(frame: gpd.GeoDataFrame, columns: tuple[str, ...]) -> gpd.GeoDataFrame:
    """`frame` with the names in `columns` written as `_printable` writes them (precomputed inputs)."""
    from geo_app.views.textsafe import terminal_text

    out = frame.copy()
    for col in columns:
        if col in out.columns:
            out[col] = out[col].map(terminal_text, na_action="ignore").astype(out[col].dtype)
    return out


def write_print_map(
    munis: gpd.GeoDataFrame,
    plan: Plan,
    out_png: Path | str,
    out_pdf: Path | str | None = None,
    *,
    level: str = "homecare",
    paper: str = "A4",
    title: str | None = None,
    metric: str = "population",
    areas: Mapping[str, gpd.GeoDataFrame] | None = None,
    assigned: gpd.GeoDataFrame | None = None,
    hubs: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Draw the handout map of `level` areas coloured by `metric`; return what was drawn.

    `areas` (level → Areas) and `assigned` (`assign(munis, plan)`): what `geo-app build`
    computed once for every file; without them this writer dissolves and assigns itself.
    `hubs` (`core.hubs.hub_points`): the hubs to mark, else looked up here (`io.plans.plan_hub_points`).
    """
    if level not in LEVELS:
        raise PlanError(
            f"地図にする単位「{level}」が分かりません。"
            "homecare（在宅医療圏）/ secondary（二次医療圏）/ tertiary（三次医療圏）のいずれかです。"
        )
    if paper not in PAPER_MM:
        raise InputError(f"用紙サイズ「{paper}」には対応していません。A4 か A3 を指定してください。")
    if metric not in METRICS:
        raise InputError(
            f"色分けの指標「{metric}」は使えません。"
            f"使える指標: {'、'.join(f'{k}（{m.label}）' for k, m in METRICS.items())}。"
        )
    if munis.crs is None:
        raise InputError("境界データに座標参照系（CRS）がありません。EPSG:6668 などを設定してください。")
    ffile = font_file()
    m_def = METRICS[metric]
    metric_ja, unit = m_def.label, m_def.unit
    level_ja = LEVEL_JA[level]
    source_munis = munis  # its attrs say which inputs the figures come from
    if hubs is None:
        from geo_app.io.plans import plan_hub_points

        hubs = plan_hub_points(plan)
    munis, plan, title = _printable(munis, plan, title)

    # -- data: areas of every level and the municipalities of the plan, in a local projection --
    joined = assign(munis, plan) if assigned is None else _printable_frame(assigned, ("name", *LEVELS, "hub"))
    if joined.empty:
        raise PlanError("区域案の市町村コードが境界データと1つも一致しません。都道府県とコードを確かめてください。")
    if areas is None:
        areas = {lv: dissolve(munis, plan, lv) for lv in LEVELS}
    else:
        areas = {lv: _printable_frame(areas[lv], ("area", "parent", "hub", "members")) for lv in LEVELS}
    if metric not in areas[level].columns:
        raise InputError(
            f"人口表に「{metric_ja}」を計算する列がありません。年齢別の人口を含む表を使うか、指標を「人口」にしてください。"
        )
    local = local_crs(joined)
    lat0, lon0 = (_proj_param(local, k) for k in ("lat_0", "lon_0"))
    to_lonlat = Transformer.from_crs(local, "EPSG:4326", always_xy=True)
    to_local = Transformer.from_crs("EPSG:4326", local, always_xy=True)
    mj = joined.to_crs(local)
    al = {lv: a.to_crs(local) for lv, a in areas.items()}
    shown = al[level]
    sites, unlocated = _hub_sites(hubs, to_local)

    # -- page layout (mm) --
    pw, ph = PAPER_MM[paper]
    k = pw / 297.0  # A3 scales everything up
    base_fs = 7.0 * (1.0 if paper == "A4" else 1.15)
    main_mm = (0.725 * pw, ph - 16 * k - 15 * k)  # width, height of the map frame
    views = choose_views(mj.geometry.values, mj["name"].to_numpy(dtype=object), main_mm)

    rc: dict[RcKeyType, Any] = {
        "text.parse_math": False,  # names are typed text: "$" is a character, not TeX
        "font.family": [FONT_FAMILY, "DejaVu Sans"],
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "hatch.linewidth": 0.45,
        "axes.unicode_minus": False,
        "svg.fonttype": "none",
    }
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(pw / 25.4, ph / 25.4), dpi=DPI)
        canvas = FigureCanvasAgg(fig)
        fx = lambda mm: mm / pw  # noqa: E731
        fy = lambda mm: mm / ph  # noqa: E731
        ax = fig.add_axes((fx(5 * k), fy(15 * k), fx(main_mm[0]), fy(main_mm[1])))
        side_x0, side_w = 5 * k + main_mm[0] + 5 * k, pw - (5 * k + main_mm[0] + 5 * k) - 5 * k
        _set_view(ax, views.main)

        # -- colours --
        with warnings.catch_warnings():  # mapclassify falls back to pure Python without numba; fine for ≤ 2,000 areas
            warnings.filterwarnings("ignore", message="Numba not installed")
            cls, class_texts, class_stats = _classes(shown[metric], m_def)
        ncls = len(class_texts)
        palette = matplotlib.colormaps[CMAP](np.linspace(0.10, 0.72, max(ncls, 1)))
        if ncls == 1:
            palette = matplotlib.colormaps[CMAP](np.array([0.35]))
        face = np.array([palette[c] if c >= 0 else matplotlib.colors.to_rgba(NO_DATA_COLOR) for c in cls])

        paths = {lv: _paths(al[lv].geometry.values) for lv in LEVELS}
        muni_paths = _paths(mj.geometry.values)
        unconfirmed = (shown["status"] == UNCONFIRMED).to_numpy()

        def draw_layers(a, thin: float = 1.0) -> None:
            a.add_collection(_collection(paths[level], facecolors=face, edgecolors="none", linewidths=0, zorder=1))
            if unconfirmed.any():
                hatch = _collection(
                    [p for p, u in zip(paths[level], unconfirmed, strict=True) if u],
                    facecolors="none",
                    edgecolors="#5a5a5a",
                    linewidths=0,
                    hatch="////",
                    zorder=2,
                )
                a.add_collection(hatch)
            a.add_collection(
                _collection(
                    muni_paths,
                    facecolors="none",
                    edgecolors=BORDERS["municipality"][1],
                    linewidths=BORDERS["municipality"][0] * k * thin,
                    zorder=3,
                )
            )
            for z, lv in enumerate(LEVELS, start=4):
                lw, col = BORDERS[lv]
                a.add_collection(
                    _collection(
                        paths[lv],
                        facecolors="none",
                        edgecolors=col,
                        linewidths=lw * k * thin,
                        joinstyle="round",
                        zorder=z,
                    )
                )
            a.set_xticks([])
            a.set_yticks([])
            for s in a.spines.values():
                s.set_linewidth(0.6)
                s.set_color("#555555")

        draw_layers(ax)

        # -- title --
        title = title or f"{plan.title}　{level_ja}別 {metric_ja}"
        total_pop = _compact(REGISTRY["population"], total(shown).get("population"))  # unknown stays unknown
        subtitle = f"{len(shown)}圏域・{len(mj)}市町村　総人口 {total_pop}" + (
            "　（斜線は未確定の圏域）" if unconfirmed.any() else ""
        )
        title_artist = fig.text(fx(5 * k), 1 - fy(4 * k), title, ha="left", va="top", fontsize=14 * k**0.5)
        fig.text(fx(5 * k), 1 - fy(11 * k), subtitle, ha="left", va="top", fontsize=8 * k**0.5, color="#333333")

        renderer = canvas.get_renderer()
        room = fig.bbox.width * (1 - 2 * fx(5 * k))
        width = title_artist.get_window_extent(renderer).width
        if width > room:  # a long plan name: shrink the title to the page width rather than cut it
            title_artist.set_fontsize(max(14 * k**0.5 * room / width, 8.0))

        # -- scale bar and north arrow in the emptiest corners --
        land = shapely.union_all(al["tertiary"].geometry.values)
        lim = (*ax.get_xlim(), *ax.get_ylim())
        occ = _corner_occupancy(land, lim)
        bar_corner = min(("lower left", "lower right"), key=lambda c: occ[c])
        arrow_corner = min(("upper left", "upper right"), key=lambda c: occ[c])
        bar_artists, scale_km, _ = _scalebar(ax, to_lonlat, bar_corner, base_fs * 0.95, main_mm[0], paper=paper)
        arrow_artists = _north_arrow(ax, to_lonlat, to_local, arrow_corner, base_fs * 1.3)
        pad = 2.2 * DPI / 72 / 2 + 1.0  # half the halo stroke, in pixels
        placer = _Placer(fig, renderer, pad)
        for a in [*bar_artists, *arrow_artists]:
            placer.occupy(a.get_window_extent(renderer))
        hub_size = 10.0 * k**0.5  # points
        # a blue star with a black edge and a white halo: legible in colour and in greyscale (map and legend)
        hub_marker: dict[str, Any] = {
            "linestyle": "none",
            "marker": "*",
            "markersize": hub_size,
            "markerfacecolor": HUB_COLOR,
            "markeredgecolor": "black",
            "markeredgewidth": 0.6,
            "path_effects": [pe.withStroke(linewidth=3.0, foreground="white")],
        }

        def draw_hubs(a, bounds: np.ndarray, view: int) -> None:
            """Stars for the hubs inside `bounds`, not yet drawn; the labels placed later keep clear of them."""
            for i, (x, y) in enumerate(zip(sites["x"], sites["y"], strict=True)):
                if sites.at[i, "view"] is not None or not (bounds[0] <= x <= bounds[2] and bounds[1] <= y <= bounds[3]):
                    continue
                (star,) = a.plot([x], [y], **hub_marker, zorder=28)
                sites.at[i, "view"] = view
                sites.at[i, "artist"] = star
                cx, cy = a.transData.transform((x, y))
                half = hub_size * DPI / 72 / 2 + pad
                placer.occupy(matplotlib.transforms.Bbox([[cx - half, cy - half], [cx + half, cy + half]]))

        draw_hubs(ax, _limits(ax), 0)

        # -- legend (side panel, top) --
        lax = fig.add_axes((fx(side_x0), fy(15 * k), fx(side_w), fy(main_mm[1])))
        lax.set_axis_off()
        handles: list[Artist] = [Patch(facecolor=palette[i], edgecolor="#777777", linewidth=0.4) for i in range(ncls)]
        labels = list(class_texts)
        if (cls < 0).any():
            handles.append(Patch(facecolor=NO_DATA_COLOR, edgecolor="#777777", linewidth=0.4))
            labels.append(f"データなし（{int((cls < 0).sum())}）")
        if unconfirmed.any():
            handles.append(Patch(facecolor="white", edgecolor="#5a5a5a", linewidth=0.4, hatch="////"))
            labels.append(f"未確定の圏域（{int(unconfirmed.sum())}）")
        for lv in ("tertiary", "secondary", "homecare", "municipality"):
            lw, col = BORDERS[lv]
            handles.append(Line2D([0, 1], [0, 0], color=col, linewidth=lw * k))
            labels.append(f"{LEVEL_JA.get(lv, '市町村')}の境界" if lv != "municipality" else "市町村の境界")
        if len(sites):  # the legend is drawn before the insets: a hub only on an inset is listed too
            handles.append(Line2D([], [], **hub_marker))
            labels.append(HUB_LABEL)
        legend_title = f"{level_ja}の{metric_ja}{f'（{unit}）' if unit else ''}\n（　）内は圏域数"
        leg = lax.legend(
            handles,
            labels,
            loc="upper left",
            bbox_to_anchor=(0, 1),
            frameon=False,
            fontsize=base_fs,
            title=legend_title,
            title_fontsize=base_fs * 1.1,
            alignment="left",
            handlelength=2.2,
            handleheight=1.1,
            labelspacing=0.45,
            borderaxespad=0,
        )
        leg_bb = leg.get_window_extent(renderer).transformed(fig.transFigure.inverted())

        # -- labels in the main map --
        anchors_geom = shown.geometry.values
        view_boxes = [views.main] + [v["bounds"] for v in views.insets]
        clip = np.vstack([shapely.area(shapely.clip_by_rect(anchors_geom, *vb)) for vb in view_boxes])
        home_view = np.argmax(clip, axis=0)  # where each area has most land
        home_view[clip.max(axis=0) <= 0] = -1  # only on islands left off the map: named in the key
        halo = [pe.withStroke(linewidth=2.2, foreground="white")]
        pops = pd.to_numeric(shown["population"], errors="coerce")
        vals = pd.to_numeric(shown[metric], errors="coerce")
        label_texts = []
        for i in range(len(shown)):
            name = str(shown["area"].iloc[i])
            pop = _compact(REGISTRY["population"], pops.iloc[i]) if pd.notna(pops.iloc[i]) else "人口なし"
            extra = (
                ""
                if metric == "population" or pd.isna(vals.iloc[i])
                else f"\n{m_def.brief} {_compact(m_def, vals.iloc[i])}"
            )
            label_texts.append(f"{name}\n{pop}{extra}")
        sizes = [base_fs, base_fs * 0.85, base_fs * 0.72]
        drawn: list[dict[str, Any]] = []
        keyed: list[int] = []
        order = np.argsort(-pops.fillna(0).to_numpy(), kind="stable")

        def px_per_m(a) -> float:
            return float(a.transData.transform((1.0, 0.0))[0] - a.transData.transform((0.0, 0.0))[0])

        def place_labels(view: int, a) -> None:
            vb = view_boxes[view]
            idx = [i for i in order if home_view[i] == view]
            if not idx:
                return
            clipped = shapely.clip_by_rect(anchors_geom[idx], *vb)
            tol = np.sqrt(np.maximum(shapely.area(clipped), 1.0)) / 200.0
            centres = shapely.get_point(shapely.maximum_inscribed_circle(clipped, tol), 0)
            cx, cy = shapely.get_x(centres), shapely.get_y(centres)
            land = shapely.union_all(shapely.clip_by_rect(al["tertiary"].geometry.values, *vb))
            shapely.prepare(land)
            # Islands: most of the area's outline is coast (shared with no other area).
            outline = shapely.boundary(clipped)
            coast = shapely.length(shapely.intersection(outline, shapely.boundary(land))) / np.maximum(
                shapely.length(outline), 1e-9
            )
            for j, i in enumerate(idx):
                shapely.prepare(clipped[j])
                hit = placer.place(
                    a,
                    label_texts[i],
                    (cx[j], cy[j]),
                    clipped[j],
                    land,
                    sizes,
                    [1.6, 2.0, 3.0],
                    rings=8,
                    island=bool(coast[j] > 0.75),
                    path_effects=halo,
                    zorder=30,
                    linespacing=1.1,
                )
                if hit is not None:
                    drawn.append(
                        {"i": i, "area": str(shown["area"].iloc[i]), "kind": "label", "text": hit[0], "size": hit[1]}
                    )
                    continue
                keyed.append(i)
                num = _circled(len(keyed))
                hit = placer.place(
                    a,
                    num,
                    (cx[j], cy[j]),
                    clipped[j],
                    land,
                    [base_fs * 1.1, base_fs * 0.9],
                    [3.0, 6.0],
                    rings=6,
                    path_effects=halo,
                    zorder=31,
                )
                leader = False
                if hit is None:  # further away, with a leader line
                    reach = 12.0 / 25.4 * DPI / px_per_m(a)  # up to ~12 mm from the area
                    hit = placer.place(
                        a,
                        num,
                        (cx[j], cy[j]),
                        clipped[j].buffer(reach),
                        land,
                        [base_fs * 0.9],
                        [np.inf],
                        rings=30,
                        path_effects=halo,
                        zorder=31,
                    )
                    leader = hit is not None
                if hit is None:  # nowhere free near it: listed in the key without a mark
                    keyed.pop()
                    drawn.append(
                        {"i": i, "area": str(shown["area"].iloc[i]), "kind": "unplaced", "text": None, "size": None}
                    )
                    continue
                if leader:
                    tx, ty = hit[0].get_position()
                    a.add_collection(
                        LineCollection([[(cx[j], cy[j]), (tx, ty)]], colors="#333333", linewidths=0.5, zorder=29)
                    )
                drawn.append(
                    {
                        "i": i,
                        "area": str(shown["area"].iloc[i]),
                        "kind": "number",
                        "text": hit[0],
                        "size": hit[1],
                        "number": len(keyed),
                        "leader": leader,
                    }
                )

        place_labels(0, ax)

        # -- insets (side panel, under the legend), key list at the bottom --
        main_keyed = len(keyed)
        inset_areas = int((home_view != 0).sum())
        key_rows = main_keyed + inset_areas + sum(d["kind"] == "unplaced" for d in drawn)
        room_mm = main_mm[1] - ((1 - leg_bb.y0) * ph - 16 * k) - 6 * k  # under the legend
        for key_fs, key_cols in itertools.product([base_fs * 0.9, base_fs * 0.8, base_fs * 0.7], [1, 2, 3]):
            line_mm = key_fs * 1.3 * 1.2 * 25.4 / 72
            key_mm = (math.ceil(key_rows / key_cols) + 1.6) * line_mm if key_rows else 0.0
            if key_mm <= room_mm and (key_cols == 1 or key_rows > 12):
                break
        top_mm = (1 - leg_bb.y0) * ph + 6 * k
        bottom_mm = 15 * k + key_mm + (3 * k if key_rows else 0)
        inset_axes: list[Any] = []
        if views.insets:
            avail_w, avail_h = side_w, ph - top_mm - bottom_mm
            title_mm = 4.0 * k
            n = len(views.insets)
            layouts = {
                "row": [((side_w - 3 * k * (n - 1)) / n, avail_h - title_mm)] * n,
                "column": [(avail_w, (avail_h - (title_mm + 3 * k) * n) / n)] * n,
            }

            def drawn_area(slots) -> float:
                tot = 0.0
                for v, (sw, sh) in zip(views.insets, slots, strict=True):
                    if sw <= 5 or sh <= 5:
                        return -1.0
                    s = fit_scale(v["bounds"], (sw, sh), margin=0.06)
                    bw, bh = v["bounds"][2] - v["bounds"][0], v["bounds"][3] - v["bounds"][1]
                    tot += (s * bw) * (s * bh)
                return tot

            layout = max(layouts, key=lambda L: drawn_area(layouts[L]))
            slots = layouts[layout]
            if drawn_area(slots) <= 0:  # no room left beside a very long key: the islands become a note
                views.omitted[:0] = views.insets
                views.insets = []
                home_view[home_view > 0] = -1
            y_cursor = ph - top_mm
            x_cursor = side_x0
            for v, (sw, sh) in zip(views.insets, slots, strict=False):
                s = fit_scale(v["bounds"], (sw, sh), margin=0.06)
                bw = (v["bounds"][2] - v["bounds"][0]) * 1.12 * s
                bh = (v["bounds"][3] - v["bounds"][1]) * 1.12 * s
                bw, bh = min(max(bw, 18 * k), sw), min(max(bh, 14 * k), sh)
                if layout == "row":
                    left, bottom = x_cursor + (sw - bw) / 2, y_cursor - title_mm - bh
                    x_cursor += sw + 3 * k
                else:
                    left, bottom = side_x0, y_cursor - title_mm - bh
                    y_cursor = bottom - 3 * k
                iax = fig.add_axes((fx(left), fy(bottom), fx(bw), fy(bh)))
                _set_view(iax, v["bounds"], margin=0.06)
                draw_layers(iax, thin=0.55)  # small islands at small scale: thick borders would swallow them
                draw_hubs(iax, _limits(iax), len(inset_axes) + 1)
                v["title"] = _group_title(v["names"], v["partial"])
                title_lines = _wrap(v["title"], (bw * 72 / 25.4) / (base_fs * 0.85))
                iax.set_title("\n".join(title_lines[:2]), fontsize=base_fs * 0.85, loc="left", pad=2)
                iocc = _corner_occupancy(land, (*iax.get_xlim(), *iax.get_ylim()))
                icorner = min(("lower left", "lower right"), key=lambda c: iocc[c])
                arts, _, _ = _scalebar(iax, to_lonlat, icorner, base_fs * 0.75, bw, paper=None, frac=0.45)
                for art in arts:
                    placer.occupy(art.get_window_extent(renderer))
                inset_axes.append(iax)
            for view, iax in enumerate(inset_axes, start=1):
                place_labels(view, iax)

        # -- key of numbered areas --
        key_lines = []
        for d in drawn:
            if d["kind"] == "number":
                pop = pops.iloc[d["i"]]
                key_lines.append(
                    f"{_circled(d['number'])} {d['area']}　{pop:,.0f}人"
                    if pd.notna(pop)
                    else f"{_circled(d['number'])} {d['area']}"
                )
        for d in drawn:
            if d["kind"] == "unplaced":
                pop = pops.iloc[d["i"]]
                key_lines.append(
                    f"・{d['area']}　{pop:,.0f}人（位置は表示できず）"
                    if pd.notna(pop)
                    else f"・{d['area']}（位置は表示できず）"
                )
        for off in np.flatnonzero(home_view < 0):
            i = int(off)
            drawn.append({"i": i, "area": str(shown["area"].iloc[i]), "kind": "offmap", "text": None, "size": None})
            pop = pops.iloc[i]
            key_lines.append(
                f"・{shown['area'].iloc[i]}　{pop:,.0f}人（地図の範囲外）"
                if pd.notna(pop)
                else f"・{shown['area'].iloc[i]}（地図の範囲外）"
            )
        key_text_artists = []
        if key_lines:
            per_col = math.ceil(len(key_lines) / key_cols)
            fig.text(
                fx(side_x0), fy(15 * k + key_mm), "地図上に名前が入らない圏域", ha="left", va="top", fontsize=key_fs
            )
            for c in range(key_cols):
                chunk = key_lines[c * per_col : (c + 1) * per_col]
                key_text_artists.append(
                    fig.text(
                        fx(side_x0 + c * side_w / key_cols),
                        fy(15 * k + key_mm - 1.3 * line_mm),
                        "\n".join(chunk),
                        ha="left",
                        va="top",
                        fontsize=key_fs,
                        linespacing=1.3,
                    )
                )

        # -- notes and credits along the bottom --
        vintage, credits = _credits_for(source_munis, plan)
        notes = []
        if views.omitted:
            spots = []
            for v in views.omitted:
                b = v["bounds"]
                lon, lat = to_lonlat.transform((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)
                spots.append(f"{'・'.join(v['names'])}の一部（北緯{lat:.1f}°・東経{lon:.1f}°付近）")
            notes.append("地図の範囲外の島: " + "、".join(spots) + "は省略しています。")
        if views.insets:
            notes.append("右の別図は縮尺が本図と異なります（各図の縮尺バーを参照）。")
        off_map = int(sites["view"].isna().sum()) if len(sites) else 0
        if unlocated or off_map:
            parts = [f"場所の分からない{unlocated}か所"] if unlocated else []
            parts += [f"地図の範囲外の{off_map}か所"] if off_map else []
            notes.append(f"{HUB_LABEL}のうち{'と'.join(parts)}は地図に描いていません（所見・集計表を参照）。")
        notes.append(
            f"図法: ランベルト正積方位図法（中心 北緯{lat0:.1f}°・東経{lon0:.1f}°、GRS80）。"
            f"色分けは Fisher–Jenks 法（{max(ncls, 1)}区分）。"
        )
        # The footer has 11 mm between the map's frame and the paper's edge: with many sources (census,
        # projections, facilities, the plan) the text gets smaller rather than running off the page.
        foot_fs = 5.6 * k**0.5
        room_pt = 11 * k * 72 / 25.4
        while True:
            width_em = (pw - 10 * k) * 72 / 25.4 / foot_fs
            foot_lines = (
                _wrap("　".join(notes), width_em)
                + _wrap("データ: " + vintage, width_em)
                + _wrap("出典: " + "　".join(credits), width_em)
            )
            if len(foot_lines) * foot_fs * 1.25 <= room_pt or foot_fs <= 3.6 * k**0.5:
                break
            foot_fs *= 0.94
        fig.text(
            fx(5 * k),
            fy(13 * k),
            "\n".join(foot_lines),
            ha="left",
            va="top",
            fontsize=foot_fs,
            color="#333333",
            linespacing=1.25,
        )

        # -- check glyphs (no tofu), then write --
        all_text = [
            title,
            subtitle,
            legend_title,
            *labels,
            *label_texts,
            *key_lines,
            *foot_lines,
            "N km 0123456789.",
            *[v.get("title", "") for v in views.insets],
            "縮尺 約1:（印刷時）",
        ]
        fallback, missing = _fallback_covers(missing_glyphs(all_text, ffile))
        out_png = Path(out_png)
        out_png.parent.mkdir(parents=True, exist_ok=True)
        meta_title = title
        fig.savefig(out_png, dpi=DPI, format="png", metadata={"Title": meta_title, "Software": "geo_app"})
        canvas.draw()
        renderer = canvas.get_renderer()
        boxes = []
        for d in drawn:
            if d["text"] is not None:
                bb = d["text"].get_window_extent(renderer)
                boxes.append(
                    {"area": d["area"], "kind": d["kind"], "bbox": (bb.x0, bb.y0, bb.x1, bb.y1), "size": d["size"]}
                )
        if out_pdf is not None:
            out_pdf = Path(out_pdf)
            out_pdf.parent.mkdir(parents=True, exist_ok=True)
            _real_text_over_halos(fig)
            fig.savefig(out_pdf, format="pdf", metadata={"Title": meta_title, "Creator": "geo_app"})
        size_px = canvas.get_width_height()  # what the PNG holds (Agg truncates fractional pixels)
        main_box = ax.get_window_extent(renderer)
        main_axes_px = (main_box.x0, size_px[1] - main_box.y1, main_box.x1, size_px[1] - main_box.y0)
        main_limits = _limits(ax)
        hubs_drawn = []
        for row in sites.itertuples(index=False):
            if row.view is None or (isinstance(row.view, float) and math.isnan(row.view)):
                continue
            px, py = row.artist.axes.transData.transform((row.x, row.y))
            hubs_drawn.append(
                {"hubs": list(row.hubs), "areas": list(row.areas), "view": int(row.view), "px": (px, size_px[1] - py)}
            )

    def lonlat_bounds(b: np.ndarray) -> tuple[float, float, float, float]:
        xs = [b[0], b[2], b[0], b[2]]
        ys = [b[1], b[1], b[3], b[3]]
        lon, lat = to_lonlat.transform(xs, ys)
        return (float(min(lon)), float(min(lat)), float(max(lon)), float(max(lat)))

    return {
        "png": out_png,
        "pdf": out_pdf,
        "paper": paper,
        "size_px": size_px,
        "level": level,
        "metric": metric,
        "areas": len(shown),
        "classes": [{"low": lo, "high": hi, "count": n} for lo, hi, n in class_stats],
        "labels_placed": [d["area"] for d in drawn if d["kind"] == "label"],
        "labels_in_key": [d["area"] for d in drawn if d["kind"] == "number"],
        "labels_unplaced": [d["area"] for d in drawn if d["kind"] == "unplaced"],
        "labels_offmap": [d["area"] for d in drawn if d["kind"] == "offmap"],
        "label_boxes": boxes,
        "label_sizes": sorted({round(d["size"], 2) for d in drawn if d["size"]}),
        "inset_used": bool(views.insets),
        "insets": [
            {"title": v["title"], "municipalities": v["names"], "bounds_lonlat": lonlat_bounds(v["bounds"])}
            for v in views.insets
        ],
        "omitted": [{"municipalities": v["names"], "bounds_lonlat": lonlat_bounds(v["bounds"])} for v in views.omitted],
        "main_bounds_lonlat": lonlat_bounds(views.main),
        "scale_km": scale_km,
        "scale_corner": bar_corner,
        "north_corner": arrow_corner,
        "crs": local,
        "font_file": ffile,
        "missing_glyphs": missing,
        "fallback_glyphs": fallback,
        "credits": credits,
        "hubs_drawn": hubs_drawn,
        # where the main map sits on the page (PNG pixels, top-left origin) and what it shows (map units of
        # `crs`): enough to place any lon/lat on the sheet without this module
        "main_axes_px": main_axes_px,
        "main_limits": tuple(float(v) for v in main_limits),
        "hubs_not_drawn": {"unlocated": unlocated, "off_map": off_map},
    }
