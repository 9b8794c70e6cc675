"""Every failure zsync knows, and the one place they map to exit codes.

    ZsyncError                      base class; `exit_code` says how the CLI ends
    ├── UsageError                  bad command-line use                      -> 2
    └── SpecError                   the job file is invalid (diagnostics)     -> 2

Later layers (HTTP, providers, scheduler) add their classes under ZsyncError here, so a
reader sees every failure at once.
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
    INTERRUPTED = 130
    TERMINATED = 143


class ZsyncError(Exception):
    """Base of every error zsync raises on purpose."""

    exit_code: ExitCode = ExitCode.JOB_FAILED


class UsageError(ZsyncError):
    """The command line asks for something that can't be done."""

    exit_code = ExitCode.INVALID


class SpecError(ZsyncError):
    """The job file is invalid; `diagnostics` says where and why."""

    exit_code = ExitCode.INVALID

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        errors = [d for d in self.diagnostics if d.severity == "error"]
        first = errors[0].render() if errors else "invalid job file"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first + more)
