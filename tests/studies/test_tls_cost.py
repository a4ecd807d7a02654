"""studies.tls_cost: the tables on synthetic run tables, and one tiny real sweep."""

from __future__ import annotations

import pandas as pd
import pytest

from wslab.studies import tls_cost as tc


def _runs(extra_per_event=22.0, fixed=3000.0, kib_clear=20.0, kib_tls=60.0, requests=0):
    """Synthetic run rows as `Experiment.run` gives them: 2 repeats, clear and TLS,
    a short run (5 clients, 25 events each) and a long one (50 clients, 75 events)."""
    rows = []
    for rep in (0, 1):
        for tls in (None, "1.3"):
            for clients, duration, events in ((5, 0.5, 25), (50, 1.5, 75)):
                per_event = 300.0 + (extra_per_event if tls else 0.0) + rep * 0.5
                per_client = per_event * events + (fixed if tls else 500.0)
                kib = kib_tls if tls else kib_clear
                rows.append({"transport": "websocket", "tls": tls, "repeat": rep,
                             "clients": clients, "duration": duration,
                             "delivered": clients * events,
                             "bytes_up": 0.0, "bytes_down": clients * per_client,
                             "requests": clients * requests * events,
                             "responses": clients * requests * events,
                             "server_cpu_s": clients * events * (3e-5 if tls else 2e-5),
                             "client_cpu_s": clients * events * (4e-5 if tls else 3e-5),
                             "server_rss_before_clients_bytes": 50e6,
                             "server_rss_start_bytes": 50e6 + clients * kib * 1024
                             + rep * 4096})
    return pd.DataFrame(rows)


def test_bytes_per_event_cancel_what_a_connection_costs_once():
    table = tc.bytes_table(_runs(), 0.5, 1.5).iloc[0]
    assert table["TLS - clear"] == pytest.approx(22.0)  # the 3,000 B fixed cost is gone
    assert table["clear"] == pytest.approx(300.25) and table["n"] == 2
    checks = tc.check_records(_runs(), 0.5, 1.5)
    assert checks.model.iloc[0] == 22.0 and checks.verdict.iloc[0] == "model inside 95 % CI"


def test_polls_pay_a_record_per_request_and_per_response():
    checks = tc.check_records(_runs(extra_per_event=44.0, requests=1), 0.5, 1.5)
    assert checks.model.iloc[0] == pytest.approx(44.0)  # 22 B x (1 request + 1 response)


def test_memory_slope_over_n_and_cpu_per_delivery():
    memory = tc.memory_table(_runs()).iloc[0]
    assert memory["clear"] == pytest.approx(20.0, abs=0.1)
    assert memory["TLS - clear"] == pytest.approx(40.0, abs=0.2)
    assert memory["n"] == 4 and memory["TLS - clear low"] < 40 < memory["TLS - clear high"]
    cpu = tc.cpu_table(_runs(), 1.5).set_index("side")
    assert cpu.loc["server", "TLS - clear"] == pytest.approx(10.0)
    assert cpu.loc["client", "clear"] == pytest.approx(30.0)
    text = tc.tls_conclusions(tc.bytes_table(_runs(), 0.5, 1.5), tc.memory_table(_runs()),
                              tc.check_records(_runs(), 0.5, 1.5))
    assert text.startswith("websocket: TLS adds 22.0 B/event")


def test_plan_sizes():
    quick, full = tc.plan(True), tc.plan(False)
    assert quick.runs == 8 and full.runs == 48 and quick.wall_s() < full.wall_s()


def test_a_sweep_of_clear_and_tls_runs_each_in_its_own_server(tmp_path):
    """Experiment starts one Lab per TLS setting (here one per run: fresh); the
    TLS run costs more bytes."""
    exp = tc.experiment(tc.Plan(("tcp",), n_small=1, n_large=1, short_s=0.3, long_s=0.3,
                                rate=20.0, payload=32, repeats=1), root=str(tmp_path))
    runs = exp.run(progress=False, fresh=True)
    assert set(runs.tls.fillna("clear")) == {"clear", "1.3"} and (runs.lost == 0).all()
    by = runs.assign(setting=runs.tls.fillna("clear")).set_index("setting")
    # same seed, same bodies: TLS adds a handshake and 22 B per event, at least
    assert by.loc["1.3", "bytes_down"] > by.loc["clear", "bytes_down"] + 22 * 6


def test_figure_draws_the_model_beside_what_tls_adds():
    import matplotlib

    matplotlib.use("Agg")
    runs = _runs()
    fig = tc.tls_figure(tc.bytes_table(runs, 0.5, 1.5), tc.cpu_table(runs, 1.5),
                        tc.memory_table(runs), tc.check_records(runs, 0.5, 1.5))
    axes = fig.axes
    assert [a.get_ylabel() for a in axes][0] == "TLS - clear, bytes per event (B)"
    assert all(a.get_xlabel() == "transport" for a in axes)
    assert "model: 22 B x records per event" in [t.get_text() for t in
                                                 axes[0].get_legend().get_texts()]


def test_without_memory_runs_the_tables_and_figure_still_read():
    import matplotlib

    matplotlib.use("Agg")
    runs = _runs()
    memory = tc.memory_table(runs.iloc[:0])
    assert memory.empty and "TLS - clear" in memory.columns
    text = tc.tls_conclusions(tc.bytes_table(runs, 0.5, 1.5), memory,
                              tc.check_records(runs, 0.5, 1.5))
    assert "memory" not in text
    fig = tc.tls_figure(tc.bytes_table(runs, 0.5, 1.5), tc.cpu_table(runs, 1.5), memory,
                        tc.check_records(runs, 0.5, 1.5))
    assert fig.axes[2].texts[0].get_text() == "not measured in this mode"
