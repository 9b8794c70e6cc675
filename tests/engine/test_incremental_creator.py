"""Incremental Creator exports against the emulator: each run exports exactly the records
modified since the last successful one (minus the overlap), compared as date-times in
Creator's `dd-MMM-yyyy HH:mm:ss`; a failed run moves no watermark."""

from __future__ import annotations

from datetime import timedelta

from zsync.emulator import FaultConfig
from zsync.emulator.faults import Faults
from zsync.watermarks import parse_moment

from .conftest import Harness
from .test_incremental import exported_ids

ORDERS = """\
orders:
  export:
    from: creator
    report: All_Orders
    fields: [Status, Amount, Modified_Time]
    criteria: Status != "Nothing" || Amount < 0
    incremental: {field: Modified_Time, overlap: 10m}
  output: orders.csv
"""
OVERLAP = timedelta(minutes=10)


def modified_since(zoho: Harness, since: str | None) -> set[str]:
    """Ground truth: the Orders a bulk read filtered from `since` must return."""
    bound = None if since is None else parse_moment(since)
    return {
        str(row["ID"])
        for row in zoho.emulator.rows("creator", "Orders")
        if bound is None or parse_moment(str(row["Modified_Time"])) >= bound  # type: ignore[operator]
    }


async def test_three_runs_export_exactly_the_new_and_changed_records(zoho: Harness) -> None:
    first = await zoho.run(ORDERS)
    assert first.code == 0, first.log
    record = first.job("orders")["incremental"]
    assert (record["previous"], record["since"]) == (None, None)
    assert exported_ids(first.out / "orders.csv", "ID") == modified_since(zoho, None)
    watermark = record["watermark"]
    stamps = [str(r["Modified_Time"]) for r in zoho.emulator.rows("creator", "Orders")]
    assert watermark == max(stamps, key=parse_moment)  # type: ignore[arg-type]
    assert watermark != max(stamps)  # the latest by time is not the greatest text

    for changed, added in ((7, 3), (2, 5)):
        touched = set(zoho.emulator.touch("creator", "All_Orders", changed=changed, added=added))
        run = await zoho.run(ORDERS)
        assert run.code == 0, run.log
        record = run.job("orders")["incremental"]
        assert record["previous"] == watermark
        assert parse_moment(record["since"]) == parse_moment(watermark) - OVERLAP  # type: ignore[operator]
        assert record["since"][2] == "-"  # sent as Creator writes it: dd-MMM-yyyy HH:mm:ss
        ids = exported_ids(run.out / "orders.csv", "ID")
        assert ids == modified_since(zoho, record["since"])
        assert touched <= ids
        assert len(ids) < len(modified_since(zoho, None))
        watermark = record["watermark"]
        assert parse_moment(watermark) > parse_moment(record["previous"])  # type: ignore[operator]
    sent = zoho.emulator.stats.created[-1].definition["criteria"]
    assert sent.startswith('(Status != "Nothing" || Amount < 0) && Modified_Time >= \'')


async def test_a_failed_run_moves_no_watermark_and_the_next_exports_its_records(
    zoho: Harness,
) -> None:
    assert (await zoho.run(ORDERS)).code == 0
    touched = set(zoho.emulator.touch("creator", "Orders", changed=4, added=2))
    working = zoho.emulator.faults
    zoho.emulator.faults = Faults(FaultConfig(job_failure_rate=1.0))
    failed = await zoho.run(ORDERS)
    zoho.emulator.faults = working
    assert failed.code == 1
    assert failed.job("orders")["incremental"]["watermark"] is None
    after = await zoho.run(ORDERS)
    assert after.code == 0, after.log
    record = after.job("orders")["incremental"]
    assert record["previous"] == failed.job("orders")["incremental"]["previous"]
    assert touched <= exported_ids(after.out / "orders.csv", "ID")
    assert exported_ids(after.out / "orders.csv", "ID") == modified_since(zoho, record["since"])
