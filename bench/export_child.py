"""One zsync run of a job file, in this process, timed from the plan to the committed
output (the interpreter's start and imports are the cli_start scenario's business).

    python bench/export_child.py JOBS.yaml STATE_DIR

Prints {"seconds": ..., "code": ...} as one JSON line. The parent reads this process's peak
resident memory from wait4(2).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from zsync.plan import build_plan
from zsync.runner import run_plan
from zsync.runs import started_run
from zsync.spec import load_spec


async def run(jobs: Path, state: Path) -> int:
    plan = build_plan(load_spec(jobs, {}), ())
    log: list[str] = []
    async with started_run(plan, state, resume=None, report=log.append) as recorder:
        code = await run_plan(plan, recorder, state, None, log.append)
    if code:
        print("\n".join(log[-20:]), file=sys.stderr)
    return code


def main() -> None:
    jobs, state = Path(sys.argv[1]), Path(sys.argv[2])
    started = time.perf_counter()
    code = asyncio.run(run(jobs, state))
    print(json.dumps({"seconds": time.perf_counter() - started, "code": code}), flush=True)


if __name__ == "__main__":
    main()
