"""The parent side of wslab's process protocol (see `wslab.core.child`).

`ChildProcess` starts ``python -m <module>``, sends its configuration, waits
for the child's ``ready`` line (readiness is reported, never slept for), and
exchanges one-line JSON commands with it. `stop()` asks politely, then
terminates, then kills: it is safe to call from ``finally`` blocks and on
KeyboardInterrupt.

The pieces are shared with supervisors of other programs (tcpdump in
`wslab.net.capture`): `pdeathsig_preexec` ties a child's life to ours,
`read_until` reads a pipe with a deadline, `end_process` signals, waits, then
kills.
"""

from __future__ import annotations

import ctypes
import functools
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import IO, Any

from .errors import RunError

__all__ = ["ChildProcess", "end_process", "pdeathsig_preexec", "read_until", "set_pdeathsig",
           "timeout_factor"]

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def timeout_factor() -> float:
    """``WSLAB_TIMEOUT_FACTOR`` (default 1): scales every timeout, for slow machines."""
    try:
        return max(float(os.environ.get("WSLAB_TIMEOUT_FACTOR", "1")), 0.1)
    except ValueError:
        return 1.0


@functools.cache
def _prctl() -> Callable[..., int] | None:
    """libc's ``prctl``, typed, or None where there is none (not Linux)."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    fn.restype = ctypes.c_int
    return fn


def set_pdeathsig() -> bool:
    """Ask the kernel to SIGKILL this process when its parent dies
    (``prctl(PR_SET_PDEATHSIG)``); False where that is unavailable (not Linux) or refused."""
    prctl = _prctl()
    return prctl is not None and prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0


def pdeathsig_preexec() -> Callable[[], None] | None:
    """A ``preexec_fn`` for `subprocess.Popen`: the child, whatever program it
    runs, gets SIGKILL when this process dies (None where prctl does not exist).

    A ``preexec_fn`` runs between fork and exec, where loading libraries or
    taking locks is unsafe, so libc is looked up here, in the parent. The
    kernel ties the signal to the *thread* that forked: start the child from a
    long-lived thread (normally the main thread). If this process died before
    prctl took effect, no signal would come, so the child then kills itself.
    """
    prctl = _prctl()
    if prctl is None:
        return None
    parent = os.getpid()

    def preexec() -> None:
        if prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"prctl(PR_SET_PDEATHSIG): {os.strerror(err)}")
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def read_until(fd: int, buf: bytearray, marker: bytes, timeout: float,
               on_tick: Callable[[], None] | None = None) -> bool:
    """Read the pipe ``fd`` into ``buf`` until ``marker`` is in it.

    Returns True once it is (at once if it already was), False at end of file
    (the writer exited). Raises TimeoutError after ``timeout`` seconds.
    ``on_tick`` runs after each wake-up, about ten times a second. A selector
    (epoll), not ``select()``: a parent with over 1,024 descriptors open still works.
    """
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while marker not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {marker!r} within {timeout:g} s")
            if selector.select(min(left, 0.1)):
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    return False
                buf += chunk
            if on_tick is not None:
                on_tick()
    return True


def end_process(proc: subprocess.Popen, grace: float = 2.0,
                first: int = signal.SIGTERM) -> bool:
    """Make ``proc`` exit and reap it: send ``first`` (SIGTERM), allow ``grace``
    seconds, then SIGKILL. Returns False if SIGKILL was needed, True otherwise
    (also when it had already exited)."""
    if proc.poll() is not None:
        return True
    proc.send_signal(first)  # nothing if it exited meanwhile
    try:
        proc.wait(grace)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return False


class ChildProcess:
    """One wslab child process (server, fleet, proxy)."""

    def __init__(self, name: str, module: str, config: dict[str, Any]) -> None:
        self.name = name
        self.module = module
        self.config = config
        self.proc: subprocess.Popen | None = None
        self.ready: dict[str, Any] = {}
        self._buf = bytearray()
        self._stderr: IO[bytes] | None = None

    # -- life cycle ---------------------------------------------------------
    def start(self, timeout: float = 30.0) -> dict[str, Any]:
        """Start the child and wait for its ready reply (which is returned)."""
        self.start_async()
        return self.wait_ready(timeout)

    def start_async(self) -> None:
        """Start the child and send its configuration; `wait_ready` collects the reply."""
        env = dict(os.environ, WSLAB_PARENT_PID=str(os.getpid()), PYTHONUNBUFFERED="1")
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.module],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            close_fds=True,
        )
        self._write(self.config)

    def wait_ready(self, timeout: float = 30.0) -> dict[str, Any]:
        """Wait for the child's ready reply (readiness is reported, never slept for)."""
        self.ready = self._read(timeout * timeout_factor(), None)
        return self.ready

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def request(
        self,
        cmd: str,
        timeout: float = 30.0,
        on_tick: Callable[[], None] | None = None,
        **args: Any,
    ) -> dict[str, Any]:
        """Send a command and wait for its reply (``on_tick`` runs ~10x a second)."""
        self.send(cmd, **args)
        return self.receive(timeout, on_tick)

    def send(self, cmd: str, **args: Any) -> None:
        """Send a command without waiting (several children can work at once)."""
        self._write({"cmd": cmd, **args})

    def receive(self, timeout: float = 30.0, on_tick: Callable[[], None] | None = None):
        """The reply to the last command sent."""
        return self._read(timeout * timeout_factor(), on_tick)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the child: a ``stop`` command, then SIGTERM, then SIGKILL."""
        if self.proc is None:
            return
        try:
            if self.alive():
                try:
                    self.request("stop", timeout=timeout)
                except (RunError, OSError):
                    pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                end_process(self.proc)
        finally:
            for stream in (self.proc.stdin, self.proc.stdout):
                try:
                    if stream is not None:
                        stream.close()
                except OSError:
                    pass
            if self._stderr is not None:
                self._stderr.close()
                self._stderr = None

    def kill(self) -> None:
        """Kill at once (used when the parent is being interrupted)."""
        if self.proc is not None and self.alive():
            self.proc.kill()
        self.stop(timeout=1)

    # -- I/O ----------------------------------------------------------------
    def stderr_tail(self, limit: int = 3000) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0, os.SEEK_END)
        size = self._stderr.tell()
        self._stderr.seek(max(0, size - limit))
        return self._stderr.read().decode(errors="replace")

    def _fail(self, what: str) -> RunError:
        tail = self.stderr_tail().strip()
        detail = f"\n--- {self.name} stderr (last lines) ---\n{tail}" if tail else ""
        return RunError(f"{self.name} {what}{detail}")

    def _started(self) -> subprocess.Popen[bytes]:
        if self.proc is None or self.proc.stdin is None or self.proc.stdout is None:
            raise self._fail("is not started")
        return self.proc

    def _write(self, message: dict[str, Any]) -> None:
        stdin = self._started().stdin
        assert stdin is not None  # _started checked it
        try:
            stdin.write(json.dumps(message).encode() + b"\n")
            stdin.flush()
        except (BrokenPipeError, ValueError) as exc:
            raise self._fail("is not running") from exc

    def _read(self, timeout: float, on_tick: Callable[[], None] | None) -> dict[str, Any]:
        proc = self._started()
        assert proc.stdout is not None  # _started checked it
        try:
            complete = read_until(proc.stdout.fileno(), self._buf, b"\n", timeout, on_tick)
        except TimeoutError:
            raise self._fail(f"did not answer within {timeout:.0f} s") from None
        if not complete:
            proc.wait()
            raise self._fail(f"exited with status {proc.returncode}")
        end = self._buf.index(b"\n")
        line = bytes(self._buf[:end])
        del self._buf[:end + 1]
        reply = json.loads(line)
        if not reply.get("ok", False):
            raise self._fail(f"failed: {reply.get('error', 'unknown error')}")
        return reply
