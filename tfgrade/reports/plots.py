"""Plots for the reports, as self-contained SVG data URIs (`<img src="data:image/svg+xml;…">`).

Why SVG inside <img>: it stays sharp when printed, the report remains one offline file, and an
image loaded through <img> never runs script, whatever text (metric names come from student
code) ended up inside it. Matplotlib is used through `Figure` directly (no pyplot): no global
state, no GUI backend, safe to call from worker threads.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

# Palette shared with the CSS (templates/report.css) so plots and tables match.
INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
SERIES = ("#2563eb", "#ea580c", "#16a34a", "#9333ea", "#0891b2", "#db2777")

_RC: dict[Any, Any] = {
    "svg.fonttype": "path",          # text as paths: identical rendering on every machine
    "svg.hashsalt": "tfgrade",       # stable ids: the same results give the same file
    "text.parse_math": False,        # a metric called '$\\frac' must not crash mathtext
    "font.size": 9,
    "axes.edgecolor": GRID,
    "axes.labelcolor": MUTED,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "axes.spines.top": False,
    "axes.spines.right": False,
}

MAX_POINTS = 5000  # epochs beyond this are down-sampled: the shape matters, not every point


def _decimal_comma(ax: Any) -> None:
    """Spanish writes 0,75: the y axis follows the report's language."""
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}".replace(".", ",")))


def _svg_data_uri(fig: Figure) -> str:
    buffer = io.BytesIO()
    FigureCanvasSVG(fig)
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"data:image/svg+xml;base64,{encoded}"


def _clean_series(values: Any) -> list[float] | None:
    """Floats from whatever the sandbox described; None when it is not a numeric series."""
    if not isinstance(values, Sequence) or isinstance(values, (str, bytes)) or not values:
        return None
    out: list[float] = []
    for v in values:
        try:
            x = float(v)
        except (TypeError, ValueError):
            return None
        out.append(x if math.isfinite(x) else math.nan)
    if all(math.isnan(x) for x in out):
        return None
    if len(out) > MAX_POINTS:
        step = math.ceil(len(out) / MAX_POINTS)
        out = out[::step]
    return out


def curves_plots(curves: Mapping[str, Any], epoch_label: str = "epoch", decimal_comma: bool = False) -> list[str]:
    """One small plot per group: loss-like curves, then the other metrics. Empty if nothing to draw.

    Separate images (not subplots) so the page can put them side by side on a wide screen and
    stack them, each at full width, on a phone.
    """
    if not isinstance(curves, Mapping):
        return []
    series = {str(name)[:60]: s for name, v in curves.items() if (s := _clean_series(v)) is not None}
    losses = {k: v for k, v in series.items() if "loss" in k.lower()}
    metrics = {k: v for k, v in series.items() if k not in losses}
    images = []
    for group in (losses, metrics):
        if group and (image := _curves_image(group, epoch_label, decimal_comma)) is not None:
            images.append(image)
    return images


def _curves_image(group: Mapping[str, list[float]], epoch_label: str, decimal_comma: bool) -> str | None:
    try:
        with matplotlib.rc_context(_RC):
            fig = Figure(figsize=(3.6, 2.5))
            ax = fig.subplots()
            for i, (name, values) in enumerate(sorted(group.items())):
                color = SERIES[i % len(SERIES)]
                style = "--" if name.lower().startswith("val") else "-"
                ax.plot(range(1, len(values) + 1), values, style, color=color, linewidth=1.6, label=name,
                        marker="o" if len(values) <= 12 else None, markersize=3)
            ax.set_xlabel(epoch_label)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if decimal_comma:
                _decimal_comma(ax)
            ax.grid(True, color=GRID, linewidth=0.6)
            ax.legend(frameon=False, fontsize=8)
            fig.tight_layout()
            return _svg_data_uri(fig)
    except Exception:  # a plot is a nicety: a broken one must never stop the report
        return None


def histogram_plot(percents: Sequence[float], xlabel: str = "score (%)", ylabel: str = "",
                   narrow: bool = False) -> str | None:
    """Histogram of scores in percent, 10 bins of 10 points, bars coloured by grade band.

    `narrow=True` draws the phone version: same data, a shape whose text stays legible at 350 px.
    """
    values = [min(100.0, max(0.0, float(p))) for p in percents if p is not None and math.isfinite(float(p))]
    if not values:
        return None
    edges = [10.0 * i for i in range(11)]
    counts = [0] * 10
    for v in values:
        counts[min(9, int(v // 10))] += 1
    colors = ["#dc2626"] * 5 + ["#f59e0b"] * 2 + ["#65a30d"] * 2 + ["#16a34a"]
    try:
        with matplotlib.rc_context(_RC):
            fig = Figure(figsize=(4.0, 2.8) if narrow else (8.2, 2.8))
            ax = fig.subplots()
            ax.bar(edges[:-1], counts, width=9.2, align="edge", color=colors, edgecolor="none")
            for x, c in zip(edges[:-1], counts, strict=True):
                if c:
                    ax.text(x + 4.6, c, str(c), ha="center", va="bottom", color=INK, fontsize=8)
            ax.set_xlim(0, 100)
            ax.set_xticks(edges[::2] if narrow else edges)
            ax.set_ylim(0, max(counts) * 1.18 + 0.5)
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel(xlabel)
            if ylabel:
                ax.set_ylabel(ylabel)
            ax.grid(True, axis="y", color=GRID, linewidth=0.6)
            ax.set_axisbelow(True)
            fig.tight_layout()
            return _svg_data_uri(fig)
    except Exception:
        return None
