"""Zoho Analytics state: one organisation with one workspace, its tables and views, and the
asynchronous export/import jobs run against them [seed 000/001].
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zsync.emulator import sql
from zsync.emulator.analytics import formats
from zsync.emulator.analytics.criteria import Predicate
from zsync.emulator.data import SCHEMAS, Field, Ids, Module, Row, render
from zsync.emulator.jobs import Job, Phase, Timeline
from zsync.emulator.tables import Table

if TYPE_CHECKING:
    from zsync.emulator.emulator import Emulator

JOB_STATUS = {
    "1001": "JOB NOT INITIATED",
    "1002": "JOB IN PROGRESS",
    "1003": "ERROR OCCURRED",
    "1004": "JOB COMPLETED",
    "1005": "JOB NOT FOUND",
}
PHASE_CODES = {
    Phase.ADDED: "1001",
    Phase.QUEUED: "1001",
    Phase.RUNNING: "1002",
    Phase.COMPLETED: "1004",
    Phase.FAILED: "1003",
}
IMPORT_TYPES = ("append", "truncateadd", "updateadd")
ON_ERROR = ("abort", "skiprow", "setcolumnempty")
TYPE_NAMES = {
    "text": "Plain Text",
    "integer": "Number",
    "decimal": "Decimal Number",
    "date": "Date",
}


@dataclass
class View:
    id: str
    name: str
    type: str  # "Table" or "QueryTable"
    table: str  # the table a Table view shows, or the FROM table of a QueryTable
    sql: str | None = None
    description: str = ""


@dataclass(frozen=True)
class ExportOptions:
    """What an export's CONFIG asks of its rows besides the format (analytics/exports.py)."""

    columns: tuple[str, ...] = ()  # selectedColumns, in order; () for all
    criteria: Predicate | None = None
    delimiter: str = ","
    record_delimiter: str = "\r\n"
    date_format: Callable[[str], str] | None = None  # stored yyyy-MM-dd -> dateFormat


@dataclass
class ExportJob(Job):
    fmt: str = "csv"
    view_id: str | None = None
    query: str | None = None
    result: tuple[list[str], list[list[Any]]] | None = None  # SQL results, computed at create
    options: ExportOptions = field(default_factory=ExportOptions)
    title: str = ""  # the view's name, for the formats that show one


@dataclass
class ImportJob(Job):
    table: str = ""
    import_type: str = "append"
    new_table: Module | None = None  # the table an import into a new table creates
    columns: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)  # parsed rows to store on completion
    matching: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    applied: bool = False
    # Set when a data error met `onError: abort`: the job still runs, then ends 1003 with this
    # message and stores nothing [seed 001: 1003 "check the error message"].
    abort_message: str | None = None
    processed: int = 0  # records read before the job ended (all, or up to the aborting one)


class ImportRejected(ValueError):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


DateParser = Callable[[str], str]


def infer_type(values: list[str], parse_date: DateParser | None = None) -> str:
    present = [v for v in values if v != ""]
    if not present:
        return "text"

    def is_date(v: str) -> bool:
        try:
            _date(v, parse_date)
        except ValueError:
            return False
        return True

    for type_, test in (("integer", _is_int), ("decimal", _is_float), ("date", is_date)):
        if all(test(v) for v in present):
            return type_
    return "text"


def _is_int(v: str) -> bool:
    return v.lstrip("-").isdigit()


def _is_float(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


def _is_date(v: str) -> bool:
    return len(v) == 10 and v[4] == "-" and v[7] == "-" and v.replace("-", "").isdigit()


def _date(text: str, parse_date: DateParser | None) -> str:
    # ISO dates are always recognised; `dateFormat` is for what auto-recognition misses
    # (Analytics v2 create-import-job pages).
    if _is_date(text):
        return text
    if parse_date is None:
        raise ValueError(text)
    return parse_date(text)


def convert(type_: str, text: str, parse_date: DateParser | None = None) -> Any:
    """A CSV cell as the column's type; ValueError when it does not fit."""
    if text == "":
        return None
    if type_ == "integer":
        return int(text)
    if type_ == "decimal":
        return float(text)
    if type_ == "date":
        return _date(text, parse_date)
    return text


class AnalyticsState:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.ids = Ids(emulator.config.seed, "analytics")
        self.org_id = str(600_000_000 + (emulator.config.seed * 7_919) % 100_000_000)
        self.org_name = "Zylker Analytics"
        self.workspace_id = self.ids.fixed(1)
        self.workspace_name = "Zylker Sales"
        self.views: dict[str, View] = {}
        for n, name in enumerate(("Sales", "Customers"), start=10):
            self.views[self.ids.fixed(n)] = View(
                self.ids.fixed(n), name, "Table", name, description=f"Demo {name} table"
            )
        query = "SELECT Region, SUM(Amount) AS Total FROM Sales GROUP BY Region ORDER BY Region"
        self.views[self.ids.fixed(20)] = View(
            self.ids.fixed(20),
            "Sales by Region",
            "QueryTable",
            "Sales",
            query,
            "Total sales per region",
        )
        self.imports: list[ImportJob] = []
        # The workspace's tables in SQLite, built at the first SQL export, then kept.
        self.sql = sql.Database(lambda: emulator.clock.now())

    def table(self, name: str) -> Table:
        return self.emulator.table("analytics", name)

    def view_by_id(self, view_id: str) -> View | None:
        return self.views.get(view_id)

    def column_types(self, table: Table) -> dict[str, str]:
        return {f.api_name: f.type for f in table.module.fields}

    # -- export ------------------------------------------------------------------------
    def run_sql(self, query_text: str) -> tuple[list[str], list[list[Any]]]:
        """Run a SQL export's query over every table of the workspace (sql.SqlError if not)."""
        names = set(SCHEMAS["analytics"]) | {n for p, n in self.emulator.tables if p == "analytics"}
        return self.sql.run(query_text, {name: self.table(name) for name in sorted(names)})

    def export_source(
        self, job: ExportJob
    ) -> tuple[list[str], Callable[[], Iterator[list[Any]]], dict[str, str]]:
        """The columns an export starts from, its rows (again on each call) and each
        column's type; a query table's SQL runs once, at create."""
        if job.result is None and self.views[job.view_id or ""].sql:
            job.result = self.run_sql(self.views[job.view_id or ""].sql or "")
        if job.result is not None:
            header, values = job.result
            return header, lambda: iter(values), self._result_types(header, values)
        table = self.table(self.views[job.view_id or ""].table)
        columns = list(table.columns)
        types = {c: self.column_types(table).get(c, "text") for c in columns}
        return columns, lambda: ([row.get(c) for c in columns] for row in table.rows()), types

    def _result_types(self, header: list[str], rows: list[list[Any]]) -> dict[str, str]:
        """An SQL result's column types: numbers by their values, dates by the name of a
        date column in some table (SQL results carry no types of their own)."""
        dates = {
            f.api_name
            for (product, _), table in self.emulator.tables.items()
            if product == "analytics"
            for f in table.module.fields
            if f.type == "date"
        }
        types: dict[str, str] = {}
        for index, name in enumerate(header):
            sample = next((r[index] for r in rows if r[index] is not None), None)
            number = isinstance(sample, int | float) and not isinstance(sample, bool)
            types[name] = "decimal" if number else "date" if name in dates else "text"
        return types

    def shaped(self, job: ExportJob) -> tuple[list[str], Iterator[list[str]]]:
        """The export's header and rows as text: filtered by its criteria, cut to its
        selected columns, dates in its dateFormat."""
        header, rows, types = self.export_source(job)
        options = job.options
        chosen = list(options.columns) or header
        indexes = [header.index(c) for c in chosen]
        dated = {i for i in indexes if types.get(header[i]) == "date"}

        def text(index: int, value: Any) -> str:
            if value is not None and index in dated and options.date_format is not None:
                return options.date_format(str(value))
            return render(value)

        def out() -> Iterator[list[str]]:
            for row in rows():
                if options.criteria is None or options.criteria(
                    dict(zip(header, row, strict=True))
                ):
                    yield [text(i, row[i]) for i in indexes]

        return chosen, out()

    def export_rows(self, job: ExportJob) -> int:
        """The rows the export will hold: counted through the criteria when it has one."""
        if job.options.criteria is not None:
            return sum(1 for _ in self.shaped(job)[1])
        self.export_source(job)  # a query table's SQL runs now
        if job.result is not None:
            return len(job.result[1])
        return len(self.table(self.views[job.view_id or ""].table))

    def export_content(self, job: ExportJob) -> Iterator[bytes]:
        header, rows = self.shaped(job)
        return self.render(
            header,
            rows,
            job.fmt,
            title=job.title,
            delimiter=job.options.delimiter,
            record_delimiter=job.options.record_delimiter,
        )

    @staticmethod
    def render(
        header: list[str], rows: Iterable[list[Any]], fmt: str, **layout: str
    ) -> Iterator[bytes]:
        """`rows` in `fmt`; values not yet text are written as in CSV (data.render)."""
        text = ([v if isinstance(v, str) else render(v) for v in row] for row in rows)
        return formats.render(fmt, header, text, **layout)

    # -- import ------------------------------------------------------------------------
    def plan_import(
        self,
        job: ImportJob,
        header: list[str],
        records: list[list[str]],
        on_error: str,
        existing: Table | None,
        parse_date: DateParser | None = None,
    ) -> None:
        """Validate the file now (so the summary is known) and keep rows to store at completion."""
        if existing is not None:
            types = self.column_types(existing)
            known = [c for c in header if c in types]
            if not known:
                raise ImportRejected(
                    7235,
                    "Not even a single column name provided in source "
                    "file matches with the column data in table.",
                )
            for column in job.matching:
                if column not in types:
                    raise ImportRejected(8504, f"Matching column {column} is not in the table.")
        else:
            types = {
                c: infer_type([r[i] if i < len(r) else "" for r in records], parse_date)
                for i, c in enumerate(header)
            }
            known = list(header)
        job.columns = known
        errors: list[str] = []
        success = 0
        job.processed = len(records)
        for line, record in enumerate(records, start=2):
            row: Row = {}
            bad = False
            for index, column in enumerate(header):
                if column not in types:
                    continue
                text = record[index] if index < len(record) else ""
                try:
                    row[column] = convert(types[column], text, parse_date)
                except ValueError:
                    errors.append(
                        f"[Line: {line} Field: {index + 1}] {text} -WARNING Invalid "
                        f"{TYPE_NAMES[types[column]]} value"
                    )
                    if on_error == "abort":
                        job.abort_message = (
                            f"Value at line {line} in column {column} does not follow the data "
                            f"type {TYPE_NAMES[types[column]]}; the import was aborted."
                        )
                        bad = True
                        break
                    if on_error == "skiprow":
                        bad = True
                        break
                    row[column] = None
            if job.abort_message is not None:
                job.processed = line - 1
                job.rows.clear()
                success = 0
                break
            if not bad:
                job.rows.append(row)
                success += 1
        job.summary = {
            "importSummary": {
                "importType": job.import_type.upper(),
                "totalColumnCount": len(header),
                "selectedColumnCount": len(known),
                "totalRowCount": len(records),
                "successRowCount": success,
                "warnings": len(errors),
                "importOperation": "created" if existing is None else "updated",
            },
            "columnDetails": {c: TYPE_NAMES[types[c]] for c in known},
            "importErrors": "\n".join(errors),
        }
        if existing is None:
            fields = tuple(Field(c, types[c]) for c in header)
            job.new_table = Module("analytics", job.table, 90, fields)

    def settle(self, now: float) -> None:
        """Store the rows of every import that has completed by `now`, in completion order."""
        due = [j for j in self.imports if not j.applied and j.phase(now) is Phase.COMPLETED]
        for job in sorted(due, key=lambda j: j.timeline.finished_at):
            self._apply(job)
            job.applied = True

    def _apply(self, job: ImportJob) -> None:
        if job.new_table is not None:
            table = Table(job.new_table, 0, lambda i: {})
            self.emulator.tables[("analytics", job.table)] = table
            self.views[job.id + "0"] = View(job.id + "0", job.table, "Table", job.table)
        table = self.table(job.table)
        if job.import_type == "truncateadd":
            table.truncate()
        for row in job.rows:
            if job.import_type == "updateadd" and job.matching:
                index = self._match(table, job.matching, row)
                if index is not None:
                    table.update(index, row)
                    continue
            table.append(row)

    @staticmethod
    def _match(table: Table, columns: list[str], row: Row) -> int | None:
        for index, existing in enumerate(table.rows()):
            if all(render(existing.get(c)) == render(row.get(c)) for c in columns):
                return index
        return None

    def new_timeline(self, rows: int, fails: bool) -> Timeline:
        return self.emulator.new_timeline(rows, fails)
