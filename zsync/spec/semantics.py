"""Checks the schema can't express: references between parts of the file, products, paths.

Runs on the model of a schema-valid file and reports through the file's positions.
"""

from __future__ import annotations

import difflib
import posixpath
import re
import sys
from collections.abc import Iterator
from pathlib import Path as FsPath
from typing import Any

from zsync import output_pattern
from zsync.durations import format_duration
from zsync.locations import is_url
from zsync.products import CAPS, RATE_LIMITS, offers, products_offering, tightest
from zsync.spec.diagnostics import Diagnostic, Path, Severity
from zsync.spec.model import (
    AnalyticsExport,
    AnalyticsImport,
    BulkReadExport,
    BulkWriteImport,
    Condition,
    Connection,
    CreatorExport,
    Criterion,
    Group,
    Job,
    Spec,
    ancestors,
)
from zsync.spec.storage_checks import storage_problems
from zsync.spec.yaml_source import Source

LIST_COMPARATORS = {"in", "not_in"}
RANGE_COMPARATORS = {"between", "not_between"}
TEXT_COMPARATORS = {"contains", "not_contains", "starts_with", "ends_with"}
MAX_TEXT_VALUE = 255
ICS_MODULE = "Events"
XLS_MAX_COLUMNS = 256  # an Excel 97-2003 sheet; Zoho's async export pages list it (7807)

# Which product each form of export and import belongs to, and what a person calls it.
FORMS: dict[type, tuple[frozenset[str], str]] = {
    AnalyticsExport: (frozenset({"analytics"}), "an Analytics export (view/sql)"),
    BulkReadExport: (frozenset({"crm", "bigin"}), "a bulk read export (module)"),
    CreatorExport: (frozenset({"creator"}), "a Creator export (report)"),
    AnalyticsImport: (frozenset({"analytics"}), "an Analytics import (table)"),
    BulkWriteImport: (frozenset({"crm"}), "a CRM bulk write (module)"),
}


def check_semantics(
    spec: Spec,
    source: Source,
    *,
    missing_file: Severity,
    set_aside: frozenset[str] | set[str] = frozenset(),
) -> list[Diagnostic]:
    """Problems in `spec`; `set_aside` names jobs and connections already reported broken
    and left out of the model, so references to them aren't reported again as unknown."""
    checker = _Checker(spec, source, missing_file, set_aside)
    checker.run()
    return checker.diagnostics


class _Checker:
    def __init__(
        self,
        spec: Spec,
        source: Source,
        missing_file: Severity,
        set_aside: frozenset[str] | set[str],
    ) -> None:
        self.set_aside = set_aside
        self.spec = spec
        self.source = source
        self.missing_file = missing_file
        self.diagnostics: list[Diagnostic] = []

    def add(
        self, path: Path, message: str, *, severity: Severity = "error", key: bool = False
    ) -> None:
        self.diagnostics.append(self.source.diagnostic(path, message, severity=severity, key=key))

    def run(self) -> None:
        self.check_connections()
        for job in self.spec.jobs.values():
            self.check_job_connection(job)
            self.check_needs(job)
            if isinstance(job.action, BulkReadExport):
                self.check_bulk_read(job, job.action)
            if isinstance(job.action, AnalyticsExport):
                self.check_analytics_export(job, job.action)
            if isinstance(job.action, CreatorExport):
                self.check_creator_export(job, job.action)
            if isinstance(job.action, AnalyticsImport | BulkWriteImport):
                self.check_import_options(job)
        self.check_cycles()
        self.check_outputs()
        self.check_inputs()
        for path, message, severity in storage_problems(self.spec):
            self.add(path, message, severity=severity)

    # -- connections ---------------------------------------------------------------------

    def check_connections(self) -> None:
        used = {job.connection for job in self.spec.jobs.values()}
        for name, connection in self.spec.connections.items():
            path: Path = ("connections", name)
            if name not in used and not self.set_aside:
                self.add(
                    path,
                    f"connection '{name}' is not used by any job",
                    severity="warning",
                    key=True,
                )
            for direction in ("export", "import"):
                wanted = connection.limits.for_direction(direction)
                if wanted is None:
                    continue
                limit_path = (*path, "limits", f"{direction}s")
                cap = CAPS.get((connection.product, direction))
                if cap is None:
                    self.add(
                        limit_path,
                        f"{connection.product} offers no {direction} jobs; this "
                        "limit has no effect",
                        severity="warning",
                    )
                elif wanted > cap.jobs and cap.documented:
                    self.add(
                        limit_path,
                        f"{wanted} is above Zoho's documented cap of {cap.jobs} "
                        f"({cap.note}); limits can only lower it",
                    )
                elif wanted > cap.jobs:
                    self.add(
                        limit_path,
                        f"{wanted} raises zsync's default cap of {cap.jobs} "
                        f"({cap.note}); Zoho may throttle",
                        severity="warning",
                    )
            self.check_request_limits(connection, path)

    def check_request_limits(self, connection: Connection, path: Path) -> None:
        for kind, calls, per in connection.limits.requests:
            documented = RATE_LIMITS.get((connection.product, kind))  # type: ignore[arg-type]
            if not documented:
                continue
            zoho = tightest(documented)
            if calls / per > zoho.calls / zoho.per:
                self.add(
                    (*path, "limits", "requests", kind),
                    f"{calls} per {format_duration(per)} is faster than Zoho's documented "
                    f"{zoho.calls} per {format_duration(zoho.per)} "
                    f"({zoho.source}); expect HTTP 429 answers, each costing a wait",
                    severity="warning",
                )

    # -- jobs ----------------------------------------------------------------------------

    def check_job_connection(self, job: Job) -> None:
        key = "from" if job.direction == "export" else "to"
        path: Path = ("jobs", job.name, job.direction, key)
        connection = self.spec.connections.get(job.connection)
        if connection is None and job.connection in self.set_aside:
            return
        if connection is None:
            hint = _did_you_mean(job.connection, list(self.spec.connections))
            self.add(
                path,
                f"unknown connection '{job.connection}'{hint}; defined: "
                f"{', '.join(self.spec.connections)}",
            )
            return
        products, form = FORMS[type(job.action)]
        if connection.product in products:
            if isinstance(job.action, BulkWriteImport) and not connection.org_id:
                self.add(
                    ("connections", connection.name),
                    "a crm connection that jobs import "
                    "into needs 'org_id' (sent as X-CRM-ORG on the file upload)",
                    key=True,
                )
            return
        if not offers(connection.product, job.direction):
            others = ", ".join(products_offering(job.direction))
            self.add(
                path,
                f"'{job.connection}' is a {connection.product} connection, and zsync "
                f"can't {job.direction} with {connection.product} ({job.direction}s go "
                f"{'from' if job.direction == 'export' else 'to'}: {others})",
            )
            return
        self.add(
            path,
            f"'{job.connection}' is a {connection.product} connection, but this is "
            f"{form}, which needs a {' or '.join(sorted(products))} connection",
        )

    def check_needs(self, job: Job) -> None:
        for index, need in enumerate(job.needs):
            path: Path = ("jobs", job.name, "needs", index)
            other = self.spec.jobs.get(need)
            if other is None and need in self.set_aside:
                continue
            if other is None:
                hint = _did_you_mean(need, list(self.spec.jobs))
                self.add(path, f"unknown job '{need}'{hint}")
            elif not other.enabled and job.enabled:
                self.add(
                    path,
                    f"'{need}' is disabled (enabled: false): it won't run first unless selected",
                    severity="warning",
                )

    def check_cycles(self) -> None:
        reported: set[frozenset[str]] = set()
        for cycle in _cycles(self.spec):
            members = frozenset(cycle)
            if members in reported:
                continue
            reported.add(members)
            first = cycle[0]
            chain = " -> ".join([*cycle, first])
            self.add(("jobs", first, "needs"), f"needs form a cycle: {chain}", key=True)

    def check_bulk_read(self, job: Job, export: BulkReadExport) -> None:
        path: Path = ("jobs", job.name, "export")
        if export.file_type == "ics":
            if export.fields:
                self.add(
                    (*path, "fields"),
                    "file_type ics exports whole events: remove 'fields'",
                    key=True,
                )
            if export.module != ICS_MODULE:
                self.add(
                    (*path, "file_type"),
                    f"file_type ics exports only the {ICS_MODULE} "
                    f"module (meetings), not '{export.module}'",
                )
        if export.criteria is not None:
            for where, message in _criteria_problems(export.criteria, (*path, "criteria")):
                self.add(where, message)
        if export.incremental is not None:
            where = (*path, "incremental")
            if export.file_type == "ics":
                self.add(
                    where,
                    "an incremental export reads its watermark from CSV: file_type ics has none",
                    key=True,
                )
            elif export.fields and export.incremental.field not in export.fields:
                self.add(
                    (*where, "field"),
                    f"'{export.incremental.field}' is not among fields: add it, the watermark "
                    "is the highest value of that column in the export",
                )

    def check_creator_export(self, job: Job, export: CreatorExport) -> None:
        incremental = export.incremental
        if incremental is not None and export.fields and incremental.field not in export.fields:
            self.add(
                ("jobs", job.name, "export", "incremental", "field"),
                f"'{incremental.field}' is not among fields: add it, the watermark "
                "is the highest value of that column in the export",
            )

    def check_analytics_export(self, job: Job, export: AnalyticsExport) -> None:
        """What Zoho's export CONFIG would refuse or silently ignore (the v2 create-export
        pages: `criteria` belongs to the view export only, the CSV attributes to csv only,
        an xls sheet holds at most 256 columns)."""
        path: Path = ("jobs", job.name, "export")
        if export.criteria is not None and export.sql is not None:
            self.add(
                (*path, "criteria"),
                "criteria filters a view export; Zoho's SQL export takes no criteria: "
                "put the condition in the query's WHERE clause",
                key=True,
            )
        elif export.criteria is not None:
            problem = criteria_syntax(export.criteria)
            if problem:
                self.add((*path, "criteria"), f"Zoho can't parse this criteria: {problem}")
        if export.format != "csv" and (*path, "delimiter") in self.source.values:
            self.add(
                (*path, "delimiter"),
                f"delimiter applies only to format csv; a {export.format} export has none",
                key=True,
            )
        if export.incremental is not None:
            where = (*path, "incremental")
            if export.format != "csv":
                self.add(
                    where,
                    f"an incremental export reads its watermark from CSV, not {export.format}",
                    key=True,
                )
            elif export.columns and export.incremental.field not in export.columns:
                self.add(
                    (*where, "column"),
                    f"'{export.incremental.field}' is not among columns: add it, the watermark "
                    "is the highest value of that column in the export",
                )
        if export.format == "xls" and len(export.columns) > XLS_MAX_COLUMNS:
            self.add(
                (*path, "columns"),
                f"{len(export.columns)} columns: an xls sheet holds at most {XLS_MAX_COLUMNS}",
            )

    def check_import_options(self, job: Job) -> None:
        action = job.action
        path: Path = ("jobs", job.name, "import")
        if (
            isinstance(action, AnalyticsImport)
            and action.matching_columns
            and action.mode != "updateadd"
        ):
            self.add(
                (*path, "matching_columns"),
                f"matching_columns is used only by mode updateadd; mode {action.mode} ignores it",
                severity="warning",
                key=True,
            )
        if isinstance(action, BulkWriteImport) and action.find_by and action.operation == "insert":
            self.add(
                (*path, "find_by"),
                "find_by is used only by update and upsert; insert ignores it",
                severity="warning",
                key=True,
            )

    # -- files ---------------------------------------------------------------------------

    def check_outputs(self) -> None:
        written = _Outputs()
        for job in self.spec.jobs.values():
            if job.output is None:
                continue
            path: Path = ("jobs", job.name, "output")
            for problem in output_pattern.problems(job.output):
                self.add(path, problem)
            if is_url(job.output):
                continue  # storage_checks.py: a URL outside the output directory's
            normal = _normal(job.output)
            if normal is None:
                self.add(
                    path,
                    f"'{job.output}' leaves the output directory; outputs are paths "
                    "inside it (no leading '/', no '..' above it)",
                )
                continue
            other = written.overlapping(normal)
            if other is not None:
                line = self.source.position(("jobs", other.name, "output")).line
                self.add(
                    path, f"'{job.output}' is also written by job '{other.name}' (line {line})"
                )
            written.add(normal, job)

    def check_inputs(self) -> None:
        declared = {name: job.needs for name, job in self.spec.jobs.items()}
        writers = {
            _normal(j.output): j
            for j in self.spec.jobs.values()
            if j.output and j.direction == "export"
        }
        roots = import_roots_of(self.spec)
        for job in self.spec.jobs.values():
            if job.input_file is None:
                continue
            path: Path = ("jobs", job.name, "import", "file")
            if is_url(job.input_file):
                continue  # storage_checks.py; whether it exists only a run can tell
            if not self.check_import_root(job.input_file, path, roots):
                continue
            normal = _normal(job.input_file)
            writer = writers.get(normal) if normal else None
            if writer is not None and output_pattern.has_placeholders(writer.output or ""):
                self.add(
                    path,
                    f"'{job.input_file}' is written by job '{writer.name}' under a new name "
                    "each run (its output has a placeholder): an import can't know which "
                    "file to read; give the export a fixed output, or import one file by "
                    "its name",
                )
                continue
            if writer is None and output_pattern.names_a_placeholder(job.input_file):
                self.add(
                    path,
                    f"'{job.input_file}': placeholders are filled in only in an export's "
                    "output; an import reads the file named as written",
                )
                continue
            if writer is not None:
                if writer.name not in ancestors(declared, job.name):
                    self.add(
                        path,
                        f"'{job.input_file}' is written by job '{writer.name}', but "
                        f"this job doesn't need it: zsync runs it after '{writer.name}' "
                        f"anyway; say so with needs: [{writer.name}]",
                        severity="warning",
                    )
                continue
            file = FsPath(job.input_file)
            if self.spec.output_url and not file.is_absolute():
                continue  # a key below the output URL: only a run can look
            file = file if file.is_absolute() else self.spec.output_dir / file
            if not file.exists():
                self.add(
                    path,
                    f"'{job.input_file}' doesn't exist ({file}) and no job writes it",
                    severity=self.missing_file,
                )

    def check_import_root(self, file: str, path: Path, roots: list[FsPath]) -> bool:
        """Whether `file` lies in a directory imports may read; if not, says so."""
        where = FsPath(file)
        if self.spec.output_url and not where.is_absolute():
            if _normal(file) is not None:
                return True  # a key below the output URL
            self.add(path, f"'{file}' climbs out of the output directory {self.spec.output_url}")
            return False
        where = (where if where.is_absolute() else self.spec.output_dir / where).resolve()
        if any(where.is_relative_to(root) for root in roots):
            return True
        allowed = "the job file's directory, the output directory" + (
            " and defaults.import_roots" if self.spec.import_roots else ""
        )
        self.add(
            path,
            f"'{file}' ({where}) is outside {allowed}: imports read only files there, so "
            "that a changed job file can't make a run upload any file this machine can read; "
            "to read from another directory, add it to defaults.import_roots",
        )
        return False


def import_roots_of(spec: Spec) -> list[FsPath]:
    """Where imports may read: the job file's directory, the output directory, and
    defaults.import_roots, each with '..' and symbolic links resolved."""
    return [root.resolve() for root in (spec.path.parent, spec.output_dir, *spec.import_roots)]


def criteria_syntax(text: str) -> str | None:
    """What makes an Analytics criteria expression malformed at a glance (an unclosed quote,
    unbalanced parentheses), or None; the rest only Zoho can judge."""
    depth = 0
    quote: str | None = None
    index = 0
    while index < len(text):
        char = text[index]
        if quote is not None:
            if char == quote and text[index + 1 : index + 2] == quote:
                index += 1  # a doubled quote stands for itself
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return f"a ')' without its '(' (character {index + 1})"
        index += 1
    if quote is not None:
        what = "text value" if quote == "'" else "column name"
        return f"a {what} whose {quote} is never closed"
    if depth:
        return f"{depth} '(' never closed"
    return None


def _criteria_problems(criteria: Criterion, path: Path) -> Iterator[tuple[Path, str]]:
    if isinstance(criteria, Group):
        for index, member in enumerate(criteria.members):
            yield from _criteria_problems(member, (*path, "group", index))
        return
    yield from (((*path, "value"), message) for message in _value_problems(criteria))


# 2024-01-31T10:00:00.123+05:30: a DateTime with milliseconds, which Zoho's criteria refuse.
_DATETIME_WITH_FRACTION = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+(Z|[+-]\d{2}:?\d{2})?"
)


def _value_problems(condition: Condition) -> Iterator[str]:
    comparator, value = condition.comparator, condition.value
    is_list = isinstance(value, tuple)
    if comparator in LIST_COMPARATORS:
        if not is_list or not value:
            yield f"{comparator} compares with a list of values, e.g. [a, b]"
    elif comparator in RANGE_COMPARATORS:
        if not is_list or len(value) != 2:
            yield f"{comparator} takes exactly two values, [from, to]"
    elif is_list:
        yield f"{comparator} compares with one value, not a list (use in / not_in for lists)"
    values = value if is_list else (value,)
    if any(isinstance(v, bool) for v in values) and comparator != "equal":
        yield f"a true/false value can only be compared with equal, not {comparator}"
    if comparator in TEXT_COMPARATORS and not all(isinstance(v, str) for v in values):
        yield f"{comparator} compares text: quote the value"
    if any(isinstance(v, str) and len(v) > MAX_TEXT_VALUE for v in values):
        yield f"text values are limited to {MAX_TEXT_VALUE} characters"
    if any(isinstance(v, str) and _DATETIME_WITH_FRACTION.fullmatch(v) for v in values):
        yield (
            "Zoho's DateTime values take no milliseconds (seed 003): drop the fraction, e.g. "
            "2024-01-31T10:00:00+05:30"
        )


def _cycles(spec: Spec) -> Iterator[list[str]]:
    """Each cycle of needs, found depth first in file order; a loop with its own stack, not
    recursion: a chain of 3,000 needs is a valid file."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in spec.jobs:
        if root in state:
            continue
        state[root] = 1
        path = [root]
        todo = [iter(spec.jobs[root].needs)]
        while todo:
            need = next(todo[-1], None)
            if need is None:
                todo.pop()
                state[path.pop()] = 2
            elif need not in spec.jobs:
                continue
            elif state.get(need) == 1:
                yield path[path.index(need) :]
            elif need not in state:
                state[need] = 1
                path.append(need)
                todo.append(iter(spec.jobs[need].needs))


def _normal(path: str) -> str | None:
    """`path` normalised inside the output directory, or None if it leaves it."""
    if path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":"):
        return None
    directory = path.endswith("/")
    normal = posixpath.normpath(path.replace("\\", "/"))
    if normal == ".." or normal.startswith("../") or normal == ".":
        return None
    return normal + "/" if directory else normal


class _Outputs:
    """Outputs seen so far, as a tree of path parts, to find the one a new output overlaps
    (the same path, a directory holding it, or a file inside it) in time linear in its
    length: comparing each output with every other took minutes for 10,000 jobs.

    The answer is the first output added that overlaps, with the job that added it last,
    as the pairwise loop reported it.
    """

    def __init__(self) -> None:
        self.root = _Part()
        self.order: dict[str, int] = {}  # output -> when it was first added
        self.jobs: dict[str, Job] = {}  # output -> the last job that added it

    def add(self, output: str, job: Job) -> None:
        if output not in self.order:
            index = self.order[output] = len(self.order)
            part = self.root
            for name in _parts(output):
                part = part.children.setdefault(name, _Part())
                part.first = min(part.first, (index, output))
            part.outputs.append(output)
        self.jobs[output] = job

    def overlapping(self, output: str) -> Job | None:
        found: list[tuple[int, str]] = []
        part: _Part | None = self.root
        names = _parts(output)
        for depth, name in enumerate(names):
            part = part.children.get(name) if part else None
            if part is None:
                break
            if depth < len(names) - 1:  # a directory above `output`
                found += [(self.order[o], o) for o in part.outputs if o.endswith("/")]
            elif output.endswith("/"):  # `output` itself, or anything inside it
                found.append(part.first)
            else:  # `output` itself, as a file or a directory
                found += [(self.order[o], o) for o in part.outputs]
        return self.jobs[min(found)[1]] if found else None


class _Part:
    __slots__ = ("children", "first", "outputs")

    def __init__(self) -> None:
        self.children: dict[str, _Part] = {}
        self.first: tuple[int, str] = (sys.maxsize, "")  # the first output at or below it
        self.outputs: list[str] = []  # outputs ending here ("a" and "a/")


def _parts(output: str) -> list[str]:
    return output.rstrip("/").split("/")


def _did_you_mean(word: str, options: list[Any]) -> str:
    close = difflib.get_close_matches(word, [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
