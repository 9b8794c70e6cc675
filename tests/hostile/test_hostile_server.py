"""zsync against a hostile server: every bad reply is a clear job error, never a traceback, a
partial file or unbounded memory, and the rest of the run goes on."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from .server import app, bomb

# Each case: what the job's error must be (class, code); None: the job succeeds.
CRM_CASES: dict[str, tuple[str, str | None] | None] = {
    "good": None,
    "create_garbage": ("remote", "BAD_REPLY"),
    "create_details_string": ("remote", "BAD_REPLY"),
    "create_id_object": ("remote", "BAD_REPLY"),
    "create_id_traversal": ("remote", "BAD_REPLY"),
    "status_count_string": ("remote", "BAD_REPLY"),
    "status_never_ends": ("timeout", None),
    "status_huge": ("remote", "BAD_REPLY"),
    "status_trickle": ("transient", None),
    "download_foreign_host": ("remote", "BAD_REPLY"),
    "download_redirect": ("remote", None),
    "download_html": ("remote", "BAD_RESULT"),
    "download_empty": ("remote", "BAD_RESULT"),
    "zip_truncated": ("remote", "BAD_RESULT"),
    "zip_traversal": ("remote", "BAD_RESULT"),
    "zip_absolute": ("remote", "BAD_RESULT"),
    "zip_two": ("remote", "BAD_RESULT"),
    "zip_bomb_zeros": ("remote", "BAD_RESULT"),
    "zip_bomb_lines": ("remote", "BAD_RESULT"),
    "csv_no_header": ("remote", "BAD_RESULT"),
    "csv_bad_utf8": ("remote", "BAD_RESULT"),
    "csv_empty": ("remote", "BAD_RESULT"),
}
ANALYTICS_CASES: dict[str, tuple[str, str | None] | None] = {
    "an_good": None,
    "an_html": ("remote", "BAD_RESULT"),
    "an_envelope": ("remote", "8504"),
    "an_bad_utf8": ("remote", "BAD_RESULT"),
    "an_endless": ("remote", "BAD_REPLY"),
    "an_xml_good": None,
    "an_xml_cut": ("remote", "BAD_RESULT"),
    "an_xml_entities": ("remote", "BAD_RESULT"),
    "an_xls_good": None,
    "an_xls_cut": ("remote", "BAD_RESULT"),
    "an_xls_garbage": ("remote", "BAD_RESULT"),
    "an_xls_endless": ("remote", "BAD_REPLY"),
    "an_pdf_cut": ("remote", "BAD_RESULT"),
    "an_html_no_table": ("remote", "BAD_RESULT"),
}
PEAK_RSS_MB = 200

# Runs zsync's CLI in this process and leaves its peak memory in a file at exit.
WRAPPER = """
import os
from zsync.cli import main
try:
    main()
finally:
    # VmHWM: this process's own peak (getrusage's maxrss also counts the pytest process
    # this one was forked from, carried across exec).
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["PEAK_FILE"], "w") as f:
        f.write(str(int(peak) // 1024))
"""


def job_file(base_url: str) -> str:
    common = {
        "base_url": base_url,
        "auth": {"client_id": "id", "client_secret": "secret", "refresh_token": "1000.r"},
    }
    connections = {
        "crm": {
            "product": "crm",
            "org_id": "1",
            # Not Zoho: its many downloads needn't keep to Zoho's 10 a minute.
            "limits": {"requests": {"download": {"calls": 1000, "per": "1s"}}},
            **common,
        },
        "analytics": {"product": "analytics", "org_id": "1", "workspace": "9", **common},
    }
    jobs: dict[str, object] = {}
    for case in CRM_CASES:
        jobs[case] = {"export": {"from": "crm", "module": case}, "output": f"{case}.csv"}
    for case in ANALYTICS_CASES:
        kind = case.split("_")[1] if case.split("_")[1] in ("xml", "xls", "pdf", "html") else "csv"
        export = {"from": "analytics", "sql": case, "format": kind}
        jobs[case] = {"export": export, "output": f"{case}.{kind}"}
    jobs["status_trickle"]["results"] = {"stall_timeout": "1s"}  # type: ignore[index]
    jobs["status_never_ends"]["poll"] = {"timeout": "2s"}  # type: ignore[index]
    jobs["an_endless"]["results"] = {"max_size": "8MB"}  # type: ignore[index]
    jobs["an_xls_endless"]["results"] = {"max_size": "8MB"}  # type: ignore[index]
    spec = {
        "version": 1,
        "connections": connections,
        "defaults": {
            "poll": {"first": "10ms", "max": "50ms", "timeout": "30s"},
            "retry": {"attempts": 2, "backoff": "10ms"},
            "output_dir": "out",
        },
        "jobs": jobs,
    }
    return json.dumps(spec, indent=1)  # JSON is YAML


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ZIP bombs, built before the run (building one takes a few seconds)."""
    scratch = tmp_path_factory.mktemp("bombs")
    bomb(scratch / "zeros.zip", b"\0")
    bomb(scratch / "lines.zip", b"1,2\n")
    return scratch


async def test_a_hostile_server_gets_no_bad_result_through(tmp_path: Path, bombs: Path) -> None:
    server = TestServer(app(bombs), host="127.0.0.1")
    await server.start_server()
    try:
        spec = tmp_path / "jobs.yaml"
        spec.write_text(job_file(str(server.make_url("")).rstrip("/")))
        peak_file = tmp_path / "peak"
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WRAPPER,
            "run",
            str(spec),
            "--output",
            "json",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PEAK_FILE": str(peak_file)},
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    finally:
        await server.close()

    errors = stderr.decode()
    assert "Traceback" not in errors, errors
    assert process.returncode in (1, 4), errors
    manifest = json.loads(stdout)
    for case, expected in {**CRM_CASES, **ANALYTICS_CASES}.items():
        job = manifest["jobs"][case]
        if expected is None:
            assert job["status"] == "succeeded", (case, job)
            continue
        assert job["status"] != "succeeded", (case, job)
        error = job["error"]
        assert error["class"] == expected[0], (case, error)
        if expected[1] is not None:
            assert error["code"] == expected[1], (case, error)
        assert len(error["message"]) < 600, (case, error)  # a message, not a dump
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["an_good.csv", "an_xls_good.xls", "an_xml_good.xml", "good.csv"]
    leftovers = [p for p in tmp_path.rglob("*") if ".zsync-tmp-" in p.name or p.suffix == ".part"]
    assert leftovers == []
    assert int(peak_file.read_text()) < PEAK_RSS_MB, f"peak RSS {peak_file.read_text()} MB"
