"""Benchmark: validating a job file of 10,000 jobs (issue 10: under 2 s).

The file mixes CRM exports with criteria and Analytics imports fed by them (needs, tags,
nested outputs). Timed: `validate_spec` (reading, schema, semantics, the model), median of
--rounds. Reference, measured in the same run: loading the same file the usual way,
`yaml.load` with PyYAML's libyaml loader (zsync reads libyaml's events itself, faster).

Run by hand:  python bench/validate_speed.py [--jobs 10000] [--rounds 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

from zsync.spec import validate_spec

TARGET_SECONDS = 2.0


def big_spec(jobs: int) -> str:
    lines = [
        "version: 1",
        "connections:",
        "  crm: {product: crm, org_id: '1', auth: {client_id: a, client_secret: b, "
        "refresh_token: c}}",
        "  an: {product: analytics, org_id: '2', workspace: '3', auth: {client_id: a, "
        "client_secret: b, refresh_token: c}}",
        "jobs:",
    ]
    for i in range(jobs):
        if i % 3 == 2:
            lines.append(
                f"  j{i}: {{needs: [j{i - 1}], import: {{to: an, table: T{i}, "
                f"file: out/{i - 1}/file.csv}}}}"
            )
        else:
            lines.append(
                f"  j{i}: {{tags: [nightly], output: out/{i}/file.csv, export: {{from: crm, "
                "module: Contacts, fields: [Last_Name, Email], criteria: {group_operator: or, "
                "group: [{api_name: Owner.last_name, comparator: equal, value: Boyle}, "
                "{api_name: Phone, comparator: contains, value: '5'}]}}}"
            )
    return "\n".join(lines) + "\n"


def timed(action: object, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="write the numbers here (default: one line on stdout)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zsync-bench-") as temp:
        path = Path(temp) / "jobs.yaml"
        path.write_text(big_spec(args.jobs))
        result = validate_spec(path, {})
        if not result.ok:
            print(result.diagnostics[:3], file=sys.stderr)
            return 1
        validate = timed(lambda: validate_spec(path, {}), args.rounds)
        text = path.read_text()
        floor = timed(lambda: yaml.load(text, Loader=yaml.CSafeLoader), args.rounds)
    seconds, reference = statistics.median(validate), statistics.median(floor)
    ok = seconds < TARGET_SECONDS
    print("figure                                  | value  | reference            | target | ok?")
    print("----------------------------------------+--------+----------------------+--------+----")
    print(
        f"validate {args.jobs:,} jobs (s, median of {args.rounds}) | {seconds:6.2f} | "
        f"{reference:.2f} (yaml.load)     | < {TARGET_SECONDS:g}    | {'ok' if ok else 'FAIL'}"
    )
    numbers = {"jobs": args.jobs, "validate_s": validate, "libyaml_load_s": floor, "ok": ok}
    if args.json:
        Path(args.json).write_text(json.dumps(numbers) + "\n")
    else:
        print(json.dumps(numbers))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
