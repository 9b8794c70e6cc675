"""Benchmark: split and upload a large CSV import while zsync's memory stays flat.

Generates a CSV of --size-mb (default 1024) with quoted multi-line fields, serves the
emulator in its own process, runs `zsync run` on an Analytics import of that file in
another, and reports zsync's peak resident memory (the target is under 150 MB) and the
throughput. Run by hand:  python bench/import_memory.py [--size-mb 1024]
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_MB = 150
ZSYNC = str(Path(sys.executable).with_name("zsync"))


def generate(path: Path, size_mb: int) -> int:
    """A CSV of about `size_mb` MB whose notes hold quotes and newlines; returns its rows."""
    target = size_mb * 1024 * 1024
    rows = 0
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Id", "Customer", "Region", "Amount", "Note"])
        note = 'first line, with "quotes"\nsecond line\n' + "x" * 900
        while handle.tell() < target:
            for _ in range(1000):
                writer.writerow([rows, f"Customer {rows}", "West", rows % 997, note])
                rows += 1
    return rows


def start_emulator() -> tuple[subprocess.Popen[str], dict[str, str]]:
    process = subprocess.Popen(
        [ZSYNC, "emulator", "--port", "0", "--time-scale", "600"],
        stdout=subprocess.PIPE,
        text=True,
    )
    banner: dict[str, str] = {}
    assert process.stdout is not None
    for line in process.stdout:
        if match := re.match(r"zsync emulator listening on (\S+)", line):
            banner["base_url"] = match.group(1)
        elif match := re.match(r"\s+(client id|client secret|refresh token)\s+(\S+)", line):
            banner[match.group(1)] = match.group(2)
        elif match := re.match(r"\s+Analytics org id\s+(\S+)", line):
            banner["org"] = match.group(1)
        elif match := re.match(r"\s+Analytics workspace\s+(\S+)", line):
            banner["workspace"] = match.group(1)
        elif line.strip().startswith("time scale"):
            return process, banner
    raise SystemExit("the emulator did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        started = time.monotonic()
        (work / "exports").mkdir()
        rows = generate(work / "exports/big.csv", args.size_mb)
        size = (work / "exports/big.csv").stat().st_size
        print(f"generated {size / 2**20:.0f} MB, {rows} rows in {time.monotonic() - started:.1f}s")
        emulator, banner = start_emulator()
        try:
            (work / "jobs.yaml").write_text(f"""\
version: 1
connections:
  analytics:
    product: analytics
    org_id: "{banner["org"]}"
    workspace: "{banner["workspace"]}"
    base_url: "{banner["base_url"]}"
    auth: {{client_id: "{banner["client id"]}", client_secret: "{banner["client secret"]}",
            refresh_token: "{banner["refresh token"]}"}}
defaults:
  poll: {{first: 100ms, max: 2s, timeout: 2h}}
jobs:
  big:
    import: {{to: analytics, table: Big, file: big.csv, create_table: true, mode: truncateadd}}
""")
            started = time.monotonic()
            child = subprocess.Popen(
                [ZSYNC, "run", "jobs.yaml"],
                cwd=work,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            _, status, usage = os.wait4(child.pid, 0)
            elapsed = time.monotonic() - started
            code = os.waitstatus_to_exitcode(status)
        finally:
            emulator.terminate()
            emulator.wait()
        peak_mb = usage.ru_maxrss / 1024  # KiB on Linux
        print(f"zsync run: exit {code}, {elapsed:.1f}s, {size / 2**20 / elapsed:.1f} MB/s")
        print(f"zsync peak resident memory: {peak_mb:.0f} MB (target < {TARGET_MB} MB)")
        ok = code == 0 and peak_mb < TARGET_MB
        if code != 0 and child.stderr is not None:
            print(child.stderr.read().decode()[-2000:])
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
