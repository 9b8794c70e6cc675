"""Bigin bulk read over raw HTTP: seed 003's create reply, ICS export, callbacks, 415."""

from __future__ import annotations

import asyncio
import contextlib
import io
import zipfile

from aiohttp import web

from .conftest import EmulatorHandle, snapshot
from .snapshot import assert_same_shape


@contextlib.asynccontextmanager
async def callback_receiver():
    """A tiny server on a free port that records what is POSTed to it."""
    received: list[dict] = []
    arrived = asyncio.Event()

    async def handle(request: web.Request) -> web.Response:
        received.append(await request.json())
        arrived.set()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/callback", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/callback", received, arrived
    finally:
        await runner.cleanup()


def seed_query(emu: EmulatorHandle, fields: list[str]) -> dict:
    state = emu.emulator.bigin
    return {
        "module": "Contacts",
        "criteria": {
            "group": [{"api_name": "Owner.last_name", "comparator": "equal", "value": "Boyle"}],
            "group_operator": "and",
        },
        "page": 1,
        "fields": fields,
        "cvid": state.cvid(state.modules["Contacts"]),
    }


async def test_create_matches_seed_003(emu: EmulatorHandle):
    status, reply, _ = await emu.call(
        "POST",
        "/bigin/bulk/v1/read",
        json={
            "query": {"module": "Contacts", "fields": ["Last_Name", "Account_Name.Account_Name"]}
        },
    )
    assert status == 201
    assert_same_shape(reply, snapshot("bigin_read_create"))
    item = reply["data"][0]
    assert (item["status"], item["code"], item["message"]) == (
        "success",
        "ADDED_SUCCESSFULLY",
        "Added successfully.",
    )
    assert item["details"]["operation"] == "read" and item["details"]["state"] == "ADDED"


async def test_missing_content_type_is_415(emu: EmulatorHandle):
    async with emu.session.post(
        emu.url("/bigin/bulk/v1/read"),
        data=b'{"query": {}}',
        headers={**await emu.headers(), "Content-Type": ""},
    ) as response:
        body = await response.json()
        assert response.status == 415
    assert body == {
        "code": "MEDIA_TYPE_NOT_SUPPORTED",
        "details": {},
        "message": "Media type is not supported.",
        "status": "error",
    }


async def test_callbacks_completed_and_failed(emu: EmulatorHandle):
    fields = ["Last_Name", "Owner", "Owner.last_name", "Company", "Email", "Mobile", "Created_Time"]
    async with callback_receiver() as (url, received, arrived):
        status, reply, _ = await emu.call(
            "POST",
            "/bigin/bulk/v1/read",
            json={"callback": {"url": url, "method": "post"}, "query": seed_query(emu, fields)},
        )
        assert status == 400 and reply["details"]["api_name"] == "Company"  # no such field
        fields.remove("Company")
        status, reply, _ = await emu.call(
            "POST",
            "/bigin/bulk/v1/read",
            json={"callback": {"url": url, "method": "post"}, "query": seed_query(emu, fields)},
        )
        job_id = reply["data"][0]["details"]["id"]
        emu.advance(60)
        await asyncio.wait_for(arrived.wait(), 5)
        payload = received[0]
        expected = snapshot("bigin_callback_completed")
        expected["query"]["fields"].remove("Company")  # Bigin Contacts have no Company field
        assert_same_shape(payload, expected)
        assert (payload["job_id"], payload["state"]) == (job_id, "COMPLETED")
        assert payload["result"]["download_url"] == f"/bigin/bulk/v1/read/{job_id}/result"
        assert emu.emulator.callbacks[0].status == 200

        arrived.clear()
        emu.emulator.faults.fail_next_jobs("bigin.read")
        await emu.call(
            "POST",
            "/bigin/bulk/v1/read",
            json={"callback": {"url": url, "method": "post"}, "query": seed_query(emu, fields)},
        )
        emu.advance(60)
        await asyncio.wait_for(arrived.wait(), 5)
        assert_same_shape(received[1], snapshot("bigin_callback_failed"))
        assert received[1]["state"] == "FAILURE"
        assert received[1]["result"]["error_message"]["status"] == "error"


async def test_ics_export_of_events(emu: EmulatorHandle):
    status, reply, _ = await emu.call(
        "POST",
        "/bigin/bulk/v2/read",
        json={"query": {"module": "Events", "fields": ["Event_Title"]}, "file_type": "ics"},
    )
    assert status == 400 and reply["details"]["api_name"] == "fields"
    criteria = {
        "group_operator": "or",
        "group": [
            {
                "group_operator": "and",
                "group": [
                    {"api_name": "All_day", "comparator": "equal", "value": "false"},
                    {
                        "api_name": "Owner",
                        "comparator": "in",
                        "value": [emu.emulator.bigin.ids.user(0), emu.emulator.bigin.ids.user(1)],
                    },
                ],
            },
            {
                "api_name": "Created_Time",
                "comparator": "greater_equal",
                "value": "2023-01-10T15:30:00+05:30",
            },
        ],
    }
    status, reply, _ = await emu.call(
        "POST",
        "/bigin/bulk/v2/read",
        json={"query": {"module": "Events", "criteria": criteria}, "file_type": "ics"},
    )
    assert status == 201
    job_id = reply["data"][0]["details"]["id"]
    emu.advance(60)
    _, body, _ = await emu.call("GET", f"/bigin/bulk/v2/read/{job_id}")
    count = body["data"][0]["result"]["count"]
    assert 0 < count < 40
    _, data, headers = await emu.call("GET", f"/bigin/bulk/v2/read/{job_id}/result")
    assert headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        content = archive.read(f"{job_id}.ics")
    assert content.count(b"BEGIN:VEVENT") == count
    assert content == emu.emulator.ground_truth.bigin_bulk_read(
        "Events", criteria=criteria, file_type="ics"
    )


async def test_bigin_scopes_need_both(start_emulator):
    from zsync.emulator import EmulatorConfig

    emu = await start_emulator(EmulatorConfig(scopes=("ZohoBigin.bulk.read",)))
    status, reply, _ = await emu.call(
        "POST", "/bigin/bulk/v1/read", json={"query": {"module": "Contacts"}}
    )
    assert (status, reply["code"]) == (401, "OAUTH_SCOPE_MISMATCH")
    emu = await start_emulator(
        EmulatorConfig(scopes=("ZohoBigin.bulk.read", "ZohoBigin.modules.ALL"))
    )
    status, _, _ = await emu.call(
        "POST", "/bigin/bulk/v1/read", json={"query": {"module": "Contacts"}}
    )
    assert status == 201
    status, reply, _ = await emu.call("GET", "/bigin/bulk/v3/read/1")
    assert (status, reply["code"]) == (404, "INVALID_URL_PATTERN")


async def _read_all(emu: EmulatorHandle, query: dict) -> tuple[int, dict, bytes]:
    status, reply, _ = await emu.call("POST", "/bigin/bulk/v2/read", json={"query": query})
    if status != 201:
        return status, reply, b""
    job_id = reply["data"][0]["details"]["id"]
    emu.advance(60)
    _, data, _ = await emu.call("GET", f"/bigin/bulk/v2/read/{job_id}/result")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return status, reply, archive.read(f"{job_id}.csv")


async def test_accounts_is_the_api_name_of_companies(emu: EmulatorHandle):
    # "Accounts in API refers to Companies module in Bigin" (Bigin modules API page).
    status, _, content = await _read_all(emu, {"module": "Accounts"})
    assert status == 201
    assert content.startswith(b"Id,Account_Name,Phone,")
    assert content.count(b"\r\n") == 1 + 30
    assert content == emu.emulator.ground_truth.bigin_bulk_read("Accounts")
    # Contacts look companies up through Account_Name, as in seed 003's sample.
    status, _, content = await _read_all(
        emu, {"module": "Contacts", "fields": ["Last_Name", "Account_Name.Account_Name"]}
    )
    names = [line.split(",")[2] for line in content.decode().splitlines()[1:]]
    assert status == 201 and sum(1 for name in names if name) > len(names) // 2


async def test_companies_is_refused_like_any_unknown_module(emu: EmulatorHandle):
    status, reply, _ = await emu.call(
        "POST", "/bigin/bulk/v1/read", json={"query": {"module": "Companies"}}
    )
    unknown = await emu.call("POST", "/bigin/bulk/v1/read", json={"query": {"module": "Nope"}})
    assert (status, reply) == unknown[:2]
    assert (status, reply["code"], reply["details"]["api_name"]) == (400, "INVALID_DATA", "module")


async def test_tasks_calls_products_activities_are_served(emu: EmulatorHandle):
    sizes = {"Tasks": 40, "Calls": 30, "Products": 20, "Activities": 60}
    for module, size in sizes.items():
        status, _, content = await _read_all(emu, {"module": module})
        assert status == 201, module
        assert content.count(b"\r\n") == 1 + size, module
        assert content == emu.emulator.ground_truth.bigin_bulk_read(module)
    criteria = {"api_name": "Status", "comparator": "equal", "value": "Completed"}
    status, _, content = await _read_all(
        emu, {"module": "Tasks", "fields": ["Subject", "Status"], "criteria": criteria}
    )
    lines = content.decode().splitlines()
    assert status == 201 and 0 < len(lines) - 1 < 40
    assert all(line.endswith(",Completed") for line in lines[1:])
    _, _, content = await _read_all(
        emu, {"module": "Activities", "fields": ["Activity_Type", "Contact_Name.Last_Name"]}
    )
    kinds = {line.split(",")[1] for line in content.decode().splitlines()[1:]}
    assert kinds == {"Tasks", "Events", "Calls"}


async def test_new_modules_are_deterministic_from_the_seed(start_emulator):
    from zsync.emulator import EmulatorConfig

    first, again, other = [await start_emulator(EmulatorConfig(seed=seed)) for seed in (7, 7, 8)]
    for module in ("Tasks", "Calls", "Products", "Activities"):
        truth = first.emulator.ground_truth.bigin_bulk_read(module)
        assert truth == again.emulator.ground_truth.bigin_bulk_read(module)
        assert truth != other.emulator.ground_truth.bigin_bulk_read(module)


async def test_companies_scope_name_grants_accounts(start_emulator):
    from zsync.emulator import EmulatorConfig

    for scope in ("ZohoBigin.modules.companies.READ", "ZohoBigin.modules.accounts.READ"):
        emu = await start_emulator(EmulatorConfig(scopes=("ZohoBigin.bulk.read", scope)))
        status, _, _ = await emu.call(
            "POST", "/bigin/bulk/v1/read", json={"query": {"module": "Accounts"}}
        )
        assert status == 201, scope
    emu = await start_emulator(
        EmulatorConfig(scopes=("ZohoBigin.bulk.read", "ZohoBigin.modules.contacts.READ"))
    )
    status, reply, _ = await emu.call(
        "POST", "/bigin/bulk/v1/read", json={"query": {"module": "Accounts"}}
    )
    assert (status, reply["code"]) == (401, "OAUTH_SCOPE_MISMATCH")
