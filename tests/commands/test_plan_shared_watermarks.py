"""`zsync plan` shows an incremental job's watermark from the store a run would use: the
PostgreSQL one when ZSYNC_STATE_URL names it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from zsync.spec import load_spec
from zsync.state.postgres import PostgresStore
from zsync.state.store import WatermarkPut
from zsync.watermarks import watermark_key

ZSYNC = str(Path(sys.executable).with_name("zsync"))
JOBS = """\
version: 1
connections:
  crm: {product: crm, org_id: "1", auth: {client_id: a, client_secret: b, refresh_token: c}}
jobs:
  leads:
    export:
      from: crm
      module: Leads
      fields: [Last_Name, Modified_Time]
      incremental: {field: Modified_Time, overlap: 5m}
    output: leads.csv
"""


def test_plan_reads_watermarks_from_a_shared_store(tmp_path: Path, postgres_url: str) -> None:
    path = tmp_path / "jobs.yaml"
    path.write_text(JOBS)
    spec = load_spec(path, {})
    key = watermark_key(spec, spec.jobs["leads"], str(spec.path.resolve()))
    store = PostgresStore(postgres_url)
    store.apply([WatermarkPut(key, "2026-11-24T10:00:00+00:00", "run1", "t")])
    store.close()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("ZOHO_", "ZSYNC_"))}
    environment["ZSYNC_STATE_URL"] = postgres_url
    done = subprocess.run(
        [ZSYNC, "plan", "jobs.yaml", "--output", "json"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)["jobs"]["leads"]["incremental"]
    assert shown["watermark"] == "2026-11-24T10:00:00+00:00"
    assert shown["since"].startswith("2026-11-24T09:55:00")
    assert not (tmp_path / ".zsync").exists()  # read from PostgreSQL, nothing made here
