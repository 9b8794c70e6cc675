"""One import job's lifecycle: cut the file into parts, import them one after another.

Never twice: each part's intent is in the manifest before its create call, and its Zoho
job id as soon as it is known. A create whose answer never came is not repeated (Zoho may
have started it) unless repeating is harmless; the job fails saying which rows landed and
how to check the rest.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import secrets
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import NamedTuple, TypeVar

from zsync.errors import (
    ConfigError,
    GarbageReply,
    OutcomeUnknown,
    RemoteError,
    RemoteJobFailed,
)
from zsync.jobs import poll_until_done
from zsync.manifest import ImportRecord, Ledger, OutputRecord, RemoteJob, now
from zsync.providers.analytics_import import AnalyticsImportProvider, ImportStatus, multipart
from zsync.providers.bulk_write import (
    MAX_FILE_BYTES,
    MAX_RECORDS_PER_FILE,
    BulkWriteProvider,
    WriteStatus,
)
from zsync.sinks.result import ResultError, ResultWriter
from zsync.sinks.split import Layout, Part, PartFile, SplitError, plan_parts
from zsync.sinks.zipped import extract_single
from zsync.spec.model import AnalyticsImport, BulkWriteImport, Job

COPY_CHUNK = 1 << 20
S = TypeVar("S", ImportStatus, WriteStatus)


class ImportOutcome(NamedTuple):
    record: ImportRecord
    row_errors: int  # rows Zoho refused


@dataclass
class ImportRun:
    job: Job
    slot: asyncio.Semaphore
    ledger: Ledger
    file: Path
    scratch: Path
    progress: Callable[[str], None]

    def layout(self, max_bytes: int, max_rows: int | None = None) -> Layout:
        if not self.file.is_file():
            raise ConfigError(f"the file to import, {self.file}, doesn't exist")
        try:
            layout = plan_parts(self.file, max_bytes, max_rows)
        except SplitError as exc:
            raise ConfigError(f"{self.file} can't be imported: {exc}") from exc
        record = ImportRecord(
            str(self.file), self.file.stat().st_size, layout.rows, len(layout.parts)
        )
        self.ledger.update_job(self.job.name, imported=record)
        if len(layout.parts) > 1:
            self.progress(f"{layout.rows} rows in {len(layout.parts)} parts")
        return layout

    def intend(
        self, layout: Layout, part: Part, *, mode: str | None = None, file_id: str | None = None
    ) -> int:
        """Record a part's import in the manifest before its create call."""
        first = layout.rows_before(part.number) + 1
        return self.ledger.add_remote(
            self.job.name,
            RemoteJob(
                id=None,
                created_at=now(),
                part=part.number,
                first_row=first,
                last_row=first + part.rows - 1,
                mode=mode,
                file_id=file_id,
            ),
        )

    async def run_part(
        self,
        layout: Layout,
        part: Part,
        index: int,
        create: Callable[[], Awaitable[str]],
        status: Callable[[str], Awaitable[S]],
        where: str,
    ) -> tuple[str, S]:
        """Create a part's Zoho job within the slot and wait for it to finish; `where` says
        what to check when the create's answer is lost."""
        async with self.slot:
            try:
                job_id = await create()
            except OutcomeUnknown as exc:
                raise self.unknown(layout, part, where, exc) from exc
            except RemoteError as exc:
                raise self.failed(layout, part, None, exc.message, exc.code) from exc
            self.ledger.update_remote(self.job.name, index, id=job_id)
            result = await poll_until_done(partial(status, job_id), self.job.poll, self.seen(index))
        if result.state != "completed":
            raise self.failed(layout, part, job_id, result.error or result.remote)
        return job_id, result

    def seen(self, index: int) -> Callable[[ImportStatus | WriteStatus], None]:
        """Records each status answer of the remote job at `index`."""

        def record(status: ImportStatus | WriteStatus) -> None:
            self.ledger.remote_state(self.job.name, index, status.state, status.remote)

        return record

    def landed(self, **changes: object) -> ImportRecord:
        record = self.ledger.jobs[self.job.name].imported
        assert record is not None
        updated = dataclasses.replace(record, **changes)  # type: ignore[arg-type]
        self.ledger.update_job(self.job.name, imported=updated)
        return updated

    def unknown(
        self, layout: Layout, part: Part, where: str, exc: OutcomeUnknown
    ) -> OutcomeUnknown:
        first = layout.rows_before(part.number) + 1
        landed = layout.rows_before(part.number)
        return OutcomeUnknown(
            f"part {part.number} of {len(layout.parts)} (rows {first}-{first + part.rows - 1}): "
            f"{exc.message}. Rows 1-{landed} had landed before it. zsync did not send it again, "
            f"because that could import these rows twice: check {where} before running again."
        )

    def failed(
        self,
        layout: Layout,
        part: Part,
        remote_id: str | None,
        detail: str | None,
        code: str | None = None,
    ) -> RemoteError:
        first = layout.rows_before(part.number) + 1
        landed = layout.rows_before(part.number)
        job = f", Zoho job {remote_id}" if remote_id else ""
        return RemoteJobFailed(
            f"part {part.number} of {len(layout.parts)} (rows {first}-{first + part.rows - 1}"
            f"{job}) failed"
            + (f": {detail}" if detail else "")
            + (
                f"; rows 1-{landed} (parts 1-{part.number - 1}) had landed"
                if landed
                else "; no row landed"
            ),
            code=code,
        )


@dataclass
class AnalyticsImportRun(ImportRun):
    provider: AnalyticsImportProvider

    async def run(self) -> ImportOutcome:
        action = self.job.action
        assert isinstance(action, AnalyticsImport)
        layout = self.layout(action.max_part_size)
        view_id = await self.provider.find_table()
        if view_id is None and not action.create_table:
            raise ConfigError(
                f"workspace {self.provider.workspace} has no table "
                f"'{action.table}' (set create_table: true to create it)"
            )
        creating = view_id is None
        added = skipped = 0
        for part in layout.parts:
            if creating and part.number > 1:
                view_id = await self.provider.find_table()
                if view_id is None:
                    raise RemoteError(f"the table '{action.table}' created by part 1 isn't there")
            # truncateadd empties the table once: the parts after the first append.
            mode = action.mode if part.number == 1 or action.mode != "truncateadd" else "append"
            target = None if creating and part.number == 1 else view_id
            # A lone truncateadd part gives the same table however often it runs; creating a
            # table can't happen twice either (the second create is refused).
            safe = (mode == "truncateadd" and len(layout.parts) == 1) or target is None
            index = self.intend(layout, part, mode=mode if target else "create")
            body = multipart("FILE", self.file.name, partial(PartFile, self.file, layout, part))
            create = partial(self.provider.create, target, mode, body, retry_unsafe=safe)
            _, status = await self.run_part(
                layout,
                part,
                index,
                create,
                self.provider.status,
                f"the rows of table '{action.table}'",
            )
            summary = status.summary or {}
            self.ledger.update_remote(self.job.name, index, summary=summary)
            counts = summary.get("importSummary") or {}
            total = int(counts.get("totalRowCount", part.rows))
            success = int(counts.get("successRowCount", total))
            added, skipped = added + success, skipped + total - success
            self.landed(
                rows_landed=layout.rows_before(part.number) + part.rows,
                added=added,
                skipped=skipped,
            )
            self.progress(f"part {part.number}/{len(layout.parts)} imported ({success} rows)")
        # Rows skipped under on_error skiprow were the user's choice, not a failure.
        return ImportOutcome(self.landed(added=added, skipped=skipped), 0)


@dataclass
class BulkWriteRun(ImportRun):
    provider: BulkWriteProvider
    results: Path

    async def run(self) -> ImportOutcome:
        action = self.job.action
        assert isinstance(action, BulkWriteImport)
        layout = self.layout(MAX_FILE_BYTES, MAX_RECORDS_PER_FILE)
        header = next(csv.reader(io.StringIO(layout.header.decode("utf-8-sig"))), [])
        writer = ResultWriter(self.results, "csv")
        counts = {"added_count": 0, "updated_count": 0, "skipped_count": 0, "total_count": 0}
        try:
            for part in layout.parts:
                await self._part(layout, part, header, writer, counts)
            output = writer.commit()
        except BaseException:
            writer.abort()
            raise
        record = self.landed(
            results=OutputRecord(
                str(output.path), output.bytes, output.rows, output.sha256, output.pages
            ),
        )
        return ImportOutcome(record, (record.skipped or 0) + (record.failed or 0))

    async def _part(
        self,
        layout: Layout,
        part: Part,
        header: list[str],
        writer: ResultWriter,
        counts: dict[str, int],
    ) -> None:
        self.scratch.mkdir(parents=True, exist_ok=True)
        archive = self.scratch / f"{self.job.name}-part{part.number}-{secrets.token_hex(3)}.zip"
        try:
            _zip_part(self.file, layout, part, archive)
            # An upload only stores a file: repeating it is harmless.
            # aiohttp closes the file once it is sent.
            opener = lambda: open(archive, "rb")  # noqa: E731, SIM115
            file_id = await self.provider.upload(
                multipart("file", archive.name, opener, "application/zip")
            )
        finally:
            archive.unlink(missing_ok=True)
        index = self.intend(layout, part, file_id=file_id)
        job_id, status = await self.run_part(
            layout,
            part,
            index,
            partial(self.provider.create, file_id, header),
            self.provider.status,
            f"the bulk write jobs of CRM module '{self.provider.action.module}'",
        )
        for key in counts:
            counts[key] += (status.counts or {}).get(key, 0)
        self.ledger.update_remote(self.job.name, index, summary=dict(status.counts or {}))
        download = self.scratch / f"{self.job.name}-{job_id}.zip"
        try:
            await self.provider.download(job_id, status, download)
            page = writer.page()
            extract_single(download, page)
            page.close()
        except ResultError as exc:
            raise GarbageReply(
                f"the results of bulk write {job_id} are unusable: {exc}", code="BAD_RESULT"
            ) from exc
        finally:
            download.unlink(missing_ok=True)
        self.landed(
            rows_landed=layout.rows_before(part.number) + part.rows,
            added=counts["added_count"],
            updated=counts["updated_count"],
            skipped=counts["skipped_count"],
            # Rows Zoho counted but neither added, updated nor skipped: failed outright.
            failed=max(
                0,
                counts["total_count"]
                - counts["added_count"]
                - counts["updated_count"]
                - counts["skipped_count"],
            ),
        )
        self.progress(
            f"part {part.number}/{len(layout.parts)}: {counts['added_count']} added, "
            f"{counts['updated_count']} updated, {counts['skipped_count']} skipped"
        )


def _zip_part(path: Path, layout: Layout, part: Part, archive: Path) -> None:
    """Zip one part of the CSV, streamed: neither the part nor the ZIP is held in memory."""
    source = PartFile(path, layout, part)
    with (
        zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped,
        zipped.open(path.name, "w", force_zip64=True) as member,
    ):
        while chunk := source.read(COPY_CHUNK):
            member.write(chunk)
