"""Zoho Creator v2.1 on the wire: bulk read create/status/result and the app/report metadata.

Success bodies carry `"code": 3000` [seed 004]. `Authorization` may say `Zoho-oauthtoken` or
`Bearer` (third-party Creator clients send the latter) [sdk].
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from zsync.emulator.clock import creator_time
from zsync.emulator.creator.models import STATUS, CreatorJob, CreatorRejected, CreatorState, Report
from zsync.emulator.emulator import Emulator
from zsync.emulator.errors import creator_error
from zsync.emulator.jobs import Phase
from zsync.emulator.keys import EMULATOR
from zsync.emulator.oauth import TokenStore
from zsync.emulator.respond import deliver, json_reply

P = "creator"


def _context(request: web.Request, *scopes: str) -> tuple[Emulator, CreatorState, Report | None]:
    emulator: Emulator = request.app[EMULATOR]
    token = emulator.tokens.authenticate(request, P)
    TokenStore.require_scope(token, P, *scopes)
    state = emulator.creator
    if request.match_info.get("owner", state.owner) != state.owner:
        raise creator_error(1040, f'No account owner named "{request.match_info["owner"]}" found.')
    if request.match_info.get("app", state.app) != state.app:
        raise creator_error(2892)
    report = None
    if "report" in request.match_info:
        report = state.reports.get(request.match_info["report"])
        if report is None:
            raise creator_error(2893)
        if not emulator.may_read(P, report.link_name):
            raise creator_error(2933)
    return emulator, state, report


def _details(state: CreatorState, job: CreatorJob, phase: Phase) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if phase is Phase.COMPLETED:
        result: dict[str, Any] = {
            "count": job.count,
            "download_url": f"/api/bulk/v2.1/{state.owner}/{state.app}/report/{job.report}/read/"
            f"{job.id}/result",
        }
        if job.cursor:
            result["record_cursor"] = job.cursor  # absent on the last batch [seed 004]
        details["result"] = result
    details |= {
        "created_time": creator_time(job.timeline.created),
        "id": job.id,
        "operation": "read",
        "created_by": state.owner,
        "status": STATUS[phase],
    }
    return details


async def create(request: web.Request) -> web.Response:
    emulator, state, report = _context(request, "ZohoCreator.bulk.CREATE")
    assert report is not None
    try:
        body = json.loads(await request.text() or "{}")
    except ValueError:
        raise creator_error(2899, "The request body is not valid JSON.") from None
    query = body.get("query", {}) if isinstance(body, dict) else None
    if not isinstance(query, dict):
        raise creator_error(2899, "query must be a JSON object.")
    job = CreatorJob(
        id=emulator.new_job_id(P),
        org=state.owner,
        kind="creator.read",
        timeline=state.new_timeline(0, False),
        report=report.link_name,
    )
    try:
        state.plan(job, query)
    except CreatorRejected as exc:
        raise creator_error(exc.code, exc.message) from None
    job.timeline = state.new_timeline(job.count, emulator.faults.job_should_fail("creator.read"))
    emulator.register_job(job, target=report.link_name)
    return json_reply({"code": 3000, "details": _details(state, job, Phase.ADDED)})


def _job(request: web.Request, emulator: Emulator, state: CreatorState) -> CreatorJob:
    job = emulator.jobs.get(request.match_info["job"], "creator.read")
    if not isinstance(job, CreatorJob) or job.report != request.match_info["report"]:
        raise creator_error(2894)
    return job


async def status(request: web.Request) -> web.Response:
    emulator, state, _ = _context(request, "ZohoCreator.bulk.READ")
    job = _job(request, emulator, state)
    return json_reply(
        {"code": 3000, "details": _details(state, job, job.phase(emulator.clock.now()))}
    )


async def result(request: web.Request) -> web.StreamResponse:
    emulator, state, _ = _context(request, "ZohoCreator.bulk.READ")
    job = _job(request, emulator, state)
    now = emulator.clock.now()
    if job.phase(now) is not Phase.COMPLETED:
        raise creator_error(2894, "The bulk read job is not completed.")
    if now > job.timeline.finished_at + 86_400:  # results kept a day [doc?]
        raise creator_error(2894, "The result of this job has expired.")
    return await deliver(request, state.content(job), "application/zip", f"{job.id}.zip")


async def applications(request: web.Request) -> web.Response:
    _, state, _ = _context(
        request, "ZohoCreator.dashboard.READ", "ZohoCreator.meta.application.READ"
    )
    return json_reply(
        {
            "code": 3000,
            "applications": [
                {
                    "application_name": state.app_name,
                    "link_name": state.app,
                    "workspace_name": state.owner,
                    "date_format": "dd-MMM-yyyy",
                    "time_zone": "GMT",
                    "created_time": creator_time(1_700_000_000),
                    "environment": "production",
                }
            ],
        }
    )


async def reports(request: web.Request) -> web.Response:
    _, state, _ = _context(request, "ZohoCreator.meta.application.READ")
    return json_reply(
        {
            "code": 3000,
            "reports": [
                {
                    "display_name": r.display_name,
                    "link_name": r.link_name,
                    "type": 1,
                    "form": r.form,
                }
                for r in state.reports.values()
            ],
        }
    )


async def report_fields(request: web.Request) -> web.Response:
    _, state, report = _context(request, "ZohoCreator.meta.application.READ")
    assert report is not None
    return json_reply(
        {
            "code": 3000,
            "fields": [
                {"link_name": f.api_name, "display_name": f.label, "type": f.type}
                for f in state.module(report).fields
            ],
        }
    )


def add_routes(app: web.Application) -> None:
    r = app.router
    base = "/creator/v2.1/bulk/{owner}/{app}/report/{report}/read"
    r.add_post(base, create, name="creator.bulk_read.create")
    r.add_get(base + "/{job}", status, name="creator.bulk_read.status")
    r.add_get(base + "/{job}/result", result, name="creator.bulk_read.result")
    # download_url as seed 004 prints it, with and without the trailing slash.
    dl = "/api/bulk/v2.1/{owner}/{app}/report/{report}/read/{job}/result"
    r.add_get(dl, result, name="creator.bulk_read.download")
    r.add_get(dl + "/", result, name="creator.bulk_read.download_slash")
    r.add_get("/creator/v2.1/meta/applications", applications, name="creator.metadata.applications")
    r.add_get("/creator/v2.1/meta/{owner}/{app}/reports", reports, name="creator.metadata.reports")
    r.add_get(
        "/creator/v2.1/meta/{owner}/{app}/report/{report}/fields",
        report_fields,
        name="creator.metadata.fields",
    )
