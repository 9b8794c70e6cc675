"""Incremental exports' watermarks: which stored watermark a job reads, and how date-times
Zoho writes are compared, moved back by the overlap and written again.

A watermark is kept as the text Zoho wrote (CRM's `2025-03-01T10:15:00+05:30`, Analytics'
`2025-03-01 10:15:00`, Creator's `01-Mar-2025 10:15:00`), so the bound a later run sends
reads like the values it filters; it is compared as a date-time, never as text (Creator's
`02-Mar-2025` sorts before `10-Feb-2025`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta

from zsync.fingerprints import where
from zsync.spec.model import (
    AnalyticsExport,
    BulkReadExport,
    CreatorExport,
    Incremental,
    Job,
    Spec,
)

# Besides ISO 8601 (with or without an offset, `T` or a space): Analytics' and Creator's
# usual dateFormat patterns for a date-time.
_OTHER_FORMATS = ("%d-%b-%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S")


def incremental_of(job: Job) -> Incremental | None:
    action = job.action
    incremental_exports = AnalyticsExport | BulkReadExport | CreatorExport
    return action.incremental if isinstance(action, incremental_exports) else None


def watermark_key(spec: Spec, job: Job, scope: str) -> str:
    """What a watermark belongs to: the job file (`scope`), the job's name and what it reads
    (connection's Zoho, module or view, fields, criteria, the incremental field). Not where
    the output goes, nor the overlap: moving the file or widening the overlap keeps the
    watermark; asking for other rows or columns starts over with a full export."""
    incremental = incremental_of(job)
    assert incremental is not None
    action = {k: v for k, v in dataclasses.asdict(job.action).items() if k != "connection"}
    action["incremental"] = incremental.field
    document = {
        "scope": scope,
        "job": job.name,
        "action": action,
        "where": where(spec.connections[job.connection]),
    }
    text = json.dumps(document, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def parse_moment(text: str) -> datetime | None:
    """A date-time as Zoho writes it, or None if `text` is none. One without an offset is
    taken as UTC for comparing only: the values of one field are all written alike."""
    text = text.strip()
    if not text:
        return None
    moment: datetime | None = None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        for pattern in _OTHER_FORMATS:
            try:
                moment = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def later(first: str | None, second: str | None) -> str | None:
    """The later of two watermarks (a watermark never moves back)."""
    if first is None or second is None:
        return first or second
    a, b = parse_moment(first), parse_moment(second)
    if a is None or b is None:
        return second
    return first if a > b else second


def moved_back(text: str, seconds: float) -> str:
    """`text` minus `seconds`, written the way `text` was (offset, `T` or space, no
    fraction when it had none)."""
    moment = datetime.fromisoformat(text) if _is_iso(text) else None
    if moment is not None:
        earlier = moment - timedelta(seconds=seconds)
        separator = "T" if "T" in text else " "
        spec = "seconds" if "." not in text else "auto"
        return earlier.isoformat(sep=separator, timespec=spec)
    for pattern in _OTHER_FORMATS:
        try:
            parsed = datetime.strptime(text.strip(), pattern)
        except ValueError:
            continue
        return (parsed - timedelta(seconds=seconds)).strftime(pattern)
    raise ValueError(f"{text!r} is no date-time zsync reads")


def _is_iso(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True
