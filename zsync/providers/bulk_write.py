"""Zoho CRM bulk write: upload a zipped CSV -> create a write job -> poll -> result ZIP."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from zsync.errors import RemoteError
from zsync.http.hosts import resolve
from zsync.http.session import ZohoSession
from zsync.providers.base import State, canonical, get_status
from zsync.providers.replies import bad, count, mapping, optional_mapping, remote_id, text
from zsync.sinks.spool import Spool
from zsync.spec.model import BulkWriteImport

STATES: dict[str, State] = {
    "ADDED": "pending",
    "QUEUED": "pending",
    "IN PROGRESS": "running",
    "COMPLETED": "completed",
    "FAILED": "failed",
    "FAILURE": "failed",
}
VERSION = "v8"
MAX_RECORDS_PER_FILE = 25_000  # Zoho's bulk write limit per CSV file
# [doc?] 25 MB per file, which MB unsaid: each part's CSV (its ZIP is smaller) is kept under
# 25,000,000 bytes, within either reading (as Analytics' 100 MB, spec.model).
MAX_FILE_BYTES = 25_000_000


class WriteStatus(NamedTuple):
    state: State
    remote: str
    counts: Mapping[str, int] | None = None
    download_url: str | None = None
    error: str | None = None


class BulkWriteProvider:
    def __init__(self, session: ZohoSession, action: BulkWriteImport) -> None:
        self.session = session
        self.action = action
        self.url = f"{session.hosts.api}/crm/bulk/{VERSION}/write"

    async def upload(self, body: Callable[[], Any]) -> str:
        """Upload one zipped CSV to the file-upload host; returns its file id."""
        reply = await self.session.request(
            "POST",
            f"{self.session.hosts.upload}/crm/{VERSION}/upload",
            data=body,
            headers={"feature": "bulk-write", "X-CRM-ORG": self.session.connection.org_id or ""},
        )
        body_json = mapping(reply.body, "the reply")
        if body_json.get("status") != "success":
            raise RemoteError(
                f"CRM refused the upload: {text(body_json.get('message'), 'message')}",
                code=text(body_json.get("code"), "code"),
            )
        details = optional_mapping(body_json.get("details"), "details")
        return remote_id(details.get("file_id"), "details.file_id")

    async def create(self, file_id: str, header: list[str]) -> str:
        """Create the write job. Never retried blindly: an insert run twice doubles rows."""
        action = self.action
        resource: dict[str, Any] = {
            "type": "data",
            "module": {"api_name": action.module},
            "file_id": file_id,
            "field_mappings": field_mappings(header, action.field_mappings),
            "ignore_empty": action.ignore_empty,
        }
        if action.find_by and action.operation != "insert":
            resource["find_by"] = action.find_by
        body = {
            "operation": action.operation,
            "character_encoding": "UTF-8",
            "resource": [resource],
        }
        reply = await self.session.request(
            "POST", self.url, json_body=body, retry_unsafe=False, kind="create"
        )
        data = mapping(reply.body, "the reply")
        if data.get("status") != "success":
            raise RemoteError(
                f"CRM refused the bulk write: {text(data.get('message'), 'message')}",
                code=text(data.get("code"), "code"),
            )
        details = optional_mapping(data.get("details"), "details")
        return remote_id(details.get("id"), "details.id")

    async def status(self, job_id: str) -> WriteStatus:
        reply = await get_status(self.session, f"{self.url}/{job_id}")
        if reply is None:
            return WriteStatus("not_found", "404")
        body = mapping(reply.body, "the reply")
        if "status" not in body:
            raise bad("status", "a job state", None)
        state = canonical(STATES, body["status"], "CRM bulk write")
        counts: dict[str, int] = {}
        resources = body.get("resource") or []
        if not isinstance(resources, list):
            raise bad("resource", "a list", resources)
        for resource in resources:
            file_info = optional_mapping(mapping(resource, "resource[]").get("file"), "file")
            for key in ("added_count", "updated_count", "skipped_count", "total_count"):
                found = count(file_info.get(key), f"resource[].file.{key}")
                if found is not None:
                    counts[key] = counts.get(key, 0) + found
        result = optional_mapping(body.get("result"), "result")
        return WriteStatus(
            state,
            str(body["status"]),
            counts or None,
            download_url=text(result.get("download_url"), "result.download_url"),
        )

    async def download(self, job_id: str, status: WriteStatus, destination: Spool) -> None:
        url = resolve(self.session.hosts.api, status.download_url or f"{self.url}/{job_id}/result")
        await self.session.download(url, destination)


def field_mappings(header: list[str], mappings: Mapping[str, str]) -> list[dict[str, Any]]:
    """CSV columns -> CRM fields: the spec's mapping where given, else the header's names."""
    return [
        {"api_name": mappings.get(column, column), "index": index}
        for index, column in enumerate(header)
        if not mappings or column in mappings
    ]
