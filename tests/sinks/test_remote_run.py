"""`zsync run --emulator` with output_dir in S3 (moto): the README's example, unchanged but
for where its files go; failed jobs leave nothing at their keys."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from zsync.commands.run import EMULATOR_TIME_SCALE
from zsync.emulator import Emulator, EmulatorConfig

REPO = Path(__file__).resolve().parent.parent.parent
ZSYNC = str(Path(sys.executable).with_name("zsync"))
EXPORTS = {
    "crm_contacts": "crm/contacts.csv",
    "bigin_meetings": "bigin/meetings.ics",
    "creator_orders": "creator/orders.csv",
    "sales_by_region": "analytics/sales_by_region.csv",
    "east_sales_report": "analytics/east_sales.xls",
    "bigin_contacts": "bigin/contacts.csv",
}


def example_in(tmp_path: Path, output_dir: str) -> Path:
    text = (REPO / "jobs.example.yaml").read_text()
    assert "  output_dir: exports\n" in text
    (tmp_path / "jobs.yaml").write_text(
        text.replace("output_dir: exports", f"output_dir: {output_dir}")
    )
    return tmp_path / "jobs.yaml"


def run(tmp_path: Path, env: dict[str, str], *options: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("ZOHO_", "AWS_"))}
    return subprocess.run(
        [ZSYNC, "run", "jobs.yaml", "--emulator", *options],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={**environment, **env},
    )


def manifest_of(done: subprocess.CompletedProcess[str]) -> dict:
    last = done.stdout.strip().splitlines()[-1]
    return json.loads(Path(last.removeprefix("manifest: ")).read_text())


def test_the_example_exports_to_s3_byte_for_byte_and_imports_read_from_it(s3, tmp_path) -> None:
    example_in(tmp_path, f"s3://{s3.bucket}/exports")
    done = run(tmp_path, s3.env)
    assert done.returncode == 0, done.stderr
    manifest = manifest_of(done)
    assert manifest["outcome"] == "succeeded"

    truth = Emulator(EmulatorConfig(time_scale=EMULATOR_TIME_SCALE)).ground_truth
    expected = {
        "crm/contacts.csv": truth.crm_records(
            "Contacts",
            ["Last_Name", "Email", "Owner.last_name", "Account_Name.Account_Name"],
            {
                "group_operator": "or",
                "group": [
                    {"api_name": "Owner.last_name", "comparator": "equal", "value": "Boyle"},
                    {"api_name": "Account_Name.Phone", "comparator": "contains", "value": "5"},
                ],
            },
        ),
        "bigin/meetings.ics": truth.bigin_bulk_read("Events", file_type="ics"),
        "creator/orders.csv": truth.creator_report("All_Orders", criteria='Status == "Open"'),
        "analytics/sales_by_region.csv": truth.analytics_sql(
            "SELECT Region, SUM(Amount) FROM Sales GROUP BY Region"
        ),
        "analytics/east_sales.xls": truth.analytics_view(
            "Sales",
            "xls",
            {
                "criteria": '"Sales"."Region" = \'East\' and "Amount" >= 100',
                "selectedColumns": ["Date", "Product", "Amount"],
                "dateFormat": "dd-MMM-yyyy",
            },
        ),
    }
    for relative, body in expected.items():
        assert s3.read(f"exports/{relative}") == body, relative
    for name, relative in EXPORTS.items():
        output = manifest["jobs"][name]["output"]
        assert output["path"] == f"s3://{s3.bucket}/exports/{relative}"
        assert output["bytes"] == len(s3.read(f"exports/{relative}"))
    contacts = manifest["jobs"]["contacts_to_analytics"]["imported"]
    assert contacts["file"] == f"s3://{s3.bucket}/exports/crm/contacts.csv"
    exported_rows = expected["crm/contacts.csv"].count(b"\n") - 1
    assert contacts["rows"] == contacts["rows_landed"] == exported_rows
    results = s3.read("exports/crm/leads_from_bigin.results.csv").decode().splitlines()
    assert manifest["jobs"]["bigin_contacts_to_crm_leads"]["imported"]["rows_landed"] == (
        len(results) - 1
    )
    # Nothing of the run's own stays behind: scratch is emptied, no upload left open.
    assert not list((tmp_path / ".zsync" / "runs").glob("*/tmp/*"))
    assert s3.unfinished_uploads() == []
    assert "testing" not in json.dumps(manifest)


def test_failed_jobs_leave_no_object_at_their_keys(s3, tmp_path) -> None:
    example_in(tmp_path, f"s3://{s3.bucket}/exports")
    s3.client.put_object(Bucket=s3.bucket, Key="exports/crm/contacts.csv", Body=b"earlier")
    for options in (["--job-failure-rate", "1"], ["--corrupt-rate", "1"]):
        done = run(tmp_path, s3.env, *options)
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
        jobs = manifest_of(done)["jobs"]
        failed = [name for name in EXPORTS if jobs[name]["status"] == "failed"]
        assert "crm_contacts" in failed, options
        for name in failed:  # (a corrupt binary XLS may pass every check: not this test's)
            key = f"exports/{EXPORTS[name]}"
            assert key not in s3.object_keys() or key == "exports/crm/contacts.csv", (options, name)
        assert s3.read("exports/crm/contacts.csv") == b"earlier"
        assert s3.unfinished_uploads() == []


def test_an_unreachable_endpoint_fails_the_jobs_with_a_clear_message(tmp_path) -> None:
    example_in(tmp_path, "s3://bucket/exports")
    env = {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1",
    }
    done = run(tmp_path, env, "--select", "sales_by_region")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    # Said before Zoho does any work: no run was even recorded.
    assert "output_dir s3://bucket/exports can't be used: reaching s3://bucket/exports" in (
        done.stderr
    )
    assert "no Zoho job was started" in done.stderr
    assert "127.0.0.1:9" in done.stderr
    assert "testing" not in done.stdout + done.stderr
    assert not list((tmp_path / ".zsync").glob("runs/*/manifest.json"))


def test_a_missing_bucket_is_said_before_any_zoho_job_starts(s3, tmp_path) -> None:
    example_in(tmp_path, f"s3://{s3.bucket}-missing/exports")
    done = run(tmp_path, s3.env, "--output", "json")
    assert done.returncode == 1, done.stderr
    envelope = json.loads(done.stdout)
    assert envelope["error"]["kind"] == "storage"
    assert envelope["error"]["message"] == (
        f"output_dir s3://{s3.bucket}-missing/exports can't be used: reaching "
        f"s3://{s3.bucket}-missing/exports: FileNotFoundError: Not Found; no Zoho job was started"
    )
    assert not list((tmp_path / ".zsync").glob("runs/*/manifest.json"))


def test_a_page_directory_written_as_a_url_lands_below_the_prefix(s3, tmp_path) -> None:
    spec = example_in(tmp_path, f"s3://{s3.bucket}/exports")
    url = f"s3://{s3.bucket}/exports/bigin/meetings/"
    spec.write_text(spec.read_text().replace("output: bigin/meetings.ics", f"output: {url}"))
    done = run(tmp_path, s3.env, "--select", "bigin_meetings")
    assert done.returncode == 0, done.stderr
    output = manifest_of(done)["jobs"]["bigin_meetings"]["output"]
    assert output["path"] == url.rstrip("/")
    pages = [key for key in s3.object_keys() if key.startswith("exports/bigin/meetings/")]
    assert pages == [f"exports/bigin/meetings/page-{n:04d}.ics" for n in range(1, len(pages) + 1)]
    assert len(pages) == output["pages"] >= 1


def test_an_import_reads_its_file_from_an_import_root_in_a_bucket(s3, tmp_path) -> None:
    spec = example_in(tmp_path, "exports")
    url = f"s3://{s3.bucket}/incoming/contacts.csv"
    text = spec.read_text().replace("file: crm/contacts.csv", f"file: {url}")
    spec.write_text(
        text.replace(
            "  output_dir: exports\n",
            f"  output_dir: exports\n  import_roots: [s3://{s3.bucket}/incoming]\n",
        )
    )
    body = b"Last_Name,Email\r\n" + b"".join(
        b"Name%d,n%d@example.com\r\n" % (n, n) for n in range(25)
    )
    s3.client.put_object(Bucket=s3.bucket, Key="incoming/contacts.csv", Body=body)
    done = run(tmp_path, s3.env, "--select", "contacts_to_analytics")
    assert done.returncode == 0, done.stderr
    imported = manifest_of(done)["jobs"]["contacts_to_analytics"]["imported"]
    assert imported["file"] == url
    assert imported["rows"] == imported["rows_landed"] == 25
    assert imported["sha256"] == hashlib.sha256(body).hexdigest()
    assert not list((tmp_path / ".zsync" / "runs").glob("*/tmp/*"))
