"""Export of a 1 GiB CSV (a ~200 MB ZIP): zsync's download + check + extract + write beside
`curl` + `unzip -p` of the same ZIP from the same server (issue 12).

The server is bench/zip_server.py, in its own process: a stand-in for CRM that answers a
bulk read's token, create and status calls and serves the prepared ZIP with sendfile(2). The
emulator is not used because it builds results in Python and would dominate both sides; the
stand-in costs next to nothing. zsync's side is a real `zsync run` of a CRM export job
(bench/export_child.py: the job file, the plan, the scheduler, the HTTP session, the
download to a spool, the ZIP's CRC, the UTF-8/CSV/record-count checks, the atomic write and
its fsync), in a process of its own, timed from the plan to the committed output; its peak
RSS comes from wait4(2). The reference is `curl -s URL -o f.zip && unzip -p f.zip > out`,
timed in the same run. Each side runs twice, alternating; the faster run of each counts.

Figures: the throughput ratio zsync/reference at 1 GiB (goal >= 0.9), zsync's peak RSS at
100 MiB and at 1 GiB (goal <= 100 MiB, and flat: the 1 GiB figure within 10 MiB of the
100 MiB one). Every output must be byte-identical to the source CSV, or the scenario fails.
The smoke size is a few MB.
"""

from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.csv_corpus import Corpus, make_csv, make_zip
from bench.figures import Figure

NAME = "export_data_path"
BENCH = Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
RATIO_GOAL = 0.9
RSS_GOAL_MIB = 100.0
FLAT_MIB = 10.0  # how much more the big export may use than the small one
RECORD_SIZE = 250  # bytes: a CRM record of a dozen fields


def run(smoke: bool) -> list[Figure]:
    sizes = (1 << 20, 4 << 20) if smoke else (100 << 20, 1 << 30)
    rounds = 1 if smoke else 2
    with tempfile.TemporaryDirectory(prefix="zsync-bench-export-") as temp:
        work = Path(temp)
        peaks: list[float] = []
        timings: dict[str, float] = {}
        for size in sizes:
            corpus = make_csv(work / "source.csv", size, RECORD_SIZE)
            zipped = work / "result.zip"
            zip_size = make_zip(corpus, zipped)
            best_zsync, best_curl, peak = float("inf"), float("inf"), 0.0
            server = _serve(zipped, corpus.records)
            try:
                url = server.stdout.readline().strip()  # type: ignore[union-attr]
                for attempt in range(rounds):
                    seconds, rss = _zsync(work / f"z{size}-{attempt}", url, corpus)
                    best_zsync, peak = min(best_zsync, seconds), max(peak, rss)
                    if size == sizes[-1]:
                        best_curl = min(
                            best_curl, _reference(work / f"c{size}-{attempt}", url, corpus)
                        )
            finally:
                server.terminate()
                server.wait()
            peaks.append(peak)
            timings[f"zip_bytes_{size}"] = zip_size
            timings[f"zsync_s_{size}"] = best_zsync
            if size == sizes[-1]:
                timings["reference_s"] = best_curl
            corpus.path.unlink()
            zipped.unlink()
    big = sizes[-1]
    # Throughput ratio: the reference's time over zsync's (bytes are the same).
    ratio = timings["reference_s"] / timings[f"zsync_s_{big}"]
    label = _size(big)
    return [
        Figure(
            NAME,
            f"export {label} CSV: throughput zsync / reference",
            ratio,
            "x",
            "curl + unzip -p",
            1.0,
            f">= {RATIO_GOAL:g}x",
            ratio >= RATIO_GOAL,
            {**timings, "sizes": list(sizes)},
        ),
        *(
            Figure(
                NAME,
                f"export {_size(size)}: peak RSS of zsync",
                peak,
                "MiB",
                goal=f"<= {RSS_GOAL_MIB:g} MiB, flat",
                ok=peak <= RSS_GOAL_MIB and peak <= peaks[0] + FLAT_MIB,
            )
            for size, peak in zip(sizes, peaks, strict=True)
        ),
    ]


def _serve(zipped: Path, records: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(BENCH / "zip_server.py"), str(zipped), str(records)],
        stdout=subprocess.PIPE,
        text=True,
    )


def _zsync(work: Path, url: str, corpus: Corpus) -> tuple[float, float]:
    """One zsync run of the export: (seconds from plan to commit, peak RSS in MiB)."""
    work.mkdir()
    jobs = work / "jobs.yaml"
    jobs.write_text(
        "version: 1\n"
        "connections:\n"
        "  crm:\n"
        "    product: crm\n"
        '    org_id: "1"\n'
        f"    base_url: {url}\n"
        "    auth: {client_id: bench, client_secret: bench, refresh_token: bench}\n"
        "defaults:\n"
        "  poll: {first: 1ms, max: 5ms, timeout: 10m}\n"
        f"  output_dir: {work / 'out'}\n"
        "jobs:\n"
        "  big:\n"
        "    export: {from: crm, module: Leads}\n"
        "    output: big.csv\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(work / "stdout", "wb") as out, open(work / "stderr", "wb") as err:
        child = subprocess.Popen(
            [sys.executable, str(BENCH / "export_child.py"), str(jobs), str(work / "state")],
            stdout=out,
            stderr=err,
            env=env,
            cwd=work,
        )
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    lines = (work / "stdout").read_text().strip().splitlines()
    result = json.loads(lines[-1]) if lines else {}
    if child.returncode != 0 or result.get("code") != 0:
        raise RuntimeError(f"zsync's export failed: {(work / 'stderr').read_text()[-2000:]}")
    output = work / "out" / "big.csv"
    if not filecmp.cmp(output, corpus.path, shallow=False):
        raise AssertionError(f"zsync's output {output} differs from the source CSV")
    output.unlink()
    return float(result["seconds"]), usage.ru_maxrss / 1024


def _reference(work: Path, url: str, corpus: Corpus) -> float:
    work.mkdir()
    started = time.perf_counter()
    subprocess.run(
        f"curl -sf {url}/crm/bulk/v8/read/5550000000001/result -o f.zip && "
        "unzip -p f.zip > out.csv",
        shell=True,
        check=True,
        cwd=work,
    )
    seconds = time.perf_counter() - started
    if not filecmp.cmp(work / "out.csv", corpus.path, shallow=False):
        raise AssertionError("the reference's output differs from the source CSV")
    (work / "out.csv").unlink()
    (work / "f.zip").unlink()
    return seconds


def _size(size: int) -> str:
    return f"{size >> 30} GiB" if size >= 1 << 30 else f"{size >> 20} MiB"
