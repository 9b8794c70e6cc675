"""One broken job file per rule: each asserts the message, where it points and the exit code."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import pytest

from zsync.commands.validate import validate
from zsync.spec import validate_spec

# 17 lines: the first job of a case starts on line 18.
HEADER = """\
version: 1
connections:
  crm:
    product: crm
    org_id: "1"
    auth: {client_id: a, client_secret: b, refresh_token: c}
  an:
    product: analytics
    org_id: "2"
    workspace: "3"
    auth: {client_id: a, client_secret: b, refresh_token: c}
  cr:
    product: creator
    owner: o
    app: p
    auth: {client_id: a, client_secret: b, refresh_token: c}
jobs:
"""


@dataclass
class Case:
    id: str
    jobs: str  # YAML after `jobs:`, written at column 0 and indented here
    line: int
    column: int
    path: str
    message: str  # a part of the message that must be there
    severity: str = "error"
    exit_code: int = 2
    whole: str | None = None  # the whole file instead of HEADER + jobs
    env: dict[str, str] = field(default_factory=dict)
    strict: bool = False

    def text(self) -> str:
        if self.whole is not None:
            return textwrap.dedent(self.whole)
        return HEADER + textwrap.indent(textwrap.dedent(self.jobs), "  ")


CASES = [
    Case(
        "comparator-not-in-enum",
        """\
        j:
          export:
            from: crm
            module: Contacts
            criteria: {api_name: Last_Name, comparator: equals, value: Boyle}
          output: a.csv
        """,
        22,
        51,
        "jobs.j.export.criteria.comparator",
        "'equals' is not one of equal, not_equal, in, not_in, less_than, less_equal, "
        "greater_than, greater_equal, contains, not_contains, starts_with, ends_with, between, "
        "not_between (did you mean 'equal'?)",
    ),
    Case(
        "comparator-deep-in-group",
        """\
        j:
          export:
            from: crm
            module: Contacts
            criteria:
              group_operator: or
              group:
                - {api_name: A, comparator: equal, value: x}
                - group_operator: and
                  group:
                    - {api_name: B, comparator: bigger, value: 1}
          output: a.csv
        """,
        28,
        43,
        "jobs.j.export.criteria.group[1].group[0].comparator",
        "'bigger' is not one of",
    ),
    Case(
        "unknown-key-typo",
        """\
        j:
          export: {from: crm, module: Contacts, feilds: [Email]}
          output: a.csv
        """,
        19,
        43,
        "jobs.j.export.feilds",
        "unknown key 'feilds' (did you mean 'fields'?)",
    ),
    Case(
        "unknown-job-key",
        """\
        j:
          export: {from: crm, module: Contacts}
          outptu: a.csv
        """,
        20,
        5,
        "jobs.j.outptu",
        "unknown key 'outptu' (did you mean 'output'?)",
    ),
    Case(
        "export-without-output",
        """\
        j:
          export: {from: crm, module: Contacts}
        """,
        18,
        3,
        "jobs.j",
        "missing required key 'output' (an export needs a file to write)",
    ),
    Case(
        "export-and-import",
        """\
        j:
          export: {from: crm, module: Contacts}
          import: {to: an, table: T, file: a.csv}
          output: a.csv
        """,
        18,
        3,
        "jobs.j",
        "expected exactly one of 'export', 'import', found 'export' and 'import'",
    ),
    Case(
        "neither-export-nor-import",
        """\
        j:
          output: a.csv
        """,
        18,
        3,
        "jobs.j",
        "expected exactly one of 'export', 'import', found none",
    ),
    Case(
        "export-of-no-known-form",
        """\
        j:
          export: {from: crm}
          output: a.csv
        """,
        19,
        5,
        "jobs.j.export",
        "does not match any expected form: Analytics export (view or sql) (needs 'view' or "
        "'sql'); CRM/Bigin bulk read (module) (missing required key 'module'); Creator bulk "
        "read (report) (missing required key 'report')",
    ),
    Case(
        "view-and-sql",
        """\
        j:
          export: {from: an, view: Sales, sql: select 1}
          output: a.csv
        """,
        19,
        5,
        "jobs.j.export",
        "expected exactly one of 'view', 'sql', found 'view' and 'sql'",
    ),
    Case(
        "unknown-connection",
        """\
        j:
          export: {from: crmm, module: Contacts}
          output: a.csv
        """,
        19,
        20,
        "jobs.j.export.from",
        "unknown connection 'crmm' (did you mean 'crm'?); defined: crm, an, cr",
    ),
    Case(
        "export-form-wrong-product",
        """\
        j:
          export: {from: crm, sql: select 1}
          output: a.csv
        """,
        19,
        20,
        "jobs.j.export.from",
        "'crm' is a crm connection, but this is an Analytics export (view/sql), which needs a "
        "analytics connection",
    ),
    Case(
        "import-into-creator",
        """\
        j:
          import: {to: cr, table: T, file: a.csv}
        """,
        19,
        18,
        "jobs.j.import.to",
        "'cr' is a creator connection, and zsync can't import with creator (imports go to: "
        "crm, analytics)",
    ),
    Case(
        "unknown-need",
        """\
        a:
          export: {from: crm, module: Leads}
          output: a.csv
        b:
          needs: [aa]
          export: {from: crm, module: Deals}
          output: b.csv
        """,
        22,
        13,
        "jobs.b.needs[0]",
        "unknown job 'aa' (did you mean 'a'?)",
    ),
    Case(
        "cyclic-needs",
        """\
        a:
          needs: [c]
          export: {from: crm, module: Leads}
          output: a.csv
        b:
          needs: [a]
          export: {from: crm, module: Deals}
          output: b.csv
        c:
          needs: [b]
          export: {from: crm, module: Calls}
          output: c.csv
        """,
        19,
        5,
        "jobs.a.needs",
        "needs form a cycle: a -> c -> b -> a",
    ),
    Case(
        "job-needs-itself",
        """\
        a:
          needs: [a]
          export: {from: crm, module: Leads}
          output: a.csv
        """,
        19,
        5,
        "jobs.a.needs",
        "needs form a cycle: a -> a",
    ),
    Case(
        "same-output-twice",
        """\
        a:
          export: {from: crm, module: Leads}
          output: crm/leads.csv
        b:
          export: {from: crm, module: Deals}
          output: ./crm//leads.csv
        """,
        23,
        13,
        "jobs.b.output",
        "'./crm//leads.csv' is also written by job 'a' (line 20)",
    ),
    Case(
        "output-escapes-output-dir",
        """\
        a:
          export: {from: crm, module: Leads}
          output: crm/../../leads.csv
        """,
        20,
        13,
        "jobs.a.output",
        "'crm/../../leads.csv' leaves the output directory",
    ),
    Case(
        "absolute-output",
        """\
        a:
          export: {from: crm, module: Leads}
          output: /etc/leads.csv
        """,
        20,
        13,
        "jobs.a.output",
        "'/etc/leads.csv' leaves the output directory",
    ),
    Case(
        "import-reads-output-without-needs",
        """\
        a:
          export: {from: crm, module: Leads}
          output: crm/leads.csv
        b:
          import: {to: an, table: Leads, file: crm/leads.csv}
        """,
        22,
        42,
        "jobs.b.import.file",
        "'crm/leads.csv' is written by job 'a', but this job doesn't need it: zsync runs it "
        "after 'a' anyway; say so with needs: [a]",
        severity="warning",
        exit_code=0,
    ),
    Case(
        "between-takes-two-values",
        """\
        a:
          export:
            from: crm
            module: Deals
            criteria: {api_name: Closing_Date, comparator: between, value: [2024-01-01]}
          output: a.csv
        """,
        22,
        70,
        "jobs.a.export.criteria.value",
        "between takes exactly two values, [from, to]",
    ),
    Case(
        "in-takes-a-list",
        """\
        a:
          export:
            from: crm
            module: Deals
            criteria: {api_name: Stage, comparator: in, value: Won}
          output: a.csv
        """,
        22,
        58,
        "jobs.a.export.criteria.value",
        "in compares with a list of values",
    ),
    Case(
        "boolean-only-equal",
        """\
        a:
          export:
            from: crm
            module: Leads
            criteria: {api_name: $converted, comparator: not_equal, value: true}
          output: a.csv
        """,
        22,
        70,
        "jobs.a.export.criteria.value",
        "a true/false value can only be compared with equal, not not_equal",
    ),
    Case(
        "list-for-single-value-comparator",
        """\
        a:
          export:
            from: crm
            module: Leads
            criteria: {api_name: Email, comparator: equal, value: [a, b]}
          output: a.csv
        """,
        22,
        61,
        "jobs.a.export.criteria.value",
        "equal compares with one value, not a list",
    ),
    Case(
        "ics-with-fields",
        """\
        a:
          export: {from: crm, module: Events, file_type: ics, fields: [Subject]}
          output: a.ics
        """,
        19,
        57,
        "jobs.a.export.fields",
        "file_type ics exports whole events: remove 'fields'",
    ),
    Case(
        "ics-other-module",
        """\
        a:
          export: {from: crm, module: Deals, file_type: ics}
          output: a.ics
        """,
        19,
        51,
        "jobs.a.export.file_type",
        "file_type ics exports only the Events module (meetings), not 'Deals'",
    ),
    Case(
        "duplicate-job-name",
        """\
        a:
          export: {from: crm, module: Leads}
          output: a.csv
        a:
          export: {from: crm, module: Deals}
          output: b.csv
        """,
        21,
        3,
        "jobs.a",
        "duplicate key 'a' (first at line 18); YAML would silently keep only the last one",
    ),
    Case(
        "duplicate-key-in-job",
        """\
        a:
          export: {from: crm, module: Leads}
          output: a.csv
          output: b.csv
        """,
        21,
        5,
        "jobs.a.output",
        "duplicate key 'output' (first at line 20)",
    ),
    Case(
        "yaml-syntax-error",
        """\
        a:
          export: {from: crm, module: Leads
          output: a.csv
        """,
        20,
        11,
        "",
        "invalid YAML: while parsing a flow mapping",
    ),
    Case(
        "unset-variable-at-run-time",
        """\
        a:
          export: {from: crm, module: Leads, cvid: "${LEADS_VIEW}"}
          output: a.csv
        """,
        19,
        46,
        "jobs.a.export.cvid",
        "environment variable LEADS_VIEW is not set",
        strict=True,
    ),
    Case(
        "unset-variable-in-a-pr-check",
        """\
        a:
          export: {from: crm, module: Leads, cvid: "${LEADS_VIEW}"}
          output: a.csv
        """,
        19,
        46,
        "jobs.a.export.cvid",
        "environment variable LEADS_VIEW is not set (needed at run time)",
        severity="warning",
        exit_code=0,
    ),
    Case(
        "export-given-as-a-variable",
        """\
        a:
          export: "${LEADS_EXPORT}"
          output: a.csv
        """,
        19,
        13,
        "jobs.a.export",
        "expected a mapping, found '${LEADS_EXPORT}' (after interpolation)",
    ),
    Case(
        "auth-given-as-a-variable",
        None,  # type: ignore[arg-type]
        6,
        11,
        "connections.crm.auth",
        "expected a mapping, found '${CRM_AUTH}' (after interpolation)",
        whole=HEADER.replace(
            "    auth: {client_id: a, client_secret: b, refresh_token: c}\n  an:",
            '    auth: "${CRM_AUTH}"\n  an:',
        )
        + "  a: {export: {from: crm, module: Leads}, output: a.csv}\n",
    ),
    Case(
        "malformed-variable",
        """\
        a:
          export: {from: crm, module: Leads, cvid: "${LEADS VIEW}"}
          output: a.csv
        """,
        19,
        46,
        "jobs.a.export.cvid",
        "malformed variable reference '${LEADS VIEW}'",
    ),
    Case(
        "interpolated-value-quoted-as-written",
        """\
        a:
          export: {from: crm, module: Leads, cvid: "${LEADS_VIEW}"}
          output: a.csv
        """,
        19,
        46,
        "jobs.a.export.cvid",
        "a cvid is the custom view's numeric id, found '${LEADS_VIEW}' (after interpolation)",
        env={"LEADS_VIEW": "all-open-leads"},
    ),
    Case(
        "bad-duration",
        """\
        a:
          export: {from: crm, module: Leads}
          output: a.csv
          poll: {first: 5 minutes}
        """,
        21,
        19,
        "jobs.a.poll.first",
        "expected a duration such as 500ms, 10s, 5m, 2h or 1h30m (or a number of seconds), "
        "found '5 minutes'",
    ),
    Case(
        "updateadd-without-matching-columns",
        """\
        a:
          import: {to: an, table: T, file: a.csv, mode: updateadd}
        """,
        19,
        5,
        "jobs.a.import",
        "missing required key 'matching_columns' (mode updateadd matches rows by them)",
    ),
    Case(
        "upsert-without-find-by",
        """\
        a:
          import: {to: crm, module: Leads, file: a.csv, operation: upsert}
        """,
        19,
        5,
        "jobs.a.import",
        "missing required key 'find_by' (update and upsert find records by it)",
    ),
    Case(
        "job-name-pattern",
        """\
        2nd-job:
          export: {from: crm, module: Leads}
          output: a.csv
        """,
        18,
        3,
        "jobs.2nd-job",
        "'2nd-job': a name starts with a letter",
    ),
    Case(
        "list-expected",
        """\
        a:
          export: {from: crm, module: Leads, fields: Email}
          output: a.csv
        """,
        19,
        48,
        "jobs.a.export.fields",
        "expected a list, found 'Email'",
    ),
    Case(
        "creator-max-records",
        """\
        a:
          export: {from: cr, report: All_Orders, max_records: 150500}
          output: a.csv
        """,
        19,
        57,
        "jobs.a.export.max_records",
        "must be a multiple of 1000, found 150500",
    ),
    Case(
        "version",
        None,  # type: ignore[arg-type]
        1,
        10,
        "version",
        "this zsync reads job files of version 1, found 2",
        whole=HEADER.replace("version: 1", "version: 2") + "  a: {export: {from: crm, "
        "module: Leads}, output: a.csv}\n",
    ),
    Case(
        "unknown-data-centre",
        None,  # type: ignore[arg-type]
        5,
        9,
        "connections.crm.dc",
        "'us' is not one of com, eu, in",
        whole=HEADER.replace("    product: crm\n", "    product: crm\n    dc: us\n")
        + "  a: {export: {from: crm, module: Leads}, output: a.csv}\n",
    ),
    Case(
        "analytics-connection-without-workspace",
        None,  # type: ignore[arg-type]
        7,
        3,
        "connections.an",
        "missing required key 'workspace' (analytics connections need it)",
        whole=HEADER.replace('    workspace: "3"\n', "")
        + "  a: {export: {from: crm, module: Leads}, output: a.csv}\n",
    ),
    Case(
        "key-of-another-product",
        None,  # type: ignore[arg-type]
        16,
        5,
        "connections.cr.workspace",
        "'workspace' is only used by analytics connections",
        whole=HEADER.replace("    app: p\n", "    app: p\n    workspace: w\n")
        + "  a: {export: {from: crm, module: Leads}, output: a.csv}\n",
    ),
    Case(
        "limit-above-documented-cap",
        None,  # type: ignore[arg-type]
        11,
        23,
        "connections.an.limits.exports",
        "10 is above Zoho's documented cap of 5 (at most 5 concurrent export jobs per "
        "organisation); limits can only lower it",
        whole=HEADER.replace(
            '    workspace: "3"\n', '    workspace: "3"\n    limits: {exports: 10}\n'
        )
        + "  a: {export: {from: an, view: V}, output: a.csv}\n",
    ),
    Case(
        "request-limit-faster-than-zohos",
        None,  # type: ignore[arg-type]
        18,
        17,
        "connections.cr.limits.requests.create",
        "6 per 1m is faster than Zoho's documented 5 per 1m (Creator bulk API limitations "
        "page); expect HTTP 429 answers, each costing a wait",
        whole=HEADER.replace(
            "    app: p\n",
            "    app: p\n    limits:\n      requests:\n        create: {calls: 6, per: 1m}\n",
        )
        + "  a: {export: {from: cr, report: R}, output: a.csv}\n",
        severity="warning",
        exit_code=0,
    ),
    Case(
        "crm-import-needs-org-id",
        None,  # type: ignore[arg-type]
        3,
        3,
        "connections.crm",
        "a crm connection that jobs import into needs 'org_id' (sent as X-CRM-ORG",
        whole=HEADER.replace('    org_id: "1"\n', "")
        + "  a: {import: {to: crm, module: Leads, file: a.csv}}\n",
    ),
    Case(
        "secret-never-shown",
        None,  # type: ignore[arg-type]
        6,
        23,
        "connections.crm.auth.client_id",
        "must not be empty, found a value (hidden)",
        whole=HEADER.replace(
            "    auth: {client_id: a, client_secret: b, refresh_token: c}\n  an:",
            '    auth: {client_id: "", client_secret: b, refresh_token: c}\n  an:',
        )
        + "  a: {export: {from: crm, module: Leads}, output: a.csv}\n",
    ),
    Case(
        "analytics-criteria-with-sql",
        """\
        j:
          export:
            from: an
            sql: SELECT Region FROM Sales
            criteria: "\\"Region\\" = 'East'"
          output: a.csv
        """,
        22,
        7,
        "jobs.j.export.criteria",
        "Zoho's SQL export takes no criteria: put the condition in the query's WHERE clause",
    ),
    Case(
        "analytics-criteria-unclosed-quote",
        """\
        j:
          export:
            from: an
            view: Sales
            criteria: "\\"Region\\" = 'East"
          output: a.csv
        """,
        22,
        17,
        "jobs.j.export.criteria",
        "Zoho can't parse this criteria: a text value whose ' is never closed",
    ),
    Case(
        "analytics-criteria-unbalanced",
        """\
        j:
          export: {from: an, view: Sales, criteria: "(\\"A\\" = 1 or (\\"B\\" = 2)"}
          output: a.csv
        """,
        19,
        47,
        "jobs.j.export.criteria",
        "Zoho can't parse this criteria: 1 '(' never closed",
    ),
    Case(
        "analytics-delimiter-without-csv",
        """\
        j:
          export: {from: an, view: Sales, format: json, delimiter: tab}
          output: a.json
        """,
        19,
        51,
        "jobs.j.export.delimiter",
        "delimiter applies only to format csv; a json export has none",
    ),
    Case(
        "analytics-delimiter-unknown",
        """\
        j:
          export: {from: an, view: Sales, delimiter: colon}
          output: a.csv
        """,
        19,
        48,
        "jobs.j.export.delimiter",
        "'colon' is not one of comma, tab, semicolon, space, pipe",
    ),
    Case(
        "analytics-format-unknown",
        """\
        j:
          export: {from: an, view: Sales, format: xlsx}
          output: a.xlsx
        """,
        19,
        45,
        "jobs.j.export.format",
        "'xlsx' is not one of csv, json, xml, xls, pdf, html (did you mean 'xls'?)",
    ),
    Case(
        "analytics-xls-too-many-columns",
        f"""\
        j:
          export:
            from: an
            view: Sales
            format: xls
            columns: [{", ".join(f"c{n}" for n in range(257))}]
          output: a.xls
        """,
        23,
        16,
        "jobs.j.export.columns",
        "257 columns: an xls sheet holds at most 256",
    ),
    Case(
        "analytics-too-many-columns",
        f"""\
        j:
          export:
            from: an
            sql: SELECT * FROM Sales
            columns: [{", ".join(f"c{n}" for n in range(301))}]
          output: a.csv
        """,
        22,
        16,
        "jobs.j.export.columns",
        "at most 300",
    ),
    Case(
        "analytics-columns-repeated",
        """\
        j:
          export: {from: an, view: Sales, columns: [Region, Amount, Region]}
          output: a.csv
        """,
        19,
        46,
        "jobs.j.export.columns",
        "has repeated items",
    ),
    Case(
        "empty-file",
        None,
        1,
        1,
        "",
        "the file is empty",
        whole="# nothing here\n",  # type: ignore[arg-type]
    ),
    Case(
        "not-a-mapping",
        None,  # type: ignore[arg-type]
        1,
        1,
        "",
        "expected a mapping, found a list",
        whole="- version: 1\n",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_broken_spec(case: Case, write_spec, monkeypatch, capsys) -> None:
    path = write_spec(case.text())
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)

    result = validate_spec(path, {**case.env}, for_run=case.strict)

    found = [
        d
        for d in result.diagnostics
        if (d.line, d.column, d.path, d.severity)
        == (case.line, case.column, case.path, case.severity)
    ]
    assert found, "\n".join(d.render() for d in result.diagnostics)
    assert any(case.message in d.message for d in found), "\n".join(d.render() for d in found)
    assert all(d.file == str(path) for d in result.diagnostics)
    assert validate(str(path), strict=case.strict) == case.exit_code
    printed = capsys.readouterr().out
    assert f"{path}:{case.line}:{case.column}: {case.severity}:" in printed


def test_every_error_is_reported_in_one_pass(write_spec) -> None:
    """A file with a schema error, a semantic error and a YAML duplicate reports all three."""
    path = write_spec(
        HEADER
        + textwrap.indent(
            textwrap.dedent("""\
            a:
              export: {from: crm, module: Leads, feilds: [Email]}
              output: a.csv
            b:
              needs: [zz]
              export: {from: crm, module: Deals}
              output: b.csv
            c:
              export: {from: crm, module: Calls}
              output: c.csv
              output: d.csv
            """),
            "  ",
        )
    )
    result = validate_spec(path, {})
    messages = [(d.line, d.message.split(" (")[0]) for d in result.errors]
    assert (19, "unknown key 'feilds'") in messages
    assert (22, "unknown job 'zz'") in messages
    assert (28, "duplicate key 'output'") in messages


def test_secrets_never_reach_diagnostics(write_spec) -> None:
    secret = "1000.s3cr3t-refresh-token-value"
    path = write_spec(
        HEADER.replace("refresh_token: c}\n  an:", 'refresh_token: "${RT}"}\n  an:')
        + '  a:\n    export: {from: crm, module: Leads, cvid: "${RT}"}\n    output: a.csv\n'
    )
    result = validate_spec(path, {"RT": secret})
    assert not result.ok
    rendered = "\n".join(d.render() for d in result.diagnostics)
    assert "${RT}" in rendered
    assert secret not in rendered


def test_a_datetime_with_milliseconds_is_refused_where_it_stands(write_spec) -> None:
    job = """\
        a:
          export:
            from: crm
            module: Leads
            criteria: {api_name: Created_Time, comparator: between,
                       value: ["2024-01-01T00:00:00+05:30", "2024-01-31T10:00:00.250+05:30"]}
          output: a.csv
        """
    path = write_spec(HEADER + textwrap.indent(textwrap.dedent(job), "  "))
    result = validate_spec(path, {})
    (error,) = result.errors
    assert error.line == 23  # the criteria's line
    assert "no milliseconds" in error.message
    fixed = job.replace("10:00:00.250", "10:00:00")
    assert validate_spec(write_spec(HEADER + textwrap.indent(textwrap.dedent(fixed), "  ")), {}).ok
