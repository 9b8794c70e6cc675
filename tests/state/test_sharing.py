"""The store's shared slots and call windows, as several runners see them (zsync.state.sharing):
two store objects on one file stand for two processes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from zsync.state.sharing import BUSY_RETRY, wait_for_room
from zsync.state.sqlite import SqliteStore
from zsync.state.store import StateStore

Runners = tuple[StateStore, StateStore]


@pytest.fixture(params=["sqlite", "postgres"])
def two_runners(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[StateStore, StateStore]]:
    """Two stores on one database: what two runner processes see."""
    opened: list[StateStore] = []
    for _ in range(2):
        if request.param == "postgres":
            from zsync.state.postgres import PostgresStore

            opened.append(PostgresStore(request.getfixturevalue("postgres_url")))
        else:
            opened.append(SqliteStore(tmp_path / "state.db"))
    yield opened[0], opened[1]
    for store in opened:
        store.close()


def test_slots_are_leased_up_to_the_cap_across_runners(two_runners: Runners) -> None:
    one, two = two_runners
    assert [one.take_slot("org/export", 3, f"a{n}", "one", 60) for n in range(2)] == [True] * 2
    assert two.take_slot("org/export", 3, "b0", "two", 60)
    assert not two.take_slot("org/export", 3, "b1", "two", 60)
    assert two.take_slot("org/import", 3, "c0", "two", 60)  # another key, its own cap
    one.free_slot("a0")
    assert two.take_slot("org/export", 3, "b1", "two", 60)
    assert one.slots_taken("org/export") == 3


def test_an_unrenewed_lease_expires_and_a_renewed_one_lives(two_runners: Runners) -> None:
    one, two = two_runners
    assert one.take_slot("k", 2, "dies", "one", 0.2)
    assert one.take_slot("k", 2, "lives", "one", 0.2)
    time.sleep(0.1)
    one.renew_slots(["lives"], 0.5)
    time.sleep(0.15)
    assert two.slots_taken("k") == 1  # "dies" was not renewed
    assert two.take_slot("k", 2, "next", "two", 60)
    assert not two.take_slot("k", 2, "more", "two", 60)


def test_calls_are_counted_from_their_end_across_runners(two_runners: Runners) -> None:
    one, two = two_runners
    assert one.take_call("crm/downloads", 2, 0.3, "c1") == 0
    assert two.take_call("crm/downloads", 2, 0.3, "c2") == 0
    # Both in flight: no end to count from yet.
    assert two.take_call("crm/downloads", 2, 0.3, "c3") == BUSY_RETRY
    one.end_call("c1")
    wait = two.take_call("crm/downloads", 2, 0.3, "c3")
    assert 0.2 < wait <= 0.3
    time.sleep(wait)
    assert two.take_call("crm/downloads", 2, 0.3, "c3") == 0


def test_a_shared_token_is_kept_by_key(two_runners: Runners) -> None:
    one, two = two_runners
    assert one.shared_token("k") is None
    one.put_shared_token("k", "1000.token", 123.5)
    two.put_shared_token("k", "1000.newer", 456.5)
    assert one.shared_token("k") == ("1000.newer", 456.5)


def test_room_in_a_window() -> None:
    assert wait_for_room(0, [], 1, 60, now=0) == 0
    assert wait_for_room(0, [10.0], 1, 60, now=20) == 50
    assert wait_for_room(1, [10.0], 3, 60, now=20) == 0
    assert wait_for_room(1, [10.0, 15.0], 3, 60, now=20) == 50
