"""Packet-capture cross-check for the kit's kernel byte counters: tcpdump on loopback.

The kit reads per-socket byte counters from the kernel (``TCP_INFO``). This
module provides an *independent* measurement of the same traffic: `Capture`
runs ``tcpdump`` on the loopback interface for the duration of a ``with``
block, and `wslab.net.pcap.parse_pcap` counts the TCP payload bytes and
segments that actually crossed the wire, in each direction and per client
connection. It needs ``tcpdump`` on ``PATH`` and capture privileges (in
practice: root).

tcpdump is supervised with the process protocol's pieces
(`wslab.core.proc`): it dies with this process (``PR_SET_PDEATHSIG``), its
readiness is read from its stderr with a deadline, and it is stopped with
SIGINT, then SIGKILL.

Example::

    with Capture(port) as cap:
        run_experiment(port)
    print(cap.result.bytes_to_server, cap.result.bytes_from_server)
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import warnings
from dataclasses import replace
from types import TracebackType

from ..core.proc import end_process, pdeathsig_preexec, read_until
from .pcap import CaptureResult, parse_pcap

__all__ = ["ALLOWED_INTERFACES", "Capture", "tcpdump_available"]

#: Interfaces :class:`Capture` may listen on.  The kit only ever measures
#: loopback traffic; refusing anything else keeps it from sniffing real networks.
ALLOWED_INTERFACES: tuple[str, ...] = ("lo",)


def tcpdump_available() -> bool:
    """Return True if a ``tcpdump`` executable is on ``PATH``.

    This does not check privileges; :class:`Capture` reports those failures
    (with tcpdump's own message) when it starts.
    """
    return shutil.which("tcpdump") is not None


class Capture:
    """Run tcpdump on loopback for the duration of a ``with`` block.

    ``with Capture(port) as cap: ...`` starts
    ``tcpdump -i lo -w <tmp>.pcap -U -s <snaplen> -n 'tcp port <port> or <barrier>'``,
    returns once tcpdump reports "listening on" (so traffic after ``__enter__``
    is captured), and on exit flushes it with a barrier packet, stops it with
    SIGINT, parses the file into :attr:`result` and deletes the temporary file.

    Why a barrier: tcpdump reacts to SIGINT by breaking out of its capture
    loop, and packets the kernel has queued for it but it has not read yet are
    discarded (its exit statistics then show "received by filter" > "captured";
    in testing a whole short exchange was lost this way a few percent of the
    time).  So before SIGINT we send one UDP datagram carrying a random token to
    a private loopback socket, which the filter also matches, and wait until the
    token shows up in the file.  The kernel queues packets in order and
    tcpdump (``-U``) writes them in order, so everything sent before the barrier
    is on disk by then.  Only the payload-bearing packets the application
    already saw delivered are guaranteed to precede it; a final pure ACK racing
    the end of the block may or may not be in the file.

    Notes:
        * Entering and leaving block the calling thread (typically a few
          milliseconds each); from asyncio code that is usually acceptable.
        * ``--immediate-mode`` makes libpcap deliver each packet at once rather
          than in ring-buffer blocks (which otherwise can take up to 1 s to be
          handed over), so the barrier completes promptly.
        * tcpdump is started with ``PR_SET_PDEATHSIG=SIGKILL``
          (`wslab.core.proc.pdeathsig_preexec`) so it cannot outlive this process.  The kernel ties that to the *thread* that
          started it: enter the context on a long-lived thread (normally the
          main thread), not in a short-lived executor thread.
        * When running as root, ``-Z root`` keeps tcpdump from switching to the
          ``tcpdump`` user: that user could not write into our private temp
          directory, and the credential change would also clear the
          parent-death signal.

    Args:
        port: Server port; segments to/from it are counted.
        iface: Capture interface; only ``"lo"`` is allowed.
        snaplen: Bytes kept per packet; only headers are needed.
        ready_timeout: Seconds to wait for tcpdump to start listening.
        stop_timeout: Seconds to wait for the barrier packet to reach the file,
            and again for tcpdump to exit after SIGINT.
        tcpdump: tcpdump executable (name on ``PATH`` or a path).

    Raises:
        ValueError: Disallowed interface, bad port or too small snaplen.
        RuntimeError: tcpdump is missing, fails to start (e.g. not root) or
            does not flush/stop cleanly.  Packets dropped by the kernel only
            warn (see :attr:`kernel_dropped`).
    """

    #: Smallest snaplen that keeps Ethernet + IPv6 + the TCP data-offset field
    #: (and therefore also the barrier datagram's token).
    MIN_SNAPLEN = 14 + 40 + 13

    def __init__(
        self,
        port: int,
        iface: str = "lo",
        snaplen: int = 128,
        *,
        ready_timeout: float = 10.0,
        stop_timeout: float = 10.0,
        tcpdump: str = "tcpdump",
    ) -> None:
        if iface not in ALLOWED_INTERFACES:
            raise ValueError(
                f"refusing to capture on interface {iface!r}: only loopback is allowed "
                f"({', '.join(ALLOWED_INTERFACES)})"
            )
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ValueError(f"port must be an int in 1..65535, got {port!r}")
        if snaplen < self.MIN_SNAPLEN:
            raise ValueError(f"snaplen must be at least {self.MIN_SNAPLEN}, got {snaplen}")
        self.port = port
        self.iface = iface
        self.snaplen = snaplen
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.tcpdump = tcpdump
        #: Everything tcpdump wrote to stderr (complete after exit).
        self.stderr = ""
        #: "packets dropped by kernel" from tcpdump's exit statistics, if reported.
        self.kernel_dropped: int | None = None
        self._result: CaptureResult | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmpdir: str | None = None
        self._barrier_sock: socket.socket | None = None
        self._barrier_token = os.urandom(16)
        self._stderr_buf = bytearray()
        self._used = False

    @property
    def result(self) -> CaptureResult:
        """The parsed capture, available once the ``with`` block exited cleanly.

        ``packets`` does not include the barrier datagram.
        """
        if self._result is None:
            raise RuntimeError("no capture result yet (it is set when the with-block exits)")
        return self._result

    @property
    def pcap_path(self) -> str | None:
        """Path of the temporary pcap while the capture is active, else None."""
        return os.path.join(self._tmpdir, "capture.pcap") if self._tmpdir else None

    def command(self, pcap_path: str, barrier_port: int) -> list[str]:
        """The tcpdump command line for writing to ``pcap_path``."""
        exe = shutil.which(self.tcpdump) or self.tcpdump
        cmd = [exe, "-i", self.iface, "-w", pcap_path, "-U", "-s", str(self.snaplen), "-n"]
        cmd.append("--immediate-mode")
        if os.geteuid() == 0:
            cmd += ["-Z", "root"]
        cmd.append(
            f"tcp port {self.port} or (udp and dst host 127.0.0.1 and dst port {barrier_port})"
        )
        return cmd

    def __enter__(self) -> Capture:
        if self._used:
            raise RuntimeError("a Capture can only be used once")
        self._used = True
        if shutil.which(self.tcpdump) is None:
            raise RuntimeError(f"{self.tcpdump!r} not found on PATH (install tcpdump)")
        try:
            # Private directory: nobody else can swap the file under tcpdump.
            # The .pcap suffix also suits distro AppArmor profiles for tcpdump.
            self._tmpdir = tempfile.mkdtemp(prefix="wslab-capture-")
            # Bound receiver so the barrier datagram is not answered by ICMP.
            self._barrier_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._barrier_sock.bind(("127.0.0.1", 0))
            barrier_port = self._barrier_sock.getsockname()[1]
            self._proc = subprocess.Popen(
                self.command(self.pcap_path, barrier_port),  # type: ignore[arg-type]
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                preexec_fn=pdeathsig_preexec(),
            )
            self._wait_listening()
        except BaseException:
            self._kill()
            self._cleanup()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # On an exception in the block, still stop and clean up, but do not
        # mask the original exception with capture errors.
        ok = exc_type is None
        try:
            barrier_seen = self._flush(raise_errors=ok)
            self._stop(raise_errors=ok)
            if ok:
                result = parse_pcap(self.pcap_path, self.port)  # type: ignore[arg-type]
                self._result = replace(result, packets=result.packets - barrier_seen)
        finally:
            self._kill()  # no-op unless something above failed half-way
            self._cleanup()

    # -- internals ---------------------------------------------------------

    def _wait_listening(self) -> None:
        """Read tcpdump's stderr until "listening on", EOF (exit) or timeout."""
        assert self._proc is not None and self._proc.stderr is not None
        fd = self._proc.stderr.fileno()
        try:
            listening = read_until(fd, self._stderr_buf, b"listening on", self.ready_timeout)
        except TimeoutError:
            self._kill()
            raise RuntimeError(
                f"tcpdump did not start listening within {self.ready_timeout:g}s; "
                f"stderr: {self._stderr_text()!r}"
            ) from None
        if not listening:  # EOF: tcpdump exited (bad filter, no permission, ...)
            rc = self._proc.wait()
            raise RuntimeError(
                f"tcpdump exited with status {rc} before listening "
                f"(capturing needs root or CAP_NET_RAW); stderr: {self._stderr_text()!r}"
            )

    def _flush(self, raise_errors: bool) -> bool:
        """Send the barrier datagram and wait until tcpdump has written it.

        Returns whether it was seen.  Polls the file's new bytes with short,
        growing pauses: a wait for a condition with a deadline, not a settle.
        """
        proc, sock, path = self._proc, self._barrier_sock, self.pcap_path
        if proc is None or sock is None or path is None or proc.poll() is not None:
            return False  # _stop reports a dead tcpdump
        sock.sendto(self._barrier_token, sock.getsockname())
        token, keep = self._barrier_token, len(self._barrier_token) - 1
        deadline = time.monotonic() + self.stop_timeout
        pause, pos, tail = 0.0005, 0, b""
        with open(path, "rb") as f:
            while True:
                f.seek(pos)
                new = f.read()
                pos += len(new)
                window = tail + new
                if token in window:
                    return True
                tail = window[-keep:]
                if time.monotonic() >= deadline or proc.poll() is not None:
                    break
                time.sleep(pause)
                pause = min(pause * 2, 0.02)
        if raise_errors:
            self._kill()
            raise RuntimeError(
                f"tcpdump did not write the barrier packet within {self.stop_timeout:g}s; "
                f"the capture may be incomplete; stderr: {self._stderr_text()!r}"
            )
        return False

    def _stop(self, raise_errors: bool) -> None:
        """SIGINT tcpdump (it then closes the file cleanly) and reap it."""
        proc = self._proc
        if proc is None:
            return
        error: str | None = None
        if proc.poll() is None:
            if not end_process(proc, self.stop_timeout, first=signal.SIGINT):
                error = f"tcpdump did not exit within {self.stop_timeout:g}s of SIGINT"
        else:
            error = f"tcpdump exited early with status {proc.returncode}"
        self._read_rest_of_stderr()
        self.stderr = self._stderr_text()
        if error is None and proc.returncode != 0:
            error = f"tcpdump exited with status {proc.returncode}"
        m = re.search(r"(\d+) packets? dropped by kernel", self.stderr)
        self.kernel_dropped = int(m.group(1)) if m else None
        if error is not None:
            if raise_errors:
                raise RuntimeError(f"{error}; stderr: {self.stderr!r}")
        elif self.kernel_dropped:
            warnings.warn(
                f"tcpdump reports {self.kernel_dropped} packets dropped by kernel; "
                "capture totals are incomplete",
                RuntimeWarning,
                stacklevel=3,
            )

    def _kill(self) -> None:
        if self._proc is not None:
            end_process(self._proc, grace=5, first=signal.SIGKILL)

    def _read_rest_of_stderr(self) -> None:
        """Add what the exited tcpdump left in its stderr pipe (its exit statistics).

        Non-blocking: should anything else still hold the pipe's write end,
        this stops at what is there instead of waiting for an EOF."""
        stderr = self._proc.stderr if self._proc is not None else None
        if stderr is None or stderr.closed:
            return
        fd = stderr.fileno()
        os.set_blocking(fd, False)
        with contextlib.suppress(BlockingIOError):
            while chunk := os.read(fd, 1 << 16):
                self._stderr_buf += chunk

    def _cleanup(self) -> None:
        if self._proc is not None and self._proc.stderr is not None:
            self._proc.stderr.close()
        if self._barrier_sock is not None:
            self._barrier_sock.close()
            self._barrier_sock = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def _stderr_text(self) -> str:
        return self._stderr_buf.decode(errors="replace").strip()
