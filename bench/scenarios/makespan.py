"""Makespan: Analytics exports of a set length, 5 at a time (the organisation's cap), so the
ideal is jobs / 5 x length. zsync (a first run, and a second that has the first's history)
beside hand-written pollers checking every 1 s and every 10 s (the docs' pattern), measured
in the same run against the same emulator, which serves from a process of its own at real
time (its time scale would distort zsync's own overhead). Also: the event loop's worst lag
during zsync's runs (nothing on the loop may delay a poll by more than a few ms)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.emulated import (
    Emulator,
    check_outputs,
    connection_yaml,
    emulator,
    ground_truth,
    run_zsync,
)
from bench.figures import Figure
from bench.pollers import fixed

NAME = "makespan"
CAP = 5
VIEW = "Customers"  # 50 rows: the download is not what is measured


def _job_file(zoho: Emulator, jobs: int, directory: Path) -> Path:
    lines = ["version: 1", "connections:", *connection_yaml("an", "analytics", zoho)]
    lines += ["defaults:", "  output_dir: out", "jobs:"]
    lines += [
        f"  e{n:03d}: {{export: {{from: an, view: {VIEW}}}, output: e{n:03d}.csv}}"
        for n in range(jobs)
    ]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "jobs.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _zsync(
    zoho: Emulator, jobs: int, directory: Path, runs: int, seed: int
) -> list[tuple[float, float]]:
    """(seconds, worst loop lag in ms) of `runs` runs of one job file, history kept; every
    output is checked against the ground truth."""
    spec = _job_file(zoho, jobs, directory)
    expected = ground_truth(seed=seed).analytics_view(VIEW)
    measured = []
    for _ in range(runs):
        result = run_zsync(spec, directory / ".zsync")
        failed = {n: j["status"] for n, j in result.manifest["jobs"].items()}
        assert result.code == 0, {n: s for n, s in failed.items() if s != "succeeded"}
        check_outputs(directory / "out", expected)
        measured.append((result.seconds, result.lag_max_ms))
    return measured


def run(smoke: bool) -> list[Figure]:
    jobs, length = (10, 0.2) if smoke else (100, 1.0)
    few = 10 if not smoke else 5  # the 10 s poller's share: its makespan is 10x anyway
    ideal = jobs / CAP * length
    figures: list[Figure] = []
    lags: list[float] = []
    with tempfile.TemporaryDirectory(prefix="zsync-bench-") as temp:
        root = Path(temp)
        with emulator(job_seconds=[length, length], seed=1) as zoho:
            [(exact, lag)] = _zsync(zoho, jobs, root / "exact", runs=1, seed=1)
            lags.append(lag)
            one = fixed(zoho, VIEW, jobs, CAP, 1.0 if not smoke else length)
            ten = fixed(zoho, VIEW, few, CAP, 10.0 if not smoke else 10 * length)
        ten_ideal = few / CAP * length
        figures += [
            Figure(
                NAME,
                f"{jobs} exports of exactly {length:g} s, first run",
                exact / ideal,
                "x ideal",
                "fixed 1 s poller",
                one / ideal,
                "<= 1.05x ideal",
                exact / ideal <= 1.05,
                {"seconds": exact, "ideal": ideal, "fixed_1s": one},
            ),
            Figure(
                NAME,
                f"{few} exports of exactly {length:g} s, fixed 10 s poller (the docs' pattern)",
                ten / ten_ideal,
                "x ideal",
                details={"seconds": ten, "ideal": ten_ideal},
            ),
        ]
        spread = [0.9 * length, 1.1 * length]
        with emulator(job_seconds=spread, seed=2) as zoho:
            (first, lag1), (second, lag2) = _zsync(zoho, jobs, root / "spread", runs=2, seed=2)
            lags += [lag1, lag2]
            one = fixed(zoho, VIEW, jobs, CAP, 1.0 if not smoke else length)
        figures += [
            Figure(
                NAME,
                f"{jobs} exports of {spread[0]:g}-{spread[1]:g} s, first run",
                first / ideal,
                "x ideal",
                "fixed 1 s poller",
                one / ideal,
                "<= the fixed 1 s poller",
                first <= one,
                {"seconds": first, "ideal": ideal, "fixed_1s": one},
            ),
            Figure(
                NAME,
                f"{jobs} exports of {spread[0]:g}-{spread[1]:g} s, second run (history)",
                second / ideal,
                "x ideal",
                "fixed 1 s poller",
                one / ideal,
                "<= 1.15x ideal",
                second / ideal <= 1.15,
                {"seconds": second, "ideal": ideal, "fixed_1s": one},
            ),
        ]
    figures.append(
        Figure(
            NAME,
            "worst event-loop lag during zsync's runs",
            max(lags),
            "ms",
            goal="< 10 ms",
            ok=max(lags) < 10,
            details={"each_run_ms": lags},
        )
    )
    return figures
