"""Zoho Creator state: one account owner, one application, its reports, and bulk read jobs
whose batches chain through a `record_cursor` valid 15 minutes [seed 004].
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zsync.emulator.creator import criteria as ccrit
from zsync.emulator.data import SCHEMAS, Module, Row, render
from zsync.emulator.files import csv_chunks, zip_chunks
from zsync.emulator.jobs import Job, Phase, Timeline

if TYPE_CHECKING:
    from zsync.emulator.emulator import Emulator

# max_records: "Default value … 100,000", "Maximum … 200,000", "multiples of 1000", "Minimum …
# the same as its default", and not modified for requests with the record cursor (Creator bulk
# API limitations page). The maximum is `EmulatorConfig.creator_max_batch`.
DEFAULT_BATCH = 100_000
BATCH_STEP = 1_000

STATUS = {
    Phase.ADDED: "In-progress",
    Phase.QUEUED: "In-progress",
    Phase.RUNNING: "In-progress",
    Phase.COMPLETED: "Completed",
    Phase.FAILED: "Failed",
}


@dataclass(frozen=True)
class Report:
    link_name: str
    display_name: str
    form: str  # the module in data.SCHEMAS["creator"]


class CreatorRejected(ValueError):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class CreatorJob(Job):
    report: str = ""
    header: list[str] = field(default_factory=list)
    criteria: Any = None
    offset: int = 0
    count: int = 0
    more: bool = False
    cursor: str | None = None


@dataclass
class Cursor:
    report: str
    offset: int
    job_id: str
    # What the first request fixed; a later request inherits it and may not change it.
    fields: list[str] | None
    criteria: str | None
    max_records: int


class CreatorState:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.owner = "jason18"
        self.app = "zylker-store"
        self.app_name = "Zylker Store"
        self.reports = {
            r.link_name: r
            for r in (
                Report("All_Orders", "All Orders", "Orders"),
                Report("All_Customers", "All Customers", "Customers"),
            )
        }
        self.cursors: dict[str, Cursor] = {}

    def module(self, report: Report) -> Module:
        return SCHEMAS["creator"][report.form]

    def default_batch(self) -> int:
        return min(DEFAULT_BATCH, self.emulator.config.creator_max_batch)

    def check_batch(self, max_records: Any) -> int:
        config = self.emulator.config
        if config.creator_small_batches:
            # Testing aid: any size up to the maximum, so small demo data spans batches.
            low, step = 1, 1
        else:
            low, step = self.default_batch(), BATCH_STEP
        high = config.creator_max_batch
        if (
            isinstance(max_records, bool)
            or not isinstance(max_records, int)
            or not low <= max_records <= high
            or max_records % step
        ):
            raise CreatorRejected(
                2899,
                f"max_records must be a multiple of {step} from {low} to {high}.",
            )
        return max_records

    def _inherit(self, report: str, query: dict[str, Any]) -> tuple[Cursor, dict[str, Any]]:
        """The cursor a later request names, and the query it stands for: a later request
        inherits fields, criteria and size, and may repeat but not change them."""
        cursor = self.cursors.get(str(query["record_cursor"]))
        if cursor is None or cursor.report != report:
            raise CreatorRejected(2899, "Invalid record_cursor.")
        fixed = {
            "fields": cursor.fields,
            "criteria": cursor.criteria,
            "max_records": cursor.max_records,
        }
        for key, value in fixed.items():
            if key in query and query[key] != value:
                raise CreatorRejected(
                    2899, f"{key} cannot be changed for requests with the record_cursor."
                )
        return cursor, {**query, **fixed}

    def plan(self, job: CreatorJob, query: dict[str, Any]) -> None:
        report = self.reports[job.report]
        module = self.module(report)
        config = self.emulator.config
        cursor: Cursor | None = None
        cursor_text = query.get("record_cursor")
        if cursor_text:
            cursor, query = self._inherit(job.report, query)
        fields = query.get("fields")
        if fields is not None and (
            not isinstance(fields, list) or not all(isinstance(f, str) for f in fields)
        ):
            raise CreatorRejected(2899, "fields must be a list of field link names.")
        for name in fields or []:
            if module.field(name) is None:
                raise CreatorRejected(2899, f"Invalid field link name {name}.")
        # [doc?] the file always carries the record ID first.
        job.header = ["ID", *[n for n in (fields or module.field_names) if n != "ID"]]
        text = query.get("criteria")
        if text:
            try:
                datetimes = {f.api_name for f in module.fields if f.type == "datetime"}
                job.criteria = ccrit.parse(str(text), set(module.field_names), datetimes)
            except ccrit.CreatorCriteriaError as exc:
                raise CreatorRejected(2899, str(exc)) from None
        if cursor is not None:
            max_records = cursor.max_records  # checked when the first batch fixed it
        elif "max_records" in query:
            max_records = self.check_batch(query["max_records"])
        else:
            max_records = self.default_batch()
        if cursor is not None:
            source = self.emulator.jobs.get(cursor.job_id, "creator.read")
            now = self.emulator.clock.now()
            if source is None or now > source.timeline.finished_at + config.creator_cursor_lifetime:
                raise CreatorRejected(2970, "The record cursor has expired.")
            job.offset = cursor.offset
        total = self.count(job)
        job.count = max(0, min(max_records, total - job.offset))
        job.more = total > job.offset + max_records
        if job.more:
            token = hashlib.sha1(f"{job.id}/{job.offset}".encode()).hexdigest()
            self.cursors[token] = Cursor(
                job.report,
                job.offset + max_records,
                job.id,
                list(fields) if fields is not None else None,
                str(text) if text else None,
                max_records,
            )
            job.cursor = token
        job.definition.update(
            {
                "fields": fields,
                "criteria": text,
                "max_records": max_records,
                "record_cursor": cursor_text,
            }
        )

    def matching(self, job: CreatorJob) -> Iterator[Row]:
        table = self.emulator.table("creator", self.reports[job.report].form)
        for row in table.rows():
            if job.criteria is None or ccrit.matches(job.criteria, row.get):
                yield row

    def count(self, job: CreatorJob) -> int:
        if job.criteria is None:
            return len(self.emulator.table("creator", self.reports[job.report].form))
        return sum(1 for _ in self.matching(job))

    def content(self, job: CreatorJob) -> Iterator[bytes]:
        def cells() -> Iterator[list[str]]:
            if job.criteria is None:
                table = self.emulator.table("creator", self.reports[job.report].form)
                for row in table.rows(job.offset, job.offset + job.count):
                    yield [render(row.get(c)) for c in job.header]
                return
            for index, row in enumerate(self.matching(job)):
                if index >= job.offset + job.count:
                    return
                if index >= job.offset:
                    yield [render(row.get(c)) for c in job.header]

        return zip_chunks(f"{job.report}.csv", csv_chunks(job.header, cells()))

    def new_timeline(self, rows: int, fails: bool) -> Timeline:
        return self.emulator.new_timeline(rows, fails)
