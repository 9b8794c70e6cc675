"""Zoho Analytics v2 on the wire: metadata, bulk export and bulk import [seed 000/001][sdk].

Every success is HTTP 200 `{"status": "success", "summary": …, "data": …}` because the official
client treats any other 2xx as a failure [sdk]. Bulk calls need `ZANALYTICS-ORGID`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aiohttp import BodyPartReader, web

from zsync.emulator.analytics.dates import DateFormatError, parser
from zsync.emulator.analytics.exports import check_limits, export_options, response_format
from zsync.emulator.analytics.formats import CONTENT_TYPES
from zsync.emulator.analytics.models import (
    IMPORT_TYPES,
    JOB_STATUS,
    ON_ERROR,
    PHASE_CODES,
    AnalyticsState,
    ExportJob,
    ImportJob,
    ImportRejected,
)
from zsync.emulator.clock import analytics_time
from zsync.emulator.emulator import Emulator
from zsync.emulator.errors import analytics_error
from zsync.emulator.files import read_csv
from zsync.emulator.jobs import Phase
from zsync.emulator.keys import EMULATOR
from zsync.emulator.oauth import Token, TokenStore
from zsync.emulator.respond import deliver, json_reply
from zsync.emulator.sql import SqlError

P = "analytics"
SCOPE_META = ("ZohoAnalytics.metadata.read",)
SCOPE_EXPORT = ("ZohoAnalytics.data.read",)
SCOPE_IMPORT = ("ZohoAnalytics.data.create", "ZohoAnalytics.data.update")


def ok(summary: str, data: Any) -> web.Response:
    return json_reply({"status": "success", "summary": summary, "data": data})


def _emulator(request: web.Request) -> tuple[Emulator, AnalyticsState]:
    emulator: Emulator = request.app[EMULATOR]
    return emulator, emulator.analytics


def _auth(request: web.Request, scopes: tuple[str, ...]) -> Token:
    emulator, _ = _emulator(request)
    token = emulator.tokens.authenticate(request, P)
    TokenStore.require_scope(token, P, *scopes)
    return token


def _bulk_context(request: web.Request, scopes: tuple[str, ...]) -> AnalyticsState:
    _auth(request, scopes)
    emulator, state = _emulator(request)
    org = request.headers.get("ZANALYTICS-ORGID")
    if not org:
        raise analytics_error(8083)
    if org != state.org_id:
        raise analytics_error(7387)
    if request.match_info.get("ws") != state.workspace_id:
        raise analytics_error(7103)
    state.settle(emulator.clock.now())
    return state


def _config(request: web.Request) -> dict[str, Any]:
    raw = request.query.get("CONFIG")
    if raw is None:
        return {}
    try:
        config = json.loads(raw)
    except ValueError:
        raise analytics_error(8504, "The CONFIG parameter is not valid JSON.") from None
    if not isinstance(config, dict):
        raise analytics_error(8504, "The CONFIG parameter must be a JSON object.")
    return config  # keys the emulator doesn't model (keyValueFormat, …) are tolerated [sdk]


# -- metadata -------------------------------------------------------------------------------
async def orgs(request: web.Request) -> web.Response:
    _auth(request, SCOPE_META)
    _, state = _emulator(request)
    return ok(
        "Get organizations",
        {
            "orgs": [
                {
                    "orgId": state.org_id,
                    "orgName": state.org_name,
                    "orgDesc": "zsync emulator",
                    "isDefault": True,
                    "role": "Account Admin",
                    "planName": "Premium",
                    "createdBy": "patricia.b@zylker.com",
                }
            ]
        },
    )


def _workspace(state: AnalyticsState) -> dict[str, Any]:
    return {
        "workspaceId": state.workspace_id,
        "workspaceName": state.workspace_name,
        "workspaceDesc": "zsync emulator demo workspace",
        "orgId": state.org_id,
        "createdTime": analytics_time(1_700_000_000),
        "createdBy": "patricia.b@zylker.com",
        "isDefault": True,
    }


async def workspaces(request: web.Request) -> web.Response:
    _auth(request, SCOPE_META)
    _, state = _emulator(request)
    return ok(
        "Get all workspaces", {"ownedWorkspaces": [_workspace(state)], "sharedWorkspaces": []}
    )


async def views(request: web.Request) -> web.Response:
    state = _bulk_context(request, SCOPE_META)
    return ok(
        "Get views",
        {
            "views": [
                {
                    "viewId": v.id,
                    "viewName": v.name,
                    "viewType": v.type,
                    "viewDesc": v.description,
                    "workspaceId": state.workspace_id,
                    "parentViewId": "",
                    "createdBy": "patricia.b@zylker.com",
                    "columns": list(state.table(v.table).columns) if v.type == "Table" else [],
                }
                for v in state.views.values()
            ]
        },
    )


# -- export ---------------------------------------------------------------------------------
def _start_export(request: web.Request, state: AnalyticsState, job: ExportJob) -> web.Response:
    emulator, _ = _emulator(request)
    now = emulator.clock.now()
    if emulator.jobs.active(state.org_id, job.kind, now) >= emulator.config.analytics_max_jobs:
        raise analytics_error(8084)
    rows = state.export_rows(job)
    check_limits(job, state, rows)
    job.timeline = state.new_timeline(rows, emulator.faults.job_should_fail(job.kind))
    emulator.register_job(job, target=str(job.definition.get("target")))
    return ok("Create bulk export job", {"jobId": job.id})


def _new_export(
    state: AnalyticsState, emulator: Emulator, config: dict[str, Any], target: str, **extra: Any
) -> ExportJob:
    fmt = response_format(config)
    return ExportJob(
        id=emulator.new_job_id(P),
        org=state.org_id,
        kind="analytics.export",
        timeline=state.new_timeline(0, False),
        # The whole CONFIG: the same view with other criteria is another definition.
        definition={
            "target": target,
            "responseFormat": fmt,
            "config": json.dumps(config, sort_keys=True),
            **extra,
        },
        fmt=fmt,
        title=target,
        **extra,
    )


async def export_view(request: web.Request) -> web.Response:
    state = _bulk_context(request, SCOPE_EXPORT)
    emulator, _ = _emulator(request)
    view = state.view_by_id(request.match_info["view"])
    if view is None:
        raise analytics_error(7138)
    if not emulator.may_read(P, view.table):
        raise analytics_error(7301)
    config = _config(request)
    job = _new_export(state, emulator, config, view.name, view_id=view.id)
    job.options = export_options(config, job, state, tables=(view.name, view.table))
    return _start_export(request, state, job)


async def export_sql(request: web.Request) -> web.Response:
    state = _bulk_context(request, SCOPE_EXPORT)
    emulator, _ = _emulator(request)
    config = _config(request)
    query = config.get("sqlQuery")
    if not query:
        raise analytics_error(7003, "Required parameter sqlQuery is missing in CONFIG.")
    job = _new_export(state, emulator, config, "SQL", query=str(query))
    try:
        job.result = state.run_sql(str(query))
    except SqlError as exc:
        raise analytics_error(exc.code, exc.message) from None  # codes: see sql.py
    job.options = export_options(config, job, state, tables=())
    return _start_export(request, state, job)


def _job_or_none(request: web.Request, kind: str) -> Any:
    emulator, state = _emulator(request)
    job = emulator.jobs.get(request.match_info["job"], kind)
    if job is None or job.org != state.org_id:
        return None
    now = emulator.clock.now()
    phase = job.phase(now)
    lifetime = emulator.config.analytics_result_lifetime
    if phase.terminal and now > job.timeline.finished_at + lifetime:
        return None  # results and summaries are kept one hour [seed 000/001]
    return job


def _details(job: Any, job_id: str, now: float) -> dict[str, Any]:
    if job is None:
        return {"jobId": job_id, "jobCode": "1005", "jobStatus": JOB_STATUS["1005"]}
    code = PHASE_CODES[job.phase(now)]
    data: dict[str, Any] = {"jobId": job.id, "jobCode": code, "jobStatus": JOB_STATUS[code]}
    if code == "1003":
        data["errorMessage"] = "An error occurred while processing the job."
    return data


async def export_details(request: web.Request) -> web.Response:
    state = _bulk_context(request, SCOPE_EXPORT)
    emulator, _ = _emulator(request)
    now = emulator.clock.now()
    job = _job_or_none(request, "analytics.export")
    data = _details(job, request.match_info["job"], now)
    if data["jobCode"] == "1004":
        data["downloadUrl"] = (
            f"{request.url.origin()}/restapi/v2/bulk/workspaces/"
            f"{state.workspace_id}/exportjobs/{job.id}/data"
        )
        data["expiryTime"] = analytics_time(
            job.timeline.finished_at + emulator.config.analytics_result_lifetime
        )
    return ok("Fetch export job info", data)


async def export_data(request: web.Request) -> web.StreamResponse:
    state = _bulk_context(request, SCOPE_EXPORT)
    emulator, _ = _emulator(request)
    job = _job_or_none(request, "analytics.export")
    if job is None or job.phase(emulator.clock.now()) is not Phase.COMPLETED:
        raise analytics_error(8504, "Invalid job id or the job is not completed.", status=404)
    content_type = CONTENT_TYPES[job.fmt]
    if job.fmt not in ("xls", "pdf"):
        content_type += "; charset=utf-8"
    return await deliver(request, state.export_content(job), content_type, f"{job.id}.{job.fmt}")


# -- import ---------------------------------------------------------------------------------
async def _read_file(request: web.Request, limit: int) -> bytes:
    """The multipart field FILE, refused past `limit` bytes without reading the rest."""
    if not request.content_type.startswith("multipart/"):
        raise analytics_error(7003, "The file to import (multipart field FILE) is missing.")
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader) or part.name != "FILE":
            continue
        chunks, size = [], 0
        while chunk := await part.read_chunk(256 * 1024):
            size += len(chunk)
            if size > limit:
                raise analytics_error(8085)
            chunks.append(chunk)
        return b"".join(chunks)
    raise analytics_error(7003, "The file to import (multipart field FILE) is missing.")


# CONFIG codes of the CSV attributes (Analytics v2 create-import-job pages, "CSV specific
# attributes"); zsync's client sends the same codes (providers/analytics_import.py).
DELIMITERS = {"0": ",", "1": "\t", "2": ";", "3": " "}
QUOTES: dict[str, str | None] = {"0": None, "1": "'", "2": '"'}


def _csv_dialect(config: dict[str, Any]) -> tuple[str, str | None]:
    delimiter = str(config.get("delimiter", "0"))
    # Without `quoted`, double quotes are honoured: files written by any CSV library read
    # back as written [guess: the docs give no default].
    quoted = str(config.get("quoted", "2"))
    if delimiter not in DELIMITERS:
        raise analytics_error(8504, f"Unsupported delimiter {delimiter}.")
    if quoted not in QUOTES:
        raise analytics_error(8504, f"Unsupported quoted {quoted}.")
    return DELIMITERS[delimiter], QUOTES[quoted]


def _parse_file(
    data: bytes, file_type: str, dialect: tuple[str, str | None]
) -> tuple[list[str], list[list[str]]]:
    if file_type == "json":
        try:
            records = json.loads(data)
        except ValueError:
            raise analytics_error(8504, "The file is not valid JSON.") from None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise analytics_error(8504, "A JSON import file must be an array of objects.")
        header = list(dict.fromkeys(k for r in records for k in r))
        cells = [["" if r.get(h) is None else str(r.get(h)) for h in header] for r in records]
        return header, cells
    return read_csv(data, *dialect)


async def _start_import(request: web.Request, table_name: str, existing: bool) -> web.Response:
    state = _bulk_context(request, SCOPE_IMPORT)
    emulator, _ = _emulator(request)
    config = _config(request)
    file_type = str(config.get("fileType", "")).lower()
    if file_type not in ("csv", "json"):
        raise analytics_error(7003 if not file_type else 8504, "fileType must be csv or json.")
    if "autoIdentify" not in config:
        raise analytics_error(7003, "Required parameter autoIdentify is missing in CONFIG.")
    import_type = str(config.get("importType", "append")).lower()
    if existing and "importType" not in config:
        raise analytics_error(7003, "Required parameter importType is missing in CONFIG.")
    if import_type not in IMPORT_TYPES:
        raise analytics_error(8504, f"Unsupported importType {import_type}.")
    matching = config.get("matchingColumns") or []
    if isinstance(matching, str):
        matching = [c.strip() for c in matching.split(",") if c.strip()]
    if import_type == "updateadd" and not matching:
        raise analytics_error(7003, "matchingColumns is required for updateadd.")
    on_error = str(config.get("onError", "abort")).lower()  # [doc?] default
    if on_error not in ON_ERROR:
        raise analytics_error(8504, f"Unsupported onError {on_error}.")
    dialect = _csv_dialect(config)
    date_format = config.get("dateFormat")
    try:
        parse_date = parser(str(date_format)) if date_format else None
    except DateFormatError as exc:
        raise analytics_error(8504, f"Invalid dateFormat: {exc}") from None
    now = emulator.clock.now()
    active = emulator.jobs.active(state.org_id, "analytics.import", now)
    if active >= emulator.config.analytics_max_jobs:
        raise analytics_error(8084)
    data = await _read_file(request, emulator.config.analytics_max_file_bytes)
    header, records = _parse_file(data, file_type, dialect)
    job = ImportJob(
        id=emulator.new_job_id(P),
        org=state.org_id,
        kind="analytics.import",
        timeline=state.new_timeline(0, False),
        # The file's digest: the same rows sent twice count as one definition created twice.
        definition={
            "target": table_name,
            "importType": import_type,
            "fileType": file_type,
            "content_sha256": hashlib.sha256(data).hexdigest(),
        },
        table=table_name,
        import_type=import_type,
        matching=list(matching),
    )
    try:
        state.plan_import(
            job,
            header,
            records,
            on_error,
            state.table(table_name) if existing else None,
            parse_date,
        )
    except ImportRejected as exc:
        raise analytics_error(exc.code, exc.message) from None
    # A data error under onError abort does not refuse the create: the job runs up to the bad
    # row and ends 1003 (seed 001: "An error occurred during the import … check the error
    # message"). The fault draw happens either way so seeded fault sequences stay the same.
    fails = emulator.faults.job_should_fail(job.kind) or job.abort_message is not None
    job.timeline = state.new_timeline(job.processed, fails)
    emulator.register_job(job, target=table_name)
    state.imports.append(job)
    return ok("Create bulk import job", {"jobId": job.id})


async def import_into_view(request: web.Request) -> web.Response:
    _, state = _emulator(request)
    view = state.view_by_id(request.match_info["view"])
    if view is None or view.type != "Table":
        _bulk_context(request, SCOPE_IMPORT)
        raise analytics_error(7138)
    return await _start_import(request, view.table, existing=True)


async def import_new_table(request: web.Request) -> web.Response:
    config = _config(request)
    name = str(config.get("tableName", ""))
    if not name:
        _bulk_context(request, SCOPE_IMPORT)
        raise analytics_error(7003, "Required parameter tableName is missing in CONFIG.")
    emulator, state = _emulator(request)
    pending = any(
        j.new_table is not None and j.table == name and not j.applied for j in state.imports
    )
    if emulator.has_table(P, name) or pending:
        _bulk_context(request, SCOPE_IMPORT)
        raise analytics_error(8504, f"A table named {name} already exists.")
    return await _start_import(request, name, existing=False)


async def import_details(request: web.Request) -> web.Response:
    _bulk_context(request, SCOPE_IMPORT)
    emulator, _ = _emulator(request)
    now = emulator.clock.now()
    job = _job_or_none(request, "analytics.import")
    data = _details(job, request.match_info["job"], now)
    if data["jobCode"] == "1004":
        data.update(job.summary)
        data["expiryTime"] = analytics_time(
            job.timeline.finished_at + emulator.config.analytics_result_lifetime
        )
    elif data["jobCode"] == "1003" and job.abort_message is not None:
        # The reason and the summary up to the bad row (nothing stored) [guess: key names as
        # in the 1004 summary].
        data["errorMessage"] = job.abort_message
        data.update(job.summary)
    return ok("Fetch import job info", data)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/restapi/v2/orgs", orgs, name="analytics.orgs")
    r.add_get("/restapi/v2/workspaces", workspaces, name="analytics.workspaces")
    r.add_get("/restapi/v2/workspaces/{ws}/views", views, name="analytics.views")
    base = "/restapi/v2/bulk/workspaces/{ws}"
    r.add_get(base + "/views/{view}/data", export_view, name="analytics.export.create_view")
    r.add_post(base + "/views/{view}/data", import_into_view, name="analytics.imports.create_view")
    r.add_get(base + "/data", export_sql, name="analytics.export.create_sql")
    r.add_post(base + "/data", import_new_table, name="analytics.imports.create_table")
    r.add_get(base + "/exportjobs/{job}", export_details, name="analytics.export.status")
    r.add_get(base + "/exportjobs/{job}/data", export_data, name="analytics.export.result")
    r.add_get(base + "/importjobs/{job}", import_details, name="analytics.imports.status")
