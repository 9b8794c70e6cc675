"""CRM and Bigin state: one organisation each, its modules, and bulk read/write jobs.

Bigin's bulk read is CRM's with another prefix, its own module names and plain-string modules
[seed 003], so both products share this model; `CrmState.product` tells them apart.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from zsync.emulator import criteria as crit
from zsync.emulator.clock import iso
from zsync.emulator.data import SCHEMAS, USERS, Field, Ids, Module, Row, render, user_row
from zsync.emulator.files import csv_chunks, zip_chunks
from zsync.emulator.jobs import Job, Phase, Timeline

if TYPE_CHECKING:
    from zsync.emulator.emulator import Emulator

STATES = {
    Phase.ADDED: "ADDED",
    Phase.QUEUED: "QUEUED",
    Phase.RUNNING: "IN PROGRESS",
    Phase.COMPLETED: "COMPLETED",
    Phase.FAILED: "FAILED",
}
WRITE_STATES = {
    Phase.ADDED: "ADDED",
    Phase.QUEUED: "ADDED",
    Phase.RUNNING: "IN PROGRESS",
    Phase.COMPLETED: "COMPLETED",
    Phase.FAILED: "FAILED",
}
MAX_PAGE_DEPTH = 2_000_000  # [doc?] records reachable by `page`; past them, page_token
MANDATORY = {
    "Leads": ("Last_Name",),
    "Contacts": ("Last_Name",),
    "Accounts": ("Account_Name",),
    "Deals": ("Deal_Name",),
    "Events": ("Event_Title",),
    "Tasks": ("Subject",),
    "Calls": ("Subject",),
    "Products": ("Product_Name",),
    "Activities": ("Subject",),
}
MAX_WRITE_ROWS = 25_000  # [doc?] records per bulk-write file
# [doc?] "25 MB" per bulk-write file (the CSV): the larger reading, 2^20-byte MB, so a client
# that keeps to the smaller one always passes and one past both is refused.
MAX_WRITE_BYTES = 25 * 1024 * 1024


class QueryError(ValueError):
    def __init__(self, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


@dataclass
class ReadJob(Job):
    product: str = "crm"
    version: str = "v8"
    module: str = ""
    header: list[str] = field(default_factory=list)
    criteria: crit.Node | None = None
    echo: dict[str, Any] = field(default_factory=dict)  # the query as status replies show it
    file_type: str = "csv"
    page: int = 1
    per_page: int = 200_000
    offset: int = 0
    count: int = 0
    more_records: bool = False
    next_page_token: str | None = None
    callback: dict[str, Any] | None = None
    callback_sent: bool = False


@dataclass
class WriteJob(Job):
    version: str = "v8"
    operation: str = "insert"
    module: str = ""
    file_id: str = ""
    file_name: str = ""
    mappings: list[dict[str, Any]] = field(default_factory=list)
    find_by: str | None = None
    ignore_empty: bool = False
    header: list[str] = field(default_factory=list)
    records: list[list[str]] = field(default_factory=list)
    outcomes: list[tuple[str, str, str]] = field(default_factory=list)  # status, id, errors
    counts: dict[str, int] = field(default_factory=dict)
    callback: dict[str, Any] | None = None
    callback_sent: bool = False
    applied: bool = False
    base_url: str = ""  # origin of the create call, for the absolute download_url


@dataclass
class Upload:
    file_id: str
    name: str
    header: list[str]
    records: list[list[str]]
    created: float

    def digest(self) -> str:
        """sha256 of the uploaded rows (the header included), whatever the upload's id."""
        text = json.dumps([self.header, self.records])
        return hashlib.sha256(text.encode()).hexdigest()


class CrmState:
    def __init__(self, emulator: Emulator, product: str) -> None:
        self.emulator = emulator
        self.product = product
        self.ids = Ids(emulator.config.seed, product)
        self.org_id = self.ids.fixed(1)
        self.zgid = str(60_000_000_000 + int(self.ids.prefix) * 3)
        self.modules: dict[str, Module] = SCHEMAS[product]
        self.uploads: dict[str, Upload] = {}
        self.writes: list[WriteJob] = []
        self._tokens: dict[str, tuple[str, int]] = {}  # page_token -> (query fingerprint, offset)

    # -- ids and metadata ----------------------------------------------------------------
    def module_id(self, module: Module) -> str:
        return self.ids.fixed(2000 + module.code)

    def field_id(self, module: Module, f: Field) -> str | None:
        if f.api_name.startswith("$"):
            return None  # seed 002 echoes `$converted` with "id": null
        return self.ids.fixed(3000 + module.code * 100 + module.fields.index(f))

    def cvid(self, module: Module) -> str:
        """The one custom view per module: "All <module>", no extra filter."""
        return self.ids.fixed(4000 + module.code)

    @property
    def creator(self) -> dict[str, str]:
        return {"id": self.ids.user(0), "name": USERS[0]["full_name"]}  # type: ignore[dict-item]

    # -- field resolution ----------------------------------------------------------------
    def resolve(self, module: Module, api_name: str) -> Field | None:
        """A field, or for `Lookup.field` the field in the looked-up module (or the user)."""
        if api_name.lower() == "id":
            return module.field("id")
        if "." not in api_name:
            return module.field(api_name)
        head, _, tail = api_name.partition(".")
        base = module.field(head)
        if base is None:
            return None
        if base.type == "owner":
            return next((f for f in _USER_FIELDS if f.api_name == tail), None)
        if base.type == "lookup" and base.lookup:
            return self.modules[base.lookup].field(tail)
        return None

    def getter(self, module: Module, row: Row) -> Any:
        cache: dict[str, Row | None] = {}

        def related(head: str) -> Row | None:
            if head not in cache:
                base = module.field(head)
                ref = row.get(head)
                cache[head] = None
                if base is not None and isinstance(ref, str):
                    decoded = self.ids.decode(ref)
                    if decoded is not None and base.type == "owner" and decoded[1] < len(USERS):
                        cache[head] = user_row(self.ids, decoded[1])
                    elif decoded is not None and base.lookup:
                        table = self.emulator.table(self.product, base.lookup)
                        if decoded[1] < len(table):
                            cache[head] = table.get(decoded[1])
            return cache[head]

        def get(api_name: str) -> Any:
            if api_name.lower() == "id":
                return row.get("id")
            if "." in api_name:
                head, _, tail = api_name.partition(".")
                parent = related(head)
                return None if parent is None else parent.get(tail)
            return row.get(api_name)

        return get

    # -- bulk read -----------------------------------------------------------------------
    def plan_read(self, job: ReadJob, query: dict[str, Any]) -> None:
        """Check the query, fix the page and count its records (criteria applied for real)."""
        module = self.modules[job.module]
        fields = query.get("fields")
        if job.file_type == "ics":
            if job.module != "Events":
                raise QueryError(
                    "ICS export is supported only for Events", {"api_name": "file_type"}
                )
            if fields:
                raise QueryError(
                    "fields are not supported for an ICS export", {"api_name": "fields"}
                )
        if fields is not None and not isinstance(fields, list):
            raise QueryError("fields must be an array", {"api_name": "fields"})
        names = [f if isinstance(f, str) else str(f.get("api_name", "")) for f in fields or []]
        for name in names:
            if self.resolve(module, name) is None:
                raise QueryError("invalid field", {"api_name": name})
        # The CSV always leads with Id [doc?]; without fields, every field of the module.
        rest = [n for n in (names or module.field_names) if n.lower() != "id"]
        job.header = ["Id", *rest]
        if query.get("criteria") is not None:
            try:
                job.criteria = crit.parse(query["criteria"], lambda n: self.resolve(module, n))
            except crit.CriteriaError as exc:
                raise QueryError(exc.message, exc.details) from None
        cvid = query.get("cvid")
        if cvid is not None and str(cvid) != self.cvid(module):
            raise QueryError("invalid cvid", {"api_name": "cvid"})
        per_page = job.per_page = self.per_page(job)
        token = query.get("page_token")
        fingerprint = self._fingerprint(job)
        if token:
            known = self._tokens.get(str(token))
            if known is None or known[0] != fingerprint:
                raise QueryError("invalid page_token", {"api_name": "page_token"})
            job.offset = known[1]
            job.page = job.offset // per_page + 1
        else:
            page = query.get("page", 1)
            if not isinstance(page, int) or page < 1:
                raise QueryError("invalid page", {"api_name": "page"})
            if (page - 1) * per_page >= MAX_PAGE_DEPTH:
                raise QueryError("page is beyond the limit; use page_token", {"api_name": "page"})
            job.page = page
            job.offset = (page - 1) * per_page
        total = self.count_matching(module, job.criteria)
        job.count = max(0, min(per_page, total - job.offset))
        job.more_records = total > job.offset + per_page
        if job.more_records:
            next_token = hashlib.sha1(f"{job.id}/{job.offset}".encode()).hexdigest()
            self._tokens[next_token] = (fingerprint, job.offset + per_page)
            job.next_page_token = next_token

    def per_page(self, job: ReadJob) -> int:
        config = self.emulator.config
        return config.ics_batch_size if job.file_type == "ics" else config.page_size

    def _fingerprint(self, job: ReadJob) -> str:
        return repr((job.module, job.header, job.criteria, job.file_type))

    def matching_rows(self, module: Module, node: crit.Node | None) -> Iterator[Row]:
        table = self.emulator.table(self.product, module.name)
        for row in table.rows():
            if node is None or crit.matches(node, self.getter(module, row)):
                yield row

    def count_matching(self, module: Module, node: crit.Node | None) -> int:
        if node is None:
            return len(self.emulator.table(self.product, module.name))
        return sum(1 for _ in self.matching_rows(module, node))

    def page_rows(self, job: ReadJob) -> Iterator[Row]:
        module = self.modules[job.module]
        if job.criteria is None:
            # Without criteria a page is a slice: no need to generate the rows before it.
            table = self.emulator.table(self.product, module.name)
            yield from table.rows(job.offset, job.offset + job.count)
            return
        rows = self.matching_rows(module, job.criteria)
        for index, row in enumerate(rows):
            if index >= job.offset + job.count:
                return
            if index >= job.offset:
                yield row

    def csv_content(self, job: ReadJob) -> Iterator[bytes]:
        module = self.modules[job.module]

        def cells() -> Iterator[list[str]]:
            for row in self.page_rows(job):
                get = self.getter(module, row)
                yield [render(get(name)) for name in job.header]

        return csv_chunks(job.header, cells())

    def ics_content(self, job: ReadJob) -> Iterator[bytes]:
        yield b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Zoho//zsync emulator//EN\r\n"
        for row in self.page_rows(job):
            lines = [
                "BEGIN:VEVENT",
                f"UID:{row['id']}",
                f"DTSTAMP:{_ics_time(str(row['Created_Time']))}",
                f"DTSTART:{_ics_time(str(row['Start_DateTime']))}",
                f"DTEND:{_ics_time(str(row['End_DateTime']))}",
                f"SUMMARY:{row['Event_Title']}",
                f"LOCATION:{row.get('Venue') or ''}",
                "END:VEVENT",
            ]
            yield ("\r\n".join(lines) + "\r\n").encode()
        yield b"END:VCALENDAR\r\n"

    def result_content(self, job: ReadJob) -> Iterator[bytes]:
        """The ZIP the result URL serves: one CSV (or ICS) named after the job."""
        if job.file_type == "ics":
            return zip_chunks(f"{job.id}.ics", self.ics_content(job))
        return zip_chunks(f"{job.id}.csv", self.csv_content(job))

    def new_timeline(self, rows: int, fails: bool) -> Timeline:
        return self.emulator.new_timeline(rows, fails)

    def echo_criteria(self, module: Module, node: crit.Node) -> dict[str, Any]:
        """The criteria as status replies and callbacks show them: each condition in the
        form its request used. `{field: {id, api_name}, comparator, value}` is seed 002's
        echo (CRM fills in the field's id: null for `$converted`, which has none); seed
        003's Bigin callback echoes `{api_name, comparator, value}` as given."""
        if isinstance(node, crit.Group):
            return {
                "group": [self.echo_criteria(module, n) for n in node.items],
                "group_operator": node.operator,
            }
        if not node.field_form:
            return {"api_name": node.api_name, "comparator": node.comparator, "value": node.value}
        f = module.field(node.api_name)
        field_id = self.field_id(module, f) if f is not None else None
        return {
            "field": {"id": field_id, "api_name": node.api_name},
            "comparator": node.comparator,
            "value": node.value,
        }

    # -- bulk write ----------------------------------------------------------------------
    def plan_write(self, job: WriteJob) -> None:
        upload = self.uploads[job.file_id]
        if len(upload.records) > MAX_WRITE_ROWS:
            raise QueryError(
                f"a file may hold at most {MAX_WRITE_ROWS} records", {"api_name": "file_id"}
            )
        module = self.modules[job.module]
        job.header, job.records, job.file_name = upload.header, upload.records, upload.name
        if not job.mappings:
            job.mappings = [
                {"api_name": name, "index": i}
                for i, name in enumerate(upload.header)
                if module.field(name) is not None or name.lower() == "id"
            ]
        for mapping in job.mappings:
            name = str(mapping.get("api_name", ""))
            if module.field(name) is None and name.lower() != "id":
                raise QueryError("invalid field in field_mappings", {"api_name": name})
            index = mapping.get("index")
            if not isinstance(index, int) or not 0 <= index < len(upload.header):
                raise QueryError("invalid index in field_mappings", {"api_name": name})
        if job.operation in ("update", "upsert"):
            job.find_by = job.find_by or "id"
            if module.field(job.find_by) is None and job.find_by.lower() != "id":
                raise QueryError("invalid find_by", {"api_name": "find_by"})

    def settle(self, now: float) -> None:
        due = [j for j in self.writes if not j.applied and j.phase(now) is Phase.COMPLETED]
        for job in sorted(due, key=lambda j: j.timeline.finished_at):
            self._apply(job)
            job.applied = True

    def _apply(self, job: WriteJob) -> None:
        module = self.modules[job.module]
        table = self.emulator.table(self.product, job.module)
        counts = {"added_count": 0, "updated_count": 0, "skipped_count": 0}
        for record in job.records:
            values: Row = {}
            errors: list[str] = []
            for mapping in job.mappings:
                name, text = str(mapping["api_name"]), _cell(record, int(mapping["index"]))
                if text == "" and job.ignore_empty:
                    continue
                f = module.field("id" if name.lower() == "id" else name)
                try:
                    values["id" if name.lower() == "id" else name] = _typed(f, text)
                except ValueError:
                    errors.append(f"INVALID_DATA:{name}")
            index = None
            if job.operation in ("update", "upsert") and job.find_by:
                key = "id" if job.find_by.lower() == "id" else job.find_by
                wanted = values.get(key)
                if wanted not in (None, ""):
                    index = self._find(table, key, wanted)
                if index is None and job.operation == "update":
                    errors.append("NOT_FOUND:record not found")
            if index is None and not errors:
                missing = [m for m in MANDATORY.get(job.module, ()) if values.get(m) in (None, "")]
                errors.extend(f"MANDATORY_NOT_FOUND:{m}" for m in missing)
            if errors:
                counts["skipped_count"] += 1
                job.outcomes.append(("SKIPPED", "", ";".join(errors)))
                continue
            if index is not None:
                values.pop("id", None)
                values["Modified_Time"] = iso(self.emulator.clock.now())
                table.update(index, values)
                counts["updated_count"] += 1
                job.outcomes.append(("UPDATED", str(table.get(index)["id"]), ""))
            else:
                new_index = len(table)
                record_id = self.ids.record(module.code, new_index)
                row: Row = {name: None for name in module.field_names}
                row.update(values)
                row |= {
                    "id": record_id,
                    "Owner": row.get("Owner") or self.ids.user(0),
                    "Created_Time": iso(self.emulator.clock.now()),
                    "Modified_Time": iso(self.emulator.clock.now()),
                }
                table.append(row)
                counts["added_count"] += 1
                job.outcomes.append(("ADDED", record_id, ""))
        counts["total_count"] = len(job.records)
        job.counts = counts

    def _find(self, table: Any, key: str, wanted: Any) -> int | None:
        if key == "id":
            decoded = self.ids.decode(str(wanted))
            if decoded is None or decoded[1] >= len(table):
                return None
            return decoded[1] if str(table.get(decoded[1])["id"]) == str(wanted) else None
        return table.find(key, wanted)

    def write_result(self, job: WriteJob) -> Iterator[bytes]:
        header = [*job.header, "STATUS", "RECORD_ID", "ERRORS"]  # [doc?] column names
        rows = (
            [*record, *outcome] for record, outcome in zip(job.records, job.outcomes, strict=False)
        )
        return zip_chunks(f"{job.id}.csv", csv_chunks(header, rows))


_USER_FIELDS = (
    Field("id", "lookup"),
    Field("first_name", "text"),
    Field("last_name", "text"),
    Field("full_name", "text"),
    Field("email", "email"),
)


def _cell(record: list[str], index: int) -> str:
    return record[index] if index < len(record) else ""


def _typed(f: Field | None, text: str) -> Any:
    if f is None or text == "":
        return text or None
    if f.type == "integer":
        return int(text)
    if f.type in ("currency", "decimal"):
        return round(float(text), 2)
    if f.type == "boolean":
        if text.lower() not in ("true", "false"):
            raise ValueError(text)
        return text.lower() == "true"
    return text


def _ics_time(value: str) -> str:
    return datetime.fromisoformat(value).strftime("%Y%m%dT%H%M%SZ")
