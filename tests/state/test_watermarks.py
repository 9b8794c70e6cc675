"""Incremental exports' watermarks in the store (SQLite and PostgreSQL): one row per key,
replaced; created in a state file an older zsync wrote; read from a read-only store that has
none."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from zsync.state.sqlite import SqliteStore
from zsync.state.store import StateStore, WatermarkPut


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> StateStore:
    if request.param == "postgres":
        from zsync.state.postgres import PostgresStore

        return PostgresStore(request.getfixturevalue("postgres_url"))
    return SqliteStore(tmp_path / "state.db")


def test_a_watermark_is_replaced_and_read_back_by_key(store: StateStore) -> None:
    store.apply([WatermarkPut("a", "2025-03-01T10:15:00+05:30", "run1", "t1")])
    store.apply([WatermarkPut("a", "2025-03-02T10:15:00+05:30", "run2", "t2")])
    store.apply([WatermarkPut("b", "2025-01-01 00:00:00", "run2", "t2")])
    assert store.watermarks(["a", "b", "c"]) == {
        "a": "2025-03-02T10:15:00+05:30",
        "b": "2025-01-01 00:00:00",
    }
    assert store.watermarks([]) == {}
    store.close()


def test_a_state_file_without_the_table_gains_it(tmp_path) -> None:
    path = tmp_path / "state.db"
    store = SqliteStore(path)
    store.close()
    with sqlite3.connect(path) as db:  # as an older zsync left it
        db.execute("DROP TABLE watermarks")
    assert SqliteStore(path, read_only=True).watermarks(["a"]) == {}
    store = SqliteStore(path)
    store.apply([WatermarkPut("a", "2025-03-01T10:15:00+00:00", "run1", "t1")])
    assert SqliteStore(path, read_only=True).watermarks(["a"]) == {"a": "2025-03-01T10:15:00+00:00"}
    store.close()
