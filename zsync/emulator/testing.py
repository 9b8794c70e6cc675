"""Helpers for tests that talk to an emulator: a live server plus a raw HTTP client for it.

    async with emulator_client(EmulatorConfig(page_size=50)) as emu:
        status, body, headers = await emu.call("POST", "/crm/bulk/v8/read", json={...})
        emu.advance(60)                    # ManualClock by default: time moves when told
        emu.emulator.faults.fail_next("crm.bulk_read.status")

zsync's own client tests can use `emulator_client` as a fixture body; tests/emulator does.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from zsync.emulator.app import running_emulator
from zsync.emulator.clock import Clock, ManualClock
from zsync.emulator.config import EmulatorConfig
from zsync.emulator.emulator import Emulator


@dataclass
class EmulatorClient:
    """A running emulator (`base_url`, `emulator`) and an aiohttp session to call it raw."""

    base_url: str
    emulator: Emulator
    session: aiohttp.ClientSession
    _token: str | None = field(default=None, repr=False)

    @property
    def clock(self) -> Clock:
        return self.emulator.clock

    def advance(self, seconds: float) -> None:
        """Move a ManualClock on (jobs progress, tokens and results expire)."""
        if not isinstance(self.emulator.clock, ManualClock):
            raise TypeError("advance() needs the emulator to run on a ManualClock")
        self.emulator.clock.advance(seconds)

    def url(self, path: str) -> str:
        return self.base_url + path

    async def token(self, fresh: bool = False) -> str:
        """An access token from the emulator's own OAuth endpoint (form-body grant), cached."""
        if self._token is None or fresh:
            config = self.emulator.config
            grant = {
                "grant_type": "refresh_token",
                "client_id": config.client_id,
                "client_secret": config.client_secret,
                "refresh_token": config.refresh_token,
            }
            async with self.session.post(self.url("/oauth/v2/token"), data=grant) as response:
                body = await response.json()
            self._token = str(body["access_token"])
        return self._token

    async def headers(self, scheme: str = "Zoho-oauthtoken", **extra: str) -> dict[str, str]:
        return {"Authorization": f"{scheme} {await self.token()}", **extra}

    async def analytics_headers(self) -> dict[str, str]:
        return await self.headers(**{"ZANALYTICS-ORGID": self.emulator.analytics.org_id})

    async def call(
        self, method: str, path: str, **kwargs: Any
    ) -> tuple[int, Any, CIMultiDictProxy[str]]:
        """(status, parsed JSON or raw bytes, headers) of one request; authorised by default."""
        if "headers" not in kwargs:  # a caller's own headers need no token of ours
            kwargs["headers"] = await self.headers()
        async with self.session.request(method, self.url(path), **kwargs) as response:
            raw = await response.read()
            if response.content_type == "application/json":
                return response.status, json.loads(raw), response.headers
            return response.status, raw, response.headers


@contextlib.asynccontextmanager
async def emulator_client(
    config: EmulatorConfig | None = None,
    clock: Clock | None = None,
    session: aiohttp.ClientSession | None = None,
) -> AsyncIterator[EmulatorClient]:
    """Serve a fresh emulator on 127.0.0.1 (free port, ManualClock unless `clock` is given)."""
    async with contextlib.AsyncExitStack() as stack:
        if session is None:
            session = await stack.enter_async_context(aiohttp.ClientSession())
        emulator = Emulator(config, clock or ManualClock())
        running = await stack.enter_async_context(running_emulator(emulator=emulator))
        yield EmulatorClient(running.base_url, running.emulator, session)
