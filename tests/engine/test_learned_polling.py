"""Polling learns: a job file run again checks its jobs where they ended last time."""

from __future__ import annotations

import dataclasses
import statistics

from zsync.emulator import EmulatorConfig
from zsync.state.sqlite import SqliteStore

from .conftest import TIME_SCALE

JOBS = "".join(
    f"s{n}: {{export: {{from: analytics, view: Sales}}, output: s{n}.csv}}\n" for n in range(6)
)


def status_calls(run) -> list[int]:
    return [
        remote["status_calls"]
        for job in run.manifest["jobs"].values()
        for remote in job["remote_jobs"]
    ]


async def test_a_second_run_checks_where_the_first_saw_jobs_end(start, tmp_path) -> None:
    # Every job lasts 60 emulated seconds: 0.1 s here, 20x poll.first.
    config = dataclasses.replace(EmulatorConfig(time_scale=TIME_SCALE), job_seconds=(60.0, 60.0))
    zoho = await start(config, tmp=tmp_path)
    first = await zoho.run(JOBS)
    assert first.code == 0, first.log
    second = await zoho.run(JOBS)
    assert second.code == 0, second.log

    before, after = status_calls(first), status_calls(second)
    # Without history, checks start at 5 ms and grow: 5 by 0.1 s on an idle machine, fewer
    # when each call is slow (a busy CI machine), never as few as with history.
    assert statistics.mean(before) >= 3, before
    assert max(after) <= 2, after  # at the learned duration, and one just before it
    truth = zoho.emulator.ground_truth.analytics_view("Sales")
    for n in range(6):
        assert (second.out / f"s{n}.csv").read_bytes() == truth

    # The same six jobs are one kind (only their outputs differ): one history of 12.
    store = SqliteStore(second.state_dir / "state.db", read_only=True)
    try:
        [history] = store.durations(list({"x"} | _keys(store))).values()
    finally:
        store.close()
    assert len(history) == 12
    # About 0.1 s each (less the create call's own time: the job starts when Zoho gets it;
    # more when the check that saw it done came late on a busy machine).
    assert all(0.05 <= upper <= 0.5 for _, upper in history), history


def _keys(store: SqliteStore) -> set[str]:
    return {row[0] for row in store._read("SELECT DISTINCT key FROM durations")}
