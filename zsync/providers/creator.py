"""Zoho Creator bulk read v2.1: batches of a report, chained by a 15-minute record cursor."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zsync.errors import CursorExpired, RemoteError, ResultExpired
from zsync.http.session import ZohoSession
from zsync.providers.base import Page, State, Status, canonical, get_status
from zsync.providers.replies import count, mapping, optional_mapping, remote_id, text
from zsync.sinks.result import FileKind
from zsync.sinks.spool import Spool
from zsync.spec.model import CreatorExport

STATES: dict[str, State] = {
    "In-progress": "running",
    "Completed": "completed",
    "Failed": "failed",
}
SUCCESS = 3000
CURSOR_EXPIRED = "2970"


class CreatorExportProvider:
    zipped = True
    reread = False
    chained = True  # a batch's record cursor lives 15 minutes
    kind: FileKind = "csv"

    def __init__(self, session: ZohoSession, export: CreatorExport) -> None:
        self.session = session
        self.export = export
        connection = session.connection
        self.url = (
            f"{session.hosts.api}/creator/v2.1/bulk/{connection.owner}/{connection.app}"
            f"/report/{export.report}/read"
        )

    def first_page(self) -> Page:
        return Page()

    async def create(self, page: Page) -> str:
        query: dict[str, Any]
        if page.token:
            # Creator takes only the cursor on later batches (fields, criteria, size are fixed).
            query = {"record_cursor": page.token}
        else:
            query = {}
            if self.export.max_records:
                query["max_records"] = self.export.max_records
            if self.export.criteria:
                query["criteria"] = self.export.criteria
            if self.export.fields:
                query["fields"] = list(self.export.fields)
        try:
            reply = await self.session.request(
                "POST", self.url, json_body={"query": query}, kind="create"
            )
            return remote_id(_details(reply.body).get("id"), "details.id")
        except RemoteError as exc:
            if page.token and _cursor_refused(exc):
                raise CursorExpired(
                    f"Zoho Creator refused the next batch's record cursor: {exc} (a cursor "
                    "lives 15 minutes)",
                    code=exc.code,
                    status=exc.status,
                ) from exc
            raise

    async def status(self, remote_id: str) -> Status:
        reply = await get_status(self.session, f"{self.url}/{remote_id}")
        if reply is None:
            return Status("not_found", "404")
        details = _details(reply.body)
        remote = details.get("status")
        state = canonical(STATES, remote, "Zoho Creator")
        result = optional_mapping(details.get("result"), "details.result")
        cursor = text(result.get("record_cursor"), "details.result.record_cursor")
        return Status(
            state,
            str(remote),
            records=count(result.get("count"), "details.result.count"),
            download_url=text(result.get("download_url"), "details.result.download_url"),
            next=Page(token=cursor) if cursor else None,
        )

    async def download(
        self, remote_id: str, status: Status, destination: Spool
    ) -> Mapping[str, str]:
        # The v2.1 result endpoint, as documented; the status's download_url spells an older
        # path on the Creator host.
        url = f"{self.url}/{remote_id}/result"
        try:
            return await self.session.download(url, destination)
        except RemoteError as exc:
            if exc.status in (404, 410):
                raise ResultExpired(
                    f"the result of Creator bulk read {remote_id} is gone: {exc}"
                ) from exc
            raise

    def next_page(self, status: Status, headers: Mapping[str, str]) -> Page | None:
        if status.next is not None:
            return status.next
        cursor = headers.get("recordCursor") or headers.get("record_cursor")
        return Page(token=cursor) if cursor else None


def _cursor_refused(exc: RemoteError) -> bool:
    # 2970 is the emulator's code for it; Zoho's own isn't documented, so a refusal that
    # names the cursor counts as well.
    return exc.code == CURSOR_EXPIRED or "cursor" in str(exc).lower()


def _details(body: Any) -> dict[str, Any]:
    body = mapping(body, "the reply")
    if body.get("code") != SUCCESS:
        message = text(body.get("message"), "message") or str(body)[:200]
        raise RemoteError(f"Zoho Creator: {message}", code=text(body.get("code"), "code"))
    return mapping(body.get("details"), "details")
