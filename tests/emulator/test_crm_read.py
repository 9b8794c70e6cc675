"""CRM bulk read over raw HTTP: seed 002's replies, criteria, lookups, paging, ZIP results."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import replace
from typing import Any

import pytest

from zsync.emulator import EmulatorConfig

from .conftest import EmulatorHandle, snapshot
from .snapshot import assert_same_shape

WAIT = EmulatorConfig().job_wait_seconds


async def create(emu: EmulatorHandle, query: dict, version: str = "v6", **body) -> dict:
    status, reply, _ = await emu.call(
        "POST", f"/crm/bulk/{version}/read", json={"query": query, **body}
    )
    assert status == 201, reply
    return reply


async def job_status(emu: EmulatorHandle, job_id: str, version: str = "v6") -> dict:
    status, reply, _ = await emu.call("GET", f"/crm/bulk/{version}/read/{job_id}")
    assert status == 200, reply
    return reply


def unzip(data: bytes) -> tuple[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        (name,) = archive.namelist()
        return name, archive.read(name)


def rows_of(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


async def test_states_progress_and_match_seed_002(emu: EmulatorHandle):
    reply = await create(emu, {"module": {"api_name": "Contacts"}})
    assert_same_shape(reply, snapshot("bigin_read_create"))  # CRM create = seed 003's shape
    job_id = reply["data"][0]["details"]["id"]
    assert job_id.isdigit()
    for state, name in [("ADDED", "added"), ("QUEUED", "queued"), ("IN PROGRESS", "in_progress")]:
        body = await job_status(emu, job_id)
        assert body["data"][0]["state"] == state
        assert_same_shape(body, snapshot(f"crm_read_status_{name}"))
        emu.advance(WAIT)
    emu.advance(1)
    body = await job_status(emu, job_id)
    assert_same_shape(body, snapshot("crm_read_status_completed"))
    item = body["data"][0]
    assert item["state"] == "COMPLETED" and item["operation"] == "read"
    assert item["file_type"] == "csv"
    assert item["query"]["module"]["api_name"] == "Contacts"
    assert item["created_by"]["name"] == "Patricia Boyle"
    result = item["result"]
    assert result["per_page"] == 200_000 and result["page"] == 1
    assert result["count"] == 150 and result["more_records"] is False
    assert result["download_url"] == f"/crm/bulk/v6/read/{job_id}/result"


async def test_criteria_echo_matches_seed_002(emu: EmulatorHandle):
    state = emu.emulator.crm
    fields = [
        "Last_Name",
        "Owner",
        "Owner.last_name",
        "$converted",
        "Lead_Source",
        "Lead_Status",
        "Company",
        "Email",
        "Mobile",
        "Created_Time",
    ]
    # Spelt as CRM v3+ documents it ({field: {api_name}}); the echo adds each field's id.
    criteria = {
        "group_operator": "and",
        "group": [
            {"field": {"api_name": "$converted"}, "comparator": "equal", "value": False},
            {
                "group_operator": "and",
                "group": [
                    {
                        "field": {"api_name": "Last_Name"},
                        "comparator": "equal",
                        "value": "Patricia",
                    },
                    {
                        "field": {"api_name": "Email"},
                        "comparator": "equal",
                        "value": "patricia.b@zylker.com",
                    },
                ],
            },
        ],
    }
    cvid = state.cvid(state.modules["Leads"])
    reply = await create(
        emu,
        {
            "module": {"api_name": "Leads"},
            "fields": fields,
            "criteria": criteria,
            "page": 1,
            "cvid": cvid,
        },
    )
    emu.advance(60)
    body = await job_status(emu, reply["data"][0]["details"]["id"])
    assert_same_shape(body, snapshot("crm_read_status_completed_criteria"))
    echo = body["data"][0]["query"]["criteria"]
    assert echo["group"][0]["field"] == {"id": None, "api_name": "$converted"}
    last_name = state.modules["Leads"].field("Last_Name")
    assert last_name is not None
    assert echo["group"][1]["group"][0]["field"] == {
        "id": state.field_id(state.modules["Leads"], last_name),
        "api_name": "Last_Name",
    }
    assert body["data"][0]["result"]["count"] == 0


@pytest.mark.parametrize("version", ["v2", "v8"])
async def test_criteria_echo_the_form_the_request_used(emu: EmulatorHandle, version):
    """Both spellings filter alike; each comes back as it was sent, even mixed in a group."""
    criteria = {
        "group_operator": "or",
        "group": [
            {"api_name": "Owner.last_name", "comparator": "equal", "value": "Boyle"},
            {"field": {"api_name": "Last_Name"}, "comparator": "starts_with", "value": "B"},
        ],
    }
    module: Any = "Contacts" if version == "v2" else {"api_name": "Contacts"}
    fields = ["Owner.last_name", "Last_Name"]
    reply = await create(
        emu, {"module": module, "fields": fields, "criteria": criteria}, version=version
    )
    job_id = reply["data"][0]["details"]["id"]
    emu.advance(60)
    body = await job_status(emu, job_id, version)
    by_name, by_field = body["data"][0]["query"]["criteria"]["group"]
    assert by_name == criteria["group"][0]
    assert set(by_field) == {"field", "comparator", "value"}
    assert by_field["field"]["api_name"] == "Last_Name"
    assert by_field["field"]["id"]  # CRM fills in the field's id [seed 002]
    _, data, _ = await emu.call("GET", f"/crm/bulk/{version}/read/{job_id}/result")
    expected = emu.emulator.ground_truth.crm_bulk_read("Contacts", fields, criteria)
    assert unzip(data)[1] == expected
    rows = rows_of(expected)
    assert rows and all(r["Owner.last_name"] == "Boyle" or r["Last_Name"][0] in "Bb" for r in rows)


async def test_field_form_errors_point_into_field(emu: EmulatorHandle):
    status, reply, _ = await emu.call(
        "POST",
        "/crm/bulk/v8/read",
        json={
            "query": {
                "module": {"api_name": "Leads"},
                "criteria": {"field": {"api_name": "Nope"}, "comparator": "equal", "value": 1},
            }
        },
    )
    assert (status, reply["code"]) == (400, "INVALID_DATA"), reply
    assert reply["details"]["json_path"] == "$.query.criteria.field.api_name"


async def test_result_is_zip_with_headers_and_ground_truth(emu: EmulatorHandle):
    fields = ["Last_Name", "Owner.last_name", "Account_Name", "Account_Name.Phone"]
    reply = await create(emu, {"module": {"api_name": "Contacts"}, "fields": fields})
    job_id = reply["data"][0]["details"]["id"]
    emu.advance(60)
    status, data, headers = await emu.call("GET", f"/crm/bulk/v6/read/{job_id}/result")
    assert status == 200
    assert headers["Content-Type"] == "application/zip"
    assert headers["Content-Disposition"] == f'attachment; filename="{job_id}.zip"'
    name, content = unzip(data)
    assert name == f"{job_id}.csv"
    assert content == emu.emulator.ground_truth.crm_bulk_read("Contacts", fields)
    rows = rows_of(content)
    assert len(rows) == 150
    assert list(rows[0]) == ["Id", *fields]
    # Lookups resolve through the dot operator to the parent record.
    accounts = {r["id"]: r for r in emu.emulator.rows("crm", "Accounts")}
    linked = [r for r in rows if r["Account_Name"]]
    assert linked
    for row in linked:
        assert row["Account_Name.Phone"] == accounts[row["Account_Name"]]["Phone"]
    assert {r["Owner.last_name"] for r in rows} <= {"Boyle", "Miller", "Khan", "Sato", "Garcia"}


async def test_criteria_filter_the_data(emu: EmulatorHandle):
    criteria = {
        "group_operator": "or",
        "group": [
            {"api_name": "Owner.last_name", "comparator": "equal", "value": "Boyle"},
            {"api_name": "Account_Name.Phone", "comparator": "contains", "value": "5"},
        ],
    }
    reply = await create(
        emu,
        {
            "module": "Contacts",
            "fields": ["Owner.last_name", "Account_Name.Phone"],
            "criteria": criteria,
        },
        version="v2",
    )
    job_id = reply["data"][0]["details"]["id"]
    emu.advance(60)
    body = await job_status(emu, job_id, "v2")
    assert body["data"][0]["query"]["module"] == "Contacts"  # v2 echoes a plain string
    _, data, _ = await emu.call("GET", f"/crm/bulk/v2/read/{job_id}/result")
    rows = rows_of(unzip(data)[1])
    assert rows and len(rows) == body["data"][0]["result"]["count"]
    for row in rows:
        assert row["Owner.last_name"] == "Boyle" or "5" in row["Account_Name.Phone"]
    everyone = rows_of(
        emu.emulator.ground_truth.crm_bulk_read(
            "Contacts", ["Owner.last_name", "Account_Name.Phone"]
        )
    )
    expected = [
        r for r in everyone if r["Owner.last_name"] == "Boyle" or "5" in r["Account_Name.Phone"]
    ]
    assert len(rows) == len(expected)


async def test_paging_with_page_and_page_token(start_emulator):
    emu = await start_emulator(replace(EmulatorConfig(), page_size=50))
    first = await create(emu, {"module": {"api_name": "Leads"}})
    emu.advance(60)
    result = (await job_status(emu, first["data"][0]["details"]["id"]))["data"][0]["result"]
    assert result == {**result, "page": 1, "per_page": 50, "count": 50, "more_records": True}
    token = result["next_page_token"]
    second = await create(emu, {"module": {"api_name": "Leads"}, "page_token": token})
    third = await create(emu, {"module": {"api_name": "Leads"}, "page": 3})
    emu.advance(60)
    r2 = (await job_status(emu, second["data"][0]["details"]["id"]))["data"][0]["result"]
    r3 = (await job_status(emu, third["data"][0]["details"]["id"]))["data"][0]["result"]
    assert (r2["page"], r2["count"], r2["more_records"]) == (2, 50, True)
    assert (r3["page"], r3["count"], r3["more_records"]) == (3, 20, False)
    assert "next_page_token" not in r3
    _, data, _ = await emu.call("GET", r2["download_url"])
    assert unzip(data)[1] == emu.emulator.ground_truth.crm_bulk_read("Leads", page=2)
    ids = set()
    for page in (1, 2, 3):
        ids |= {
            r["Id"] for r in rows_of(emu.emulator.ground_truth.crm_bulk_read("Leads", page=page))
        }
    assert len(ids) == 120
    joined = emu.emulator.ground_truth.crm_records("Leads")
    assert joined.count(b"\r\n") == 121 and joined.count(b"Id,") == 1
    status, reply, _ = await emu.call(
        "POST",
        "/crm/bulk/v6/read",
        json={"query": {"module": {"api_name": "Leads"}, "page_token": "nonsense"}},
    )
    assert status == 400 and reply["code"] == "INVALID_DATA"


async def test_failed_job_via_fault(emu: EmulatorHandle):
    emu.emulator.faults.fail_next_jobs("crm.read")
    reply = await create(emu, {"module": {"api_name": "Deals"}})
    job_id = reply["data"][0]["details"]["id"]
    emu.advance(60)
    body = await job_status(emu, job_id)
    assert body["data"][0]["state"] == "FAILED"
    assert "result" not in body["data"][0]
    status, reply, _ = await emu.call("GET", f"/crm/bulk/v6/read/{job_id}/result")
    assert status == 404 and reply["code"] == "RESOURCE_NOT_FOUND"


@pytest.mark.parametrize("version", ["v2", "v3", "v4", "v5", "v6", "v7", "v8"])
async def test_every_version_serves(emu: EmulatorHandle, version: str):
    reply = await create(emu, {"module": {"api_name": "Accounts"}}, version=version)
    assert reply["data"][0]["details"]["state"] == "ADDED"


async def test_errors_with_seed_statuses(start_emulator):
    emu = await start_emulator()
    cases = [
        ("GET", "/crm/bulk/v6/reed/1", 404, "INVALID_URL_PATTERN"),
        ("GET", "/crm/bulk/v9/read/1", 404, "INVALID_URL_PATTERN"),
        ("PUT", "/crm/bulk/v6/read/1", 400, "INVALID_REQUEST_METHOD"),
        ("DELETE", "/crm/bulk/v6/read", 400, "INVALID_REQUEST_METHOD"),
        ("GET", "/crm/bulk/v6/read/123456789", 404, "RESOURCE_NOT_FOUND"),
    ]
    for method, path, status, code in cases:
        got, reply, _ = await emu.call(method, path)
        assert (got, reply["code"], reply["status"]) == (status, code, "error"), path
        assert set(reply) == {"code", "details", "message", "status"}
    got, reply, _ = await emu.call(
        "POST", "/crm/bulk/v6/read", data=b'{"query": {}}', headers={**await emu.headers()}
    )
    assert (got, reply["code"]) == (415, "MEDIA_TYPE_NOT_SUPPORTED")
    got, reply, _ = await emu.call(
        "POST", "/crm/bulk/v6/read", json={"query": {"module": {"api_name": "Nope"}}}
    )
    assert (got, reply["code"], reply["details"]["api_name"]) == (400, "INVALID_DATA", "module")
    got, reply, _ = await emu.call(
        "POST",
        "/crm/bulk/v6/read",
        json={
            "query": {
                "module": {"api_name": "Leads"},
                "criteria": {"api_name": "$converted", "comparator": "contains", "value": "x"},
            }
        },
    )
    assert (got, reply["code"]) == (400, "INVALID_DATA")
    emu.emulator.faults.fail_next("crm.bulk_read.create")
    got, reply, _ = await emu.call(
        "POST", "/crm/bulk/v6/read", json={"query": {"module": {"api_name": "Leads"}}}
    )
    assert (got, reply["code"]) == (500, "INTERNAL_ERROR")
    assert reply["message"] == "Internal Server Error"


async def test_permissions_and_scopes(start_emulator):
    denied = await start_emulator(EmulatorConfig(denied_modules=frozenset({"crm.Leads"})))
    got, reply, _ = await denied.call(
        "POST", "/crm/bulk/v6/read", json={"query": {"module": {"api_name": "Leads"}}}
    )
    assert (got, reply["code"]) == (403, "NO_PERMISSION")
    no_export = await start_emulator(EmulatorConfig(export_permission=False))
    got, reply, _ = await no_export.call(
        "POST", "/crm/bulk/v6/read", json={"query": {"module": {"api_name": "Leads"}}}
    )
    assert (got, reply["code"]) == (400, "AUTHORIZATION_FAILED")
    limited = await start_emulator(EmulatorConfig(scopes=("ZohoCRM.modules.leads.READ",)))
    got, _, _ = await limited.call(
        "POST", "/crm/bulk/v6/read", json={"query": {"module": {"api_name": "Leads"}}}
    )
    assert got == 201  # CRM: bulk.read OR modules.{module}.READ [seed 002]
    got, reply, _ = await limited.call(
        "POST", "/crm/bulk/v6/read", json={"query": {"module": {"api_name": "Deals"}}}
    )
    assert (got, reply["code"]) == (401, "OAUTH_SCOPE_MISMATCH")


async def test_result_expires_after_a_day(emu: EmulatorHandle):
    reply = await create(emu, {"module": {"api_name": "Accounts"}})
    job_id = reply["data"][0]["details"]["id"]
    emu.advance(60)
    assert (await job_status(emu, job_id))["data"][0]["state"] == "COMPLETED"
    emu.advance(emu.emulator.config.crm_result_lifetime + 1)
    await emu.token(fresh=True)  # the old one expired an emulated day ago
    got, reply, _ = await emu.call("GET", f"/crm/bulk/v6/read/{job_id}/result")
    assert (got, reply["code"]) == (404, "RESOURCE_NOT_FOUND")


async def test_ics_only_for_events(emu: EmulatorHandle):
    got, reply, _ = await emu.call(
        "POST",
        "/crm/bulk/v6/read",
        json={"query": {"module": {"api_name": "Leads"}}, "file_type": "ics"},
    )
    assert (got, reply["code"]) == (400, "INVALID_DATA")
    reply = await create(emu, {"module": {"api_name": "Events"}}, file_type="ics")
    job_id = reply["data"][0]["details"]["id"]
    emu.advance(60)
    body = await job_status(emu, job_id)
    assert body["data"][0]["file_type"] == "ics"
    _, data, _ = await emu.call("GET", f"/crm/bulk/v6/read/{job_id}/result")
    name, content = unzip(data)
    assert name.endswith(".ics")
    assert content.startswith(b"BEGIN:VCALENDAR") and content.count(b"BEGIN:VEVENT") == 60


async def test_jobs_progress_on_scaled_real_time(start_emulator):
    import asyncio

    from zsync.emulator import ScaledClock

    # 10,000 emulated seconds per real second: the 4 s of waiting states pass in 0.4 ms.
    emu = await start_emulator(None, ScaledClock(10_000))
    reply = await create(emu, {"module": {"api_name": "Leads"}})
    await asyncio.sleep(0.01)
    body = await job_status(emu, reply["data"][0]["details"]["id"])
    assert body["data"][0]["state"] == "COMPLETED"
