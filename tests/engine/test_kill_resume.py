"""kill -9 at random moments, then --resume: outputs exact, nothing created or imported twice.

Each round runs `zsync run` as a real process against an emulator served from this test, kills
it with SIGKILL after a seeded random delay (up to twice), then resumes until the run ends.
After every round: every export is byte-identical to the emulator's ground truth, no Zoho job
was created twice for one page or part (the one exception: an export whose create was sent
but whose answer died with the process, which the state store shows as an intent without an
id), no imported row is doubled, and no temporary file is left.

ZSYNC_KILL_ROUNDS sets the number of rounds (default 20); ZSYNC_KILL_SEED the seed.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import random
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest

from zsync.emulator import EmulatorConfig
from zsync.state.sqlite import SqliteStore

ZSYNC = str(Path(sys.executable).with_name("zsync"))
ROUNDS = int(os.environ.get("ZSYNC_KILL_ROUNDS", "20"))
SEED = int(os.environ.get("ZSYNC_KILL_SEED", "9"))
LEAD_FIELDS = ["Last_Name", "Email", "Company"]

JOBS = """\
leads:
  export: {from: crm, module: Leads, fields: [Last_Name, Email, Company]}
  output: leads.csv
sales:
  export: {from: analytics, view: Sales}
  output: sales.csv
orders:
  export: {from: creator, report: All_Orders}
  output: orders.csv
customers_in:
  import:
    {to: analytics, table: Customers, file: customers_in.csv, mode: append, max_part_size: 1024}
contacts_in:
  import: {to: crm, module: Contacts, file: contacts_in.csv, operation: insert}
orders_copy:
  import: {to: analytics, table: OrdersCopy, file: orders.csv, create_table: true}
"""


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


async def _zsync(*args: str, cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        ZSYNC, *args, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )


async def _kill_at(process: asyncio.subprocess.Process, lines: int, delay: float) -> str:
    """SIGKILL `process` `delay` seconds after its `lines`-th progress line (or after
    `delay` from its start when `lines` is 0); returns what it printed."""
    assert process.stderr is not None
    printed: list[str] = []
    seen = 0
    while seen < lines:
        line = await process.stderr.readline()
        if not line:
            break
        printed.append(line.decode())
        seen += "] " in printed[-1]
    if process.returncode is None:
        try:
            await asyncio.wait_for(process.wait(), delay)
        except TimeoutError:
            process.send_signal(signal.SIGKILL)
    await process.wait()
    return "".join(printed)


async def _run_with_kills(cwd: Path, rng: random.Random) -> tuple[int, list[str]]:
    """Start, kill at random moments (1-2 times), resume until the run ends by itself."""
    log: list[str] = []
    kills = rng.choice((1, 1, 2))
    args = ["run", "jobs.yaml"]
    for attempt in range(kills + 4):
        process = await _zsync(*args, cwd=cwd)
        if attempt < kills:
            lines, delay = rng.randrange(0, 20), rng.uniform(0.0, 0.2)
            printed = await _kill_at(process, lines, delay if lines else 0.3 + delay * 4)
            log.append(printed + f"--- killed after line {lines} + {delay:.3f}s\n")
            # Killed before its run was recorded: there is nothing to resume yet.
            recorded = (cwd / ".zsync/state.db").is_file() and SqliteStore(
                cwd / ".zsync/state.db"
            ).runs()
            args = ["run", "jobs.yaml", "--resume"] if recorded else ["run", "jobs.yaml"]
            continue
        _, stderr = await asyncio.wait_for(process.communicate(), 120)
        text = stderr.decode()
        log.append(text)
        assert "Traceback" not in text, text
        return process.returncode or 0, log
    raise AssertionError("the run never ended")


def _leftovers(root: Path) -> list[Path]:
    marks = (".zsync-tmp-", ".zsync-old-", ".tmp-")
    found = [p for p in root.rglob("*") if any(m in p.name for m in marks)]
    found += [p for p in (root / ".zsync" / "runs").glob("*/tmp")]
    return found


@pytest.mark.parametrize("round_number", range(ROUNDS))
async def test_killed_runs_resume_to_exact_results(start, tmp_path, round_number) -> None:
    rng = random.Random(SEED * 1000 + round_number)
    # Emulated time at 20x: a job takes a few hundred milliseconds, results outlive the round.
    zoho = await start(EmulatorConfig(time_scale=20.0, page_size=30), tmp=tmp_path)
    emulator = zoho.emulator
    tag = f"K{round_number}"
    customers = [["Customer", "Region", "Segment", "Since"]] + [
        [f"{tag} customer {i}", "North", "Consumer", "2024-02-01"] for i in range(60)
    ]
    contacts = [["Last_Name", "Email"]] + [
        [f"{tag} contact {i}", f"{tag.lower()}.{i}@example.com"] for i in range(25)
    ]
    out = tmp_path / "out"
    out.mkdir()
    (out / "customers_in.csv").write_text(_csv(customers))
    (out / "contacts_in.csv").write_text(_csv(contacts))
    zoho.spec(JOBS)

    code, log = await _run_with_kills(tmp_path, rng)
    await asyncio.sleep(0.3)  # let Zoho jobs a killed run left behind finish
    emulator.settle()
    store = SqliteStore(tmp_path / ".zsync" / "state.db")
    runs = store.runs()
    jobs = store.jobs(runs[0].run_id)
    store.close()
    # The final (resumed) run is the only run of this round; it ended by itself.
    assert len(runs) == 1 and runs[0].outcome != "running", log
    assert code in (0, 1), log
    failed = {name: job for name, job in jobs.items() if job.status != "succeeded"}
    # Only an import whose create answer died with a killed process may fail (never-twice).
    for name, job in failed.items():
        assert job.direction == "import", (name, job, log)
        assert job.error is not None and "could import these rows twice" in job.error.message

    # Exports: byte-identical to the ground truth.
    truth = emulator.ground_truth
    assert (out / "leads.csv").read_bytes() == truth.crm_records("Leads", LEAD_FIELDS)
    assert (out / "sales.csv").read_bytes() == truth.analytics_view("Sales")
    assert (out / "orders.csv").read_bytes() == truth.creator_report("All_Orders")

    # No Zoho job created twice for one page or part; an export page may be created again
    # only where its earlier create's answer died with a killed process.
    lost_export_answers = sum(
        1
        for job in jobs.values()
        if job.direction == "export"
        for remote in job.remote_jobs
        if remote.outcome_unknown
    )
    repeats = {k: n for k, n in emulator.creates_per_definition().items() if n > 1}
    for key in repeats:
        assert '"kind": "analytics.import"' not in key and '"kind": "crm.write"' not in key, (
            key,
            log,
        )
    assert sum(n - 1 for n in repeats.values()) <= lost_export_answers, (repeats, log)

    # No imported row doubled; imports that succeeded landed every row.
    landed = Counter(r["Customer"] for r in emulator.rows("analytics", "Customers"))
    ours = [row[0] for row in customers[1:]]
    assert max(landed[c] for c in ours) <= 1
    if "customers_in" not in failed:
        assert all(landed[c] == 1 for c in ours)
    written = Counter(r["Last_Name"] for r in emulator.rows("crm", "Contacts"))
    assert max(written[c[0]] for c in contacts[1:]) <= 1
    if "contacts_in" not in failed:
        assert all(written[c[0]] == 1 for c in contacts[1:])
    if "orders_copy" not in failed:
        copied = emulator.rows("analytics", "OrdersCopy")
        assert len(copied) == len((out / "orders.csv").read_bytes().splitlines()) - 1

    assert _leftovers(tmp_path) == []
