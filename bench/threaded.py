"""Emulators served from a thread of this process, for scenarios that must read their state
(when each job really ended) while zsync runs. Light loads only: they share the GIL."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from zsync.emulator import EmulatorConfig, RunningEmulator, running_emulator


@contextmanager
def served(configs: list[EmulatorConfig]) -> Iterator[list[RunningEmulator]]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="bench emulators", daemon=True)
    thread.start()
    stop = asyncio.Event()
    started: list[RunningEmulator] = []
    ready = threading.Event()

    async def serve_all() -> None:
        from contextlib import AsyncExitStack

        async with AsyncExitStack() as stack:
            for config in configs:
                started.append(await stack.enter_async_context(running_emulator(config)))
            ready.set()
            await stop.wait()

    done = asyncio.run_coroutine_threadsafe(serve_all(), loop)
    try:
        if not ready.wait(30):
            done.result(1)  # raises what went wrong
        yield started
    finally:
        loop.call_soon_threadsafe(stop.set)
        done.result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
