"""What `--output json` prints: exactly one JSON document on stdout, whatever happens.

A command that gets as far as its answer prints that (the validation report, the plan, the
run manifest, ...) through `print_document`. When it fails before it has one, the CLI prints
an error envelope instead, one shape for every verb (schemas/output.schema.json):

    {"status": "error", "exit_code": 2,
     "error": {"kind": "usage", "message": "..."},
     "diagnostics": [{"file": ..., "line": ..., "column": ..., "severity": ...,
                      "path": ..., "message": ...}]}

A tool tells a failure from an answer by one test: an object whose "status" is "error".

Light on purpose: the CLI imports this at start-up (tests/test_start.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import click

from zsync import redact
from zsync.errors import ExitCode, SpecError, ZsyncError

if TYPE_CHECKING:  # zsync.spec loads the spec checker: not at start-up
    from zsync.spec.diagnostics import Diagnostic

ERROR_STATUS = "error"
# Neither a ZsyncError nor click's: a bug in zsync (its traceback goes to stderr).
INTERNAL = "internal"
INTERRUPTED = "interrupted"
# Click refused the command line before the command ran (bad option value, unknown option).
USAGE = "usage"

# Whether this process printed its document yet: a second one would break every reader.
_printed = False


def start_command() -> None:
    """A new command: no document of its own printed yet."""
    global _printed
    _printed = False


def printed() -> bool:
    return _printed


def print_document(document: object) -> None:
    """Print the command's JSON document on stdout, secrets masked."""
    print_json_text(json.dumps(redact.scrub(document), indent=2))


def print_json_text(text: str) -> None:
    """Print JSON that is already text (a manifest as written), secrets masked."""
    global _printed
    if _printed:  # a bug: say so where it can't corrupt the document already out
        click.echo("zsync: internal error: a second JSON document was not printed", err=True)
        return
    _printed = True
    click.echo(redact.text(text.rstrip()))


def print_envelope(envelope: dict[str, Any]) -> None:
    """Print an error envelope unless the command's own document is out already."""
    if not _printed:
        print_document(envelope)


def envelope(
    kind: str,
    message: str,
    exit_code: int,
    diagnostics: Iterable[Diagnostic] = (),
) -> dict[str, Any]:
    return {
        "status": ERROR_STATUS,
        "exit_code": int(exit_code),
        "error": {"kind": kind, "message": message},
        "diagnostics": [d.as_json() for d in diagnostics],
    }


def for_zsync_error(error: ZsyncError) -> dict[str, Any]:
    diagnostics = error.diagnostics if isinstance(error, SpecError) else ()
    return envelope(error.kind, str(error), error.exit_code, diagnostics)


def for_invalid_job_file(diagnostics: Sequence[Diagnostic]) -> dict[str, Any]:
    return for_zsync_error(SpecError(diagnostics))


def for_click_error(error: click.ClickException) -> dict[str, Any]:
    return envelope(USAGE, error.format_message(), error.exit_code)


def for_internal_error(error: BaseException) -> dict[str, Any]:
    message = f"internal error ({type(error).__name__}: {error}); the traceback is on stderr"
    return envelope(INTERNAL, message, ExitCode.JOB_FAILED)


def for_exit_code(code: int) -> dict[str, Any]:
    """For a command that ended without a document or an error to say why (a run stopped
    by a signal before it was recorded)."""
    if code in (ExitCode.INTERRUPTED, ExitCode.TERMINATED):
        return envelope(INTERRUPTED, "interrupted", code)
    return envelope(ZsyncError.kind, f"zsync ended with exit code {code}", code)


def asks_for_json(args: Sequence[str]) -> bool:
    """Whether a command line, not yet parsed (click may refuse it), gives --output json."""
    args = list(args)
    for index, arg in enumerate(args):
        if arg == "--":  # what follows is arguments, not options
            return False
        if arg == "--output=json" or (
            arg == "--output" and args[index + 1 : index + 2] == ["json"]
        ):
            return True
    return False
