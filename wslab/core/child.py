"""The child side of wslab's process protocol.

Servers and client fleets run as fresh interpreters (``python -m wslab.runner.server``,
``python -m wslab.runner.fleet``), never inside the notebook kernel. The protocol is
one JSON object per line: the parent writes the configuration and then
commands on the child's stdin; the child answers on its original stdout, which
is reserved for the protocol (``sys.stdout`` is pointed at stderr so a stray
print cannot corrupt it).

A child must not outlive its parent, even one killed with SIGKILL:

- ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` asks the kernel to kill the child when
  the parent dies (Linux);
- EOF on stdin means the parent is gone (every OS), and the child exits;
- the child ignores SIGINT, so Ctrl-C in a terminal reaches the parent, which
  stops its children in order.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import sys
import traceback
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from .errors import ConfigError
from .proc import set_pdeathsig

__all__ = ["LOOPS", "Channel", "event_loop_name", "raise_nofile_limit", "run_child",
           "settle_malloc"]

#: event loops a child can run on: asyncio's own, or uvloop (libuv)
LOOPS = ("asyncio", "uvloop")


def event_loop_name() -> str:
    """The event loop every child uses: ``WSLAB_LOOP`` (default ``asyncio``).

    An environment variable, not a parameter, so that it reaches every
    child of a Lab (servers, fleets, proxy) the same way; `ConfigError` if
    it names no loop in `LOOPS`.
    """
    name = os.environ.get("WSLAB_LOOP", "") or "asyncio"
    if name not in LOOPS:
        raise ConfigError(f"WSLAB_LOOP must be one of {', '.join(LOOPS)}, not {name!r}")
    return name


def _die_with_parent() -> None:
    set_pdeathsig()  # not Linux: the stdin EOF watch still works
    # The parent may have died before prctl ran; then we were re-parented.
    expected = os.environ.get("WSLAB_PARENT_PID")
    if expected and os.getppid() != int(expected):
        os._exit(1)


def settle_malloc() -> None:
    """Put glibc's allocator in one known state before measuring.

    asyncio reads with ``recv(256 KiB)``; while glibc's mmap threshold sits at
    its 128 KiB default every read costs mmap + mremap + munmap and a page
    fault, which roughly doubles a subscriber's p50 on these machines. Freeing
    one mmapped 1 MiB block makes glibc raise the threshold for the rest of
    the process. Whether an import happens to do that is an accident; doing it
    here makes every server, fleet and proxy start alike (the bare baselines in
    ``benchmarks/`` do the same).
    """
    block = bytes(1 << 20)
    del block


def raise_nofile_limit() -> int:
    """Raise the open-file soft limit to the hard limit (never above): one
    socket per client needs it, and children are where the sockets live."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Channel:
    """Commands in from the parent, replies out to it."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self.commands: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.parent_gone = asyncio.Event()

    def send(self, message: dict[str, Any]) -> None:
        self._out.write(json.dumps(message, separators=(",", ":")) + "\n")
        self._out.flush()

    async def _read_stdin(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=2**24)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := await reader.readline():
            await self.commands.put(json.loads(line))
        self.parent_gone.set()
        await self.commands.put(None)


Handler = Callable[..., Awaitable[dict[str, Any] | None]]


async def _serve(
    setup: Callable[[dict[str, Any], Channel], Awaitable[dict[str, Handler]]],
    out: TextIO,
) -> None:
    channel = Channel(out)
    stdin_task = asyncio.create_task(channel._read_stdin())
    config = await channel.commands.get()
    if config is None:
        return
    try:
        handlers = await setup(config, channel)
    except Exception as exc:
        channel.send({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        traceback.print_exc()
        return
    while (command := await channel.commands.get()) is not None:
        name = command.pop("cmd", None)
        handler = handlers.get(name)
        try:
            if handler is None:
                raise ConfigError(f"unknown command {name!r}; allowed: {', '.join(handlers)}")
            reply = await handler(**command) or {}
            channel.send({"ok": True, **reply})
        except Exception as exc:
            traceback.print_exc()
            channel.send({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        if name == "stop":
            break
    stdin_task.cancel()
    if "close" in handlers and channel.parent_gone.is_set():
        await handlers["close"]()


def run_child(setup: Callable[[dict[str, Any], Channel], Awaitable[dict[str, Handler]]]) -> None:
    """Run a child process: ``setup(config, channel)`` returns its command handlers.

    ``setup`` starts whatever the child serves, sends the ``ready`` reply
    itself, and returns ``{"command": coroutine function}``; a ``stop``
    handler ends the child, and a ``close`` handler (if any) is awaited when
    the parent disappears.
    """
    _die_with_parent()
    raise_nofile_limit()
    settle_malloc()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if event_loop_name() == "uvloop":
        import uvloop  # a dependency; imported only by the children that use it

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    asyncio.run(_serve(setup, out))
