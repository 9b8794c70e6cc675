"""One import job's lifecycle: cut the file into parts, import them one after another.

Never twice: each part's intent is on disk before its create call, and its Zoho job id as
soon as it is known. A create whose answer never came is not repeated (Zoho may have started
it) unless repeating is harmless; the job fails saying which rows landed and how to check the
rest. Across runs, a file that already landed whole in the same target with a mode that adds
rows (append, insert) is not sent again; one that landed in part points at `--resume`.

On resume, a part that landed is not sent again, a part whose Zoho job id is known is polled,
and a part whose outcome is unknown follows the rule above.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from zsync.creates import create_recorded
from zsync.downloads import checked_download
from zsync.errors import (
    ConfigError,
    GarbageReply,
    OutcomeUnknown,
    RemoteError,
    RemoteJobFailed,
)
from zsync.fingerprints import IDEMPOTENT_MODES
from zsync.polling import Timed, poll_until_done
from zsync.progress import JobProgress
from zsync.providers.analytics_import import (
    AnalyticsImportProvider,
    ImportStatus,
    multipart,
    recorded_status,
)
from zsync.providers.bulk_write import (
    MAX_FILE_BYTES,
    MAX_RECORDS_PER_FILE,
    BulkWriteProvider,
    WriteStatus,
)
from zsync.sinks.atomic import unique_suffix
from zsync.sinks.remote import Storage, writer_for
from zsync.sinks.result import ResultWriter
from zsync.sinks.split import Layout, Part, PartFile, SplitError, plan_parts
from zsync.sinks.spool import Spool
from zsync.sinks.zipped import extract_single
from zsync.slots import JobSlot
from zsync.spec.model import AnalyticsImport, BulkWriteImport, Job, Results
from zsync.state.recorder import Recorder
from zsync.state.records import ImportRecord, OutputRecord, RemoteJob, now
from zsync.timings import Timings

COPY_CHUNK = 1 << 20
DEAD_STATES = frozenset({"failed", "not_found", "expired"})
GONE_STATES = frozenset({"not_found", "expired"})  # Zoho no longer knows the job
S = TypeVar("S", ImportStatus, WriteStatus)


class ImportOutcome(NamedTuple):
    record: ImportRecord
    row_errors: int  # rows Zoho refused
    skipped: str | None = None  # why nothing was sent (it landed before)


class Earlier(NamedTuple):
    """A part's Zoho job from an earlier try of this job (a killed or failed run)."""

    position: int  # of the remote job in the job's record
    remote: RemoteJob

    @property
    def landed(self) -> bool:
        # Seen completed once is landed for good: Zoho forgetting the job later (an import's
        # summary is kept one hour) takes no row back.
        return self.remote.id is not None and self.remote.was_seen("completed")

    @property
    def alive(self) -> bool:
        return self.remote.id is not None and self.remote.last_state not in DEAD_STATES

    @property
    def vanished(self) -> bool:
        """Created, then gone from Zoho before any try saw it end: its rows may have landed."""
        return (
            self.remote.id is not None
            and not self.remote.was_seen("completed", "failed")
            and self.remote.last_state in GONE_STATES
        )


class AlreadyImported(Exception):
    """The same file landed whole in the same target before: the job is skipped."""


@dataclass
class ImportRun:
    job: Job
    slot: JobSlot
    recorder: Recorder
    file: Path
    scratch: Path
    progress: JobProgress
    definition: str
    target: str  # fingerprints.import_target
    target_name: str  # for people: table 'X', CRM module 'Y'
    mode: str
    reimport: bool  # --reimport: send even what may have landed before
    timings: Timings | None = field(default=None, kw_only=True)  # polling learns from it
    source: str | None = field(default=None, kw_only=True)  # the URL `file` was read from

    async def prepare(
        self, max_bytes: int, max_rows: int | None = None
    ) -> tuple[Layout, dict[int, Earlier]]:
        """Cut the file into parts, find the parts an earlier try already sent, and apply the
        never-twice rule against earlier runs."""
        if not self.file.is_file():
            raise ConfigError(f"the file to import, {self.file}, doesn't exist")
        try:
            layout = await asyncio.to_thread(plan_parts, self.file, max_bytes, max_rows)
        except SplitError as exc:
            raise ConfigError(f"{self.file} can't be imported: {exc}") from exc
        sha256 = layout.sha256
        before = self.recorder.jobs[self.job.name].imported
        earlier = self._earlier_parts() if before and before.sha256 == sha256 else {}
        if before and before.sha256 != sha256 and not self.reimport:
            self._refuse_changed_file(before)
        if self.mode == "truncateadd" and any(
            e.remote.outcome_unknown or not (e.landed or e.alive) for e in earlier.values()
        ):
            # Truncating again from the first part gives the same table whatever landed.
            self.progress("starting over from part 1 (truncateadd makes that safe)")
            earlier = {}
        record = ImportRecord(
            self.source or str(self.file),
            self.file.stat().st_size,
            layout.rows,
            len(layout.parts),
            sha256=sha256,
            target=self.target,
            mode=self.mode,
        )
        self.recorder.update_job(self.job.name, imported=record)
        if not earlier and not self.reimport and self.mode not in IDEMPOTENT_MODES:
            await self._check_history(sha256)
        if len(layout.parts) > 1:
            self.progress(f"{layout.rows} rows in {len(layout.parts)} parts")
        return layout, earlier

    def _earlier_parts(self) -> dict[int, Earlier]:
        found: dict[int, Earlier] = {}
        for index, remote in enumerate(self.recorder.jobs[self.job.name].remote_jobs):
            if remote.part is not None and remote.definition == self.definition:
                if remote.refused is not None and remote.id is None:
                    continue  # Zoho refused it outright: nothing was created
                found[remote.part] = Earlier(index, remote)  # the latest try of each part
        return found

    def _refuse_changed_file(self, before: ImportRecord) -> None:
        remotes = self.recorder.jobs[self.job.name].remote_jobs
        unsure = any(r.outcome_unknown for r in remotes)
        if self.mode in IDEMPOTENT_MODES or not (before.rows_landed or unsure):
            return
        raise ConfigError(
            f"{self.file} changed since an earlier try of this job sent "
            f"{before.rows_landed} of its rows to {self.target_name} in {self.mode} mode"
            + (" (and one part's outcome is unknown)" if unsure else "")
            + f"; sending the new file could import rows twice. Check {self.target_name}, "
            f"then pass --reimport {self.job.name} to send it anyway"
        )

    async def _check_history(self, sha256: str) -> None:
        store = self.recorder.store
        found = await asyncio.to_thread(
            partial(store.landed_imports, besides=self.recorder.run.run_id),
            sha256,
            self.target,
            self.mode,
        )
        complete = next((f for f in found if f.complete), None)
        if complete is not None:
            raise AlreadyImported(
                f"already imported by run {complete.run_id} at {complete.ended_at} "
                f"({complete.rows_landed} rows); pass --reimport {self.job.name} to import "
                "it again"
            )
        if found:
            partly = found[0]
            unsure = " and one part's outcome is unknown" if partly.uncertain else ""
            spec = self.recorder.run.spec_path
            raise ConfigError(
                f"run {partly.run_id} sent this file to {self.target_name} in {self.mode} mode "
                f"and did not finish: {partly.parts_landed} of {partly.parts} parts "
                f"({partly.rows_landed} rows) landed{unsure}. Resume it to send the rest "
                f"(zsync run {spec} --resume {partly.run_id}), or check {self.target_name} and "
                f"pass --reimport {self.job.name} to send the whole file again"
            )

    def intend(
        self, layout: Layout, part: Part, *, mode: str | None = None, file_id: str | None = None
    ) -> int:
        """Record a part's import before its create call."""
        first = layout.rows_before(part.number) + 1
        return self.recorder.add_remote(
            self.job.name,
            RemoteJob(
                id=None,
                created_at=now(),
                part=part.number,
                first_row=first,
                last_row=first + part.rows - 1,
                mode=mode,
                file_id=file_id,
                definition=self.definition,
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
        self.progress.part(part.number, len(layout.parts))
        async with self.slot:
            try:
                job_id = await create_recorded(
                    self.recorder, self.job.name, index, create, self.job.poll, self.progress
                )
            except OutcomeUnknown as exc:
                raise self.unknown(layout, part, where, exc.message) from exc
            except GarbageReply as exc:
                # A 2xx answer that didn't parse: Zoho may have started the job all the same.
                detail = f"{exc.message}; Zoho may have started the job all the same"
                raise self.unknown(layout, part, where, detail) from exc
            except RemoteError as exc:
                self.recorder.update_remote(self.job.name, index, refused=exc.code or "refused")
                raise self.failed(layout, part, None, exc.message, exc.code) from exc
            self.progress.created(
                f"part {part.number}/{len(layout.parts)}: created Zoho job {job_id}", job_id
            )
            timed = Timed()
            timings = self.timings
            result = await poll_until_done(
                partial(status, job_id),
                self.job.poll,
                self.seen(index),
                expected=timings.expect(self.job.name) if timings else None,
                timed=timed,
                waiting=self.progress.next_check,
            )
            if timings is not None and result.state == "completed":
                timings.finished(self.job.name, timed)
        if result.state != "completed":
            raise self.failed(layout, part, job_id, result.error or result.remote, result.remote)
        return job_id, result

    async def follow_part(
        self,
        layout: Layout,
        part: Part,
        earlier: Earlier,
        status: Callable[[str], Awaitable[S]],
        where: str,
        recorded: Callable[[dict[str, Any]], S] | None = None,
    ) -> tuple[str, S]:
        """Wait for a part's Zoho job that an earlier try created (or read its end again).
        `recorded` makes a status of the summary recorded when the part landed, for a job
        Zoho has forgotten since."""
        job_id = earlier.remote.id
        assert job_id is not None
        self.progress.part(part.number, len(layout.parts))
        if not earlier.landed:
            self.progress.created(
                f"part {part.number}: polling Zoho job {job_id} of an earlier try", job_id
            )
        async with self.slot:
            result = await poll_until_done(
                partial(status, job_id),
                self.job.poll,
                self.seen(earlier.position),
                waiting=self.progress.next_check,
            )
        if result.state in GONE_STATES:
            gone = f"Zoho no longer has its job {job_id} ({result.remote})"
            if not earlier.landed:
                raise self.unknown(layout, part, where, f"{gone}, and no try saw it end")
            summary = earlier.remote.summary
            if recorded is None:
                raise self.failed(
                    layout,
                    part,
                    job_id,
                    f"it landed in an earlier try, but {gone}, so its results can't be read "
                    "again (its rows are not sent again)",
                    result.remote,
                    landed=True,
                )
            # Its summary, recorded with its end; a part recorded by an older zsync may have
            # none: it counts as its rows, all added.
            counted = "whose summary counts" if summary else f"counted as its {part.rows} rows"
            self.progress(
                f"part {part.number}/{len(layout.parts)}: {gone}; it landed in an earlier try, "
                + counted
            )
            return job_id, recorded(summary or {})
        if result.state != "completed":
            raise self.failed(layout, part, job_id, result.error or result.remote, result.remote)
        return job_id, result

    def check_unknown(
        self, layout: Layout, part: Part, earlier: Earlier, where: str, safe: bool
    ) -> None:
        """A part whose create answer died with an earlier try, or whose Zoho job vanished
        before any try saw it end: resend only if harmless."""
        if safe or self.reimport:
            return
        if earlier.remote.outcome_unknown:
            raise self.unknown(
                layout,
                part,
                where,
                "an earlier try sent its create call and never heard the answer",
            )
        if earlier.vanished:
            raise self.unknown(
                layout,
                part,
                where,
                f"Zoho no longer has its job {earlier.remote.id}, and no try saw it end",
            )

    def seen(self, index: int) -> Callable[[ImportStatus | WriteStatus], None]:
        """Records each status answer of the remote job at `index`."""

        def record(status: ImportStatus | WriteStatus) -> None:
            # A finished part's summary goes in with its state: a run stopped right after
            # still knows what landed once Zoho has forgotten the job.
            summary = status.summary if isinstance(status, ImportStatus) else status.counts
            self.recorder.remote_state(
                self.job.name,
                index,
                status.state,
                status.remote,
                summary=dict(summary) if summary and status.state == "completed" else None,
            )
            self.progress.checked(status.remote)

        return record

    def skipped(self, reason: str) -> ImportOutcome:
        """Nothing sent: the file landed whole before (the record says what was read)."""
        record = self.recorder.jobs[self.job.name].imported
        assert record is not None
        return ImportOutcome(record, 0, skipped=reason)

    def landed(self, **changes: object) -> ImportRecord:
        record = self.recorder.jobs[self.job.name].imported
        assert record is not None
        updated = dataclasses.replace(record, **changes)  # type: ignore[arg-type]
        self.recorder.update_job(self.job.name, imported=updated)
        self.progress.rows(updated.rows_landed)
        return updated

    def unknown(self, layout: Layout, part: Part, where: str, detail: str) -> OutcomeUnknown:
        first = layout.rows_before(part.number) + 1
        landed = layout.rows_before(part.number)
        before = f"Rows 1-{landed} had landed before it" if landed else "No row had landed before"
        return OutcomeUnknown(
            f"part {part.number} of {len(layout.parts)} (rows {first}-{first + part.rows - 1}): "
            f"{detail}. {before}. zsync did not send it again, "
            f"because that could import these rows twice: check {where}, then pass "
            f"--reimport {self.job.name} (with --resume) to send it anyway"
        )

    def failed(
        self,
        layout: Layout,
        part: Part,
        remote_id: str | None,
        detail: str | None,
        code: str | None = None,
        *,
        landed: bool = False,  # the part itself landed (only its end can't be read)
    ) -> RemoteError:
        first = layout.rows_before(part.number) + 1
        last = first + part.rows - 1
        landed_rows = last if landed else layout.rows_before(part.number)
        job = f", Zoho job {remote_id}" if remote_id else ""
        landed_parts = part.number if landed else part.number - 1
        return RemoteJobFailed(
            f"part {part.number} of {len(layout.parts)} (rows {first}-{last}"
            f"{job}) failed"
            + (f": {detail}" if detail else "")
            + (
                f"; rows 1-{landed_rows} (parts 1-{landed_parts}) had landed"
                if landed_rows
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
        try:
            layout, earlier = await self.prepare(action.max_part_size)
        except AlreadyImported as skip:
            return self.skipped(str(skip))
        view_id = await self.provider.find_table()
        if view_id is None and not action.create_table:
            raise ConfigError(
                f"workspace {self.provider.workspace} has no table "
                f"'{action.table}' (set create_table: true to create it)"
            )
        creating = view_id is None
        where = f"the rows of table '{action.table}'"
        added = skipped = 0
        for part in layout.parts:
            if creating and part.number > 1:
                view_id = await self.provider.find_table()
                if view_id is None:
                    raise RemoteError(f"the table '{action.table}' created by part 1 isn't there")
            # truncateadd empties the table once: the parts after the first append.
            mode = action.mode if part.number == 1 or action.mode != "truncateadd" else "append"
            target = None if creating and part.number == 1 else view_id
            before = earlier.get(part.number)
            if before is not None and (before.landed or before.alive):
                _, status = await self.follow_part(
                    layout, part, before, self.provider.status, where, recorded_status
                )
                index = before.position
            else:
                # A lone truncateadd part gives the same table however often it runs; creating
                # a table can't happen twice either (the second create is refused).
                safe = (
                    (mode == "truncateadd" and len(layout.parts) == 1)
                    or mode == "updateadd"
                    or target is None
                )
                if before is not None:
                    self.check_unknown(layout, part, before, where, safe)
                index = self.intend(layout, part, mode=mode if target else "create")
                body = multipart("FILE", self.file.name, partial(PartFile, self.file, layout, part))
                create = partial(self.provider.create, target, mode, body, retry_unsafe=safe)
                _, status = await self.run_part(
                    layout, part, index, create, self.provider.status, where
                )
            self.recorder.update_remote(self.job.name, index, summary=status.summary or {})
            total = part.rows if status.total is None else status.total
            success = total if status.succeeded is None else status.succeeded
            added, skipped = added + success, skipped + total - success
            self.landed(
                rows_landed=layout.rows_before(part.number) + part.rows,
                parts_landed=part.number,
                added=added,
                skipped=skipped,
            )
            self.progress(f"part {part.number}/{len(layout.parts)} imported ({success} rows)")
        # Rows skipped under on_error skiprow were the user's choice, not a failure.
        return ImportOutcome(self.landed(added=added, skipped=skipped), 0)


@dataclass
class BulkWriteRun(ImportRun):
    provider: BulkWriteProvider
    results: Path | str  # a URL in object storage: written in scratch, then uploaded
    root: Path  # the output directory, which the results file must not leave
    storage: Storage | None = None  # where a URL `results` lives

    async def run(self) -> ImportOutcome:
        action = self.job.action
        assert isinstance(action, BulkWriteImport)
        try:
            layout, earlier = await self.prepare(MAX_FILE_BYTES, MAX_RECORDS_PER_FILE)
        except AlreadyImported as skip:
            return self.skipped(str(skip))
        header = next(csv.reader(io.StringIO(layout.header.decode("utf-8-sig"))), [])
        writer = writer_for(
            self.results, "csv", root=self.root, scratch=self.scratch, storage=self.storage
        )
        counts = {"added_count": 0, "updated_count": 0, "skipped_count": 0, "total_count": 0}
        try:
            for part in layout.parts:
                await self._part(layout, part, header, writer, counts, earlier.get(part.number))
            output = await asyncio.to_thread(writer.commit)
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
        before: Earlier | None,
    ) -> None:
        where = f"the bulk write jobs of CRM module '{self.provider.action.module}'"
        if before is not None and (before.landed or before.alive):
            job_id, status = await self.follow_part(
                layout, part, before, self.provider.status, where
            )
            index = before.position
        else:
            if before is not None:
                safe = self.provider.action.operation in IDEMPOTENT_MODES
                self.check_unknown(layout, part, before, where, safe)
            file_id = await self._upload(layout, part)
            index = self.intend(layout, part, file_id=file_id)
            job_id, status = await self.run_part(
                layout,
                part,
                index,
                partial(self.provider.create, file_id, header),
                self.provider.status,
                where,
            )
        for key in counts:
            counts[key] += (status.counts or {}).get(key, 0)
        self.recorder.update_remote(self.job.name, index, summary=dict(status.counts or {}))
        await self._results(job_id, status, writer)
        self.landed(
            rows_landed=layout.rows_before(part.number) + part.rows,
            parts_landed=part.number,
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

    async def _upload(self, layout: Layout, part: Part) -> str:
        self.progress.phase(f"uploading part {part.number}/{len(layout.parts)}")
        self.scratch.mkdir(parents=True, exist_ok=True)
        archive = self.scratch / f"{self.job.name}-part{part.number}-{unique_suffix()}.zip"
        try:
            await asyncio.to_thread(_zip_part, self.file, layout, part, archive)
            # An upload only stores a file: repeating it is harmless.
            # aiohttp closes the file once it is sent.
            opener = lambda: open(archive, "rb")  # noqa: E731, SIM115
            return await self.provider.upload(
                multipart("file", archive.name, opener, "application/zip")
            )
        finally:
            archive.unlink(missing_ok=True)

    async def _results(self, job_id: str, status: WriteStatus, writer: ResultWriter) -> None:
        """Download a part's per-row results; one that fails its checks is downloaded
        again, within the job's retry budget."""

        async def fetch(download: Spool) -> None:
            self.progress.transferring(lambda: download.size, "downloading results")
            await self.provider.download(job_id, status, download)
            await asyncio.to_thread(_extract_page, download, writer, self.job.results)

        await checked_download(
            fetch,
            scratch=self.scratch,
            name=f"{self.job.name}-{job_id}",
            attempts=self.job.retry.attempts,
            what=f"the results of bulk write {job_id}",
            progress=self.progress,
        )


def _extract_page(download: Spool, writer: ResultWriter, limits: Results) -> None:
    page = writer.page()
    try:
        extract_single(download, page, limits)
        page.close()
    except BaseException:
        page.discard()
        raise


def _zip_part(path: Path, layout: Layout, part: Part, archive: Path) -> None:
    """Zip one part of the CSV, streamed: neither the part nor the ZIP is held in memory."""
    source = PartFile(path, layout, part)
    with (
        zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped,
        zipped.open(path.name, "w", force_zip64=True) as member,
    ):
        while chunk := source.read(COPY_CHUNK):
            member.write(chunk)
