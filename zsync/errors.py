"""Every failure zsync knows, and the one place they map to exit codes.

ZsyncError                      base class; `exit_code` says how the CLI ends, `kind`
│                               names it in --output json's error envelope
├── UsageError                  bad command-line use                              -> 2
│   └── StateLookupError        the state store or run asked for isn't there / readable
├── SpecError                   the job file is invalid (diagnostics)             -> 2
├── LockedError                 another run of the job file holds its lock        -> 5
├── StateError                  the state store can't be read or written          -> 1
└── JobError                    one job failed; `error_class` goes to the manifest -> 1
    ├── ConfigError             credentials refused, a foreign host, no scope   (config)
    ├── RemoteError             Zoho refused a request or failed a job          (remote)
    │   ├── RemoteJobFailed     the job at Zoho ended FAILED / JOBCODE 1003
    │   ├── ResultExpired       the result is gone (1005, 404 after its window)
    │   └── GarbageReply        a reply zsync can't read (not JSON, wrong shape)
    ├── TransientError          network, 5xx or throttling outlasted the retries (transient)
    │   └── OutcomeUnknown      a create call was sent but its answer never came
    ├── JobTimeout              poll.timeout passed                   (timeout)   -> 4
    └── InternalError           a bug in zsync                                  (internal)
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zsync.spec.diagnostics import Diagnostic


class ExitCode(IntEnum):
    """How a zsync command ends; documented in the README."""

    OK = 0
    JOB_FAILED = 1
    INVALID = 2
    PARTIAL = 3
    TIMEOUT = 4
    LOCKED = 5
    INTERRUPTED = 130
    TERMINATED = 143


class ZsyncError(Exception):
    """Base of every error zsync raises on purpose."""

    exit_code: ExitCode = ExitCode.JOB_FAILED
    kind = "error"


class UsageError(ZsyncError):
    """The command line asks for something that can't be done."""

    exit_code = ExitCode.INVALID
    kind = "usage"


class StateLookupError(UsageError):
    """The state store, or the run asked for, isn't there or can't be read (by status/runs).

    A usage error (exit 2): the command line pointed at the wrong place or run."""

    kind = "state"


class SpecError(ZsyncError):
    """The job file is invalid; `diagnostics` says where and why."""

    exit_code = ExitCode.INVALID
    kind = "invalid_job_file"

    def __init__(self, diagnostics: Sequence[Diagnostic], *, shown: bool = False) -> None:
        self.diagnostics = tuple(diagnostics)
        self.shown = shown  # the command printed every diagnostic already
        errors = [d for d in self.diagnostics if d.severity == "error"]
        first = errors[0].render() if errors else "invalid job file"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first + more)

    @property
    def summary(self) -> str:
        """One closing line for diagnostics already printed (not the first of them again)."""
        errors = [d for d in self.diagnostics if d.severity == "error"]
        where = errors[0].file if errors else "the job file"
        count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
        return f"{where} is invalid ({count} above): nothing was run"


class LockedError(ZsyncError):
    """Another run of the same job file holds the run lock."""

    exit_code = ExitCode.LOCKED
    kind = "lock_held"


class StorageError(ZsyncError):
    """The object storage a run writes its exports to can't be reached: said before any
    Zoho job starts."""

    kind = "storage"


class StateError(ZsyncError):
    """The state store can't be opened, read or written."""

    kind = "state"


class JobError(ZsyncError):
    """A job failed; the run goes on with the jobs that don't need it."""

    error_class = "internal"
    kind = "job_failed"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class ConfigError(JobError):
    error_class = "config"


class RemoteError(JobError):
    error_class = "remote"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status


class RemoteJobFailed(RemoteError):
    pass


class ResultExpired(RemoteError):
    pass


class CursorExpired(RemoteError):
    """A page's cursor died before the page was asked for (Creator's live 15 minutes): the
    export starts again from its first page."""


class GarbageReply(RemoteError):
    def __init__(
        self, message: str, *, code: str | None = "BAD_REPLY", status: int | None = None
    ) -> None:
        super().__init__(message, code=code, status=status)


class TransientError(JobError):
    error_class = "transient"


class OutcomeUnknown(TransientError):
    pass


class JobTimeout(JobError):
    error_class = "timeout"
    exit_code = ExitCode.TIMEOUT
    kind = "timeout"


class InternalError(JobError):
    error_class = "internal"
