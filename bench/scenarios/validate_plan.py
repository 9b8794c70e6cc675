"""validate and plan of a 10,000-job file (issues 10 and 12): `validate_spec`, then
`build_plan` on the result, beside `yaml.load` of the same file with libyaml (the floor of
reading YAML at all)."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from bench.figures import Figure
from bench.validate_speed import big_spec
from zsync.plan import build_plan
from zsync.spec import validate_spec

NAME = "validate_plan"
GOAL_SECONDS = 2.0


def _median(action: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(smoke: bool) -> list[Figure]:
    jobs, rounds = (300, 1) if smoke else (10_000, 3)
    with tempfile.TemporaryDirectory(prefix="zsync-bench-") as temp:
        path = Path(temp) / "jobs.yaml"
        path.write_text(big_spec(jobs))
        result = validate_spec(path, {})
        assert result.spec is not None, result.diagnostics[:3]
        spec = result.spec
        validate = _median(lambda: validate_spec(path, {}), rounds)
        plan = _median(lambda: build_plan(spec), rounds)
        text = path.read_text()
        floor = _median(lambda: yaml.load(text, Loader=yaml.CSafeLoader), rounds)
    return [
        Figure(
            NAME,
            f"validate {jobs:,} jobs",
            validate,
            "s",
            "yaml.load (libyaml)",
            floor,
            f"< {GOAL_SECONDS:g} s",
            validate < GOAL_SECONDS,
        ),
        Figure(
            NAME,
            f"plan {jobs:,} jobs (after validate)",
            plan,
            "s",
            "yaml.load (libyaml)",
            floor,
            f"< {GOAL_SECONDS:g} s",
            plan < GOAL_SECONDS,
        ),
    ]
