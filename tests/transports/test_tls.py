"""Every transport over TLS, and TLS's bytes per event against the record model.

The model (`wslab.core.tls.record_overhead`): one record per event, 22 bytes
each with TLS 1.3 and 29 with TLS 1.2 AES-GCM. Fixed per-connection costs
(handshake, session tickets, close_notify) are cancelled by taking the
slope of bytes over two run lengths, in clear and over TLS, on the same
schedule (so the event bodies are the same bytes).
"""

import pytest

from wslab import transports
from wslab.core.errors import ConfigError
from wslab.core.tls import record_overhead
from wslab.runner.lab import Lab


@pytest.fixture(scope="module")
def tls_lab():
    with Lab(tls="1.3") as lab:
        yield lab


@pytest.mark.parametrize("name", transports.names())
def test_every_transport_delivers_exactly_once_over_tls(tls_lab, tmp_path, name):
    assert tls_lab.urls[name].split("://")[0] in ("wss", "https", "tls")
    run = tls_lab.run(name, clients=2, rate=50, duration=1, tls="1.3",
                      out=str(tmp_path / "r"), progress=False,
                      **({"interval": 0.1} if name == "short-poll" else {}))
    assert run.summary["published"] > 0
    assert (run.summary["lost"], run.summary["duplicated"]) == (0, 0)


def _slope(lab, tls, tmp_path, transport):
    points = []
    for duration in (0.5, 1.5):  # 100 and 300 events
        run = lab.run(transport, clients=1, rate=200, duration=duration, schedule="fixed",
                      seed=1, tls=tls, out=str(tmp_path / f"{tls}-{transport}-{duration}"),
                      progress=False)
        points.append((run.summary["delivered"], run.connections.bytes_down.sum()))
    (n1, b1), (n2, b2) = points
    return (b2 - b1) / (n2 - n1)


@pytest.mark.parametrize("version, transport", [("1.3", "websocket"), ("1.3", "tcp"),
                                                ("1.2", "websocket")])
def test_tls_bytes_per_event_match_the_record_model(tmp_path, version, transport):
    with Lab() as clear, Lab(tls=version) as secure:
        extra = (_slope(secure, version, tmp_path, transport)
                 - _slope(clear, None, tmp_path, transport))
    model = record_overhead(version)
    assert abs(extra - model) <= 0.1 * model, (extra, model)


def test_a_run_must_match_its_labs_tls(tls_lab, tmp_path):
    with pytest.raises(ConfigError, match="tls must be 1.3 .this Lab's servers., not none"):
        tls_lab.run("websocket", duration=1, out=str(tmp_path / "r"), progress=False)
    with pytest.raises(ConfigError, match="tls must be one of 1.2, 1.3"):
        Lab(tls="ssl3")


def test_chromium_clients_over_tls_are_refused_before_anything_starts():
    from wslab.runner.config import RunConfig

    with pytest.raises(ConfigError, match="tls is not supported with client chromium yet"):
        RunConfig("websocket", tls="1.3", client="chromium").validate()
