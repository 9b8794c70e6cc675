"""One export job's lifecycle: for each page, create -> poll -> download; then commit.

A concurrency slot is held from just before the create call until the remote job reaches a
terminal state, so no more jobs run at Zoho than the organisation allows; downloads happen
outside the slot. A result that expired before it was fetched is exported again, once.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from zsync.errors import GarbageReply, RemoteJobFailed, ResultExpired
from zsync.manifest import Ledger, OutputRecord, RemoteJob, now
from zsync.providers.base import TERMINAL, Page, Provider, State, Status
from zsync.sinks.result import ResultError, ResultWriter
from zsync.sinks.zipped import extract_single
from zsync.spec.model import Job, Poll

POLL_GROWTH = 1.6
POLL_JITTER = 0.1
COPY_CHUNK = 1 << 20

Progress = Callable[[str], None]


class Checked(Protocol):
    @property
    def state(self) -> State: ...

    @property
    def remote(self) -> str: ...


C = TypeVar("C", bound=Checked)


async def poll_until_done(
    check: Callable[[], Awaitable[C]], poll: Poll, seen: Callable[[C], None]
) -> C:
    """Check soon after the create, then less and less often (with jitter) up to poll.max,
    until the remote job reaches a terminal state; `seen` records every answer."""
    delay = poll.first
    while True:
        await asyncio.sleep(delay)
        status = await check()
        seen(status)
        if status.state in TERMINAL:
            return status
        jitter = random.uniform(1 - POLL_JITTER, 1 + POLL_JITTER)
        delay = min(poll.max, delay * POLL_GROWTH * jitter)


@dataclass
class ExportRun:
    job: Job
    provider: Provider
    slot: asyncio.Semaphore
    ledger: Ledger
    destination: Path
    scratch: Path
    progress: Progress = lambda message: None

    async def run(self) -> OutputRecord:
        per_page = (self.job.output or "").endswith("/")
        writer = ResultWriter(self.destination, self.provider.kind, per_page=per_page)
        try:
            page: Page | None = self.provider.first_page()
            while page is not None:
                status, headers = await self._page(page, writer)
                page = self.provider.next_page(status, headers)
            output = writer.commit()
        except BaseException:
            writer.abort()
            raise
        return OutputRecord(
            str(output.path), output.bytes, output.rows, output.sha256, output.pages
        )

    async def _page(self, page: Page, writer: ResultWriter) -> tuple[Status, Mapping[str, str]]:
        for attempt in (1, 2):
            remote_id, status = await self._remote_job(page)
            if status.state == "failed":
                raise RemoteJobFailed(
                    f"the {self.provider_name} job {remote_id} ended {status.remote}"
                    + (f": {status.error}" if status.error else ""),
                    code=status.remote,
                )
            try:
                if status.state != "completed":
                    raise ResultExpired(f"job {remote_id} is gone ({status.remote})")
                headers = await self._fetch(remote_id, status, writer)
            except ResultExpired:
                if attempt == 2:
                    raise
                self.progress(f"result of {remote_id} expired before download; exporting again")
                self.ledger.update_job(self.job.name, re_exported=True)
                continue
            return status, headers
        raise AssertionError("unreachable")

    async def _remote_job(self, page: Page) -> tuple[str, Status]:
        name = self.job.name
        async with self.slot:
            index = self.ledger.add_remote(
                name, RemoteJob(id=None, created_at=now(), page=page.number, cursor=page.token)
            )
            remote_id = await self.provider.create(page)
            self.ledger.update_remote(name, index, id=remote_id)
            self.progress(
                f"created {self.provider_name} job {remote_id}"
                + (f" (page {page.number})" if page.number and page.number > 1 else "")
            )
            status = await self._poll(remote_id, index)
            if status.records is not None:
                self.ledger.update_remote(name, index, count=status.records)
        return remote_id, status

    async def _poll(self, remote_id: str, index: int) -> Status:
        return await poll_until_done(
            lambda: self.provider.status(remote_id),
            self.job.poll,
            lambda status: self.ledger.remote_state(
                self.job.name, index, status.state, status.remote
            ),
        )

    async def _fetch(
        self, remote_id: str, status: Status, writer: ResultWriter
    ) -> Mapping[str, str]:
        self.scratch.mkdir(parents=True, exist_ok=True)
        download = self.scratch / f"{self.job.name}-{remote_id}-{secrets.token_hex(3)}.part"
        try:
            headers = await self.provider.download(remote_id, status, download)
            page = writer.page()
            if self.provider.zipped:
                extract_single(download, page)
            else:
                with open(download, "rb") as handle:
                    while chunk := handle.read(COPY_CHUNK):
                        page.write(chunk)
            page.close()
        except ResultError as exc:
            raise GarbageReply(
                f"the result of {self.provider_name} job {remote_id} is unusable: {exc}",
                code="BAD_RESULT",
            ) from exc
        finally:
            download.unlink(missing_ok=True)
        return headers

    @property
    def provider_name(self) -> str:
        return self.ledger.jobs[self.job.name].product
