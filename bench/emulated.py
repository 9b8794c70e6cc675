"""What the suite's scenarios share: an emulator in a process of its own (so its work doesn't
slow zsync's loop), a job file aimed at it, and a measured zsync run in this process."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EMULATOR = """
import json, sys
from zsync.emulator import EmulatorConfig
from zsync.emulator.server import serve

settings = json.loads(sys.argv[1])
sizes = settings.pop("sizes", {})
if "job_seconds" in settings:
    settings["job_seconds"] = tuple(settings["job_seconds"])
config = EmulatorConfig(token_lifetime=1e12, token_budget=None, **settings)
serve(port=0, config=config.with_sizes(**sizes))
"""


@dataclass
class Emulator:
    process: subprocess.Popen[str]
    base_url: str
    auth: dict[str, str]
    ids: dict[str, str]


@contextmanager
def emulator(**settings: Any) -> Iterator[Emulator]:
    """`EmulatorConfig(**settings)` served from its own process for the block."""
    process = subprocess.Popen(
        [sys.executable, "-c", EMULATOR, json.dumps(settings)], stdout=subprocess.PIPE, text=True
    )
    try:
        yield _started(process)
    finally:
        process.terminate()
        process.wait()


def _started(process: subprocess.Popen[str]) -> Emulator:
    names = {
        "client id": "client_id",
        "client secret": "client_secret",
        "refresh token": "refresh_token",
        "CRM org id": "crm_org_id",
        "Analytics org id": "analytics_org_id",
        "Analytics workspace": "analytics_workspace_id",
    }
    found: dict[str, str] = {}
    base_url = ""
    assert process.stdout is not None
    for line in process.stdout:
        if match := re.match(r"zsync emulator listening on (\S+)", line):
            base_url = match.group(1)
        elif (match := re.match(r"\s+(.+?)\s{2,}(\S+)", line)) and match.group(1) in names:
            found[names[match.group(1)]] = match.group(2)
        if line.strip().startswith("time scale"):
            auth = {k: found.pop(k) for k in ("client_id", "client_secret", "refresh_token")}
            return Emulator(process, base_url, auth, found)
    raise SystemExit("the emulator did not start")


def connection_yaml(name: str, product: str, zoho: Emulator, **extra: str) -> list[str]:
    auth = ", ".join(f'{key}: "{value}"' for key, value in zoho.auth.items())
    lines = [f"  {name}:", f"    product: {product}", f'    base_url: "{zoho.base_url}"']
    if product == "analytics":
        lines.append(f'    org_id: "{zoho.ids["analytics_org_id"]}"')
        lines.append(f'    workspace: "{zoho.ids["analytics_workspace_id"]}"')
    elif product == "crm":
        lines.append(f'    org_id: "{zoho.ids["crm_org_id"]}"')
    lines.append(f"    auth: {{{auth}}}")
    lines.extend(f"    {key}: {value}" for key, value in extra.items())
    return lines


@dataclass
class Measured:
    seconds: float
    code: int
    manifest: dict[str, Any]
    lag_max_ms: float


async def _run(spec_path: Path, state_dir: Path) -> Measured:
    from zsync.manifest import manifest_path
    from zsync.plan import build_plan
    from zsync.runner import run_plan
    from zsync.runs import started_run
    from zsync.spec import load_spec

    spec = load_spec(spec_path, {})
    plan = build_plan(spec, ())
    lags: list[float] = []

    async def probe() -> None:
        while True:
            began = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append(time.perf_counter() - began - 0.001)

    prober = asyncio.create_task(probe())
    started = time.perf_counter()
    async with started_run(plan, state_dir, report=lambda line: None) as recorder:
        code = await run_plan(plan, recorder, state_dir, None, lambda line: None)
        run_id = recorder.run.run_id
    seconds = time.perf_counter() - started
    prober.cancel()
    manifest = json.loads(manifest_path(state_dir, run_id).read_text())
    return Measured(seconds, code, manifest, max(lags, default=0.0) * 1000)


def ground_truth(**settings: Any) -> Any:
    """The ground truth of an emulator made with these settings (the same seed gives the
    same data as the served one)."""
    from zsync.emulator import Emulator, EmulatorConfig

    sizes = settings.pop("sizes", {})
    if "job_seconds" in settings:
        settings["job_seconds"] = tuple(settings["job_seconds"])
    config = EmulatorConfig(token_lifetime=1e12, token_budget=None, **settings)
    return Emulator(config.with_sizes(**sizes)).ground_truth


def check_outputs(directory: Path, expected: bytes) -> None:
    """Every output of the run is byte-identical to the ground truth, or the scenario fails."""
    outputs = sorted(directory.glob("*.csv"))
    assert outputs, f"no output in {directory}"
    for path in outputs:
        assert path.read_bytes() == expected, f"{path} differs from the ground truth"


def run_zsync(spec_path: Path, state_dir: Path) -> Measured:
    """One `zsync run` of the file in this process (as the CLI runs it, without printing)."""
    return asyncio.run(_run(spec_path, state_dir))
