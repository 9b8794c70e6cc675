"""Introspection, per-instance state, the standalone server and the deterministic data."""

from __future__ import annotations

import asyncio
import io
import time
from dataclasses import replace

from zsync.emulator import Emulator, EmulatorConfig, ManualClock, running_emulator, serve_async

from .conftest import EmulatorHandle


async def test_counters_peaks_and_creates(emu: EmulatorHandle):
    for _ in range(3):
        await emu.call(
            "POST",
            "/crm/bulk/v8/read",
            json={"query": {"module": {"api_name": "Leads"}, "fields": ["Email"]}},
        )
    await emu.call("POST", "/crm/bulk/v8/read", json={"query": {"module": {"api_name": "Deals"}}})
    await emu.call("GET", "/crm/nothing/here")
    e = emu.emulator
    assert e.request_count("crm.bulk_read.create") == 4
    assert e.request_count("oauth.*") == 1
    assert e.requests["unmatched"] == 1
    assert e.peak_jobs("crm.read") == 4
    assert e.creates("crm.read", "Leads") == 3
    per_definition = e.creates_per_definition()
    assert sorted(per_definition.values()) == [1, 3]
    emu.advance(60)
    await emu.call("POST", "/crm/bulk/v8/read", json={"query": {"module": {"api_name": "Deals"}}})
    assert e.peak_jobs("crm.read") == 4  # the earlier four had finished
    assert [r.status for r in e.stats.log[-2:]] == [404, 201]


async def test_instances_are_independent(start_emulator):
    one = await start_emulator()
    two = await start_emulator()
    assert one.base_url != two.base_url
    await one.call("POST", "/crm/bulk/v8/read", json={"query": {"module": {"api_name": "Leads"}}})
    assert one.emulator.creates() == 1 and two.emulator.creates() == 0
    token = await one.token()
    status, _, _ = await two.call(
        "GET", "/crm/v8/org", headers={"Authorization": f"Zoho-oauthtoken {token}"}
    )
    assert status == 401


async def test_metadata_ids_are_stable_across_restarts(start_emulator):
    first = await start_emulator()
    second = await start_emulator()
    assert first.emulator.demo() == second.emulator.demo()
    replies = []
    for emu in (first, second):
        paths = [
            "/crm/v8/org",
            "/crm/v8/settings/modules",
            "/crm/v8/settings/fields?module=Contacts",
        ]
        replies.append([(await emu.call("GET", path))[1] for path in paths])
    assert replies[0] == replies[1]
    org, modules, fields = replies[0]
    assert org["org"][0]["id"] == first.emulator.crm.org_id
    assert {m["api_name"] for m in modules["modules"]} >= {
        "Leads",
        "Contacts",
        "Accounts",
        "Deals",
        "Events",
    }
    account = next(f for f in fields["fields"] if f["api_name"] == "Account_Name")
    assert account["lookup"]["module"]["api_name"] == "Accounts"
    status, reply, _ = await first.call("GET", "/crm/v8/settings/fields")
    assert (status, reply["code"]) == (400, "REQUIRED_PARAM_MISSING")
    _, bigin, _ = await first.call("GET", "/bigin/v2/settings/modules")
    assert {m["api_name"] for m in bigin["modules"]} == {
        "Accounts",
        "Contacts",
        "Deals",
        "Events",
        "Tasks",
        "Calls",
        "Products",
        "Activities",
    }
    accounts = next(m for m in bigin["modules"] if m["api_name"] == "Accounts")
    assert (accounts["plural_label"], accounts["singular_label"]) == ("Companies", "Company")


async def test_users_current_user_and_types(start_emulator):
    # The CRM SDK calls `users?type=CurrentUser` (then `org`) after every token it obtains.
    emu = await start_emulator()
    status, reply, _ = await emu.call("GET", "/crm/v8/users?type=CurrentUser")
    assert status == 200
    [me] = reply["users"]
    assert me["id"] == emu.emulator.crm.creator["id"]
    assert (me["full_name"], me["email"]) == ("Patricia Boyle", "patricia.b@zylker.com")
    assert me["profile"]["name"] == "Administrator" and me["status"] == "active"
    assert reply["info"] == {"per_page": 200, "count": 1, "page": 1, "more_records": False}
    status, reply, _ = await emu.call("GET", "/crm/v2/users")  # AllUsers by default
    assert status == 200 and reply["info"]["count"] == len(reply["users"]) > 1
    assert len({u["id"] for u in reply["users"]}) == len(reply["users"])
    status, reply, _ = await emu.call("GET", "/bigin/v2/users?type=AdminUsers")
    assert status == 200 and [u["email"] for u in reply["users"]] == [me["email"]]
    status, reply, _ = await emu.call("GET", "/crm/v8/users?type=DeletedUsers")
    assert (status, reply) == (204, b"")
    status, reply, _ = await emu.call("GET", "/crm/v8/users?type=Everyone")
    assert (status, reply["code"]) == (400, "INVALID_DATA")
    limited = await start_emulator(EmulatorConfig(scopes=("ZohoCRM.bulk.read",)))
    status, reply, _ = await limited.call("GET", "/crm/v8/users?type=CurrentUser")
    assert (status, reply["code"]) == (401, "OAUTH_SCOPE_MISMATCH")
    assert emu.emulator.request_count("crm.metadata.users") == 4


def test_data_is_deterministic_and_seeded():
    a, b = Emulator(clock=ManualClock()), Emulator(clock=ManualClock())
    other = Emulator(EmulatorConfig(seed=7), ManualClock())
    assert a.ground_truth.crm_bulk_read("Contacts") == b.ground_truth.crm_bulk_read("Contacts")
    assert a.ground_truth.crm_bulk_read("Contacts") != other.ground_truth.crm_bulk_read("Contacts")
    assert a.ground_truth.analytics_view("Sales") == b.ground_truth.analytics_view("Sales")
    statuses = {r["Status"] for r in a.rows("creator", "Orders")}
    assert "Open" in statuses


def test_millions_of_rows_are_generated_lazily():
    config = replace(EmulatorConfig().with_sizes(crm_Leads=5_000_000), page_size=1000)
    emulator = Emulator(config, ManualClock())
    started = time.monotonic()
    table = emulator.table("crm", "Leads")
    assert len(table) == 5_000_000
    last = table.get(4_999_999)
    assert last["id"].endswith("5000000")
    page = emulator.ground_truth.crm_bulk_read("Leads", ["Last_Name"], page=1999)
    lines = page.split(b"\r\n")
    assert len(lines) == 1002 and lines[1].startswith(table.get(1_998_000)["id"].encode())
    assert time.monotonic() - started < 30


async def test_serve_prints_banner_and_stops():
    out = io.StringIO()
    stop = asyncio.Event()
    task = asyncio.create_task(serve_async("127.0.0.1", 0, None, True, out, stop))
    for _ in range(100):
        if out.getvalue():
            break
        await asyncio.sleep(0.01)
    text = out.getvalue()
    stop.set()
    await task
    emulator = Emulator()
    for value in emulator.demo().values():
        if value:
            assert value in text
    assert "http://127.0.0.1:" in text


async def test_running_emulator_default_config():
    async with running_emulator() as running:
        assert running.base_url.startswith("http://127.0.0.1:")
        assert running.port > 0 and running.emulator.config == EmulatorConfig()
