"""The parent side of wslab's process protocol (see `wslab.core.child`).

`ChildProcess` starts ``python -m <module>``, sends its configuration, waits
for the child's ``ready`` line (readiness is reported, never slept for), and
exchanges one-line JSON commands with it. `stop()` asks politely, then
terminates, then kills: it is safe to call from ``finally`` blocks and on
KeyboardInterrupt.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from .errors import RunError

__all__ = ["ChildProcess", "timeout_factor"]


def timeout_factor() -> float:
    """``WSLAB_TIMEOUT_FACTOR`` (default 1): scales every timeout, for slow machines."""
    try:
        return max(float(os.environ.get("WSLAB_TIMEOUT_FACTOR", "1")), 0.1)
    except ValueError:
        return 1.0


class ChildProcess:
    """One wslab child process (server, fleet, proxy)."""

    def __init__(self, name: str, module: str, config: dict[str, Any]) -> None:
        self.name = name
        self.module = module
        self.config = config
        self.proc: subprocess.Popen | None = None
        self.ready: dict[str, Any] = {}
        self._buf = b""
        self._stderr = None

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
                self.proc.terminate()
                try:
                    self.proc.wait(2)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            for stream in (self.proc.stdin, self.proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            if self._stderr is not None:
                self._stderr.close()
                self._stderr = None

    def kill(self) -> None:
        """Kill at once (used when the parent is being interrupted)."""
        if self.alive():
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

    def _write(self, message: dict[str, Any]) -> None:
        try:
            self.proc.stdin.write(json.dumps(message).encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError) as exc:
            raise self._fail("is not running") from exc

    def _read(self, timeout: float, on_tick: Callable[[], None] | None) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._fail(f"did not answer within {timeout:.0f} s")
            ready, _, _ = select.select([fd], [], [], min(left, 0.1))
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    self.proc.wait()
                    raise self._fail(f"exited with status {self.proc.returncode}")
                self._buf += chunk
            if on_tick is not None:
                on_tick()
        line, self._buf = self._buf.split(b"\n", 1)
        reply = json.loads(line)
        if not reply.get("ok", False):
            raise self._fail(f"failed: {reply.get('error', 'unknown error')}")
        return reply
