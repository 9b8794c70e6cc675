"""Splitting a 1 GiB CSV for import: zsync's splitter beside `split -C 100M` (issue 12).

zsync's side is `plan_parts`, the function an import calls to cut its file into parts of at
most 100 MiB on record boundaries (bench/split_child.py, in a process of its own, timed
around the call; its peak RSS from wait4(2)). It reads the file once, finds the parts'
boundaries (outside quoted fields, which `split` knows nothing of), counts every part's
records and hashes the file; it writes nothing, because an import reads each part back
from the file while uploading it. The reference, `split -C 100M` on the same file, reads it
and writes the parts. Two files: records of about 1 KB and about 95 B (the same generator,
bench/csv_corpus.py: quoted fields, doubled quotes, newlines inside fields, CRLF). Each side
runs twice, alternating; the faster run of each counts.

The parts are checked, not trusted: each starts with the header and is at most the cap, the
parts' ranges follow each other from the header's end to the file's end (so header + ranges
is the input: the parts concatenate back to it less their repeated headers), the sha256
matches one taken here, and their records add up to the generator's count. A failure is an
exception, not a figure. Figures: the speed ratio zsync/split for each file (goal >= 0.8)
and zsync's peak RSS (goal <= 100 MiB).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.csv_corpus import Corpus, make_csv
from bench.figures import Figure

NAME = "split_data_path"
BENCH = Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
RATIO_GOAL = 0.8
RSS_GOAL_MIB = 100.0
RECORDS = ((1000, "~1 KB records"), (95, "~95 B records"))


def run(smoke: bool) -> list[Figure]:
    size, cap = (4 << 20, 1 << 20) if smoke else (1 << 30, 100 << 20)
    rounds = 1 if smoke else 2
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="zsync-bench-split-") as temp:
        work = Path(temp)
        for record_size, label in RECORDS:
            corpus = make_csv(work / "import.csv", size, record_size)
            best_zsync, best_split, peak = float("inf"), float("inf"), 0.0
            for attempt in range(rounds):
                seconds, rss = _zsync(corpus, cap)
                best_zsync, peak = min(best_zsync, seconds), max(peak, rss)
                best_split = min(best_split, _reference(work / f"split{attempt}", corpus, cap))
            corpus.path.unlink()
            ratio = best_split / best_zsync  # speed: the reference's time over zsync's
            details = {"zsync_s": best_zsync, "split_s": best_split, "bytes": corpus.size}
            figures += [
                Figure(
                    NAME,
                    f"split {_size(size)}, {label}: speed zsync / split -C",
                    ratio,
                    "x",
                    f"split -C {cap >> 20}M",
                    1.0,
                    f">= {RATIO_GOAL:g}x",
                    ratio >= RATIO_GOAL,
                    details,
                ),
                Figure(
                    NAME,
                    f"split {_size(size)}, {label}: peak RSS of zsync",
                    peak,
                    "MiB",
                    goal=f"<= {RSS_GOAL_MIB:g} MiB",
                    ok=peak <= RSS_GOAL_MIB,
                ),
            ]
    return figures


def _zsync(corpus: Corpus, cap: int) -> tuple[float, float]:
    """One plan_parts run in a child: (seconds, peak RSS in MiB); its parts checked."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    output = corpus.path.with_name("split.json")
    with open(output, "wb") as out:
        child = subprocess.Popen(
            [sys.executable, str(BENCH / "split_child.py"), str(corpus.path), str(cap)],
            stdout=out,
            env=env,
        )
        _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("zsync's splitter failed")
    result = json.loads(output.read_text())
    output.unlink()
    _check_parts(corpus, cap, result)
    return float(result["seconds"]), usage.ru_maxrss / 1024


def _check_parts(corpus: Corpus, cap: int, result: dict) -> None:  # type: ignore[type-arg]
    header = result["header"]
    parts = result["parts"]
    position = header
    for start, end, rows, size in parts:
        assert start == position and end > start, ("parts leave a gap or overlap", start)
        assert size == header + end - start <= cap, ("a part over the cap", size)
        assert rows > 0
        position = end
    assert position == corpus.size, ("the parts stop short of the file's end", position)
    assert sum(p[2] for p in parts) == corpus.records, "records lost or doubled"
    hashed = hashlib.sha256()
    with open(corpus.path, "rb") as handle:
        first = handle.read(header)
        hashed.update(first)
        for start, end, _, _ in parts:
            # Each part as uploaded is the header and this range; the ranges in order,
            # after one header, are the input.
            handle.seek(start)
            remaining = end - start
            while remaining:
                chunk = handle.read(min(remaining, 8 << 20))
                hashed.update(chunk)
                remaining -= len(chunk)
            assert chunk.endswith(b"\n"), "a part that doesn't end a record"
    assert hashed.hexdigest() == result["sha256"], "the parts don't rebuild the input"


def _reference(work: Path, corpus: Corpus, cap: int) -> float:
    work.mkdir()
    started = time.perf_counter()
    subprocess.run(["split", "-C", str(cap), str(corpus.path), "part-"], check=True, cwd=work)
    seconds = time.perf_counter() - started
    for part in work.iterdir():
        part.unlink()
    work.rmdir()
    return seconds


def _size(size: int) -> str:
    return f"{size >> 30} GiB" if size >= 1 << 30 else f"{size >> 20} MiB"
