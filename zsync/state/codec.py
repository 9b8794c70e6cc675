"""Records to JSON-ready dicts and back: how the store keeps them and the manifest shows them."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from typing import Any

from zsync.state.records import (
    DONE,
    ErrorRecord,
    ImportRecord,
    IncrementalRecord,
    JobRecord,
    LandedImport,
    LockHolder,
    OutputRecord,
    RemoteJob,
    RunRecord,
    StateChange,
)


def job_to_dict(record: JobRecord, *, remotes: bool = False) -> dict[str, Any]:
    """A job as the manifest shows it; `remotes=False` leaves its Zoho jobs out (the store
    keeps those in rows of their own)."""
    error = record.error
    data: dict[str, Any] = {
        "direction": record.direction,
        "connection": record.connection,
        "product": record.product,
        "definition_sha256": record.definition_sha256,
        "status": record.status,
        "attempts": record.attempts,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "reason": record.reason,
        "re_exported": record.re_exported,
        "output": _output_dict(record.output),
        "error": None
        if error is None
        else {"class": error.error_class, "code": error.code, "message": error.message},
        "imported": _imported_dict(record.imported),
    }
    if record.incremental is not None:  # only then: other jobs' manifests stay as they were
        data["incremental"] = dataclasses.asdict(record.incremental)
    if remotes:
        data["remote_jobs"] = [remote_to_dict(r) for r in record.remote_jobs]
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
    incremental = values.get("incremental")
    if incremental is not None:
        values["incremental"] = IncrementalRecord(**_known(IncrementalRecord, incremental))
    return JobRecord(**_known(JobRecord, values), remote_jobs=remote_jobs)


def remote_to_dict(remote: RemoteJob) -> dict[str, Any]:
    # By hand, not dataclasses.asdict: this runs for every status answer of every job.
    return {
        "id": remote.id,
        "created_at": remote.created_at,
        "page": remote.page,
        "cursor": remote.cursor,
        "status_calls": remote.status_calls,
        "states": [{"state": s.state, "remote": s.remote, "at": s.at} for s in remote.states],
        "count": remote.count,
        "part": remote.part,
        "first_row": remote.first_row,
        "last_row": remote.last_row,
        "mode": remote.mode,
        "file_id": remote.file_id,
        "summary": remote.summary,
        "refused": remote.refused,
        "definition": remote.definition,
    }


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


def _output_dict(output: OutputRecord | None) -> dict[str, Any] | None:
    if output is None:
        return None
    return {
        "path": output.path,
        "bytes": output.bytes,
        "rows": output.rows,
        "sha256": output.sha256,
        "pages": output.pages,
    }


def _imported_dict(imported: ImportRecord | None) -> dict[str, Any] | None:
    if imported is None:
        return None
    data = dataclasses.asdict(imported)  # rare: once per import part
    data["results"] = _output_dict(imported.results)
    return data


def _known(cls: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Only the fields `cls` has: a store written by a newer zsync still reads."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in data.items() if k in names}


# -- rows as both backends read them back ----------------------------------------------------


def jobs_from_rows(
    job_rows: Iterable[Sequence[Any]], remote_rows: Iterable[Sequence[Any]]
) -> dict[str, JobRecord]:
    """A run's jobs from (name, record) rows in the order first recorded, with their remote
    jobs from (job, record) rows in each job's order."""
    remotes: dict[str, list[RemoteJob]] = {}
    for job, record in remote_rows:
        remotes.setdefault(job, []).append(remote_from_dict(json.loads(record)))
    return {
        name: job_from_dict(json.loads(record), tuple(remotes.get(name, ())))
        for name, record in job_rows
    }


def landed_from_rows(
    rows: Iterable[Sequence[Any]], remote_rows: Iterable[Sequence[Any]]
) -> list[LandedImport]:
    """Earlier imports from (run_id, name, status, record) rows and their Zoho jobs' (run_id,
    job, record) rows, keeping those that landed rows or may have (`uncertain`: a create whose
    answer was lost, or a part's Zoho job no try saw end)."""
    unsure: set[tuple[str, str]] = set()
    for run_id, job_name, record in remote_rows:
        if _outcome_unseen(remote_from_dict(json.loads(record))):
            unsure.add((run_id, job_name))
    found = []
    for run_id, name, status, record in rows:
        job = job_from_dict(json.loads(record))
        imported = job.imported
        uncertain = (run_id, name) in unsure
        if imported is None or not (imported.rows_landed or uncertain):
            continue
        found.append(
            LandedImport(
                run_id=run_id,
                job=name,
                ended_at=job.ended_at,
                rows_landed=imported.rows_landed,
                parts_landed=imported.parts_landed,
                parts=imported.parts,
                complete=status in DONE and imported.parts_landed == imported.parts,
                uncertain=uncertain,
            )
        )
    return found


def _outcome_unseen(remote: RemoteJob) -> bool:
    """A part whose rows may have landed with no try knowing: its create's answer was lost,
    or its Zoho job was created and no try saw it complete or fail (a run killed meanwhile)."""
    if remote.id is None:
        return remote.refused is None
    return not remote.was_seen("completed", "failed")
