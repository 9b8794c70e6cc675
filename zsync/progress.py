"""A run's progress lines on stderr, timestamped, written in batches.

A run of thousands of jobs prints several lines per job; writing each as it comes costs the
event loop a system call, and a wait for the GIL when threads are busy. Lines are gathered
and written every PROGRESS_EVERY seconds, and whatever is left when the run ends, with every
secret masked (zsync.redact).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator

from zsync import redact
from zsync.background import beside

PROGRESS_EVERY = 0.1  # seconds: sooner than a person notices


class Progress:
    def __init__(self) -> None:
        self.started = time.monotonic()
        self._lines: list[str] = []

    def __call__(self, message: str) -> None:
        self._lines.append(f"[{time.monotonic() - self.started:7.1f}s] {message}\n")

    def flush(self) -> None:
        if self._lines:
            text, self._lines = "".join(self._lines), []
            sys.stderr.write(redact.text(text))  # once per batch: cheap
            sys.stderr.flush()

    @contextlib.asynccontextmanager
    async def written(self) -> AsyncIterator[None]:
        """Write gathered lines every PROGRESS_EVERY seconds while the block runs."""

        async def keep_writing() -> None:
            while True:
                await asyncio.sleep(PROGRESS_EVERY)
                self.flush()

        try:
            async with beside(keep_writing(), "zsync progress"):
                yield
        finally:
            self.flush()
