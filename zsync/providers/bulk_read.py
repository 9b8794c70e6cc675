"""CRM and Bigin bulk read: create a job per page -> poll its state -> download a ZIP."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zsync.errors import RemoteError, ResultExpired
from zsync.http.hosts import resolve
from zsync.http.session import ZohoSession
from zsync.providers.base import Page, State, Status, canonical, get_status
from zsync.providers.replies import bad, count, flag, optional_mapping, remote_id, text
from zsync.sinks.spool import Spool
from zsync.spec.model import BulkReadExport, Condition, Criterion

STATES: dict[str, State] = {
    "ADDED": "pending",
    "QUEUED": "pending",
    "IN PROGRESS": "running",
    "COMPLETED": "completed",
    "FAILED": "failed",  # the status API
    "FAILURE": "failed",  # callbacks
}
# The API versions zsync speaks: CRM's newest, and Bigin's documented one (seed 003).
PATHS = {"crm": "/crm/bulk/v8/read", "bigin": "/bigin/bulk/v1/read"}


class BulkReadProvider:
    zipped = True
    reread = False
    chained = False

    def __init__(self, session: ZohoSession, export: BulkReadExport) -> None:
        self.session = session
        self.export = export
        self.kind = export.file_type
        self.product = session.connection.product
        self.url = session.hosts.api + PATHS[self.product]

    def first_page(self) -> Page:
        return Page(number=self.export.page)

    async def create(self, page: Page) -> str:
        export = self.export
        # CRM takes the module as {api_name}; Bigin's v1 (like CRM v2) as a plain string.
        module: Any = {"api_name": export.module} if self.product == "crm" else export.module
        query: dict[str, Any] = {"module": module}
        if export.fields:
            query["fields"] = list(export.fields)
        if export.criteria is not None:
            query["criteria"] = criteria_json(export.criteria, self.product)
        if export.cvid:
            query["cvid"] = export.cvid
        if page.token:
            query["page_token"] = page.token
        else:
            query["page"] = page.number or 1
        body: dict[str, Any] = {"query": query}
        if export.file_type == "ics":
            body["file_type"] = "ics"
        reply = await self.session.request("POST", self.url, json_body=body, kind="create")
        entry = _first(reply.body)
        if entry.get("status") != "success":
            raise RemoteError(
                f"{self.product} refused the bulk read: {text(entry.get('message'), 'message')}",
                code=text(entry.get("code"), "code"),
            )
        details = optional_mapping(entry.get("details"), "data[0].details")
        return remote_id(details.get("id"), "data[0].details.id")

    async def status(self, remote_id: str) -> Status:
        reply = await get_status(self.session, f"{self.url}/{remote_id}")
        if reply is None:
            return Status("not_found", "404")
        entry = _first(reply.body)
        remote = entry.get("state")
        state = canonical(STATES, remote, self.product.upper())
        result = optional_mapping(entry.get("result"), "data[0].result")
        if state == "failed":
            error = text(result.get("error_message"), "data[0].result.error_message")
            return Status(state, str(remote), error=error or None)
        if state != "completed":
            return Status(state, str(remote))
        following: Page | None = None
        if flag(result.get("more_records"), "data[0].result.more_records"):
            token = text(result.get("next_page_token"), "data[0].result.next_page_token")
            number = count(result.get("page"), "data[0].result.page") or 1
            following = Page(token=token) if token else Page(number=number + 1)
        return Status(
            state,
            str(remote),
            records=count(result.get("count"), "data[0].result.count"),
            download_url=text(result.get("download_url"), "data[0].result.download_url"),
            next=following,
        )

    async def download(
        self, remote_id: str, status: Status, destination: Spool
    ) -> Mapping[str, str]:
        url = resolve(
            self.session.hosts.api,
            status.download_url or f"{PATHS[self.product]}/{remote_id}/result",
        )
        try:
            return await self.session.download(url, destination)
        except RemoteError as exc:
            if exc.status in (404, 410):
                raise ResultExpired(f"the result of bulk read {remote_id} is gone: {exc}") from exc
            raise

    def next_page(self, status: Status, headers: Mapping[str, str]) -> Page | None:
        return status.next


# How each API version spells a condition's field [doc]. CRM v3 and later (zsync speaks v8):
# {"field": {"api_name": ...}, "comparator", "value"}, as the bulk-read samples of Zoho's
# Kaizen #195 "FAQs on Bulk Read API and Bulk Write API" (help.zoho.com) write it and seed
# 002's status reply echoes it; the reference is CRM v8's "Create Bulk Read job" page,
# zoho.com/crm/developer/docs/api/v8/bulk-read/create-job.html. Bigin's v1, like CRM's v2:
# {"api_name", "comparator", "value"} [seed 003].
FIELD_FORM = {"crm": True, "bigin": False}


def criteria_json(criterion: Criterion, product: str) -> dict[str, Any]:
    """The criteria as `product`'s bulk-read API documents them (see FIELD_FORM)."""
    if isinstance(criterion, Condition):
        value = list(criterion.value) if isinstance(criterion.value, tuple) else criterion.value
        named: dict[str, Any] = (
            {"field": {"api_name": criterion.api_name}}
            if FIELD_FORM[product]
            else {"api_name": criterion.api_name}
        )
        return {**named, "comparator": criterion.comparator, "value": value}
    return {
        "group_operator": criterion.operator,
        "group": [criteria_json(member, product) for member in criterion.members],
    }


def _first(body: Any) -> dict[str, Any]:
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return data[0]
    raise bad("data", "a list of objects", data if isinstance(body, dict) else body)
