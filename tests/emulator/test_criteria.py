"""The CRM criteria engine: every comparator of seed 003's table, groups, ${EMPTY}, errors."""

from __future__ import annotations

import pytest

from zsync.emulator import criteria as crit
from zsync.emulator.data import Field

FIELDS = {
    f.api_name: f
    for f in (
        Field("Amount", "currency"),
        Field("Employees", "integer"),
        Field("Name", "text"),
        Field("Email", "email"),
        Field("Stage", "picklist"),
        Field("Closing_Date", "date"),
        Field("Created_Time", "datetime"),
        Field("Active", "boolean"),
        Field("Owner", "owner"),
        Field("Account_Name", "lookup", "Accounts"),
        Field("Owner.last_name", "text"),
    )
}
ROW = {
    "Amount": 1500.5,
    "Employees": 40,
    "Name": "Zylker Corp",
    "Email": "a@zylker.com",
    "Stage": "Proposal",
    "Closing_Date": "2024-03-15",
    "Created_Time": "2024-03-01T10:00:00+00:00",
    "Active": True,
    "Owner": "111",
    "Account_Name": None,
    "Owner.last_name": "Boyle",
}


def check(api_name: str, comparator: str, value) -> bool:
    node = crit.parse({"api_name": api_name, "comparator": comparator, "value": value}, FIELDS.get)
    return crit.matches(node, ROW.get)


@pytest.mark.parametrize(
    ("api_name", "comparator", "value", "expected"),
    [
        ("Amount", "equal", 1500.5, True),
        ("Amount", "not_equal", 1500.5, False),
        ("Amount", "in", [1, 1500.5], True),
        ("Amount", "not_in", [1, 2], True),
        ("Employees", "less_than", 41, True),
        ("Employees", "less_equal", 40, True),
        ("Employees", "greater_than", 40, False),
        ("Employees", "greater_equal", "40", True),
        ("Name", "equal", "zylker corp", True),
        ("Name", "not_equal", "Acme", True),
        ("Name", "in", ["Acme", "Zylker Corp"], True),
        ("Name", "not_in", ["Zylker Corp"], False),
        ("Name", "contains", "lker", True),
        ("Name", "not_contains", "lker", False),
        ("Email", "starts_with", "a@", True),
        ("Email", "ends_with", "zylker.com", True),
        ("Stage", "equal", "Proposal", True),
        ("Closing_Date", "equal", "2024-03-15", True),
        ("Closing_Date", "not_equal", "2024-03-15", False),
        ("Closing_Date", "in", ["2024-03-15"], True),
        ("Closing_Date", "not_in", ["2024-03-15"], False),
        ("Closing_Date", "between", ["2024-03-01", "2024-03-31"], True),
        ("Closing_Date", "not_between", ["2024-03-01", "2024-03-31"], False),
        (
            "Created_Time",
            "between",
            ["2024-02-01T00:00:00+05:30", "2024-03-02T00:00:00+05:30"],
            True,
        ),
        (
            "Created_Time",
            "greater_equal",
            "2024-03-01T15:30:00+05:30",
            True,
        ),  # seed 003's ICS sample
        ("Active", "equal", True, True),
        ("Active", "equal", "false", False),
        ("Owner", "equal", "111", True),
        ("Owner", "not_equal", "111", False),
        ("Owner", "in", ["1", "111"], True),
        ("Owner", "not_in", ["111"], False),
        ("Account_Name", "equal", "${EMPTY}", True),
        ("Account_Name", "not_equal", "${EMPTY}", False),
        ("Name", "equal", "${EMPTY}", False),
        ("Owner.last_name", "equal", "Boyle", True),
    ],
)
def test_comparators(api_name, comparator, value, expected):
    assert check(api_name, comparator, value) is expected


@pytest.mark.parametrize(
    ("api_name", "comparator"),
    [
        ("Active", "not_equal"),
        ("Owner", "contains"),
        ("Amount", "starts_with"),
        ("Name", "between"),
        ("Nope", "equal"),
    ],
)
def test_comparators_outside_the_table_are_rejected(api_name, comparator):
    with pytest.raises(crit.CriteriaError):
        crit.parse({"api_name": api_name, "comparator": comparator, "value": "x"}, FIELDS.get)


def test_nested_groups_and_field_form():
    node = crit.parse(
        {
            "group_operator": "or",
            "group": [
                {"field": {"api_name": "Name"}, "comparator": "equal", "value": "nobody"},
                {
                    "group_operator": "and",
                    "group": [
                        {"api_name": "Amount", "comparator": "greater_than", "value": 1000},
                        {"api_name": "Active", "comparator": "equal", "value": True},
                    ],
                },
            ],
        },
        FIELDS.get,
    )
    assert crit.matches(node, ROW.get)
    with pytest.raises(crit.CriteriaError):
        crit.parse({"group_operator": "xor", "group": [{}]}, FIELDS.get)
    with pytest.raises(crit.CriteriaError):
        crit.parse({"api_name": "Name", "comparator": "equal"}, FIELDS.get)
