"""The job file as typed, frozen values: what every later layer receives instead of raw dicts.

Built only from data that passed the schema, so it trusts shapes and fills in defaults.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from zsync.durations import parse_duration
from zsync.locations import inside, is_url, normal_url
from zsync.products import Direction, Product
from zsync.sizes import parse_size

DEFAULT_POLL = {"first": 1.0, "max": 30.0, "timeout": 7200.0}
DEFAULT_RETRY = {"attempts": 5, "backoff": 1.0}
DEFAULT_OUTPUT_DIR = "exports"
# Zoho Analytics imports "a maximum file size of 100 MB" (seed 001), without saying whether a
# MB is 10^6 or 2^20 bytes: parts are cut at 100,000,000 bytes by default, within either
# reading (max_part_size may go up to 104,857,600 where the larger is known to pass).
ANALYTICS_PART_SIZE = 100_000_000


@dataclass(frozen=True)
class Auth:
    """A connection's OAuth client and refresh token (never shown)."""

    client_id: str
    client_secret: str
    refresh_token: str
    # Keep the access token in the state store for other runners (auth.share_access_token).
    share_access_token: bool = False

    def __repr__(self) -> str:  # secrets never reach a log through a stray repr
        return "Auth(<hidden>)"


@dataclass(frozen=True)
class Limits:
    """What a connection lowers (or sets) of Zoho's limits: jobs at once, requests a window."""

    exports: int | None = None
    imports: int | None = None
    # (kind of request, calls, per seconds): replaces Zoho's documented limit for that kind
    requests: tuple[tuple[str, int, float], ...] = ()

    def for_requests(self, kind: str) -> tuple[int, float] | None:
        return next(((calls, per) for k, calls, per in self.requests if k == kind), None)

    def for_direction(self, direction: Direction) -> int | None:
        return self.exports if direction == "export" else self.imports


@dataclass(frozen=True)
class Connection:
    """One Zoho account of a product: where it lives and how to sign in."""

    name: str
    product: Product
    dc: str
    auth: Auth
    org_id: str | None = None
    workspace: str | None = None
    owner: str | None = None
    app: str | None = None
    base_url: str | None = None
    limits: Limits = Limits()


@dataclass(frozen=True)
class Poll:
    """How a job's status is checked: first check, longest wait, whole-job timeout (seconds)."""

    first: float
    max: float
    timeout: float


@dataclass(frozen=True)
class Retry:
    """How often a failed request is tried again, and the first backoff (seconds)."""

    attempts: int
    backoff: float


@dataclass(frozen=True)
class Results:
    """What one download may be before zsync calls it bad (the `results:` settings)."""

    max_size: int = 20 * 1024**3  # bytes, compressed and extracted alike
    max_zip_ratio: float = 200.0  # extracted bytes per compressed byte, past a floor
    stall_timeout: float = 120.0  # seconds for the next KiB of a body


@dataclass(frozen=True)
class Condition:
    """One criteria condition: a field, a comparator, a value."""

    api_name: str
    comparator: str
    value: Any


@dataclass(frozen=True)
class Group:
    """Criteria joined by and/or."""

    operator: Literal["and", "or"]
    members: tuple[Criterion, ...]


Criterion = Condition | Group


DEFAULT_OVERLAP = 300.0  # seconds: see Incremental


@dataclass(frozen=True)
class Incremental:
    """Export only what changed since the last successful run: `field` (a CRM/Bigin/Creator
    field, or an Analytics column) holds each row's last modification; the next run reads from the
    highest value seen minus `overlap` seconds, which covers clock skew at Zoho and records
    committed after the export that should have seen them."""

    field: str
    overlap: float = DEFAULT_OVERLAP


AnalyticsFormat = Literal["csv", "json", "xml", "xls", "pdf", "html"]
# zsync's names for a CSV field delimiter -> the character (the export and import CONFIG send
# Zoho's numeric codes for them: providers/analytics.py, providers/analytics_import.py).
DELIMITERS = {"comma": ",", "tab": "\t", "semicolon": ";", "space": " ", "pipe": "|"}


@dataclass(frozen=True)
class AnalyticsExport:
    """An Analytics export of a view or an SQL query."""

    connection: str
    view: str | None = None
    sql: str | None = None
    format: AnalyticsFormat = "csv"
    date_format: str | None = None
    columns: tuple[str, ...] = ()  # () exports every column
    criteria: str | None = None  # view exports only
    delimiter: str = "comma"  # format csv only
    show_hidden_columns: bool | None = None  # None: Zoho's default
    incremental: Incremental | None = None

    @property
    def field_delimiter(self) -> str:
        """The character between a CSV result's fields."""
        return DELIMITERS[self.delimiter]


@dataclass(frozen=True)
class BulkReadExport:
    """CRM or Bigin bulk read (which one is the connection's product)."""

    connection: str
    module: str
    fields: tuple[str, ...] = ()
    criteria: Criterion | None = None
    cvid: str | None = None
    file_type: Literal["csv", "ics"] = "csv"
    page: int = 1
    incremental: Incremental | None = None


@dataclass(frozen=True)
class CreatorExport:
    """A Creator bulk read of a report."""

    connection: str
    report: str
    criteria: str | None = None
    fields: tuple[str, ...] = ()
    max_records: int | None = None  # None: Zoho's default batch size
    incremental: Incremental | None = None


@dataclass(frozen=True)
class AnalyticsImport:
    """An Analytics import of a CSV file into a table."""

    connection: str
    table: str
    file: str
    create_table: bool = False
    mode: Literal["append", "truncateadd", "updateadd"] = "append"
    matching_columns: tuple[str, ...] = ()
    on_error: Literal["abort", "skiprow", "setcolumnempty"] = "abort"
    date_format: str | None = None
    delimiter: str = "comma"
    quoted: str = "double"
    max_part_size: int = ANALYTICS_PART_SIZE


@dataclass(frozen=True)
class BulkWriteImport:
    """A CRM bulk write of a CSV file into a module."""

    connection: str
    module: str
    file: str
    operation: Literal["insert", "update", "upsert"] = "insert"
    find_by: str | None = None
    field_mappings: Mapping[str, str] = field(default_factory=dict)
    ignore_empty: bool = False
    allow_row_errors: bool = False


Export = AnalyticsExport | BulkReadExport | CreatorExport
Import = AnalyticsImport | BulkWriteImport


@dataclass(frozen=True)
class Job:
    """One job of the file: an export or an import, and how it is run."""

    name: str
    action: Export | Import
    poll: Poll
    retry: Retry
    results: Results = Results()
    output: str | None = None
    needs: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    enabled: bool = True
    description: str | None = None

    @property
    def direction(self) -> Direction:
        return "import" if isinstance(self.action, AnalyticsImport | BulkWriteImport) else "export"

    @property
    def connection(self) -> str:
        return self.action.connection

    @property
    def field_delimiter(self) -> str:
        """Between a CSV result's fields: a comma, unless the export asked for another."""
        return self.action.field_delimiter if isinstance(self.action, AnalyticsExport) else ","

    @property
    def input_file(self) -> str | None:
        return (
            self.action.file if isinstance(self.action, AnalyticsImport | BulkWriteImport) else None
        )


@dataclass(frozen=True)
class Spec:
    """A whole job file, checked: its connections and jobs."""

    path: Path
    output_dir: Path
    connections: Mapping[str, Connection]
    jobs: Mapping[str, Job]
    # Where imports may read besides the job file's directory and output_dir.
    import_roots: tuple[Path, ...] = ()
    # defaults.state: a shared state store's URL (a secret: it holds a password); None for
    # the SQLite file in the state directory. ZSYNC_STATE_URL overrides it.
    state_url: str | None = None
    # An output_dir in object storage (s3://bucket/prefix, normalised): outputs and relative
    # import files are keys below it; output_dir is then the job file's directory.
    output_url: str | None = None
    import_urls: tuple[str, ...] = ()  # import_roots in object storage
    storage_options: Mapping[str, Any] = field(default_factory=dict)  # for fsspec


def build_spec(data: Mapping[str, Any], path: Path) -> Spec:
    """The model of schema-valid `data` read from `path`."""
    defaults = data.get("defaults", {})
    base_poll = {**DEFAULT_POLL, **_durations(defaults.get("poll", {}))}
    base_retry = {**DEFAULT_RETRY, **_retry(defaults.get("retry", {}))}
    base_results = _results(defaults.get("results", {}))
    written_dir = defaults.get("output_dir", DEFAULT_OUTPUT_DIR)
    output_url = (normal_url(written_dir) or written_dir) if is_url(written_dir) else None
    output_dir = path.parent if output_url else path.parent / written_dir
    connections = {name: _connection(name, raw) for name, raw in data["connections"].items()}
    jobs = {
        name: _relative_urls(_job(name, raw, base_poll, base_retry, base_results), output_url)
        for name, raw in data["jobs"].items()
    }
    roots = defaults.get("import_roots", ())
    import_roots = tuple(path.parent / root for root in roots if not is_url(root))
    return Spec(
        path=path,
        output_dir=output_dir,
        connections=connections,
        jobs=jobs,
        import_roots=import_roots,
        state_url=defaults.get("state") or None,
        output_url=output_url,
        import_urls=tuple(normal_url(root) or root for root in roots if is_url(root)),
        storage_options=dict(defaults.get("storage_options", {})),
    )


def _relative_urls(job: Job, output_url: str | None) -> Job:
    """A job's output or import file written as a URL below the output directory's, as the
    path relative to it that it is (so both spellings name one place); others stay URLs."""
    if output_url is None:
        return job
    output = inside(job.output, output_url) if job.output and is_url(job.output) else None
    if output is not None and output != ".":
        job = replace(job, output=output + ("/" if (job.output or "").endswith("/") else ""))
    file = job.input_file
    relative = inside(file, output_url) if file and is_url(file) else None
    if relative is not None and relative != "." and isinstance(job.action, Import):
        job = replace(job, action=replace(job.action, file=relative))
    return job


def _connection(name: str, raw: Mapping[str, Any]) -> Connection:
    return Connection(
        name=name,
        product=raw["product"],
        dc=raw.get("dc", "com"),
        auth=Auth(**raw["auth"]),
        org_id=raw.get("org_id"),
        workspace=raw.get("workspace"),
        owner=raw.get("owner"),
        app=raw.get("app"),
        base_url=raw.get("base_url", "").rstrip("/") or None,
        limits=_limits(raw.get("limits", {})),
    )


def _limits(raw: Mapping[str, Any]) -> Limits:
    requests = tuple(
        (kind, int(limit["calls"]), parse_duration(limit["per"]))
        for kind, limit in raw.get("requests", {}).items()
    )
    if "tokens" in raw:  # kept beside the request limits: the same kind of window
        tokens = raw["tokens"]
        requests += (("token", int(tokens["calls"]), parse_duration(tokens["per"])),)
    return Limits(exports=raw.get("exports"), imports=raw.get("imports"), requests=requests)


def _job(
    name: str,
    raw: Mapping[str, Any],
    poll: dict[str, float],
    retry: dict[str, Any],
    results: dict[str, Any],
) -> Job:
    action: Export | Import = _export(raw["export"]) if "export" in raw else _import(raw["import"])
    return Job(
        name=name,
        action=action,
        poll=Poll(**{**poll, **_durations(raw.get("poll", {}))}),
        retry=Retry(**{**retry, **_retry(raw.get("retry", {}))}),
        results=Results(**{**results, **_results(raw.get("results", {}))}),
        output=raw.get("output"),
        needs=tuple(raw.get("needs", ())),
        tags=tuple(raw.get("tags", ())),
        enabled=raw.get("enabled", True),
        description=raw.get("description"),
    )


def _export(raw: Mapping[str, Any]) -> Export:
    connection = raw["from"]
    if "module" in raw:
        return BulkReadExport(
            connection=connection,
            module=raw["module"],
            fields=tuple(raw.get("fields", ())),
            criteria=criterion(raw["criteria"]) if "criteria" in raw else None,
            cvid=raw.get("cvid"),
            file_type=raw.get("file_type", "csv"),
            page=raw.get("page", 1),
            incremental=_incremental(raw.get("incremental"), "field"),
        )
    if "report" in raw:
        return CreatorExport(
            connection=connection,
            report=raw["report"],
            criteria=raw.get("criteria"),
            fields=tuple(raw.get("fields", ())),
            max_records=raw.get("max_records"),
            incremental=_incremental(raw.get("incremental"), "field"),
        )
    return AnalyticsExport(
        connection=connection,
        view=raw.get("view"),
        sql=raw.get("sql"),
        format=raw.get("format", "csv"),
        date_format=raw.get("date_format"),
        columns=tuple(raw.get("columns", ())),
        criteria=raw.get("criteria"),
        delimiter=raw.get("delimiter", "comma"),
        show_hidden_columns=raw.get("show_hidden_columns"),
        incremental=_incremental(raw.get("incremental"), "column"),
    )


def _import(raw: Mapping[str, Any]) -> Import:
    connection = raw["to"]
    if "module" in raw:
        return BulkWriteImport(
            connection=connection,
            module=raw["module"],
            file=raw["file"],
            operation=raw.get("operation", "insert"),
            find_by=raw.get("find_by"),
            field_mappings=dict(raw.get("field_mappings", {})),
            ignore_empty=raw.get("ignore_empty", False),
            allow_row_errors=raw.get("allow_row_errors", False),
        )
    return AnalyticsImport(
        connection=connection,
        table=raw["table"],
        file=raw["file"],
        create_table=raw.get("create_table", False),
        mode=raw.get("mode", "append"),
        matching_columns=tuple(raw.get("matching_columns", ())),
        on_error=raw.get("on_error", "abort"),
        date_format=raw.get("date_format"),
        delimiter=raw.get("delimiter", "comma"),
        quoted=raw.get("quoted", "double"),
        max_part_size=raw.get("max_part_size", ANALYTICS_PART_SIZE),
    )


def criterion(raw: Mapping[str, Any]) -> Criterion:
    if "group" in raw:
        return Group(
            operator=raw["group_operator"],
            members=tuple(criterion(member) for member in raw["group"]),
        )
    value = raw["value"]
    return Condition(
        raw["api_name"], raw["comparator"], tuple(value) if isinstance(value, list) else value
    )


def _incremental(raw: Mapping[str, Any] | None, name: str) -> Incremental | None:
    """`name` is what the product calls the modification time: a field, or a column."""
    if raw is None:
        return None
    overlap = parse_duration(raw["overlap"]) if "overlap" in raw else DEFAULT_OVERLAP
    return Incremental(raw[name], overlap)


def _durations(raw: Mapping[str, Any]) -> dict[str, float]:
    return {key: parse_duration(value) for key, value in raw.items()}


def _retry(raw: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict(raw)
    if "backoff" in out:
        out["backoff"] = parse_duration(out["backoff"])
    return out


def _results(raw: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict(raw)
    if "max_size" in out:
        out["max_size"] = parse_size(out["max_size"])
    if "max_zip_ratio" in out:
        out["max_zip_ratio"] = float(out["max_zip_ratio"])
    if "stall_timeout" in out:
        out["stall_timeout"] = parse_duration(out["stall_timeout"])
    return out


def ancestors(needs: Mapping[str, Sequence[str]], name: str) -> set[str]:
    """Every job `name` needs, directly or through others (unknown names are ignored)."""
    seen: set[str] = set()
    todo = list(needs.get(name, ()))
    while todo:
        need = todo.pop()
        if need not in seen and need in needs:
            seen.add(need)
            todo.extend(needs[need])
    return seen
