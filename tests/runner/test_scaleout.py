"""Fleets as tasks on a real distributed.LocalCluster (loopback)."""

import pytest

import wslab
from wslab.core.errors import ConfigError

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        yield cluster


def test_fleets_on_dask_merge_exactly(cluster, tmp_path):
    run = wslab.run("websocket", clients=6, rate=100, duration=1, schedule="fixed", fleets=2,
                    dask=cluster.scheduler_address, out=str(tmp_path / "dask"), progress=False)
    s, m = run.summary, run.messages
    assert s["published"] == 100
    assert s["lost"] == s["duplicated"] == 0 and s["delivered"] == s["expected"] == 600
    # both fleets' rows are there: clients 0-2 from one task, 3-5 from the other
    assert sorted(m.client_id.unique()) == list(range(6))
    assert (m.groupby("client_id").seq.nunique() == 100).all()
    assert len(run.connections) == 6 and s["client_cpu_s"] > 0
    assert run.manifest["processes"]["fleets"] == "dask"
    # the merged histogram counts every measured delivery once
    assert s["latency_count"] == len(run.latency_us())


def test_dask_address_must_be_local():
    with pytest.raises(ConfigError, match="scheduler address on this machine"):
        wslab.RunConfig(transport="tcp", dask="tcp://10.1.2.3:8786").validate()
