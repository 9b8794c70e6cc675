"""OAuth: the refresh-token grant in body or query, errors, expiry per product, scopes."""

from __future__ import annotations

from zsync.emulator import EmulatorConfig, ScaledClock

from .conftest import EmulatorHandle


def grant(config: EmulatorConfig, **overrides: str) -> dict[str, str]:
    return {
        "grant_type": "refresh_token",
        "client_id": config.client_id,
        "client_secret": config.client_secret,
        "refresh_token": config.refresh_token,
        **overrides,
    }


async def test_form_body_grant(emu: EmulatorHandle):
    async with emu.session.post(
        emu.url("/oauth/v2/token"), data=grant(emu.emulator.config)
    ) as response:
        assert response.status == 200
        body = await response.json()
    assert set(body) == {"access_token", "scope", "api_domain", "token_type", "expires_in"}
    assert body["api_domain"] == emu.base_url
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"].startswith("1000.")


async def test_query_string_grant_with_empty_body(emu: EmulatorHandle):
    # Zoho's AnalyticsClient sends the parameters in the query string [sdk].
    async with emu.session.post(
        emu.url("/oauth/v2/token"), params=grant(emu.emulator.config)
    ) as response:
        body = await response.json()
    assert "access_token" in body


async def test_bad_credentials_answer_zoho_errors(emu: EmulatorHandle):
    config = emu.emulator.config
    for overrides, error in [
        ({"client_secret": "wrong"}, "invalid_client"),
        ({"client_id": "1000.OTHER"}, "invalid_client"),
        ({"refresh_token": "1000.nope"}, "invalid_code"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
    ]:
        async with emu.session.post(
            emu.url("/oauth/v2/token"), data=grant(config, **overrides)
        ) as response:
            assert response.status == 200
            assert await response.json() == {"error": error}


async def test_custom_client_credentials(start_emulator):
    config = EmulatorConfig(client_id="1000.MINE", client_secret="s3cret", refresh_token="1000.r")
    emu = await start_emulator(config)
    assert (await emu.token()).startswith("1000.")


async def test_expired_and_unknown_tokens_per_product(emu: EmulatorHandle):
    await emu.token()
    emu.advance(3601)
    got, reply, _ = await emu.call("GET", "/crm/v8/org")
    assert (got, reply["code"], reply["status"]) == (401, "INVALID_TOKEN", "error")
    got, reply, _ = await emu.call("GET", "/bigin/v2/org")
    assert (got, reply["code"]) == (401, "INVALID_TOKEN")
    got, reply, _ = await emu.call("GET", "/restapi/v2/orgs")
    assert got == 401
    assert reply["status"] == "failure" and reply["data"]["errorCode"] == 8535
    got, reply, _ = await emu.call("GET", "/creator/v2.1/meta/applications")
    assert (got, reply["code"]) == (401, 1030)
    await emu.token(fresh=True)
    got, _, _ = await emu.call("GET", "/crm/v8/org")
    assert got == 200
    got, reply, _ = await emu.call("GET", "/crm/v8/org", headers={})
    assert (got, reply["code"]) == (401, "AUTHENTICATION_FAILURE")


async def test_token_lifetime_in_scaled_time(start_emulator):
    # 3600 emulated seconds per real second: a 36 s token lives 10 ms.
    emu = await start_emulator(EmulatorConfig(token_lifetime=36), ScaledClock(3600))
    headers = await emu.headers()
    import asyncio

    await asyncio.sleep(0.05)
    got, reply, _ = await emu.call("GET", "/crm/v8/org", headers=headers)
    assert (got, reply["code"]) == (401, "INVALID_TOKEN")


async def test_revocation(emu: EmulatorHandle):
    await emu.token()
    emu.emulator.revoke_tokens()
    got, reply, _ = await emu.call("GET", "/crm/v8/org")
    assert (got, reply["code"]) == (401, "INVALID_TOKEN")
    await emu.token(fresh=True)
    got, _, _ = await emu.call("GET", "/crm/v8/org")
    assert got == 200
    emu.emulator.revoke_refresh_token()
    async with emu.session.post(
        emu.url("/oauth/v2/token"), data=grant(emu.emulator.config)
    ) as response:
        assert await response.json() == {"error": "invalid_code"}


async def test_bearer_only_for_creator(emu: EmulatorHandle):
    headers = await emu.headers("Bearer")
    got, _, _ = await emu.call("GET", "/creator/v2.1/meta/applications", headers=headers)
    assert got == 200
    got, reply, _ = await emu.call("GET", "/crm/v8/org", headers=headers)
    assert (got, reply["code"]) == (401, "AUTHENTICATION_FAILURE")


async def test_limited_scopes(start_emulator):
    emu = await start_emulator(EmulatorConfig(scopes=("ZohoCRM.bulk.read",)))
    got, reply, _ = await emu.call("GET", "/crm/v8/org")
    assert (got, reply["code"], reply["message"]) == (401, "OAUTH_SCOPE_MISMATCH", "Unauthorized")
    got, reply, _ = await emu.call("GET", "/restapi/v2/orgs")
    assert (got, reply["data"]["errorCode"]) == (401, 8518)
    got, reply, _ = await emu.call("GET", "/creator/v2.1/meta/applications")
    assert (got, reply["code"]) == (401, 2945)
    got, _, _ = await emu.call(
        "POST", "/crm/bulk/v8/read", json={"query": {"module": {"api_name": "Leads"}}}
    )
    assert got == 201
