"""The tcpdump supervisor (wslab.net.capture): argument checks, failure paths with a
fake tcpdump, a live capture on loopback, and tcpdump dying with its parent."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from wslab.net.capture import Capture, tcpdump_available

from ..conftest import TIMEOUT_FACTOR, needs

SERVER_PORT = 8765


def timeout(seconds: float) -> float:
    """Scale a wait by WSLAB_TIMEOUT_FACTOR (slow CI machines)."""
    return seconds * TIMEOUT_FACTOR


# ---------------------------------------------------------------------------
# Capture: argument checks and failure paths (no privileges needed)
# ---------------------------------------------------------------------------


def test_capture_refuses_non_loopback_interface() -> None:
    with pytest.raises(ValueError, match="only loopback.*'?lo'?"):
        Capture(SERVER_PORT, iface="eth0")
    with pytest.raises(ValueError, match="only loopback"):
        Capture(SERVER_PORT, iface="any")


def test_capture_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="port"):
        Capture(0)
    with pytest.raises(ValueError, match="snaplen"):
        Capture(SERVER_PORT, snaplen=40)


def test_result_before_exit_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="no capture result"):
        _ = Capture(SERVER_PORT).result


def fake_tcpdump(tmp_path: Path, body: str) -> str:
    script = tmp_path / "fake-tcpdump"
    script.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


@pytest.fixture
def private_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point tempfile at an empty directory so leftovers are easy to spot."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp


def test_capture_reports_tcpdump_failure(tmp_path: Path, private_tempdir: Path) -> None:
    exe = fake_tcpdump(
        tmp_path,
        """\
        echo "tcpdump: lo: You don't have permission to perform this capture on that device" >&2
        exit 1
        """,
    )
    with pytest.raises(RuntimeError, match="status 1.*permission"):
        with Capture(SERVER_PORT, tcpdump=exe, ready_timeout=timeout(10)):
            pass
    assert list(private_tempdir.iterdir()) == []


def test_capture_times_out_waiting_for_listening(tmp_path: Path, private_tempdir: Path) -> None:
    exe = fake_tcpdump(tmp_path, "echo 'tcpdump: warming up' >&2\nexec sleep 60\n")
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="did not start listening.*warming up"):
        with Capture(SERVER_PORT, tcpdump=exe, ready_timeout=0.3):
            pass
    assert time.monotonic() - started < timeout(5)
    assert list(private_tempdir.iterdir()) == []


def test_capture_missing_executable() -> None:
    with pytest.raises(RuntimeError, match="not found"):
        with Capture(SERVER_PORT, tcpdump="/nonexistent/tcpdump"):
            pass


# ---------------------------------------------------------------------------
# Live capture on loopback
# ---------------------------------------------------------------------------

needs_tcpdump = needs(
    tcpdump_available() and os.geteuid() == 0,
    reason="needs tcpdump on PATH and root to capture on lo"
    + ("" if tcpdump_available() else " (tcpdump not installed)")
    + ("" if os.geteuid() == 0 else " (not running as root)"),
)

CLIENT_WRITES = [1000, 2500, 4000, 1500, 1000]  # 10,000 bytes in several writes
REQUEST_BYTES = sum(CLIENT_WRITES)
REPLY_BYTES = 3000


def tcp_info(sock) -> dict[str, int]:
    """The Linux TCP_INFO fields the kit uses (offsets from struct tcp_info)."""
    raw = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
    bytes_acked, bytes_received = struct.unpack_from("=QQ", raw, 120)
    segs_out, segs_in = struct.unpack_from("=II", raw, 136)
    return {
        "bytes_acked": bytes_acked,
        "bytes_received": bytes_received,
        "segs_out": segs_out,
        "segs_in": segs_in,
    }


async def exchange(listener: socket.socket) -> dict[str, object]:
    """Client sends REQUEST_BYTES, server replies REPLY_BYTES, both close."""
    server_info: asyncio.Future[dict[str, int]] = asyncio.get_running_loop().create_future()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(REQUEST_BYTES)
        writer.write(b"r" * REPLY_BYTES)
        await writer.drain()
        assert await reader.read() == b""  # client's FIN (it also acks our reply)
        server_info.set_result(tcp_info(writer.get_extra_info("socket")))
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(handle, sock=listener)
    try:
        reader, writer = await asyncio.open_connection(*listener.getsockname())
        sock = writer.get_extra_info("socket")
        for n in CLIENT_WRITES:
            writer.write(b"c" * n)
            await writer.drain()
        # The reply is sent only after the server read all 10,000 bytes, and its
        # segments carry the ACK for them: once read, our data is acked too.
        assert await reader.readexactly(REPLY_BYTES) == b"r" * REPLY_BYTES
        before_close = tcp_info(sock)
        writer.write_eof()
        assert await reader.read() == b""  # server's FIN, which also acks ours
        after_close = tcp_info(sock)
        client_addr = sock.getsockname()
        writer.close()
        await writer.wait_closed()
        return {
            "client": client_addr,
            "before_close": before_close,
            "after_close": after_close,
            "server": await server_info,
        }
    finally:
        server.close()
        await server.wait_closed()


@needs_tcpdump
def test_capture_matches_sent_bytes_and_tcp_info() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    with Capture(port, ready_timeout=timeout(10), stop_timeout=timeout(10)) as cap:
        pcap_dir = os.path.dirname(cap.pcap_path)
        assert os.path.isdir(pcap_dir)
        info = asyncio.run(asyncio.wait_for(exchange(listener), timeout(10)))
    res = cap.result

    # The packet capture sees exactly the application bytes, nothing for SYN/FIN.
    assert res.link_type == 1  # tcpdump reports Linux lo as EN10MB (Ethernet)
    assert res.bytes_to_server == REQUEST_BYTES
    assert res.bytes_from_server == REPLY_BYTES
    client = tuple(info["client"])
    assert list(res.per_connection) == [client]
    conn = res.per_connection[client]
    assert (conn.bytes_to_server, conn.bytes_from_server) == (REQUEST_BYTES, REPLY_BYTES)
    assert res.segments_to_server == conn.segments_to_server >= len(CLIENT_WRITES) + 2
    assert res.packets == res.segments_to_server + res.segments_from_server
    assert cap.kernel_dropped == 0
    assert not os.path.exists(pcap_dir)  # temp file removed

    # TCP_INFO counts sequence space, not payload: the active opener's
    # tcpi_bytes_acked includes its SYN (+1), and a FIN adds 1 on each side.
    before, after, server = info["before_close"], info["after_close"], info["server"]
    assert before["bytes_acked"] == REQUEST_BYTES + 1  # + SYN
    assert before["bytes_received"] == REPLY_BYTES == res.bytes_from_server
    assert after["bytes_acked"] == REQUEST_BYTES + 2  # + SYN + FIN
    assert after["bytes_received"] == REPLY_BYTES + 1  # + server's FIN
    # The passive side starts counting after the handshake: no SYN, but the FIN.
    assert server["bytes_acked"] == REPLY_BYTES == res.bytes_from_server
    assert server["bytes_received"] == REQUEST_BYTES + 1  # + client's FIN
    # After the close handshake the client has sent/received every segment there
    # will be on this connection, and the capture agrees segment for segment.
    assert after["segs_out"] == res.segments_to_server
    assert after["segs_in"] == res.segments_from_server


@needs_tcpdump
def test_tcpdump_dies_with_its_parent() -> None:
    """SIGKILL the process that started tcpdump: PR_SET_PDEATHSIG must take tcpdump down."""
    child_code = textwrap.dedent(
        """\
        import sys, time
        from wslab.net.capture import Capture
        cap = Capture(9, ready_timeout=float(sys.argv[1])).__enter__()
        print(cap._proc.pid, cap.pcap_path, flush=True)
        time.sleep(600)
        """
    )
    repo = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": repo + os.pathsep + os.environ.get("PYTHONPATH", "")}
    pcap_dir = None
    parent = subprocess.Popen(
        [sys.executable, "-c", child_code, str(timeout(10))],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        line = parent.stdout.readline()  # blocks until tcpdump listens (or the child dies)
        assert line, "child failed to start a capture"
        pid_text, pcap_path = line.split()
        pcap_dir = os.path.dirname(pcap_path)
        tcpdump_pid = int(pid_text)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=timeout(10))

        def alive(pid: int) -> bool:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except FileNotFoundError:
                return False
            return state not in ("Z", "X")  # a zombie has already died

        deadline = time.monotonic() + timeout(5)
        while alive(tcpdump_pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        still_alive = alive(tcpdump_pid)
        if still_alive:
            os.kill(tcpdump_pid, signal.SIGKILL)
        assert not still_alive, "tcpdump outlived the process that started it"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        parent.stdout.close()
        if pcap_dir is not None:  # the SIGKILLed child could not remove it
            shutil.rmtree(pcap_dir, ignore_errors=True)
