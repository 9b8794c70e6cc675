"""Placeholders in a job's `output`: `{run_id}` and `{started}`, expanded when the job runs.

An incremental export replaces its output on every run, so a consumer that misses a run
loses that run's rows; `output: crm/leads-{run_id}.csv` keeps each run's rows in a file of
its own. The expansion works on the output path as the job file writes it (a string relative
to the output directory), whatever the output directory turns out to be.

`{{` and `}}` write a literal brace, as in Python's format strings; a lone brace or any
other `{name}` is refused by validation, so a typo (`{runid}`) can't become part of a file
name. A resumed run keeps its run id and start, so its jobs write the same files again.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zsync.spec.model import Job
    from zsync.state.records import RunRecord

PLACEHOLDERS: Mapping[str, str] = {
    "run_id": "the run's id, e.g. 20250301T101500Z-a1b2c3",
    "started": "when the run started, UTC, as YYYYmmddTHHMMSSZ",
}
# `{{`, `}}`, a `{name}`, or a brace that is none of those.
_PIECE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class RunNames:
    """What the placeholders stand for in one run (its id and the start it recorded)."""

    def __init__(self, run_id: str, started_at: str) -> None:
        self.values = {"run_id": run_id, "started": _compact(started_at)}


def job_output(job: Job, run: RunRecord) -> str:
    """The job's output in `run`, relative to the output directory (the job's name when it
    has no `output`): a string, so it joins any output directory."""
    return expand(job.output or job.name, RunNames(run.run_id, run.started_at))


def problems(text: str) -> list[str]:
    """What is wrong with the placeholders of `text`, for validation."""
    found: list[str] = []
    for match in _PIECE.finditer(text):
        piece, name = match.group(0), match.group(1)
        if piece in ("{{", "}}"):
            continue
        if name is None:
            found.append(
                f"a lone '{piece}' in '{text}': write '{piece * 2}' for a brace in a file name"
            )
        elif name not in PLACEHOLDERS:
            known = ", ".join(f"{{{key}}}" for key in PLACEHOLDERS)
            close = difflib.get_close_matches(name, list(PLACEHOLDERS), n=1)
            hint = f" (did you mean {{{close[0]}}}?)" if close else ""
            found.append(
                f"unknown placeholder '{{{name}}}' in '{text}'{hint}; known are {known} "
                "('{{' and '}}' write a brace)"
            )
    return found


def has_placeholders(text: str) -> bool:
    return any(match.group(1) is not None for match in _PIECE.finditer(text))


def names_a_placeholder(text: str) -> bool:
    """Whether `text` holds a known placeholder: in an import's file, where nothing is
    expanded, that means the file was meant to be a run's output."""
    return any(match.group(1) in PLACEHOLDERS for match in _PIECE.finditer(text))


def expand(text: str, names: RunNames) -> str:
    """`text` with its placeholders filled in and `{{`/`}}` written as single braces."""

    def fill(match: re.Match[str]) -> str:
        piece, name = match.group(0), match.group(1)
        if name is not None:
            return names.values[name]  # validation refused any other name
        return piece[0]

    return _PIECE.sub(fill, text)


def _compact(started_at: str) -> str:
    """`2025-03-01T10:15:00.123456Z` -> `20250301T101500Z` (no ':' a file system may refuse)."""
    moment = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
