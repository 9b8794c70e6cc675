"""One connection's HTTP session: OAuth tokens, retries, error mapping and host pinning.

Every request of a connection goes through `ZohoSession.request`. It adds the access token
only for the connection's own hosts, retries what is transient (connection errors, resets,
5xx, Zoho's HTTP-400 "too many requests"), waits out a 429 (its Retry-After, or the documented
window of the limit it hit), keeps each kind of request within the organisation's per-minute
limits (`rates`), refreshes the token once on an expired-token reply, and turns every other
failure into a JobError with Zoho's code.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from zsync import __version__, redact
from zsync.errors import (
    ConfigError,
    GarbageReply,
    JobError,
    OutcomeUnknown,
    RemoteError,
    TransientError,
)
from zsync.http.bodies import BodyStalled, download_to, read_reply
from zsync.http.hosts import Hosts, data_centre_of, hosts_for, origin
from zsync.http.rates import OPEN_GATE, Gate, Rates
from zsync.http.retry import backoff, retry_after
from zsync.products import CallKind
from zsync.sinks.spool import Spool
from zsync.spec.model import Auth, Connection, Results, Retry
from zsync.state.store import StateStore

TOKEN_MARGIN = 60.0  # refresh this long before Zoho says the token expires
TOKEN_WAIT_LIMIT = 660.0  # Zoho's token window (10 minutes) and a margin
# A request Zoho keeps answering 429 is waited out this long in all (each wait as Zoho says or
# as its documented window lasts) before it fails; a job's poll.timeout still bounds it.
THROTTLE_WAIT_LIMIT = 900.0
EXPIRED_TOKEN_CODES = {"INVALID_TOKEN", "8535", "1030", "AUTHENTICATION_FAILURE"}
CONFIG_CODES = {
    "OAUTH_SCOPE_MISMATCH",
    "NO_PERMISSION",
    "AUTHORIZATION_FAILED",
    "INVALID_OAUTHSCOPE",
}
DEFAULT_RESULTS = Results()
DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=30, sock_connect=30, sock_read=300)


@dataclass
class _SharedToken:
    """Where runners on one state store keep an access token they all use (opt-in:
    auth.share_access_token), under a digest of the sign-in, never the secrets."""

    store: StateStore
    key: str

    async def load(self, unlike: str | None = None) -> tuple[str, float] | None:
        """A token another runner put there (not `unlike`), with its monotonic expiry."""
        found = await asyncio.to_thread(self.store.shared_token, self.key)
        if found is None:
            return None
        token, expires = found
        left = expires - time.time() - TOKEN_MARGIN
        if token == unlike or left <= 0:
            return None
        redact.add(token)
        return token, time.monotonic() + left

    async def save(self, token: str, expires: float) -> None:
        wall = time.time() + (expires - time.monotonic()) + TOKEN_MARGIN
        await asyncio.to_thread(self.store.put_shared_token, self.key, token, wall)


@dataclass
class _TokenCache:
    """One access token, shared by every session that signs in the same way."""

    token: str | None = None
    expires: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    told_to_wait: bool = False  # the rate-limit notice is given once
    shared: _SharedToken | None = None  # with other runners, where the job file says so


class TokenPool:
    """The run's access tokens, one per (accounts host, client id, refresh token): Zoho
    issues at most 10 access tokens per refresh token per 10 minutes, so connections that
    share a refresh token (the example's four do) share its token too; with a state store
    and auth.share_access_token, so do the runners on that store."""

    def __init__(self, store: StateStore | None = None) -> None:
        self.store = store
        self._caches: dict[tuple[str, str, str], _TokenCache] = {}

    def cache_for(self, accounts: str, auth: Auth) -> _TokenCache:
        key = (accounts, auth.client_id, auth.refresh_token)
        cache = self._caches.get(key)
        if cache is None:
            cache = self._caches[key] = _TokenCache()
        if cache.shared is None and auth.share_access_token and self.store is not None:
            digest = hashlib.sha256("\0".join(key).encode()).hexdigest()[:32]
            cache.shared = _SharedToken(self.store, digest)
        return cache


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # parsed JSON
    headers: Mapping[str, str]


class ZohoSession:
    """Use as `async with ZohoSession(connection, retry) as session:`."""

    def __init__(
        self,
        connection: Connection,
        retry: Retry,
        *,
        results: Results = DEFAULT_RESULTS,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        notice: Callable[[str], None] = lambda message: None,
        tokens: TokenPool | None = None,
        rates: Rates | None = None,
    ) -> None:
        self.connection = connection
        self.retry = retry
        self.results = results
        self.notice = notice  # what a person should know, though the run goes on
        self.hosts: Hosts = hosts_for(connection)
        self._allowed = self.hosts.all()
        # "https://host/": a URL starting with one of these is on an allowed host, no parse
        # needed (the port or user-info of "https://host:1@evil" can't follow a slash).
        self._allowed_prefixes = tuple(f"{host}/" for host in self._allowed)
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._tokens = (tokens or TokenPool()).cache_for(self.hosts.accounts, connection.auth)
        self._views: dict[tuple[Retry, Results], ZohoSession] = {}
        # Answers that hold for the run (an Analytics view's id), shared by every job of this
        # connection: for_job's copies share this dict. See providers/analytics.py.
        self.memo: dict[Any, Any] = {}
        rates = rates or Rates()
        self._gates: dict[CallKind, Gate] = {
            kind: rates.gate(connection, kind) for kind in ("create", "status", "download")
        }
        self._token_gate = rates.token_gate(connection, self.hosts.accounts)
        self.throttled = 0  # 429 answers met, all requests of this connection

    async def __aenter__(self) -> ZohoSession:
        self._session = aiohttp.ClientSession(
            timeout=self._timeout,
            headers={"User-Agent": f"zsync/{__version__}"},
            # Zoho's APIs authenticate by token, never by cookie: no jar to fill and filter
            # on every request (nor a cookie of one host ever offered to another).
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        return self

    def for_job(self, retry: Retry, results: Results) -> ZohoSession:
        """The same session, token and connection pool, retrying as `retry` says and
        reading bodies within `results` (a job's own settings)."""
        if (retry, results) == (self.retry, self.results):
            return self
        view = self._views.get((retry, results))
        if view is None:  # one per distinct setting, not one per job
            view = copy.copy(self)
            view.retry = retry
            view.results = results
            self._views[(retry, results)] = view
        return view

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    # -- tokens --------------------------------------------------------------------------

    async def token(self) -> str:
        """A valid access token, refreshed once for all waiters when it is due."""
        if self._tokens.token and time.monotonic() < self._tokens.expires:
            return self._tokens.token
        async with self._tokens.lock:
            if self._tokens.token and time.monotonic() < self._tokens.expires:
                return self._tokens.token
            if (shared := await self._shared_token()) is not None:
                return shared
            return await self._refresh()

    async def _shared_token(self, unlike: str | None = None) -> str | None:
        """A token another runner shared (auth.share_access_token), taken as ours."""
        if self._tokens.shared is None:
            return None
        found = await self._tokens.shared.load(unlike)
        if found is None:
            return None
        self._tokens.token, self._tokens.expires = found
        return found[0]

    async def _renew(self, stale: str) -> str:
        """After an expired-token reply: refresh, unless another request already did."""
        async with self._tokens.lock:
            if (
                self._tokens.token
                and self._tokens.token != stale
                and time.monotonic() < self._tokens.expires
            ):
                return self._tokens.token
            # Another runner may have renewed the shared token already.
            if (shared := await self._shared_token(unlike=stale)) is not None:
                return shared
            return await self._refresh()

    async def _refresh(self) -> str:
        auth = self.connection.auth
        form = {
            "grant_type": "refresh_token",
            "client_id": auth.client_id,
            "client_secret": auth.client_secret,
            "refresh_token": auth.refresh_token,
        }
        url = f"{self.hosts.accounts}/oauth/v2/token"
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            reply = await self._send(
                "POST", url, data=form, authorize=False, retry_unsafe=True, gate=self._token_gate
            )
            body = reply.body if isinstance(reply.body, dict) else {}
            token = body.get("access_token")
            if reply.status == 200 and isinstance(token, str):
                break
            if not _too_many_tokens(body):
                error = body.get("error") or f"HTTP {reply.status}"
                raise ConfigError(
                    f"Zoho refused the OAuth client of connection '{self.connection.name}' "
                    f"({error}): check its client_id, client_secret and refresh_token",
                    code=str(error),
                )
            waited = time.monotonic() - started
            if waited > TOKEN_WAIT_LIMIT:
                raise TransientError(
                    f"Zoho issued no access token for connection '{self.connection.name}' "
                    f"for {waited:.0f} s: too many token requests for its refresh token (Zoho "
                    "issues at most 10 per refresh token per 10 minutes; other programs "
                    "using the same refresh token count too)",
                    code="TOO_MANY_TOKENS",
                )
            if not self._tokens.told_to_wait:
                self._tokens.told_to_wait = True
                self.notice(
                    f"connection '{self.connection.name}': Zoho refuses new access tokens for "
                    "now (at most 10 per refresh token per 10 minutes, other programs "
                    "using it included); waiting for its window to pass"
                )
            await asyncio.sleep(backoff(attempt, max(self.retry.backoff, 0.001)))
        self._check_data_centre(body.get("api_domain"))
        lifetime = float(body.get("expires_in") or 3600)
        self._tokens.token = token
        redact.add(token)  # from now on, shown as *** wherever it might appear
        self._tokens.expires = time.monotonic() + max(lifetime - TOKEN_MARGIN, lifetime / 2)
        if self._tokens.shared is not None:
            await self._tokens.shared.save(token, self._tokens.expires)
        return token

    def _check_data_centre(self, api_domain: object) -> None:
        """Zoho's token reply names the account's API domain: a `dc` that disagrees sends
        every request to the wrong data centre, where it fails with unhelpful errors."""
        if self.connection.base_url or not isinstance(api_domain, str):
            return
        found = data_centre_of(api_domain)
        if found is not None and found != self.connection.dc:
            self.notice(
                f"connection '{self.connection.name}': Zoho says its account lives at "
                f"{api_domain} (dc: {found}), but the job file says dc: {self.connection.dc}; "
                f"requests go to {self.hosts.api} and will likely fail: set dc: {found}"
            )

    # -- requests ------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        retry_unsafe: bool = True,
        kind: CallKind | None = None,
    ) -> Reply:
        """A JSON request with the token; `retry_unsafe=False` for creates that must never
        happen twice (a lost answer then raises OutcomeUnknown instead of retrying). `data`
        may be a factory, called for each attempt (multipart bodies streamed from files).
        `kind` names the per-minute limit the request counts against, if any."""
        return await self._send(
            method,
            url,
            params=params,
            json_body=json_body,
            data=data,
            headers=headers,
            authorize=True,
            retry_unsafe=retry_unsafe,
            gate=self._gates[kind] if kind else OPEN_GATE,
        )

    async def download(
        self, url: str, destination: Spool, *, headers: Mapping[str, str] | None = None
    ) -> Mapping[str, str]:
        """Fetch a result into `destination` (rewritten on each retry); returns its headers."""
        if not url.startswith(self._allowed_prefixes) and origin(url) not in self._allowed:
            # The URL came from a reply: a reply pointing elsewhere is bad, not the config.
            raise GarbageReply(
                f"Zoho's reply puts the result at {_path(url)}, not on one of connection "
                f"'{self.connection.name}''s hosts: refusing to fetch it with its token"
            )
        reply = await self._send(
            "GET",
            url,
            headers=headers,
            authorize=True,
            retry_unsafe=True,
            destination=destination,
            gate=self._gates["download"],
        )
        return reply.headers

    async def _retry_later(self, method: str, url: str, problem: str, attempt: int) -> None:
        """Wait before trying a request again, saying so: a run that retries in silence
        looks stuck, and a flaky network should show in the log."""
        wait = backoff(attempt, self.retry.backoff)
        self.notice(
            f"connection '{self.connection.name}': {method} {_path(url)}: {problem}; "
            f"trying again in {wait:.1f}s ({attempt + 1} of {self.retry.attempts})"
        )
        await asyncio.sleep(wait)

    async def _send(
        self,
        method: str,
        url: str,
        *,
        authorize: bool,
        retry_unsafe: bool,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        destination: Spool | None = None,
        gate: Gate = OPEN_GATE,
    ) -> Reply:
        assert self._session is not None, "use ZohoSession as an async context manager"
        if not url.startswith(self._allowed_prefixes) and origin(url) not in self._allowed:
            raise ConfigError(
                f"refusing to send connection '{self.connection.name}''s token to "
                f"{origin(url)}: not one of its Zoho hosts ({', '.join(sorted(self._allowed))})"
            )
        # A token that expires during a long stretch of retries is renewed again; one
        # refused by the very next answer after its own renewal is not (the client is bad).
        just_renewed: str | None = None
        renewals = 0
        attempt = 0
        throttled_for = 0.0  # seconds spent waiting out 429 answers
        while True:
            attempt += 1
            # A body that streams from a file is used up by a send: a factory makes it anew.
            body_data = data() if callable(data) else data
            sent_headers = dict(headers or {})
            token = None
            try:
                # The token is taken once there is room: a wait may outlast it.
                async with gate.call(self.notice):
                    if authorize:
                        token = await self.token()
                        sent_headers["Authorization"] = f"Zoho-oauthtoken {token}"
                    async with self._session.request(
                        method,
                        url,
                        params=params,
                        json=json_body,
                        data=body_data,
                        headers=sent_headers,
                        allow_redirects=False,
                    ) as response:

                        def what() -> str:
                            return f"{method} {_path(url)}"

                        stall = self.results.stall_timeout
                        if destination is not None and response.status == 200:
                            await download_to(
                                response, destination, self.results.max_size, stall, what
                            )
                            return Reply(200, None, response.headers)
                        raw = await read_reply(response, stall, what)
                        status = response.status
                        reply_headers = response.headers
            except (
                TimeoutError,
                BodyStalled,
                aiohttp.ClientConnectionError,
                aiohttp.ClientPayloadError,
            ) as exc:
                # The request may have reached Zoho: only repeat it if repeating is harmless.
                if not retry_unsafe and not isinstance(exc, aiohttp.ClientConnectorError):
                    raise OutcomeUnknown(
                        f"{method} {_path(url)}: the connection failed after the request was "
                        f"sent ({type(exc).__name__}); Zoho may or may not have acted on it"
                    ) from exc
                problem = type(exc).__name__
                if isinstance(exc, BodyStalled):
                    problem = str(exc)
                elif str(exc):
                    problem = f"{problem}: {exc}"
                if attempt >= self.retry.attempts:
                    raise TransientError(
                        f"{method} {_path(url)} failed {attempt} times; last: {problem}"
                    ) from exc
                await self._retry_later(method, url, problem, attempt)
                continue

            body = _parse(raw)
            code, message = error_of(body)
            if 200 <= status < 300:
                if destination is None and body is _NOT_JSON:
                    raise GarbageReply(
                        f"{method} {_path(url)}: Zoho answered HTTP {status} with something that "
                        f"isn't JSON: {_preview(raw)}"
                    )
                return Reply(status, body, reply_headers)
            if (
                # Zoho Analytics' official client renews on errorCode 8535 whatever the HTTP
                # status (zoho-api-notes: [sdk]); the other products say it with a 401.
                (status == 401 or code in EXPIRED_TOKEN_CODES)
                and authorize
                and code not in CONFIG_CODES
                and token != just_renewed
                and renewals < self.retry.attempts
            ):
                just_renewed = await self._renew(token or "")
                renewals += 1
                attempt -= 1  # a refresh is not a retry
                continue
            just_renewed = None
            if status == 429:
                wait = retry_after(reply_headers.get("Retry-After"))
                # Without Retry-After, the limit's own window (CRM blocks for a minute).
                wait = wait if wait is not None else gate.per
                if wait is None:
                    wait = backoff(attempt, max(self.retry.backoff, 0.001))
                if throttled_for + wait <= THROTTLE_WAIT_LIMIT:
                    # Zoho said when to come back: that is not a failed attempt.
                    self.throttled += 1
                    throttled_for += wait
                    attempt -= 1
                    await gate.refused(wait)  # every job's requests of this kind wait too
                    if not gate.windows:
                        await asyncio.sleep(wait)
                    continue
                raise TransientError(
                    f"{method} {_path(url)}: Zoho answered HTTP 429 {code or ''} "
                    f"{message or ''}".strip()
                    + f" for {throttled_for:.0f} s of waiting",
                    code=code,
                )
            throttled = status == 400 and "too many requests" in (message or _text(raw)).lower()
            if throttled or status >= 500:
                if not retry_unsafe and status >= 500:
                    raise OutcomeUnknown(
                        f"{method} {_path(url)}: Zoho answered HTTP {status} "
                        f"({code or 'no code'}); it may or may not have acted on the request"
                    )
                if attempt >= self.retry.attempts:
                    raise TransientError(
                        f"{method} {_path(url)}: HTTP {status} {code or ''} {message or ''}".strip()
                        + f" after {attempt} attempts",
                        code=code,
                    )
                said = f"HTTP {status} {code or ''}".strip()
                await self._retry_later(method, url, said, attempt)
                continue
            raise _failure(method, url, status, code, message, raw)


def _too_many_tokens(body: dict[str, Any]) -> bool:
    """Zoho's answer past its token budget: HTTP 200, {"error": "Access Denied",
    "error_description": "You have made too many requests continuously..."} (CRM's token
    validity page; Kaizen #43)."""
    said = f"{body.get('error', '')} {body.get('error_description', '')}".lower()
    # "Access Denied" alone may mean other things: only the rate limit is waited out.
    return "too many requests" in said


def error_of(body: Any) -> tuple[str | None, str | None]:
    """Zoho's error code and message, from any of its products' error envelopes."""
    if not isinstance(body, dict):
        return None, None
    data = body.get("data")
    if isinstance(data, list) and data and isinstance(data[0], dict) and "code" in data[0]:
        body = data[0]  # CRM: {"data": [{"code", "message", "status": "error"}]}
    elif isinstance(data, dict) and "errorCode" in data:  # Analytics
        return str(data["errorCode"]), _str(data.get("errorMessage"))
    if "error" in body and isinstance(body["error"], str):  # OAuth
        return body["error"], _str(body.get("error_description") or body["error"])
    if "code" in body:  # CRM, Bigin, Creator
        return str(body["code"]), _str(body.get("message"))
    return None, _str(body.get("message"))


def _failure(
    method: str, url: str, status: int, code: str | None, message: str | None, raw: bytes
) -> JobError:
    what = f"{method} {_path(url)}: HTTP {status}"
    detail = f"{code}: {message}" if code and message else code or message or _preview(raw)
    if status in (401, 403) or code in CONFIG_CODES:
        return ConfigError(f"{what} {detail}", code=code)
    return RemoteError(f"{what} {detail}", code=code, status=status)


class _NotJson:
    pass


_NOT_JSON = _NotJson()


def _parse(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return _NOT_JSON


def _path(url: str) -> str:
    # Messages name the path only: query strings may carry CONFIG and are long.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _text(raw: bytes) -> str:
    return raw[:2000].decode("utf-8", "replace")


def _preview(raw: bytes) -> str:
    text = " ".join(_text(raw).split())
    return repr(text[:120] + ("..." if len(text) > 120 else "")) if text else "an empty body"


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
