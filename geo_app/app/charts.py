"""Small charts for the app: an area's population by 5-year age band (matplotlib, Japanese font)."""
from __future__ import annotations

import io

import streamlit as st

from geo_app.core.counts import AGE_BANDS

__all__ = ["band_labels", "pyramid_png"]


def band_labels() -> list[str]:
    out = []
    for b in AGE_BANDS:
        parts = b.split("_")[1:]
        out.append("100歳以上" if parts == ["100", "plus"] else f"{parts[0]}〜{parts[1]}歳")
    return out


@st.cache_data(show_spinner=False, max_entries=64)
def pyramid_png(title: str, counts: tuple[int, ...], reference: tuple[int, ...] | None = None,
                reference_label: str = "都道府県全体") -> bytes:
    """Horizontal bars of each 5-year band's share (%), with the prefecture's shares as a line.

    The census table has no male/female split per band here, so this is a one-sided pyramid;
    shares (not counts) make areas of any size comparable with the prefecture.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib_fontja  # noqa: F401  (IPAexGothic: Japanese labels without tofu)

    labels = band_labels()
    total = sum(counts) or 1
    share = [c / total * 100 for c in counts]
    with matplotlib.rc_context({"text.parse_math": False}):  # an area named "$x$" is text, not TeX
        return _draw(title, labels, share, counts, reference, reference_label)


def _draw(title, labels, share, counts, reference, reference_label) -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.6, 4.8), dpi=110)
    ax = fig.subplots()
    y = list(range(len(labels)))
    colours = ["#6baed6" if i < 3 else "#9ecae1" if i < 13 else "#fd8d3c" if i < 15 else "#e6550d" for i in y]
    ax.barh(y, share, color=colours, height=0.85, label="この圏域")
    if reference:
        rtotal = sum(reference) or 1
        ax.plot([r / rtotal * 100 for r in reference], y, color="#333333", linewidth=1.2, marker="|", label=reference_label)
    ax.set_yticks(y, labels, fontsize=7.5)
    ax.set_xlabel("人口に占める割合（%）", fontsize=8)
    ax.tick_params(axis="x", labelsize=7.5)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.legend(fontsize=7.5, loc="lower right", frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
