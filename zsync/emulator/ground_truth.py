"""The exact bytes an export should produce, computed from the emulator's current state.

A client test runs a real export through the wire, unpacks what it saved, and compares it with
these bytes. They come from the same renderers the server uses, on purpose: the question a
test asks is "did the client fetch, page and unpack everything", not "is CSV quoting right".
"""

from __future__ import annotations

import zipfile
from io import BytesIO
from typing import TYPE_CHECKING, Any

from zsync.emulator.analytics.exports import export_options
from zsync.emulator.analytics.models import ExportJob as AnalyticsExportJob
from zsync.emulator.creator.models import CreatorJob
from zsync.emulator.crm.models import ReadJob
from zsync.emulator.jobs import Timeline

if TYPE_CHECKING:
    from zsync.emulator.emulator import Emulator


def _scratch_timeline() -> Timeline:
    return Timeline(0.0, 0.0, 0.0)


class GroundTruth:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def crm_bulk_read(
        self,
        module: str,
        fields: list[str] | None = None,
        criteria: dict[str, Any] | None = None,
        page: int = 1,
        *,
        product: str = "crm",
        file_type: str = "csv",
    ) -> bytes:
        """The CSV (or ICS) inside the ZIP a CRM/Bigin bulk read of `page` serves."""
        return self._crm_page(module, fields, criteria, page, product, file_type)[0]

    def bigin_bulk_read(
        self,
        module: str,
        fields: list[str] | None = None,
        criteria: dict[str, Any] | None = None,
        page: int = 1,
        file_type: str = "csv",
    ) -> bytes:
        return self.crm_bulk_read(
            module, fields, criteria, page, product="bigin", file_type=file_type
        )

    def crm_records(
        self,
        module: str,
        fields: list[str] | None = None,
        criteria: dict[str, Any] | None = None,
        *,
        product: str = "crm",
    ) -> bytes:
        """Every page of a bulk read joined into one CSV with one header, as a paging client
        would save it."""
        page, parts = 1, []
        while True:
            data, more = self._crm_page(module, fields, criteria, page, product, "csv")
            parts.append(data if page == 1 else data.partition(b"\r\n")[2])
            if not more:
                return b"".join(parts)
            page += 1

    def _crm_page(
        self,
        module: str,
        fields: list[str] | None,
        criteria: dict[str, Any] | None,
        page: int,
        product: str,
        file_type: str,
    ) -> tuple[bytes, bool]:
        self.emulator.settle()
        state = getattr(self.emulator, product)
        job = ReadJob(
            id="0",
            org=state.org_id,
            kind=f"{product}.read",
            timeline=_scratch_timeline(),
            product=product,
            module=module,
            file_type=file_type,
        )
        query: dict[str, Any] = {"page": page}
        if fields is not None:
            query["fields"] = fields
        if criteria is not None:
            query["criteria"] = criteria
        state.plan_read(job, query)
        chunks = state.ics_content(job) if file_type == "ics" else state.csv_content(job)
        return b"".join(chunks), job.more_records

    def analytics_view(
        self, view: str, fmt: str = "csv", config: dict[str, Any] | None = None
    ) -> bytes:
        """The file a bulk export of `view` (id or name) downloads; `config`: the rest of
        the export's CONFIG (criteria, selectedColumns, delimiter, dateFormat, …)."""
        self.emulator.settle()
        state = self.emulator.analytics
        found = state.views.get(view) or next(
            (v for v in state.views.values() if v.name == view), None
        )
        if found is None:
            raise KeyError(view)
        job = self._analytics_job(fmt, found.name, view_id=found.id)
        return self._analytics_file(job, config, (found.name, found.table))

    def analytics_sql(
        self, sql: str, fmt: str = "csv", config: dict[str, Any] | None = None
    ) -> bytes:
        self.emulator.settle()
        job = self._analytics_job(fmt, "SQL", query=sql)
        job.result = self.emulator.analytics.run_sql(sql)
        return self._analytics_file(job, config, ())

    def analytics_rows(
        self, view: str, config: dict[str, Any] | None = None
    ) -> tuple[list[str], list[list[str]]]:
        """The header and rows (as text) a view export with `config` holds, whatever its
        format: what a test parses a download back into."""
        self.emulator.settle()
        state = self.emulator.analytics
        found = next(v for v in state.views.values() if view in (v.id, v.name))
        job = self._analytics_job("csv", found.name, view_id=found.id)
        job.options = export_options(config or {}, job, state, (found.name, found.table))
        header, rows = state.shaped(job)
        return header, list(rows)

    @staticmethod
    def _analytics_job(fmt: str, title: str, **where: Any) -> AnalyticsExportJob:
        return AnalyticsExportJob(
            id="0",
            org="",
            kind="analytics.export",
            timeline=_scratch_timeline(),
            fmt=fmt,
            title=title,
            **where,
        )

    def _analytics_file(
        self, job: AnalyticsExportJob, config: dict[str, Any] | None, tables: tuple[str, ...]
    ) -> bytes:
        state = self.emulator.analytics
        job.options = export_options(config or {}, job, state, tables)
        return b"".join(state.export_content(job))

    def creator_report(
        self,
        report: str,
        criteria: str | None = None,
        fields: list[str] | None = None,
        batch: int = 1,
        max_records: int | None = None,
    ) -> bytes:
        """The CSV inside the ZIP of batch `batch` (1-based) of a Creator bulk read."""
        state = self.emulator.creator
        size = max_records or state.default_batch()
        job = CreatorJob(
            id="0",
            org=state.owner,
            kind="creator.read",
            timeline=_scratch_timeline(),
            report=report,
        )
        # Only an explicit size goes through the create's checks, as on the wire.
        query: dict[str, Any] = {} if max_records is None else {"max_records": max_records}
        if criteria:
            query["criteria"] = criteria
        if fields is not None:
            query["fields"] = fields
        state.plan(job, query)
        total = state.count(job)
        job.offset = (batch - 1) * size
        job.count = max(0, min(size, total - job.offset))
        with zipfile.ZipFile(BytesIO(b"".join(state.content(job)))) as archive:
            return archive.read(archive.namelist()[0])
