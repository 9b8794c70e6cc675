"""Limits, retries, token refresh, expiry, failures: the engine against a misbehaving Zoho."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
import yaml

from zsync.emulator import EmulatorConfig, FaultConfig
from zsync.errors import ConfigError, GarbageReply
from zsync.http.hosts import resolve
from zsync.http.session import ZohoSession
from zsync.scheduler import RunOptions
from zsync.sinks.spool import Spool
from zsync.spec import load_spec

from .conftest import TIME_SCALE

LEADS = """\
leads:
  export: {from: crm, module: Leads, fields: [Last_Name, Email]}
  output: leads.csv
"""


async def test_twenty_analytics_exports_never_exceed_five_at_once(start, tmp_path) -> None:
    # Slower emulated time: each export spends ~0.1 s real in every waiting state, so the
    # jobs overlap and the slot is really contended.
    zoho = await start(EmulatorConfig(time_scale=30.0), tmp=tmp_path)
    jobs = "".join(
        f's{i}:\n  export: {{from: analytics, sql: "SELECT Region FROM Sales"}}\n'
        f"  output: s{i}.csv\n"
        for i in range(20)
    )
    run = await zoho.run(jobs)
    assert run.code == 0, run.log
    assert zoho.emulator.creates("analytics.export") == 20
    assert zoho.emulator.peak_jobs("analytics.export") == 5


async def test_lowered_limit_is_honoured(start, tmp_path) -> None:
    zoho = await start(EmulatorConfig(time_scale=30.0), tmp=tmp_path)
    jobs = "".join(
        f"s{i}:\n  export: {{from: analytics, view: Sales}}\n  output: s{i}.csv\n" for i in range(6)
    )
    path = zoho.spec(jobs)
    data = yaml.safe_load(path.read_text())
    data["connections"]["analytics"]["limits"] = {"exports": 2}
    path.write_text(yaml.safe_dump(data))
    run = await zoho.run_file(path)
    assert run.code == 0, run.log
    assert zoho.emulator.peak_jobs("analytics.export") == 2


async def test_token_expiry_mid_run_refreshes_and_goes_on(start, tmp_path) -> None:
    # Tokens live 30 emulated seconds = 50 ms real: several expire during the run.
    zoho = await start(
        EmulatorConfig(time_scale=TIME_SCALE, token_lifetime=30.0, page_size=20), tmp=tmp_path
    )
    run = await zoho.run(LEADS)
    assert run.code == 0, run.log
    assert zoho.emulator.request_count("oauth.token") > 1
    assert (run.out / "leads.csv").read_bytes() == zoho.emulator.ground_truth.crm_records(
        "Leads", ["Last_Name", "Email"]
    )


async def test_5xx_reset_and_429_are_retried(zoho) -> None:
    faults = zoho.emulator.faults
    faults.fail_next("crm.bulk_read.create", n=2)
    faults.throttle_next("crm.bulk_read.status", n=2, retry_after=0.01)
    faults.reset_next("crm.bulk_read.result", n=1)
    run = await zoho.run(LEADS)
    assert run.code == 0, run.log
    injected = {kind for _, kind in faults.injected}
    assert {"error", "throttle", "reset"} <= injected
    assert (run.out / "leads.csv").read_bytes() == zoho.emulator.ground_truth.crm_records(
        "Leads", ["Last_Name", "Email"]
    )


async def test_crm_http_400_throttle_is_retried(zoho) -> None:
    zoho.emulator.faults.crm_throttle_next("crm.bulk_read.create", n=2)
    run = await zoho.run(LEADS)
    assert run.code == 0, run.log
    assert ("crm.bulk_read.create", "crm_throttle") in zoho.emulator.faults.injected


async def test_retries_run_out_into_a_transient_failure(zoho) -> None:
    zoho.emulator.faults.fail_next("crm.bulk_read.status", n=10)
    run = await zoho.run(LEADS)
    assert run.code == 1
    job = run.job("leads")
    assert job["status"] == "failed"
    assert job["error"]["class"] == "transient"
    assert not (run.out / "leads.csv").exists()


async def test_expired_result_is_exported_again_once(start, tmp_path) -> None:
    # Results live 150 emulated seconds (0.25 s real here); a download held up 0.6 s finds
    # its result gone, the re-export is fetched in time.
    zoho = await start(
        EmulatorConfig(time_scale=TIME_SCALE, analytics_result_lifetime=150.0), tmp=tmp_path
    )
    zoho.emulator.faults.slow_next("analytics.export.result", n=1, delay=0.6)
    run = await zoho.run("""\
        sales:
          export: {from: analytics, view: Sales}
          output: sales.csv
        """)
    assert run.code == 0, run.log
    job = run.job("sales")
    assert job["re_exported"] is True
    assert len(job["remote_jobs"]) == 2
    assert zoho.emulator.creates("analytics.export") == 2
    assert (run.out / "sales.csv").read_bytes() == zoho.emulator.ground_truth.analytics_view(
        "Sales"
    )


async def test_failed_job_skips_its_dependents(zoho) -> None:
    zoho.emulator.faults.fail_next_jobs("crm.read", n=1)
    run = await zoho.run(
        LEADS
        + """\
after_leads:
  needs: [leads]
  export: {from: analytics, view: Sales}
  output: sales.csv
independent:
  export: {from: analytics, view: Sales}
  output: sales2.csv
"""
    )
    assert run.code == 1
    assert run.job("leads")["status"] == "failed"
    assert run.job("leads")["error"]["class"] == "remote"
    assert run.job("after_leads")["status"] == "skipped"
    assert run.job("after_leads")["reason"] == "needs leads, which failed"
    assert run.job("independent")["status"] == "succeeded"


async def test_fail_fast_starts_nothing_after_a_failure(zoho) -> None:
    zoho.emulator.faults.fail_next_jobs("crm.read", n=1)
    run = await zoho.run(
        LEADS
        + """\
later:
  needs: [other]
  export: {from: analytics, view: Sales}
  output: later.csv
other:
  export: {from: crm, module: Deals}
  output: deals.csv
""",
        options=RunOptions(fail_fast=True, max_parallel=1),
    )
    assert run.code == 1
    assert run.job("later")["status"] == "skipped"


async def test_download_dying_midway_leaves_no_output(zoho) -> None:
    good = zoho.tmp / "out/leads.csv"
    good.parent.mkdir(parents=True)
    good.write_bytes(b"an earlier good file\n")
    zoho.emulator.faults.reset_next("crm.bulk_read.result", n=10)
    run = await zoho.run(LEADS)
    assert run.code == 1
    assert run.job("leads")["error"]["class"] == "transient"
    assert good.read_bytes() == b"an earlier good file\n"
    assert sorted(p.name for p in good.parent.iterdir()) == ["leads.csv"]


@pytest.mark.parametrize("fault", ["corrupt", "truncate"])
@pytest.mark.parametrize(
    "endpoint", ["crm.bulk_read.result", "analytics.export.result", "creator.bulk_read.result"]
)
async def test_a_bad_download_is_fetched_again(zoho, fault: str, endpoint: str) -> None:
    jobs = {
        "crm": LEADS,
        "analytics": "sales:\n  export: {from: analytics, view: Sales}\n  output: sales.csv\n",
        "creator": "orders:\n  export: {from: creator, report: All_Orders}\n  output: orders.csv\n",
    }[endpoint.split(".")[0]]
    getattr(zoho.emulator.faults, f"{fault}_next")(endpoint, n=1)
    run = await zoho.run(jobs)
    assert run.code == 0, run.log
    # Fetched again after failing its checks; Analytics (neither a ZIP nor a count) is read
    # twice anyway, and a third time because the second read didn't match the first.
    reads = 3 if endpoint.startswith("analytics") else 2
    assert zoho.emulator.request_count(endpoint) == reads
    (name,) = run.manifest["jobs"]
    output = run.out / run.manifest["jobs"][name]["output"]["path"].rsplit("/", 1)[-1]
    truth = zoho.emulator.ground_truth
    expected = {
        "crm": lambda: truth.crm_records("Leads", ["Last_Name", "Email"]),
        "analytics": lambda: truth.analytics_view("Sales"),
        "creator": lambda: truth.creator_report("All_Orders"),
    }[endpoint.split(".")[0]]()
    assert output.read_bytes() == expected


async def test_a_download_bad_every_time_fails_cleanly(zoho) -> None:
    good = zoho.tmp / "out/leads.csv"
    good.parent.mkdir(parents=True)
    good.write_bytes(b"an earlier good file\n")
    zoho.emulator.faults.corrupt_next("crm.bulk_read.result", n=100)
    run = await zoho.run(LEADS)
    assert run.code == 1
    error = run.job("leads")["error"]
    assert "corrupt" in error["message"]
    assert (error["class"], error["code"]) == ("remote", "BAD_RESULT")
    assert good.read_bytes() == b"an earlier good file\n"
    assert sorted(p.name for p in good.parent.iterdir()) == ["leads.csv"]


async def test_bad_credentials_are_a_config_error(zoho) -> None:
    run = await zoho.run(LEADS, client_secret="wrong")
    assert run.code == 1
    error = run.job("leads")["error"]
    assert error["class"] == "config"
    assert "wrong" not in error["message"]


async def test_no_secret_reaches_anything_written(zoho) -> None:
    demo = zoho.emulator.demo()
    run = await zoho.run(
        LEADS
        + """\
broken:
  export: {from: crm, module: NoSuchModule}
  output: broken.csv
"""
    )
    secrets = [demo["client_secret"], demo["refresh_token"]]
    written = [p for p in zoho.tmp.rglob("*") if p.is_file() and p.name != "jobs.yaml"]
    assert written
    for path in written:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, path
    assert not any(secret in line for line in run.log for secret in secrets)


async def test_token_never_goes_to_a_foreign_host(zoho) -> None:
    spec = load_spec(zoho.spec(LEADS), {})
    connection = spec.connections["crm"]
    async with ZohoSession(connection, spec.jobs["leads"].retry) as session:
        with pytest.raises(ConfigError, match="refusing to send"):
            await session.request("GET", "https://evil.example.com/crm/v8/Leads")
        # A download URL comes from Zoho's reply: one pointing elsewhere is a bad reply.
        with pytest.raises(GarbageReply, match="refusing to fetch"):
            await session.download("https://evil.example.com/result.zip", Spool(zoho.tmp / "x"))
    assert zoho.emulator.request_count("oauth.token") == 0


@pytest.mark.parametrize(
    "url",
    [
        "{base}.evil.example.com/result.zip",  # the allowed host as a prefix of another
        "{base}@evil.example.com/result.zip",  # ... as user-info in front of another
        "{base}0/result.zip",  # ... with another port
        "//evil.example.com/result.zip",
    ],
)
async def test_token_never_goes_to_a_look_alike_host(zoho, url: str) -> None:
    spec = load_spec(zoho.spec(LEADS), {})
    connection = spec.connections["crm"]
    async with ZohoSession(connection, spec.jobs["leads"].retry) as session:
        target = url.format(base=connection.base_url)
        with pytest.raises(ConfigError, match="refusing to send"):
            await session.request("GET", target)
        with pytest.raises(GarbageReply, match="refusing to fetch"):
            await session.download(target, Spool(zoho.tmp / "x"))
    assert zoho.emulator.request_count("oauth.token") == 0


@pytest.mark.parametrize(
    "url",
    ["/crm/bulk/v8/read/1/result", "/a/./b", "/a/../b", "//evil.example.com/x", "x/y", "/a?b=/.c"],
)
def test_a_relative_download_url_resolves_as_urljoin_does(url: str) -> None:
    base = "https://www.zohoapis.com"
    assert resolve(base, url) == urljoin(base + "/", url)


async def test_seeded_fault_rates_are_survived(start, tmp_path) -> None:
    faults = FaultConfig(
        seed=7, error_rate=0.15, throttle_rate=0.1, crm_throttle_rate=0.1, retry_after=0.01
    )
    zoho = await start(EmulatorConfig(time_scale=TIME_SCALE, faults=faults), tmp=tmp_path)
    # Both jobs get 8 attempts: a quarter of CRM's requests fail here (errors and CRM's 400
    # throttle), and which request meets which seeded fault depends on how the two jobs'
    # requests interleave, so 4 attempts ran out now and then on a busy machine.
    run = await zoho.run(
        LEADS
        + """\
  retry: {attempts: 8, backoff: 5ms}
sales:
  export: {from: analytics, view: Sales}
  output: sales.csv
  retry: {attempts: 8, backoff: 5ms}
"""
    )
    assert run.code == 0, "\n".join(run.log)
    kinds = {kind for _, kind in zoho.emulator.faults.injected}
    assert kinds & {"error", "throttle", "crm_throttle"}


async def test_job_failure_rate_fails_jobs(start, tmp_path) -> None:
    faults = FaultConfig(job_failure_rate=1.0)
    zoho = await start(EmulatorConfig(time_scale=TIME_SCALE, faults=faults), tmp=tmp_path)
    run = await zoho.run(LEADS)
    assert run.code == 1
    assert run.job("leads")["error"]["code"] == "FAILED"


async def test_a_jobs_own_retry_settings_apply(zoho) -> None:
    zoho.emulator.faults.fail_next("analytics.export.create_view", n=1)
    run = await zoho.run("""\
        patient:
          export: {from: analytics, view: Sales}
          output: a.csv
        impatient:
          needs: [patient]
          export: {from: analytics, view: Sales}
          output: b.csv
          retry: {attempts: 1}
        """)
    assert run.job("patient")["status"] == "succeeded"
    assert run.code == 0, run.log
    zoho.emulator.faults.fail_next("analytics.export.create_view", n=1)
    run = await zoho.run("""\
        impatient:
          export: {from: analytics, view: Sales}
          output: b.csv
          retry: {attempts: 1}
        """)
    assert run.code == 1
    assert run.job("impatient")["error"]["class"] == "transient"


async def test_a_result_cut_short_by_the_server_fails_cleanly(zoho) -> None:
    # The server sends half the file with a matching Content-Length, every time: HTTP
    # can't tell; the CSV's last record, short of fields, does.
    zoho.emulator.faults.truncate_next("analytics.export.result", n=100)
    run = await zoho.run("""\
        sales:
          export: {from: analytics, view: Sales}
          output: sales.csv
        """)
    assert run.code == 1
    error = run.job("sales")["error"]
    assert "cut short" in error["message"]
    assert (error["class"], error["code"]) == ("remote", "BAD_RESULT")
    assert not (run.out / "sales.csv").exists()


async def test_an_analytics_result_cut_at_a_record_boundary_is_caught(zoho) -> None:
    # "Sales by Region" is 101 bytes: cut at the middle, it ends exactly after a record and
    # passes every check of its own. Only a second read, which differs, gives it away.
    expected = zoho.emulator.ground_truth.analytics_view("Sales by Region")
    assert expected[: len(expected) // 2].endswith(b"\r\n")
    zoho.emulator.faults.truncate_next("analytics.export.result", n=1)
    run = await zoho.run(
        'v:\n  export: {from: analytics, view: "Sales by Region"}\n  output: v.csv\n'
    )
    assert run.code == 0, run.log
    assert (run.out / "v.csv").read_bytes() == expected
    assert zoho.emulator.request_count("analytics.export.result") == 3


async def test_connections_that_sign_in_alike_share_one_token(zoho) -> None:
    run = await zoho.run("""\
        leads:
          export: {from: crm, module: Leads, fields: [Last_Name]}
          output: leads.csv
        deals:
          export: {from: bigin, module: Deals, fields: [Deal_Name]}
          output: deals.csv
        orders:
          export: {from: creator, report: All_Orders}
          output: orders.csv
        sales:
          export: {from: analytics, view: Sales}
          output: sales.csv
        """)
    assert run.code == 0, run.log
    # Four connections, one refresh token: one access token (Zoho issues 10 per 10 minutes).
    assert zoho.emulator.request_count("oauth.token") == 1


async def test_the_token_budget_is_waited_out_not_reported_as_bad_credentials(
    start, tmp_path
) -> None:
    # One token per emulated 10 minutes (one real second here): the second run must wait.
    zoho = await start(EmulatorConfig(time_scale=TIME_SCALE, token_budget=1), tmp=tmp_path)
    assert (await zoho.run(LEADS)).code == 0
    run = await zoho.run(LEADS)
    assert run.code == 0, run.log
    assert any("Zoho refuses new access tokens for now" in line for line in run.log)
    assert zoho.emulator.tokens.refused >= 1
