"""Experiments: grid expansion, seeds, real sweeps, resuming, the sweep command."""

from __future__ import annotations

import os
import shutil
import time

import pytest

import wslab
from wslab.cli import main
from wslab.core.errors import ConfigError
from wslab.experiment import Experiment

from .conftest import TIMEOUT_FACTOR, wslab_processes

SMALL = {"clients": 2, "rate": 50, "duration": 0.5, "schedule": "fixed"}
GRID = {"transport": ["tcp", "short-poll"], "interval": [0.05]}


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
    with pytest.raises(ConfigError, match="interval applies to short-poll only"):
        Experiment("c", trials=[{"transport": "websocket", "interval": 0.1}], root=tmp_path)


def test_seeds_are_deterministic_and_overridable(tmp_path):
    def seeds(**kw):
        return [t.seed for t in Experiment("s", grid={"transport": ["tcp", "sse"]}, repeats=3,
                                           root=tmp_path, **kw).trials]

    first = seeds(seed=7)
    assert first == seeds(seed=7)  # same experiment, same seeds
    assert len(set(first)) == 6  # every (trial, repeat) has its own
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
    exp = Experiment("exp", grid=GRID, repeats=2, base=SMALL, root=root, seed=1)
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
        assert (row.clients, row.rate, row.duration, row.schedule) == (2, 50.0, 0.5, "fixed")
        for q in ("p50", "p90", "p99", "p999", "max", "mean"):
            assert row[f"latency_{q}_us"] == s["latency_us"][q]
        for k in ("published", "delivered", "lost", "bytes_up", "bytes_down", "requests"):
            assert row[k] == s[k]
        assert s["lost"] == 0 and s["delivered"] == 2 * s["published"] > 0
    short = df[df.transport == "short-poll"]
    assert (short.interval == 0.05).all() and df[df.transport == "tcp"].interval.isna().all()
    assert (short.requests > 0).all() and (df[df.transport == "tcp"].requests == 0).all()
    assert df.seed.nunique() == 4
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

    again = Experiment("exp", grid=GRID, repeats=2, base=SMALL, root=root, seed=1)
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
    leftover = root / ".tcp_rep1.tmp-999999999"
    leftover.mkdir()
    (leftover / "manifest.json").write_text('{"status": "running"}')
    third = Experiment("exp", grid=GRID, repeats=2, base=SMALL, root=root, seed=1).run(
        progress=False)
    assert list(third.reused) == [True, False, True, True]
    assert _dirs(root) == names and not leftover.exists()
    assert third.seed.tolist() == first.seed.tolist()  # same seed, same schedule
    assert third.published.tolist() == first.published.tolist()


def test_changed_parameters_are_refused_not_mixed(swept):
    exp, _, _ = swept
    names = _dirs(exp.root)
    changed = Experiment("exp", grid=GRID, repeats=2, base={**SMALL, "payload": 128},
                         root=exp.root, seed=1)
    with pytest.raises(ConfigError, match=r"other parameters \(payload 64 here, 128 wanted\)"):
        changed.run(progress=False)
    assert _dirs(exp.root) == names
    assert wslab_processes(parent=os.getpid()) == []


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
