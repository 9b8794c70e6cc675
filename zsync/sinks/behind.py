"""Work that runs a step behind its caller, on a worker thread: hashing and writing chunks.

Reads, sha256 and file writes release the GIL, so on a second core they cost the caller next
to nothing while it inflates or scans another chunk. One call at a time is in flight,
so the calls keep their order and memory stays bounded (the caller must not change what it
handed over until the next call or `wait`); an error is raised by the next call or `wait`,
so it can't go unseen.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _workers() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(os.cpu_count() or 2, thread_name_prefix="zsync-behind")
        return _pool


class OneBehind:
    def __init__(self) -> None:
        self._pending: Future[Any] | None = None

    def run(self, call: Callable[..., Any], *args: Any) -> None:
        """Wait for the previous call, then start this one."""
        self.wait()
        self._pending = _workers().submit(call, *args)

    def wait(self) -> Any:
        """Wait for the call in flight: its result, or its error raised."""
        pending, self._pending = self._pending, None
        return None if pending is None else pending.result()

    def drain(self) -> None:
        """Wait for the call in flight, ignoring its error (the work is being abandoned)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.exception()
