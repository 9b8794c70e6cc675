"""`incremental:` on exports: from the job file to the model, and the mistakes it reports
where they are."""

from __future__ import annotations

from zsync.spec import validate_spec
from zsync.spec.model import AnalyticsExport, BulkReadExport, CreatorExport, Incremental

HEADER = """\
version: 1
connections:
  an:
    product: analytics
    org_id: "2"
    workspace: "3"
    auth: {client_id: a, client_secret: b, refresh_token: c}
  crm:
    product: crm
    auth: {client_id: a, client_secret: b, refresh_token: c}
  creator:
    product: creator
    owner: o
    app: a
    auth: {client_id: a, client_secret: b, refresh_token: c}
jobs:
"""


def _errors(write_spec, jobs: str) -> list[str]:
    return [d.render() for d in validate_spec(write_spec(HEADER + jobs), {}).errors]


def test_incremental_reaches_the_model(write_spec) -> None:
    result = validate_spec(
        write_spec(
            HEADER
            + """\
  leads:
    export: {from: crm, module: Leads, incremental: {field: Modified_Time}}
    output: leads.csv
  sales:
    export:
      {from: an, sql: "SELECT * FROM Sales", incremental: {column: Last Modified, overlap: 1h}}
    output: sales.csv
"""
        ),
        {},
    )
    assert result.errors == [], [d.render() for d in result.errors]
    assert result.spec is not None
    leads, sales = result.spec.jobs["leads"].action, result.spec.jobs["sales"].action
    assert isinstance(leads, BulkReadExport) and isinstance(sales, AnalyticsExport)
    assert leads.incremental == Incremental("Modified_Time", 300.0)
    assert sales.incremental == Incremental("Last Modified", 3600.0)


def test_the_field_must_be_exported(write_spec) -> None:
    [error] = _errors(
        write_spec,
        """\
  leads:
    export:
      from: crm
      module: Leads
      fields: [Last_Name]
      incremental: {field: Modified_Time}
    output: leads.csv
""",
    )
    assert "jobs.leads.export.incremental.field: 'Modified_Time' is not among fields" in error
    assert ":22:28:" in error  # at the field's value


def test_only_csv_results_are_incremental(write_spec) -> None:
    errors = _errors(
        write_spec,
        """\
  meetings:
    export: {from: crm, module: Events, file_type: ics, incremental: {field: Modified_Time}}
    output: meetings.ics
  sales:
    export: {from: an, view: Sales, format: json, incremental: {column: Date}}
    output: sales.json
  missing:
    export: {from: an, view: Sales, columns: [Region], incremental: {column: Date}}
    output: sales.csv
""",
    )
    assert len(errors) == 3, errors
    assert (
        "jobs.meetings.export.incremental: an incremental export reads its watermark from CSV"
        in errors[0]
    )
    assert (
        "jobs.sales.export.incremental: an incremental export reads its watermark from CSV, "
        "not json" in errors[1]
    )
    assert "jobs.missing.export.incremental.column: 'Date' is not among columns" in errors[2]


def test_creator_exports_are_incremental(write_spec) -> None:
    result = validate_spec(
        write_spec(
            HEADER
            + """\
  orders:
    export: {from: creator, report: All_Orders, incremental: {field: Modified_Time}}
    output: orders.csv
"""
        ),
        {},
    )
    assert result.errors == [], [d.render() for d in result.errors]
    assert result.spec is not None
    orders = result.spec.jobs["orders"].action
    assert isinstance(orders, CreatorExport)
    assert orders.incremental == Incremental("Modified_Time", 300.0)


def test_a_creator_exports_field_must_be_exported(write_spec) -> None:
    [error] = _errors(
        write_spec,
        """\
  orders:
    export:
      from: creator
      report: All_Orders
      fields: [Status]
      incremental: {field: Modified_Time, overlap: 1m}
    output: orders.csv
""",
    )
    assert "jobs.orders.export.incremental.field: 'Modified_Time' is not among fields" in error
    assert ":22:28:" in error


def test_a_creator_incremental_takes_a_field_not_a_column(write_spec) -> None:
    errors = _errors(
        write_spec,
        """\
  orders:
    export: {from: creator, report: All_Orders, incremental: {column: Modified_Time}}
    output: orders.csv
""",
    )
    assert errors and "jobs.orders.export" in errors[0]


def test_an_overlap_is_a_duration(write_spec) -> None:
    errors = _errors(
        write_spec,
        """\
  leads:
    export: {from: crm, module: Leads, incremental: {field: Modified_Time, overlap: soon}}
    output: leads.csv
""",
    )
    assert errors and "jobs.leads.export.incremental.overlap" in errors[0]
