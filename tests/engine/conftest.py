"""Engine tests: zsync's client against a real emulator server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import tempfile
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from zsync.emulator import EmulatorConfig, RunningEmulator, running_emulator
from zsync.manifest import manifest_path
from zsync.plan import build_plan
from zsync.runner import run_plan
from zsync.runs import open_store, started_run
from zsync.scheduler import RunOptions
from zsync.spec import load_spec
from zsync.state.store import StateStore

# Emulated minutes pass in milliseconds; tokens (an emulated hour) last 6 real seconds.
TIME_SCALE = 600.0


def connections_yaml(running: RunningEmulator, **auth_overrides: str) -> str:
    demo = running.emulator.demo(running.base_url)
    auth = {key: demo[key] for key in ("client_id", "client_secret", "refresh_token")}
    auth.update(auth_overrides)
    common = {"base_url": running.base_url, "auth": auth}
    # Zoho's per-minute limits, as short as the emulator's scaled minute (which enforces them).
    minute = 60.0 / running.emulator.config.time_scale
    connections = {
        "crm": {
            "product": "crm",
            "org_id": demo["crm_org_id"],
            "limits": {"requests": {"download": {"calls": 10, "per": minute}}},
            **common,
        },
        "bigin": {"product": "bigin", "org_id": demo["bigin_org_id"], **common},
        "creator": {
            "product": "creator",
            "owner": demo["creator_owner"],
            "app": demo["creator_app"],
            "limits": {
                "requests": {
                    "create": {"calls": 5, "per": minute},
                    "download": {"calls": 10, "per": minute},
                }
            },
            **common,
        },
        "analytics": {
            "product": "analytics",
            "org_id": demo["analytics_org_id"],
            "workspace": demo["analytics_workspace_id"],
            **common,
        },
    }
    return yaml.safe_dump({"connections": connections}, default_flow_style=None, width=1000)


@dataclass
class Run:
    code: int
    run_id: str
    state_dir: Path
    out: Path
    log: list[str]

    @property
    def manifest_path(self) -> Path:
        return manifest_path(self.state_dir, self.run_id)

    @property
    def manifest(self) -> dict[str, Any]:
        return json.loads(self.manifest_path.read_text())

    def job(self, name: str) -> dict[str, Any]:
        return self.manifest["jobs"][name]


@dataclass
class Harness:
    running: RunningEmulator
    tmp: Path
    state_url: str | None = None  # the shared store runs record in; None: the SQLite file

    def open_store(self) -> StateStore:
        """The store this harness's runs record in."""
        return open_store(self.tmp / ".zsync", self.state_url)

    @property
    def emulator(self):
        return self.running.emulator

    def spec(self, jobs: str, *, defaults: str = "", **auth: str) -> Path:
        text = (
            "version: 1\n"
            + connections_yaml(self.running, **auth)
            + "defaults:\n"
            + "  poll: {first: 5ms, max: 40ms, timeout: 60s}\n"
            + "  retry: {attempts: 4, backoff: 5ms}\n"
            + "  output_dir: out\n"
            + textwrap.indent(textwrap.dedent(defaults), "  ")
            + "jobs:\n"
            + textwrap.indent(textwrap.dedent(jobs), "  ")
        )
        path = self.tmp / "jobs.yaml"
        path.write_text(text)
        return path

    async def run(
        self,
        jobs: str,
        *,
        options: RunOptions | None = None,
        select: tuple[str, ...] = (),
        resume: str | None = None,
        **auth: str,
    ) -> Run:
        path = self.spec(jobs, **auth)
        return await self.run_file(path, options=options, select=select, resume=resume)

    async def run_file(
        self,
        path: Path,
        *,
        options: RunOptions | None = None,
        select: tuple[str, ...] = (),
        resume: str | None = None,
    ) -> Run:
        spec = load_spec(path, {})
        state_dir = self.tmp / ".zsync"
        log: list[str] = []
        plan = build_plan(spec, select)
        async with started_run(
            plan, state_dir, resume=resume, report=log.append, state_url=self.state_url
        ) as recorder:
            code = await run_plan(plan, recorder, state_dir, options, log.append)
            run_id = recorder.run.run_id
        return Run(code, run_id, state_dir, self.tmp / "out", log)


Starter = Callable[..., Awaitable[Harness]]


@pytest.fixture
def state_url(request: pytest.FixtureRequest) -> str | None:
    """Where runs record: the SQLite file unless a module parametrizes this with "postgres"
    (`pytest.mark.parametrize("state_url", ["sqlite", "postgres"], indirect=True)`)."""
    if getattr(request, "param", "sqlite") == "postgres":
        return request.getfixturevalue("postgres_url")
    return None


@pytest.fixture
async def start(state_url: str | None) -> AsyncIterator[Starter]:
    async with contextlib.AsyncExitStack() as stack:
        counter = 0

        async def start(config: EmulatorConfig | None = None, tmp: Path | None = None) -> Harness:
            nonlocal counter
            counter += 1
            config = config or EmulatorConfig(time_scale=TIME_SCALE)
            running = await stack.enter_async_context(running_emulator(config))
            return Harness(running, tmp or Path(stack_tmp.name) / str(counter), state_url)

        stack_tmp = tempfile.TemporaryDirectory()
        stack.callback(stack_tmp.cleanup)
        yield start


@pytest.fixture
async def zoho(start: Starter, tmp_path: Path) -> Harness:
    """One emulator with default demo data, and a temporary project directory."""
    return await start(tmp=tmp_path)
