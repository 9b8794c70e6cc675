"""CI reports of `zsync run`: --junit FILE and GitHub Actions' step summary, from real runs
against the embedded emulator (`sys.executable -m zsync`, so this worktree's code runs)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from zsync.reports import junit

AUTH = {"client_id": "x", "client_secret": "y", "refresh_token": "z"}  # --emulator replaces it
LEADS = {"export": {"from": "crm", "module": "Leads", "fields": ["Last_Name"]}, "output": "l.csv"}
AGAIN = {"needs": ["leads"], **LEADS, "output": "l2.csv"}


def job_file(tmp_path: Path, jobs: dict[str, Any]) -> Path:
    spec = {
        "version": 1,
        # org_id: the emulator's own replaces it (a CRM import needs one).
        "connections": {"crm": {"product": "crm", "dc": "com", "auth": AUTH, "org_id": "1"}},
        "defaults": {"poll": {"first": "10ms", "max": "50ms"}, "output_dir": "out"},
        "jobs": jobs,
    }
    path = tmp_path / "jobs.yaml"
    path.write_text(json.dumps(spec))
    return path


def zsync(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    return subprocess.run(
        [sys.executable, "-m", "zsync", *args],
        cwd=tmp_path,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def suite_of(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    return suite


def counts(suite: ET.Element) -> tuple[int, int, int, int]:
    return tuple(int(suite.get(k, "-1")) for k in ("tests", "failures", "errors", "skipped"))  # type: ignore[return-value]


def cases(suite: ET.Element) -> dict[str, ET.Element]:
    return {case.get("name", ""): case for case in suite.iter("testcase")}


def manifest_of(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    last = done.stdout.strip().splitlines()[-1]
    return json.loads(Path(last.removeprefix("manifest: ")).read_text())


# -- --junit ---------------------------------------------------------------------------------
def test_junit_of_a_run_that_succeeded(tmp_path) -> None:
    job_file(tmp_path, {"leads": LEADS, "again": AGAIN})
    done = zsync(tmp_path, "run", "jobs.yaml", "--emulator", "--junit", "reports/zsync.xml")
    assert done.returncode == 0, done.stderr
    manifest = manifest_of(done)
    suite = suite_of(tmp_path / "reports/zsync.xml")  # its folder was made
    assert counts(suite) == (2, 0, 0, 0)
    assert suite.get("id") == manifest["run_id"] and suite.get("name") == "jobs"
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["outcome"] == "succeeded" and properties["run_id"] == manifest["run_id"]
    for name, case in cases(suite).items():
        assert case.get("classname") == "jobs.crm"
        assert float(case.get("time", "-1")) >= 0
        assert list(case) == [], name  # neither failure nor skipped
    assert set(cases(suite)) == {"leads", "again"}
    assert not [p for p in (tmp_path / "reports").iterdir() if p.name != "zsync.xml"]


def test_junit_is_written_when_a_job_fails_and_says_why(tmp_path) -> None:
    job_file(tmp_path, {"leads": LEADS, "again": AGAIN})
    (tmp_path / "zsync.xml").write_text("an earlier report")  # replaced whole
    done = zsync(
        tmp_path,
        "run",
        "jobs.yaml",
        "--emulator",
        "--job-failure-rate",
        "1",
        "--junit",
        "zsync.xml",
    )
    assert done.returncode == 1, done.stderr
    error = manifest_of(done)["jobs"]["leads"]["error"]
    suite = suite_of(tmp_path / "zsync.xml")
    assert counts(suite) == (2, 1, 0, 1)
    leads, again = cases(suite)["leads"], cases(suite)["again"]
    (failure,) = leads.findall("failure")
    assert failure.get("type") == "remote" == error["class"]
    assert failure.get("message") == error["message"]
    assert "ended FAILED" in error["message"]
    assert error["code"] == "FAILED" and f"remote error {error['code']}:" in (failure.text or "")
    (skipped,) = again.findall("skipped")
    assert skipped.get("message") == "needs leads, which failed"


def test_an_import_with_refused_rows_is_a_failure_that_counts_them(tmp_path) -> None:
    rows = [["Last_Name", "Annual_Revenue"], ["Doe", "1"], ["", "2"], ["Roe", "lots"], ["Poe", "4"]]
    (tmp_path / "out").mkdir()
    with (tmp_path / "out/leads.csv").open("w", newline="") as out:
        csv.writer(out).writerows(rows)
    job_file(
        tmp_path, {"leads_in": {"import": {"to": "crm", "module": "Leads", "file": "leads.csv"}}}
    )
    done = zsync(tmp_path, "run", "jobs.yaml", "--emulator", "--junit", "zsync.xml")
    assert done.returncode == 3, done.stderr
    (failure,) = cases(suite_of(tmp_path / "zsync.xml"))["leads_in"].findall("failure")
    assert failure.get("type") == "completed_with_errors"
    assert (failure.get("message") or "").startswith("Zoho refused 2 of 4 rows")


def test_junit_of_a_run_that_timed_out(tmp_path) -> None:
    job_file(tmp_path, {"leads": LEADS, "again": AGAIN})
    done = zsync(
        tmp_path,
        "run",
        "jobs.yaml",
        "--emulator",
        "--latency",
        "0.3",
        "--timeout",
        "200ms",
        "--junit",
        "zsync.xml",
    )
    assert done.returncode == 4, done.stderr
    suite = suite_of(tmp_path / "zsync.xml")
    assert counts(suite) == (2, 1, 0, 1)
    (failure,) = cases(suite)["leads"].findall("failure")
    assert failure.get("type") == "timeout"
    assert "timed_out" in (failure.text or "")


def test_junit_is_written_when_the_run_is_interrupted(tmp_path) -> None:
    job_file(tmp_path, {"leads": LEADS, "again": AGAIN})
    args = ["run", "jobs.yaml", "--emulator", "--latency", "0.5", "--junit", "zsync.xml"]
    process = subprocess.Popen(
        [sys.executable, "-m", "zsync", *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:  # a job is at Zoho: the run is recorded
        if "leads: started" in line:
            break
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    suite = suite_of(tmp_path / "zsync.xml")
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["outcome"] == "interrupted"
    assert counts(suite)[0] == 2 and counts(suite)[3] >= 1  # `again` never started


def test_junit_escapes_what_zoho_says_and_leaves_no_temporary_file(tmp_path) -> None:
    manifest = {
        "run_id": "r1",
        "spec": {"path": "/x/nightly.yaml"},
        "started_at": "2026-01-01T00:00:00.000000Z",
        "ended_at": "2026-01-01T00:00:02.500000Z",
        "outcome": "failed",
        "jobs": {
            'a<b>&"c"': {
                "connection": "crm",
                "status": "failed",
                "started_at": "2026-01-01T00:00:00.000000Z",
                "ended_at": "2026-01-01T00:00:01.250000Z",
                "error": {"class": "config", "code": "INVALID_TOKEN", "message": "<oops> & 'x'\n2"},
            },
            "b": {"connection": "crm", "status": "cancelled", "reason": "stopped <early>"},
        },
    }
    path = tmp_path / "r.xml"
    junit.write(path, manifest)
    assert os.listdir(tmp_path) == ["r.xml"]
    suite = suite_of(path)
    assert suite.get("time") == "2.500"
    case = cases(suite)['a<b>&"c"']
    assert case.get("classname") == "nightly.crm" and case.get("time") == "1.250"
    (failure,) = case.findall("failure")
    assert failure.get("message") == "<oops> & 'x'\n2" and failure.get("type") == "config"
    assert "INVALID_TOKEN" in (failure.text or "")
    assert cases(suite)["b"].find("skipped").get("message") == "stopped <early>"  # type: ignore[union-attr]


def test_a_junit_file_that_cant_be_written_fails_a_green_run(tmp_path) -> None:
    job_file(tmp_path, {"leads": LEADS})
    (tmp_path / "taken").write_text("a file, not a folder")
    done = zsync(tmp_path, "run", "jobs.yaml", "--emulator", "--junit", "taken/zsync.xml")
    assert done.returncode == 1
    assert "can't write the JUnit report" in done.stderr
    assert manifest_of(done)["outcome"] == "succeeded"  # the run itself did its work


# -- GitHub Actions: the step summary --------------------------------------------------------
def test_step_summary_has_a_row_per_job(tmp_path) -> None:
    job_file(tmp_path, {"leads": LEADS, "again": AGAIN})
    summary = tmp_path / "summary.md"
    summary.write_text("an earlier step's summary\n")
    args = ("run", "jobs.yaml", "--emulator", "--job-failure-rate", "1")
    done = zsync(tmp_path, *args, GITHUB_STEP_SUMMARY=str(summary))
    assert done.returncode == 1, done.stderr
    manifest = manifest_of(done)
    text = summary.read_text()
    assert text.startswith("an earlier step's summary\n")  # appended, not replaced
    assert "zsync run `jobs.yaml`: failed (exit 1)" in text
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == 2
    leads = next(r for r in rows if r.startswith("| `leads`"))
    assert "| failed | remote `FAILED` the crm job" in leads and "ended FAILED" in leads
    again = next(r for r in rows if r.startswith("| `again`"))
    assert "| skipped | needs leads, which failed |" in again
    assert f"Manifest: `{tmp_path / '.zsync/runs' / manifest['run_id'] / 'manifest.json'}`" in text


def test_step_summary_of_a_green_run_gives_rows_and_bytes(tmp_path) -> None:
    job_file(tmp_path, {"leads": LEADS})
    summary = tmp_path / "summary.md"
    done = zsync(tmp_path, "run", "jobs.yaml", "--emulator", GITHUB_STEP_SUMMARY=str(summary))
    assert done.returncode == 0, done.stderr
    output = manifest_of(done)["jobs"]["leads"]["output"]
    (row,) = [line for line in summary.read_text().splitlines() if line.startswith("| `")]
    assert f"| succeeded | {output['rows']:,} rows, {output['bytes']:,} bytes |" in row


def test_no_summary_outside_github_actions(tmp_path) -> None:
    job_file(tmp_path, {"leads": LEADS})
    done = zsync(tmp_path, "run", "jobs.yaml", "--emulator")
    assert done.returncode == 0, done.stderr
    assert "::" not in done.stdout
