"""Placeholders in an export's output: which are known, how braces are written, and imports
that would read a file named anew each run."""

from __future__ import annotations

from zsync.output_pattern import RunNames, expand
from zsync.plan import build_plan
from zsync.spec import validate_spec

HEADER = """\
version: 1
connections:
  crm:
    product: crm
    auth: {client_id: a, client_secret: b, refresh_token: c}
jobs:
"""


def _errors(write_spec, jobs: str) -> list[str]:
    return [d.render() for d in validate_spec(write_spec(HEADER + jobs), {}).errors]


def test_known_placeholders_and_doubled_braces_validate(write_spec) -> None:
    text = """\
  leads:
    export: {from: crm, module: Leads}
    output: "crm/{started}/leads-{run_id}-{{v2}}.csv"
"""
    result = validate_spec(write_spec(HEADER + text), {})
    assert result.errors == [], [d.render() for d in result.errors]
    assert result.spec is not None
    plan = build_plan(result.spec)  # the plan keeps the pattern: no run id yet
    assert plan.spec.jobs["leads"].output == "crm/{started}/leads-{run_id}-{{v2}}.csv"


def test_expansion_fills_in_the_run_and_unescapes_braces() -> None:
    names = RunNames("20250301T101500Z-a1b2c3", "2025-03-01T10:15:00.250000Z")
    assert expand("a/{started}/b-{run_id}-{{x}}.csv", names) == (
        "a/20250301T101500Z/b-20250301T101500Z-a1b2c3-{x}.csv"
    )


def test_unknown_placeholders_and_lone_braces_are_located_errors(write_spec) -> None:
    errors = _errors(
        write_spec,
        """\
  leads:
    export: {from: crm, module: Leads}
    output: crm/leads-{runid}.csv
  deals:
    export: {from: crm, module: Deals}
    output: crm/deals-}.csv
""",
    )
    assert len(errors) == 2, errors
    assert ":9:13: error: jobs.leads.output: unknown placeholder '{runid}'" in errors[0]
    assert "(did you mean {run_id}?); known are {run_id}, {started}" in errors[0]
    assert ":12:13: error: jobs.deals.output: a lone '}'" in errors[1]
    assert "write '}}'" in errors[1]


def test_an_import_of_an_output_named_each_run_is_refused(write_spec) -> None:
    errors = _errors(
        write_spec,
        """\
  leads:
    export: {from: crm, module: Leads}
    output: crm/leads-{run_id}.csv
  back:
    import: {to: crm, module: Leads, file: "crm/leads-{run_id}.csv"}
  other:
    import: {to: crm, module: Leads, file: "crm/contacts-{started}.csv"}
""",
    )
    errors = [e for e in errors if "import.file" in e]  # (the connection lacks an org id)
    assert len(errors) == 2, errors
    assert (
        "jobs.back.import.file: 'crm/leads-{run_id}.csv' is written by job 'leads'" in (errors[0])
    )
    assert "can't know which file to read" in errors[0]
    assert "jobs.other.import.file: 'crm/contacts-{started}.csv': placeholders" in errors[1]
