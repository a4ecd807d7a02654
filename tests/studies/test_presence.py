"""Presence study (notebook 08): plan, verdicts on synthetic samples, one tiny real vanish."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from wslab.core.errors import ConfigError
from wslab.models import presence as model
from wslab.net import netns
from wslab.studies import presence as st

from ..conftest import needs


def test_the_quick_plan_is_small_and_the_full_plan_fits_its_budget():
    quick, full = st.plan(True), st.plan(False)
    assert quick.wall_s() < 45 and full.wall_s() < 8 * 60
    assert {c.mechanism for c in full.configs} == set(st.MECHANISMS)
    assert all(len(b) <= 5 for b in full.batches)


def test_configs_check_their_parameters_before_anything_starts():
    with pytest.raises(ConfigError, match="mechanism must be one of"):
        st.Config("smoke-signal", {})
    with pytest.raises(ConfigError, match="needs parameter 'grace'"):
        st.Config("long-poll", {"timeout": 1})
    with pytest.raises(ConfigError, match="whole numbers"):
        st.Config("keepalive", {"idle": 1, "interval": 0.3, "count": 3})
    c = st.Config("websocket", {"ping_interval": 1, "ping_timeout": 2})
    assert c.period == 1 and c.detection() == model.websocket_detection(1, 2)


def test_bounds_verdict_is_computed_from_the_samples():
    d = model.Detection(1.0, 2.0)
    assert st.bounds_verdict(np.array([1.0, 1.5, 2.0]), d) == "inside model bounds"
    assert st.bounds_verdict(np.array([1.5, 2.5]), d, slack=0.1) == \
        "1 of 2 outside model bounds (by up to 0.5 s)"
    assert st.bounds_verdict(np.array([1.5, np.nan]), d) == "1 not detected by the deadline"


def _synthetic(configs, n=12, seed=3):
    rng = np.random.default_rng(seed)
    det, cost, cpu = [], [], []
    for c in configs:
        d = c.detection()
        det += [{"config": c.label, "client": k, "detection_s": x}
                for k, x in enumerate(rng.uniform(d.low, d.high, n))]
        bps = model.heartbeat_wire_bytes(c.mechanism, c.period, 100.0)
        cost += [{"config": c.label, "client": k, "payload_bytes_per_s": 100 / c.period,
                  "wire_bytes_per_s": bps * (1 + rng.normal(0, 0.01))} for k in range(n)]
        cpu += [{"config": c.label, "sample": j, "cpu_us_per_s_per_client": 50 + j}
                for j in range(5)]
    return st.Measurement(pd.DataFrame(det), pd.DataFrame(cost), pd.DataFrame(cpu), 0.002, n,
                          10.0, {c.label: 0 for c in configs})


def test_checks_and_frontier_on_samples_drawn_from_the_model():
    configs = st.plan(True).configs
    m = _synthetic(configs)
    det = st.check_detection(m, configs)
    assert (det["bounds"] == "inside model bounds").all()
    assert det["verdict"].str.startswith("model inside").mean() >= 0.6  # 95 % intervals
    assert (det["n"] == 12).all()
    lp = st.check_bytes(m, configs).set_index("config").loc["long-poll τ=1 g=0.5"]
    assert lp["model"] == pytest.approx(100 + 3 * 52)
    front = st.frontier(m, configs)
    assert list(front["config"]) == [c.label for c in configs]
    assert (front["detect_low"] <= front["detect_s"]).all()
    assert (front["model_low"] < front["model_high"]).all()
    costs = st.cost_table(m, configs)
    assert (costs["cpu_us_per_s"] == 52).all() and (costs["cpu_us_per_s_n"] == 5).all()
    prod = st.production_points().set_index("stack")
    assert prod.loc["websockets", "detect_low_s"] == 30  # 20 s timeout + 10 s close_timeout
    assert prod.loc["SignalR", "detect_high_s"] == 30


@needs(os.geteuid() == 0, reason="network namespaces need root")
def test_one_tiny_real_vanish_is_detected_by_every_server():
    configs = [st.Config("sse", {"ping": 0.3, "user_timeout": 0.7}),
               st.Config("long-poll", {"timeout": 0.5, "grace": 0.3}),
               st.Config("keepalive", {"idle": 1, "interval": 1, "count": 1})]
    before = set(netns.list_namespaces())
    m = st.measure(configs, clients=3, window=1.0, seed=5, cpu_samples=2)
    assert set(netns.list_namespaces()) == before  # both namespaces deleted
    assert m.early == {c.label: 0 for c in configs}
    assert m.detections["detection_s"].notna().all() and len(m.detections) == 9
    assert (m.detections["detection_s"] > 0).all()
    costs = m.costs.set_index(["config", "client"])
    assert (costs.loc["sse P=0.3 U=0.7", "payload_bytes_per_s"] > 0).all()
    assert (costs.loc["keepalive idle=1 intvl=1 cnt=1", "payload_bytes_per_s"] == 0).all()
    assert set(m.cpu["config"]) == {c.label for c in configs}
