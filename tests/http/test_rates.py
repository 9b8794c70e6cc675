"""The client's rate windows: never more than N requests in any window, shared per organisation."""

from __future__ import annotations

import asyncio
import time

from zsync.http.rates import Rates, RateWindow, limits_for
from zsync.spec.model import Auth, Connection, Limits

AUTH = Auth("client", "secret", "refresh")


def connection(name: str, product: str = "crm", org: str = "1", **limits: object) -> Connection:
    return Connection(
        name=name,
        product=product,  # type: ignore[arg-type]
        dc="com",
        auth=AUTH,
        org_id=org if product != "creator" else None,
        owner=org if product == "creator" else None,
        limits=Limits(**limits),  # type: ignore[arg-type]
    )


async def test_no_window_ever_holds_more_than_its_calls() -> None:
    window = RateWindow(calls=5, per=0.2)
    spans: list[tuple[float, float]] = []  # (went, ended) of each request

    async def request(duration: float) -> None:
        await window.acquire()
        went = time.monotonic()
        await asyncio.sleep(duration)
        # Taken before release stamps its own end: never later than the window's stamp, so
        # the count below can only err on the window's side.
        spans.append((went, time.monotonic()))
        await window.release()

    started = time.monotonic()
    await asyncio.gather(*(request(0.001 * (i % 4)) for i in range(17)))
    elapsed = time.monotonic() - started
    # 17 requests, 5 a window: the 16th and 17th wait three windows, and not much longer.
    assert 0.6 <= elapsed < 0.6 + 0.4, elapsed
    for went, _ in spans:
        # When a request went, the others still counted (in flight, or ended less than a
        # window before) left it a token.
        counted = sum(
            1
            for other_went, other_ended in spans
            if other_went < went and other_ended > went - window.per
        )
        assert counted < window.calls, (went, counted)


async def test_a_429_closes_the_window_for_everyone() -> None:
    window = RateWindow(calls=100, per=1.0)
    await window.close_for(0.15)
    started = time.monotonic()
    await asyncio.gather(window.acquire(), window.acquire())
    assert time.monotonic() - started >= 0.15


async def test_connections_to_one_organisation_share_its_window() -> None:
    rates = Rates()
    a, b = connection("a"), connection("b")
    other = connection("c", org="2")
    assert rates.gate(a, "download").windows == rates.gate(b, "download").windows
    assert rates.gate(a, "download").windows != rates.gate(other, "download").windows
    # CRM documents no limit on creates: nothing to wait for.
    assert rates.gate(a, "create").windows == ()


def test_creator_has_a_window_per_user_and_one_per_organisation() -> None:
    rates = Rates()
    first = rates.gate(connection("a", "creator", org="owner"), "create")
    assert [(w.calls, w.per) for w in first.windows] == [(5, 60.0), (15, 60.0)]
    other_user = Connection(
        name="b",
        product="creator",
        dc="com",
        auth=Auth("client", "secret", "another refresh token"),
        owner="owner",
    )
    second = rates.gate(other_user, "create")
    assert first.windows[0] is not second.windows[0]  # each user has 5 a minute
    assert first.windows[1] is second.windows[1]  # both share the organisation's 15


def test_the_job_file_replaces_a_documented_limit() -> None:
    own = connection("a", requests=(("download", 3, 10.0),))
    assert [(limit.calls, limit.per) for limit in limits_for(own, "download")] == [(3, 10.0)]
    assert [(limit.calls, limit.per) for limit in limits_for(connection("b"), "download")] == [
        (10, 60.0)
    ]


async def test_a_long_wait_is_told_once(monkeypatch) -> None:
    monkeypatch.setattr("zsync.http.rates.NOTICE_AFTER", 0.05)
    rates = Rates()
    gate = rates.gate(connection("a", requests=(("download", 1, 0.1),)), "download")
    told: list[str] = []
    for _ in range(4):
        async with gate.call(told.append):
            pass
    assert told == [
        "download requests at crm/com/1 (1 per 100ms per organisation): requests wait for "
        "Zoho's per-minute limit"
    ]
