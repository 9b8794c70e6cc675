"""Poll economy: status calls per job, and how late zsync sees a job end, for jobs of 1, 10,
60 and 120 s (each ±10 %), on a first run and on the two runs after it, which have history.
The reference is the docs' pattern, a check every 10 s, on the very same jobs (its calls and
delays follow from each job's true length, which the emulator knows). The emulators (one per
length, five jobs each: the organisation's cap) serve from a thread of this process at real
time, so the bench can read when each job really ended."""

from __future__ import annotations

import dataclasses
import math
import statistics
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.emulated import run_zsync
from bench.figures import Figure
from bench.threaded import served
from zsync.emulator import EmulatorConfig, RunningEmulator

NAME = "poll_economy"
BACKGROUND = True  # five minutes of waiting for real-time jobs: it runs beside the others
PER_LENGTH = 5
EVERY = 10.0  # the reference poller's interval


def _job_file(emulators: dict[float, RunningEmulator], directory: Path) -> Path:
    lines = ["version: 1", "connections:"]
    for length, running in emulators.items():
        demo = running.emulator.demo(running.base_url)
        lines += [
            f"  an_{_label(length)}:",
            "    product: analytics",
            f'    base_url: "{running.base_url}"',
            f'    org_id: "{demo["analytics_org_id"]}"',
            f'    workspace: "{demo["analytics_workspace_id"]}"',
            f'    auth: {{client_id: "{demo["client_id"]}", client_secret: '
            f'"{demo["client_secret"]}", refresh_token: "{demo["refresh_token"]}"}}',
        ]
    lines += ["defaults:", "  output_dir: out", "  poll: {timeout: 30m}", "jobs:"]
    for length in emulators:
        for n in range(PER_LENGTH):
            name = f"j{_label(length)}_{n}"
            lines.append(
                f"  {name}: {{export: {{from: an_{_label(length)}, view: Customers}}, "
                f"output: {name}.csv}}"
            )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "jobs.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _label(length: float) -> str:
    return f"{length:g}".replace(".", "p")


def _seen(manifest: dict[str, Any], emulators: dict[float, RunningEmulator]) -> dict[float, list]:
    """Per length: (status calls, seconds between the job's end and zsync seeing it, true
    length) of every job."""
    found: dict[float, list] = {length: [] for length in emulators}
    for name, job in manifest["jobs"].items():
        length = next(x for x in emulators if name.startswith(f"j{_label(x)}_"))
        book = emulators[length].emulator.jobs
        for remote in job["remote_jobs"]:
            zoho_job = book.jobs[remote["id"]]
            ended = zoho_job.timeline.finished_at
            done = next(s["at"] for s in remote["states"] if s["state"] == "completed")
            seen = datetime.fromisoformat(done.replace("Z", "+00:00")).timestamp()
            true_length = ended - zoho_job.timeline.created
            found[length].append((remote["status_calls"], max(seen - ended, 0.0), true_length))
    return found


def run(smoke: bool) -> list[Figure]:
    lengths = (0.2, 0.5) if smoke else (1.0, 10.0, 60.0, 120.0)
    configs = [
        dataclasses.replace(
            EmulatorConfig(seed=index + 1, token_budget=None, token_lifetime=1e9),
            job_seconds=(0.9 * length, 1.1 * length),
        )
        for index, length in enumerate(lengths)
    ]
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="zsync-bench-") as temp, served(configs) as started:
        emulators = dict(zip(lengths, started, strict=True))
        spec = _job_file(emulators, Path(temp))
        runs = []
        for _ in range(3):
            result = run_zsync(spec, Path(temp) / ".zsync")
            assert result.code == 0, result.manifest["jobs"]
            for length, running in emulators.items():
                expected = running.emulator.ground_truth.analytics_view("Customers")
                for n in range(PER_LENGTH):
                    out = Path(temp) / "out" / f"j{_label(length)}_{n}.csv"
                    assert out.read_bytes() == expected, f"{out} differs from the ground truth"
            runs.append(_seen(result.manifest, emulators))
    # The second and third runs both have history: ten jobs of each length, not five.
    together = {length: runs[1][length] + runs[2][length] for length in lengths}
    for label, seen in (("first run", runs[0]), ("runs 2 and 3 (history)", together)):
        history = label != "first run"
        for length in lengths:
            jobs = seen[length]
            calls = statistics.mean(c for c, _, _ in jobs)
            delay = statistics.median(d for _, d, _ in jobs)
            ref_calls = statistics.mean(math.ceil(t / EVERY) for _, _, t in jobs)
            ref_delay = statistics.median(math.ceil(t / EVERY) * EVERY - t for _, _, t in jobs)
            calls_goal, share = (3, 0.05) if history else (10, 0.25)
            limit = share * length + 1
            figures.append(
                Figure(
                    NAME,
                    f"status calls per job of {length:g} s, {label}",
                    calls,
                    "calls",
                    "fixed 10 s",
                    ref_calls,
                    f"<= {calls_goal}" if history or length >= 120 else "",
                    calls <= calls_goal if history or length >= 120 else None,
                    {"per_job": [c for c, _, _ in jobs]},
                )
            )
            figures.append(
                Figure(
                    NAME,
                    f"seen late, job of {length:g} s, {label} (median)",
                    delay,
                    "s",
                    "fixed 10 s",
                    ref_delay,
                    f"<= {share:.0%} of the age + 1 s ({limit:.2f} s)",
                    delay <= limit,
                    {"max": max(d for _, d, _ in jobs), "per_job": [d for _, d, _ in jobs]},
                )
            )
    return figures
