"""The Socket.IO transport (`wslab.transports.socketio`) with its real server and client."""

import asyncio

import pytest

from wslab import transports
from wslab.core.errors import ConfigError
from wslab.core.events import Event, encode
from wslab.models import sio_ws_event_bytes
from wslab.runner.lab import Lab
from wslab.transports.base import ClientContext
from wslab.transports.socketio import MODES, connect_timed

from ..conftest import TIMEOUT_FACTOR


@pytest.fixture(scope="module")
def lab():
    with Lab() as lab:
        yield lab


@pytest.mark.parametrize("mode", list(MODES))
def test_every_mode_delivers_every_event_once(lab, tmp_path, mode):
    run = lab.run("socketio", clients=2, rate=40, duration=1.0, options={"mode": mode},
                  out=str(tmp_path / "run"), progress=False)
    s = run.summary
    assert s["published"] > 0 and s["lost"] == 0 and s["duplicated"] == 0
    c = run.connections
    assert len(c) == 2 and (c.setup_bytes > 0).all()  # one Engine.IO session per client
    # polling: a GET per response and a POST per client packet; websocket: one upgrade request
    assert (c.requests == 1).all() if mode == "websocket" else (c.requests >= 2).all()
    if mode == "websocket":
        # after set-up: each event's frame (Socket.IO's model around the kit's own
        # body, rebuilt from the delivered seq and stamp), plus the goodbye:
        # ``41`` and Engine.IO ``1`` up, the WebSocket close both ways
        m = run.messages
        bodies = [len(encode(q, t, b"x" * 64)) for q, t in
                  zip(m.seq, m.published_ns, strict=True)]
        framed = m.assign(b=sio_ws_event_bytes(bodies)).groupby("client_id").b.sum()
        extra = (c.set_index("client_id").eval("bytes_down + bytes_up - setup_bytes")
                 - framed)
        assert ((extra >= 0) & (extra <= 40)).all(), extra

def test_resume_replays_what_a_reset_lost(lab, tmp_path):
    run = lab.run("socketio", clients=2, rate=30, duration=2.0, schedule="fixed",
                  options={"mode": "websocket", "resume": True},
                  faults=["reset_peer:timeout=0.6s"], out=str(tmp_path / "r"), progress=False)
    assert run.summary["lost"] == 0 and run.summary["duplicated"] == 0
    assert (run.connections.fault_ns > 0).any()  # Socket.IO's own reconnection happened


def test_connect_timed_counts_the_upgrade(lab):
    async def once(mode):
        ctx = ClientContext(0, lab.urls["socketio"], {}, seed=1)
        return await connect_timed(lab.urls["socketio"], mode, ctx)

    ws, up = asyncio.run(once("websocket")), asyncio.run(once("upgrade"))
    assert ws["transport"] == "websocket" and up["transport"] == "websocket"
    assert up["requests"] == ws["requests"] + 1  # the polling handshake before the upgrade
    assert up["bytes_up"] + up["bytes_down"] > ws["bytes_up"] + ws["bytes_down"]


@pytest.mark.parametrize("options, match", [
    ({"mode": "sse"}, "mode must be one of websocket, polling, upgrade"),
    ({"resume": "yes"}, "resume must be true or false"),
    ({"room": 1}, "unknown option"),
])
def test_bad_options_name_what_is_allowed(options, match):
    with pytest.raises(ConfigError, match=match):
        transports.get("socketio").validate_options(options)


def test_bad_server_options_are_refused():
    from wslab.transports.socketio import _server_options
    with pytest.raises(ConfigError, match="rooms must be an integer"):
        _server_options({"rooms": 0})
    with pytest.raises(ConfigError, match="unknown socketio server option"):
        _server_options({"pingInterval": 1})


async def _resume_while_publishing(history: int, during: int) -> list[int]:
    """A lone client resumes from seq 0 with ``history`` events in the hub while
    ``during`` more are published, one per loop turn, during its replay; the seqs
    it received."""
    import socketio

    from wslab.core.hub import Hub
    from wslab.transports import Bind

    hub, got = Hub(history + during + 10), []
    endpoint = await transports.get("socketio").start_server(hub, Bind(), {})
    for seq in range(1, history + 1):  # nobody listens yet: dispatched to nobody
        hub.publish(Event(seq, seq, encode(seq, seq, b"x")))
    sio = socketio.AsyncClient(reconnection=False)
    sio.on("e", lambda data: got.append(data["seq"]))
    try:
        await sio.connect(endpoint.url, transports=["websocket"], auth={"since": 0})
        for seq in range(history + 1, history + during + 1):
            hub.publish(Event(seq, seq, encode(seq, seq, b"x")))
            await asyncio.sleep(0)
        # until the last seq arrives (one lost before it is seen as such at the end)
        deadline = asyncio.get_running_loop().time() + 10 * TIMEOUT_FACTOR
        while history + during not in got and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # a duplicate would arrive now
    finally:
        await sio.disconnect()
        await endpoint.close()
    return got


def test_events_published_during_a_lone_clients_replay_are_not_lost():
    # The join counts as pending until the client is in its room: events
    # published meanwhile queue behind the replay instead of being dispatched
    # to nobody (no member yet), which lost them.
    got = asyncio.run(_resume_while_publishing(history=300, during=200))
    assert got == list(range(1, 501))
