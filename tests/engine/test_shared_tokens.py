"""Access tokens across runners on one state store: the token window (limits.tokens; Zoho's
10 per refresh token per 10 minutes) is counted by all of them, and with
auth.share_access_token they use one token instead of asking Zoho each."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from zsync.state.sqlite import SqliteStore

JOBS = "leads: {export: {from: crm, module: Leads, fields: [Last_Name]}, output: leads.csv}\n"


def _edit(spec: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = yaml.safe_load(spec.read_text())
    change(data["connections"]["crm"])
    spec.write_text(yaml.safe_dump(data))


async def test_runners_share_one_access_token_when_the_job_file_says_so(start, tmp_path) -> None:
    zoho = await start(tmp=tmp_path)
    spec = zoho.spec(JOBS)
    for _ in range(3):
        assert (await zoho.run_file(spec)).code == 0
    assert zoho.emulator.stats.count("oauth.token") == 3  # by default, each run its own
    _edit(spec, lambda crm: crm["auth"].update(share_access_token=True))
    for _ in range(3):
        assert (await zoho.run_file(spec)).code == 0
    assert zoho.emulator.stats.count("oauth.token") == 4  # one more, then shared
    store = SqliteStore(tmp_path / ".zsync" / "state.db")
    shared = store.shared_token
    # Kept under a digest, never the client's secrets; the manifest never shows the token.
    rows = store._read("SELECT key, token FROM access_tokens")
    assert len(rows) == 1 and len(rows[0][0]) == 32
    assert shared(rows[0][0]) is not None
    manifest = (tmp_path / ".zsync" / "runs").glob("*/manifest.json")
    assert all(rows[0][1] not in path.read_text() for path in manifest)


async def test_the_token_window_is_counted_across_runs_on_one_store(start, tmp_path) -> None:
    zoho = await start(tmp=tmp_path)
    spec = zoho.spec(JOBS)
    _edit(spec, lambda crm: crm.setdefault("limits", {}).update(tokens={"calls": 2, "per": 1.5}))
    started = time.monotonic()
    for _ in range(3):
        run = await zoho.run_file(spec)
        assert run.code == 0, run.log
    # Two tokens in the window's 1.5 s; the third run's waits for the first to age out.
    assert time.monotonic() - started >= 1.5
    assert zoho.emulator.stats.count("oauth.token") == 3
