"""CRM and Bigin on the wire: bulk read (both), bulk write (CRM), and the metadata a client
needs to find module and field names [seed 002/003][sdk].

A `Flavor` carries what differs between the two: path prefix, versions, scope names, whether
`query.module` is echoed as a plain string, and whether scopes combine with "or" (CRM, seed 002)
or "and" (Bigin, seed 003).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from zsync.emulator.clock import iso
from zsync.emulator.crm.models import (
    MAX_WRITE_BYTES,
    STATES,
    WRITE_STATES,
    CrmState,
    QueryError,
    ReadJob,
    Upload,
    WriteJob,
)
from zsync.emulator.data import USERS, Module, user_row
from zsync.emulator.emulator import Emulator
from zsync.emulator.errors import crm_error
from zsync.emulator.files import read_csv, unzip_single
from zsync.emulator.jobs import Job, Phase
from zsync.emulator.keys import EMULATOR
from zsync.emulator.oauth import Token, TokenStore
from zsync.emulator.respond import deliver, json_reply


@dataclass(frozen=True)
class Flavor:
    product: str  # "crm" or "bigin"
    prefix: str
    versions: str  # route regex for {version}
    scope: str  # "ZohoCRM" or "ZohoBigin"
    all_scopes_needed: bool

    def plain_module(self, version: str) -> bool:
        # CRM v2 and Bigin send and echo `"module": "Leads"`; newer CRM `{"id", "api_name"}`.
        return self.product == "bigin" or version == "v2"


CRM = Flavor("crm", "/crm", "v[2-8]", "ZohoCRM", all_scopes_needed=False)
BIGIN = Flavor("bigin", "/bigin", "v[12]", "ZohoBigin", all_scopes_needed=True)


def _state(request: web.Request, flavor: Flavor) -> tuple[Emulator, CrmState]:
    emulator: Emulator = request.app[EMULATOR]
    state: CrmState = getattr(emulator, flavor.product)
    state.settle(emulator.clock.now())
    return emulator, state


def _require(token: Token, flavor: Flavor, module: str, operation: str) -> None:
    bulk = f"{flavor.scope}.bulk.{operation.lower()}"
    names = [module.lower()]
    if flavor.product == "bigin" and module == "Accounts":
        # Seed 003 lists the scope's module as "companies" while the API name is Accounts;
        # which one Bigin checks is not documented, so either grants the read [guess].
        names.append("companies")
    per_module = [f"{flavor.scope}.modules.{name}.{operation.upper()}" for name in names]
    if flavor.all_scopes_needed:
        TokenStore.require_scope(token, flavor.product, bulk)
        TokenStore.require_scope(token, flavor.product, *per_module)
    else:
        TokenStore.require_scope(token, flavor.product, bulk, *per_module)


async def _json_body(request: web.Request) -> dict[str, Any]:
    if "Content-Type" not in request.headers or request.content_type != "application/json":
        raise crm_error("MEDIA_TYPE_NOT_SUPPORTED")  # [seed 003]
    try:
        body = json.loads(await request.text())
    except ValueError:
        raise crm_error("INVALID_DATA", "body is not valid JSON", {"json_path": "$"}) from None
    if not isinstance(body, dict):
        raise crm_error("INVALID_DATA", "body must be a JSON object", {"json_path": "$"})
    return body


def _module(state: CrmState, value: Any) -> Module:
    name = value.get("api_name") if isinstance(value, dict) else value
    if isinstance(value, dict) and name is None and value.get("id"):
        name = next(
            (m.name for m in state.modules.values() if state.module_id(m) == str(value["id"])), None
        )
    if not isinstance(name, str) or name not in state.modules:
        raise crm_error(
            "INVALID_DATA",
            "the module name given seems to be invalid",
            {"api_name": "module", "json_path": "$.query.module"},
        )
    return state.modules[name]


def _callback(body: dict[str, Any]) -> dict[str, Any] | None:
    callback = body.get("callback")
    if callback is None:
        return None
    if (
        not isinstance(callback, dict)
        or not str(callback.get("url", "")).startswith("http")
        or str(callback.get("method", "post")).lower() != "post"
    ):
        raise crm_error("INVALID_DATA", "invalid callback", {"api_name": "callback"})
    return {"url": callback["url"], "method": "post"}


# -- bulk read ------------------------------------------------------------------------------
def _read_echo(
    state: CrmState, flavor: Flavor, job: ReadJob, query: dict[str, Any], module: Module
) -> dict[str, Any]:
    echo: dict[str, Any] = {}
    if query.get("fields"):
        echo["fields"] = query["fields"]
    echo["module"] = (
        module.name
        if flavor.plain_module(job.version)
        else {"id": state.module_id(module), "api_name": module.name}
    )
    if job.criteria is not None:
        echo["criteria"] = state.echo_criteria(module, job.criteria)
    echo["page"] = job.page
    if query.get("cvid") is not None:
        echo["cvid"] = str(query["cvid"])
    return echo


def read_result(flavor: Flavor, job: ReadJob) -> dict[str, Any]:
    result: dict[str, Any] = {
        "page": job.page,
        "per_page": job.per_page,
        "count": job.count,
        "download_url": f"{flavor.prefix}/bulk/{job.version}/read/{job.id}/result",
        "more_records": job.more_records,
    }
    if job.next_page_token:
        result["next_page_token"] = job.next_page_token  # only when there is a next page
    return result


def make_read_handlers(flavor: Flavor) -> dict[str, Any]:
    kind = f"{flavor.product}.read"

    async def create(request: web.Request) -> web.Response:
        emulator, state = _state(request, flavor)
        token = emulator.tokens.authenticate(request, flavor.product)
        body = await _json_body(request)
        query = body.get("query")
        if not isinstance(query, dict):
            raise crm_error("REQUIRED_PARAM_MISSING", details={"api_name": "query"})
        module = _module(state, query.get("module"))
        _require(token, flavor, module.name, "READ")
        if not emulator.may_read(flavor.product, module.name):
            raise crm_error("NO_PERMISSION", details={"permissions": [f"{module.name}.read"]})
        if not emulator.export_permission:
            raise crm_error("AUTHORIZATION_FAILED")
        file_type = str(body.get("file_type") or query.get("file_type") or "csv").lower()
        if file_type not in ("csv", "ics"):
            raise crm_error("INVALID_DATA", "invalid file_type", {"api_name": "file_type"})
        version = request.match_info["version"]
        job = ReadJob(
            id=emulator.new_job_id(flavor.product),
            org=state.org_id,
            kind=kind,
            timeline=state.new_timeline(0, False),
            product=flavor.product,
            version=version,
            module=module.name,
            file_type=file_type,
            callback=_callback(body),
        )
        try:
            state.plan_read(job, query)
        except QueryError as exc:
            raise crm_error("INVALID_DATA", exc.message, exc.details) from None
        job.definition = {
            "module": module.name,
            "fields": query.get("fields"),
            "criteria": query.get("criteria"),
            "page": job.page,
            "page_token": query.get("page_token"),
            "cvid": query.get("cvid"),
            "file_type": file_type,
        }
        job.echo = _read_echo(state, flavor, job, query, module)
        job.timeline = state.new_timeline(job.count, emulator.faults.job_should_fail(kind))
        emulator.register_job(job, target=module.name)
        # 201 like Zoho; the SDK takes 200 or 201 [sdk].
        return json_reply(
            {
                "data": [
                    {
                        "status": "success",
                        "code": "ADDED_SUCCESSFULLY",
                        "message": "Added successfully.",
                        "details": {
                            "id": job.id,
                            "operation": "read",
                            "state": "ADDED",
                            "created_by": state.creator,
                            "created_time": iso(job.timeline.created),
                        },
                    }
                ],
                "info": {},
            },
            status=201,
        )

    def find(request: web.Request) -> tuple[Emulator, CrmState, ReadJob]:
        emulator, state = _state(request, flavor)
        token = emulator.tokens.authenticate(request, flavor.product)
        job = emulator.jobs.get(request.match_info["job"], kind)
        if not isinstance(job, ReadJob) or job.org != state.org_id:
            raise crm_error("RESOURCE_NOT_FOUND")
        _require(token, flavor, job.module, "READ")
        now = emulator.clock.now()
        if (
            job.phase(now).terminal
            and now > job.timeline.finished_at + emulator.config.crm_result_lifetime
        ):
            raise crm_error("RESOURCE_NOT_FOUND")
        return emulator, state, job

    async def status(request: web.Request) -> web.Response:
        emulator, state, job = find(request)
        phase = job.phase(emulator.clock.now())
        item: dict[str, Any] = {"id": job.id, "operation": "read", "state": STATES[phase]}
        if phase is Phase.COMPLETED:
            item["result"] = read_result(flavor, job)
        item |= {
            "query": job.echo,
            "created_by": state.creator,
            "created_time": iso(job.timeline.created),
            "file_type": job.file_type,
        }
        return json_reply({"data": [item]})

    async def result(request: web.Request) -> web.StreamResponse:
        emulator, state, job = find(request)
        if job.phase(emulator.clock.now()) is not Phase.COMPLETED:
            raise crm_error("RESOURCE_NOT_FOUND", "the job is not completed yet")
        return await deliver(request, state.result_content(job), "application/zip", f"{job.id}.zip")

    return {"create": create, "status": status, "result": result}


def callback_payload(flavor: Flavor, job: ReadJob, phase: Phase) -> dict[str, Any]:
    """Seed 003's payloads: COMPLETED with the result, FAILURE with an error_message."""
    payload: dict[str, Any] = {
        "job_id": job.id,
        "operation": "read",
        "state": "COMPLETED" if phase is Phase.COMPLETED else "FAILURE",
        "query": job.echo,
    }
    if phase is Phase.COMPLETED:
        payload["result"] = read_result(flavor, job)
    else:
        payload["result"] = {
            "error_message": {
                "message": "The bulk read job failed.",
                "details": "Internal failure while exporting.",
                "status": "error",
                "code": "INTERNAL_ERROR",
            }
        }
    return payload


# -- bulk write (CRM) -----------------------------------------------------------------------
async def upload(request: web.Request) -> web.Response:
    emulator, state = _state(request, CRM)
    token = emulator.tokens.authenticate(request, "crm")
    TokenStore.require_scope(token, "crm", "ZohoFiles.files.ALL", "ZohoCRM.bulk.write")
    if request.headers.get("feature", "").lower() != "bulk-write":
        raise crm_error(
            "INVALID_DATA", "the feature header must be bulk-write", {"header": "feature"}
        )
    if request.headers.get("X-CRM-ORG") not in (state.zgid, state.org_id):
        raise crm_error("INVALID_DATA", "invalid X-CRM-ORG header", {"header": "X-CRM-ORG"})
    if not request.content_type.startswith("multipart/"):
        raise crm_error("MEDIA_TYPE_NOT_SUPPORTED")
    data = None
    reader = await request.multipart()
    async for part in reader:
        if isinstance(part, BodyPartReader) and part.name == "file":
            data = await part.read()
    if data is None:
        raise crm_error("REQUIRED_PARAM_MISSING", "file is missing", {"param_name": "file"})
    try:
        name, content = unzip_single(bytes(data))
    except ValueError as exc:
        raise crm_error("INVALID_DATA", str(exc), {"param_name": "file"}) from None
    if len(content) > MAX_WRITE_BYTES:
        raise crm_error("FILE_SIZE_EXCEEDED", details={"param_name": "file"})
    header, records = read_csv(content)
    file_id = emulator.new_job_id("crm")
    state.uploads[file_id] = Upload(file_id, name, header, records, emulator.clock.now())
    return json_reply(
        {
            "status": "success",
            "code": "FILE_UPLOAD_SUCCESS",
            "message": "file uploaded.",
            "details": {"file_id": file_id, "created_time": iso(emulator.clock.now())},
        }
    )


async def create_write(request: web.Request) -> web.Response:
    emulator, state = _state(request, CRM)
    token = emulator.tokens.authenticate(request, "crm")
    body = await _json_body(request)
    operation = str(body.get("operation", "")).lower()
    if operation not in ("insert", "update", "upsert"):
        raise crm_error("INVALID_DATA", "invalid operation", {"api_name": "operation"})
    resources = body.get("resource")
    if not isinstance(resources, list) or len(resources) != 1 or not isinstance(resources[0], dict):
        raise crm_error(
            "INVALID_DATA", "exactly one resource is supported", {"api_name": "resource"}
        )
    resource = resources[0]
    module = _module(state, resource.get("module"))
    TokenStore.require_scope(
        token, "crm", "ZohoCRM.bulk.write", f"ZohoCRM.modules.{module.name.lower()}.ALL"
    )
    if not emulator.may_read("crm", module.name):
        raise crm_error("NO_PERMISSION", "permission denied to write")
    file_id = str(resource.get("file_id", ""))
    if file_id not in state.uploads:
        raise crm_error("INVALID_DATA", "invalid file_id", {"api_name": "file_id"})
    job = WriteJob(
        id=emulator.new_job_id("crm"),
        org=state.org_id,
        kind="crm.write",
        timeline=state.new_timeline(0, False),
        version=request.match_info["version"],
        operation=operation,
        module=module.name,
        file_id=file_id,
        mappings=list(resource.get("field_mappings") or []),
        find_by=resource.get("find_by"),
        ignore_empty=bool(resource.get("ignore_empty")),
        callback=_callback(body),
        base_url=str(request.url.origin()),
        # The rows, not the upload's id: the same rows written twice (each time uploaded
        # anew) count as one definition created twice.
        definition={
            "module": module.name,
            "operation": operation,
            "content_sha256": state.uploads[file_id].digest(),
        },
    )
    try:
        state.plan_write(job)
    except QueryError as exc:
        raise crm_error("INVALID_DATA", exc.message, exc.details) from None
    job.timeline = state.new_timeline(
        len(job.records), emulator.faults.job_should_fail("crm.write")
    )
    emulator.register_job(job, target=module.name)
    state.writes.append(job)
    return json_reply(
        {
            "status": "success",
            "code": "SUCCESS",
            "message": "success",
            "details": {"id": job.id, "created_by": state.creator},
        },
        status=201,
    )


def _write_job(request: web.Request) -> tuple[Emulator, CrmState, WriteJob]:
    emulator, state = _state(request, CRM)
    token = emulator.tokens.authenticate(request, "crm")
    job = emulator.jobs.get(request.match_info["job"], "crm.write")
    if not isinstance(job, WriteJob) or job.org != state.org_id:
        raise crm_error("RESOURCE_NOT_FOUND")
    TokenStore.require_scope(
        token,
        "crm",
        "ZohoCRM.bulk.write",
        "ZohoCRM.bulk.read",
        f"ZohoCRM.modules.{job.module.lower()}.ALL",
    )
    return emulator, state, job


async def write_status(request: web.Request) -> web.Response:
    emulator, state, job = _write_job(request)
    # One instant for both: a job that completes between settling and reading its phase
    # would otherwise report COMPLETED without its counts.
    now = emulator.clock.now()
    state.settle(now)
    phase = job.phase(now)
    module = state.modules[job.module]
    file_info: dict[str, Any] = {"status": WRITE_STATES[phase], "name": job.file_name}
    if phase is Phase.COMPLETED:
        file_info |= job.counts
    body: dict[str, Any] = {
        "status": WRITE_STATES[phase],
        "character_encoding": "UTF-8",
        "resource": [
            {
                "status": WRITE_STATES[phase],
                "type": "data",
                "module": {"id": state.module_id(module), "api_name": job.module},
                "field_mappings": job.mappings,
                "file": file_info,
                **({"find_by": job.find_by} if job.find_by else {}),
            }
        ],
        "id": job.id,
        "created_by": state.creator,
        "operation": job.operation,
        "created_time": iso(job.timeline.created),
    }
    if job.callback:
        body["callback"] = job.callback
    if phase is Phase.COMPLETED:
        body["result"] = {"download_url": write_download_url(job)}
    return json_reply(body)


def write_download_url(job: WriteJob) -> str:
    # An absolute URL on this server: the SDK fetches download_url as given [sdk].
    return f"{job.base_url}/crm/bulk/{job.version}/write/{job.id}/result"


async def write_result(request: web.Request) -> web.StreamResponse:
    emulator, state, job = _write_job(request)
    now = emulator.clock.now()
    state.settle(now)
    if job.phase(now) is not Phase.COMPLETED:
        raise crm_error("RESOURCE_NOT_FOUND", "the job is not completed yet")
    return await deliver(request, state.write_result(job), "application/zip", f"{job.id}.zip")


# -- metadata -------------------------------------------------------------------------------
def make_metadata_handlers(flavor: Flavor) -> dict[str, Any]:
    def auth(request: web.Request, scope: str) -> tuple[Emulator, CrmState]:
        emulator, state = _state(request, flavor)
        token = emulator.tokens.authenticate(request, flavor.product)
        TokenStore.require_scope(token, flavor.product, f"{flavor.scope}.{scope}")
        return emulator, state

    async def org(request: web.Request) -> web.Response:
        _, state = auth(request, "org.READ")
        return json_reply(
            {
                "org": [
                    {
                        "id": state.org_id,
                        "company_name": "Zylker",
                        "zgid": state.zgid,
                        "domain_name": f"org{state.zgid}",
                        "primary_email": "patricia.b@zylker.com",
                        "currency": "US Dollar",
                        "currency_symbol": "$",
                        "iso_code": "USD",
                        "time_zone": "GMT",
                        "country_code": "US",
                        "type": "production",
                    }
                ]
            }
        )

    async def modules(request: web.Request) -> web.Response:
        _, state = auth(request, "settings.modules.READ")
        return json_reply(
            {
                "modules": [
                    {
                        "id": state.module_id(m),
                        "api_name": m.name,
                        "module_name": m.plural_label,
                        "plural_label": m.plural_label,
                        "singular_label": _singular(m.plural_label),
                        "api_supported": True,
                        "generated_type": "default",
                        "custom_views": [{"id": state.cvid(m), "name": f"All {m.name}"}],
                    }
                    for m in state.modules.values()
                ]
            }
        )

    async def fields(request: web.Request) -> web.Response:
        _, state = auth(request, "settings.fields.READ")
        name = request.query.get("module")
        if not name:
            raise crm_error("REQUIRED_PARAM_MISSING", details={"param_name": "module"})
        module = state.modules.get(name)
        if module is None:
            raise crm_error("INVALID_MODULE", details={"param_name": "module"})
        out = []
        for f in module.fields:
            item: dict[str, Any] = {
                "id": state.field_id(module, f),
                "api_name": f.api_name,
                "field_label": f.label,
                "data_type": f.type,
                "json_type": _json_type(f.type),
            }
            if f.lookup:
                target = state.modules[f.lookup]
                item["lookup"] = {
                    "module": {"api_name": target.name, "id": state.module_id(target)}
                }
            if f.choices:
                item["pick_list_values"] = [
                    {"display_value": c, "actual_value": c} for c in f.choices
                ]
            out.append(item)
        return json_reply({"fields": out})

    async def users(request: web.Request) -> web.Response:
        """`GET …/users?type=`: the demo users. The CRM SDK calls `type=CurrentUser` after every
        token it obtains, to name the token in its store [sdk]."""
        _, state = auth(request, "users.READ")
        kind = request.query.get("type", "AllUsers")
        if kind not in USER_TYPES:
            raise crm_error("INVALID_DATA", "invalid type", {"param_name": "type"})  # [guess]
        if kind in ("CurrentUser", "AdminUsers", "ActiveConfirmedAdmins"):
            chosen = [0]  # the demo user is the org's only admin
        elif kind in ("DeactiveUsers", "NotConfirmedUsers", "DeletedUsers"):
            chosen = []
        else:
            chosen = list(range(len(USERS)))
        if not chosen:
            return web.Response(status=204)  # Zoho's empty list [doc?]
        return json_reply(
            {
                "users": [_user(state, index) for index in chosen],
                "info": {"per_page": 200, "count": len(chosen), "page": 1, "more_records": False},
            }
        )

    return {"org": org, "modules": modules, "fields": fields, "users": users}


USER_TYPES = frozenset(
    {
        "AllUsers",
        "ActiveUsers",
        "DeactiveUsers",
        "ConfirmedUsers",
        "NotConfirmedUsers",
        "DeletedUsers",
        "ActiveConfirmedUsers",
        "AdminUsers",
        "ActiveConfirmedAdmins",
        "CurrentUser",
    }
)


def _user(state: CrmState, index: int) -> dict[str, Any]:
    """One user as the users API shows it [doc?]: the fields a client reads, ids stable."""
    admin = index == 0
    return {
        **user_row(state.ids, index),
        "role": {"name": "CEO" if admin else "Manager", "id": state.ids.fixed(5000 + int(admin))},
        "profile": {
            "name": "Administrator" if admin else "Standard",
            "id": state.ids.fixed(5010 + int(admin)),
        },
        "status": "active",
        "confirm": True,
        "zuid": str(70_000_000 + index),
    }


def _json_type(type_: str) -> str:
    return {
        "integer": "integer",
        "currency": "double",
        "decimal": "double",
        "boolean": "boolean",
        "lookup": "jsonobject",
        "owner": "jsonobject",
    }.get(type_, "string")


def due_callbacks(
    flavor: Flavor, emulator: Emulator, now: float
) -> list[tuple[str, dict[str, Any]]]:
    """Callbacks whose job reached COMPLETED/FAILED by `now`, each handed out once."""
    getattr(emulator, flavor.product).settle(now)  # write counts exist before they are posted
    out = []
    job: Job
    for job in emulator.jobs.jobs.values():
        if not isinstance(job, ReadJob | WriteJob) or not job.callback or job.callback_sent:
            continue
        if isinstance(job, ReadJob) and job.product != flavor.product:
            continue
        if isinstance(job, WriteJob) and flavor is not CRM:
            continue
        phase = job.phase(now)
        if phase.terminal:
            job.callback_sent = True
            payload = (
                callback_payload(flavor, job, phase)
                if isinstance(job, ReadJob)
                else write_callback_payload(job, phase)
            )
            out.append((job.callback["url"], payload))
    return out


def write_callback_payload(job: WriteJob, phase: Phase) -> dict[str, Any]:
    """[doc?] A bulk-write callback: the job, its final status and where the result is."""
    payload: dict[str, Any] = {
        "job_id": job.id,
        "operation": job.operation,
        "state": WRITE_STATES[phase],
    }
    if phase is Phase.COMPLETED:
        payload["result"] = {"download_url": write_download_url(job)}
    return payload


def add_routes(app: web.Application, flavor: Flavor) -> None:
    r, p, v, name = app.router, flavor.prefix, flavor.versions, flavor.product
    read = make_read_handlers(flavor)
    r.add_post(f"{p}/bulk/{{version:{v}}}/read", read["create"], name=f"{name}.bulk_read.create")
    r.add_get(
        f"{p}/bulk/{{version:{v}}}/read/{{job}}", read["status"], name=f"{name}.bulk_read.status"
    )
    r.add_get(
        f"{p}/bulk/{{version:{v}}}/read/{{job}}/result",
        read["result"],
        name=f"{name}.bulk_read.result",
    )
    meta = make_metadata_handlers(flavor)
    r.add_get(f"{p}/{{version:{v}}}/org", meta["org"], name=f"{name}.metadata.org")
    r.add_get(
        f"{p}/{{version:{v}}}/settings/modules", meta["modules"], name=f"{name}.metadata.modules"
    )
    r.add_get(
        f"{p}/{{version:{v}}}/settings/fields", meta["fields"], name=f"{name}.metadata.fields"
    )
    r.add_get(f"{p}/{{version:{v}}}/users", meta["users"], name=f"{name}.metadata.users")
    if flavor is CRM:
        r.add_post(f"{p}/{{version:{v}}}/upload", upload, name="crm.bulk_write.upload")
        r.add_post(f"{p}/bulk/{{version:{v}}}/write", create_write, name="crm.bulk_write.create")
        r.add_get(
            f"{p}/bulk/{{version:{v}}}/write/{{job}}", write_status, name="crm.bulk_write.status"
        )
        r.add_get(
            f"{p}/bulk/{{version:{v}}}/write/{{job}}/result",
            write_result,
            name="crm.bulk_write.result",
        )


def _singular(plural: str) -> str:
    return plural[:-3] + "y" if plural.endswith("ies") else plural.removesuffix("s")
