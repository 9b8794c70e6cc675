"""One export job's lifecycle: for each page, create -> poll -> download; then commit.

A concurrency slot is held from just before the create call until the remote job reaches a
terminal state, so no more jobs run at Zoho than the organisation allows; downloads happen
outside the slot. A result that expired before it was fetched is exported again, once.

A chained export (Creator: each batch is asked for with the cursor of the one before, dead
after 15 minutes) holds its slot from the first batch to the last, downloads included, so its
next create never queues behind other jobs' first ones; should a cursor die all the same, the
export starts again from the first batch (CURSOR_STARTS in all).

On resume, a page whose Zoho job id is known (same job definition) is polled and downloaded,
never created again; only a page whose create answer died with the killed process, or whose
result expired, is created anew.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from zsync.creates import create_recorded
from zsync.downloads import checked_download
from zsync.errors import CursorExpired, RemoteJobFailed, ResultExpired
from zsync.polling import Timed, poll_until_done
from zsync.progress import JobProgress
from zsync.providers.base import Page, Provider, Status
from zsync.sinks.atomic import unique_suffix
from zsync.sinks.remote import Storage, writer_for
from zsync.sinks.result import Output, ResultError, ResultWriter
from zsync.sinks.spool import Spool
from zsync.sinks.zipped import extract_single
from zsync.slots import JobSlot
from zsync.spec.model import Job
from zsync.state.recorder import Recorder
from zsync.state.records import OutputRecord, RemoteJob, now
from zsync.timings import Timings

COPY_CHUNK = 1 << 20
REREAD_LIMIT = 64 * 1024 * 1024  # results up to this size are read twice where Zoho can't vouch
MAX_REREADS = 4
DEAD_STATES = frozenset({"failed", "not_found", "expired"})
# Starts of a chained export (Creator) whose cursor may die before its next page is asked
# for: the first, then again from the first page.
CURSOR_STARTS = 3


@dataclass
class ExportRun:
    job: Job
    provider: Provider
    slot: JobSlot
    recorder: Recorder
    destination: Path | str  # a URL in object storage: built in scratch, then uploaded
    scratch: Path
    definition: str  # the job's definition hash: which earlier Zoho jobs may be reused
    root: Path  # the output directory, which the result must not leave
    progress: JobProgress = field(default_factory=JobProgress.silent)
    timings: Timings | None = None  # what polling learns from, and tells
    storage: Storage | None = None  # where a URL destination lives

    async def run(self) -> OutputRecord:
        for start in range(1, CURSOR_STARTS + 1):
            writer = self._writer()
            try:
                # A chained job keeps its slot from the first page to the last (see
                # Provider.chained); every other job holds it for each page's Zoho job.
                if self.provider.chained:
                    self.progress.phase("waiting for a slot")
                async with self.slot if self.provider.chained else contextlib.nullcontext():
                    output = await self._pages(writer, reuse=start == 1)
            except CursorExpired as exc:
                writer.abort()
                if start == CURSOR_STARTS:
                    raise CursorExpired(
                        f"{exc}; it died {CURSOR_STARTS} times, so the job stops: fewer jobs "
                        "of this organisation at once (limits.exports) leave each more room",
                        code=exc.code,
                        status=exc.status,
                    ) from None
                # The pages so far are dropped: a new first page brings a live cursor.
                self.progress(f"{exc}; exporting again from the first page")
                self.recorder.update_job(self.job.name, re_exported=True)
                continue
            except BaseException:
                writer.abort()
                raise
            return OutputRecord(
                str(output.path), output.bytes, output.rows, output.sha256, output.pages
            )
        raise AssertionError("unreachable")

    def _writer(self) -> ResultWriter:
        return writer_for(
            self.destination,
            self.provider.kind,
            per_page=(self.job.output or "").endswith("/"),
            root=self.root,
            scratch=self.scratch,
            storage=self.storage,
            delimiter=self.job.field_delimiter,
        )

    async def _pages(self, writer: ResultWriter, *, reuse: bool) -> Output:
        """Every page in turn into `writer`, committed after the last. `reuse`: poll Zoho
        jobs an earlier try left instead of creating them again (not after a dead cursor:
        those jobs' cursors are as dead)."""
        page: Page | None = self.provider.first_page()
        output: Output | None = None
        while page is not None:
            status, headers, output = await self._page(page, writer, reuse=reuse)
            page = self.provider.next_page(status, headers)
        assert output is not None, "the last page commits the result"
        return output

    async def _page(
        self, page: Page, writer: ResultWriter, *, reuse: bool
    ) -> tuple[Status, Mapping[str, str], Output | None]:
        for attempt in (1, 2):
            remote_id, status = await self._remote_job(page, reuse=reuse and attempt == 1)
            if status.state == "failed":
                raise RemoteJobFailed(
                    f"the {self.provider_name} job {remote_id} ended {status.remote}"
                    + (f": {status.error}" if status.error else ""),
                    code=status.remote,
                )
            try:
                if status.state != "completed":
                    raise ResultExpired(f"job {remote_id} is gone ({status.remote})")
                headers, output = await self._fetch(remote_id, status, writer)
            except ResultExpired:
                if attempt == 2:
                    raise
                self.progress(f"result of {remote_id} expired before download; exporting again")
                self.recorder.update_job(self.job.name, re_exported=True)
                continue
            return status, headers, output
        raise AssertionError("unreachable")

    def _known(self, page: Page) -> tuple[int, str] | None:
        """An earlier Zoho job of this page (from a killed or failed run) worth polling."""
        for index, remote in reversed(
            list(enumerate(self.recorder.jobs[self.job.name].remote_jobs))
        ):
            if (remote.page, remote.cursor) != (page.number, page.token):
                continue
            if remote.definition != self.definition or remote.id is None:
                continue
            if remote.last_state in DEAD_STATES:
                return None
            return index, remote.id
        return None

    async def _remote_job(self, page: Page, *, reuse: bool) -> tuple[str, Status]:
        name = self.job.name
        self.progress.page(page.number)
        if not self.provider.chained:
            self.progress.phase("waiting for a slot")
        async with contextlib.nullcontext() if self.provider.chained else self.slot:
            known = self._known(page) if reuse else None
            if known is not None:
                index, remote_id = known
                self.progress.created(
                    f"polling {self.provider_name} job {remote_id} of an earlier try", remote_id
                )
            else:
                self.progress.phase("creating")
                index = self.recorder.add_remote(
                    name,
                    RemoteJob(
                        id=None,
                        created_at=now(),
                        page=page.number,
                        cursor=page.token,
                        definition=self.definition,
                    ),
                )
                remote_id = await self._create(page, index)
                self.progress.created(
                    f"created {self.provider_name} job {remote_id}"
                    + (f" (page {page.number})" if page.number and page.number > 1 else ""),
                    remote_id,
                )
            status = await self._poll(remote_id, index, fresh=known is None)
        return remote_id, status

    async def _create(self, page: Page, index: int) -> str:
        return await create_recorded(
            self.recorder,
            self.job.name,
            index,
            lambda: self.provider.create(page),
            self.job.poll,
            self.progress,
        )

    async def _poll(self, remote_id: str, index: int, *, fresh: bool) -> Status:
        """Wait for a Zoho job; `fresh` when it was created just now (its age is known)."""
        timings = self.timings if fresh else None
        timed = Timed()

        def seen(status: Status) -> None:
            self.recorder.remote_state(
                self.job.name, index, status.state, status.remote, status.records
            )
            self.progress.checked(status.remote)

        status = await poll_until_done(
            lambda: self.provider.status(remote_id),
            self.job.poll,
            seen,
            expected=timings.expect(self.job.name) if timings else None,
            timed=timed,
            waiting=self.progress.next_check,
        )
        if timings is not None and status.state == "completed":
            timings.finished(self.job.name, timed)
        return status

    async def _fetch(
        self, remote_id: str, status: Status, writer: ResultWriter
    ) -> tuple[Mapping[str, str], Output | None]:
        """Download a page, check it and add it to the result; the last page also commits
        the result (in the same worker-thread call: one hand-off per page, not two). A page
        that fails its checks is downloaded again, within the job's retry budget: a second
        GET of the same result usually serves a good copy."""

        async def fetch(download: Spool) -> tuple[Mapping[str, str], Output | None]:
            self.progress.transferring(lambda: download.size)
            headers = await self.provider.download(remote_id, status, download)
            if self.provider.reread and download.size <= REREAD_LIMIT:
                await self._confirm(remote_id, status, download)
            last = self.provider.next_page(status, headers) is None
            output = await asyncio.to_thread(self._append, download, writer, status, last)
            self.progress.rows(writer.rows)
            return headers, output

        return await checked_download(
            fetch,
            scratch=self.scratch,
            name=f"{self.job.name}-{remote_id}",
            attempts=self.job.retry.attempts,
            what=f"the result of {self.provider_name} job {remote_id}",
            progress=self.progress,
        )

    async def _confirm(self, remote_id: str, status: Status, first: Spool) -> None:
        """Keep a result only once two reads of it are byte for byte the same and none was
        longer: a body cut short at a record boundary, or corrupted into valid text, passes
        every check of its own, but not a comparison with a good copy (and a cut can only
        make a body shorter, never longer)."""
        reads = [first]
        digests = [await asyncio.to_thread(first.digest)]
        try:
            for _ in range(MAX_REREADS):
                again = Spool(self.scratch / f"{self.job.name}-{remote_id}-{unique_suffix()}.re")
                reads.append(again)
                await self.provider.download(remote_id, status, again)
                digests.append(await asyncio.to_thread(again.digest))
                longest = max(read.size for read in reads)
                agreed = [
                    read
                    for read, digest in zip(reads, digests, strict=True)
                    if digests.count(digest) > 1 and read.size == longest
                ]
                if agreed:
                    if agreed[0] is not first:
                        first.take(agreed[0])
                    return
            raise ResultError(f"{len(reads)} reads of the same result never agreed")
        finally:
            for read in reads[1:]:
                read.discard()

    def _append(
        self, download: Spool, writer: ResultWriter, status: Status, last: bool
    ) -> Output | None:
        page = writer.page()
        try:
            if self.provider.zipped:
                extract_single(download, page, self.job.results)
            else:
                with download.open() as handle:
                    while chunk := handle.read(COPY_CHUNK):
                        page.write(chunk)
            page.close(expected=status.records)
        except BaseException:
            page.discard()
            raise
        return writer.commit() if last else None

    @property
    def provider_name(self) -> str:
        return self.recorder.jobs[self.job.name].product
