"""Read a job file through every check and build its model: the one entry point for callers."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zsync.errors import SpecError
from zsync.spec.as_written import keep_as_written
from zsync.spec.diagnostics import Diagnostic, Severity, has_errors, sort_diagnostics
from zsync.spec.interpolate import interpolate
from zsync.spec.model import Spec, build_spec
from zsync.spec.schema_check import check_schema
from zsync.spec.semantics import check_semantics
from zsync.spec.yaml_source import load_yaml


@dataclass
class LoadResult:
    """What validation found; `spec` is set when there is no error."""

    file: str
    spec: Spec | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        # No model means invalid, even without a diagnostic to say why (a file holding `~`).
        return self.spec is not None and not has_errors(self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]


def validate_spec(
    path: str | os.PathLike[str], env: Mapping[str, str] | None = None, *, for_run: bool = False
) -> LoadResult:
    """Check the job file at `path`, reporting every problem at once.

    `for_run` makes what only matters when jobs really run (an unset environment variable, an
    import file that isn't there) an error; otherwise those are warnings, so that a pull
    request check without secrets can still validate.
    """
    file = str(path)
    env = os.environ if env is None else env
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return _failed(file, "no such file")
    except IsADirectoryError:
        return _failed(file, "is a directory, not a job file")
    except UnicodeDecodeError as exc:
        return _failed(file, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
    except OSError as exc:
        return _failed(file, f"can't be read: {exc.strerror}")

    with _no_collector_pauses():
        return _validate_text(file, text, env, for_run=for_run)


def _validate_text(file: str, text: str, env: Mapping[str, str], *, for_run: bool) -> LoadResult:
    source, diagnostics = load_yaml(text, file)
    if source.data is None:
        return LoadResult(file, None, sort_diagnostics(diagnostics))
    written = keep_as_written(source)
    diagnostics += written.diagnostics
    severity: Severity = "error" if for_run else "warning"
    interpolation = interpolate(source, env, unset=severity)
    diagnostics += interpolation.diagnostics
    schema_problems, broken = check_schema(source, interpolation, quiet=written.refused)
    diagnostics += schema_problems
    broken |= written.refused
    # Check the rest of the file too, so one pass reports every problem: set aside the jobs
    # and connections that broke the schema, when what's left still forms a file.
    data, set_aside = _without_broken_entries(interpolation.data, broken)
    if data is None:
        return LoadResult(file, None, sort_diagnostics(diagnostics))
    spec = build_spec(data, Path(file).resolve())
    diagnostics += check_semantics(spec, source, missing_file=severity, set_aside=set_aside)
    ordered = sort_diagnostics(diagnostics)
    return LoadResult(file, None if has_errors(ordered) else spec, ordered)


@contextmanager
def _no_collector_pauses() -> Iterator[None]:
    """Keep the cyclic garbage collector out of the way while the file is read.

    Reading builds hundreds of thousands of small dicts, lists and tuples that live until
    the model is built; Python's collector walks all of them again and again as they pile
    up, which took a third of the time for 10,000 jobs. Reference counting frees them as
    usual; the rare cycle (an error with its context) waits for the next collection.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_spec(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> Spec:
    """The model of a job file about to run; raises SpecError if anything is wrong."""
    result = validate_spec(path, env, for_run=True)
    if result.spec is None:
        raise SpecError(result.diagnostics)
    return result.spec


def _without_broken_entries(
    data: Any, broken: set[tuple[str | int, ...]]
) -> tuple[dict[str, Any] | None, set[str]]:
    """`data` less the jobs and connections that broke the schema, with their names; None
    when a broken part can't be set aside (the top level, `defaults`)."""
    sections = ("jobs", "connections")
    if any(len(p) < 2 or p[0] not in sections for p in broken):
        return None, set()
    pruned = dict(data)
    set_aside: set[str] = set()
    for section in sections:
        bad = {str(p[1]) for p in broken if p[0] == section}
        pruned[section] = {k: v for k, v in data[section].items() if k not in bad}
        set_aside |= bad
    if not pruned["connections"] and not pruned["jobs"]:
        return None, set_aside
    return pruned, set_aside


def _failed(file: str, message: str) -> LoadResult:
    return LoadResult(file, None, [Diagnostic(file, 1, 1, "", "error", message)])
