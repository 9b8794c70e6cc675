"""The run manifest: atomic rewrites, the latest pointer, and its schema."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from zsync.manifest import ErrorRecord, JobRecord, Ledger, OutputRecord, RemoteJob, now, read_latest
from zsync.resources import load_schema


def test_manifest_validates_and_tracks_changes(tmp_path) -> None:
    spec = tmp_path / "jobs.yaml"
    spec.write_text("version: 1\n")
    ledger = Ledger.for_spec(spec, tmp_path / ".zsync")
    ledger.add_job("a", JobRecord(direction="export", connection="crm", product="crm"))
    ledger.add_job("b", JobRecord(direction="import", connection="an", product="analytics"))
    index = ledger.add_remote("a", RemoteJob(id=None, created_at=now(), page=1))
    ledger.update_remote("a", index, id="111")
    ledger.remote_state("a", index, "pending", "ADDED")
    ledger.remote_state("a", index, "pending", "ADDED")
    ledger.remote_state("a", index, "completed", "COMPLETED")
    ledger.update_job("a", status="succeeded", output=OutputRecord("out.csv", 10, 2, "0" * 64))
    ledger.update_job(
        "b", status="failed", error=ErrorRecord("remote", "Zoho said no", code="INVALID_DATA")
    )
    ledger.finish("failed", 1)

    written = json.loads(ledger.path.read_text())
    Draft202012Validator(load_schema("manifest")).validate(written)
    remote = written["jobs"]["a"]["remote_jobs"][0]
    assert remote["status_calls"] == 3
    assert [s["remote"] for s in remote["states"]] == ["ADDED", "COMPLETED"]
    assert written["jobs"]["b"]["error"] == {
        "class": "remote",
        "code": "INVALID_DATA",
        "message": "Zoho said no",
    }
    assert read_latest(tmp_path / ".zsync") == ledger.path
    assert sorted(p.name for p in ledger.path.parent.iterdir()) == ["manifest.json"]


def test_manifest_schema_is_valid() -> None:
    Draft202012Validator.check_schema(load_schema("manifest"))
