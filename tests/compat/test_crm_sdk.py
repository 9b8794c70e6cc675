"""Zoho's official CRM SDK (zohocrmsdk8-0), unchanged, runs its bulk flows against the emulator.

Bulk read: create → status → download, with fields and criteria, and paging by
`next_page_token`. Bulk write: upload (through the SDK's file-upload host) → create → status →
download, then an update of what was inserted. Every file the SDK downloads is compared with
what the emulator holds.

Tokens: the SDK refreshes *ahead* of expiry. It turns `expires_in` into a wall-clock deadline
and refreshes within 5 s of it; it has no path that reacts to an `INVALID_TOKEN` reply
(zohocrmsdk8-0 7.0.0), which it hands to the caller as an APIException. The emulator states
`expires_in` in emulated seconds, so on a scaled clock the SDK would trust a token far longer
than it lives: the flows here give tokens a long life, and the expiry test runs on a
ManualClock with a lifetime the SDK reads correctly.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from .conftest import (
    CRM_SDK_MISSING,
    LONG_TOKEN_LIFETIME,
    TIME_SCALE,
    CrmInit,
    LiveEmulator,
    Starter,
    wait_for,
)

pytest.importorskip("zohocrmsdk", reason=CRM_SDK_MISSING)

from zohocrmsdk.src.com.zoho.crm.api import HeaderMap
from zohocrmsdk.src.com.zoho.crm.api import bulk_read as br
from zohocrmsdk.src.com.zoho.crm.api import bulk_write as bw
from zohocrmsdk.src.com.zoho.crm.api.modules import MinifiedModule
from zohocrmsdk.src.com.zoho.crm.api.util import APIResponse, Choice, StreamWrapper

from zsync.emulator import EmulatorConfig, ManualClock

FIELDS = ["Last_Name", "Email", "Lead_Status", "Annual_Revenue"]
CRITERIA: dict[str, Any] = {
    "group_operator": "or",
    "group": [
        {"api_name": "Lead_Status", "comparator": "equal", "value": "Contacted"},
        {"api_name": "Annual_Revenue", "comparator": "greater_than", "value": 9_000_000},
    ],
}


# -- helpers: the SDK's own calls, as its samples make them ---------------------------------
def expect(response: APIResponse | None, status: int, kind: type) -> Any:
    """The response's object, after checking it is `kind` (an APIException says why not)."""
    assert response is not None, "the SDK returned no response"
    body = response.get_object()
    if not isinstance(body, kind):
        code = getattr(body, "get_code", lambda: None)()
        detail = (getattr(code, "get_value", lambda: code)(), getattr(body, "get_message", str)())
        pytest.fail(f"expected {kind.__name__}, got {type(body).__name__} {detail}")
    assert response.get_status_code() == status
    return body


def module(name: str) -> MinifiedModule:
    value = MinifiedModule()
    value.set_api_name(name)
    return value


def sdk_criteria(spec: dict[str, Any]) -> br.Criteria:
    criteria = br.Criteria()
    if "group" in spec:
        criteria.set_group_operator(Choice(spec["group_operator"]))
        criteria.set_group([sdk_criteria(item) for item in spec["group"]])
    else:
        criteria.set_api_name(spec["api_name"])
        criteria.set_comparator(Choice(spec["comparator"]))
        criteria.set_value(spec["value"])
    return criteria


def create_read(
    name: str,
    fields: list[str],
    criteria: dict[str, Any] | None = None,
    page_token: str | None = None,
) -> int:
    query = br.Query()
    query.set_module(module(name))
    query.set_fields(fields)
    if criteria is not None:
        query.set_criteria(sdk_criteria(criteria))
    if page_token is not None:
        query.set_page_token(page_token)
    body = br.BodyWrapper()
    body.set_query(query)
    body.set_file_type("csv")
    wrapper = expect(br.BulkReadOperations().create_bulk_read_job(body), 201, br.ActionWrapper)
    [success] = wrapper.get_data()
    assert isinstance(success, br.SuccessResponse), success
    assert success.get_code().get_value() == "ADDED_SUCCESSFULLY"
    details = success.get_details()
    assert details["operation"] == "read" and details["state"].get_value() == "ADDED"
    return int(details["id"])  # the SDK's status and download calls take an int


def read_status(job_id: int) -> br.JobDetail:
    response = br.BulkReadOperations().get_bulk_read_job_details(job_id)
    [job] = expect(response, 200, br.ResponseWrapper).get_data()
    return job


def wait_completed(job_id: int) -> br.JobDetail:
    def completed() -> br.JobDetail | None:
        job = read_status(job_id)
        state = job.get_state().get_value()
        assert state in ("ADDED", "QUEUED", "IN PROGRESS", "COMPLETED"), state
        return job if state == "COMPLETED" else None

    return wait_for(completed, f"bulk read {job_id}")


def save(stream_wrapper: StreamWrapper, folder: Path) -> Path:
    """What the SDK's samples do with a download: stream it to a file of the given name."""
    path = folder / stream_wrapper.get_name()
    with path.open("wb") as out:
        for chunk in stream_wrapper.get_stream():
            out.write(chunk)
    return path


def unzip(path: Path) -> tuple[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        [member] = archive.namelist()
        return member, archive.read(member)


def download_read(job_id: int, folder: Path) -> tuple[str, bytes]:
    response = br.BulkReadOperations().download_result(job_id)
    wrapper = expect(response, 200, br.FileBodyWrapper)
    path = save(wrapper.get_file(), folder)
    assert path.name == f"{job_id}.zip"
    return unzip(path)


# -- bulk read ------------------------------------------------------------------------------
def test_bulk_read_create_status_download(live: LiveEmulator, crm_sdk: CrmInit, tmp_path):
    crm_sdk(live)
    job_id = create_read("Leads", FIELDS, CRITERIA)
    job = wait_completed(job_id)

    expected = live.inspect(lambda e: e.ground_truth.crm_bulk_read("Leads", FIELDS, CRITERIA))
    result = job.get_result()
    assert result.get_download_url() == f"/crm/bulk/v8/read/{job_id}/result"
    assert result.get_count() == expected.count(b"\r\n") - 1 > 0
    assert result.get_more_records() is False
    query = job.get_query()
    assert query.get_module().get_api_name() == "Leads" and query.get_fields() == FIELDS

    member, content = download_read(job_id, tmp_path)
    assert member == f"{job_id}.csv"
    assert content == expected
    reader = csv.DictReader(io.StringIO(content.decode()))
    rows = list(reader)
    assert reader.fieldnames == ["Id", *FIELDS]
    assert all(
        r["Lead_Status"] == "Contacted" or float(r["Annual_Revenue"]) > 9_000_000 for r in rows
    )


def test_bulk_read_pages_with_next_page_token(start_emulator: Starter, crm_sdk: CrmInit, tmp_path):
    live = start_emulator(
        EmulatorConfig(time_scale=TIME_SCALE, token_lifetime=LONG_TOKEN_LIFETIME, page_size=50)
    )
    crm_sdk(live)
    fields = ["Last_Name", "Email"]
    pages: list[bytes] = []
    token: str | None = None
    while True:
        job_id = create_read("Leads", fields, page_token=token)
        result = wait_completed(job_id).get_result()
        _, content = download_read(job_id, tmp_path)
        pages.append(content if not pages else content.partition(b"\r\n")[2])
        if not result.get_more_records():
            break
        token = result.get_next_page_token()
        assert token
    assert len(pages) == 3  # 120 Leads, 50 a page
    expected = live.inspect(lambda e: e.ground_truth.crm_records("Leads", fields))
    assert b"".join(pages) == expected


class CallbackSink:
    """A tiny HTTP server in a thread that keeps every JSON body POSTed to it."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/zoho/callback"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def callback_sink() -> Iterator[CallbackSink]:
    sink = CallbackSink()
    yield sink
    sink.close()


def test_bulk_read_ics_of_events_with_a_callback(
    live: LiveEmulator, crm_sdk: CrmInit, callback_sink: CallbackSink, tmp_path
):
    crm_sdk(live)
    query = br.Query()
    query.set_module(module("Events"))
    callback = br.CallBack()
    callback.set_url(callback_sink.url)
    callback.set_method(Choice("post"))
    body = br.BodyWrapper()
    body.set_query(query)
    body.set_file_type("ics")
    body.set_callback(callback)
    wrapper = expect(br.BulkReadOperations().create_bulk_read_job(body), 201, br.ActionWrapper)
    job_id = int(wrapper.get_data()[0].get_details()["id"])

    [posted] = wait_for(lambda: callback_sink.received, "the bulk read callback")
    assert (posted["job_id"], posted["state"]) == (str(job_id), "COMPLETED")
    job = read_status(job_id)
    assert job.get_file_type() == "ics"
    assert job.get_result().get_download_url() == posted["result"]["download_url"]
    member, content = download_read(job_id, tmp_path)
    assert member == f"{job_id}.ics"
    expected = live.inspect(lambda e: e.ground_truth.crm_bulk_read("Events", file_type="ics"))
    assert content == expected
    assert content.count(b"BEGIN:VEVENT") == job.get_result().get_count() > 0


# -- bulk write -----------------------------------------------------------------------------
NEW_LEADS = [
    ["Last_Name", "First_Name", "Company", "Email", "Annual_Revenue"],
    ["Okafor", "Ada", "Zylker Labs", "ada.okafor@example.com", "125000.50"],
    ["Lindqvist", "Erik", "Nordic Ltd", "erik.lindqvist@example.com", "98000"],
    ["", "Nameless", "Missing Co", "nobody@example.com", "1"],  # no Last_Name: skipped
]


def zipped_csv(rows: list[list[str]], folder: Path, name: str) -> Path:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    path = folder / f"{name}.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}.csv", text.getvalue())
    return path


def upload(path: Path, org: str) -> str:
    """BulkWriteOperations.upload_file: the SDK sends it to the environment's file_upload_url."""
    body = bw.FileBodyWrapper()
    body.set_file(StreamWrapper(file_path=str(path)))
    headers = HeaderMap()
    headers.add(bw.UploadFileHeader.feature, "bulk-write")
    headers.add(bw.UploadFileHeader.x_crm_org, org)
    success = expect(bw.BulkWriteOperations().upload_file(body, headers), 200, bw.SuccessResponse)
    assert success.get_code().get_value() == "FILE_UPLOAD_SUCCESS"
    return str(success.get_details()["file_id"])  # the SDK hands the id back as an int


def create_write(
    operation: str, file_id: str, columns: list[str], find_by: str | None = None
) -> str:
    resource = bw.Resource()
    resource.set_type(Choice("data"))
    resource.set_module(module("Leads"))
    resource.set_file_id(file_id)
    if find_by is not None:
        resource.set_find_by(find_by)
    mappings = []
    for index, name in enumerate(columns):
        mapping = bw.FieldMapping()
        mapping.set_api_name(name)
        mapping.set_index(index)
        mappings.append(mapping)
    resource.set_field_mappings(mappings)
    request = bw.RequestWrapper()
    request.set_operation(Choice(operation))
    request.set_character_encoding("UTF-8")
    request.set_resource([resource])
    response = bw.BulkWriteOperations().create_bulk_write_job(request)
    success = expect(response, 201, bw.SuccessResponse)
    assert success.get_code().get_value() == "SUCCESS"
    return str(success.get_details()["id"])


def wait_written(job_id: str) -> bw.BulkWriteResponse:
    def completed() -> bw.BulkWriteResponse | None:
        response = bw.BulkWriteOperations().get_bulk_write_job_details(job_id)
        job = expect(response, 200, bw.BulkWriteResponse)
        assert job.get_status() in ("ADDED", "IN PROGRESS", "COMPLETED"), job.get_status()
        return job if job.get_status() == "COMPLETED" else None

    return wait_for(completed, f"bulk write {job_id}")


def download_written(job: bw.BulkWriteResponse, folder: Path) -> list[dict[str, str]]:
    url = job.get_result().get_download_url()
    response = bw.BulkWriteOperations().download_bulk_write_result(url)
    path = save(expect(response, 200, bw.FileBodyWrapper).get_file(), folder)
    member, content = unzip(path)
    assert member == f"{job.get_id()}.csv"
    return list(csv.DictReader(io.StringIO(content.decode())))


def test_bulk_write_upload_create_status_download(live: LiveEmulator, crm_sdk: CrmInit, tmp_path):
    crm_sdk(live)
    demo = live.demo()
    before = live.inspect(lambda e: len(e.rows("crm", "Leads")))

    file_id = upload(zipped_csv(NEW_LEADS, tmp_path, "new_leads"), demo["crm_zgid"])
    assert live.count("crm.bulk_write.upload") == 1  # via the Environment's file_upload_url
    job_id = create_write("insert", file_id, NEW_LEADS[0])
    job = wait_written(job_id)

    assert job.get_operation() == "insert"
    [resource] = job.get_resource()
    assert resource.get_module().get_api_name() == "Leads"
    counts = resource.get_file()
    assert (counts.get_total_count(), counts.get_added_count(), counts.get_skipped_count()) == (
        3,
        2,
        1,
    )
    report = download_written(job, tmp_path)
    assert [r["STATUS"] for r in report] == ["ADDED", "ADDED", "SKIPPED"]
    assert "MANDATORY_NOT_FOUND" in report[2]["ERRORS"]

    rows = live.inspect(lambda e: e.rows("crm", "Leads"))
    assert len(rows) == before + 2
    stored = {row["id"]: row for row in rows}
    for line, sent in zip(report[:2], NEW_LEADS[1:3], strict=True):
        row = stored[line["RECORD_ID"]]
        assert [row["Last_Name"], row["First_Name"], row["Company"], row["Email"]] == sent[:4]
        assert row["Annual_Revenue"] == float(sent[4])

    # An update of the first record, found by the id the result file reported.
    ada = report[0]["RECORD_ID"]
    changes = [["id", "Company"], [ada, "Zylker Research"]]
    file_id = upload(zipped_csv(changes, tmp_path, "changes"), demo["crm_zgid"])
    job = wait_written(create_write("update", file_id, changes[0], find_by="id"))
    assert [r["STATUS"] for r in download_written(job, tmp_path)] == ["UPDATED"]
    rows = live.inspect(lambda e: e.rows("crm", "Leads"))
    assert len(rows) == before + 2
    assert next(r for r in rows if r["id"] == ada)["Company"] == "Zylker Research"


# -- tokens ---------------------------------------------------------------------------------
def test_refused_client_fails_initialisation_with_the_accounts_error(
    live: LiveEmulator, crm_sdk: CrmInit
):
    from zohocrmsdk.src.com.zoho.crm.api.exception import SDKException

    with pytest.raises(SDKException) as refused:
        crm_sdk(live, client_secret="not-the-secret")
    assert refused.value.code == "INVALID TOKEN ERROR"
    assert refused.value.error_message == "invalid_client"
    assert live.count("crm.*") == 0


def test_short_lived_tokens_are_refreshed_ahead_of_expiry(
    start_emulator: Starter, crm_sdk: CrmInit, tmp_path
):
    fields = ["Last_Name", "Email"]
    # Tokens live 4 s, inside the SDK's 5 s margin: it refreshes before every call.
    live = start_emulator(EmulatorConfig(token_lifetime=4.0), ManualClock())
    crm_sdk(live)
    job_id = create_read("Leads", fields)
    live.advance(3600)  # the job completes; every token issued so far is long dead
    assert read_status(job_id).get_state().get_value() == "COMPLETED"
    live.advance(3600)
    _, content = download_read(job_id, tmp_path)

    assert content == live.inspect(lambda e: e.ground_truth.crm_bulk_read("Leads", fields))
    assert 401 not in live.statuses()  # no call ever carried a dead token
    assert live.count("oauth.token") >= 1 + live.count("crm.bulk_read.*")


def test_invalid_token_reaches_the_caller_as_the_sdk_api_exception(
    live: LiveEmulator, crm_sdk: CrmInit
):
    crm_sdk(live)
    job_id = create_read("Leads", ["Last_Name"])
    live.inspect(lambda e: e.revoke_tokens())
    response = br.BulkReadOperations().get_bulk_read_job_details(job_id)
    error = expect(response, 401, br.APIException)
    assert error.get_code().get_value() == "INVALID_TOKEN"
    assert error.get_status().get_value() == "error"
    assert error.get_message() == "invalid oauth token"
