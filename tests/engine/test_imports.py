"""Imports over real HTTP: Analytics (parts, modes, new tables) and CRM bulk write."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest

from zsync.emulator import EmulatorConfig
from zsync.plan import build_plan
from zsync.runner import run_plan
from zsync.runs import started_run
from zsync.spec import load_spec

from .conftest import TIME_SCALE


def write_csv(path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue())


def customers(n: int, start: int = 0, note: str = "") -> list[list[str]]:
    return [["Customer", "Region", "Segment", "Since"]] + [
        [f"Import {i}{note}", "North", "Consumer", "2024-02-01"] for i in range(start, start + n)
    ]


async def test_append_into_an_existing_table(zoho) -> None:
    before = len(zoho.emulator.rows("analytics", "Customers"))
    write_csv(zoho.tmp / "out/new_customers.csv", customers(7))
    run = await zoho.run("""\
        load:
          import: {to: analytics, table: Customers, file: new_customers.csv}
        """)
    assert run.code == 0, run.log
    rows = zoho.emulator.rows("analytics", "Customers")
    assert len(rows) == before + 7
    assert [r["Customer"] for r in rows[-7:]] == [f"Import {i}" for i in range(7)]
    job = run.job("load")
    assert job["imported"]["rows"] == job["imported"]["rows_landed"] == 7
    assert job["imported"]["added"] == 7
    assert job["remote_jobs"][0]["summary"]["importSummary"]["successRowCount"] == 7


async def test_new_table_then_truncateadd(zoho) -> None:
    write_csv(zoho.tmp / "out/t.csv", customers(5))
    run = await zoho.run("""\
        load:
          import: {to: analytics, table: Fresh, file: t.csv, create_table: true}
        """)
    assert run.code == 0, run.log
    assert len(zoho.emulator.rows("analytics", "Fresh")) == 5
    write_csv(zoho.tmp / "out/t.csv", customers(3, start=100))
    run = await zoho.run("""\
        load:
          import: {to: analytics, table: Fresh, file: t.csv, mode: truncateadd, create_table: true}
        """)
    assert run.code == 0, run.log
    assert [r["Customer"] for r in zoho.emulator.rows("analytics", "Fresh")] == [
        "Import 100",
        "Import 101",
        "Import 102",
    ]


async def test_missing_table_without_create_is_a_config_error(zoho) -> None:
    write_csv(zoho.tmp / "out/t.csv", customers(1))
    run = await zoho.run("""\
        load:
          import: {to: analytics, table: Nope, file: t.csv}
        """)
    assert run.code == 1
    assert run.job("load")["error"]["class"] == "config"
    assert "create_table: true" in run.job("load")["error"]["message"]


async def test_updateadd_with_matching_columns(zoho) -> None:
    write_csv(zoho.tmp / "out/t.csv", customers(4))
    await zoho.run("""\
        load:
          import: {to: analytics, table: Upd, file: t.csv, create_table: true}
        """)
    changed = customers(4)
    changed[1][1] = "South"  # Import 0 moves
    changed.append(["Import 99", "East", "Corporate", "2024-03-01"])
    write_csv(zoho.tmp / "out/t.csv", changed)
    run = await zoho.run("""\
        load:
          import:
            to: analytics
            table: Upd
            file: t.csv
            mode: updateadd
            matching_columns: [Customer]
        """)
    assert run.code == 0, run.log
    rows = {r["Customer"]: r["Region"] for r in zoho.emulator.rows("analytics", "Upd")}
    assert rows == {
        "Import 0": "South",
        "Import 1": "North",
        "Import 2": "North",
        "Import 3": "North",
        "Import 99": "East",
    }


async def test_big_file_goes_in_parts_truncating_once(zoho) -> None:
    # Quoted fields with newlines, so a careless split would cut records in half.
    rows = customers(300, note=' "quoted"\nsecond line')
    write_csv(zoho.tmp / "out/big.csv", rows)
    size = (zoho.tmp / "out/big.csv").stat().st_size
    run = await zoho.run(f"""\
        load:
          import:
            to: analytics
            table: Customers
            file: big.csv
            mode: truncateadd
            max_part_size: {size // 3 + 200}
        """)
    assert run.code == 0, run.log
    stored = zoho.emulator.rows("analytics", "Customers")
    assert [r["Customer"] for r in stored] == [r[0] for r in rows[1:]]
    remotes = run.job("load")["remote_jobs"]
    assert len(remotes) == 3
    assert [r["mode"] for r in remotes] == ["truncateadd", "append", "append"]
    assert remotes[0]["first_row"] == 1 and remotes[-1]["last_row"] == 300
    assert run.job("load")["imported"]["rows_landed"] == 300


async def test_a_failing_part_stops_the_rest_and_says_what_landed(zoho) -> None:
    before = len(zoho.emulator.rows("analytics", "Sales"))
    rows = [["Date", "Region", "Product", "Customer", "Units", "Amount"]]
    rows += [["2024-01-02", "West", "Mouse", f"C{i}", str(i), "1.5"] for i in range(60)]
    rows[45][4] = "not a number"  # in the second part: under on_error abort it ends 1003
    write_csv(zoho.tmp / "out/sales.csv", rows)
    size = (zoho.tmp / "out/sales.csv").stat().st_size
    run = await zoho.run(f"""\
        load:
          import: {{to: analytics, table: Sales, file: sales.csv, max_part_size: {size // 2 + 60}}}
        """)
    assert run.code == 1
    job = run.job("load")
    assert job["status"] == "failed"
    assert job["imported"]["rows_landed"] == job["remote_jobs"][0]["last_row"]
    assert "part 2 of" in job["error"]["message"]
    assert job["error"]["code"] == "1003"  # the part's Zoho job ended ERROR OCCURRED
    assert f"rows 1-{job['imported']['rows_landed']}" in job["error"]["message"]
    assert len(zoho.emulator.rows("analytics", "Sales")) == before + job["imported"]["rows_landed"]
    assert len(job["remote_jobs"]) == 2


async def test_export_then_import_in_one_run(zoho) -> None:
    run = await zoho.run("""\
        contacts:
          export: {from: crm, module: Contacts, fields: [Last_Name, Email]}
          output: crm/contacts.csv
        to_analytics:
          needs: [contacts]
          import:
            to: analytics
            table: CRM_Contacts
            file: crm/contacts.csv
            mode: truncateadd
            create_table: true
        """)
    assert run.code == 0, run.log
    exported = list(csv.reader(io.StringIO((run.out / "crm/contacts.csv").read_text())))
    stored = zoho.emulator.rows("analytics", "CRM_Contacts")
    assert [r["Email"] for r in stored] == [row[2] for row in exported[1:]]


async def test_bulk_write_with_invalid_rows_exits_3(zoho) -> None:
    before = len(zoho.emulator.rows("crm", "Leads"))
    write_csv(
        zoho.tmp / "out/leads.csv",
        [
            ["Last_Name", "Email", "Annual_Revenue"],
            ["Doe", "doe@example.com", "1000"],
            ["", "nobody@example.com", "5"],  # Last_Name is mandatory
            ["Roe", "roe@example.com", "lots"],  # not a number
            ["Poe", "poe@example.com", "42"],
        ],
    )
    run = await zoho.run("""\
        leads_in:
          import: {to: crm, module: Leads, file: leads.csv}
          output: crm/leads_in
        """)
    assert run.code == 3, run.log
    assert run.manifest["outcome"] == "partial"
    job = run.job("leads_in")
    assert job["status"] == "completed_with_errors"
    assert (job["imported"]["added"], job["imported"]["skipped"]) == (2, 2)
    assert job["imported"]["failed"] == 0
    assert len(zoho.emulator.rows("crm", "Leads")) == before + 2
    results = list(csv.DictReader(io.StringIO((run.out / "crm/leads_in.results.csv").read_text())))
    assert [r["STATUS"] for r in results] == ["ADDED", "SKIPPED", "SKIPPED", "ADDED"]
    assert results[0]["RECORD_ID"] and results[1]["ERRORS"]
    # The end of the run says why, row by row, and where to look for the rest.
    refused = [line for line in run.log if line.startswith("leads_in: refused ")]
    assert refused == [
        f"leads_in: refused row {n}: {' '.join(results[n - 1]['ERRORS'].split())}" for n in (2, 3)
    ]
    assert run.log[-1].startswith("next: the rows Zoho refused")


async def test_bulk_write_row_errors_allowed(zoho) -> None:
    write_csv(zoho.tmp / "out/leads.csv", [["Last_Name"], ["Ok"], [""]])
    run = await zoho.run("""\
        leads_in:
          import: {to: crm, module: Leads, file: leads.csv, allow_row_errors: true}
        """)
    assert run.code == 0, run.log
    assert run.job("leads_in")["status"] == "succeeded"
    assert (run.out / "leads_in.results.csv").is_file()


async def test_bulk_write_upsert_and_split_by_record_cap(start, tmp_path, monkeypatch) -> None:
    import zsync.imports

    monkeypatch.setattr(zsync.imports, "MAX_RECORDS_PER_FILE", 3)
    zoho = await start(EmulatorConfig(time_scale=TIME_SCALE), tmp=tmp_path)
    leads = zoho.emulator.rows("crm", "Leads")
    rows = [["Email", "Last_Name"]] + [[leads[i]["Email"], f"Renamed {i}"] for i in range(4)]
    rows += [[f"new{i}@example.com", f"New {i}"] for i in range(3)]
    write_csv(zoho.tmp / "out/up.csv", rows)
    before = len(leads)
    run = await zoho.run("""\
        up:
          import: {to: crm, module: Leads, file: up.csv, operation: upsert, find_by: Email}
        """)
    assert run.code == 0, run.log
    after = zoho.emulator.rows("crm", "Leads")
    assert len(after) == before + 3
    assert [after[i]["Last_Name"] for i in range(4)] == [f"Renamed {i}" for i in range(4)]
    job = run.job("up")
    assert len(job["remote_jobs"]) == 3  # 7 records, 3 per file
    assert (job["imported"]["added"], job["imported"]["updated"]) == (3, 4)


@pytest.mark.parametrize("state_url", ["sqlite", "postgres"], indirect=True)
async def test_a_lost_create_answer_never_doubles_an_append(zoho) -> None:
    before = len(zoho.emulator.rows("analytics", "Customers"))
    write_csv(zoho.tmp / "out/c.csv", customers(6))
    # Zoho creates the job, then the connection drops before its answer arrives.
    zoho.emulator.faults.reset_next("analytics.imports.create_view", n=1)
    run = await zoho.run("""\
        load:
          import: {to: analytics, table: Customers, file: c.csv}
        """)
    assert run.code == 1
    job = run.job("load")
    assert job["error"]["class"] == "transient"
    assert "could import these rows twice" in job["error"]["message"]
    assert job["remote_jobs"][0]["id"] is None  # intent recorded, id never known
    assert zoho.emulator.creates("analytics.import") == 1
    await asyncio.sleep(0.2)  # the job Zoho started runs on (60 emulated seconds)
    zoho.emulator.settle()
    assert len(zoho.emulator.rows("analytics", "Customers")) == before + 6


async def test_a_lone_truncateadd_part_is_safe_to_repeat(zoho) -> None:
    write_csv(zoho.tmp / "out/c.csv", customers(6))
    zoho.emulator.faults.reset_next("analytics.imports.create_view", n=1)
    run = await zoho.run("""\
        load:
          import: {to: analytics, table: Customers, file: c.csv, mode: truncateadd}
        """)
    assert run.code == 0, run.log
    assert zoho.emulator.creates("analytics.import") == 2
    await asyncio.sleep(0.2)  # the job Zoho started runs on (60 emulated seconds)
    zoho.emulator.settle()
    assert [r["Customer"] for r in zoho.emulator.rows("analytics", "Customers")] == [
        f"Import {i}" for i in range(6)
    ]


@pytest.mark.parametrize("state_url", ["sqlite", "postgres"], indirect=True)
async def test_a_lost_bulk_write_answer_never_doubles_an_insert(zoho) -> None:
    before = len(zoho.emulator.rows("crm", "Leads"))
    write_csv(zoho.tmp / "out/l.csv", [["Last_Name"], ["One"], ["Two"]])
    zoho.emulator.faults.reset_next("crm.bulk_write.create", n=1)
    run = await zoho.run("""\
        leads:
          import: {to: crm, module: Leads, file: l.csv}
        """)
    assert run.code == 1
    assert "bulk write jobs of CRM module 'Leads'" in run.job("leads")["error"]["message"]
    assert zoho.emulator.creates("crm.write") == 1
    await asyncio.sleep(0.2)  # the job Zoho started runs on (60 emulated seconds)
    zoho.emulator.settle()
    assert len(zoho.emulator.rows("crm", "Leads")) == before + 2


async def test_an_import_file_swapped_for_a_link_elsewhere_is_refused(
    zoho, tmp_path_factory
) -> None:
    secret = tmp_path_factory.mktemp("elsewhere") / "secret.csv"  # beside the job's folder
    secret.write_text("Customer,Region\nsecret,North\n")
    out = zoho.tmp / "out"
    out.mkdir(exist_ok=True)
    (out / "in.csv").write_text("Customer,Region\nok,North\n")
    path = zoho.spec("""\
        load:
          import: {to: analytics, table: Customers, file: in.csv}
        """)
    # Validated while in.csv is a plain file; a link by the time the job starts.
    spec = load_spec(path, {})
    (out / "in.csv").unlink()
    (out / "in.csv").symlink_to(secret)
    plan = build_plan(spec)
    async with started_run(plan, zoho.tmp / ".zsync") as recorder:
        code = await run_plan(plan, recorder, zoho.tmp / ".zsync")
        error = recorder.jobs["load"].error
    assert code == 1
    assert error is not None and error.error_class == "config"
    assert "outside the directories imports may read" in error.message
    assert zoho.emulator.creates() == 0
