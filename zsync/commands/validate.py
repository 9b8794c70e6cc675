"""`zsync validate`: every problem in a job file, as text or JSON."""

from __future__ import annotations

import os

import click

from zsync import output as output_json
from zsync import redact
from zsync.commands import OutputFormat
from zsync.errors import ExitCode
from zsync.reports.github import print_annotations
from zsync.spec import validate_spec
from zsync.spec.load import LoadResult


def validate(path: str, *, output: OutputFormat = "text", strict: bool = False) -> int:
    try:
        # Messages may quote values the file took from the environment: those show as ***.
        result = validate_spec(path, redact.watching(os.environ), for_run=strict)
        if result.spec is not None:
            redact.add_auth(result.spec)
        if output == "json":
            output_json.print_document(as_json(result))
        else:
            for diagnostic in result.diagnostics:
                click.echo(redact.text(diagnostic.render()))
            click.echo(redact.text(summary(result)))
        print_annotations(result.diagnostics, err=output == "json")
    except KeyboardInterrupt:  # click would call it "Aborted!" and exit 1
        click.echo("zsync: interrupted", err=True)
        return ExitCode.INTERRUPTED
    return ExitCode.OK if result.ok else ExitCode.INVALID


def as_json(result: LoadResult) -> dict[str, object]:
    """The validation report; an invalid file's is an error envelope as well (the fields of
    zsync.output's envelope first), so it reads like every other failure under json."""
    failure = {} if result.ok else output_json.for_invalid_job_file(result.diagnostics)
    return {
        **failure,
        "file": result.file,
        "valid": result.ok,
        "errors": len(result.errors),
        "warnings": len(result.warnings),
        "diagnostics": [d.as_json() for d in result.diagnostics],
    }


def summary(result: LoadResult) -> str:
    counts = _count(len(result.errors), "error") + ", " + _count(len(result.warnings), "warning")
    if result.spec is not None:
        spec = result.spec
        shape = f"{_count(len(spec.jobs), 'job')}, {_count(len(spec.connections), 'connection')}"
        return f"{result.file}: valid ({shape}); {counts}"
    return f"{result.file}: invalid; {counts}"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
