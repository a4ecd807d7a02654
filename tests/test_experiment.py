"""Experiments: grid expansion, seeds, real sweeps, resuming, intervals, the sweep command."""

from __future__ import annotations

import os
import shutil
import time

import numpy as np
import pytest

import wslab
from wslab.cli import main
from wslab.core.errors import ConfigError
from wslab.core.events import schedule_offsets
from wslab.experiment import METRICS, Experiment
from wslab.runner.store import temporary_dir
from wslab.stats import mean_ci

from .conftest import TIMEOUT_FACTOR, wslab_processes

SMALL = {"clients": 2, "rate": 50, "duration": 0.5, "schedule": "fixed"}
GRID = {"transport": ["tcp", "short-poll"], "interval": [0.05]}
SWEPT = {**SMALL, "schedule": "poisson"}  # the real sweep: a seeded Poisson stream


def _dirs(root):
    return sorted(p.name for p in root.iterdir())


# -- planning (no process starts) ----------------------------------------------
def test_product_grid_drops_what_does_not_apply_and_dedupes(tmp_path):
    exp = Experiment("g", grid={"transport": ["sse", "short-poll"], "interval": [0.1, 0.5],
                                "schedule": ["fixed", "burst"], "burst": [5]},
                     repeats=2, base=SMALL, root=tmp_path / "g")
    ids = [t.id for t in exp.trials]
    assert ids == [
        "sse_schedule=fixed_rep0", "sse_schedule=fixed_rep1",
        "sse_schedule=burst_burst=5_rep0", "sse_schedule=burst_burst=5_rep1",
        "short-poll_schedule=fixed_interval=0.1_rep0", "short-poll_schedule=fixed_interval=0.1_rep1",
        "short-poll_schedule=burst_interval=0.1_burst=5_rep0",
        "short-poll_schedule=burst_interval=0.1_burst=5_rep1",
        "short-poll_schedule=fixed_interval=0.5_rep0", "short-poll_schedule=fixed_interval=0.5_rep1",
        "short-poll_schedule=burst_interval=0.5_burst=5_rep0",
        "short-poll_schedule=burst_interval=0.5_burst=5_rep1",
    ]
    assert len(exp) == 12 and [t.repeat for t in exp.trials] == [0, 1] * 6
    sse = exp.trials[0]
    assert sse.params == {"transport": "sse", "schedule": "fixed"}
    assert sse.config.interval is None and sse.config.clients == 2 and sse.config.rate == 50.0
    sp = exp.trials[8]
    assert sp.params == {"transport": "short-poll", "interval": 0.5, "schedule": "fixed"}
    assert sp.config.options["interval"] == 0.5 and sp.path == tmp_path / "g" / sp.id
    assert exp.keys == ["transport", "schedule", "interval", "burst"]
    assert not (tmp_path / "g").exists()  # planning creates nothing


def test_conditional_grid_and_explicit_trials(tmp_path):
    exp = Experiment("c", grid=[{"transport": ["websocket"], "options": [{"compression": False},
                                                                         {"compression": True}]},
                                {"transport": ["short-poll"], "interval": [0.2]}],
                     base=SMALL, root=tmp_path)
    assert [t.id for t in exp.trials] == ["websocket_compression=False_rep0",
                                          "websocket_compression=True_rep0",
                                          "short-poll_interval=0.2_rep0"]
    assert exp.trials[1].config.options == {"compression": True, "fanout": "broadcast"}
    same = Experiment("c", trials=Experiment.product(transport=["tcp"], rate=[10, 20]),
                      base=SMALL, root=tmp_path)
    assert [(t.id, t.config.rate) for t in same.trials] == [("tcp_rate=10_rep0", 10.0),
                                                            ("tcp_rate=20_rep0", 20.0)]
    # explicit trials are strict: interval on websocket is an error, not dropped
    with pytest.raises(ConfigError, match="interval applies to short-poll, h2-short-poll only"):
        Experiment("c", trials=[{"transport": "websocket", "interval": 0.1}], root=tmp_path)


def test_seeds_are_deterministic_and_overridable(tmp_path):
    def seeds(**kw):
        return [t.seed for t in Experiment("s", grid={"transport": ["tcp", "sse"]}, repeats=3,
                                           root=tmp_path, **kw).trials]

    first = seeds(seed=7)
    assert first == seeds(seed=7)  # same experiment, same seeds
    # tcp and sse share each repeat's seed; the three repeats differ
    assert first[:3] == first[3:] and len(set(first)) == 3
    assert all(0 <= s < 2**63 for s in first)
    assert set(first).isdisjoint(seeds(seed=8))
    # adding a grid value keeps the other trials' seeds (resuming stays possible)
    more = Experiment("s", grid={"transport": ["tcp", "long-poll", "sse"]}, repeats=3,
                      root=tmp_path, seed=7)
    assert [t.seed for t in more.trials if t.params["transport"] != "long-poll"] == first
    # a seed in the grid (or base) is used as given, for every repeat
    fixed = Experiment("s", grid={"transport": ["tcp"], "seed": [3, 4]}, repeats=2, root=tmp_path)
    assert [(t.id, t.seed) for t in fixed.trials] == [
        ("tcp_seed=3_rep0", 3), ("tcp_seed=3_rep1", 3), ("tcp_seed=4_rep0", 4),
        ("tcp_seed=4_rep1", 4)]


def test_transports_of_a_repeat_share_the_schedule(tmp_path):
    """Everything but the schedule (transport, interval, clients, payload,
    options, delay) leaves the seed alone: within a repeat every such trial
    publishes the same events; repeats differ."""
    exp = Experiment("shared", grid=[
        {"transport": ["websocket"], "options": [{"compression": False}, {"compression": True}]},
        {"transport": ["sse", "long-poll", "tcp"], "clients": [1, 3], "payload": [16, 512]},
        {"transport": ["short-poll"], "interval": [0.1, 1.0], "delay": [None, "5ms"]},
    ], repeats=3, base={"rate": 20, "duration": 2}, root=tmp_path, seed=11)
    assert len({t.id for t in exp.trials}) == (2 + 3 * 4 + 4) * 3
    seeds = {r: {t.seed for t in exp.trials if t.repeat == r} for r in range(3)}
    assert all(len(s) == 1 for s in seeds.values())  # one seed per repeat
    assert len(set.union(*seeds.values())) == 3  # repeats differ
    # the same seed and schedule parameters: the same event times
    a, b = exp.trials[0].config, exp.trials[-3].config  # websocket and short-poll, repeat 0
    assert (a.transport, b.transport, a.seed) == ("websocket", "short-poll", b.seed)
    times = [schedule_offsets(c.schedule, c.rate, c.duration, c.seed, c.burst) for c in (a, b)]
    assert np.array_equal(*times)
    again = exp.trials[1]  # the first trial's next repeat
    assert again.repeat == 1 and not np.array_equal(
        times[0], schedule_offsets("poisson", 20, 2, again.seed))

    # schedule parameters do change it: each distinct schedule has its own seed
    sched = Experiment("sched", grid=[
        {"transport": ["sse"], "rate": [20, 40], "duration": [2, 3]},
        {"transport": ["sse"], "schedule": ["burst"], "rate": [20], "burst": [5, 10]},
        {"transport": ["sse"], "schedule": ["fixed"], "rate": [20, 40]},
    ], root=tmp_path, seed=11)
    assert len({t.seed for t in sched.trials}) == len(sched.trials) == 4 + 2 + 2
    # burst only counts for the burst schedule (it does not apply to the others)
    plain = Experiment("b", grid={"transport": ["sse"], "burst": [5, 10]},
                       base={"rate": 20, "duration": 2}, root=tmp_path, seed=11)
    assert [t.seed for t in plain.trials] == [exp.trials[0].seed]


@pytest.mark.parametrize("kwargs, message", [
    ({"grid": {"transport": ["tcp"], "speed": [1]}}, "unknown parameter(s) speed in grid; "
                                                     "allowed: transport, clients, rate"),
    ({"grid": {"transport": ["tcp"]}, "base": {"colour": 1}}, "unknown parameter(s) colour in base"),
    ({"grid": {"transport": ["tcp"], "out": ["x"]}}, "unknown parameter(s) out"),
    ({"grid": {"transport": ["tcp"], "host": ["127.0.0.2"]}}, "host can only be set in base"),
    ({"trials": [{"transport": "tcp", "rates": 5}]}, "in trials[0]"),
    ({"grid": {"transport": "tcp"}}, "must be a list of values"),
    ({"grid": {"transport": []}}, "is empty"),
    ({"grid": {"transport": ["tcp", "pigeon"]}}, "unknown transport 'pigeon'"),
    ({"grid": {"transport": ["tcp"], "rate": [10, -1]}}, "rate must be > 0"),
    ({"grid": {"clients": [1]}}, "transport must be given"),
    ({"grid": {"transport": ["tcp"]}, "repeats": 0}, "repeats must be an integer >= 1"),
])
def test_bad_input_raises_before_anything_exists(kwargs, message, tmp_path, _isolated_home):
    before = time.monotonic()
    with pytest.raises(ConfigError) as err:
        Experiment("bad", root=tmp_path / "bad", **kwargs).run(progress=False)
    assert message in str(err.value)
    assert list(tmp_path.iterdir()) == [] and list(_isolated_home.iterdir()) == []
    assert wslab_processes(parent=os.getpid()) == []
    assert time.monotonic() - before < 2  # raised before any process started
    with pytest.raises(ConfigError):  # the default root is not created either
        Experiment("bad", **kwargs)
    assert list(_isolated_home.iterdir()) == []


# -- real sweeps ---------------------------------------------------------------
@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep") / "exp"
    exp = Experiment("exp", grid=GRID, repeats=2, base=SWEPT, root=root, seed=1)
    t0 = time.monotonic()
    df = exp.run(progress=False)
    return exp, df, time.monotonic() - t0


def test_run_table_matches_each_runs_summary(swept):
    exp, df, _ = swept
    assert len(df) == 4 and list(df.trial) == [t.id for t in exp.trials]
    assert list(df.trial) == ["tcp_rep0", "tcp_rep1", "short-poll_interval=0.05_rep0",
                              "short-poll_interval=0.05_rep1"]
    for col in ("trial", "repeat", "transport", "clients", "rate", "duration", "payload",
                "schedule", "seed", "interval", "path", "reused", "published", "delivered",
                "lost", "duplicated", "bytes_up", "bytes_down", "requests", "server_cpu_s",
                "latency_p50_us", "latency_p90_us", "latency_p99_us", "latency_p999_us",
                "latency_max_us", "latency_mean_us"):
        assert col in df.columns, col
    assert "latency_us" not in df and "latency_hdr" not in df and "options" not in df
    assert df.reused.dtype == bool and not df.reused.any()
    assert len(exp.runs) == 4
    for (_, row), trial, run in zip(df.iterrows(), exp.trials, exp.runs, strict=True):
        s, p = run.summary, run.manifest["parameters"]
        assert run.path == trial.path and row.path == str(trial.path)
        assert wslab.load(row.path).manifest["status"] == "complete"
        assert row.transport == p["transport"] == trial.params["transport"]
        assert row.seed == p["seed"] == trial.seed and row["repeat"] == trial.repeat
        assert (row.clients, row.rate, row.duration, row.schedule) == (2, 50.0, 0.5, "poisson")
        for q in ("p50", "p90", "p99", "p999", "max", "mean"):
            assert row[f"latency_{q}_us"] == s["latency_us"][q]
        for k in ("published", "delivered", "lost", "bytes_up", "bytes_down", "requests"):
            assert row[k] == s[k]
        assert s["lost"] == 0 and s["delivered"] == 2 * s["published"] > 0
    short = df[df.transport == "short-poll"]
    assert (short.interval == 0.05).all() and df[df.transport == "tcp"].interval.isna().all()
    assert (short.requests > 0).all() and (df[df.transport == "tcp"].requests == 0).all()
    # both transports of a repeat got one seed, hence one Poisson schedule
    assert df.seed.nunique() == 2 and (df.groupby("repeat").seed.nunique() == 1).all()
    assert (df.groupby("repeat").published.nunique() == 1).all()
    assert wslab_processes(parent=os.getpid()) == []  # the Lab and fleets are gone


def test_messages_and_latencies_carry_trial_parameters(swept):
    exp, df, _ = swept
    m = exp.messages()
    assert len(m) == sum(len(r.messages) for r in exp.runs) == df.delivered.sum()
    assert list(m.columns[:4]) == ["trial", "repeat", "transport", "interval"]
    assert {"client_id", "seq", "published_ns", "received_ns", "latency_us"} <= set(m.columns)
    first = m[m.trial == "short-poll_interval=0.05_rep1"]
    assert (first.transport == "short-poll").all() and (first.interval == 0.05).all()
    assert (first.repeat == 1).all() and (m.latency_us > 0).all()
    lat = exp.latencies()
    for trial, run in zip(exp.trials, exp.runs, strict=True):
        mine = lat[lat.trial == trial.id].latency_us
        assert sorted(mine) == sorted(run.latency_us())
        assert mine.max() == pytest.approx(run.summary["latency_us"]["max"], rel=0.01)


def test_rerun_reuses_everything_and_resumes_after_loss(swept):
    exp, first, took = swept
    root = exp.root
    names = _dirs(root)
    assert len(names) == 4
    mtimes = {n: (root / n / "manifest.json").stat().st_mtime_ns for n in names}

    again = Experiment("exp", grid=GRID, repeats=2, base=SWEPT, root=root, seed=1)
    t0 = time.monotonic()
    df = again.run(progress=False)
    elapsed = time.monotonic() - t0
    assert df.reused.all() and _dirs(root) == names
    assert {n: (root / n / "manifest.json").stat().st_mtime_ns for n in names} == mtimes
    assert elapsed < min(1.0 * TIMEOUT_FACTOR, took / 3)  # no server was started
    cols = [c for c in first.columns if c != "reused"]
    assert df[cols].equals(first[cols])

    # a lost trial and a killed run's leftover: only the lost trial runs again
    shutil.rmtree(root / "tcp_rep1")
    leftover = temporary_dir(root / "tcp_rep1", pid=999_999_999)  # a killed writer's
    leftover.mkdir()
    (leftover / "manifest.json").write_text('{"status": "running"}')
    third = Experiment("exp", grid=GRID, repeats=2, base=SWEPT, root=root, seed=1).run(
        progress=False)
    assert list(third.reused) == [True, False, True, True]
    assert _dirs(root) == names and not leftover.exists()
    assert third.seed.tolist() == first.seed.tolist()  # same seed, same schedule
    assert third.published.tolist() == first.published.tolist()


def test_changed_parameters_are_refused_not_mixed(swept):
    exp, _, _ = swept
    names = _dirs(exp.root)
    changed = Experiment("exp", grid=GRID, repeats=2, base={**SWEPT, "payload": 128},
                         root=exp.root, seed=1)
    with pytest.raises(ConfigError, match=r"other parameters \(payload 64 here, 128 wanted\)"):
        changed.run(progress=False)
    # another seed (e.g. a run stored under an earlier seed rule) is never reused
    reseeded = Experiment("exp", grid=GRID, repeats=2, base=SWEPT, root=exp.root, seed=2)
    with pytest.raises(ConfigError, match=r"other parameters \(seed \d+ here, \d+ wanted\); "
                                          r"trial seeds derive from the experiment seed"):
        reseeded.run(progress=False)
    with pytest.raises(ConfigError, match="seed"):
        reseeded.runs  # noqa: B018 - loading refuses too
    assert _dirs(exp.root) == names
    assert wslab_processes(parent=os.getpid()) == []


# -- intervals over repeats, runs and clients ----------------------------------
def test_aggregate_gives_each_metric_an_interval_over_repeats(swept):
    exp, df, _ = swept
    agg = exp.aggregate()
    assert list(agg.columns[:3]) == ["transport", "interval", "runs"]
    assert agg.transport.tolist() == ["tcp", "short-poll"] and agg.runs.tolist() == [2, 2]
    assert np.isnan(agg.interval[0]) and agg.interval[1] == 0.05
    for m in METRICS:
        assert [m, f"{m}_low", f"{m}_high", f"{m}_n"] == [c for c in agg.columns
                                                         if c.startswith(m)][:4]
    for _, row in agg.iterrows():
        runs = df[df.transport == row.transport]
        for m in METRICS:
            est = mean_ci(runs[m], unit="runs")
            assert row[m] == pytest.approx(runs[m].mean()) and row[f"{m}_n"] == 2
            assert (row[f"{m}_low"], row[f"{m}_high"]) == pytest.approx((est.low, est.high))
            assert row[f"{m}_low"] <= row[m] <= row[f"{m}_high"]
    boot = exp.aggregate(by="transport", metrics="latency_p50_us", method="bootstrap")
    assert list(boot.columns) == ["transport", "runs", "latency_p50_us", "latency_p50_us_low",
                                  "latency_p50_us_high", "latency_p50_us_n"]
    per_rep = exp.aggregate(by=["repeat"], metrics=["published"])  # any table column
    assert per_rep.published.tolist() == df.groupby("repeat").published.mean().tolist()
    for kwargs, message in [({"by": "colour"}, "cannot group by colour"),
                            ({"metrics": ["speed"]}, r"unknown metric\(s\) speed"),
                            ({"metrics": ["schedule"]}, "metric schedule is not numeric"),
                            ({"method": "z"}, "method must be 't' or 'bootstrap'")]:
        with pytest.raises(ConfigError, match=message):
            exp.aggregate(**kwargs)


def test_latency_ci_resamples_runs_clients_or_events(swept):
    exp, df, _ = swept
    lat = exp.latencies()
    # each row is one first delivery: its client and event identify it
    m = exp.messages()
    one = m[m.trial == "tcp_rep0"].drop_duplicates(["client_id", "seq"]).set_index(
        ["client_id", "seq"]).latency_us
    mine = lat[lat.trial == "tcp_rep0"].set_index(["client_id", "seq"]).latency_us
    assert mine.to_dict() == pytest.approx(one.loc[mine.index].to_dict())

    runs = exp.latency_ci()  # the pooled median, resampling whole runs
    assert list(runs.columns) == ["transport", "interval", "runs", "latency_p50_us",
                                  "latency_p50_us_low", "latency_p50_us_high",
                                  "latency_p50_us_n"]
    assert runs.latency_p50_us_n.tolist() == [2, 2]
    for _, row in runs.iterrows():
        pooled = lat[lat.transport == row.transport].latency_us
        assert row.latency_p50_us == np.quantile(pooled, 0.5, method="inverted_cdf")
        assert row.latency_p50_us_low <= row.latency_p50_us <= row.latency_p50_us_high
    clients = exp.latency_ci(0.99, resample="client")
    assert clients.latency_p99_us_n.tolist() == [4, 4]  # 2 runs × 2 clients
    events = exp.latency_ci("mean", resample="event", by="transport")
    for _, row in events.iterrows():
        mine = lat[lat.transport == row.transport]
        assert row.latency_mean_us == pytest.approx(mine.latency_us.mean())
        assert row.latency_mean_us_n == len(mine.groupby(["trial", "seq"], observed=True))
    for kwargs, message in [({"resample": "delivery"}, "resample must be one of run, client"),
                            ({"statistic": 99}, "quantile statistic must be between 0 and 1")]:
        with pytest.raises(ConfigError, match=message):
            exp.latency_ci(**kwargs)


def test_intervals_group_by_options_when_options_vary(tmp_path):
    """Trials that differ in a transport option: per-delivery tables keep the
    options dict, the interval tables group by its flattened columns."""
    exp = Experiment("opt", grid={"transport": ["websocket"],
                                  "options": [{"compression": False}, {"compression": True}]},
                     base={"clients": 1, "rate": 20, "duration": 0.5}, root=tmp_path, seed=2)
    exp.run(progress=False)
    lat = exp.latencies()
    assert [o["compression"] for o in lat.drop_duplicates("trial").options] == [False, True]
    agg = exp.aggregate(metrics=["bytes_down_per_event"])
    assert agg.option_compression.tolist() == [False, True] and agg.runs.tolist() == [1, 1]
    assert agg.bytes_down_per_event_n.tolist() == [1, 1]  # one repeat: no interval
    assert agg.bytes_down_per_event_low.isna().all()
    ci = exp.latency_ci("median", resample="client")
    assert ci.option_compression.tolist() == [False, True]
    assert ci.latency_p50_us_n.tolist() == [1, 1] and ci.latency_p50_us_high.isna().all()


# -- the sweep command ---------------------------------------------------------
SPEC = """
name = "cli"
repeats = 1
seed = 5

[base]
clients = 2
rate = 50
duration = 0.5
schedule = "fixed"

[grid]
transport = ["sse"]
payload = [16, 256]
"""


def test_sweep_command_prints_table_and_resumes(tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    out = tmp_path / "runs"
    assert main(["sweep", str(spec), "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["trial", "transport", "payload"]
    assert "latency_p50_us" in lines[0] and "reused" in lines[0]
    assert lines[1].split()[:3] == ["sse_payload=16_rep0", "sse", "16"]
    assert lines[2].split()[:3] == ["sse_payload=256_rep0", "sse", "256"]
    assert lines[1].split()[-1] == "False" and lines[-1].startswith("2 trials (0 reused)")
    assert _dirs(out) == ["sse_payload=16_rep0", "sse_payload=256_rep0"]
    assert wslab.load(out / "sse_payload=256_rep0").manifest["parameters"]["payload"] == 256
    assert main(["sweep", str(spec), "--out", str(out), "--quiet"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("2 trials (2 reused)")


@pytest.mark.parametrize("text, message", [
    ('name = "x"\n[grid]\ntransport = ["tcp"]\nspeed = [1]\n', "unknown parameter(s) speed"),
    ('name = "x"\nrepeat = 2\n[grid]\ntransport = ["tcp"]\n', "unknown key(s) repeat in"),
    ('name = "x"\n[grid\n', "is not valid TOML"),
])
def test_sweep_bad_spec_one_line_exit_2(text, message, tmp_path, capsys, _isolated_home):
    spec = tmp_path / "spec.toml"
    spec.write_text(text)
    assert main(["sweep", str(spec), "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("wslab: error:") and message in err[0]
    assert _dirs(tmp_path) == ["spec.toml"] and list(_isolated_home.iterdir()) == []


def test_equal_values_are_one_trial_with_one_seed(tmp_path):
    a = Experiment("e", grid={"transport": ["tcp"], "rate": [50, 50.0]}, root=tmp_path)
    b = Experiment("e", grid={"transport": ["tcp"], "rate": [50.0]}, root=tmp_path)
    assert [(t.id, t.seed) for t in a.trials] == [(t.id, t.seed) for t in b.trials]
    assert [t.id for t in a.trials] == ["tcp_rate=50_rep0"]


def test_runs_older_than_a_new_parameter_or_option_are_reused(tmp_path):
    """A run stored before a parameter (workers) or a transport option
    (fanout) existed is reused when the trial asks for their defaults."""
    import json

    exp = wslab.Experiment("compat", grid={"transport": ["websocket"]},
                           base={"clients": 1, "rate": 20, "duration": 0.5,
                                 "schedule": "fixed"}, root=tmp_path)
    first = exp.run(progress=False)
    manifest_path = tmp_path / first.trial[0] / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["parameters"]["workers"]
    del manifest["parameters"]["options"]["fanout"]
    manifest_path.write_text(json.dumps(manifest))
    again = exp.run(progress=False)
    assert again.reused.all()


def test_trials_run_repeat_by_repeat_so_compared_runs_are_close_in_time(tmp_path):
    exp = Experiment("order", grid={"transport": ["tcp", "websocket"]}, repeats=2,
                     base={"clients": 1, "rate": 20, "duration": 0.3}, root=tmp_path / "o")
    exp.run(progress=False)
    started = {r.path.name: r.manifest["publish"]["start_ns"] for r in exp.runs}
    order = sorted(started, key=started.get)
    assert [name.rsplit("_", 1)[1] for name in order] == ["rep0", "rep0", "rep1", "rep1"]


def test_a_grid_keeps_options_that_have_no_default(tmp_path):
    # gzip (long/short poll) and subprotocols (websocket) are optional_options:
    # a grid keeps them where they apply and drops them where they do not
    exp = Experiment("opt", grid={"transport": ["short-poll", "websocket", "sse"],
                                  "options": [{"gzip": True}, {"subprotocols": ["v1"]}]},
                     root=tmp_path)
    kept = [(t.config.transport, t.config.options) for t in exp.trials]
    assert ("short-poll", True) in [(tr, o.get("gzip")) for tr, o in kept]
    assert ("websocket", ["v1"]) in [(tr, o.get("subprotocols")) for tr, o in kept]
    assert not any("gzip" in o or "subprotocols" in o for tr, o in kept if tr == "sse")
    assert not any("subprotocols" in o for tr, o in kept if tr == "short-poll")
