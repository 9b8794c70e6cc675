"""Incremental exports against the emulator: each run exports exactly the rows modified since
the last successful one (minus the overlap); a failed run moves no watermark; a full refresh
exports everything again."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

from jsonschema import Draft202012Validator

from zsync.commands.plan import as_json, render, state_file, watermarks
from zsync.emulator import EmulatorConfig, FaultConfig
from zsync.emulator.faults import Faults
from zsync.plan import build_plan
from zsync.resources import load_schema
from zsync.runs import STATE_FILE, state_dir_for
from zsync.scheduler import RunOptions
from zsync.spec import load_spec
from zsync.watermarks import moved_back, parse_moment

from .conftest import TIME_SCALE, Harness

CONTACTS = """\
contacts:
  export:
    from: crm
    module: Contacts
    fields: [Last_Name, Modified_Time]
    criteria: {group_operator: or, group: [
      {api_name: Last_Name, comparator: not_equal, value: Nobody},
      {api_name: Last_Name, comparator: equal, value: Nobody}]}
    incremental: {field: Modified_Time, overlap: 10m}
  output: contacts.csv
"""
OVERLAP = timedelta(minutes=10)


def exported_ids(path: Path, column: str = "Id") -> set[str]:
    with path.open(newline="") as handle:
        return {row[column] for row in csv.DictReader(handle)}


def modified_since(zoho: Harness, since: str | None) -> set[str]:
    """Ground truth: the Contacts a bulk read filtered from `since` must return."""
    bound = None if since is None else parse_moment(since)
    return {
        str(row["id"])
        for row in zoho.emulator.rows("crm", "Contacts")
        if bound is None or parse_moment(str(row["Modified_Time"])) >= bound  # type: ignore[operator]
    }


async def test_three_runs_export_exactly_the_new_and_changed_rows(zoho: Harness) -> None:
    first = await zoho.run(CONTACTS)
    assert first.code == 0, first.log
    record = first.job("contacts")["incremental"]
    assert (record["previous"], record["since"]) == (None, None)
    assert exported_ids(first.out / "contacts.csv") == modified_since(zoho, None)
    watermark = record["watermark"]
    assert watermark == max(
        (str(r["Modified_Time"]) for r in zoho.emulator.rows("crm", "Contacts")),
        key=parse_moment,  # type: ignore[arg-type,return-value]
    )

    for changed, added in ((7, 3), (2, 5)):
        touched = set(zoho.emulator.touch("crm", "Contacts", changed=changed, added=added))
        run = await zoho.run(CONTACTS)
        assert run.code == 0, run.log
        record = run.job("contacts")["incremental"]
        assert record["previous"] == watermark
        since = parse_moment(watermark) - OVERLAP  # type: ignore[operator]
        assert parse_moment(record["since"]) == since
        ids = exported_ids(run.out / "contacts.csv")
        assert ids == modified_since(zoho, record["since"])
        assert touched <= ids
        assert len(ids) < len(modified_since(zoho, None))
        watermark = record["watermark"]
        assert parse_moment(watermark) > parse_moment(record["previous"])  # type: ignore[operator]
        Draft202012Validator(load_schema("manifest")).validate(run.manifest)


async def test_a_failed_run_moves_no_watermark_and_the_next_exports_its_rows(
    zoho: Harness,
) -> None:
    assert (await zoho.run(CONTACTS)).code == 0
    touched = set(zoho.emulator.touch("crm", "Contacts", changed=4, added=2))
    working = zoho.emulator.faults
    zoho.emulator.faults = Faults(FaultConfig(job_failure_rate=1.0))
    failed = await zoho.run(CONTACTS)
    zoho.emulator.faults = working
    assert failed.code == 1
    assert failed.job("contacts")["incremental"]["watermark"] is None
    after = await zoho.run(CONTACTS)
    assert after.code == 0, after.log
    record = after.job("contacts")["incremental"]
    assert record["previous"] == failed.job("contacts")["incremental"]["previous"]
    assert touched <= exported_ids(after.out / "contacts.csv")
    assert exported_ids(after.out / "contacts.csv") == modified_since(zoho, record["since"])


async def test_a_run_that_fails_elsewhere_keeps_the_watermark(zoho: Harness) -> None:
    assert (await zoho.run(CONTACTS)).code == 0
    zoho.emulator.touch("crm", "Contacts", changed=3)
    broken = CONTACTS + "broken:\n  export: {from: crm, module: Nowhere}\n  output: x.csv\n"
    run = await zoho.run(broken)
    assert run.code == 1
    assert run.job("contacts")["status"] == "succeeded"
    again = await zoho.run(CONTACTS)
    assert (
        again.job("contacts")["incremental"]["previous"]
        == (run.job("contacts")["incremental"]["previous"])
    )


async def test_full_refresh_exports_every_row_again(zoho: Harness) -> None:
    assert (await zoho.run(CONTACTS)).code == 0
    zoho.emulator.touch("crm", "Contacts", changed=2)
    assert (await zoho.run(CONTACTS)).code == 0
    full = await zoho.run(CONTACTS, options=RunOptions(full_refresh=True))
    assert full.code == 0, full.log
    record = full.job("contacts")["incremental"]
    assert (record["since"], record["full_refresh"]) == (None, True)
    assert exported_ids(full.out / "contacts.csv") == modified_since(zoho, None)
    following = await zoho.run(CONTACTS)
    assert following.job("contacts")["incremental"]["previous"] == record["watermark"]


async def test_full_refresh_of_selected_jobs_leaves_the_others_watermarks(
    zoho: Harness,
) -> None:
    both = CONTACTS + CONTACTS.replace("contacts", "others")
    assert (await zoho.run(both)).code == 0
    full = await zoho.run(both, options=RunOptions(full_refresh=True), select=("contacts",))
    assert full.code == 0, full.log
    assert full.job("contacts")["incremental"]["full_refresh"] is True
    after = await zoho.run(both)
    contacts, others = (after.job(name)["incremental"] for name in ("contacts", "others"))
    assert contacts["previous"] == full.job("contacts")["incremental"]["watermark"]
    assert others["previous"] is not None and others["full_refresh"] is False


async def test_changing_what_a_job_reads_starts_over_but_moving_its_output_does_not(
    zoho: Harness,
) -> None:
    assert (await zoho.run(CONTACTS)).code == 0
    moved = await zoho.run(CONTACTS.replace("contacts.csv", "elsewhere.csv"))
    assert moved.job("contacts")["incremental"]["previous"] is not None
    wider = CONTACTS.replace("[Last_Name, Modified_Time]", "[Last_Name, Email, Modified_Time]")
    wider_run = await zoho.run(wider)
    assert wider_run.job("contacts")["incremental"]["previous"] is None


async def test_bigin_exports_incrementally(start, tmp_path) -> None:
    zoho = await start(EmulatorConfig(time_scale=TIME_SCALE), tmp=tmp_path)
    job = CONTACTS.replace("from: crm", "from: bigin")
    assert (await zoho.run(job)).code == 0
    touched = set(zoho.emulator.touch("bigin", "Contacts", changed=3, added=1))
    run = await zoho.run(job)
    assert run.code == 0, run.log
    assert touched <= exported_ids(run.out / "contacts.csv")
    everything = zoho.emulator.rows("bigin", "Contacts")
    assert len(exported_ids(run.out / "contacts.csv")) < len(everything)


async def test_plan_shows_each_incremental_jobs_watermark(zoho: Harness, monkeypatch) -> None:
    monkeypatch.delenv("ZSYNC_STATE_DIR", raising=False)
    path = zoho.spec(CONTACTS)
    plan = build_plan(load_spec(path, {}))
    assert state_file(plan.spec) == state_dir_for(plan.spec, None) / STATE_FILE
    assert watermarks(plan)["contacts"]["watermark"] is None
    assert "contacts: no watermark yet" in render(plan, "jobs.yaml", watermarks(plan))
    run = await zoho.run_file(path)
    shown = watermarks(plan)["contacts"]
    assert shown["watermark"] == run.job("contacts")["incremental"]["watermark"]
    assert shown["since"] == moved_back(shown["watermark"], OVERLAP.total_seconds())
    assert f"Modified_Time >= {shown['since']}" in render(plan, "jobs.yaml", watermarks(plan))
    assert as_json(plan, watermarks(plan))["jobs"]["contacts"]["incremental"] == shown


ITEMS = """\
load:
  import:
    to: analytics
    table: Items
    file: items.csv
    create_table: true
    mode: updateadd
    matching_columns: [Id]
items:
  needs: [load]
  export: {from: analytics, view: Items, incremental: {column: Last Modified}}
  output: items.csv
queried:
  needs: [load]
  export:
    from: analytics
    sql: 'SELECT "Id", "Last Modified" FROM "Items" WHERE "Id" > 1;'
    incremental: {column: Last Modified}
  output: queried.csv
"""


def write_items(path: Path, stamps: dict[int, str]) -> None:
    lines = ["Id,Name,Last Modified"] + [f"{i},item {i},{at}" for i, at in sorted(stamps.items())]
    path.write_text("\n".join(lines) + "\n")


async def test_analytics_views_and_queries_export_incrementally(zoho: Harness) -> None:
    source = zoho.tmp / "out" / "items.csv"
    source.parent.mkdir(parents=True, exist_ok=True)
    stamps = {i: f"2025-03-01 10:{i:02d}:00" for i in range(1, 21)}
    inputs = zoho.tmp / "in"
    inputs.mkdir()
    jobs = ITEMS.replace("file: items.csv", "file: ../in/items.csv")
    write_items(inputs / "items.csv", stamps)
    first = await zoho.run(jobs)
    assert first.code == 0, first.log
    assert exported_ids(first.out / "items.csv", "Id") == {str(i) for i in stamps}
    assert first.job("items")["incremental"]["watermark"] == "2025-03-01 10:20:00"

    stamps |= {3: "2025-03-01 11:00:00", 5: "2025-03-01 11:00:00", 21: "2025-03-01 11:01:00"}
    write_items(inputs / "items.csv", stamps)
    second = await zoho.run(jobs)
    assert second.code == 0, second.log
    assert second.job("items")["incremental"]["since"] == "2025-03-01 10:15:00"
    expected = {str(i) for i, at in stamps.items() if at >= "2025-03-01 10:15:00"}
    assert exported_ids(second.out / "items.csv", "Id") == expected
    assert exported_ids(second.out / "queried.csv", "Id") == expected - {"1"}
    assert second.job("queried")["incremental"]["watermark"] == "2025-03-01 11:01:00"
