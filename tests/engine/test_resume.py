"""--resume, the never-twice rule across runs, queued jobs and Zoho's cap, in-process; on
both state stores (the SQLite file and PostgreSQL): what they promise doesn't depend on it."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from dataclasses import replace

import aiohttp
import pytest

from zsync.emulator import EmulatorConfig
from zsync.scheduler import RunOptions
from zsync.state.store import RemotePut

from .test_imports import customers, write_csv

pytestmark = pytest.mark.parametrize("state_url", ["sqlite", "postgres"], indirect=True)

APPEND = """\
load:
  import: {to: analytics, table: Customers, file: c.csv}
"""
EXPORTS = """\
sales:
  export: {from: analytics, view: Sales}
  output: sales.csv
leads:
  export: {from: crm, module: Leads, fields: [Last_Name, Email]}
  output: leads.csv
"""


async def _cut_short_after_part_one(zoho, jobs: str):
    """Run `jobs`, whose import's second part ends FAILED at Zoho: part 1 landed."""

    async def fail_part_two() -> None:
        while zoho.emulator.creates("analytics.import") < 1:
            await asyncio.sleep(0.002)
        zoho.emulator.faults.fail_next_jobs("analytics.import")

    failed, _ = await asyncio.gather(zoho.run(jobs), fail_part_two())
    return failed


THREE_PARTS = """\
load:
  import: {to: analytics, table: Customers, file: c.csv, max_part_size: 1024}
"""


async def _part_one_of_three_landed(start, tmp_path):
    """An emulator, and a failed run of THREE_PARTS (60 rows) whose part 1 landed."""
    zoho = await start(EmulatorConfig(time_scale=20.0), tmp=tmp_path)
    write_csv(zoho.tmp / "out/c.csv", customers(60))
    failed = await _cut_short_after_part_one(zoho, THREE_PARTS)
    assert failed.job("load")["imported"]["parts_landed"] == 1
    return zoho, failed


def _count(rows, prefix: str) -> int:
    return sum(1 for r in rows if str(r["Customer"]).startswith(prefix))


async def test_a_rerun_imports_nothing_twice(zoho) -> None:
    write_csv(zoho.tmp / "out/c.csv", customers(6, note=" rerun"))
    first = await zoho.run(APPEND)
    assert first.code == 0, first.log
    again = await zoho.run(APPEND)
    assert again.code == 0, again.log
    job = again.job("load")
    assert job["status"] == "skipped"
    assert job["reason"].startswith(f"already imported by run {first.run_id} at ")
    assert "(6 rows)" in job["reason"]
    assert zoho.emulator.creates("analytics.import") == 1
    assert _count(zoho.emulator.rows("analytics", "Customers"), "Import") == 6

    # --reimport says: send it anyway.
    forced = await zoho.run(APPEND, options=RunOptions(reimport=frozenset({"load"})))
    assert forced.code == 0, forced.log
    assert forced.job("load")["status"] == "succeeded"
    assert _count(zoho.emulator.rows("analytics", "Customers"), "Import") == 12


async def test_a_job_needing_an_import_that_landed_before_still_runs(zoho) -> None:
    write_csv(zoho.tmp / "out/c.csv", customers(3))
    jobs = (
        APPEND
        + "after:\n  needs: [load]\n  export: {from: analytics, view: Sales}\n  output: s.csv\n"
    )
    assert (await zoho.run(jobs)).code == 0
    again = await zoho.run(jobs)
    assert again.code == 0, again.log
    assert again.job("load")["status"] == "skipped"
    assert again.job("after")["status"] == "succeeded"


async def test_an_import_cut_short_points_at_resume_which_sends_the_rest(start, tmp_path) -> None:
    zoho = await start(EmulatorConfig(time_scale=20.0), tmp=tmp_path)
    write_csv(zoho.tmp / "out/c.csv", customers(60))
    jobs = """\
        load:
          import: {to: analytics, table: Customers, file: c.csv, max_part_size: 1024}
        """

    failed = await _cut_short_after_part_one(zoho, jobs)
    assert failed.code == 1
    landed = failed.job("load")["imported"]
    assert landed["parts_landed"] == 1 and landed["parts"] == 3

    # A fresh run must not send the file again: part 1's rows are in the table.
    fresh = await zoho.run(jobs)
    assert fresh.code == 1
    message = fresh.job("load")["error"]["message"]
    assert f"zsync run {zoho.tmp / 'jobs.yaml'} --resume {failed.run_id}" in message
    assert "1 of 3 parts" in message and "--reimport load" in message
    assert zoho.emulator.creates("analytics.import") == 2

    resumed = await zoho.run(jobs, resume=failed.run_id)
    assert resumed.code == 0, resumed.log
    assert resumed.run_id == failed.run_id
    await asyncio.sleep(0.1)
    counts = zoho.emulator.creates_per_definition()
    imports = {k: n for k, n in counts.items() if "analytics.import" in k}
    # Part 1 once; part 2 twice (its first job failed at Zoho, nothing landed); part 3 once.
    assert sorted(imports.values()) == [1, 1, 2]
    rows = zoho.emulator.rows("analytics", "Customers")
    assert _count(rows, "Import") == 60
    assert len({r["Customer"] for r in rows if r["Customer"].startswith("Import")}) == 60
    assert resumed.manifest["resumed_at"]


async def test_resume_keeps_verified_outputs_and_redoes_the_rest(zoho) -> None:
    first = await zoho.run(EXPORTS)
    assert first.code == 0, first.log
    creates = zoho.emulator.creates()

    kept = await zoho.run(EXPORTS, resume="latest")
    assert kept.code == 0, kept.log
    assert zoho.emulator.creates() == creates  # nothing asked of Zoho again
    assert any("2 job(s) done and verified, 0 to run" in line for line in kept.log)

    (kept.out / "sales.csv").write_bytes(b"Region\nedited by hand\n")
    redone = await zoho.run(EXPORTS, resume="latest")
    assert redone.code == 0, redone.log
    assert any("sales: its output is gone or changed" in line for line in redone.log)
    assert (redone.out / "sales.csv").read_bytes() == zoho.emulator.ground_truth.analytics_view(
        "Sales"
    )
    # Its Zoho job's result was still there: polled and downloaded, not created again.
    assert zoho.emulator.creates() == creates

    changed = await zoho.run(EXPORTS.replace("[Last_Name, Email]", "[Last_Name]"), resume="latest")
    assert changed.code == 0, changed.log
    assert any("leads: its definition changed" in line for line in changed.log)
    assert zoho.emulator.creates() == creates + 1


async def test_jobs_are_queued_until_they_hold_a_slot(start, tmp_path) -> None:
    zoho = await start(EmulatorConfig(time_scale=8.0), tmp=tmp_path)
    jobs = "".join(
        f"s{i}:\n  export: {{from: analytics, view: Sales}}\n  output: s{i}.csv\n"
        for i in range(12)
    )
    seen: list[tuple[float, dict[str, int]]] = []

    async def sample() -> None:
        db = zoho.tmp / ".zsync/state.db"
        while zoho.state_url is None and not db.is_file():
            await asyncio.sleep(0.005)
        store = zoho.open_store()
        try:
            while True:
                runs = store.runs(limit=1)
                if runs:
                    counts = store.job_counts(runs[0].run_id)
                    seen.append((time.monotonic(), counts))
                    if counts.get("succeeded"):
                        return
                await asyncio.sleep(0.005)
        finally:
            store.close()

    run, _ = await asyncio.gather(zoho.run(jobs), sample())
    assert run.code == 0, run.log
    # Zoho never had more than 5 of them live, and the run showed the other 7 as queued
    # while it waited. (No times: the sampler shares the event loop with the run, and a busy
    # CI machine stretches both. A job downloading has given its slot back but is still
    # running, so the store's counts may show more than 5 running later on.)
    assert zoho.emulator.peak_jobs("analytics.export") == 5
    assert {"running": 5, "queued": 7} in [counts for _, counts in seen]
    first = next(counts for _, counts in seen if counts.get("running"))
    assert first.get("running", 0) + first.get("queued", 0) == 12


async def test_a_full_cap_at_zoho_waits_for_a_slot(start, tmp_path) -> None:
    """Jobs zsync doesn't know about (a killed run's) fill the organisation's cap: the
    create is refused with 8084 and the job waits instead of failing."""
    zoho = await start(EmulatorConfig(time_scale=20.0), tmp=tmp_path)
    demo = zoho.emulator.demo(zoho.running.base_url)
    base = zoho.running.base_url
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{base}/oauth/v2/token",
            data={
                "grant_type": "refresh_token",
                "client_id": demo["client_id"],
                "client_secret": demo["client_secret"],
                "refresh_token": demo["refresh_token"],
            },
        ) as reply:
            token = (await reply.json())["access_token"]
        headers = {
            "Authorization": f"Zoho-oauthtoken {token}",
            "ZANALYTICS-ORGID": demo["analytics_org_id"],
        }
        workspace = demo["analytics_workspace_id"]
        for _ in range(5):
            async with http.get(
                f"{base}/restapi/v2/bulk/workspaces/{workspace}/data",
                params={"CONFIG": '{"responseFormat": "csv", "sqlQuery": "SELECT * FROM Sales"}'},
                headers=headers,
            ) as reply:
                assert reply.status == 200, await reply.text()
    run = await zoho.run("""\
        sales:
          export: {from: analytics, view: Sales}
          output: sales.csv
        """)
    assert run.code == 0, run.log
    assert any("job cap is reached" in line for line in run.log)
    remotes = run.job("sales")["remote_jobs"]
    assert len(remotes) == 1 and remotes[0]["id"] and remotes[0]["refused"] is None
    assert zoho.emulator.creates("analytics.export") == 6


async def test_a_rerun_of_a_crm_insert_writes_nothing_twice(zoho) -> None:
    write_csv(zoho.tmp / "out/l.csv", [["Last_Name"], ["Once A"], ["Once B"]])
    jobs = "leads:\n  import: {to: crm, module: Leads, file: l.csv}\n"
    first = await zoho.run(jobs)
    assert first.code == 0, first.log
    again = await zoho.run(jobs)
    assert again.code == 0, again.log
    assert again.job("leads")["status"] == "skipped"
    assert zoho.emulator.creates("crm.write") == 1
    names = [r["Last_Name"] for r in zoho.emulator.rows("crm", "Leads")]
    assert names.count("Once A") == names.count("Once B") == 1


async def test_a_file_changed_after_some_of_its_rows_landed_is_refused(start, tmp_path) -> None:
    zoho, failed = await _part_one_of_three_landed(start, tmp_path)
    jobs = THREE_PARTS
    write_csv(zoho.tmp / "out/c.csv", customers(60, note=" edited"))
    resumed = await zoho.run(jobs, resume=failed.run_id)
    assert resumed.code == 1
    message = resumed.job("load")["error"]["message"]
    assert "changed since an earlier try of this job sent" in message
    assert "--reimport load" in message
    assert zoho.emulator.creates("analytics.import") == 2  # nothing more was sent


async def test_a_resumed_truncateadd_whose_part_failed_starts_over(start, tmp_path) -> None:
    zoho = await start(EmulatorConfig(time_scale=20.0), tmp=tmp_path)
    write_csv(zoho.tmp / "out/c.csv", customers(60))
    jobs = """\
        load:
          import:
            {to: analytics, table: Customers, file: c.csv, mode: truncateadd, max_part_size: 1024}
        """

    failed = await _cut_short_after_part_one(zoho, jobs)
    assert failed.code == 1
    resumed = await zoho.run(jobs, resume=failed.run_id)
    assert resumed.code == 0, resumed.log
    assert any("starting over from part 1" in line for line in resumed.log)
    await asyncio.sleep(0.1)
    rows = [r["Customer"] for r in zoho.emulator.rows("analytics", "Customers")]
    assert rows == [f"Import {i}" for i in range(60)]  # truncated once more, every row once


@pytest.mark.parametrize("summary", ["recorded", "missing"])
async def test_a_part_that_landed_hours_ago_is_never_sent_again(
    start, tmp_path, summary: str
) -> None:
    """Zoho keeps an import job's summary one hour: resumed later, a part that landed finds
    its job gone. It landed all the same: its recorded summary counts (or, where none was
    recorded, its rows), and it is never sent again, however often the run is resumed."""
    zoho, failed = await _part_one_of_three_landed(start, tmp_path)
    part_one = failed.job("load")["remote_jobs"][0]
    assert part_one["summary"]["importSummary"]["successRowCount"] == 27
    if summary == "missing":  # as an older zsync, or a stop between state and summary, left it
        store = zoho.open_store()
        try:
            remote = store.jobs(failed.run_id)["load"].remote_jobs[0]
            store.apply([RemotePut(failed.run_id, "load", 0, replace(remote, summary=None))])
        finally:
            store.close()
    jobs = THREE_PARTS
    zoho.emulator.clock.jump(2 * 3600)  # type: ignore[attr-defined]
    for _ in range(2):
        resumed = await zoho.run(jobs, resume="latest")
        # Each row at most once, whatever each try ended with.
        imported = _count(zoho.emulator.rows("analytics", "Customers"), "Import")
        assert imported <= 60, (imported, resumed.log)
    assert resumed.code == 0, resumed.log
    assert resumed.job("load")["imported"]["rows_landed"] == 60
    assert imported == 60


def _part_one_id_recorded(zoho) -> bool:
    store = zoho.open_store()
    try:
        runs = store.runs(limit=1)
        job = store.jobs(runs[0].run_id).get("load") if runs else None
        return job is not None and bool(job.remote_jobs) and job.remote_jobs[0].id is not None
    finally:
        store.close()


async def _stopped_while_part_one_runs(start, tmp_path):
    """An emulator whose import jobs last 2 s, and a run of THREE_PARTS stopped (cancelled)
    while part 1's Zoho job runs on, unseen: it ends there 2 s later, its rows landed."""
    config = dataclasses.replace(EmulatorConfig(time_scale=20.0), job_seconds=(40.0, 40.0))
    zoho = await start(config, tmp=tmp_path)
    write_csv(zoho.tmp / "out/c.csv", customers(60))
    run = asyncio.create_task(zoho.run(THREE_PARTS))
    deadline = time.monotonic() + 1.5  # the job runs 2 s: stop the run before it ends
    while not _part_one_id_recorded(zoho) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert _part_one_id_recorded(zoho), "part 1's create was never answered"
    run.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await run
    await asyncio.sleep(40.0 / 20.0 + 0.2)
    return zoho


async def test_a_new_run_refuses_a_file_a_stopped_run_may_have_sent(start, tmp_path) -> None:
    """Not --resume but a new run, after a run stopped while part 1's Zoho job ran: nobody
    saw that job end, so its rows may have landed. The new run sends nothing and says to
    resume the stopped one (or check and --reimport)."""
    zoho = await _stopped_while_part_one_runs(start, tmp_path)
    again = await zoho.run(THREE_PARTS)
    assert again.code == 1, again.log
    message = again.job("load")["error"]["message"]
    assert "one part's outcome is unknown" in message, message
    assert "--resume" in message and "--reimport load" in message
    assert zoho.emulator.creates("analytics.import") == 1  # nothing sent again
    assert _count(zoho.emulator.rows("analytics", "Customers"), "Import") == 27


async def test_a_part_whose_job_vanished_unseen_is_not_sent_again(start, tmp_path) -> None:
    """A run stopped while a part's Zoho job ran, resumed hours later: Zoho no longer knows
    the job, and no try saw it end, so whether its rows landed can't be known. The part is
    not sent again (the job says what to check and how to send it anyway), on each resume."""
    zoho = await _stopped_while_part_one_runs(start, tmp_path)
    jobs = THREE_PARTS
    zoho.emulator.clock.jump(2 * 3600)  # type: ignore[attr-defined]
    for _ in range(2):
        resumed = await zoho.run(jobs, resume="latest")
        assert resumed.code == 1, resumed.log
        message = resumed.job("load")["error"]["message"]
        assert "no longer has its job" in message and "no try saw it end" in message, message
        assert "--reimport load" in message
        assert zoho.emulator.creates("analytics.import") == 1  # never sent again
    assert _count(zoho.emulator.rows("analytics", "Customers"), "Import") == 27


async def test_a_garbled_answer_to_an_import_create_is_not_taken_for_a_refusal(
    start, tmp_path
) -> None:
    """Zoho created part 1's job, but its answer came back garbled (a proxy, a cut reply):
    whether the rows land can't be known, so no try sends the part again on its own."""
    zoho = await start(EmulatorConfig(time_scale=20.0), tmp=tmp_path)
    write_csv(zoho.tmp / "out/c.csv", customers(60))
    zoho.emulator.faults.corrupt_next("analytics.imports.create_view")
    first = await zoho.run(THREE_PARTS)
    assert first.code == 1, first.log
    assert zoho.emulator.creates("analytics.import") == 1  # created, though nobody heard so
    message = first.job("load")["error"]["message"]
    assert "--reimport load" in message, message
    assert "may have started the job" in message and "No row had landed before." in message
    for _ in range(500):  # the job ends at Zoho: its 27 rows land
        if _count(zoho.emulator.rows("analytics", "Customers"), "Import") == 27:
            break
        await asyncio.sleep(0.01)
    for _ in range(2):
        resumed = await zoho.run(THREE_PARTS, resume="latest")
        assert resumed.code == 1, resumed.log
        assert zoho.emulator.creates("analytics.import") == 1
    assert _count(zoho.emulator.rows("analytics", "Customers"), "Import") == 27
