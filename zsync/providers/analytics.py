"""Zoho Analytics v2 asynchronous export: create (view or SQL) -> JOBCODE -> download.

An export that names its view by name needs the view's id, from the workspace's view list.
The ids are remembered for the run on the connection's session (`ZohoSession.memo`), so
ten jobs on one view cost one list call, not ten, and jobs waiting for the same list wait
for the one call under way. A name not in the remembered list is asked for again (an
import earlier in the run may have created that table), and only what Zoho listed is kept.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from zsync.errors import ConfigError, RemoteError, ResultExpired
from zsync.http.hosts import resolve
from zsync.http.session import ZohoSession
from zsync.providers.base import Page, State, Status, canonical
from zsync.providers.replies import bad, mapping, remote_id, text
from zsync.sinks.spool import Spool
from zsync.spec.model import AnalyticsExport

# zsync's delimiter names -> the export CONFIG's `delimiter` codes (the v2 create-export-job
# pages, "CSV specific attributes"; 4, pipe, in the v2 enum reference only).
EXPORT_DELIMITERS = {"comma": 0, "tab": 1, "semicolon": 2, "space": 3, "pipe": 4}

JOB_CODES: dict[str, State] = {
    "1001": "pending",  # JOB NOT INITIATED
    "1002": "running",  # JOB IN PROGRESS
    "1003": "failed",  # ERROR OCCURRED
    "1004": "completed",  # JOB COMPLETED
    "1005": "not_found",  # JOB NOT FOUND: a wrong id, or a result past its hour
}


class AnalyticsExportProvider:
    zipped = False
    reread = True  # no ZIP, no record count: see Provider.reread
    chained = False

    def __init__(self, session: ZohoSession, export: AnalyticsExport) -> None:
        self.session = session
        self.export = export
        self.kind = export.format
        connection = session.connection
        self.base = f"{session.hosts.analytics}/restapi/v2"
        self.workspace = connection.workspace or ""
        self.headers = {"ZANALYTICS-ORGID": connection.org_id or ""}
        self._view_id: str | None = None

    def first_page(self) -> Page:
        return Page()

    def next_page(self, status: Status, headers: Mapping[str, str]) -> Page | None:
        return None

    async def create(self, page: Page) -> str:
        config = export_config(self.export)
        if self.export.sql is not None:
            url = f"{self.base}/bulk/workspaces/{self.workspace}/data"
        else:
            view = await self._view()
            url = f"{self.base}/bulk/workspaces/{self.workspace}/views/{view}/data"
        reply = await self.session.request(
            "GET", url, params={"CONFIG": json.dumps(config)}, headers=self.headers
        )
        return remote_id(data_of(reply.body).get("jobId"), "data.jobId")

    async def status(self, remote_id: str) -> Status:
        url = f"{self.base}/bulk/workspaces/{self.workspace}/exportjobs/{remote_id}"
        try:
            reply = await self.session.request("GET", url, headers=self.headers)
        except RemoteError as exc:
            if exc.code in ("1005", "8504") or exc.status == 404:
                return Status("not_found", str(exc.code or exc.status))
            raise
        data = data_of(reply.body)
        code = data.get("jobCode")
        state = canonical(JOB_CODES, code, "Zoho Analytics")
        return Status(
            state,
            str(code),
            download_url=text(data.get("downloadUrl"), "data.downloadUrl"),
            error=text(data.get("jobStatus"), "data.jobStatus") if state == "failed" else None,
        )

    async def download(
        self, remote_id: str, status: Status, destination: Spool
    ) -> Mapping[str, str]:
        path = f"{self.base}/bulk/workspaces/{self.workspace}/exportjobs/{remote_id}/data"
        url = resolve(self.session.hosts.analytics, status.download_url or path)
        try:
            return await self.session.download(url, destination, headers=self.headers)
        except RemoteError as exc:
            if exc.status == 404 or exc.code == "1005":
                raise ResultExpired(f"the export result of job {remote_id} is gone: {exc}") from exc
            raise

    async def _view(self) -> str:
        view = self.export.view or ""
        if view.isdigit():
            return view
        if self._view_id is None:
            self._view_id = await self._view_id_of(view)
        return self._view_id

    async def _view_id_of(self, view: str) -> str:
        memo = self.session.memo
        key = ("analytics views", self.base, self.headers["ZANALYTICS-ORGID"], self.workspace)
        known: dict[str, str] = memo.get(key, {})
        if view in known:
            return known[view]
        lock: asyncio.Lock = memo.setdefault((*key, "lock"), asyncio.Lock())
        async with lock:  # one list call at a time; who waited finds its answer here
            known = memo.get(key, {})
            if view not in known:
                known = await self._list_views()
                memo[key] = known
        if view not in known:
            raise ConfigError(
                f"workspace {self.workspace} has no view named '{view}'"
                + (f" (views: {', '.join(sorted(known))})" if known else "")
            )
        return known[view]

    async def _list_views(self) -> dict[str, str]:
        url = f"{self.base}/workspaces/{self.workspace}/views"
        reply = await self.session.request("GET", url, headers=self.headers)
        views = data_of(reply.body).get("views") or []
        if not isinstance(views, list):
            raise bad("data.views", "a list", views)
        return {
            str(v.get("viewName")): remote_id(v.get("viewId"), "data.views[].viewId")
            for v in views
            if isinstance(v, dict)
        }


def export_config(export: AnalyticsExport) -> dict[str, Any]:
    """The CONFIG of an export's create call (the v2 create-export-job pages: view and SQL
    take the same keys, but `criteria` only a view, `sqlQuery` only SQL; the CSV attributes
    apply to csv only). What the job file leaves out is not sent: Zoho's defaults apply."""
    config: dict[str, Any] = {"responseFormat": export.format}
    if export.sql is not None:
        config["sqlQuery"] = export.sql
    if export.criteria is not None:
        config["criteria"] = export.criteria
    if export.columns:
        config["selectedColumns"] = list(export.columns)
    if export.format == "csv" and export.delimiter != "comma":
        config["delimiter"] = EXPORT_DELIMITERS[export.delimiter]
    if export.date_format:
        # Not among the export pages' attributes (the import pages define it); sent as the
        # official client's users do [sdk], and honoured by the emulator.
        config["dateFormat"] = export.date_format
    if export.show_hidden_columns is not None:
        config["showHiddenCols"] = export.show_hidden_columns
    return config


def data_of(body: object) -> dict[str, Any]:
    if isinstance(body, dict):
        if body.get("status") == "failure":
            error = body.get("data")
            data: dict[str, Any] = error if isinstance(error, dict) else {}
            message = text(data.get("errorMessage"), "data.errorMessage")
            raise RemoteError(
                f"Zoho Analytics: {message or text(body.get('summary'), 'summary')}",
                code=text(data.get("errorCode"), "data.errorCode") or None,
            )
        return mapping(body.get("data"), "data")
    raise bad("the reply", "an object", body)
