"""Values stay as written: YAML 1.1's readings of plain scalars never reach a string."""

from __future__ import annotations

import pytest

from zsync.spec import validate_spec
from zsync.spec.model import BulkReadExport, Condition
from zsync.spec.schema_map import spec_map

CONNECTIONS = """\
version: 1
connections:
  crm:
    product: crm
    org_id: 0755
    auth: {client_id: 918273645, client_secret: NO, refresh_token: 1e3}
  an:
    product: analytics
    org_id: 012345
    workspace: 1767024000003145002
    auth: {client_id: a, client_secret: b, refresh_token: c}
jobs:
"""


def _spec(write_spec, jobs: str):
    result = validate_spec(write_spec(CONNECTIONS + jobs), {})
    assert result.ok, "\n".join(d.render() for d in result.diagnostics)
    assert result.spec is not None
    return result.spec


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("NO", "NO"),
        ("no", "no"),
        ("Off", "Off"),
        ("012345", "012345"),
        ("0755", "0755"),
        ("0x1F", "0x1F"),
        ("1_000", "1_000"),
        ("10:30", "10:30"),
        ("1.50", "1.50"),
        ("2024-01-01", "2024-01-01"),
        ("1e3", "1e3"),
        ("99999999999999999999", "99999999999999999999"),
        (".inf", ".inf"),
        # Written as JSON writes them: YAML's reading stands.
        ("true", True),
        ("false", False),
        ("42", 42),
        ("-7", -7),
        ("1.5", 1.5),
        ('"true"', "true"),
        ("'012345'", "012345"),
    ],
)
def test_criteria_values_as_written(write_spec, written: str, value: object) -> None:
    spec = _spec(
        write_spec,
        "  a:\n    export:\n      from: crm\n      module: Leads\n"
        f"      criteria: {{api_name: Code, comparator: equal, value: {written}}}\n"
        "    output: a.csv\n",
    )
    action = spec.jobs["a"].action
    assert isinstance(action, BulkReadExport)
    assert action.criteria == Condition("Code", "equal", value)
    assert type(action.criteria.value) is type(value)


def test_list_values_and_string_positions_keep_their_text(write_spec) -> None:
    spec = _spec(
        write_spec,
        "  a:\n    export:\n      from: crm\n      module: 0x1F\n      fields: [NO, 012, on]\n"
        "      criteria: {api_name: Code, comparator: in, value: [NO, 012345, 7]}\n"
        "    output: a.csv\n"
        "  b:\n    export: {from: an, view: 10:30}\n    output: 2024-01-01\n",
    )
    action = spec.jobs["a"].action
    assert isinstance(action, BulkReadExport)
    assert action.module == "0x1F"
    assert action.fields == ("NO", "012", "on")
    assert action.criteria == Condition("Code", "in", ("NO", "012345", 7))
    assert spec.jobs["b"].output == "2024-01-01"
    crm, an = spec.connections["crm"], spec.connections["an"]
    assert (crm.org_id, an.org_id, an.workspace) == ("0755", "012345", "1767024000003145002")
    assert crm.auth.client_id == "918273645"
    assert crm.auth.client_secret == "NO"
    assert crm.auth.refresh_token == "1e3"


def test_where_no_string_is_expected_yaml_reading_stands(write_spec) -> None:
    spec = _spec(
        write_spec,
        "  a:\n    enabled: yes\n    export: {from: crm, module: Leads, page: 0x10}\n"
        "    output: a.csv\n    retry: {attempts: 010}\n    poll: {first: 10, max: 1.5}\n",
    )
    job = spec.jobs["a"]
    assert job.enabled is True
    assert isinstance(job.action, BulkReadExport) and job.action.page == 16
    assert job.retry.attempts == 8
    assert (job.poll.first, job.poll.max) == (10.0, 1.5)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("retry: {attempts: 99999999999999999999}", "99999999999999999999 is too large a number"),
        ("results: {max_zip_ratio: .inf}", ".inf is not a finite number"),
        ("results: {max_zip_ratio: .NaN}", ".NaN is not a finite number"),
        # A duration or size may be text: the text then fails the pattern, said as usual.
        ("poll: {first: 0x10}", "expected a duration such as"),
        ("poll: {first: 1.0e+400}", "expected a duration such as"),
        ("poll: {timeout: 400d}", "400d is longer than zsync waits for anything (at most 365d)"),
        ("poll: {timeout: 99999999999}", "longer than zsync waits for anything"),
        ("results: {max_size: 1_000_000}", "expected a size such as"),
    ],
)
def test_numbers_no_job_file_means_are_located_errors(write_spec, setting, message) -> None:
    jobs = f"  a:\n    export: {{from: crm, module: Leads}}\n    output: a.csv\n    {setting}\n"
    path = write_spec(CONNECTIONS + jobs)
    result = validate_spec(path, {})
    assert not result.ok
    assert [(d.line, d.path.split(".")[2]) for d in result.errors] == [(16, setting.split(":")[0])]
    assert message in result.errors[0].message


def test_schema_map_answers_unions_over_branches() -> None:
    schema = spec_map()
    value = schema.at(("jobs", "x", "export", "criteria", "group", 3, "value"))
    assert schema.types(value) == {"string", "number", "integer", "boolean", "array"}
    assert schema.types(schema.at(("jobs", "x", "enabled"))) == {"boolean"}
    assert schema.types(schema.at(("version",))) == {"integer"}
    # export.criteria is a mapping for CRM and text for Creator.
    assert "string" in schema.types(schema.at(("jobs", "x", "export", "criteria")))
    assert schema.is_free_string(schema.at(("jobs", "x", "export", "module")))
    assert not schema.is_free_string(schema.at(("jobs", "x", "tags", 0)))
    assert not schema.is_free_string(schema.at(("jobs", "x", "export", "cvid")))
    # An unknown key: anything goes here (the unknown key is the error).
    assert "string" in schema.types(schema.at(("jobs", "x", "nope")))
