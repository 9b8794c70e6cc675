"""Each product's export over real HTTP, byte for byte against the emulator's ground truth."""

from __future__ import annotations

import dataclasses

from jsonschema import Draft202012Validator

from zsync.emulator import EmulatorConfig
from zsync.resources import load_schema

from .conftest import TIME_SCALE


def valid_manifest(run) -> dict:
    manifest = run.manifest
    Draft202012Validator(load_schema("manifest")).validate(manifest)
    return manifest


async def test_crm_export_with_criteria(zoho) -> None:
    run = await zoho.run("""\
        contacts:
          export:
            from: crm
            module: Contacts
            fields: [Last_Name, Email, Owner.last_name, Account_Name.Account_Name]
            criteria:
              group_operator: or
              group:
                - {api_name: Owner.last_name, comparator: equal, value: Boyle}
                - {api_name: Account_Name.Phone, comparator: contains, value: "5"}
          output: crm/contacts.csv
        """)
    assert run.code == 0, run.log
    expected = zoho.emulator.ground_truth.crm_records(
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
    assert (run.out / "crm/contacts.csv").read_bytes() == expected
    job = valid_manifest(run)["jobs"]["contacts"]
    assert job["status"] == "succeeded"
    assert job["output"]["rows"] == expected.count(b"\n") - 1
    remote = job["remote_jobs"][0]
    assert remote["id"].isdigit()
    assert remote["states"][-1]["state"] == "completed"


async def test_every_product_in_one_run(zoho) -> None:
    run = await zoho.run("""\
        meetings:
          export: {from: bigin, module: Events, file_type: ics}
          output: bigin/meetings.ics
        orders:
          export: {from: creator, report: All_Orders, criteria: 'Status == "Open"'}
          output: creator/orders.csv
        sales:
          export: {from: analytics, sql: "SELECT Region, SUM(Amount) FROM Sales GROUP BY Region"}
          output: analytics/sales.csv
        sales_json:
          export: {from: analytics, view: Sales, format: json}
          output: analytics/sales.json
        """)
    assert run.code == 0, run.log
    truth = zoho.emulator.ground_truth
    assert (run.out / "bigin/meetings.ics").read_bytes() == truth.bigin_bulk_read(
        "Events", file_type="ics"
    )
    assert (run.out / "creator/orders.csv").read_bytes() == truth.creator_report(
        "All_Orders", criteria='Status == "Open"'
    )
    assert (run.out / "analytics/sales.csv").read_bytes() == truth.analytics_sql(
        "SELECT Region, SUM(Amount) FROM Sales GROUP BY Region"
    )
    assert (run.out / "analytics/sales.json").read_bytes() == truth.analytics_view("Sales", "json")
    valid_manifest(run)


async def test_crm_pages_merge_into_one_file(start, tmp_path) -> None:
    zoho = await start(EmulatorConfig(time_scale=TIME_SCALE, page_size=25), tmp=tmp_path)
    run = await zoho.run("""\
        leads:
          export: {from: crm, module: Leads, fields: [Last_Name, Email]}
          output: leads.csv
        """)
    assert run.code == 0, run.log
    expected = zoho.emulator.ground_truth.crm_records("Leads", ["Last_Name", "Email"])
    assert (run.out / "leads.csv").read_bytes() == expected
    job = run.job("leads")
    pages = zoho.emulator.config.size("crm", "Leads") // 25 + 1
    assert len(job["remote_jobs"]) == pages
    assert job["output"]["pages"] == pages


async def test_one_file_per_page(start, tmp_path) -> None:
    zoho = await start(EmulatorConfig(time_scale=TIME_SCALE, page_size=50), tmp=tmp_path)
    run = await zoho.run("""\
        leads:
          export: {from: crm, module: Leads, fields: [Last_Name]}
          output: leads/
        """)
    assert run.code == 0, run.log
    files = sorted((run.out / "leads").iterdir())
    assert [f.name for f in files] == ["page-0001.csv", "page-0002.csv", "page-0003.csv"]
    truth = zoho.emulator.ground_truth
    assert files[1].read_bytes() == truth.crm_bulk_read("Leads", ["Last_Name"], page=2)


async def test_creator_batches_follow_the_cursor(start, tmp_path) -> None:
    config = dataclasses.replace(EmulatorConfig(time_scale=TIME_SCALE), creator_max_batch=100)
    zoho = await start(config, tmp=tmp_path)
    run = await zoho.run("""\
        orders:
          export: {from: creator, report: All_Orders}
          output: orders.csv
        """)
    assert run.code == 0, run.log
    truth = zoho.emulator.ground_truth
    batches = [truth.creator_report("All_Orders", batch=n) for n in (1, 2, 3)]
    merged = batches[0] + b"".join(b.partition(b"\n")[2] for b in batches[1:])
    assert (run.out / "orders.csv").read_bytes() == merged
    remotes = run.job("orders")["remote_jobs"]
    assert len(remotes) == 3
    assert remotes[0]["cursor"] is None and remotes[1]["cursor"]


async def test_a_result_over_a_megabyte_streams_through_a_file_and_leaves_none(
    start, tmp_path
) -> None:
    config = EmulatorConfig(time_scale=TIME_SCALE).with_sizes(analytics_Sales=30_000)
    zoho = await start(config, tmp=tmp_path)
    run = await zoho.run("""\
        sales:
          export: {from: analytics, view: Sales}
          output: sales.csv
        """)
    assert run.code == 0, run.log
    written = (run.out / "sales.csv").read_bytes()
    assert len(written) > 1 << 20  # past what a download keeps in memory
    assert written == zoho.emulator.ground_truth.analytics_view("Sales")
    assert not list(tmp_path.rglob("*.part")) and not list(tmp_path.rglob("*zsync-tmp*"))


async def test_an_output_never_leaves_output_dir_through_a_symlink(zoho, tmp_path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (zoho.tmp / "out").mkdir(exist_ok=True)
    (zoho.tmp / "out" / "linked").symlink_to(outside, target_is_directory=True)
    run = await zoho.run("""\
        leads:
          export: {from: crm, module: Leads, fields: [Last_Name]}
          output: linked/leads.csv
        """)
    assert run.code == 1
    error = run.job("leads")["error"]
    assert error["class"] == "config"
    assert "outside the output directory" in error["message"]
    assert list(outside.iterdir()) == []
    # The run ends saying what to do next: the exact command that goes on from here.
    assert run.log[-1].startswith("next: fix what failed, then `zsync run ")
    assert f"--resume {run.run_id}`" in run.log[-1]


async def test_outputs_are_readable_by_their_owner_only(zoho) -> None:
    run = await zoho.run("""\
        leads:
          export: {from: crm, module: Leads, fields: [Last_Name]}
          output: leads.csv
        """)
    assert run.code == 0, run.log
    assert (run.out / "leads.csv").stat().st_mode & 0o777 == 0o600


async def test_analytics_export_options_and_formats(zoho) -> None:
    """The job file's columns, criteria, delimiter, date_format and format reach Zoho as
    CONFIG, and each result is saved as the emulator rendered it."""
    run = await zoho.run("""\
        east:
          export:
            from: analytics
            view: Sales
            criteria: "\\"Sales\\".\\"Region\\" = 'East' and \\"Units\\" >= 10"
            columns: [Customer, Date, Amount]
            delimiter: tab
            date_format: dd-MMM-yyyy
            show_hidden_columns: false
          output: analytics/east.tsv
        east_xml:
          export: {from: analytics, view: Sales, format: xml, criteria: "\\"Region\\" = 'East'"}
          output: analytics/east.xml
        west_xls:
          export: {from: analytics, view: Sales, format: xls, columns: [Region, Amount]}
          output: analytics/west.xls
        customers_pdf:
          export: {from: analytics, view: Customers, format: pdf}
          output: analytics/customers.pdf
        customers_html:
          export: {from: analytics, view: Customers, format: html, date_format: yyyy/MM/dd}
          output: analytics/customers.html
        totals_xls:
          export:
            from: analytics
            sql: "SELECT Region, SUM(Amount) AS Total FROM Sales GROUP BY Region"
            format: xls
            columns: [Total, Region]
          output: analytics/totals.xls
        """)
    assert run.code == 0, run.log
    truth = zoho.emulator.ground_truth
    east_config = {
        "criteria": '"Sales"."Region" = \'East\' and "Units" >= 10',
        "selectedColumns": ["Customer", "Date", "Amount"],
        "delimiter": 1,
        "dateFormat": "dd-MMM-yyyy",
    }
    east = (run.out / "analytics/east.tsv").read_bytes()
    assert east == truth.analytics_view("Sales", "csv", east_config)
    rows = [line.split(b"\t") for line in east.splitlines()]
    expected = [
        r
        for r in zoho.emulator.rows("analytics", "Sales")
        if r["Region"] == "East" and r["Units"] >= 10
    ]
    assert rows[0] == [b"Customer", b"Date", b"Amount"]
    assert [row[0].decode() for row in rows[1:]] == [r["Customer"] for r in expected]
    assert len(expected) > 0
    assert rows[1][1].decode()[2:3] == "-" and rows[1][1].decode()[3:6].isalpha()
    assert (run.out / "analytics/east.xml").read_bytes() == truth.analytics_view(
        "Sales", "xml", {"criteria": "\"Region\" = 'East'"}
    )
    assert (run.out / "analytics/west.xls").read_bytes() == truth.analytics_view(
        "Sales", "xls", {"selectedColumns": ["Region", "Amount"]}
    )
    assert (run.out / "analytics/customers.pdf").read_bytes() == truth.analytics_view(
        "Customers", "pdf"
    )
    assert (run.out / "analytics/customers.html").read_bytes() == truth.analytics_view(
        "Customers", "html", {"dateFormat": "yyyy/MM/dd"}
    )
    assert (run.out / "analytics/totals.xls").read_bytes() == truth.analytics_sql(
        "SELECT Region, SUM(Amount) AS Total FROM Sales GROUP BY Region",
        "xls",
        {"selectedColumns": ["Total", "Region"]},
    )
    manifest = valid_manifest(run)
    assert manifest["jobs"]["east"]["output"]["rows"] == len(expected)
    east_sales = sum(r["Region"] == "East" for r in zoho.emulator.rows("analytics", "Sales"))
    assert manifest["jobs"]["east_xml"]["output"]["rows"] == east_sales
    assert manifest["jobs"]["west_xls"]["output"]["rows"] is None  # a workbook doesn't say


# Nested: an `or` of a lookup condition and an `and` group, with a list value.
NESTED_YAML = """\
            criteria:
              group_operator: or
              group:
                - {api_name: Owner.last_name, comparator: equal, value: Boyle}
                - group_operator: and
                  group:
                    - {api_name: Lead_Source, comparator: in, value: [Advertisement, Web Download]}
                    - {api_name: Last_Name, comparator: starts_with, value: S}
"""


def nested(condition) -> dict:
    """NESTED_YAML's criteria, each condition spelt by `condition(api_name)`."""

    def leaf(api_name: str, comparator: str, value) -> dict:
        return {**condition(api_name), "comparator": comparator, "value": value}

    return {
        "group_operator": "or",
        "group": [
            leaf("Owner.last_name", "equal", "Boyle"),
            {
                "group_operator": "and",
                "group": [
                    leaf("Lead_Source", "in", ["Advertisement", "Web Download"]),
                    leaf("Last_Name", "starts_with", "S"),
                ],
            },
        ],
    }


async def test_criteria_are_sent_as_each_api_version_documents(zoho) -> None:
    """CRM v8 takes {field: {api_name}}, Bigin v1 {api_name} (zsync/providers/bulk_read.py);
    either way the export holds exactly the matching rows."""
    fields = "[Last_Name, Lead_Source, Owner.last_name]"
    run = await zoho.run(
        f"""\
        crm_leads:
          export:
            from: crm
            module: Leads
            fields: {fields}
{NESTED_YAML}
          output: crm.csv
        bigin_contacts:
          export:
            from: bigin
            module: Contacts
            fields: {fields}
{NESTED_YAML}
          output: bigin.csv
        """
    )
    assert run.code == 0, run.log
    sent = {job.kind: job.definition["criteria"] for job in zoho.emulator.stats.created}
    assert sent == {
        "crm.read": nested(lambda name: {"field": {"api_name": name}}),
        "bigin.read": nested(lambda name: {"api_name": name}),
    }
    truth = zoho.emulator.ground_truth
    columns = ["Last_Name", "Lead_Source", "Owner.last_name"]
    for name, product, module in (("crm", "crm", "Leads"), ("bigin", "bigin", "Contacts")):
        expected = truth.crm_records(
            module, columns, nested(lambda n: {"api_name": n}), product=product
        )
        everything = truth.crm_records(module, columns, product=product)
        assert (run.out / f"{name}.csv").read_bytes() == expected
        rows = expected.count(b"\n") - 1
        assert 0 < rows < everything.count(b"\n") - 1, (name, rows)  # the filter filters
        for line in expected.decode().splitlines()[1:]:
            last_name, source, owner = line.split(",")[1:]
            assert owner == "Boyle" or (
                source in ("Advertisement", "Web Download") and last_name.startswith("S")
            ), line
