"""`--output json` through the real console script: for every verb and outcome, stdout is
exactly one JSON document (the verb's own, or the error envelope) that the published schema
describes, and the exit code is the one the text output has."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from zsync.state.lock import alive, holder_for
from zsync.state.sqlite import SqliteStore

REPO = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((REPO / "schemas/output.schema.json").read_text(encoding="utf-8"))
AUTH = {"client_id": "x", "client_secret": "y", "refresh_token": "z"}  # --emulator replaces it
LEADS = {"export": {"from": "crm", "module": "Leads", "fields": ["Last_Name"]}, "output": "l.csv"}
BROKEN = "version: 1\nconnections: {}\njobs:\n  a: {export: {from: crm}}\n"


def job_file(directory: Path) -> Path:
    spec = {
        "version": 1,
        "connections": {"crm": {"product": "crm", "dc": "com", "auth": AUTH, "org_id": "1"}},
        "defaults": {"poll": {"first": "10ms", "max": "50ms"}, "output_dir": "out"},
        "jobs": {"leads": LEADS},
    }
    path = directory / "jobs.yaml"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def broken_file(directory: Path) -> Path:
    path = directory / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    return path


def zsync_json(cwd: Path, *args: str) -> tuple[int, Any]:
    """Run `zsync ARGS --output json`: its exit code and the one document on its stdout."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "ZOHO_"))}
    done = subprocess.run(
        [sys.executable, "-m", "zsync", *args, "--output", "json"],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    try:
        document = json.loads(done.stdout)  # the whole of stdout: one document, nothing else
    except json.JSONDecodeError as exc:
        raise AssertionError(f"stdout is not one JSON document: {exc}\n{done.stdout}") from exc
    return done.returncode, document


def valid_as(document: Any, definition: str) -> None:
    """Valid against the schema as a whole and against the verb's (or the envelope's) part."""
    Draft202012Validator(SCHEMA).validate(document)
    Draft202012Validator({**SCHEMA, "$ref": f"#/$defs/{definition}"}).validate(document)


def an_error(code: int, document: Any, kind: str, exit_code: int) -> dict[str, Any]:
    valid_as(document, "envelope")
    assert code == exit_code
    assert document["status"] == "error"
    assert document["exit_code"] == exit_code
    assert document["error"]["kind"] == kind
    assert document["error"]["message"]
    return dict(document)


@pytest.fixture
def recorded_run(tmp_path: Path) -> Path:
    """A directory whose job file ran once against the emulator."""
    job_file(tmp_path)
    code, _ = zsync_json(tmp_path, "run", "jobs.yaml", "--emulator")
    assert code == 0
    return tmp_path


def test_the_schema_is_a_valid_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)


# validate


def test_validate_valid(tmp_path: Path) -> None:
    job_file(tmp_path)
    code, document = zsync_json(tmp_path, "validate", "jobs.yaml")
    assert code == 0
    valid_as(document, "validate")
    assert document["valid"] is True
    assert "status" not in document


def test_validate_invalid_is_the_report_and_an_envelope(tmp_path: Path) -> None:
    broken_file(tmp_path)
    code, document = zsync_json(tmp_path, "validate", "broken.yaml")
    an_error(code, document, "invalid_job_file", 2)
    valid_as(document, "validate")
    assert document["valid"] is False
    assert document["errors"] >= 1
    assert any(d["file"] == "broken.yaml" for d in document["diagnostics"])


def test_validate_missing_file(tmp_path: Path) -> None:
    code, document = zsync_json(tmp_path, "validate", "nope.yaml")
    an_error(code, document, "invalid_job_file", 2)
    assert document["diagnostics"][0]["message"] == "no such file"


# plan


def test_plan_valid(tmp_path: Path) -> None:
    job_file(tmp_path)
    code, document = zsync_json(tmp_path, "plan", "jobs.yaml")
    assert code == 0
    valid_as(document, "plan")
    assert document["waves"] == [["leads"]]


def test_plan_invalid_carries_the_diagnostics(tmp_path: Path) -> None:
    broken_file(tmp_path)
    code, document = zsync_json(tmp_path, "plan", "broken.yaml")
    an_error(code, document, "invalid_job_file", 2)
    assert document["diagnostics"]
    assert all(d["file"] == "broken.yaml" for d in document["diagnostics"])


def test_plan_select_matching_nothing(tmp_path: Path) -> None:
    job_file(tmp_path)
    code, document = zsync_json(tmp_path, "plan", "jobs.yaml", "--select", "nope")
    an_error(code, document, "usage", 2)
    assert "--select 'nope' matches no job" in document["error"]["message"]
    assert document["diagnostics"] == []


# run


def test_run_success_prints_the_manifest(tmp_path: Path) -> None:
    job_file(tmp_path)
    code, document = zsync_json(tmp_path, "run", "jobs.yaml", "--emulator")
    assert code == 0
    valid_as(document, "run")
    assert (document["outcome"], document["exit_code"]) == ("succeeded", 0)


def test_run_that_failed_prints_its_manifest_not_an_envelope(tmp_path: Path) -> None:
    job_file(tmp_path)
    args = ("run", "jobs.yaml", "--emulator", "--job-failure-rate", "1")
    code, document = zsync_json(tmp_path, *args)
    assert code == 1
    valid_as(document, "run")
    assert (document["outcome"], document["exit_code"]) == ("failed", 1)


def test_run_invalid_file(tmp_path: Path) -> None:
    broken_file(tmp_path)
    code, document = zsync_json(tmp_path, "run", "broken.yaml", "--emulator")
    an_error(code, document, "invalid_job_file", 2)
    assert document["diagnostics"]


def test_run_select_matching_nothing(tmp_path: Path) -> None:
    job_file(tmp_path)
    code, document = zsync_json(tmp_path, "run", "jobs.yaml", "--emulator", "--select", "x*")
    an_error(code, document, "usage", 2)


def test_run_reimport_of_an_unknown_job(tmp_path: Path) -> None:
    job_file(tmp_path)
    code, document = zsync_json(tmp_path, "run", "jobs.yaml", "--emulator", "--reimport", "nope")
    error = an_error(code, document, "usage", 2)
    assert error["error"]["message"] == "--reimport nope: no such job in this run"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--max-parallel", "0"), "'--max-parallel': 0 is not in the range"),
        (("--no-such-option",), "No such option"),
        (("--timeout", "soon"), "--timeout"),  # refused by zsync's own check, as click's
    ],
)
def test_run_click_usage_errors(tmp_path: Path, args: tuple[str, ...], said: str) -> None:
    job_file(tmp_path)
    code, document = zsync_json(tmp_path, "run", "jobs.yaml", "--emulator", *args)
    an_error(code, document, "usage", 2)
    assert said in document["error"]["message"]


def test_run_while_another_holds_the_lock(tmp_path: Path) -> None:
    path = job_file(tmp_path)
    store = SqliteStore(tmp_path / ".zsync" / "state.db")
    try:  # held by this (live) test process, for a run that is not the one started below
        store.acquire_lock(holder_for(str(path.resolve()), "another-run"), alive)
    finally:
        store.close()
    code, document = zsync_json(tmp_path, "run", "jobs.yaml", "--emulator")
    error = an_error(code, document, "lock_held", 5)
    assert "another-run" in error["error"]["message"]


# status


def test_status_without_runs(tmp_path: Path) -> None:
    code, document = zsync_json(tmp_path, "status")
    error = an_error(code, document, "state", 2)
    assert "no state store" in error["error"]["message"]


def test_status_of_an_unknown_run(recorded_run: Path) -> None:
    code, document = zsync_json(recorded_run, "status", "20000101T000000Z-000000")
    an_error(code, document, "state", 2)


def test_status_ok(recorded_run: Path) -> None:
    code, document = zsync_json(recorded_run, "status")
    assert code == 0
    valid_as(document, "status")
    assert document["outcome"] == "succeeded"
    assert document["resume_command"] is None


# runs


def test_runs_without_a_state_dir_is_an_empty_list(tmp_path: Path) -> None:
    code, document = zsync_json(tmp_path, "runs")
    assert code == 0
    valid_as(document, "runs")
    assert document == []


def test_runs_ok(recorded_run: Path) -> None:
    code, document = zsync_json(recorded_run, "runs")
    assert code == 0
    valid_as(document, "runs")
    assert [run["outcome"] for run in document] == ["succeeded"]


def test_runs_click_usage_error(tmp_path: Path) -> None:
    code, document = zsync_json(tmp_path, "runs", "--limit", "0")
    an_error(code, document, "usage", 2)


def test_output_given_as_one_word(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    done = subprocess.run(
        [sys.executable, "-m", "zsync", "validate", "--output=json", "--bogus"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    an_error(done.returncode, json.loads(done.stdout), "usage", 2)
    assert "No such option" in done.stderr  # people still read click's own message


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        (["plan", "x", "--output", "json"], True),
        (["plan", "x", "--output=json"], True),
        (["plan", "x", "--output", "text"], False),
        (["plan", "x", "--output"], False),
        (["plan", "--", "--output", "json"], False),
    ],
)
def test_asks_for_json(args: list[str], wanted: bool) -> None:
    from zsync.output import asks_for_json

    assert asks_for_json(args) is wanted


@pytest.mark.parametrize(
    ("document", "kind"),
    [
        ("interrupted", "interrupted"),
        ("terminated", "interrupted"),
        ("internal", "internal"),
    ],
)
def test_envelopes_without_a_zsync_error_fit_the_schema(document: str, kind: str) -> None:
    from zsync import output
    from zsync.errors import ExitCode

    envelope = {
        "interrupted": lambda: output.for_exit_code(ExitCode.INTERRUPTED),
        "terminated": lambda: output.for_exit_code(ExitCode.TERMINATED),
        "internal": lambda: output.for_internal_error(RuntimeError("boom")),
    }[document]()
    valid_as(envelope, "envelope")
    assert envelope["error"]["kind"] == kind


def test_a_second_document_never_reaches_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    from zsync import output

    output.start_command()
    output.print_document({"first": 1})
    output.print_envelope(output.for_exit_code(1))  # the command's document is out already
    output.print_document({"second": 2})
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"first": 1}
    assert "second JSON document" in captured.err
    output.start_command()
