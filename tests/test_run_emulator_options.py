"""`zsync run --emulator` with the emulator's data and fault options (shared with
`zsync emulator`): faults reach the run, the run copes or fails as it should, and the
options are refused without --emulator."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import zsync.emulator
from zsync.cli import cli
from zsync.commands.run import EMULATOR_TIME_SCALE
from zsync.emulator import Emulator, EmulatorConfig, FaultConfig, RunningEmulator
from zsync.emulator_options import EmulatorOption, EmulatorSettings, emulator_config

ZSYNC = str(Path(sys.executable).with_name("zsync"))
AUTH = {"client_id": "x", "client_secret": "y", "refresh_token": "z"}  # --emulator replaces it


def job_file(tmp_path: Path, jobs: dict[str, Any], **defaults: Any) -> Path:
    spec = {
        "version": 1,
        "connections": {
            "crm": {"product": "crm", "dc": "com", "auth": AUTH},
            "bigin": {"product": "bigin", "dc": "com", "auth": AUTH},
        },
        "defaults": {"poll": {"first": "10ms", "max": "50ms"}, "output_dir": "out", **defaults},
        "jobs": jobs,
    }
    path = tmp_path / "jobs.yaml"
    path.write_text(json.dumps(spec))
    return path


LEADS = {"export": {"from": "crm", "module": "Leads", "fields": ["Last_Name"]}, "output": "l.csv"}


def run_zsync(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ZSYNC, *args], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )


def manifest_of(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    last = done.stdout.strip().splitlines()[-1]
    return json.loads(Path(last.removeprefix("manifest: ")).read_text())


# -- the command line ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["--job-failure-rate", "1"],
        ["--error-rate", "0"],  # typed, even at its default: still a mistake without --emulator
        ["--rows", "crm.Leads=5"],
        ["--seed", "7", "--page-size", "10"],
    ],
)
def test_emulator_options_without_emulator_are_a_usage_error(tmp_path, args) -> None:
    job_file(tmp_path, {"leads": LEADS})
    done = run_zsync(tmp_path, "run", "jobs.yaml", *args)
    assert done.returncode == 2, done.stderr
    named = [arg for arg in args if arg.startswith("--")]
    assert f"{', '.join(named)} need" in done.stderr
    assert "--emulator" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / ".zsync").exists()  # refused before anything started


def test_run_and_emulator_share_the_options_and_list_them_apart() -> None:
    def shared(name: str) -> list[str]:
        command = cli.commands[name]
        return [p.opts[0] for p in command.params if isinstance(p, EmulatorOption)]

    assert shared("run") == shared("emulator")
    assert set(shared("run")) >= {
        "--error-rate",
        "--throttle-rate",
        "--reset-rate",
        "--crm-throttle-rate",
        "--truncate-rate",
        "--corrupt-rate",
        "--job-failure-rate",
        "--latency",
        "--seed",
        "--page-size",
        "--rows",
        "--token-lifetime",
    }
    assert "--host" not in shared("run") and "--time-scale" not in shared("run")
    help_text = CliRunner().invoke(cli, ["run", "--help"], terminal_width=100).output
    general, _, emulated = help_text.partition("\nOptions:")[2].partition(
        "Emulated data and faults:"
    )
    assert "With --emulator only" in emulated
    for flag in shared("run"):
        assert flag in emulated and flag not in general
    assert "--emulator " in general


def test_settings_defaults_are_the_emulators() -> None:
    built = emulator_config(EmulatorSettings(), time_scale=EMULATOR_TIME_SCALE)
    # The fault seed follows --seed (as `zsync emulator` always did); every rate is 0.
    assert built == EmulatorConfig(
        time_scale=EMULATOR_TIME_SCALE, faults=FaultConfig(seed=built.seed)
    )


def test_emulator_config_carries_every_setting() -> None:
    settings = EmulatorSettings(
        seed=7,
        page_size=100,
        token_lifetime=60.0,
        error_rate=0.1,
        throttle_rate=0.2,
        reset_rate=0.3,
        crm_throttle_rate=0.4,
        truncate_rate=0.5,
        corrupt_rate=0.6,
        job_failure_rate=0.7,
        latency=0.01,
        rows=(("crm.Leads", 500), ("creator.Orders", 3)),
    )
    config = emulator_config(settings, time_scale=10, client_id="me")
    assert (config.seed, config.page_size, config.token_lifetime, config.time_scale) == (
        7,
        100,
        60.0,
        10,
    )
    assert config.client_id == "me" and config.client_secret == EmulatorConfig().client_secret
    assert config.faults == FaultConfig(
        seed=7,
        error_rate=0.1,
        throttle_rate=0.2,
        reset_rate=0.3,
        crm_throttle_rate=0.4,
        truncate_rate=0.5,
        corrupt_rate=0.6,
        job_failure_rate=0.7,
        latency=0.01,
    )
    assert config.size("crm", "Leads") == 500 and config.size("creator", "Orders") == 3


# -- runs ------------------------------------------------------------------------------------
def test_job_failure_rate_fails_the_run_and_the_manifest_says_why(tmp_path) -> None:
    bigin = {"export": {"from": "bigin", "module": "Contacts"}, "output": "c.csv"}
    job_file(tmp_path, {"leads": LEADS, "contacts": bigin})
    done = run_zsync(tmp_path, "run", "jobs.yaml", "--emulator", "--job-failure-rate", "1")
    assert done.returncode == 1, done.stderr
    assert "emulated data and faults: --job-failure-rate 1.0" in done.stderr
    manifest = manifest_of(done)
    assert manifest["outcome"] == "failed" and manifest["exit_code"] == 1
    for name, product in (("leads", "crm"), ("contacts", "bigin")):
        job = manifest["jobs"][name]
        assert job["status"] == "failed" and job["error"]["class"] == "remote"
        assert f"the {product} job" in job["error"]["message"]
        assert "ended FAILED" in job["error"]["message"]
        assert job["remote_jobs"][-1]["states"][-1]["remote"] == "FAILED"
        assert not (tmp_path / "out" / job_output(name)).exists()


def job_output(name: str) -> str:
    return {"leads": "l.csv", "contacts": "c.csv"}[name]


def test_rows_and_page_size_give_a_paged_export(tmp_path) -> None:
    job_file(tmp_path, {"leads": LEADS})
    done = run_zsync(
        tmp_path, "run", "jobs.yaml", "--emulator", "--rows", "crm.Leads=500", "--page-size", "100"
    )
    assert done.returncode == 0, done.stderr
    job = manifest_of(done)["jobs"]["leads"]
    assert job["output"]["rows"] == 500 and job["output"]["pages"] == 5
    assert len(job["remote_jobs"]) == 5  # a bulk-read job per page
    truth = Emulator(
        EmulatorConfig(time_scale=EMULATOR_TIME_SCALE, page_size=100).with_sizes(crm_Leads=500)
    ).ground_truth
    assert (tmp_path / "out/l.csv").read_bytes() == truth.crm_records("Leads", ["Last_Name"])


def test_error_rate_is_retried_away(tmp_path, monkeypatch) -> None:
    """Run in-process to see the faults the emulator injected; many small pages make sure
    there are some, and ten attempts a call make an unlucky streak (0.3**10) negligible."""
    seen: list[RunningEmulator] = []
    real = zsync.emulator.running_emulator  # the module, not a name bound at import

    @contextlib.asynccontextmanager
    async def watched(config: EmulatorConfig) -> AsyncIterator[RunningEmulator]:
        async with real(config) as running:
            seen.append(running)
            yield running

    monkeypatch.setattr(zsync.emulator, "running_emulator", watched)
    monkeypatch.chdir(tmp_path)
    job_file(tmp_path, {"leads": LEADS}, retry={"attempts": 10, "backoff": "10ms"})
    args = ["--emulator", "--error-rate", "0.3", "--seed", "11"]
    args += ["--rows", "crm.Leads=300", "--page-size", "20"]
    result = CliRunner().invoke(cli, ["run", "jobs.yaml", *args])
    assert result.exit_code == 0, result.output
    (running,) = seen
    config = running.emulator.config
    assert (config.faults.error_rate, config.faults.seed, config.page_size) == (0.3, 11, 20)
    injected = running.emulator.faults.injected
    assert any(kind == "error" for _, kind in injected), injected
    expected = running.emulator.ground_truth.crm_records("Leads", ["Last_Name"])
    assert (tmp_path / "out/l.csv").read_bytes() == expected
    assert expected.count(b"\n") == 1 + 300
