"""`zsync run` as people and CI see it: the live view in a pseudo-terminal (read back as a
screen), plain lines and heartbeats in CI, -q, -v and JSON logs."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from zsync.emulator import EmulatorConfig, running_emulator

pyte = pytest.importorskip("pyte")

REPO = Path(__file__).resolve().parents[2]
ZSYNC = str(Path(sys.executable).with_name("zsync"))
JOBS = (
    "crm_contacts",
    "bigin_meetings",
    "creator_orders",
    "sales_by_region",
    "east_sales_report",
    "bigin_contacts",
    "contacts_to_analytics",
    "bigin_contacts_to_crm_leads",
)
COLUMNS, ROWS = 110, 32
PLAIN_LINE = re.compile(r"\[\d\d:\d\d:\d\d \+\d+\.\ds\] \S")
COLOUR = re.compile(rb"\x1b\[[0-9;]*(3[0-7]|38;|9[0-7])[0-9;]*m")


def _environment(**extra: str) -> dict[str, str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ZOHO_", "GITHUB_")) and k not in ("CI", "NO_COLOR", "TERM")
    }
    environment.update(extra)
    return environment


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(REPO / "jobs.example.yaml", tmp_path / "jobs.yaml")
    return tmp_path


def _in_terminal(args: list[str], cwd: Path, **env: str) -> tuple[int, bytes, list[str], list[str]]:
    """Run zsync on a pseudo-terminal; its exit code, every byte it wrote, the screens seen
    while it ran (one per read) and the last screen."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    environment = _environment(TERM="xterm-256color", COLUMNS=str(COLUMNS), LINES=str(ROWS), **env)
    process = subprocess.Popen(
        [ZSYNC, *args], cwd=cwd, stdin=slave, stdout=slave, stderr=slave, env=environment
    )
    os.close(slave)
    screen = pyte.Screen(COLUMNS, ROWS)
    stream = pyte.ByteStream(screen)
    written, frames = b"", []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the child closed its end
                    break
                if not data:
                    break
                written += data
                stream.feed(data)
                frames.append("\n".join(screen.display))
            elif process.poll() is not None:
                break
        code = process.wait(timeout=10)
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
    return code, written, frames, [line.rstrip() for line in screen.display]


def test_live_view_on_a_terminal_redraws_the_running_jobs_then_sums_up(project: Path) -> None:
    # Slow answers (0.3 s each) keep the jobs running long enough to be drawn.
    code, written, frames, last = _in_terminal(
        ["run", "jobs.yaml", "--emulator", "--latency", "0.3"], project
    )
    assert code == 0, "\n".join(last)
    live = [f for f in frames if re.search(r"queued \d+ · running [1-9]\d* · done \d/8", f)]
    assert live, "no frame showed the run's counts"
    # A running job's row: its name, its state, its elapsed time.
    rows = re.compile(r"^(\w+)\s+(waiting for Zoho|creating|downloading.*|[A-Z][\w ]+)\s+\d+:\d\d")
    seen = {m.group(1) for f in live for line in f.splitlines() if (m := rows.match(line))}
    assert seen & set(JOBS), live[len(live) // 2]
    # Redrawn in place: the cursor moves up over the old view instead of scrolling it.
    assert b"\x1b[2K" in written or b"\x1b[1A" in written
    # The end: a summary table of every job, then the manifest line.
    screen = "\n".join(last)
    for job in JOBS[-4:]:  # the last lines of the table (the first may have scrolled away)
        assert re.search(rf"{job}\s+│ succeeded", screen), screen
    written_lines = [line for line in last if line]
    assert any(line.startswith("manifest: ") for line in written_lines[-3:])  # it may wrap
    # No view is left behind: the live region is cleared before the summary.
    assert not re.search(r"queued \d+ · running", screen)


def test_no_color_keeps_the_live_view_but_drops_its_colours(project: Path) -> None:
    code, coloured, _, _ = _in_terminal(
        ["run", "jobs.yaml", "--emulator", "--job-failure-rate", "1"], project
    )
    assert code == 1
    assert COLOUR.search(coloured), "a failure on a terminal is shown in colour"
    code, plain, _, last = _in_terminal(
        ["run", "jobs.yaml", "--emulator", "--job-failure-rate", "1"], project, NO_COLOR="1"
    )
    assert code == 1
    assert not COLOUR.search(plain)
    assert any("failed" in line for line in last)


def _plain_run(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ZSYNC, "run", "jobs.yaml", "--emulator", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=_environment(**env),
    )


def test_ci_gets_plain_timestamped_lines_and_heartbeats(project: Path) -> None:
    done = _plain_run(project, "--latency", "0.3", "--heartbeat", "0.5s", CI="true")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert "\x1b" not in done.stderr + done.stdout
    assert lines and all(PLAIN_LINE.match(line) for line in lines), done.stderr
    for job in JOBS:
        assert any(f"] {job}: started" in line for line in lines), job
        assert any(re.search(rf"\] {job}: (done|succeeded)", line) for line in lines), job
    # Jobs that went quiet for the heartbeat said where they stand.
    beats = [line for line in lines if re.search(r"\] \w+: still .+ after \d+s", line)]
    assert beats, done.stderr
    assert any(re.search(r"\] queued \d+ · running \d+ · done \d+/8", line) for line in lines)
    assert done.stdout.strip().startswith("manifest: ")


def test_no_terminal_means_plain_lines_even_without_ci(project: Path) -> None:
    done = _plain_run(project)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stderr
    assert all(PLAIN_LINE.match(line) for line in done.stderr.splitlines())


def test_quiet_says_nothing_on_success_and_the_failures_when_there_are(project: Path) -> None:
    done = _plain_run(project, "-q")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    failed = _plain_run(project, "-q", "--job-failure-rate", "1")
    assert failed.returncode == 1
    lines = failed.stderr.splitlines()
    assert lines and all(": started" not in line for line in lines)
    assert any(re.search(r"\] \w+: failed: ", line) for line in lines), failed.stderr
    assert any("run failed" in line for line in lines)
    assert failed.stdout.startswith("manifest: ")  # where to look, since it failed


def test_verbose_shows_every_status_check(project: Path) -> None:
    done = _plain_run(project, "-v")
    assert done.returncode == 0, done.stderr
    checks = [line for line in done.stderr.splitlines() if "next check in" in line]
    assert checks and all(re.search(r"\(check \d+\); next check in", c) for c in checks)
    default = _plain_run(project)
    assert "(check 1)" not in default.stderr


def test_quiet_and_verbose_together_is_a_usage_error(project: Path) -> None:
    done = _plain_run(project, "-q", "-v")
    assert done.returncode == 2
    assert "-q and -v" in done.stderr


def test_json_logs_are_one_object_per_event(project: Path) -> None:
    done = _plain_run(project, "--log-format", "json", "--output", "json")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stderr.splitlines()]
    for event in events:
        assert {"time", "elapsed", "level", "event", "message"} <= event.keys()
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event["time"])
        assert event["level"] in ("debug", "info", "warning", "error")
    kinds = [event["event"] for event in events]
    assert kinds.count("job.started") == len(JOBS)
    assert kinds.count("job.succeeded") == len(JOBS)
    assert kinds[-2:] == ["run.ended", "run.manifest"]
    assert events[-2]["outcome"] == "succeeded"
    assert Path(events[-1]["path"]).is_file()
    created = [event for event in events if event["event"] == "job.created"]
    assert all(event["job"] in JOBS and event["remote_id"] for event in created)
    done_exports = [e for e in events if e["event"] == "job.succeeded" and "output" in e]
    assert all(isinstance(e["rows"], int | None) and e["bytes"] > 0 for e in done_exports)
    # stdout still carries exactly the manifest.
    assert json.loads(done.stdout)["outcome"] == "succeeded"
    # The emulator's demo secret never shows (it is the run's client secret).
    assert "zsync-emulator-demo-secret" not in done.stderr


async def test_a_job_that_zoho_keeps_busy_says_its_state_every_heartbeat(tmp_path: Path) -> None:
    from tests.test_signals import job_file  # a job file aimed at a running emulator

    config = EmulatorConfig(time_scale=1.0, token_budget=None, job_seconds=(3.0, 3.0))
    async with running_emulator(config) as running:
        path = job_file(running, tmp_path)
        text = path.read_text().replace("first: 10ms, max: 50ms", "first: 1s, max: 2s")
        path.write_text(text)
        process = await asyncio.create_subprocess_exec(
            ZSYNC,
            "run",
            str(path),
            "--select",
            "leads",
            "--heartbeat",
            "0.7s",
            cwd=tmp_path,
            env=_environment(CI="true"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    said = stderr.decode()
    assert process.returncode == 0, said
    beats = re.findall(r"\] leads: (still .*)", said)
    # Zoho's own word for the job's state, how long it has been, when zsync asks next.
    assert any(
        re.fullmatch(r"still (ADDED|QUEUED|IN PROGRESS) after \ds, next check in \ds", b)
        for b in beats
    ), said


def test_json_logs_stay_json_when_the_job_file_is_invalid(tmp_path: Path) -> None:
    (tmp_path / "jobs.yaml").write_text("version: 1\nconnections: {}\njobs: {}\n")
    done = subprocess.run(
        [ZSYNC, "run", "jobs.yaml", "--log-format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=_environment(),
    )
    assert done.returncode == 2
    events = [json.loads(line) for line in done.stderr.splitlines()]
    problems = [e for e in events if e["event"] == "job_file.problem"]
    assert problems and problems[0]["line"] == 2 and problems[0]["level"] == "error"
    assert events[-1]["event"] == "run.error"
    assert events[-1]["exit_code"] == 2
