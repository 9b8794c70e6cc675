"""No secret in anything zsync prints or writes.

A job file takes a distinctive value from the environment for every field it can (auth,
base URL, organisations, workspace, owner, app, modules, reports, views, tables, criteria,
SQL, an output path, a description); the emulator accepts the real ones, so some jobs
succeed and others fail with Zoho's errors (which quote what they refuse). Then `zsync`
validates, plans, runs (text and JSON, twice, and once more on the embedded emulator) and
reports status; every byte printed and every file written under the project directory
(manifests, state.db with its WAL, outputs) is searched for every value and for each access
token the emulator issued: none may be there.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from zsync import redact
from zsync.emulator import EmulatorConfig, running_emulator
from zsync.emulator.emulator import Emulator
from zsync.manifest import read_latest

AUTH = {
    "SENT_CLIENT_ID": "1000.SentinelClientIdQ7x",
    "SENT_CLIENT_SECRET": "SentinelClientSecretK9v",
    "SENT_REFRESH_TOKEN": "1000.SentinelRefreshTokenW3m",
}
# Values the jobs send that match nothing, or name what doesn't exist.
JOB_VALUES = {
    "SENT_CRM_CRITERIA": "SentinelCriteriaValueB4n",
    "SENT_BIGIN_CRITERIA": "SentinelBiginCriteriaP2d",
    "SENT_CREATOR_CRITERIA": 'Status == "SentinelCreatorCriteriaT5g"',
    "SENT_SQL_VALUE": "SentinelSqlValueH8j",
    "SENT_TABLE": "SentinelTableR6k",
    "SENT_OUTPUT_DIR": "SentinelOutputDirZ1c",
    "SENT_DESCRIPTION": "SentinelDescriptionY2u",
    "SENT_BAD_MODULE": "SentinelModuleF3w",
    "SENT_BAD_VIEW": "SentinelViewL8q",
    "SENT_BAD_REPORT": "SentinelReportM4e",
    "SENT_BAD_IMPORT_MODULE": "SentinelImportModuleN5r",
    "SENT_BAD_FIELD": "SentinelFieldS9t",
}
URL_PASSWORD = "SentinelUrlPasswordG6h"

JOBS = """\
version: 1
connections:
  crm:
    product: crm
    org_id: "${SENT_CRM_ORG}"
    base_url: "${SENT_BASE_URL}"
    auth: &auth
      client_id: "${SENT_CLIENT_ID}"
      client_secret: "${SENT_CLIENT_SECRET}"
      refresh_token: "${SENT_REFRESH_TOKEN}"
  bigin:
    product: bigin
    org_id: "${SENT_BIGIN_ORG}"
    base_url: "${SENT_BASE_URL}"
    auth: *auth
  creator:
    product: creator
    owner: "${SENT_CREATOR_OWNER}"
    app: "${SENT_CREATOR_APP}"
    base_url: "${SENT_BASE_URL}"
    auth: *auth
  analytics:
    product: analytics
    org_id: "${SENT_ANALYTICS_ORG}"
    workspace: "${SENT_WORKSPACE}"
    base_url: "${SENT_BASE_URL}"
    auth: *auth
defaults:
  poll: {first: 5ms, max: 40ms, timeout: 60s}
  retry: {attempts: 2, backoff: 5ms}
  output_dir: out
jobs:
  leads:
    description: "${SENT_DESCRIPTION}"
    export:
      from: crm
      module: Leads
      fields: [Last_Name, Email]
      criteria: {api_name: Last_Name, comparator: equal, value: "${SENT_CRM_CRITERIA}"}
    output: "${SENT_OUTPUT_DIR}/leads.csv"
  bigin_contacts:
    export:
      from: bigin
      module: Contacts
      criteria: {api_name: Last_Name, comparator: equal, value: "${SENT_BIGIN_CRITERIA}"}
    output: bigin.csv
  orders:
    export: {from: creator, report: All_Orders, criteria: "${SENT_CREATOR_CRITERIA}"}
    output: orders.csv
  sales:
    export:
      from: analytics
      sql: "SELECT Region, Amount FROM Sales WHERE Region = '${SENT_SQL_VALUE}'"
    output: sales.csv
  sales_in:
    import: {to: analytics, table: "${SENT_TABLE}", file: in.csv, create_table: true}
  bad_module:
    export: {from: crm, module: "${SENT_BAD_MODULE}"}
    output: bad_module.csv
  bad_field:
    export: {from: crm, module: Leads, fields: ["${SENT_BAD_FIELD}"]}
    output: bad_field.csv
  bad_view:
    export: {from: analytics, view: "${SENT_BAD_VIEW}"}
    output: bad_view.csv
  bad_report:
    export: {from: creator, report: "${SENT_BAD_REPORT}"}
    output: bad_report.csv
  bad_import:
    needs: [leads]
    import: {to: crm, module: "${SENT_BAD_IMPORT_MODULE}", file: in.csv}
"""

# Planned only (a run can't send a token and a password both): the URL's userinfo goes.
WITH_USERINFO = f"""\
version: 1
connections:
  crm:
    product: crm
    org_id: "1234567"
    base_url: "https://sentinel:{URL_PASSWORD}@zoho.example"
    auth: {{client_id: a1234, client_secret: b1234, refresh_token: c1234}}
jobs:
  leads:
    export: {{from: crm, module: Leads}}
    output: leads.csv
"""


async def zsync(*args: str, cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "zsync",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    printed = f"$ zsync {' '.join(args)}\n{stdout.decode()}\n{stderr.decode()}"
    assert "Traceback" not in printed, printed
    return process.returncode, printed


def connection_values(emulator: Emulator, base_url: str) -> dict[str, str]:
    demo = emulator.demo(base_url)
    return {
        "SENT_BASE_URL": base_url,
        "SENT_CRM_ORG": demo["crm_org_id"],
        "SENT_BIGIN_ORG": demo["bigin_org_id"],
        "SENT_ANALYTICS_ORG": demo["analytics_org_id"],
        "SENT_WORKSPACE": demo["analytics_workspace_id"],
        "SENT_CREATOR_OWNER": demo["creator_owner"],
        "SENT_CREATOR_APP": demo["creator_app"],
    }


def found_in(secrets: set[str], name: str, data: bytes) -> list[str]:
    return [f"{name}: {secret!r}" for secret in sorted(secrets) if secret.encode() in data]


async def test_no_secret_is_printed_or_written(tmp_path: Path) -> None:
    config = EmulatorConfig(
        time_scale=600.0,
        client_id=AUTH["SENT_CLIENT_ID"],
        client_secret=AUTH["SENT_CLIENT_SECRET"],
        refresh_token=AUTH["SENT_REFRESH_TOKEN"],
    )
    async with running_emulator(config) as running:
        values = {**AUTH, **JOB_VALUES, **connection_values(running.emulator, running.base_url)}
        env = {**os.environ, **values}
        (tmp_path / "jobs.yaml").write_text(JOBS)
        (tmp_path / "out").mkdir()
        (tmp_path / "out/in.csv").write_text("Last_Name,Email\nBoyle,b@example.com\n")
        (tmp_path / "userinfo.yaml").write_text(WITH_USERINFO)
        printed: list[str] = []
        for args in (
            ("validate", "jobs.yaml"),
            ("validate", "jobs.yaml", "--strict", "--output", "json"),
            ("plan", "jobs.yaml"),
            ("plan", "jobs.yaml", "--output", "json"),
            ("plan", "userinfo.yaml"),
            ("plan", "userinfo.yaml", "--output", "json"),
            ("run", "jobs.yaml"),
            # Again: the import that landed is refused by name (its table's) this time.
            ("run", "jobs.yaml", "--output", "json"),
            ("run", "jobs.yaml", "--emulator", "--state-dir", "embedded"),
            ("status",),
            ("status", "--output", "json"),
            ("status", "--state-dir", "embedded"),
            ("runs",),
            ("runs", "--output", "json"),
        ):
            code, text = await zsync(*args, cwd=tmp_path, env=env)
            assert code in (0, 1), text
            printed.append(text)
        tokens = set(running.emulator.tokens.tokens)

    assert len(tokens) >= 1
    secrets = {value for value in values.values()} | tokens | {URL_PASSWORD}
    leaks = found_in(secrets, "printed", "\n".join(printed).encode())
    written = [p for p in tmp_path.rglob("*") if p.is_file() and not p.name.endswith(".yaml")]
    assert any(p.name == "state.db-wal" or p.name == "state.db" for p in written)
    for path in written:
        leaks += found_in(secrets, str(path.relative_to(tmp_path)), path.read_bytes())
    assert not leaks, "\n".join(leaks)

    # The runs did what they should: masking hid the values, not the work. The second run
    # found the import by its (hashed) target, so refused to send it twice.
    manifest_path = read_latest(tmp_path / ".zsync")
    assert manifest_path is not None
    jobs = json.loads(manifest_path.read_text())["jobs"]
    for name in ("leads", "bigin_contacts", "orders", "sales"):
        assert jobs[name]["status"] == "succeeded", jobs[name]
    for name in ("bad_module", "bad_field", "bad_view", "bad_report", "bad_import"):
        assert jobs[name]["status"] == "failed", jobs[name]
    assert jobs["sales_in"]["status"] == "skipped"
    assert "already imported" in jobs["sales_in"]["reason"]
    assert "view named '***'" in jobs["bad_view"]["error"]["message"]
    assert jobs["leads"]["output"]["path"].endswith(f"/out/{redact.MASK}/leads.csv")
    assert (tmp_path / "out" / JOB_VALUES["SENT_OUTPUT_DIR"] / "leads.csv").is_file()
    assert "https://***@zoho.example" in printed[4]


async def test_resume_finds_an_output_whose_recorded_path_was_masked(tmp_path: Path) -> None:
    async with running_emulator(EmulatorConfig(time_scale=600.0)) as running:
        demo = running.emulator.demo(running.base_url)
        (tmp_path / "jobs.yaml").write_text(f"""\
version: 1
connections:
  crm:
    product: crm
    base_url: {running.base_url}
    auth:
      client_id: {demo["client_id"]}
      client_secret: {demo["client_secret"]}
      refresh_token: {demo["refresh_token"]}
defaults: {{poll: {{first: 5ms, max: 40ms}}, retry: {{attempts: 1}}}}
jobs:
  leads:
    export: {{from: crm, module: Leads, fields: [Last_Name]}}
    output: "${{SENT_OUTPUT_DIR}}/leads.csv"
  broken:
    export: {{from: crm, module: "${{SENT_BAD_MODULE}}"}}
    output: broken.csv
""")
        env = {**os.environ, **JOB_VALUES}
        code, first = await zsync("run", "jobs.yaml", cwd=tmp_path, env=env)
        assert code == 1, first
        code, again = await zsync("run", "jobs.yaml", "--resume", cwd=tmp_path, env=env)
    assert code == 1, again
    assert "1 job(s) done and verified, 1 to run" in again
    assert "leads: started" not in again
