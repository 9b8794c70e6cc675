"""Zoho's per-minute limits: zsync keeps to them instead of earning 429s, and waits one out.

The emulator enforces CRM's 10 downloads a minute (then a minute's block) and Creator's 5
creates and 10 downloads a minute, over emulated time; at a time scale of 120 its minute lasts
half a real second, and the job file's `limits.requests` say the same to zsync.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time

from zsync.emulator import EmulatorConfig

SCALE = 120.0
MINUTE = 60.0 / SCALE  # real seconds of one emulated minute

JOBS = """\
leads: {export: {from: crm, module: Leads, fields: [Last_Name, Email]}, output: leads.csv}
contacts: {export: {from: crm, module: Contacts, fields: [Last_Name]}, output: contacts.csv}
deals: {export: {from: crm, module: Deals, fields: [Deal_Name]}, output: deals.csv}
orders: {export: {from: creator, report: All_Orders}, output: orders.csv}
"""


def _config() -> EmulatorConfig:
    # 10 rows a CRM page and 5 a Creator batch: 12 + 15 + 8 pages, 46 batches.
    config = EmulatorConfig(time_scale=SCALE, page_size=10).with_sizes(creator_Orders=230)
    return dataclasses.replace(config, creator_max_batch=5)


def _windows_needed(calls: int, per_window: int) -> int:
    """Whole windows that must pass before the last of `calls` may go, `per_window` a window."""
    return math.ceil(calls / per_window) - 1


async def test_many_short_pages_keep_to_the_limits_without_a_429(start, tmp_path) -> None:
    zoho = await start(_config(), tmp=tmp_path)
    crm_pages = sum(
        math.ceil(zoho.emulator.config.size("crm", m) / 10) for m in ("Leads", "Contacts", "Deals")
    )
    batches = math.ceil(zoho.emulator.config.size("creator", "Orders") / 5)
    assert (crm_pages, batches) == (35, 46)
    # The time the limits impose: Creator's batches follow one another, 5 creates a minute,
    # so the 46th create waits 9 minutes (and is the only one of its minute: little is left
    # to do after it); CRM's 35 downloads need 3 minutes, Creator's 46 need 4.
    imposed = MINUTE * max(_windows_needed(batches, 5), _windows_needed(crm_pages, 10))
    assert imposed == 9 * MINUTE == 4.5

    started = time.monotonic()
    run = await zoho.run(JOBS)
    elapsed = time.monotonic() - started

    assert run.code == 0, run.log
    assert {job["status"] for job in run.manifest["jobs"].values()} == {"succeeded"}
    truth = zoho.emulator.ground_truth
    parts = [truth.creator_report("All_Orders", batch=n) for n in range(1, batches + 1)]
    merged = parts[0] + b"".join(part.partition(b"\n")[2] for part in parts[1:])
    assert (run.out / "orders.csv").read_bytes() == merged
    assert zoho.emulator.limits.refused == [], "zsync waited for room: Zoho never said 429"
    # Kept to the limits (no faster than they allow), and lost little to them.
    print(f"elapsed {elapsed:.2f} s, imposed {imposed:.2f} s")
    # (The upper bound leaves room for a busy CI machine; bench/ measures the speed.)
    assert imposed <= elapsed <= imposed * 1.25, (elapsed, imposed)


async def test_a_429_is_waited_out_once_per_window(start, tmp_path) -> None:
    """A job file that allows more than Zoho does (or another tool sharing the organisation)
    meets CRM's 429: zsync waits out the minute's block instead of failing, and sends nothing
    more until it is over."""
    # Jobs that end as soon as they start: pages come faster than 10 a minute.
    zoho = await start(dataclasses.replace(_config(), job_wait_seconds=0.0), tmp=tmp_path)
    spec = zoho.spec("".join(JOBS.splitlines(keepends=True)[:3]))
    text = spec.read_text().replace("{calls: 10, per: 0.5}", "{calls: 25, per: 0.5}")
    assert text != spec.read_text(), "the CRM connection's download limit was found"
    spec.write_text(text)

    run = await zoho.run_file(spec)

    assert run.code == 0, run.log
    refused = [at for kind, at in zoho.emulator.limits.refused if kind == "crm.download"]
    assert refused, "allowing 25 a minute against Zoho's 10 must meet a 429"
    # Requests already on their way when the first 429 came meet it too (one per job at
    # most, within an emulated second); after it, nothing goes until the block is over.
    bursts: list[list[float]] = []
    for at in refused:
        if bursts and at - bursts[-1][0] < 1.0:
            bursts[-1].append(at)
        else:
            bursts.append([at])
    assert all(len(burst) <= 3 for burst in bursts), bursts
    starts = [burst[0] for burst in bursts]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(gap >= 60.0 for gap in gaps), f"429s again within the minute's block: {gaps}"
    truth = zoho.emulator.ground_truth
    for name, module, fields in (
        ("leads", "Leads", ["Last_Name", "Email"]),
        ("contacts", "Contacts", ["Last_Name"]),
        ("deals", "Deals", ["Deal_Name"]),
    ):
        assert (run.out / f"{name}.csv").read_bytes() == truth.crm_records(module, fields), name
