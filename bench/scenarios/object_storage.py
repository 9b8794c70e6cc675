"""Export of a 1 GiB CSV to object storage (S3, served by moto on 127.0.0.1): zsync's peak
RSS beside the same export to a local file (issue 14).

The source is export_data_path's: bench/zip_server.py serves a prepared ZIP as a CRM bulk
read's result. zsync runs the real export (bench/export_child.py) with `output_dir:
s3://bench/exports`: download, checks and extraction into scratch as for a local file, then
a multipart upload of bounded parts. Its peak RSS comes from wait4(2); moto runs in a
process of its own (bench/s3_server.py), so the objects it holds in memory are not counted.
The reference is the local-file export of the same ZIP, measured in the same run, first:
a child's peak RSS (wait4) never reads below its parent's at the fork, so the parent keeps
small (objects are read back in a process of their own).

Figures: zsync's peak RSS at 100 MiB and at 1 GiB (goal <= 100 MiB, and flat: the 1 GiB
figure within 10 MiB of the 100 MiB one), beside the local export's; the seconds of each
(for information). Every object is read back in chunks and hashed: it must be the source
CSV byte for byte, or the scenario fails. The smoke size is a few MB.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.csv_corpus import Corpus, make_csv, make_zip
from bench.figures import Figure
from bench.scenarios.export_data_path import FLAT_MIB, RECORD_SIZE, RSS_GOAL_MIB, _serve, _size
from bench.scenarios.export_data_path import _zsync as local_export

NAME = "object_storage"
BENCH = Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
BUCKET = "bench"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def run(smoke: bool) -> list[Figure]:
    sizes = (1 << 20, 4 << 20) if smoke else (100 << 20, 1 << 30)
    peaks: list[float] = []
    details: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="zsync-bench-s3-") as temp:
        work = Path(temp)
        storage = _s3_server()
        try:
            endpoint = storage.stdout.readline().strip()  # type: ignore[union-attr]
            for size in sizes:
                corpus = make_csv(work / "source.csv", size, RECORD_SIZE)
                zipped = work / "result.zip"
                make_zip(corpus, zipped)
                server = _serve(zipped, corpus.records)
                try:
                    url = server.stdout.readline().strip()  # type: ignore[union-attr]
                    if size == sizes[-1]:
                        local_s, local_peak = local_export(work / f"local-{size}", url, corpus)
                        details["local_s"], details["local_peak_mib"] = local_s, local_peak
                    seconds, peak = _remote_export(work / f"s3-{size}", url, endpoint, corpus)
                    peaks.append(peak)
                    details[f"zsync_s3_s_{size}"] = seconds
                finally:
                    server.terminate()
                    server.wait()
                corpus.path.unlink()
                zipped.unlink()
        finally:
            storage.terminate()
            storage.wait()
    big = sizes[-1]
    return [
        *(
            Figure(
                NAME,
                f"export {_size(size)} to S3: peak RSS of zsync",
                peak,
                "MiB",
                "local-file export" if size == big else "",
                details["local_peak_mib"] if size == big else None,
                f"<= {RSS_GOAL_MIB:g} MiB, flat",
                peak <= RSS_GOAL_MIB and peak <= peaks[0] + FLAT_MIB,
                {**details, "sizes": list(sizes)} if size == big else {},
            )
            for size, peak in zip(sizes, peaks, strict=True)
        ),
        Figure(
            NAME,
            f"export {_size(big)} to S3: seconds",
            details[f"zsync_s3_s_{big}"],
            "s",
            "local-file export",
            details["local_s"],
        ),
    ]


def _s3_server() -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(BENCH / "s3_server.py"), BUCKET],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _remote_export(work: Path, url: str, endpoint: str, corpus: Corpus) -> tuple[float, float]:
    """One zsync run exporting to s3://bench/exports: (seconds, peak RSS in MiB)."""
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
        f"  output_dir: s3://{BUCKET}/exports\n"
        "jobs:\n"
        "  big:\n"
        "    export: {from: crm, module: Leads}\n"
        f"    output: {work.name}/big.csv\n"
    )
    env = {**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL": endpoint, "PYTHONPATH": str(ROOT)}
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
    key = f"exports/{work.name}/big.csv"
    if _object_sha256(endpoint, key) != _file_sha256(corpus.path):
        raise AssertionError(f"s3://{BUCKET}/{key} differs from the source CSV")
    return float(result["seconds"]), usage.ru_maxrss / 1024


def _object_sha256(endpoint: str, key: str) -> str:
    """Read back in chunks (never the whole object in memory) and hashed, in a process of
    its own: a child's peak RSS starts from its parent's (fork), so this one stays small."""
    done = subprocess.run(
        [sys.executable, "-c", READ_BACK, endpoint, BUCKET, key],
        env={**os.environ, **CREDENTIALS},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


READ_BACK = """
import hashlib, sys
import boto3

endpoint, bucket, key = sys.argv[1:]
client = boto3.client("s3", endpoint_url=endpoint)
hashed = hashlib.sha256()
for chunk in client.get_object(Bucket=bucket, Key=key)["Body"].iter_chunks(1 << 20):
    hashed.update(chunk)
client.delete_object(Bucket=bucket, Key=key)  # moto's memory: one big object at a time
print(hashed.hexdigest())
"""


def _file_sha256(path: Path) -> str:
    hashed = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            hashed.update(chunk)
    return hashed.hexdigest()
