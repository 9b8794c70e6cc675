"""The real console script, end to end: exit codes, output formats, help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ZSYNC = str(Path(sys.executable).with_name("zsync"))


def zsync(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ZSYNC, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def test_validate_example_exits_0() -> None:
    done = zsync("validate", "jobs.example.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "jobs.example.yaml: valid (8 jobs, 4 connections)" in done.stdout


def test_validate_json_for_a_broken_file(write_spec) -> None:
    path = write_spec("""\
        version: 1
        connections: {}
        jobs:
          a: {export: {from: crm, module: Leads}, output: a.csv}
          a: {export: {from: crm, module: Leads}, output: b.csv}
        """)
    done = zsync("validate", str(path), "--output", "json")
    assert done.returncode == 2
    report = json.loads(done.stdout)
    assert report["valid"] is False
    assert report["errors"] == len(report["diagnostics"]) >= 2
    first = report["diagnostics"][0]
    assert set(first) == {"file", "line", "column", "path", "severity", "message"}
    assert (first["line"], first["path"]) == (2, "connections")
    assert any(
        d["line"] == 5 and "duplicate key 'a'" in d["message"] for d in report["diagnostics"]
    )


def test_validate_strict_fails_on_unset_secrets() -> None:
    done = zsync("validate", "--strict", "jobs.example.yaml")
    assert done.returncode == 2
    assert "environment variable ZOHO_CLIENT_ID is not set" in done.stdout


def test_missing_file_is_a_clear_error(tmp_path) -> None:
    done = zsync("validate", str(tmp_path / "nope.yaml"))
    assert done.returncode == 2
    assert "nope.yaml:1:1: error: no such file" in done.stdout
    assert "Traceback" not in done.stderr


def test_plan_text_and_json() -> None:
    text = zsync("plan", "jobs.example.yaml", "--select", "contacts_to_analytics")
    assert text.returncode == 0, text.stderr
    assert "Wave 2" in text.stdout
    assert "contacts_to_analytics" in text.stdout
    as_json = json.loads(
        zsync(
            "plan", "jobs.example.yaml", "--select", "contacts_to_analytics", "--output", "json"
        ).stdout
    )
    assert as_json["waves"] == [["crm_contacts"], ["contacts_to_analytics"]]
    as_json = json.loads(zsync("plan", "jobs.example.yaml", "--output", "json").stdout)
    assert as_json["slots"]["analytics/com/20001/export"]["cap"] == 3


def test_plan_select_unknown_is_usage_error() -> None:
    done = zsync("plan", "jobs.example.yaml", "--select", "nope")
    assert done.returncode == 2
    assert "zsync: error: --select 'nope' matches no job" in done.stderr


def test_schema_prints_the_schema() -> None:
    done = zsync("schema")
    assert json.loads(done.stdout) == json.loads((REPO / "schemas/zsync.schema.json").read_text())


@pytest.mark.parametrize("args", [["--help"], ["validate", "--help"], ["plan", "--help"]])
def test_help_teaches(args) -> None:
    done = zsync(*args)
    assert done.returncode == 0
    assert "Usage: zsync" in done.stdout


def test_python_dash_m_runs_the_same_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "zsync", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert done.stdout.startswith("zsync, version ")


def test_usage_error_exits_2() -> None:
    assert zsync("validate").returncode == 2
    assert zsync("frobnicate").returncode == 2


def test_emulator_command_serves_and_prints_its_banner() -> None:
    import re
    import urllib.request

    process = subprocess.Popen(
        [ZSYNC, "emulator", "--port", "0", "--error-rate", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(11)]
        base = re.search(r"listening on (\S+)", banner[0]).group(1)
        assert any("refresh token" in line for line in banner)
        with urllib.request.urlopen(
            f"{base}/oauth/v2/token?grant_type=refresh_token&client_id="
            "x&client_secret=y&refresh_token=z",
            data=b"",
        ) as reply:
            assert json.loads(reply.read())["error"] == "invalid_client"
    finally:
        process.terminate()
        process.wait(10)


def test_emulator_rows_size_the_demo_data(tmp_path) -> None:
    import re

    process = subprocess.Popen(
        [ZSYNC, "emulator", "--port", "0", "--rows", "crm.Leads=7", "--time-scale", "3600"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = "".join(process.stdout.readline() for _ in range(11))
        base = re.search(r"listening on (\S+)", banner).group(1)  # type: ignore[union-attr]
        auth = {
            key: re.search(rf"{label}\s+(\S+)", banner).group(1)  # type: ignore[union-attr]
            for key, label in (
                ("client_id", "client id"),
                ("client_secret", "client secret"),
                ("refresh_token", "refresh token"),
            )
        }
        spec = {
            "version": 1,
            "connections": {"crm": {"product": "crm", "base_url": base, "auth": auth}},
            "defaults": {"poll": {"first": "10ms", "max": "50ms"}, "output_dir": "out"},
            "jobs": {
                "leads": {
                    "export": {"from": "crm", "module": "Leads", "fields": ["Last_Name"]},
                    "output": "leads.csv",
                }
            },
        }
        (tmp_path / "jobs.yaml").write_text(json.dumps(spec))
        done = subprocess.run(
            [ZSYNC, "run", "jobs.yaml"], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert len((tmp_path / "out/leads.csv").read_text().splitlines()) == 1 + 7
    finally:
        process.terminate()
        process.wait(10)


def test_emulator_rows_must_say_product_module_and_count() -> None:
    done = zsync("emulator", "--port", "0", "--rows", "Leads=7")
    assert done.returncode == 2
    assert "expected PRODUCT.MODULE=N" in done.stderr


def test_an_invalid_file_is_told_once_by_run(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\nconnections: {}\njobs:\n"
        "  a: {export: {from: x, module: Leads}, output: a.csv}\n"
    )
    done = zsync("run", str(bad), cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    said = [line for line in lines if "must not be empty" in line]
    assert len(said) == 1, done.stderr  # each problem once, not again in the last line
    assert lines[-1].startswith(f"zsync: {bad} is invalid (") and "nothing was run" in lines[-1]
    assert all(line.count("error:") <= 1 for line in lines), done.stderr


def test_shell_completion_lists_the_commands(tmp_path) -> None:
    environment = {
        **os.environ,
        "COMP_WORDS": "zsync ru",
        "COMP_CWORD": "1",
        "_ZSYNC_COMPLETE": "bash_complete",
    }
    done = subprocess.run([ZSYNC], capture_output=True, text=True, env=environment, check=False)
    assert done.stdout.split() == ["plain,run", "plain,runs"], done
