"""An Analytics export's CONFIG options, from the job file to the model."""

from __future__ import annotations

from zsync.spec import validate_spec
from zsync.spec.model import AnalyticsExport

HEADER = """\
version: 1
connections:
  an:
    product: analytics
    org_id: "2"
    workspace: "3"
    auth: {client_id: a, client_secret: b, refresh_token: c}
jobs:
"""


def test_every_option_reaches_the_model(write_spec) -> None:
    path = write_spec(
        HEADER
        + """\
  east:
    export:
      from: an
      view: Sales
      format: csv
      columns: [Amount, Region]
      criteria: "\\"Sales\\".\\"Region\\" = 'East' and (\\"Amount\\" > 10 or \\"Units\\" in (1, 2))"
      delimiter: tab
      date_format: dd-MMM-yyyy
      show_hidden_columns: false
    output: east.csv
  plain:
    export: {from: an, sql: "SELECT Region FROM Sales", columns: [Region], format: pdf}
    output: plain.pdf
"""
    )
    result = validate_spec(path, {})
    assert result.errors == [], [d.render() for d in result.errors]
    assert result.spec is not None
    east = result.spec.jobs["east"].action
    assert east == AnalyticsExport(
        connection="an",
        view="Sales",
        format="csv",
        columns=("Amount", "Region"),
        criteria='"Sales"."Region" = \'East\' and ("Amount" > 10 or "Units" in (1, 2))',
        delimiter="tab",
        date_format="dd-MMM-yyyy",
        show_hidden_columns=False,
    )
    assert east.field_delimiter == "\t"
    plain = result.spec.jobs["plain"].action
    assert isinstance(plain, AnalyticsExport)
    assert (plain.format, plain.columns, plain.criteria, plain.delimiter) == (
        "pdf",
        ("Region",),
        None,
        "comma",
    )
    assert plain.show_hidden_columns is None  # Zoho's own default, not sent


def test_quotes_inside_text_values_are_not_unbalanced(write_spec) -> None:
    path = write_spec(
        HEADER
        + """\
  j:
    export: {from: an, view: Sales, criteria: "\\"Customer\\" like '%O''Brien (%'"}
    output: j.csv
"""
    )
    result = validate_spec(path, {})
    assert result.errors == [], [d.render() for d in result.errors]
