"""Zoho Analytics v2 asynchronous import: create with a multipart FILE -> JOBCODE -> summary."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NamedTuple

import aiohttp

from zsync.errors import ConfigError
from zsync.http.session import ZohoSession
from zsync.providers.analytics import JOB_CODES, data_of
from zsync.providers.base import State, canonical, get_status
from zsync.providers.replies import count, optional_mapping, remote_id, text
from zsync.spec.model import AnalyticsImport

# zsync's names for the file format -> Zoho's CONFIG values.
DELIMITERS = {"comma": "0", "tab": "1", "semicolon": "2", "space": "3"}
QUOTES = {"none": "0", "single": "1", "double": "2"}


class ImportStatus(NamedTuple):
    state: State
    remote: str
    summary: dict[str, Any] | None = None  # as Zoho sent it, for the manifest
    error: str | None = None
    total: int | None = None  # importSummary.totalRowCount
    succeeded: int | None = None  # importSummary.successRowCount


class AnalyticsImportProvider:
    def __init__(self, session: ZohoSession, action: AnalyticsImport) -> None:
        self.session = session
        self.action = action
        connection = session.connection
        self.base = f"{session.hosts.analytics}/restapi/v2"
        self.workspace = connection.workspace or ""
        self.headers = {"ZANALYTICS-ORGID": connection.org_id or ""}

    async def find_table(self) -> str | None:
        """The view id of the target table, or None when it doesn't exist (yet)."""
        table = self.action.table
        if table.isdigit():
            return table
        reply = await self.session.request(
            "GET", f"{self.base}/workspaces/{self.workspace}/views", headers=self.headers
        )
        for view in data_of(reply.body).get("views") or []:
            if isinstance(view, dict) and view.get("viewName") == table:
                if view.get("viewType") not in (None, "Table"):
                    raise ConfigError(f"'{table}' is a {view.get('viewType')}, not a table")
                return str(view.get("viewId"))
        return None

    async def create(
        self, view_id: str | None, mode: str, body: Callable[[], Any], *, retry_unsafe: bool
    ) -> str:
        """Start importing one part; `view_id` None creates the table from the file."""
        action = self.action
        config: dict[str, Any] = {
            "fileType": "csv",
            "autoIdentify": "true",
            "onError": action.on_error,
            "delimiter": DELIMITERS[action.delimiter],
            "quoted": QUOTES[action.quoted],
        }
        if action.date_format:
            config["dateFormat"] = action.date_format
        if view_id is None:
            config["tableName"] = action.table
            url = f"{self.base}/bulk/workspaces/{self.workspace}/data"
        else:
            config["importType"] = mode
            if mode == "updateadd":
                config["matchingColumns"] = list(action.matching_columns)
            url = f"{self.base}/bulk/workspaces/{self.workspace}/views/{view_id}/data"
        reply = await self.session.request(
            "POST",
            url,
            params={"CONFIG": json.dumps(config)},
            data=body,
            headers=self.headers,
            retry_unsafe=retry_unsafe,
        )
        return remote_id(data_of(reply.body).get("jobId"), "data.jobId")

    async def status(self, job_id: str) -> ImportStatus:
        url = f"{self.base}/bulk/workspaces/{self.workspace}/importjobs/{job_id}"
        reply = await get_status(self.session, url, headers=self.headers)
        if reply is None:
            return ImportStatus("not_found", "404")
        data = data_of(reply.body)
        code = data.get("jobCode")
        state = canonical(JOB_CODES, code, "Zoho Analytics")
        if state != "completed":
            error = text(data.get("jobStatus"), "data.jobStatus") if state == "failed" else None
            return ImportStatus(state, str(code), error=error)
        summary = {k: v for k, v in data.items() if k not in ("jobId", "jobCode", "jobStatus")}
        return recorded_status(summary, str(code))


def recorded_status(summary: dict[str, Any], remote: str = "COMPLETED") -> ImportStatus:
    """A completed import's status from its summary (as a status answer held it, or as the
    state store recorded it when the part landed: Zoho keeps it one hour)."""
    counts = optional_mapping(summary.get("importSummary"), "data.importSummary")
    return ImportStatus(
        "completed",
        remote,
        summary,
        total=count(counts.get("totalRowCount"), "data.importSummary.totalRowCount"),
        succeeded=count(counts.get("successRowCount"), "data.importSummary.successRowCount"),
    )


def multipart(
    field: str, filename: str, opener: Callable[[], Any], content_type: str = "text/csv"
) -> Callable[[], aiohttp.FormData]:
    """A factory of multipart bodies that stream the file `opener` opens, one per attempt."""

    def build() -> aiohttp.FormData:
        form = aiohttp.FormData()
        form.add_field(field, opener(), filename=filename, content_type=content_type)
        return form

    return build
