"""Waves, selection and slots, from a job file, without the network."""

from __future__ import annotations

import socket

import pytest

from zsync.commands.plan import as_json
from zsync.errors import UsageError
from zsync.plan import build_plan
from zsync.spec import load_spec

SPEC = """\
version: 1
connections:
  crm: &crm
    product: crm
    org_id: "1"
    auth: {client_id: a, client_secret: b, refresh_token: c}
  crm_again:
    <<: *crm
    limits: {exports: 2}
  an:
    product: analytics
    org_id: "2"
    workspace: "3"
    auth: {client_id: a, client_secret: b, refresh_token: c}
jobs:
  leads:
    tags: [crm]
    export: {from: crm, module: Leads}
    output: leads.csv
  deals:
    tags: [crm]
    export: {from: crm_again, module: Deals}
    output: deals.csv
  sales:
    export: {from: an, view: Sales}
    output: sales.csv
  leads_in:
    needs: [leads]
    import: {to: an, table: Leads, file: leads.csv}
  both_in:
    needs: [leads_in, deals]
    import: {to: an, table: Deals, file: deals.csv}
  old:
    enabled: false
    export: {from: crm, module: Calls}
    output: calls.csv
"""


@pytest.fixture
def spec(write_spec):
    return load_spec(write_spec(SPEC), {})


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Planning must not touch the network: any socket is a failure."""

    def refuse(*args, **kwargs):
        raise AssertionError("plan opened a socket")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_waves_follow_needs(spec) -> None:
    plan = build_plan(spec)
    assert plan.waves == [["leads", "deals", "sales"], ["leads_in"], ["both_in"]]
    assert plan.left_out == {"old": "disabled"}
    assert plan.jobs["both_in"].needs == ("leads_in", "deals")


def test_connections_of_one_organisation_share_a_slot_with_the_lowest_cap(spec) -> None:
    plan = build_plan(spec)
    crm_slot = plan.jobs["leads"].slot
    assert plan.jobs["deals"].slot == crm_slot
    assert plan.slots[crm_slot].cap == 2
    assert plan.slots[crm_slot].jobs == ("leads", "deals")
    analytics_export = plan.slots[plan.jobs["sales"].slot]
    assert (analytics_export.cap, analytics_export.documented) == (5, True)
    assert plan.jobs["leads_in"].slot != plan.jobs["sales"].slot  # imports have their own


def test_select_pulls_in_needs(spec) -> None:
    plan = build_plan(spec, select=["both_in"])
    assert plan.waves == [["leads", "deals"], ["leads_in"], ["both_in"]]
    assert plan.left_out == {"sales": "not selected", "old": "not selected"}


def test_select_by_tag_glob_and_exclude(spec) -> None:
    assert set(build_plan(spec, select=["tag:crm"]).jobs) == {"leads", "deals"}
    assert set(build_plan(spec, select=["*_in"], exclude=["leads"]).jobs) == {
        "leads_in",
        "both_in",
        "deals",
    }
    plan = build_plan(spec, select=["*_in"], exclude=["leads"])
    assert plan.jobs["leads_in"].outside_needs == ("leads",)
    assert plan.left_out["leads"] == "excluded"


def test_disabled_job_runs_only_when_named(spec) -> None:
    assert "old" not in build_plan(spec, select=["o*"]).jobs
    assert "old" in build_plan(spec, select=["old"]).jobs


def test_unknown_selection_is_a_usage_error(spec) -> None:
    with pytest.raises(UsageError, match="--select 'nope' matches no job"):
        build_plan(spec, select=["nope"])


def test_minimum_api_calls(spec) -> None:
    calls = build_plan(spec).min_calls
    # 3 connections, one refresh token: one access token for all; 3 exports x (create,
    # status, download); 2 imports x (create, status)
    assert calls == {"token": 1, "create": 5, "status": 5, "download": 3}


def test_an_import_waits_for_the_export_that_writes_its_file(write_spec) -> None:
    spec = load_spec(write_spec(SPEC.replace("    needs: [leads]\n", "")), {})
    plan = build_plan(spec)
    assert plan.jobs["leads_in"].needs == ("leads",)
    assert plan.jobs["leads_in"].wave > plan.jobs["leads"].wave
    assert "leads" in build_plan(spec, select=["leads_in"]).jobs


def test_the_plan_names_each_connections_hosts(write_spec) -> None:
    path = write_spec(SPEC.replace('    workspace: "3"\n', '    workspace: "3"\n    dc: ca\n', 1))
    planned = as_json(build_plan(load_spec(path, {})))
    assert planned["connections"]["an"] == {
        "dc": "ca",
        "hosts": ["https://accounts.zohocloud.ca", "https://analyticsapi.zohocloud.ca"],
    }
    crm = planned["connections"]["crm"]["hosts"]
    assert crm[:2] == ["https://accounts.zoho.com", "https://www.zohoapis.com"]


def test_the_plan_shows_the_per_minute_limits_and_the_time_they_impose(write_spec) -> None:
    jobs = "".join(
        f"  l{n}: {{export: {{from: crm, module: Leads}}, output: l{n}.csv}}\n" for n in range(25)
    )
    spec = load_spec(write_spec(SPEC.split("jobs:")[0] + "jobs:\n" + jobs), {})
    plan = build_plan(spec, ())
    [use] = plan.rate_uses()
    assert (use.kind, use.limit.calls, use.limit.per, use.requests) == ("download", 10, 60.0, 25)
    assert use.imposed == 120.0  # the 21st..25th download wait two minutes
    # A bulk read's create costs 50 credits, its status check and download 1 each.
    assert plan.credits() == {"crm/com/1": 25 * 52}
    shown = as_json(plan)
    assert shown["request_limits"][0]["min_seconds_imposed"] == 120.0
    assert shown["min_api_credits"] == {"crm/com/1": 1300}


def test_a_job_files_own_request_limit_replaces_zohos(write_spec) -> None:
    text = SPEC.replace(
        "limits: {exports: 2}", "limits: {requests: {download: {calls: 1, per: 5s}}}"
    )
    plan = build_plan(load_spec(write_spec(text), {}), ())
    # Both CRM connections reach organisation 1: its limits are theirs together.
    limits = {(u.limit.calls, u.limit.per, u.requests) for u in plan.rate_uses()}
    assert limits == {(10, 60.0, 1), (1, 5.0, 1)}
