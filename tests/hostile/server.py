"""A deliberately hostile Zoho on 127.0.0.1: CRM bulk read and Analytics export endpoints whose
every reply can be wrong in one way, chosen by the job (the CRM module or the Analytics SQL
names the case). Honest cases answer as Zoho does, so one run mixes good and bad jobs.
"""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from zsync.emulator.analytics.formats import pdf_chunks, xls_workbook

CSV = b"Id,Last_Name\r\n1,Ada\r\n2,Grace\r\n"
BOMB = 512 * 1024 * 1024  # extracted bytes of the ZIP bombs (a few hundred KiB zipped)


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def bomb(path: Path, line: bytes) -> bytes:
    """A ZIP whose one member is BOMB bytes of `line` repeated, built streaming, cached."""
    if not path.exists():
        chunk = line * ((1 << 20) // len(line))
        with (
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
            archive.open("result.csv", "w", force_zip64=True) as member,
        ):
            member.write(b"a,b\n")
            for _ in range(BOMB // len(chunk)):
                member.write(chunk)
    return path.read_bytes()


def crm_case_replies(scratch: Path) -> dict[str, Callable[[], bytes]]:
    """What the download of each ZIP case holds."""
    return {
        "zip_truncated": lambda: zipped({"r.csv": CSV * 50})[:-40],
        "zip_traversal": lambda: zipped({"../../evil.csv": CSV}),
        "zip_absolute": lambda: zipped({"/etc/evil.csv": CSV}),
        "zip_two": lambda: zipped({"a.csv": CSV, "b.csv": CSV}),
        "zip_bomb_zeros": lambda: bomb(scratch / "zeros.zip", b"\0"),
        "zip_bomb_lines": lambda: bomb(scratch / "lines.zip", b"1,2\n"),
        "csv_no_header": lambda: zipped({"r.csv": b"1,2\r\n3,4\r\n"}),
        "csv_bad_utf8": lambda: zipped({"r.csv": b"Id,Last_Name\r\n1,Ad\xc3\x28a\r\n"}),
        "csv_empty": lambda: zipped({"r.csv": b""}),
        "good": lambda: zipped({"r.csv": CSV}),
    }


def app(scratch: Path) -> web.Application:
    zips = crm_case_replies(scratch)

    async def token(request: web.Request) -> web.Response:
        return web.json_response({"access_token": "1000.hostile", "expires_in": 3600})

    # -- CRM bulk read ------------------------------------------------------------------------

    async def create(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        case = body["query"]["module"]["api_name"]
        if case == "create_garbage":
            return web.Response(text="this is not { json", content_type="application/json")
        if case == "create_details_string":
            return web.json_response({"data": [{"status": "success", "details": "nope"}]})
        if case == "create_id_object":
            details = {"id": {"sneaky": 1}}
            return web.json_response({"data": [{"status": "success", "details": details}]})
        if case == "create_id_traversal":
            details = {"id": "../../../admin"}
            return web.json_response({"data": [{"status": "success", "details": details}]})
        details = {"id": f"{case}-1"}
        return web.json_response({"data": [{"status": "success", "details": details}]})

    async def status(request: web.Request) -> web.StreamResponse:
        job = request.match_info["job"]
        case = job.rsplit("-", 1)[0]
        result: dict[str, object] = {"count": 2, "more_records": False, "page": 1}
        if case == "status_never_ends":
            return web.json_response({"data": [{"id": job, "state": "IN PROGRESS"}]})
        if case == "status_count_string":
            result["count"] = "two"
        if case == "status_huge":
            return await _endless_json(request)
        if case == "status_trickle":
            return await _trickle(request, json.dumps({"data": [{"state": "COMPLETED"}]}))
        if case == "download_foreign_host":
            result["download_url"] = "https://evil.example.com/steal.zip"
        if case == "download_redirect":
            result["download_url"] = f"/crm/bulk/v8/read/{job}/moved"
        reply = {"data": [{"id": job, "state": "COMPLETED", "result": result}]}
        return web.json_response(reply)

    async def download(request: web.Request) -> web.StreamResponse:
        job = request.match_info["job"]
        case = job.rsplit("-", 1)[0]
        if case == "download_html":
            page = "<!DOCTYPE html><html><body>Sign in to Zoho</body></html>"
            return web.Response(text=page, content_type="text/html")
        if case == "download_empty":
            return web.Response(body=b"", content_type="application/zip")
        data = zips.get(case, zips["good"])()
        return web.Response(body=data, content_type="application/zip")

    async def moved(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("https://evil.example.com/elsewhere.zip")

    # -- Analytics export ------------------------------------------------------------------------

    async def an_create(request: web.Request) -> web.StreamResponse:
        config = json.loads(request.query["CONFIG"])
        job = f"{config['sqlQuery']}-1"
        return web.json_response({"status": "success", "summary": "ok", "data": {"jobId": job}})

    async def an_status(request: web.Request) -> web.StreamResponse:
        job = request.match_info["job"]
        data = {"jobId": job, "jobCode": "1004", "jobStatus": "JOB COMPLETED"}
        return web.json_response({"status": "success", "summary": "ok", "data": data})

    async def an_download(request: web.Request) -> web.StreamResponse:
        case = request.match_info["job"].rsplit("-", 1)[0]
        if case == "an_html":
            page = "<html><title>Zoho Accounts</title></html>"
            return web.Response(text=page, content_type="text/html")
        if case == "an_envelope":
            error = {"errorCode": 8504, "errorMessage": "The job has expired"}
            body = {"status": "failure", "summary": "INVALID_JOB", "data": error}
            return web.json_response(body)
        if case == "an_bad_utf8":
            data = b"Region,Amount\nNorth,1\nS\xffuth,2\n"
            return web.Response(body=data, content_type="text/csv")
        if case == "an_endless":
            return await _endless_csv(request)
        if case == "an_xls_endless":
            return await _endless_workbook(request)
        if case in DOCUMENTS:
            return web.Response(body=DOCUMENTS[case], content_type="application/octet-stream")
        return web.Response(body=b"Region,Amount\nNorth,1\nSouth,2\n", content_type="text/csv")

    application = web.Application()
    application.add_routes(
        [
            web.post("/oauth/v2/token", token),
            web.post("/crm/bulk/v8/read", create),
            web.get("/crm/bulk/v8/read/{job}", status),
            web.get("/crm/bulk/v8/read/{job}/result", download),
            web.get("/crm/bulk/v8/read/{job}/moved", moved),
            web.get("/restapi/v2/bulk/workspaces/{ws}/data", an_create),
            web.get("/restapi/v2/bulk/workspaces/{ws}/exportjobs/{job}", an_status),
            web.get("/restapi/v2/bulk/workspaces/{ws}/exportjobs/{job}/data", an_download),
        ]
    )
    return application


_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<response><result><rows>'
    + b'<row><column name="Region">North</column></row>' * 50
    + b"</rows></result></response>\n"
)
_XLS = xls_workbook(["Region", "Amount"], [["North", "1"]] * 300, "Sales")
_PDF = b"".join(pdf_chunks(["Region"], [["North"]] * 100, "Sales"))
# The Analytics document cases: the job's format is named after the case (an_<format>_...).
DOCUMENTS = {
    "an_xml_good": _XML,
    "an_xml_cut": _XML[: len(_XML) // 2],
    "an_xml_entities": (  # "billion laughs", three levels of it
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b"<r>&c;&c;&c;</r>"
    ),
    "an_xls_good": _XLS,
    "an_xls_cut": _XLS[: len(_XLS) - 1024],  # two sectors short: still whole sectors
    "an_xls_garbage": bytes(range(256)) * 8,
    "an_pdf_cut": _PDF[: len(_PDF) - 40],
    "an_html_no_table": b"<html><body><p>Your session has expired</p></body></html>",
}


async def _endless_workbook(request: web.Request) -> web.StreamResponse:
    """A compound-file header, then sectors that never end."""
    response = web.StreamResponse(headers={"Content-Type": "application/vnd.ms-excel"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    await response.write(_XLS[:512])
    chunk = b"\0" * (1 << 20)
    while True:
        await response.write(chunk)


async def _endless_json(request: web.Request) -> web.StreamResponse:
    """A JSON reply that would be 500 MB, sent as fast as the client reads it."""
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.content_length = 500 * 1024 * 1024
    await response.prepare(request)
    await response.write(b'{"data": [')
    chunk = b'{"state": "COMPLETED"},' * 40_000
    sent = 0
    while sent < 500 * 1024 * 1024 - len(chunk):
        await response.write(chunk)
        sent += len(chunk)
    return response


async def _endless_csv(request: web.Request) -> web.StreamResponse:
    """A CSV download that never ends (chunked, no length), sent as fast as it is read."""
    response = web.StreamResponse(headers={"Content-Type": "text/csv"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    await response.write(b"Region,Amount\n")
    chunk = b"North,1\n" * 131_072
    while True:
        await response.write(chunk)


async def _trickle(request: web.Request, body: str) -> web.StreamResponse:
    """One byte every 0.2 s: alive, but never done in any useful time."""
    data = body.encode()
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.content_length = len(data)
    await response.prepare(request)
    for byte in data:
        await response.write(bytes([byte]))
        await asyncio.sleep(0.2)
    return response
