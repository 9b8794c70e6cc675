"""What each job's end means to a CI report: passed, failed, errored or skipped, and why.

Shared by the JUnit report and the GitHub step summary, so both tell the same story.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

Kind = Literal["passed", "failure", "error", "skipped"]


class Verdict(NamedTuple):
    kind: Kind
    type: str  # the error class (remote, transient, config, timeout...) or the status
    message: str
    code: str | None = None


def verdict(job: dict[str, Any]) -> Verdict:
    status: str = job.get("status") or "queued"
    error = job.get("error") or None
    if status == "succeeded":
        return Verdict("passed", status, "")
    if status == "completed_with_errors":
        return Verdict("failure", status, refused_message(job))
    if status in ("failed", "timed_out"):
        if error is None:
            return Verdict("failure", "timeout" if status == "timed_out" else status, _why(job))
        # A bug in zsync is JUnit's "error" (the test broke), not a job Zoho failed.
        kind: Kind = "error" if error.get("class") == "internal" else "failure"
        return Verdict(
            kind, error.get("class") or status, error.get("message") or "", error.get("code")
        )
    if status in ("skipped", "cancelled"):
        return Verdict("skipped", status, _why(job))
    # queued or running at the end: the run was killed before it could say what became of it.
    return Verdict("error", status, f"still {status} when the run ended ({_why(job)})")


def refused_message(job: dict[str, Any]) -> str:
    imported = job.get("imported") or {}
    refused = (imported.get("skipped") or 0) + (imported.get("failed") or 0)
    where = ""
    results = imported.get("results") or None
    if results and results.get("path"):
        where = f"; Zoho's answer per row is in {results['path']}"
    return f"Zoho refused {refused} of {imported.get('rows')} rows{where}"


def _why(job: dict[str, Any]) -> str:
    return str(job.get("reason") or job.get("status") or "no reason recorded")
