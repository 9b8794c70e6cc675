"""Benchmark: what recording a run in the state store costs (issue 9).

1. Throughput: --jobs (default 2,000) zero-row CRM exports (an empty module) run against the
   emulator, which serves from its own process on a fast clock; zsync runs in another
   process (`started_run` + `run_plan`, as `zsync run` does, progress lines discarded). The
   reference is the same run with a store whose apply() writes no job (a SqliteStore
   subclass). --rounds runs of each, alternating, each against a fresh emulator; medians.
2. Cost of one state change with SqliteStore + Recorder (no HTTP) in runs of 100, 1,000 and
   10,000 jobs (two Zoho jobs each): `durable()` after each change (one transaction each),
   and once after all. The reference is the 100-job figure; flat means within 1.5x of it.
3. The event loop's worst lag (a task sleeping 1 ms, its overshoot): during (1), and during
   state work alone (the changes of a busy run, paced, with the manifest rendered as a
   run renders it) in runs of 100, 1,000 and 10,000 jobs.
4. Peak resident memory of the zsync process in (1).

Run by hand:  python bench/run_throughput.py [--jobs 2000] [--rounds 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zsync.manifest import rendered_while_running, write_manifest
from zsync.runner import tuned_for_a_run
from zsync.state.recorder import Recorder
from zsync.state.records import JobRecord, RemoteJob, RunRecord, StateChange, now
from zsync.state.sqlite import SqliteStore

TARGET_JOBS_PER_S = 500.0
FLAT = 1.5  # the 10,000-job change may cost this many times the 100-job one
TARGET_LAG_MS = 10.0
IN_FLIGHT = 200  # jobs a run has at Zoho at once in part (1): its cap
SIZES = (100, 1_000, 10_000)
PROBE_SLEEP = 0.001
STATE_LAG_SECONDS = 6.0  # the manifest is rendered after 2 s, then every 2 s or 4x its cost
PACED_BURST, PACED_EVERY = 12, 0.005  # up to ~2,400 changes/s: what (1) records at its pace


# -- the emulator, in its own process ----------------------------------------------------------


@dataclass
class Emulator:
    process: subprocess.Popen[str]
    base_url: str
    auth: dict[str, str]

    def cpu_seconds(self) -> float | None:
        """CPU the emulator has used so far (Linux); None where /proc isn't there."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()


EMULATOR = """
import sys
from zsync.emulator import EmulatorConfig
from zsync.emulator.server import serve

# Tokens live for ever: at this clock speed an emulated hour passes in well under a second.
# Nor are downloads held to CRM's 10 a minute: its minute lasts 6 ms here, less than a request
# takes, so the limit would be all that is measured (zsync's windows count requests in flight).
config = EmulatorConfig(time_scale=float(sys.argv[1]), token_lifetime=1e12, rate_limits=False)
serve(port=0, config=config.with_sizes(crm_Accounts=0))
"""


def start_emulator(time_scale: float) -> Emulator:
    """The emulator in its own process, its CRM Accounts empty: every export has no rows."""
    process = subprocess.Popen(
        [sys.executable, "-c", EMULATOR, str(time_scale)], stdout=subprocess.PIPE, text=True
    )
    base_url = ""
    auth: dict[str, str] = {}
    keys = {"client id": "client_id", "client secret": "client_secret"}
    keys["refresh token"] = "refresh_token"
    assert process.stdout is not None
    for line in process.stdout:
        if match := re.match(r"zsync emulator listening on (\S+)", line):
            base_url = match.group(1)
        elif match := re.match(r"\s+(client id|client secret|refresh token)\s+(\S+)", line):
            auth[keys[match.group(1)]] = match.group(2)
        elif line.strip().startswith("time scale"):
            return Emulator(process, base_url, auth)
    raise SystemExit("the emulator did not start")


def job_file(emulator: Emulator, jobs: int, cap: int) -> str:
    auth = ", ".join(f'{key}: "{value}"' for key, value in emulator.auth.items())
    lines = [
        "version: 1",
        "connections:",
        "  crm:",
        "    product: crm",
        f'    base_url: "{emulator.base_url}"',
        f"    auth: {{{auth}}}",
        # Not CRM's 10 downloads a minute: see EMULATOR.
        f"    limits: {{exports: {cap}, requests: {{download: {{calls: 1000000, per: 1s}}}}}}",
        "defaults:",
        "  poll: {first: 5ms, max: 20ms, timeout: 10m}",
        "  retry: {attempts: 4, backoff: 5ms}",
        "  output_dir: out",
        "jobs:",
    ]
    for n in range(jobs):
        lines.append(f"  empty_{n:05d}:")
        lines.append("    export: {from: crm, module: Accounts, fields: [Account_Name]}")
        lines.append(f"    output: empty_{n:05d}.csv")
    return "\n".join(lines) + "\n"


# -- (1) and (3): one run, in a fresh process ---------------------------------------------------


def run_in_child(spec_path: str, null_store: bool, profile: str | None) -> dict[str, Any]:
    """Runs in a spawned process: one whole run of `spec_path`, with its loop probed."""
    try:
        return _run_in_child(spec_path, null_store, profile)
    except BaseException:  # zsync's errors don't all survive pickling: send the text
        raise RuntimeError(traceback.format_exc()) from None


def _run_in_child(spec_path: str, null_store: bool, profile: str | None) -> dict[str, Any]:
    from zsync.runs import STATE_FILE
    from zsync.state.sqlite import SqliteStore
    from zsync.state.store import Change, RunPut

    class NullStore(SqliteStore):
        """Writes only the run's own row (the manifest needs it), never a job's."""

        def apply(self, changes: Sequence[Change]) -> None:
            runs = [change for change in changes if isinstance(change, RunPut)]
            if runs:
                super().apply(runs)

    if null_store:
        import zsync.runs

        zsync.runs.open_store = lambda state_dir, state_url=None: NullStore(state_dir / STATE_FILE)
    if profile is None:
        return asyncio.run(_measured_run(Path(spec_path)))
    import cProfile

    profiler = cProfile.Profile()
    result = profiler.runcall(asyncio.run, _measured_run(Path(spec_path)))
    profiler.dump_stats(profile)
    return result


async def _measured_run(spec_path: Path) -> dict[str, Any]:
    from zsync.plan import build_plan
    from zsync.runner import run_plan
    from zsync.runs import started_run, state_dir_for
    from zsync.spec import load_spec

    spec = load_spec(spec_path, {})
    plan = build_plan(spec, ())
    lags: list[tuple[float, float]] = []  # (lag, when)
    probe = asyncio.create_task(_probe(lags))
    log: list[str] = []
    cpu = _cpu()
    started = time.perf_counter()
    async with started_run(plan, state_dir_for(spec, None), report=log.append) as recorder:
        opened = time.perf_counter()  # the run and its jobs are recorded, the lock held
        code = await run_plan(plan, recorder, state_dir_for(spec, None), None, log.append)
        ran = time.perf_counter()
        jobs = recorder.jobs
        batches, committed = recorder.batches, recorder.committed
    elapsed = time.perf_counter() - started
    cpu = _cpu() - cpu
    probe.cancel()
    statuses: dict[str, int] = {}
    for record in jobs.values():
        statuses[record.status] = statuses.get(record.status, 0) + 1
    errors = [r.error.message for r in jobs.values() if r.error is not None]
    worst = max(lags, default=(0.0, 0.0))
    late = sorted(lag for lag, _ in lags)
    return {
        "exit_code": code,
        "jobs": len(jobs),
        "statuses": statuses,
        "first_error": errors[0] if errors else None,
        "seconds": elapsed,
        "jobs_per_s": len(jobs) / elapsed,
        "open_s": opened - started,
        "run_s": ran - opened,
        "close_s": started + elapsed - ran,
        "cpu_share": cpu / elapsed,
        "batches": batches,
        "committed": committed,
        "lag_max_ms": worst[0] * 1000,
        "lag_max_at_s": worst[1] - started,
        "lag_p99_ms": late[int(len(late) * 0.99)] * 1000 if late else None,
        "lags_over_10ms": sum(1 for lag in late if lag > 0.010),
        "lag_samples": len(late),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB (Linux)
    }


async def _probe(lags: list[tuple[float, float]]) -> None:
    """How late the loop wakes a task that asked for 1 ms, and when."""
    while True:
        started = time.perf_counter()
        await asyncio.sleep(PROBE_SLEEP)
        lags.append((time.perf_counter() - started - PROBE_SLEEP, started))


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def throughput(
    jobs: int, cap: int, time_scale: float, null_store: bool, profile: str | None, scratch: Path
) -> dict[str, Any]:
    """One run against a fresh emulator (its job book would slow a second run down), in a
    new directory under `scratch`. The rounds' directories are removed together at the end:
    deleting a round's 2,000 files on ext4 slowed the next round's fsyncs (up to -20 %)."""
    emulator = start_emulator(time_scale)
    try:
        spec_path = Path(tempfile.mkdtemp(prefix="round-", dir=scratch)) / "jobs.yaml"
        spec_path.write_text(job_file(emulator, jobs, cap))
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(1, mp_context=spawn) as pool:
            pool.submit(_noop).result()  # the child is up and zsync imported before timing
            before = emulator.cpu_seconds()
            result = pool.submit(run_in_child, str(spec_path), null_store, profile).result()
            after = emulator.cpu_seconds()
    finally:
        emulator.stop()
    if before is not None and after is not None:
        result["emulator_cpu_share"] = (after - before) / result["seconds"]
    result["out"] = str(spec_path.parent / "out")
    return result


def _noop() -> None:
    import zsync.runner  # noqa: F401  (imports paid before the clock starts)


# -- (2) and (3): state changes, with the store and the recorder alone ------------------------


@dataclass
class StateRun:
    """A recorded run of `size` jobs (two Zoho jobs each), ready for more changes."""

    recorder: Recorder
    names: list[str]
    directory: Path

    def change(self, i: int) -> None:
        """The i-th of a run's typical changes, spread over the jobs a run has in flight at
        once (IN_FLIGHT, the cap of part 1; not one hot row), that window moving on through
        the run every IN_FLIGHT * 10 changes: what a big run's changes touch, whatever its
        size."""
        window = min(IN_FLIGHT, len(self.names))
        start = (i // (IN_FLIGHT * 10)) * window
        name = self.names[(start + (i * 7919) % window) % len(self.names)]
        kind = i % 3
        if kind == 0:
            self.recorder.update_job(name, status="running", attempts=i, started_at=now())
        elif kind == 1:
            self.recorder.update_remote(name, 0, count=i)
        else:
            self.recorder.remote_state(name, 1, "running", "IN PROGRESS")

    def changes(self) -> int:
        return self.recorder.changes

    def render(self) -> None:
        write_manifest(self.recorder.store, self.directory, self.recorder.run.run_id)


@contextlib.asynccontextmanager
async def state_run(size: int, directory: Path) -> AsyncIterator[StateRun]:
    store = SqliteStore(directory / f"state-{size}.db")
    run = RunRecord(
        run_id=f"bench-{size}",
        scope=str(directory / "jobs.yaml"),
        spec_path=str(directory / "jobs.yaml"),
        spec_sha256="0" * 64,
        zsync_version="bench",
        started_at=now(),
        pid=os.getpid(),
        host="bench",
    )
    names = [f"job_{n:05d}" for n in range(size)]
    try:
        async with Recorder(store, run, {}) as recorder:
            recorder.put_run()
            for n, name in enumerate(names):
                recorder.put_job(
                    name, JobRecord("export", "crm", "crm", definition_sha256="d" * 64)
                )
                for page in (1, 2):
                    seen = (StateChange("running", "IN PROGRESS", now()),)
                    remote = RemoteJob(id=str(10**18 + 2 * n + page), created_at=now())
                    recorder.add_remote(name, remote)
                    recorder.update_remote(name, page - 1, page=page, states=seen)
            await recorder.durable()
            with tuned_for_a_run():  # as run_plan does
                yield StateRun(recorder, names, directory)
    finally:
        store.close()


async def state_work(changes: int, rounds: int, directory: Path) -> dict[str, dict[str, Any]]:
    """For each run size: µs per change with `durable()` after each and after all (medians
    of `rounds`, the sizes taking turns so that drift hits them alike), then the loop's lag
    while changes come at a busy run's pace and the manifest is rendered as a run renders it."""
    each: dict[int, list[float]] = {size: [] for size in SIZES}
    batched: dict[int, list[float]] = {size: [] for size in SIZES}
    found: dict[str, dict[str, Any]] = {}
    async with contextlib.AsyncExitStack() as stack:
        runs = {size: await stack.enter_async_context(state_run(size, directory)) for size in SIZES}
        for _ in range(rounds):
            for size, run in runs.items():
                started = time.perf_counter()
                for i in range(changes):
                    run.change(i)
                    await run.recorder.durable()
                each[size].append((time.perf_counter() - started) / changes * 1e6)
                started = time.perf_counter()
                for i in range(changes):
                    run.change(i)
                await run.recorder.durable()
                batched[size].append((time.perf_counter() - started) / changes * 1e6)
        for size, run in runs.items():
            lags: list[tuple[float, float]] = []
            probe = asyncio.create_task(_probe(lags))
            async with rendered_while_running(run.render, run.changes):
                i = 0
                until = time.perf_counter() + STATE_LAG_SECONDS
                while time.perf_counter() < until:
                    for _ in range(PACED_BURST):
                        run.change(i)
                        i += 1
                    await run.recorder.durable()  # as before and after each create call
                    await asyncio.sleep(PACED_EVERY)
            probe.cancel()
            late = sorted(lag for lag, _ in lags)
            found[str(size)] = {
                "durable_each_us": statistics.median(each[size]),
                "batched_us": statistics.median(batched[size]),
                "rounds": {"durable_each_us": each[size], "batched_us": batched[size]},
                "paced_changes_per_s": i / STATE_LAG_SECONDS,
                "lag_max_ms": late[-1] * 1000,
                "lag_p99_ms": late[int(len(late) * 0.99)] * 1000,
            }
    return found


# -- the report -----------------------------------------------------------------------------------


@dataclass
class Row:
    figure: str
    value: str
    reference: str
    target: str
    ok: bool | None


def median_of(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def rows_for(result: dict[str, Any], jobs: int) -> list[Row]:
    store, null = result["throughput"]["store"], result["throughput"]["null_store"]
    ok_jobs = min(run["statuses"].get("succeeded", 0) for run in store)
    null_ok_jobs = min(run["statuses"].get("succeeded", 0) for run in null)
    rows = [
        Row(
            f"throughput (jobs/s, median of {len(store)})",
            f"{median_of(store, 'jobs_per_s'):.0f}",
            f"{median_of(null, 'jobs_per_s'):.0f} (null store)",
            f">= {TARGET_JOBS_PER_S:.0f}",
            median_of(store, "jobs_per_s") >= TARGET_JOBS_PER_S,
        ),
        Row(
            "jobs succeeded (fewest in a run)",
            str(ok_jobs),
            f"{null_ok_jobs} (null store)",
            str(jobs),
            ok_jobs == jobs,
        ),
    ]
    costs = result["change_cost"]
    for kind, label in (("durable_each_us", "durable each"), ("batched_us", "batched")):
        base = costs[str(SIZES[0])][kind]
        for size in SIZES:
            value = costs[str(size)][kind]
            first = size == SIZES[0]
            rows.append(
                Row(
                    f"1 change, {label}, {size:,} jobs (µs)",
                    f"{value:.1f}",
                    "" if first else f"{base:.1f} (100 jobs)",
                    "" if first else f"<= {FLAT * base:.1f}",
                    None if first else value <= FLAT * base,
                )
            )
    rows += [
        Row(
            # Informational: 200 jobs' HTTP keep a loop turn this long with or without the
            # store (the null store's figure); the state store's own share is measured alone.
            "loop lag max during (1) (ms)",
            f"{median_of(store, 'lag_max_ms'):.1f}",
            f"{median_of(null, 'lag_max_ms'):.1f} (null store)",
            "",
            None,
        ),
        Row(
            "loop lag p99 during (1) (ms)",
            f"{median_of(store, 'lag_p99_ms'):.1f}",
            f"{median_of(null, 'lag_p99_ms'):.1f} (null store)",
            "",
            None,
        ),
    ]
    base = costs[str(SIZES[0])]["lag_max_ms"]
    for size in SIZES:
        value = costs[str(size)]["lag_max_ms"]
        rows.append(
            Row(
                f"loop lag max, state work alone, {size:,} jobs (ms)",
                f"{value:.1f}",
                "" if size == SIZES[0] else f"{base:.1f} (100 jobs)",
                f"< {TARGET_LAG_MS:.0f}",
                value < TARGET_LAG_MS,
            )
        )
    rows.append(
        Row(
            "zsync peak RSS during (1) (MB)",
            f"{max(run['peak_rss_mb'] for run in store):.0f}",
            f"{max(run['peak_rss_mb'] for run in null):.0f} (null store)",
            "",
            None,
        )
    )
    return rows


def print_table(rows: list[Row]) -> None:
    header = Row("figure", "value", "reference", "target", None)
    cells = [[r.figure, r.value, r.reference, r.target] for r in (header, *rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    for n, (row, line) in enumerate(zip((header, *rows), cells, strict=True)):
        ok = "ok?" if n == 0 else {True: "ok", False: "FAIL", None: ""}[row.ok]
        print(" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " | " + ok)
        if n == 0:
            print("-+-".join("-" * w for w in widths) + "-+-----")


def print_notes(result: dict[str, Any]) -> None:
    """What explains the figures: each run's speed, and who had the CPU."""
    for key, runs in result["throughput"].items():
        for run in runs:
            print(
                f"  {key.replace('_', ' '):10} {run['jobs_per_s']:4.0f} jobs/s "
                f"({run['open_s']:.2f}s open, {run['run_s']:.2f}s run); zsync CPU "
                f"{run['cpu_share']:.2f} cores, emulator {run.get('emulator_cpu_share', 0):.2f}; "
                f"{run['committed'] / max(run['batches'], 1):.1f} changes per commit; "
                f"worst lag at {run['lag_max_at_s']:.2f}s"
            )


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2_000, help="export jobs in (1)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each kind in (1) and (2)")
    parser.add_argument("--cap", type=int, default=200, help="the connection's export cap")
    parser.add_argument("--time-scale", type=float, default=10_000.0, help="emulated s / real s")
    parser.add_argument("--changes", type=int, default=2_000, help="state changes timed in (2)")
    parser.add_argument("--json", help="write the numbers here (default: one line on stdout)")
    parser.add_argument("--profile", help="cProfile the first store run of (1) into this file")
    args = parser.parse_args()

    result: dict[str, Any] = {"jobs": args.jobs, "cap": args.cap, "time_scale": args.time_scale}
    result["cpus"] = os.cpu_count()
    result["throughput"] = {"null_store": [], "store": []}
    with tempfile.TemporaryDirectory(prefix="zsync-bench-") as scratch:
        for round_ in range(args.rounds):
            for key in ("null_store", "store"):
                say(
                    f"(1) round {round_ + 1}: {args.jobs} zero-row exports, {key.replace('_', ' ')}"
                )
                profile = args.profile if key == "store" and round_ == 0 else None
                run = throughput(
                    args.jobs,
                    args.cap,
                    args.time_scale,
                    key == "null_store",
                    profile,
                    Path(scratch),
                )
                result["throughput"][key].append(run)
    say("(2, 3) state changes in runs of " + ", ".join(f"{size:,}" for size in SIZES) + " jobs")
    with tempfile.TemporaryDirectory(prefix="zsync-bench-") as temp:
        result["change_cost"] = asyncio.run(state_work(args.changes, args.rounds, Path(temp)))

    rows = rows_for(result, args.jobs)
    print_table(rows)
    print_notes(result)
    ok = all(row.ok is not False for row in rows)
    result["ok"] = ok
    text = json.dumps(result)
    if args.json:
        Path(args.json).write_text(text + "\n")
    else:
        print(text)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
