"""The HTTP session against servers that misbehave in ways Zoho's emulator doesn't."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from zsync.errors import ConfigError, GarbageReply, RemoteError
from zsync.http.retry import backoff, retry_after
from zsync.http.session import ZohoSession, error_of
from zsync.providers.base import canonical
from zsync.providers.bulk_read import STATES
from zsync.spec.model import Auth, Connection, Retry


async def token_route(request: web.Request) -> web.Response:
    return web.json_response({"access_token": "1000.t", "expires_in": 3600})


@pytest.fixture
async def server():
    servers: list[TestServer] = []

    async def start(routes: list[web.RouteDef], token=token_route) -> str:
        app = web.Application()
        app.add_routes([web.post("/oauth/v2/token", token), *routes])
        test_server = TestServer(app, host="127.0.0.1")
        await test_server.start_server()
        servers.append(test_server)
        return str(test_server.make_url("")).rstrip("/")

    yield start
    for test_server in servers:
        await test_server.close()


def connection(base_url: str) -> Connection:
    return Connection(
        "crm", "crm", "com", Auth("id", "s3cr3t-value", "1000.r3fr3sh"), base_url=base_url
    )


async def test_html_instead_of_json_is_a_clear_error(server) -> None:
    async def html(request: web.Request) -> web.Response:
        return web.Response(
            text="<html><body>Gateway maintenance</body></html>", content_type="text/html"
        )

    base = await server([web.get("/crm/bulk/v8/read/1", html)])
    async with ZohoSession(connection(base), Retry(2, 0.001)) as session:
        with pytest.raises(GarbageReply, match="isn't JSON: '<html><body>Gateway maintenance"):
            await session.request("GET", f"{base}/crm/bulk/v8/read/1")


async def test_redirects_are_not_followed(server) -> None:
    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("https://elsewhere.example.com/steal")

    base = await server([web.get("/x", moved)])
    async with ZohoSession(connection(base), Retry(2, 0.001)) as session:
        with pytest.raises(RemoteError, match="HTTP 302"):
            await session.request("GET", f"{base}/x")


async def test_a_refused_token_is_a_config_error_without_the_secret(server) -> None:
    async def refuse(request: web.Request) -> web.Response:
        return web.json_response({"error": "invalid_client"})

    refusing = await server([], token=refuse)
    async with ZohoSession(connection(refusing), Retry(2, 0.001)) as session:
        with pytest.raises(ConfigError) as raised:
            await session.token()
    assert "invalid_client" in str(raised.value)
    assert "s3cr3t-value" not in str(raised.value)
    assert "1000.r3fr3sh" not in str(raised.value)


def test_error_envelopes_of_every_product() -> None:
    assert error_of({"code": "INVALID_TOKEN", "message": "invalid oauth token"}) == (
        "INVALID_TOKEN",
        "invalid oauth token",
    )
    assert error_of({"status": "failure", "data": {"errorCode": 8535, "errorMessage": "x"}}) == (
        "8535",
        "x",
    )
    assert error_of({"data": [{"code": "INVALID_DATA", "message": "bad"}]}) == (
        "INVALID_DATA",
        "bad",
    )
    assert error_of({"error": "invalid_client"}) == ("invalid_client", "invalid_client")
    assert error_of({"code": 1030, "message": "expired"}) == ("1030", "expired")


def test_unknown_remote_state_is_an_error() -> None:
    assert canonical(STATES, "IN PROGRESS", "CRM") == "running"
    with pytest.raises(RemoteError, match="'PAUSED', which zsync doesn't know"):
        canonical(STATES, "PAUSED", "CRM")


def test_retry_after_and_backoff() -> None:
    assert retry_after("3") == 3.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after("soon") is None
    delays = [backoff(n, 1.0) for n in range(1, 8)]
    assert all(0.5 <= d <= 60 for d in delays)
    assert max(backoff(10, 1.0) for _ in range(50)) <= 60


async def test_a_token_that_expires_again_during_retries_is_renewed_again(server) -> None:
    issued: list[str] = []

    async def token(request: web.Request) -> web.Response:
        issued.append(f"1000.t{len(issued)}")
        return web.json_response({"access_token": issued[-1], "expires_in": 3600})

    # Each token works for one request: expired, a 500, then expired again, then the data.
    answers = iter(["expired", "error", "expired", "ok"])

    async def flaky(request: web.Request) -> web.Response:
        answer = next(answers)
        if answer == "expired":
            body = {"code": "INVALID_TOKEN", "message": "invalid oauth token"}
            return web.json_response(body, status=401)
        if answer == "error":
            return web.json_response({"code": "INTERNAL_ERROR"}, status=500)
        return web.json_response({"data": [{"ok": True}]})

    base = await server([web.get("/x", flaky)], token=token)
    async with ZohoSession(connection(base), Retry(3, 0.001)) as session:
        reply = await session.request("GET", f"{base}/x")
    assert reply.body == {"data": [{"ok": True}]}
    assert len(issued) == 3  # the first token, and one renewal per expiry


async def test_analytics_8535_renews_the_token_whatever_the_http_status(server) -> None:
    # The official Analytics client refreshes on errorCode 8535 and repeats the call once.
    issued: list[str] = []

    async def token(request: web.Request) -> web.Response:
        issued.append(f"1000.t{len(issued)}")
        return web.json_response({"access_token": issued[-1], "expires_in": 3600})

    async def data(request: web.Request) -> web.Response:
        if request.headers["Authorization"] == "Zoho-oauthtoken 1000.t0":
            body = {
                "status": "failure",
                "summary": "INVALID_OAUTHTOKEN",
                "data": {"errorCode": 8535, "errorMessage": "Invalid oauthtoken"},
            }
            return web.json_response(body, status=400)
        return web.json_response({"status": "success", "data": {"ok": True}})

    base = await server([web.get("/x", data)], token=token)
    async with ZohoSession(connection(base), Retry(3, 0.001)) as session:
        reply = await session.request("GET", f"{base}/x")
    assert reply.body == {"status": "success", "data": {"ok": True}}
    assert issued == ["1000.t0", "1000.t1"]


async def test_a_token_refused_right_after_its_renewal_is_a_config_error(server) -> None:
    async def expired(request: web.Request) -> web.Response:
        body = {"code": "INVALID_TOKEN", "message": "invalid oauth token"}
        return web.json_response(body, status=401)

    base = await server([web.get("/x", expired)])
    async with ZohoSession(connection(base), Retry(5, 0.001)) as session:
        with pytest.raises(ConfigError):
            await session.request("GET", f"{base}/x")


def test_a_token_from_another_data_centre_is_noticed() -> None:
    said: list[str] = []
    com = Connection("crm", "crm", "com", Auth("id", "secret", "1000.r"))
    session = ZohoSession(com, Retry(2, 0.001), notice=said.append)
    session._check_data_centre("https://www.zohoapis.com")  # agrees: nothing to say
    assert said == []
    session._check_data_centre("https://www.zohoapis.eu")
    assert said and "dc: eu" in said[0] and "set dc: eu" in said[0]


def test_canada_uses_zohocloud_for_accounts_and_analytics() -> None:
    ca = Connection("an", "analytics", "ca", Auth("id", "secret", "1000.r"))
    session = ZohoSession(ca, Retry(2, 0.001))
    assert session.hosts.accounts == "https://accounts.zohocloud.ca"
    assert session.hosts.analytics == "https://analyticsapi.zohocloud.ca"
    assert session.hosts.api == "https://www.zohoapis.ca"
