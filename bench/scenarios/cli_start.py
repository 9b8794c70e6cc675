"""CLI start (issue 12): wall time of `zsync --help`, `zsync validate jobs.example.yaml` and
`zsync plan jobs.example.yaml`, each beside `python -c pass` timed in the same rounds.

A round runs the four commands one after the other, so a busy moment of the machine falls on
all of them alike; each figure is the median of its rounds.

zsync runs as an installed copy does: from bytecode compiled once (pip compiles a wheel's
modules when it installs it). The bytecode goes to a temporary PYTHONPYCACHEPREFIX, so the
repository gets no __pycache__, and an environment with PYTHONDONTWRITEBYTECODE set doesn't
time the compiler instead of zsync. The medians without writing bytecode (as this
environment runs zsync from a checkout with PYTHONDONTWRITEBYTECODE=1: its modules compile on
every start) are in the details, for information.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.figures import Figure, at_most

NAME = "cli_start"
QUIET = True  # runs before the scenarios that run apart start: their start-up is CPU
GOAL_SECONDS = 0.15
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "jobs.example.yaml"

REFERENCE = "python -c pass"
COMMANDS = {
    REFERENCE: ["-c", "pass"],
    "zsync --help": ["-m", "zsync", "--help"],
    "zsync validate jobs.example.yaml": ["-m", "zsync", "validate", str(EXAMPLE)],
    "zsync plan jobs.example.yaml": ["-m", "zsync", "plan", str(EXAMPLE)],
}


def _environment(pycache: Path | None) -> dict[str, str]:
    """With `pycache`, bytecode is written there and read back; without, none is written (so
    zsync's modules compile on every start, unless the checkout has a __pycache__)."""
    env = dict(os.environ)
    # This repository's zsync, whatever an editable install in the venv points at.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("PYTHONPYCACHEPREFIX", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def _once(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args], env=env, cwd=ROOT, capture_output=True, timeout=60, check=False
    )
    took = time.perf_counter() - started
    if done.returncode != 0:  # a command that fails fast would look like a fast start
        raise RuntimeError(f"{args} exited {done.returncode}: {done.stderr.decode()[-2000:]}")
    return took


def _rounds(rounds: int, env: dict[str, str]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(rounds):
        for name, args in COMMANDS.items():
            times[name].append(_once(args, env))
    return times


def run(smoke: bool) -> list[Figure]:
    rounds, cold_rounds = (2, 1) if smoke else (15, 5)
    with tempfile.TemporaryDirectory(prefix="zsync-bench-pycache-") as temp:
        warm_env = _environment(Path(temp))
        _rounds(1, warm_env)  # compiles the bytecode, and reads every file once
        warm = _rounds(rounds, warm_env)
        cold = _rounds(cold_rounds, _environment(None))
    reference = statistics.median(warm[REFERENCE])
    figures = []
    for name in COMMANDS:
        if name == REFERENCE:
            continue
        median = statistics.median(warm[name])
        figures.append(
            Figure(
                NAME,
                name,
                median,
                "s",
                REFERENCE,
                reference,
                f"< {GOAL_SECONDS:g} s",
                at_most(median, GOAL_SECONDS),
                {
                    "rounds": rounds,
                    "seconds": warm[name],
                    "reference_seconds": warm[REFERENCE],
                    "without_bytecode_median": statistics.median(cold[name]),
                    "without_bytecode_reference_median": statistics.median(cold[REFERENCE]),
                },
            )
        )
    return figures
