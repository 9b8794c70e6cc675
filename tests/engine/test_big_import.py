"""A 250 MB import: three parts under Zoho's 100 MB cap, modes right, every row once."""

from __future__ import annotations

import csv

NOTE = 'line one, with "quotes"\nline two\n' + "y" * 950


def generate(path, target_bytes: int) -> int:
    rows = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Id", "Customer", "Region", "Amount", "Note"])
        while handle.tell() < target_bytes:
            for _ in range(1000):
                writer.writerow([rows, f"Customer {rows}", "West", rows % 997, NOTE])
                rows += 1
    return rows


async def test_250_mb_in_three_parts(zoho) -> None:
    path = zoho.tmp / "out/big.csv"
    rows = generate(path, 250 * 1024 * 1024)
    run = await zoho.run("""\
        big:
          import: {to: analytics, table: Big, file: big.csv, create_table: true,
                   mode: truncateadd}
        """)
    assert run.code == 0, run.log
    remotes = run.job("big")["remote_jobs"]
    assert [r["mode"] for r in remotes] == ["create", "append", "append"]
    assert [r["part"] for r in remotes] == [1, 2, 3]
    imported = run.job("big")["imported"]
    assert imported["rows"] == imported["rows_landed"] == imported["added"] == rows
    stored = zoho.emulator.rows("analytics", "Big")
    assert len(stored) == rows
    assert stored[-1]["Id"] == rows - 1 and stored[-1]["Note"] == NOTE


async def test_truncateadd_into_an_existing_table_truncates_once(zoho) -> None:
    path = zoho.tmp / "out/mid.csv"
    rows = generate(path, 3 * 1024 * 1024)
    run = await zoho.run(f"""\
        mid:
          import: {{to: analytics, table: Customers, file: mid.csv, mode: truncateadd,
                   max_part_size: {1024 * 1024}}}
        """)
    assert run.code == 0, run.log
    modes = [r["mode"] for r in run.job("mid")["remote_jobs"]]
    assert modes[0] == "truncateadd" and set(modes[1:]) == {"append"} and len(modes) >= 3
    assert len(zoho.emulator.rows("analytics", "Customers")) == rows
