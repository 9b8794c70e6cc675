"""`zsync run --emulator` through the real console script: the README's main job."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from jsonschema import Draft202012Validator

from zsync.commands.run import EMULATOR_TIME_SCALE
from zsync.emulator import Emulator, EmulatorConfig, running_emulator
from zsync.resources import load_schema

REPO = Path(__file__).resolve().parent.parent
ZSYNC = str(Path(sys.executable).with_name("zsync"))


def test_example_runs_against_the_embedded_emulator(tmp_path) -> None:
    shutil.copy(REPO / "jobs.example.yaml", tmp_path / "jobs.yaml")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ZOHO_")}
    done = subprocess.run(
        [ZSYNC, "run", "jobs.yaml", "--emulator"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=environment,
    )
    assert done.returncode == 0, done.stderr
    # The emulator replaces every connection's credentials and ids: no warning about them.
    assert "is not set" not in done.stderr, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("manifest: ")
    manifest_path = Path(last.removeprefix("manifest: "))
    manifest = json.loads(manifest_path.read_text())
    Draft202012Validator(load_schema("manifest")).validate(manifest)
    assert manifest["outcome"] == "succeeded"

    truth = Emulator(EmulatorConfig(time_scale=EMULATOR_TIME_SCALE)).ground_truth
    out = tmp_path / "exports"
    assert (out / "crm/contacts.csv").read_bytes() == truth.crm_records(
        "Contacts",
        ["Last_Name", "Email", "Owner.last_name", "Account_Name.Account_Name"],
        {
            "group_operator": "or",
            "group": [
                {"api_name": "Owner.last_name", "comparator": "equal", "value": "Boyle"},
                {"api_name": "Account_Name.Phone", "comparator": "contains", "value": "5"},
            ],
        },
    )
    assert (out / "bigin/meetings.ics").read_bytes() == truth.bigin_bulk_read(
        "Events", file_type="ics"
    )
    assert (out / "creator/orders.csv").read_bytes() == truth.creator_report(
        "All_Orders", criteria='Status == "Open"'
    )
    assert (out / "analytics/sales_by_region.csv").read_bytes() == truth.analytics_sql(
        "SELECT Region, SUM(Amount) FROM Sales GROUP BY Region"
    )
    assert (out / "analytics/east_sales.xls").read_bytes() == truth.analytics_view(
        "Sales",
        "xls",
        {
            "criteria": '"Sales"."Region" = \'East\' and "Amount" >= 100',
            "selectedColumns": ["Date", "Product", "Amount"],
            "dateFormat": "dd-MMM-yyyy",
        },
    )
    for name, job in manifest["jobs"].items():
        assert job["status"] == "succeeded", name
        if job["direction"] == "export":
            assert Path(job["output"]["path"]).is_file()
    contacts = manifest["jobs"]["contacts_to_analytics"]["imported"]
    exported_rows = (out / "crm/contacts.csv").read_bytes().count(b"\n") - 1
    assert contacts["rows"] == contacts["rows_landed"] == contacts["added"] == exported_rows
    leads = manifest["jobs"]["bigin_contacts_to_crm_leads"]["imported"]
    results = (out / "crm/leads_from_bigin.results.csv").read_text().splitlines()
    assert leads["rows_landed"] == leads["rows"] == len(results) - 1 > 0
    assert all(",ADDED," in line or ",UPDATED," in line for line in results[1:])


def test_invalid_spec_exits_2_without_a_traceback(tmp_path) -> None:
    (tmp_path / "jobs.yaml").write_text("version: 1\njobs: {}\n")
    done = subprocess.run(
        [ZSYNC, "run", "jobs.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "missing required key 'connections'" in done.stderr


async def test_full_refresh_reaches_the_run(tmp_path) -> None:
    async with running_emulator(EmulatorConfig(time_scale=600.0)) as running:
        demo = running.emulator.demo(running.base_url)
        auth = {key: demo[key] for key in ("client_id", "client_secret", "refresh_token")}
        connection = {"product": "crm", "base_url": running.base_url, "auth": auth}
        job = {
            "export": {
                "from": "crm",
                "module": "Leads",
                "fields": ["Last_Name", "Modified_Time"],
                "incremental": {"field": "Modified_Time"},
            },
            "output": "leads.csv",
        }
        spec = {"version": 1, "connections": {"crm": connection}, "jobs": {"leads": job}}
        (tmp_path / "jobs.yaml").write_text(json.dumps(spec))

        async def rows(*extra: str) -> int:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "zsync",
                "run",
                "jobs.yaml",
                *extra,
                cwd=tmp_path,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            _, stderr = await process.communicate()
            assert process.returncode == 0, stderr.decode()
            lines = (tmp_path / "exports" / "leads.csv").read_text().splitlines()
            return len(lines) - 1

        everything = await rows()
        assert 0 < await rows() < everything
        assert await rows("--full-refresh") == everything
