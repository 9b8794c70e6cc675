"""Records to JSON-ready dicts and back: how the store keeps them and the manifest shows them."""

from __future__ import annotations

import dataclasses
from typing import Any

from zsync.state.records import (
    ErrorRecord,
    ImportRecord,
    JobRecord,
    LockHolder,
    OutputRecord,
    RemoteJob,
    RunRecord,
    StateChange,
)


def job_to_dict(record: JobRecord, *, remotes: bool = False) -> dict[str, Any]:
    """A job as the manifest shows it; `remotes=False` leaves its Zoho jobs out (the store
    keeps those in rows of their own)."""
    data = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    del data["remote_jobs"]
    if remotes:
        data["remote_jobs"] = [remote_to_dict(r) for r in record.remote_jobs]
    data["output"] = _plain(record.output)
    data["imported"] = _plain(record.imported)
    error = record.error
    data["error"] = (
        None
        if error is None
        else {"class": error.error_class, "code": error.code, "message": error.message}
    )
    return data


def job_from_dict(data: dict[str, Any], remote_jobs: tuple[RemoteJob, ...] = ()) -> JobRecord:
    values = dict(data)
    values.pop("remote_jobs", None)
    error = values.get("error")
    values["error"] = (
        None if error is None else ErrorRecord(error["class"], error["message"], error.get("code"))
    )
    values["output"] = _output(values.get("output"))
    imported = values.get("imported")
    if imported is not None:
        imported = dict(imported)
        imported["results"] = _output(imported.get("results"))
        values["imported"] = ImportRecord(**_known(ImportRecord, imported))
    return JobRecord(**_known(JobRecord, values), remote_jobs=remote_jobs)


def remote_to_dict(remote: RemoteJob) -> dict[str, Any]:
    return dataclasses.asdict(remote)


def remote_from_dict(data: dict[str, Any]) -> RemoteJob:
    values = dict(data)
    values["states"] = tuple(StateChange(**s) for s in values.get("states") or ())
    return RemoteJob(**_known(RemoteJob, values))


def run_to_dict(run: RunRecord) -> dict[str, Any]:
    return dataclasses.asdict(run)


def run_from_dict(data: dict[str, Any]) -> RunRecord:
    values = dict(data)
    values["resumed_at"] = tuple(values.get("resumed_at") or ())
    return RunRecord(**_known(RunRecord, values))


def holder_to_dict(holder: LockHolder) -> dict[str, Any]:
    return dataclasses.asdict(holder)


def holder_from_dict(data: dict[str, Any]) -> LockHolder:
    return LockHolder(**_known(LockHolder, data))


def _output(data: dict[str, Any] | None) -> OutputRecord | None:
    return None if data is None else OutputRecord(**_known(OutputRecord, data))


def _plain(value: Any) -> Any:
    return None if value is None else dataclasses.asdict(value)


def _known(cls: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Only the fields `cls` has: a store written by a newer zsync still reads."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in data.items() if k in names}
