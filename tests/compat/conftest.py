"""Fixtures for running Zoho's own, synchronous SDKs unchanged against a live emulator.

The SDKs block on `requests`, so each emulator here serves from a background thread with its
own event loop, and the test thread talks HTTP to it like any client. Whatever a test reads or
changes on the emulator directly (stored rows, ground truth, a manual clock) goes through
`LiveEmulator.inspect`, which runs on that loop between requests and so never races a handler.

The SDKs are imported lazily (by the test modules, or inside the fixtures after
`pytest.importorskip`), so without the `compat` extra their tests skip with a reason instead of
erroring the directory.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from zsync.emulator import Emulator, EmulatorConfig, ManualClock, running_emulator
from zsync.emulator.clock import Clock

T = TypeVar("T")

INSTALL_HINT = "install the compat extra: pip install -e '.[compat]'"
CRM_SDK_MISSING = f"Zoho's CRM SDK (zohocrmsdk8-0) is not installed; {INSTALL_HINT}"
ANALYTICS_CLIENT_MISSING = (
    f"Zoho's AnalyticsClient (zoho-analytics-connector) is not installed; {INSTALL_HINT}"
)

# Jobs finish in milliseconds of real time (an emulated hour lasts six real seconds)...
TIME_SCALE = 600.0
# ...while tokens outlive any test: the CRM SDK times its refresh on the wall clock from
# `expires_in`, which the emulator states in emulated seconds (see test_crm_sdk.py).
LONG_TOKEN_LIFETIME = TIME_SCALE * 600  # ten real minutes
POLL_SECONDS = 0.02  # how often the tests' own poll loops ask for a job's status
POLL_LIMIT = 10.0  # real seconds a job may take before a test gives up on it


class EmulatorThread:
    """One emulator served by `running_emulator` on a private event loop in a daemon thread."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.base_url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="zsync-emulator", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # handed to the test thread by start()
            self._failure = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with running_emulator(emulator=self.emulator) as running:
            self.base_url = running.base_url
            self._ready.set()
            await self._stop.wait()

    def start(self, timeout: float = 10.0) -> str:
        """Serve on a free port of 127.0.0.1; returns the base URL once it accepts requests."""
        self._thread.start()
        if not self._ready.wait(timeout) or self._failure is not None:
            raise RuntimeError(f"the emulator did not start: {self._failure!r}")
        return self.base_url

    def call(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        """`fn()` run on the server's loop, between requests; its result or its exception."""
        assert self._loop is not None, "start() first"
        future: Future[T] = Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        return future.result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)


@dataclass
class LiveEmulator:
    """A running emulator: where the SDKs reach it, and a thread-safe handle on its state."""

    base_url: str
    server: EmulatorThread = field(repr=False)

    def inspect(self, fn: Callable[[Emulator], T]) -> T:
        """`fn(emulator)` run on the server's loop, as in ``live.inspect(lambda e: e.demo())``."""
        return self.server.call(lambda: fn(self.server.emulator))

    def demo(self) -> dict[str, str]:
        """Client id/secret, refresh token and org ids of this instance."""
        return self.inspect(lambda e: e.demo(self.base_url))

    def advance(self, seconds: float) -> None:
        """Move a ManualClock on: jobs progress, tokens and results expire."""

        def move(emulator: Emulator) -> None:
            if not isinstance(emulator.clock, ManualClock):
                raise TypeError("advance() needs the emulator to run on a ManualClock")
            emulator.clock.advance(seconds)

        self.inspect(move)

    def statuses(self, pattern: str = "*") -> list[int]:
        """The HTTP status of every request served so far whose endpoint name matches."""
        return self.inspect(
            lambda e: [r.status for r in e.stats.log if fnmatch.fnmatchcase(r.endpoint, pattern)]
        )

    def count(self, pattern: str = "*") -> int:
        return self.inspect(lambda e: e.request_count(pattern))


Starter = Callable[..., LiveEmulator]


@pytest.fixture
def start_emulator() -> Iterator[Starter]:
    """`start(config, clock=None)` serves a new emulator; every one is stopped at teardown."""
    servers: list[EmulatorThread] = []

    def start(config: EmulatorConfig | None = None, clock: Clock | None = None) -> LiveEmulator:
        server = EmulatorThread(Emulator(config, clock))
        servers.append(server)
        return LiveEmulator(server.start(), server)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def live(start_emulator: Starter) -> LiveEmulator:
    """One emulator on a scaled clock: jobs finish fast, tokens outlive the test."""
    return start_emulator(EmulatorConfig(time_scale=TIME_SCALE, token_lifetime=LONG_TOKEN_LIFETIME))


def wait_for(check: Callable[[], T | None], what: str) -> T:
    """Call `check` every POLL_SECONDS until it returns something truthy (which is returned)."""
    deadline = time.monotonic() + POLL_LIMIT
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {POLL_LIMIT}s waiting for {what}")
        time.sleep(POLL_SECONDS)


# -- the CRM SDK ----------------------------------------------------------------------------
CrmInit = Callable[..., None]


@pytest.fixture
def crm_sdk(tmp_path: Path) -> Iterator[CrmInit]:
    """`init(live)` initialises Zoho's CRM SDK against `live`, as its docs show for a custom
    data centre: an `Environment` whose API, accounts and file-upload URLs all point at the
    emulator, an `OAuthToken` from the demo client's refresh token (`init(live, client_secret=…)`
    overrides a credential), a token FileStore, field metadata and the SDK log in tmp_path."""
    pytest.importorskip("zohocrmsdk", reason=CRM_SDK_MISSING)
    from zohocrmsdk.src.com.zoho.api.authenticator import OAuthToken
    from zohocrmsdk.src.com.zoho.api.authenticator.store import FileStore
    from zohocrmsdk.src.com.zoho.api.logger import Logger
    from zohocrmsdk.src.com.zoho.crm.api import Initializer
    from zohocrmsdk.src.com.zoho.crm.api.dc import DataCenter

    # The SDK adds a file handler to its global logger on every initialisation: drop ours after.
    sdk_logger = logging.getLogger("SDKLogger")
    handlers_before = list(sdk_logger.handlers)

    def init(live: LiveEmulator, **credentials: str) -> None:
        demo = live.demo() | credentials
        environment = DataCenter.Environment(
            url=live.base_url,
            accounts_url=live.base_url + "/oauth/v2/token",
            file_upload_url=live.base_url,
        )
        token = OAuthToken(
            client_id=demo["client_id"],
            client_secret=demo["client_secret"],
            refresh_token=demo["refresh_token"],
        )
        Initializer.initialize(
            environment=environment,
            token=token,
            store=FileStore(str(tmp_path / "crm-sdk-tokens.csv")),
            resource_path=str(tmp_path),
            logger=Logger.get_instance(Logger.Levels.INFO, str(tmp_path / "crm-sdk.log")),
        )

    yield init
    for handler in list(sdk_logger.handlers):
        if handler not in handlers_before:
            sdk_logger.removeHandler(handler)
            handler.close()


# -- the Analytics client -------------------------------------------------------------------
@pytest.fixture
def analytics_client() -> Callable[[LiveEmulator], Any]:
    """`make(live)`: Zoho's AnalyticsClient for the demo client, both its server URLs set to
    `live` (the attributes its docs name for other data centres)."""
    upstream = pytest.importorskip(
        "zoho_analytics_connector.analytics_client_upstream", reason=ANALYTICS_CLIENT_MISSING
    )

    def make(live: LiveEmulator) -> Any:
        demo = live.demo()
        client = upstream.AnalyticsClient(
            demo["client_id"], demo["client_secret"], demo["refresh_token"]
        )
        client.accounts_server_url = live.base_url
        client.analytics_server_url = live.base_url
        return client

    return make
