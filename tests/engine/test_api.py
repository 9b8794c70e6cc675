"""zsync from Python (zsync.api): what an Airflow task or a Dagster op calls instead of a
subprocess. Runs against the emulator as a server; progress goes to the `zsync` logger and
nothing to stdout."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

import zsync
from tests.engine.conftest import TIME_SCALE
from zsync.emulator import EmulatorConfig
from zsync.emulator.config import FaultConfig
from zsync.errors import SpecError

REPO = Path(__file__).resolve().parents[2]
JOBS = """\
leads: {export: {from: crm, module: Leads, fields: [Last_Name, Email]}, output: leads.csv}
sales: {export: {from: analytics, view: Sales}, output: sales.csv}
"""


async def test_a_run_returns_its_record_and_logs_its_progress(
    start, tmp_path, caplog, capsys
) -> None:
    zoho = await start(tmp=tmp_path)
    with caplog.at_level(logging.INFO, logger="zsync"):
        result = await zsync.run_async(zoho.spec(JOBS), state=tmp_path / "state")
    assert (result.outcome, result.exit_code, result.succeeded) == ("succeeded", 0, True)
    assert result.manifest_path == tmp_path / "state" / "runs" / result.run_id / "manifest.json"
    truth = zoho.emulator.ground_truth
    leads = result.job("leads")
    assert leads["status"] == "succeeded"
    assert Path(leads["output"]["path"]).read_bytes() == truth.crm_records(
        "Leads", ["Last_Name", "Email"]
    )
    events = {(r.zsync_event, r.zsync_job) for r in caplog.records if hasattr(r, "zsync_event")}
    assert {("job.succeeded", "leads"), ("job.succeeded", "sales"), ("run.ended", None)} <= events
    # Orchestrators read the logs; stdout stays theirs, and no secret reaches either.
    assert capsys.readouterr().out == ""
    secret = zoho.emulator.demo(zoho.running.base_url)["client_secret"]
    assert all(secret not in r.getMessage() for r in caplog.records)


async def test_a_failed_run_raises_with_its_record_unless_check_is_off(start, tmp_path) -> None:
    failing = EmulatorConfig(time_scale=TIME_SCALE, faults=FaultConfig(job_failure_rate=1.0))
    zoho = await start(failing, tmp=tmp_path)
    spec = zoho.spec(JOBS.splitlines(keepends=True)[0])
    with pytest.raises(zsync.RunFailed) as raised:
        await zsync.run_async(spec, state=tmp_path / "one")
    assert raised.value.result.outcome == "failed"
    assert raised.value.exit_code == 1
    assert "leads" in str(raised.value) and "manifest:" in str(raised.value)
    result = await zsync.run_async(spec, state=tmp_path / "two", check=False)
    assert {job["status"] for job in result.jobs.values()} == {"failed"}
    assert result.job("leads")["error"]["code"]


async def test_an_invalid_job_file_raises_with_its_diagnostics(tmp_path) -> None:
    path = tmp_path / "jobs.yaml"
    path.write_text("version: 1\nconnections: {}\njobs: {}\n")
    with pytest.raises(SpecError) as raised:
        await zsync.run_async(path)
    assert [(d.line, d.path) for d in raised.value.diagnostics] == [(2, "connections"), (3, "jobs")]


def test_the_blocking_call_runs_the_example_on_the_embedded_emulator(tmp_path) -> None:
    shutil.copy(REPO / "jobs.example.yaml", tmp_path / "jobs.yaml")
    result = zsync.run(tmp_path / "jobs.yaml", emulator=True, select=["crm_contacts"])
    assert result.succeeded
    assert list(result.jobs) == ["crm_contacts"]
    assert (tmp_path / ".zsync" / "runs" / result.run_id / "manifest.json").is_file()
