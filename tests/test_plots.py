"""wslab.plots: figure helpers drawn from real runs; files land in a temp WSLAB_HOME."""

from __future__ import annotations

import os
import subprocess
import sys

import matplotlib
import pytest

import wslab
from wslab import analysis, plots
from wslab.core.errors import ConfigError

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A websocket and a short-poll run of the same fixed stream, made once."""
    out = tmp_path_factory.mktemp("plot-runs")
    common = dict(clients=2, rate=50, duration=1, schedule="fixed", progress=False)
    with wslab.Lab() as lab:
        return {
            "websocket": lab.run("websocket", out=str(out / "ws"), **common),
            "short-poll": lab.run("short-poll", interval=0.1, out=str(out / "sp"), **common),
        }


@pytest.fixture
def fig_ax():
    fig, ax = plt.subplots()
    yield fig, ax
    plt.close(fig)


def test_ecdf_draws_one_labelled_line_per_transport(runs, fig_ax):
    _, ax = fig_ax
    frame = analysis.latency_frame(runs)
    plots.ecdf(ax, frame)
    lines = ax.get_lines()
    assert len(lines) == 2
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].startswith("websocket (n = ")
    assert legend[1].startswith("short-poll (T = 100 ms) (n = ")
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "one-way latency (µs)"
    assert ax.get_ylabel()
    for line, run in zip(lines, runs.values(), strict=True):
        x, y = line.get_data()
        assert len(x) == run.summary["latency_count"]
        assert y[-1] == pytest.approx(1.0) and (y[1:] >= y[:-1]).all()


def test_ecdf_groups_by_any_column_and_linear_scale(runs, fig_ax):
    _, ax = fig_ax
    frame = analysis.latency_frame(runs).assign(kind=lambda f: f.transport.astype(str))
    plots.ecdf(ax, frame, by="kind", log=False)
    assert ax.get_xscale() == "linear" and len(ax.get_lines()) == 2


def test_ccdf_is_the_tail_view_on_log_log_axes(runs, fig_ax):
    _, ax = fig_ax
    frame = analysis.latency_frame(runs)
    plots.ccdf(ax, frame)
    lines = ax.get_lines()
    assert len(lines) == 2
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "one-way latency (µs)" and "≥" in ax.get_ylabel()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].startswith("websocket (n = ")
    for line, run in zip(lines, runs.values(), strict=True):
        x, y = line.get_data()
        n = run.summary["latency_count"]
        assert len(x) == n and (x[1:] >= x[:-1]).all()
        # P(X >= x): 1 at the smallest sample, 1/n at the largest, never 0 (log axis)
        assert y[0] == pytest.approx(1.0) and y[-1] == pytest.approx(1 / n)
        assert (y[1:] <= y[:-1]).all()


def test_short_poll_model_cdf_rises_from_one_transit_to_interval_plus_transit(runs, fig_ax):
    _, ax = fig_ax
    plots.ecdf(ax, analysis.latency_frame(runs))
    plots.short_poll_model_cdf(ax, interval=0.1, transit_us=1000)
    model = ax.get_lines()[-1]
    x, y = model.get_data()
    assert model.get_label().startswith("model: short-poll T = 100 ms")
    assert y.min() == 0 and y.max() == 1
    assert y[x <= 1000].max() == 0 and y[x >= 101_000].min() == 1
    assert len(ax.get_legend().get_texts()) == 3


def test_overhead_bars_show_bytes_up_down_and_requests(runs):
    fig, axes = plt.subplots(1, 2)
    table = analysis.runs_table(runs)
    plots.overhead_bars(axes, table)
    bytes_ax, req_ax = axes
    assert len(bytes_ax.patches) == 2 * len(table)
    heights = sorted(p.get_height() for p in bytes_ax.patches)
    assert heights == pytest.approx(sorted([*table.bytes_up_per_event,
                                            *table.bytes_down_per_event]))
    assert [p.get_height() for p in req_ax.patches] == pytest.approx(
        list(table.requests_per_event))
    assert "bytes" in bytes_ax.get_ylabel() and "(B)" in bytes_ax.get_ylabel()
    assert "requests" in req_ax.get_ylabel()
    ticks = [t.get_text() for t in req_ax.get_xticklabels()]
    assert ticks == ["websocket", "short-poll\n(T = 100 ms)"]
    legend = [t.get_text() for t in bytes_ax.get_legend().get_texts()]
    assert any(s.startswith("up") for s in legend) and any(s.startswith("down") for s in legend)
    assert any(s.startswith("event body alone") for s in legend)
    # one axis and the overhead_table form work too
    fig2, ax = plt.subplots()
    plots.overhead_bars(ax, analysis.overhead_table(runs))
    assert len(ax.patches) == 2 * len(table)
    plt.close(fig)
    plt.close(fig2)


def test_overhead_bars_draw_intervals_where_the_table_has_them(runs):
    fig, axes = plt.subplots(1, 2)
    table = analysis.runs_table(runs)
    for col in ("bytes_up_per_event", "bytes_down_per_event", "requests_per_event"):
        table[f"{col}_low"] = table[col] * 0.9
        table[f"{col}_high"] = table[col] * 1.2
    table.loc[0, "requests_per_event_low"] = float("nan")  # no interval: no error bar
    plots.overhead_bars(axes, table)
    bytes_ax, req_ax = axes

    def spans(ax):  # both ends of every error bar's vertical segment
        out = []
        for coll in ax.collections:
            for seg in coll.get_segments():
                if len(seg) == 2 and seg[0][0] == seg[1][0]:
                    out += sorted((seg[0][1], seg[1][1]))
        return sorted(out)

    want = sorted(v * k for v in [*table.bytes_up_per_event, *table.bytes_down_per_event]
                  for k in (0.9, 1.2))
    assert spans(bytes_ax) == pytest.approx(want)
    sp = table.requests_per_event.iloc[1]
    assert spans(req_ax) == pytest.approx([sp * 0.9, sp * 1.2])
    plt.close(fig)


def test_caption_and_save_figure_write_a_png_under_wslab_home(runs, fig_ax, tmp_path,
                                                               monkeypatch):
    monkeypatch.setenv("WSLAB_HOME", str(tmp_path))
    monkeypatch.setenv("WSLAB_QUICK", "0")
    fig, ax = fig_ax
    plots.ecdf(ax, analysis.latency_frame(runs))
    text = analysis.setup_caption(runs)
    artist = plots.caption(fig, text)
    assert artist.get_text().replace("\n", " ") == text
    path = plots.save_figure(fig, "test_ecdf", svg=True)
    assert path == tmp_path / "figures" / "test_ecdf.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000
    assert (tmp_path / "figures" / "test_ecdf.svg").stat().st_size > 0
    monkeypatch.setenv("WSLAB_QUICK", "1")
    assert plots.save_figure(fig, "q") == tmp_path / "figures" / "quick" / "q.png"
    with pytest.raises(ConfigError, match="plain file name"):
        plots.save_figure(fig, "../escape")


def test_transport_colors_are_fixed_per_transport():
    colors = plots.transport_colors(["extra"])
    assert list(colors)[: len(wslab.transport_names())] == wslab.transport_names()
    assert len(set(colors.values())) == len(colors)
    assert plots.transport_colors()["websocket"] == colors["websocket"]


@pytest.mark.parametrize("env, expected", [(None, "agg"), ("svg", "svg")])
def test_import_sets_agg_only_when_no_backend_was_chosen(env, expected):
    code = "import wslab.plots, matplotlib; print(matplotlib.get_backend().lower())"
    environ = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    if env:
        environ["MPLBACKEND"] = env
    out = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == expected


def test_readable_ticks_label_log_and_linear_axes_with_plain_numbers():
    fig, (a1, a2) = plt.subplots(1, 2)
    a1.plot([1_000, 3_000, 10_000], [3.0, 4.0, 6.0])  # under one decade on y
    a1.set_xscale("log")
    a1.set_yscale("log")
    plots.readable_ticks(a1, "x", values=[1_000, 3_000, 10_000])
    plots.readable_ticks(a1, "y")
    a2.plot([0, 20_000], [0, 1e5])
    plots.readable_ticks(a2)
    fig.canvas.draw()

    def texts(axis):
        fmt = axis.get_major_formatter()
        lo, hi = sorted(axis.get_view_interval())
        return [fmt(v) for v in axis.get_majorticklocs() if lo <= v <= hi]

    assert texts(a1.xaxis) == ["1,000", "3,000", "10,000"]
    assert "5" in texts(a1.yaxis)  # a label inside the sub-decade range
    assert all(t.replace(",", "").replace(".", "").isdigit() for t in texts(a2.xaxis))
    assert a2.yaxis.get_offset_text().get_text() == ""
    with pytest.raises(ConfigError, match="axis must be"):
        plots.readable_ticks(a1, "z")
    plt.close(fig)
