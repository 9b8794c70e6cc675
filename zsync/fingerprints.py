"""What makes a job the same job, and an import's target the same target, across runs.

`--resume` reuses a job's finished work only while its definition hash is unchanged; the
never-twice rule compares imports by (file sha256, target, mode). Neither ever includes a
secret: auth is left out, and what goes in is hashed or names Zoho objects.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from zsync.spec.model import AnalyticsImport, BulkWriteImport, Connection, Job, Spec

# Idempotent import modes: sending them again leaves the same data (truncateadd as a whole
# job, from its first part). Only the others are guarded by the never-twice rule.
IDEMPOTENT_MODES = frozenset({"truncateadd", "updateadd", "update", "upsert"})


def where(connection: Connection) -> dict[str, Any]:
    """The Zoho a connection reaches: product, data centre or base URL, organisation."""
    return {
        "product": connection.product,
        "dc": connection.dc,
        "base_url": connection.base_url,
        "org_id": connection.org_id,
        "workspace": connection.workspace,
        "owner": connection.owner,
        "app": connection.app,
    }


def definition_sha256(spec: Spec, job: Job) -> str:
    """A hash of everything that decides what a job fetches or sends and where it goes
    (not how patiently: poll and retry settings are left out)."""
    action = {
        key: value for key, value in dataclasses.asdict(job.action).items() if key != "connection"
    }
    document = {
        "direction": job.direction,
        "action": action,
        "output": job.output,
        "output_dir": spec.output_url or str(spec.output_dir),
        "where": where(spec.connections[job.connection]),
    }
    text = json.dumps(document, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def duration_key(spec: Spec, job: Job) -> str:
    """A hash of what a job asks Zoho to do, not where its output goes: jobs with the same
    key take about as long (polling learns from one for the others, across runs too). Made
    from the action's repr, which names every field (a tenth of what asdict + JSON cost: a
    run of thousands of jobs makes them all before it starts); a zsync whose repr differs
    only starts its history anew."""
    place = spec.connections[job.connection]
    text = f"{job.direction}\0{job.action!r}\0{place.product}\0{place.dc}\0{place.base_url}"
    text += f"\0{place.org_id}\0{place.workspace}\0{place.owner}\0{place.app}"
    return hashlib.sha256(text.encode()).hexdigest()


def import_target(spec: Spec, job: Job) -> tuple[str, str]:
    """(target, mode) of an import: where its rows land and how."""
    action = job.action
    place = where(spec.connections[job.connection])
    if isinstance(action, AnalyticsImport):
        name = {"table": action.table, **place}
        return json.dumps(name, sort_keys=True), action.mode
    assert isinstance(action, BulkWriteImport)
    name = {"module": action.module, **place}
    return json.dumps(name, sort_keys=True), action.operation


def describe_target(spec: Spec, job: Job) -> str:
    action = job.action
    if isinstance(action, AnalyticsImport):
        return f"table '{action.table}'"
    assert isinstance(action, BulkWriteImport)
    return f"CRM module '{action.module}'"
