"""Fault injection: 5xx, 429 bursts, CRM's 400 throttle, slowness, broken bodies, seeded rates."""

from __future__ import annotations

import io
import time
import zipfile
import zlib

import aiohttp
import pytest

from zsync.emulator import EmulatorConfig, FaultConfig

from .conftest import EmulatorHandle


async def completed_read(emu: EmulatorHandle) -> str:
    _, reply, _ = await emu.call(
        "POST", "/crm/bulk/v8/read", json={"query": {"module": {"api_name": "Leads"}}}
    )
    emu.advance(60)
    return f"/crm/bulk/v8/read/{reply['data'][0]['details']['id']}/result"


async def test_fail_next_n_then_recover(emu: EmulatorHandle):
    emu.emulator.faults.fail_next("crm.metadata.*", n=2)
    statuses = [(await emu.call("GET", "/crm/v8/org"))[0] for _ in range(3)]
    assert statuses == [500, 500, 200]
    emu.emulator.faults.fail_next("analytics.*", status=503)
    status, reply, _ = await emu.call("GET", "/restapi/v2/orgs")
    assert status == 503 and reply["status"] == "failure"
    emu.emulator.faults.fail_next("creator.*")
    status, reply, _ = await emu.call("GET", "/creator/v2.1/meta/applications")
    assert status == 500 and reply["code"] == 1050


async def test_429_burst_with_retry_after(emu: EmulatorHandle):
    emu.emulator.faults.throttle_next("crm.bulk_read.create", n=3, retry_after=2)
    for _ in range(3):
        status, reply, headers = await emu.call(
            "POST", "/crm/bulk/v8/read", json={"query": {"module": "Leads"}}
        )
        assert (status, reply["code"], headers["Retry-After"]) == (429, "TOO_MANY_REQUESTS", "2")
    status, _, _ = await emu.call("POST", "/crm/bulk/v8/read", json={"query": {"module": "Leads"}})
    assert status == 201
    assert emu.emulator.creates("crm.read") == 1


async def test_crm_400_too_many_requests(emu: EmulatorHandle):
    emu.emulator.faults.crm_throttle_next()
    status, reply, headers = await emu.call("GET", "/crm/v8/org")
    assert status == 400 and "too many requests" in reply["message"].lower()
    assert "Retry-After" not in headers


async def test_slow_response(emu: EmulatorHandle):
    emu.emulator.faults.slow_next("crm.metadata.org", delay=0.2)
    started = time.monotonic()
    status, _, _ = await emu.call("GET", "/crm/v8/org")
    assert status == 200 and time.monotonic() - started >= 0.2


async def test_connection_reset_mid_body(emu: EmulatorHandle):
    path = await completed_read(emu)
    emu.emulator.faults.reset_next("crm.bulk_read.result")
    with pytest.raises(aiohttp.ClientPayloadError):
        async with emu.session.get(emu.url(path), headers=await emu.headers()) as response:
            await response.read()
    status, data, _ = await emu.call("GET", path)  # the retry gets the whole file
    assert status == 200 and zipfile.is_zipfile(io.BytesIO(data))


async def test_truncated_and_corrupt_files(emu: EmulatorHandle):
    path = await completed_read(emu)
    _, good, _ = await emu.call("GET", path)
    emu.emulator.faults.truncate_next("*.result")
    status, data, headers = await emu.call("GET", path)
    assert status == 200 and len(data) == len(good) // 2
    assert int(headers["Content-Length"]) == len(data)
    assert not zipfile.is_zipfile(io.BytesIO(data))
    emu.emulator.faults.corrupt_next("*.result")
    status, data, _ = await emu.call("GET", path)
    assert status == 200 and len(data) == len(good) and data != good
    with (
        pytest.raises((zipfile.BadZipFile, zlib.error, OSError, EOFError)),
        zipfile.ZipFile(io.BytesIO(data)) as archive,
    ):
        archive.read(archive.namelist()[0])


async def test_seeded_rates_are_deterministic(start_emulator):
    config = EmulatorConfig(faults=FaultConfig(seed=7, error_rate=0.3, throttle_rate=0.2))

    async def pattern() -> list[int]:
        emu = await start_emulator(config)
        return [(await emu.call("GET", "/crm/v8/org"))[0] for _ in range(30)]

    first, second = await pattern(), await pattern()
    assert first == second
    assert {500, 429, 200} <= set(first)


async def test_token_revocation_mid_run(emu: EmulatorHandle):
    await emu.token()
    emu.emulator.revoke_tokens()
    status, reply, _ = await emu.call("GET", "/restapi/v2/orgs")
    assert (status, reply["data"]["errorCode"]) == (401, 8535)
