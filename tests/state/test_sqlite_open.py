"""Runners started together on one new SQLite store all open it: the switch to WAL mode
answers "database is locked" at once (no busy wait) when another process holds a lock, which
made one of two runners in a CI run fail at start."""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Barrier
from pathlib import Path

from zsync.errors import StateError
from zsync.state.sqlite import SqliteStore

OPENERS = 6
ROUNDS = 15  # before the fix about one opener in ten failed: 90 opens all but never pass


def _open(path: str, together: Barrier, answers: multiprocessing.SimpleQueue[str]) -> None:
    together.wait()
    try:
        SqliteStore(Path(path)).close()
    except StateError as exc:
        answers.put(str(exc))
        return
    answers.put("")


def test_runners_opening_one_new_store_together_all_open_it(tmp_path: Path) -> None:
    fork = multiprocessing.get_context("fork")
    failures = []
    for round_ in range(ROUNDS):
        path = tmp_path / str(round_) / "state.db"
        together = fork.Barrier(OPENERS)
        answers: multiprocessing.SimpleQueue[str] = fork.SimpleQueue()
        openers = [
            fork.Process(target=_open, args=(str(path), together, answers)) for _ in range(OPENERS)
        ]
        for opener in openers:
            opener.start()
        for opener in openers:
            opener.join(60)
            assert opener.exitcode == 0
        failures += [answer for answer in (answers.get() for _ in openers) if answer]
    assert failures == []
    store = SqliteStore(tmp_path / "0" / "state.db")
    try:
        mode = store._connection().execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        store.close()
    assert mode == "wal"
