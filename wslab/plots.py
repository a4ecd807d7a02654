"""Shared figure helpers: labelled axes with units, one colour per transport.

The helpers draw on axes the caller owns (``fig, ax = plt.subplots()``), so a
notebook composes them freely; `caption` puts the setup line (machine,
versions, parameters: `wslab.analysis.setup_caption`) under a figure and
`save_figure` exports it to ``figures/`` (``figures/quick`` in quick mode).

Backend: if nothing chose a matplotlib backend (no ``MPLBACKEND``, no
``matplotlib.use``), importing this module selects the non-interactive
``Agg`` so scripts and tests never need a display. Jupyter kernels set
``MPLBACKEND`` to the inline backend, which is left alone.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

_rc = matplotlib.rcParams
if getattr(_rc, "_get_backend_or_none", lambda: "unknown")() is None:
    matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from .core.errors import ConfigError  # noqa: E402
from .core.paths import figures_dir  # noqa: E402
from .models import short_poll_latency_cdf  # noqa: E402

__all__ = [
    "LATENCY_LABEL",
    "caption",
    "ccdf",
    "ecdf",
    "model_cdf",
    "overhead_bars",
    "readable_ticks",
    "save_figure",
    "short_poll_model_cdf",
    "transport_colors",
]

#: x-axis label of every latency figure
LATENCY_LABEL = "one-way latency (µs)"
_VALUE_LABELS = {"latency_us": LATENCY_LABEL}


def transport_colors(names: Sequence[str] | None = None) -> dict[str, Any]:
    """A fixed colour per transport (colour-blind safe), the same in every figure.

    Colours follow `wslab.transport_names` order; names not registered get
    the next colours of the palette.
    """
    import seaborn as sns

    from .transports import names as transport_names

    known = list(transport_names())
    extra = [n for n in (names or []) if n not in known]
    n = len(known) + len(extra)
    # "colorblind" has 10 colours and then repeats itself: beyond 10 (the
    # HTTP/2 transports came 11th to 13th) the next ones are evenly spaced hues
    palette = sns.color_palette("colorblind", min(n, 10)) + sns.color_palette(
        "husl", max(n - 10, 0))
    return dict(zip(known + extra, palette, strict=True))


def ecdf(ax: Axes, frame: pd.DataFrame, by: str = "transport", value: str = "latency_us",
         log: bool = True, label: str | None = None) -> Axes:
    """Empirical CDFs of ``value``, one step line per ``by`` group, on one axis.

    ``frame`` is long (`wslab.analysis.latency_frame`): one row per sample.
    Groups are drawn in categorical order (or order of appearance). Legend
    entries use column ``label`` (default: ``"label"`` when the frame has one,
    else ``by``) and give the sample count; the legend sits right of the axes.
    x is log scale if ``log``.
    """
    for x, color, text in _sorted_groups(frame, by, value, label):
        y = np.arange(1, len(x) + 1) / len(x)
        ax.step(x, y, where="post", color=color, lw=1.6, label=text)
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(_VALUE_LABELS.get(value, value))
    ax.set_ylabel("fraction of deliveries ≤ x")
    ax.set_ylim(0, 1.02)
    ax.grid(True, which="major", alpha=0.4)
    ax.grid(True, which="minor", axis="x", alpha=0.15)
    _legend(ax)
    return ax


def ccdf(ax: Axes, frame: pd.DataFrame, by: str = "transport", value: str = "latency_us",
         label: str | None = None) -> Axes:
    """Empirical complementary CDFs (the tail view) of ``value`` on log-log axes.

    One step line per ``by`` group, as `ecdf` draws them (same colours, order
    and legend text), at height P(X >= x): the largest sample sits at 1/n, so
    the p99 is read at 0.01 and every sample stays on the log axis.
    """
    for x, color, text in _sorted_groups(frame, by, value, label):
        y = (len(x) - np.arange(len(x))) / len(x)
        ax.step(x, y, where="post", color=color, lw=1.6, label=text)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(_VALUE_LABELS.get(value, value))
    ax.set_ylabel("fraction of deliveries ≥ x")
    ax.grid(True, which="major", alpha=0.4)
    ax.grid(True, which="minor", axis="x", alpha=0.15)
    _legend(ax)
    return ax


def _sorted_groups(frame: pd.DataFrame, by: str, value: str, label: str | None):
    """(sorted values, colour, legend text) per ``by`` group, in categorical
    order or order of appearance; empty groups are skipped."""
    label = label or ("label" if "label" in frame.columns else by)
    groups = frame[by]
    order = (list(groups.cat.categories) if isinstance(groups.dtype, pd.CategoricalDtype)
             else list(dict.fromkeys(groups)))
    colors = transport_colors([str(g) for g in order])
    for name in order:
        part = frame[groups == name]
        x = np.sort(part[value].to_numpy(dtype=float))
        if len(x):
            yield x, colors.get(str(name)), f"{part[label].iloc[0]} (n = {len(x):,})"


def _legend(ax: Axes) -> None:
    """Legend outside the axes, on the right: ECDFs fill the plot area."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
              borderaxespad=0.0)


def model_cdf(ax: Axes, cdf: Callable[[np.ndarray], float | np.ndarray], lo: float, hi: float,
              label: str, n: int = 400, **style: Any) -> Axes:
    """Draw an analytic CDF ``cdf(x)`` over ``[lo, hi]`` (log-spaced if x is log)."""
    if ax.get_xscale() == "log":
        x = np.geomspace(max(lo, 1e-9), hi, n)
    else:
        x = np.linspace(lo, hi, n)
    style = {"color": "black", "ls": "--", "lw": 1.3, **style}
    ax.plot(x, cdf(x), label=label, **style)
    _legend(ax)
    return ax


def short_poll_model_cdf(ax: Axes, interval: float, transit_us: float = 0.0,
                         **style: Any) -> Axes:
    """Overlay the short-poll model CDF (uniform wait on [0, T) plus one transit).

    ``interval`` in seconds, ``transit_us`` (the one transit after the wait,
    e.g. `wslab.analysis.transit_us`) in µs; x is in µs like `ecdf`'s
    (`wslab.models.short_poll_latency_cdf`).
    """
    T_us = interval * 1e6
    label = (f"model: short-poll T = {interval * 1e3:g} ms, uniform wait "
             f"+ one transit {transit_us / 1e3:.2f} ms")
    return model_cdf(ax, lambda x: short_poll_latency_cdf(x / 1e6, interval, transit_us / 1e6),
                     lo=max(transit_us, T_us * 1e-3) * 0.5, hi=(T_us + transit_us) * 1.5,
                     label=label, **style)


def _tick(label: str) -> str:
    return label.replace(" (", "\n(")


def overhead_bars(axes: Axes | Sequence[Axes], table: pd.DataFrame) -> list[Axes]:
    """Bar charts of overhead per delivered event, one group per transport.

    ``table`` is `wslab.analysis.runs_table` (or `overhead_table`): columns
    ``bytes_up_per_event``, ``bytes_down_per_event``, ``requests_per_event``,
    and optionally ``label`` (tick text) and ``body_bytes_per_event`` (drawn
    as a dashed line: what the event itself weighs). One axis: bytes only;
    two axes: bytes and HTTP requests per delivered event. Where the table
    has ``<column>_low`` and ``<column>_high`` (an interval, e.g. from
    `wslab.stats.mean_ci` over runs), each bar gets that error bar.
    """
    axes = [axes] if isinstance(axes, Axes) else list(axes)
    t = table.reset_index() if "transport" not in table.columns else table
    labels = [_tick(s) for s in (t["label"] if "label" in t.columns else t["transport"])]
    colors = transport_colors(list(t["transport"]))
    face = [colors[n] for n in t["transport"]]
    x = np.arange(len(t))
    w = 0.4
    ax = axes[0]
    up = ax.bar(x - w / 2, t["bytes_up_per_event"], w, color=face, alpha=0.45,
                hatch="//", edgecolor="black", lw=0.5, label="up (client → server)")
    down = ax.bar(x + w / 2, t["bytes_down_per_event"], w, color=face,
                  edgecolor="black", lw=0.5, label="down (server → client)")
    for bars, col in ((up, "bytes_up_per_event"), (down, "bytes_down_per_event")):
        ax.bar_label(bars, fmt="%.0f", fontsize="x-small", padding=1)
        _error_bars(ax, bars, t, col)
    # Legend keys in gray: the colour is the transport, the hatch is the direction.
    handles: list[Artist] = [Patch(facecolor="lightgray", hatch="//", edgecolor="black",
                                   lw=0.5, label=up.get_label()),
               Patch(facecolor="dimgray", edgecolor="black", lw=0.5, label=down.get_label())]
    if "body_bytes_per_event" in t.columns:
        body = float(t["body_bytes_per_event"].mean())
        handles.append(ax.axhline(body, color="gray", ls="--", lw=1,
                                  label=f"event body alone ({body:.0f} B)"))
    ax.set_xticks(x, labels, fontsize="small")
    ax.set_ylabel("bytes per delivered event (B)")
    ax.set_title("bytes on the wire per delivered event\n(TCP payload, handshakes included)",
                 fontsize="medium")
    ax.legend(handles=handles, fontsize="small")
    ax.grid(True, axis="y", alpha=0.4)
    ax.set_axisbelow(True)
    if len(axes) > 1:
        ax = axes[1]
        bars = ax.bar(x, t["requests_per_event"], 0.6, color=face, edgecolor="black", lw=0.5)
        ax.bar_label(bars, fmt="%.2f", fontsize="x-small", padding=1)
        _error_bars(ax, bars, t, "requests_per_event")
        ax.set_xticks(x, labels, fontsize="small")
        ax.set_ylabel("HTTP requests per delivered event")
        ax.set_title("HTTP requests per delivered event\n(WebSocket, SSE: one per connection; TCP: none)",
                     fontsize="medium")
        ax.grid(True, axis="y", alpha=0.4)
        ax.set_axisbelow(True)
    return axes


def _error_bars(ax: Axes, bars: Any, table: pd.DataFrame, column: str) -> None:
    """Black error bars on ``bars`` from ``<column>_low`` / ``<column>_high``, if present
    (a bar without a finite interval gets none)."""
    low, high = f"{column}_low", f"{column}_high"
    if low not in table.columns or high not in table.columns:
        return
    x = np.array([b.get_x() + b.get_width() / 2 for b in bars])
    v = table[column].to_numpy(dtype=float)
    lo, hi = table[low].to_numpy(dtype=float), table[high].to_numpy(dtype=float)
    ok = np.isfinite(lo) & np.isfinite(hi)
    if ok.any():
        ax.errorbar(x[ok], v[ok], yerr=[v[ok] - lo[ok], hi[ok] - v[ok]], fmt="none",
                    ecolor="black", elinewidth=1, capsize=3)
        ax.set_ylim(bottom=0)  # counts per event are >= 0; a few runs' interval may reach below


def _plain_number(value: float, _pos: Any = None) -> str:
    """Tick text without scientific notation: 1,000 / 20 / 0.5 / 0.002."""
    if value == 0:
        return "0"
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:.3g}"


def readable_ticks(ax: Axes, axis: str = "both", values: Sequence[float] | None = None) -> Axes:
    """Plain numbers on an axis, linear or log: no "4×10⁰", no offset text.

    ``axis``: ``"x"``, ``"y"`` or ``"both"``. ``values``: the major ticks
    (e.g. the client counts measured); otherwise a log axis gets ticks at
    1, 2 and 5 per decade, so a range under one decade still has labels, and
    a linear axis keeps matplotlib's. Minor ticks stay, unlabelled. Call it
    after setting the scale.
    """
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

    if axis not in ("x", "y", "both"):
        raise ConfigError(f"axis must be 'x', 'y' or 'both', not {axis!r}")
    for name in ("x", "y") if axis == "both" else (axis,):
        a = ax.xaxis if name == "x" else ax.yaxis
        if values is not None:
            a.set_major_locator(FixedLocator([float(v) for v in values]))
        elif a.get_scale() == "log":
            a.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        a.set_major_formatter(FuncFormatter(_plain_number))
        a.set_minor_formatter(NullFormatter())
    return ax


def caption(fig: Figure, text: str, fontsize: float = 7.5) -> Any:
    """Write ``text`` (the setup line) under the figure, wrapped to its width.

    The text sits below the axes; `save_figure` and Jupyter's inline display
    use a tight bounding box, so it is part of the image.
    """
    width_chars = int(fig.get_figwidth() * 72 / (fontsize * 0.55))
    wrapped = "\n".join(textwrap.wrap(text, max(width_chars, 40), break_on_hyphens=False))
    return fig.text(0.01, -0.01, wrapped, ha="left", va="top", fontsize=fontsize,
                    color="dimgray", wrap=False)


def save_figure(fig: Figure, name: str, svg: bool = False, dpi: int = 150) -> Path:
    """Save ``fig`` as ``figures_dir()/<name>.png`` (and ``.svg``); returns the PNG path.

    Creates the folder. ``figures_dir()`` is ``figures/`` under the project
    root (``figures/quick`` in quick mode; ``WSLAB_HOME`` moves the root).
    """
    if not name or Path(name).name != name:
        raise ConfigError(f"figure name must be a plain file name without folders, not {name!r}")
    folder = figures_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    if svg:
        fig.savefig(folder / f"{name}.svg", bbox_inches="tight")
    return path
