"""zsync's benchmark suite: every scenario, each figure beside its reference, one table.

    python bench/suite.py                 # everything, full size (under 10 minutes, 2 cores)
    python bench/suite.py --smoke         # every scenario at a tiny size (the test suite runs this)
    python bench/suite.py --only makespan --only cli_start --json results.json

A scenario is a module in bench/scenarios/ with `NAME` and `run(smoke: bool) -> list[Figure]`.
One that mostly waits (`BACKGROUND = True`: poll_economy, minutes of real-time jobs that
use little CPU) runs in a process of its own beside the others; those timing milliseconds
(`QUIET = True`: cli_start) run first, before it starts.
Exit status: 0 when every goal holds (always 0 with --smoke, whose sizes prove nothing), 1
otherwise; a scenario that crashes is reported and counts as a miss.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import scenarios
from bench.figures import Figure


def scenario_modules() -> dict[str, object]:
    found = {}
    for info in sorted(pkgutil.iter_modules(scenarios.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"bench.scenarios.{info.name}")
        found[getattr(module, "NAME", info.name)] = module
    return found


def table(figures: list[Figure]) -> str:
    rows = [("scenario", "figure", "value", "reference", "ratio", "goal", "ok")]
    for f in figures:
        reference = (
            f"{f.reference} {_number(f.reference_value)} {f.unit}".strip() if f.reference else ""
        )
        ratio = "" if f.ratio is None else f"{f.ratio:.2f}"
        ok = "" if f.ok is None else ("ok" if f.ok else "MISS")
        rows.append(
            (f.scenario, f.name, f"{_number(f.value)} {f.unit}", reference, ratio, f.goal, ok)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _start_apart(name: str, smoke: bool) -> tuple[subprocess.Popen[bytes], Path]:
    out = Path(tempfile.mkdtemp(prefix="zsync-bench-")) / f"{name}.json"
    command = [sys.executable, __file__, "--only", name, "--json", str(out)]
    print(f"-- {name} (in a process of its own)", file=sys.stderr, flush=True)
    process = subprocess.Popen(
        [*command, *(["--smoke"] if smoke else [])], stdout=subprocess.DEVNULL
    )
    return process, out


def _fields(figure: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in figure.items() if key != "ratio"}


def _number(value: float | None) -> str:
    if value is None:
        return ""
    if value == int(value) and abs(value) < 1e12:
        return str(int(value))
    return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: proves each runs")
    parser.add_argument("--only", action="append", default=[], metavar="NAME")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH")
    args = parser.parse_args(argv)
    modules = scenario_modules()
    unknown = set(args.only) - set(modules)
    if unknown:
        parser.error(f"no scenario {', '.join(sorted(unknown))} (there are: {', '.join(modules)})")
    figures: list[Figure] = []
    crashed: list[str] = []
    started = time.monotonic()
    chosen = {n: m for n, m in modules.items() if not args.only or n in args.only}
    apart = [n for n, m in chosen.items() if getattr(m, "BACKGROUND", False) and len(chosen) > 1]
    # Scenarios timing a few milliseconds go first, before those apart take CPU to start.
    order = sorted(chosen, key=lambda n: not getattr(chosen[n], "QUIET", False))
    background: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
    for name in order:
        module = chosen[name]
        if name in apart:
            continue
        if not getattr(module, "QUIET", False) and not background:
            background = {n: _start_apart(n, args.smoke) for n in apart}
        print(f"-- {name}", file=sys.stderr, flush=True)
        begun = time.monotonic()
        try:
            figures.extend(module.run(args.smoke))  # type: ignore[attr-defined]
        except Exception:
            traceback.print_exc()
            crashed.append(name)
        print(f"   {name}: {time.monotonic() - begun:.1f} s", file=sys.stderr, flush=True)
    if apart and not background:  # nothing else ran
        background = {n: _start_apart(n, args.smoke) for n in apart}
    for name, (process, out) in background.items():
        code = process.wait()
        try:
            apart = json.loads(out.read_text())
            figures.extend(Figure(**_fields(f)) for f in apart["figures"])
            crashed.extend(apart["crashed"])
        except (OSError, ValueError, KeyError):
            crashed.append(name)
        if code not in (0, 1):
            crashed.append(name)
    print(table(figures))
    if crashed:
        print(f"crashed: {', '.join(crashed)}")
    print(f"total {time.monotonic() - started:.0f} s")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "smoke": args.smoke,
                    "seconds": time.monotonic() - started,
                    "crashed": crashed,
                    "figures": [f.as_json() for f in figures],
                },
                indent=2,
            )
        )
    missed = [f for f in figures if f.ok is False]
    return 0 if args.smoke and not crashed else int(bool(missed or crashed))


if __name__ == "__main__":
    sys.exit(main())
