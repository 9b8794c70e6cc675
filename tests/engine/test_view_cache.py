"""An Analytics export names its view: the view list is asked for once per run and
connection, however many jobs name views (zsync/providers/analytics.py)."""

from __future__ import annotations


async def test_ten_exports_of_one_view_make_one_view_list_call(zoho) -> None:
    jobs = "".join(
        f"sales_{n}:\n  export: {{from: analytics, view: Sales}}\n"
        f"  output: analytics/sales_{n}.csv\n"
        for n in range(10)
    )
    jobs += "customers:\n  export: {from: analytics, view: Customers}\n"
    jobs += "  output: analytics/customers.csv\n"
    run = await zoho.run(jobs)
    assert run.code == 0, run.log
    # Ten jobs on Sales (several at once, within the connection's export slots) and one on
    # Customers, a view of the same list.
    assert zoho.emulator.stats.count("analytics.views") == 1
    truth = zoho.emulator.ground_truth
    for n in range(10):
        assert (run.out / f"analytics/sales_{n}.csv").read_bytes() == truth.analytics_view("Sales")
    assert (run.out / "analytics/customers.csv").read_bytes() == truth.analytics_view("Customers")


async def test_a_view_missing_from_the_list_is_asked_for_again(zoho) -> None:
    run = await zoho.run("""\
        sales:
          export: {from: analytics, view: Sales}
          output: analytics/sales.csv
        nothing:
          needs: [sales]  # asked for after sales's list call, never before it
          export: {from: analytics, view: No_Such_View}
          output: analytics/nothing.csv
        """)
    assert run.code != 0
    assert run.job("sales")["status"] == "succeeded"
    assert run.job("nothing")["status"] == "failed"
    assert "has no view named 'No_Such_View'" in run.job("nothing")["error"]["message"]
    # The missing name isn't taken from a list fetched before it was asked for.
    assert zoho.emulator.stats.count("analytics.views") == 2
