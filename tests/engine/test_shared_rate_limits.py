"""Two zsync processes on one state store share CRM's download limit: together they keep
to 10 a minute, and the emulator (which enforces it, then blocks for a minute) never answers
429. Each alone would think it had the whole minute to itself."""

from __future__ import annotations

import asyncio
import math
import os
import sys
import time
from pathlib import Path

from tests.engine.test_rate_limits import JOBS, MINUTE, _config, _windows_needed

ZSYNC = str(Path(sys.executable).with_name("zsync"))
RUNNERS = 2


async def test_two_runners_keep_to_one_download_limit_together(start, tmp_path) -> None:
    zoho = await start(_config(), tmp=tmp_path)
    crm_jobs = "".join(JOBS.splitlines(keepends=True)[:3])
    pages = sum(
        math.ceil(zoho.emulator.config.size("crm", m) / 10) for m in ("Leads", "Contacts", "Deals")
    )
    text = zoho.spec(crm_jobs).read_text()
    assert "{calls: 10, per: 0.5}" in text  # the job file keeps to the emulator's minute
    files = []
    for n in range(RUNNERS):
        (tmp_path / f"team{n}").mkdir()
        files.append(tmp_path / f"team{n}" / "jobs.yaml")
        files[-1].write_text(text)
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("ZOHO_", "ZSYNC_"))}
    environment.update(ZSYNC_STATE_DIR=str(tmp_path / "state"), CI="true")

    started = time.monotonic()
    processes = [
        await asyncio.create_subprocess_exec(
            ZSYNC,
            "run",
            str(path),
            cwd=path.parent,
            env=environment,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for path in files
    ]
    ended = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in processes)), 120)
    elapsed = time.monotonic() - started

    for process, (_, stderr) in zip(processes, ended, strict=True):
        assert process.returncode == 0, stderr.decode()
    assert zoho.emulator.limits.refused == [], "the runners shared the window: no 429"
    # 2 x 35 downloads at 10 a minute: at least 6 minutes must pass (3 for one runner alone).
    imposed = MINUTE * _windows_needed(RUNNERS * pages, 10)
    assert elapsed >= imposed, (elapsed, imposed)
