"""Fixtures: real emulator servers on 127.0.0.1 free ports, and a raw aiohttp client for them.

`emu` is one server on a manual clock (tests move time with `emu.advance(seconds)`);
`start_emulator(config, clock)` starts more, each independent, all stopped at teardown.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from zsync.emulator import EmulatorConfig
from zsync.emulator.clock import Clock
from zsync.emulator.testing import EmulatorClient, emulator_client

SNAPSHOTS = Path(__file__).parent / "snapshots"


def snapshot(name: str) -> Any:
    return json.loads((SNAPSHOTS / f"{name}.json").read_text())


EmulatorHandle = EmulatorClient
Starter = Callable[..., Awaitable[EmulatorHandle]]


@pytest.fixture
async def start_emulator() -> AsyncIterator[Starter]:
    async with contextlib.AsyncExitStack() as stack:
        session = await stack.enter_async_context(aiohttp.ClientSession())

        async def start(
            config: EmulatorConfig | None = None, clock: Clock | None = None
        ) -> EmulatorHandle:
            return await stack.enter_async_context(emulator_client(config, clock, session))

        yield start


@pytest.fixture
async def emu(start_emulator: Starter) -> EmulatorHandle:
    return await start_emulator()
