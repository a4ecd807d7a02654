"""A run's fault plan: the happy path and every error path of parse_faults."""

from __future__ import annotations

import pytest

from wslab.core.errors import ConfigError
from wslab.net.faults import FaultPlan, ServerRestart, parse_faults
from wslab.net.toxics import TOXIC_TYPES, parse_toxics


def test_a_plan_splits_proxy_toxics_from_lab_restarts():
    plan = parse_faults(["outage:at=5s,mode=reset,duration=1s", "strip_upgrade",
                         "server_restart:at=12s,down=1s", "server_restart:at=8s,down=500ms",
                         "reset_peer:timeout=2s", "buffer@downstream:size=8KiB"],
                        duration_s=20, seed=7)
    assert plan.toxics == [
        "outage@downstream:at=5000.0,mode=reset,duration=1000.0,every=0.0,seed=7",
        "strip_upgrade@upstream:seed=7", "reset_peer@downstream:timeout=2000.0,seed=7",
        "buffer@downstream:size=8192,head=hold,seed=7"]
    assert plan.restarts == [ServerRestart(8, 0.5), ServerRestart(12, 1)]  # in time order
    assert str(plan.restarts[0]) == "server_restart:at=8s,down=0.5s"
    assert plan.needs_proxy
    assert [str(t) for t in parse_toxics(*plan.toxics)] == plan.toxics  # canonical: round trip
    only_lab = parse_faults(["server_restart:at=0"], duration_s=1, seed=0)
    assert only_lab == FaultPlan([], [ServerRestart(0, 0)]) and not only_lab.needs_proxy
    assert parse_faults([], duration_s=1, seed=0) == FaultPlan()


@pytest.mark.parametrize("specs, message", [
    (["crash:at=1s"], r"^unknown fault 'crash'; allowed: latency, bandwidth, idle_cut, "
                      r"reset_peer, blackhole, limit_data, strip_upgrade, buffer, outage, drop, "
                      r"timeout, server_restart$"),
    ([""], r"a fault must be a non-empty string"),
    (["outage:at=-1s,mode=reset"], r"outage toxic: at: must not be negative"),
    (["server_restart:at=-2s"], r"at \(a time >= 0, e.g. 5s\): must not be negative"),
    (["server_restart:at=1s,down=-1s"], r"down \(a time >= 0, e.g. 5s\): must not be negative"),
    (["outage:at=20s,mode=reset"], r"at=20 s is at or after the run's end; "
                                   r"the run publishes for 20 s$"),
    (["server_restart:at=25s"], r"at=25 s is at or after the run's end; "
                                r"the run publishes for 20 s$"),
    (["server_restart:at=1s,wait=1s"], r"unknown attribute 'wait'; allowed: at, down$"),
    (["server_restart:down=1s"], r"missing attribute 'at'"),
    (["server_restart@upstream:at=1s"], r"server_restart takes no stream"),
    (["server_restart:at=1s,at=2s"], r"'at' given twice"),
    (["server_restart:at"], r"expected NAME=VALUE"),
    (["outage:at=1s,mode=reset,after=1"], r"unknown attribute 'after'; allowed: at, mode, "
                                          r"duration, every, stream, toxicity, seed"),
    (["server_restart:at=5s,down=2s", "server_restart:at=6s"],
     r"faults server_restart:at=5s,down=2s and server_restart:at=6s,down=0s overlap: the "
     r"server is down until 7 s"),
])
def test_bad_faults_are_refused_with_one_line_naming_what_is_allowed(specs, message):
    with pytest.raises(ConfigError, match=message) as caught:
        parse_faults(specs, duration_s=20, seed=0)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("duration", [0, -1, float("inf"), "20s", True])
def test_a_bad_run_duration_is_refused(duration):
    with pytest.raises(ConfigError, match="run duration: expected a positive number"):
        parse_faults([], duration_s=duration, seed=0)


def test_every_toxic_type_is_a_fault():
    minimal = {"latency": "latency:latency=5", "bandwidth": "bandwidth:rate=100",
               "idle_cut": "idle_cut:timeout=1s", "limit_data": "limit_data:bytes=10",
               "outage": "outage:at=1s,mode=reset"}
    for name in TOXIC_TYPES:
        plan = parse_faults([minimal.get(name, name)], duration_s=20, seed=0)
        assert plan.toxics and plan.toxics[0].startswith(name + "@")
