"""2,000 zero-length jobs: what zsync's own bookkeeping costs per job (the state-store issue's
figure). Zero-row CRM exports against an emulator on a fast clock in its own process; zsync
in a fresh process. Reference: the same run with a store that writes no job (how fast the
run goes with recording free). Medians of alternating rounds; `bench/run_throughput.py`
also times single state changes and the loop's lag from state work alone."""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from bench.emulated import check_outputs, ground_truth
from bench.figures import Figure
from bench.run_throughput import TARGET_JOBS_PER_S, throughput

NAME = "throughput"
CAP = 200
TIME_SCALE = 10_000.0


def run(smoke: bool) -> list[Figure]:
    jobs, rounds = (50, 1) if smoke else (2_000, 3)
    runs: dict[str, list[dict]] = {"store": [], "null_store": []}
    # Every export has no rows: each output is the header the emulator's ground truth has.
    truth = ground_truth(sizes={"crm_Accounts": 0})
    expected = truth.crm_records("Accounts", ["Account_Name"])
    with tempfile.TemporaryDirectory(prefix="zsync-bench-") as scratch:
        for _ in range(rounds):
            for key in ("null_store", "store"):
                result = throughput(jobs, CAP, TIME_SCALE, key == "null_store", None, Path(scratch))
                assert result["statuses"] == {"succeeded": jobs}, result["first_error"]
                check_outputs(Path(result["out"]), expected)
                runs[key].append(result)
    store = statistics.median(r["jobs_per_s"] for r in runs["store"])
    null = statistics.median(r["jobs_per_s"] for r in runs["null_store"])
    rss = max(r["peak_rss_mb"] for r in runs["store"])
    return [
        Figure(
            NAME,
            f"{jobs:,} zero-length jobs",
            store,
            "jobs/s",
            "writing no job",
            null,
            f">= {TARGET_JOBS_PER_S:g} jobs/s",
            store >= TARGET_JOBS_PER_S,
            {"store": runs["store"], "null_store": runs["null_store"]},
        ),
        Figure(NAME, f"peak RSS, {jobs:,} zero-length jobs", rss, "MiB"),
    ]
