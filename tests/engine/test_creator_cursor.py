"""Creator's record cursor lives 15 minutes: a chained export keeps its slot from the first
batch to the last, and a cursor that died all the same starts the export again from the first
batch (three starts in all), never handing over a file with batches missing."""

from __future__ import annotations

import dataclasses
import itertools

from zsync.emulator import EmulatorConfig

from .conftest import TIME_SCALE, Harness

ORDERS = """\
orders:
  export: {from: creator, report: All_Orders}
  output: orders.csv
"""
# Batches of 100: the demo's orders come in three.
CONFIG = dataclasses.replace(EmulatorConfig(time_scale=TIME_SCALE), creator_max_batch=100)
CURSOR_LIFETIME = CONFIG.creator_cursor_lifetime / TIME_SCALE  # real seconds


def merged_batches(zoho: Harness, count: int = 3) -> bytes:
    truth = zoho.emulator.ground_truth
    batches = [truth.creator_report("All_Orders", batch=n) for n in range(1, count + 1)]
    return batches[0] + b"".join(b.partition(b"\n")[2] for b in batches[1:])


def first_batches(run) -> int:  # type: ignore[no-untyped-def]
    return sum(remote["cursor"] is None for remote in run.job("orders")["remote_jobs"])


async def test_a_dead_cursor_starts_the_export_again_from_the_first_batch(start, tmp_path) -> None:
    zoho = await start(CONFIG, tmp=tmp_path)
    # The first batch's download takes longer than its cursor lives.
    zoho.emulator.faults.slow_next("creator.bulk_read.result", n=1, delay=CURSOR_LIFETIME + 0.5)
    run = await zoho.run(ORDERS)
    assert run.code == 0, run.log
    assert (run.out / "orders.csv").read_bytes() == merged_batches(zoho)
    assert any("record cursor" in line and "from the first page" in line for line in run.log)
    assert first_batches(run) == 2
    assert run.job("orders")["re_exported"] is True


async def test_a_cursor_that_keeps_dying_fails_the_job_after_three_starts(start, tmp_path) -> None:
    zoho = await start(dataclasses.replace(CONFIG, creator_cursor_lifetime=0.0), tmp=tmp_path)
    run = await zoho.run(ORDERS)
    assert run.code == 1, run.log
    job = run.job("orders")
    assert job["status"] == "failed"
    assert "died 3 times" in job["error"]["message"], job["error"]
    assert first_batches(run) == 3
    assert not (run.out / "orders.csv").exists()  # nothing partial


async def test_chained_exports_keep_their_slot_from_first_batch_to_last(start, tmp_path) -> None:
    zoho = await start(CONFIG, tmp=tmp_path)
    jobs = "".join(
        f"o{n}:\n  export: {{from: creator, report: All_Orders}}\n  output: o{n}.csv\n"
        for n in range(3)
    )
    path = zoho.spec(jobs)
    text = path.read_text()
    one_at_a_time = "    limits:\n      exports: 1\n      requests:\n        create: {calls: 5"
    path.write_text(
        text.replace("    limits:\n      requests:\n        create: {calls: 5", one_at_a_time)
    )
    assert one_at_a_time in path.read_text()
    run = await zoho.run_file(path)
    assert run.code == 0, run.log
    # With one slot, each job's batches are all created before the next job's first one:
    # a batch's cursor never waits behind another job.
    spans = sorted(
        (min(created), max(created))
        for name in ("o0", "o1", "o2")
        for created in [[r["created_at"] for r in run.job(name)["remote_jobs"]]]
    )
    assert all(len(run.job(name)["remote_jobs"]) == 3 for name in ("o0", "o1", "o2"))
    assert all(earlier[1] < later[0] for earlier, later in itertools.pairwise(spans)), spans
    for name in ("o0", "o1", "o2"):
        assert (run.out / f"{name}.csv").read_bytes() == merged_batches(zoho)
