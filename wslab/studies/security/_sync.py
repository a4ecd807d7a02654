"""Run a coroutine to completion from synchronous code, notebook or not.

A Jupyter kernel already runs an event loop in its main thread, where
`asyncio.run` refuses to start another; a worker thread has none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["run_sync"]

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T], timeout: float = 600.0) -> T:
    """``asyncio.run(coro)`` in a fresh thread; its result (or its exception)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result(timeout=timeout)
