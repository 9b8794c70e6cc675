"""GitHub Actions: annotations for a job file's problems, and a step summary of a run.

Under Actions (GITHUB_ACTIONS=true) each diagnostic is also printed as a workflow command,
`::error file=PATH,line=N,col=M::MESSAGE`, which GitHub shows on the file's line in the pull
request. When GITHUB_STEP_SUMMARY names a file, `zsync run` appends a Markdown summary of the
run to it (shown on the workflow run's page).
https://docs.github.com/actions/reference/workflow-commands-for-github-actions
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from zsync.spec.diagnostics import Diagnostic


def in_actions(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get("GITHUB_ACTIONS") == "true"


def escape_data(value: str) -> str:
    """A command's message: GitHub reads %, CR and LF as its own, so they go percent-encoded."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """A property's value (file=...): also `:` and `,`, which end it."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def annotation(diagnostic: Diagnostic, environ: Mapping[str, str] = os.environ) -> str:
    where = f"{diagnostic.path}: " if diagnostic.path else ""
    properties = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in (
            ("file", _repo_relative(diagnostic.file, environ)),
            ("line", diagnostic.line),
            ("col", diagnostic.column),
        )
    )
    return f"::{diagnostic.severity} {properties}::{escape_data(where + diagnostic.message)}"


def workflow_commands(
    diagnostics: Iterable[Diagnostic], environ: Mapping[str, str] = os.environ
) -> list[str]:
    """The workflow commands for `diagnostics`; none outside GitHub Actions."""
    if not in_actions(environ):
        return []
    return [annotation(d, environ) for d in diagnostics]


def _repo_relative(file: str, environ: Mapping[str, str]) -> str:
    """GitHub places an annotation by the file's path in the repository: an absolute path
    inside the workspace (the checkout) is made relative to it."""
    workspace = environ.get("GITHUB_WORKSPACE")
    path = Path(file)
    if workspace and path.is_absolute():
        try:
            return path.relative_to(Path(workspace)).as_posix()
        except ValueError:
            pass
    return file


def print_annotations(diagnostics: Iterable[Diagnostic], *, err: bool = False) -> None:
    """Under GitHub Actions, each diagnostic once more as a workflow command (secrets masked);
    on stdout unless `err` (stdout holds JSON for tools: GitHub reads commands on both)."""
    import click

    from zsync import redact

    for line in workflow_commands(
        d._replace(message=redact.text(d.message), path=redact.text(d.path)) for d in diagnostics
    ):
        click.echo(line, err=err)


# -- the step summary ------------------------------------------------------------------------
def summary_file(environ: Mapping[str, str] = os.environ) -> Path | None:
    value = environ.get("GITHUB_STEP_SUMMARY")
    return Path(value) if value else None


def append_summary(path: Path, text: str) -> None:
    """Append, never replace: earlier steps of the job wrote their own summaries there."""
    with path.open("a", encoding="utf-8") as out:
        out.write(text)


def step_summary(manifest: dict[str, Any], manifest_file: Path) -> str:
    from zsync.reports.verdicts import verdict

    jobs: dict[str, dict[str, Any]] = manifest.get("jobs") or {}
    spec = Path(manifest.get("spec", {}).get("path") or "jobs.yaml").name
    outcome = str(manifest.get("outcome"))
    mark = _MARKS.get(outcome, "")
    took = _took(manifest)
    lines = [
        f"### {mark}zsync run `{_code(spec)}`: {outcome} (exit {manifest.get('exit_code')})",
        "",
        f"Run `{_code(str(manifest.get('run_id')))}`, {len(jobs)} job"
        f"{'' if len(jobs) == 1 else 's'}, {took}.",
        "",
        "| job | status | result | duration |",
        "|---|---|---|---|",
    ]
    for name, job in jobs.items():
        said = verdict(job)
        if said.kind == "passed":
            result = _result(job)
        elif said.kind == "skipped":
            result = said.message
        else:
            code = f"`{_code(said.code)}` " if said.code else ""
            result = f"{said.type} {code}{said.message}"
        cells = [f"`{_code(name)}`", str(job.get("status")), result, _took(job)]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines += ["", f"Manifest: `{_code(str(manifest_file))}`", "", ""]
    return "\n".join(lines)


_MARKS = {"succeeded": "✅ ", "partial": "⚠️ ", "failed": "❌ ", "timed_out": "⏱️ "}


def _took(record: dict[str, Any]) -> str:
    from zsync.durations import format_duration
    from zsync.reports.timing import seconds_between

    return format_duration(
        round(seconds_between(record.get("started_at"), record.get("ended_at")), 3)
    )


def _result(job: dict[str, Any]) -> str:
    imported = job.get("imported")
    if imported:
        return f"{imported.get('rows_landed')} of {imported.get('rows')} rows imported"
    output = job.get("output") or {}
    rows = output.get("rows")
    size = f"{output.get('bytes', 0):,} bytes"
    return f"{rows:,} rows, {size}" if rows is not None else size


def _cell(text: str) -> str:
    """A table cell: a `|` would end it and a newline the row; `<` could open HTML."""
    return text.replace("|", "\\|").replace("<", "&lt;").replace("\r", " ").replace("\n", " ")


def _code(text: str) -> str:
    return text.replace("`", "'")
