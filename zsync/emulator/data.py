"""Deterministic demo data: module schemas, and rows as a pure function of
(seed, product, module, index).

Nothing is generated up front, so a module of millions of rows costs nothing until a page of
it is read, and the same config gives byte-identical exports on every run and machine.
Record ids encode (module, index) so a lookup (`Account_Name.Phone`) resolves without an index.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

Value = str | int | float | bool | None
Row = dict[str, Value]

EPOCH = datetime(2023, 1, 2, 9, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Field:
    """One column. `type` is CRM's data-type family, which decides the allowed comparators."""

    api_name: str
    # text email phone website picklist integer currency decimal date datetime boolean lookup owner
    type: str
    lookup: str | None = None  # target module of a lookup
    choices: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.api_name.replace("_", " ").strip("$ ")


@dataclass(frozen=True)
class Module:
    product: str
    name: str
    code: int  # two digits inside every record id of this module
    fields: tuple[Field, ...]
    # The name the product's UI shows when it differs from the API name (Bigin's Accounts are
    # "Companies" on screen); the modules API reports it as the label.
    ui_name: str | None = None

    @property
    def plural_label(self) -> str:
        return self.ui_name or self.name

    def field(self, api_name: str) -> Field | None:
        for f in self.fields:
            if f.api_name == api_name:
                return f
        return None

    @property
    def field_names(self) -> list[str]:
        return [f.api_name for f in self.fields]


def _f(name: str, type_: str, lookup: str | None = None, *choices: str) -> Field:
    return Field(name, type_, lookup, tuple(choices))


USER_FIELDS = (
    _f("id", "lookup"),
    _f("first_name", "text"),
    _f("last_name", "text"),
    _f("full_name", "text"),
    _f("email", "email"),
)
USERS: tuple[Row, ...] = tuple(
    {
        "first_name": first,
        "last_name": last,
        "full_name": f"{first} {last}",
        "email": f"{first.lower()}.{last[0].lower()}@zylker.com",
    }
    for first, last in [
        ("Patricia", "Boyle"),
        ("Jason", "Miller"),
        ("Aisha", "Khan"),
        ("Kenji", "Sato"),
        ("Maria", "Garcia"),
    ]
)

LEAD_SOURCES = (
    "Advertisement",
    "Cold Call",
    "Employee Referral",
    "Online Store",
    "Partner",
    "Trade Show",
    "Web Download",
)
INDUSTRIES = ("Banking", "Consulting", "Education", "Healthcare", "Manufacturing", "Retail")
STAGES = ("Qualification", "Needs Analysis", "Proposal", "Negotiation", "Closed Won", "Closed Lost")

_CRM_LIKE: dict[str, tuple[int, tuple[Field, ...]]] = {
    "Accounts": (
        1,
        (
            _f("id", "lookup"),
            _f("Account_Name", "text"),
            _f("Phone", "phone"),
            _f("Website", "website"),
            _f("Industry", "picklist", None, *INDUSTRIES),
            _f("Annual_Revenue", "currency"),
            _f("Employees", "integer"),
            _f("Owner", "owner"),
            _f("Created_Time", "datetime"),
            _f("Modified_Time", "datetime"),
        ),
    ),
    "Contacts": (
        2,
        (
            _f("id", "lookup"),
            _f("First_Name", "text"),
            _f("Last_Name", "text"),
            _f("Email", "email"),
            _f("Phone", "phone"),
            _f("Mobile", "phone"),
            _f("Account_Name", "lookup", "Accounts"),
            _f("Lead_Source", "picklist", None, *LEAD_SOURCES),
            _f("Date_of_Birth", "date"),
            _f("Email_Opt_Out", "boolean"),
            _f("Owner", "owner"),
            _f("Created_Time", "datetime"),
            _f("Modified_Time", "datetime"),
        ),
    ),
    "Leads": (
        3,
        (
            _f("id", "lookup"),
            _f("First_Name", "text"),
            _f("Last_Name", "text"),
            _f("Company", "text"),
            _f("Email", "email"),
            _f("Mobile", "phone"),
            _f("Lead_Source", "picklist", None, *LEAD_SOURCES),
            _f(
                "Lead_Status",
                "picklist",
                None,
                "Not Contacted",
                "Attempted to Contact",
                "Contacted",
                "Qualified",
                "Lost Lead",
            ),
            _f("Annual_Revenue", "currency"),
            _f("$converted", "boolean"),
            _f("Owner", "owner"),
            _f("Created_Time", "datetime"),
            _f("Modified_Time", "datetime"),
        ),
    ),
    "Deals": (
        4,
        (
            _f("id", "lookup"),
            _f("Deal_Name", "text"),
            _f("Amount", "currency"),
            _f("Stage", "picklist", None, *STAGES),
            _f("Closing_Date", "date"),
            _f("Account_Name", "lookup", "Accounts"),
            _f("Contact_Name", "lookup", "Contacts"),
            _f("Owner", "owner"),
            _f("Created_Time", "datetime"),
            _f("Modified_Time", "datetime"),
        ),
    ),
    "Events": (
        5,
        (
            _f("id", "lookup"),
            _f("Event_Title", "text"),
            _f("Start_DateTime", "datetime"),
            _f("End_DateTime", "datetime"),
            _f("All_day", "boolean"),
            _f("Venue", "text"),
            _f("Who_Id", "lookup", "Contacts"),
            _f("Owner", "owner"),
            _f("Created_Time", "datetime"),
            _f("Modified_Time", "datetime"),
        ),
    ),
}


TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Deferred", "Waiting for input")
PRIORITIES = ("High", "Normal", "Low")
CALL_TYPES = ("Outbound", "Inbound", "Missed")
ACTIVITY_TYPES = ("Tasks", "Events", "Calls")

# Bigin's modules beyond the CRM-like four. Seed 003 names them among the bulk-read modules
# ("companies, contacts, deals, tasks, events, calls, products and activities"); the fields are
# a plausible small subset of Bigin's defaults, enough for criteria and lookups to bite.
_BIGIN_ONLY: dict[str, tuple[int, tuple[Field, ...]]] = {
    "Tasks": (
        6,
        (
            _f("id", "lookup"),
            _f("Subject", "text"),
            _f("Due_Date", "date"),
            _f("Status", "picklist", None, *TASK_STATUSES),
            _f("Priority", "picklist", None, *PRIORITIES),
            _f("Contact_Name", "lookup", "Contacts"),
            _f("Owner", "owner"),
            _f("Created_Time", "datetime"),
            _f("Modified_Time", "datetime"),
        ),
    ),
    "Calls": (
        7,
        (
            _f("id", "lookup"),
            _f("Subject", "text"),
            _f("Call_Type", "picklist", None, *CALL_TYPES),
            _f("Call_Start_Time", "datetime"),
            _f("Call_Duration_in_seconds", "integer"),
            _f("Contact_Name", "lookup", "Contacts"),
            _f("Owner", "owner"),
            _f("Created_Time", "datetime"),
            _f("Modified_Time", "datetime"),
        ),
    ),
    "Products": (
        8,
        (
            _f("id", "lookup"),
            _f("Product_Name", "text"),
            _f("Product_Code", "text"),
            _f("Unit_Price", "currency"),
            _f("Product_Active", "boolean"),
            _f("Owner", "owner"),
            _f("Created_Time", "datetime"),
            _f("Modified_Time", "datetime"),
        ),
    ),
    # Bigin's Activities module lists tasks, events and calls together; here it is its own
    # module of rows that each carry an Activity_Type, not a live union of the three.
    "Activities": (
        9,
        (
            _f("id", "lookup"),
            _f("Subject", "text"),
            _f("Activity_Type", "picklist", None, *ACTIVITY_TYPES),
            _f("Due_Date", "date"),
            _f("Contact_Name", "lookup", "Contacts"),
            _f("Owner", "owner"),
            _f("Created_Time", "datetime"),
            _f("Modified_Time", "datetime"),
        ),
    ),
}


def _bigin(name: str) -> Module:
    code, fields = _CRM_LIKE[name] if name in _CRM_LIKE else _BIGIN_ONLY[name]
    # "Accounts in API refers to Companies module in Bigin" (Bigin modules API page).
    return Module("bigin", name, code, fields, "Companies" if name == "Accounts" else None)


CREATOR_STATUSES = ("Open", "Closed", "Shipped", "Cancelled")
REGIONS = ("Central", "East", "North", "South", "West")
PRODUCTS = ("Laptop", "Monitor", "Keyboard", "Mouse", "Headset", "Dock")

SCHEMAS: dict[str, dict[str, Module]] = {
    "crm": {name: Module("crm", name, code, fields) for name, (code, fields) in _CRM_LIKE.items()},
    "bigin": {
        name: _bigin(name)
        for name in (
            "Accounts",
            "Contacts",
            "Deals",
            "Events",
            "Tasks",
            "Calls",
            "Products",
            "Activities",
        )
    },
    "creator": {
        "Orders": Module(
            "creator",
            "Orders",
            1,
            (
                _f("ID", "lookup"),
                _f("Order_No", "integer"),
                _f("Customer_Name", "text"),
                _f("Email", "email"),
                _f("Status", "picklist", None, *CREATOR_STATUSES),
                _f("Quantity", "integer"),
                _f("Amount", "decimal"),
                _f("Order_Date", "date"),
                _f("Modified_Time", "datetime"),
            ),
        ),
        "Customers": Module(
            "creator",
            "Customers",
            2,
            (
                _f("ID", "lookup"),
                _f("Customer_Name", "text"),
                _f("Email", "email"),
                _f("City", "text"),
                _f("Region", "picklist", None, *REGIONS),
                _f("Modified_Time", "datetime"),
            ),
        ),
    },
    "analytics": {
        "Sales": Module(
            "analytics",
            "Sales",
            1,
            (
                _f("Date", "date"),
                _f("Region", "text"),
                _f("Product", "text"),
                _f("Customer", "text"),
                _f("Units", "integer"),
                _f("Amount", "decimal"),
            ),
        ),
        "Customers": Module(
            "analytics",
            "Customers",
            2,
            (
                _f("Customer", "text"),
                _f("Region", "text"),
                _f("Segment", "text"),
                _f("Since", "date"),
            ),
        ),
    },
}
# Bigin's Accounts (the UI's Companies) carry `Account_Name`, the lookup name seed 003's
# sample reads through `Account_Name.Account_Name`.

FIRST = (
    "Patricia",
    "James",
    "Mary",
    "Robert",
    "Linda",
    "Michael",
    "Sofia",
    "David",
    "Emma",
    "Ravi",
    "Chen",
    "Olga",
    "Ahmed",
    "Lucia",
    "Noah",
    "Yuki",
)
LAST = (
    "Boyle",
    "Smith",
    "Johnson",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Wilson",
    "Taylor",
    "Thomas",
    "Moore",
    "Martin",
    "Lee",
    "Walker",
    "Hall",
)
COMPANIES = (
    "Zylker",
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Wonka",
)
CITIES = ("Austin", "Chennai", "Berlin", "Osaka", "Toronto", "Sydney", "Madrid", "Leeds")


class Ids:
    """All-digit ids, 19 characters like Zoho's: org prefix, module code, index."""

    def __init__(self, seed: int, product: str) -> None:
        base = {"crm": 4_150_868, "bigin": 5_540_230, "creator": 3_888_833, "analytics": 1_767_024}
        self.prefix = str(base[product] + (seed * 7_919) % 100_000)  # always 7 digits

    def record(self, code: int, index: int) -> str:
        return f"{self.prefix}{code:02d}{index + 1:010d}"

    def decode(self, record_id: str) -> tuple[int, int] | None:
        if len(record_id) != 19 or not record_id.isdigit() or not record_id.startswith(self.prefix):
            return None
        return int(record_id[7:9]), int(record_id[9:]) - 1

    def user(self, index: int) -> str:
        return self.record(0, index)

    def fixed(self, n: int) -> str:
        """Stable ids for orgs, modules, fields, views: code 99 is never a record module."""
        return f"{self.prefix}99{n:010d}"


def _phone(rng: random.Random) -> str:
    return f"+1-{rng.randrange(200, 999)}-555-{rng.randrange(1000, 9999)}"


def _when(index: int, rng: random.Random) -> datetime:
    return EPOCH + timedelta(hours=index * 7 + rng.randrange(0, 6), minutes=rng.randrange(60))


def iso_dt(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")


CREATOR_DATETIME = "%d-%b-%Y %H:%M:%S"  # Creator's default dd-MMM-yyyy HH:mm:ss [seed 004]


def creator_dt(dt: datetime) -> str:
    return dt.strftime(CREATOR_DATETIME)


def generate(seed: int, module: Module, index: int, ids: Ids, sizes: Mapping[str, int]) -> Row:
    """Row `index` of `module`; `sizes` bounds lookups so they point at existing records."""
    rng = random.Random(f"{seed}/{module.product}/{module.name}/{index}")
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company = f"{rng.choice(COMPANIES)} {rng.choice(('Inc', 'Ltd', 'GmbH', 'Corp'))} {index % 97}"
    created = _when(index, rng)
    owner = ids.user(rng.randrange(len(USERS)))

    def lookup(target: str) -> str | None:
        size = sizes.get(target, 0)
        if size <= 0 or rng.random() < 0.1:
            return None
        return ids.record(SCHEMAS[module.product][target].code, rng.randrange(size))

    name = module.name
    if module.product in ("crm", "bigin"):
        row: Row = {
            "id": ids.record(module.code, index),
            "Owner": owner,
            "Created_Time": iso_dt(created),
            # Derived without the row's random stream, so every other value stays as it was.
            "Modified_Time": iso_dt(created + timedelta(hours=index % 48)),
        }
        if name == "Accounts":
            row |= {
                "Account_Name": company,
                "Phone": _phone(rng),
                "Website": f"https://{company.split()[0].lower()}{index}.example.com",
                "Industry": rng.choice(INDUSTRIES),
                "Annual_Revenue": round(rng.uniform(1e5, 5e7), 2),
                "Employees": rng.randrange(5, 5000),
            }
        elif name == "Contacts":
            row |= {
                "First_Name": first,
                "Last_Name": last,
                "Email": f"{first.lower()}.{last.lower()}{index}@example.com",
                "Phone": _phone(rng),
                "Mobile": _phone(rng) if rng.random() > 0.2 else None,
                "Account_Name": lookup("Accounts"),
                "Lead_Source": rng.choice(LEAD_SOURCES),
                "Date_of_Birth": (EPOCH - timedelta(days=rng.randrange(7000, 25000)))
                .date()
                .isoformat(),
                "Email_Opt_Out": rng.random() < 0.3,
            }
        elif name == "Leads":
            row |= {
                "First_Name": first,
                "Last_Name": last,
                "Company": company,
                "Email": f"{first.lower()}.{last[0].lower()}{index}@zylker.com",
                "Mobile": _phone(rng),
                "Lead_Source": rng.choice(LEAD_SOURCES),
                "Lead_Status": rng.choice(module.field("Lead_Status").choices),  # type: ignore[union-attr]
                "Annual_Revenue": round(rng.uniform(1e4, 1e7), 2),
                "$converted": rng.random() < 0.25,
            }
        elif name == "Deals":
            row |= {
                "Deal_Name": f"{company} - {rng.choice(PRODUCTS)}",
                "Amount": round(rng.uniform(500, 250_000), 2),
                "Stage": rng.choice(STAGES),
                "Closing_Date": (created + timedelta(days=rng.randrange(10, 200)))
                .date()
                .isoformat(),
                "Account_Name": lookup("Accounts"),
                "Contact_Name": lookup("Contacts"),
            }
        elif name == "Events":
            start = created + timedelta(days=rng.randrange(1, 60))
            all_day = rng.random() < 0.2
            row |= {
                "Event_Title": f"{rng.choice(('Demo', 'Call', 'Review', 'Kickoff'))} with "
                f"{first} {last}",
                "Start_DateTime": iso_dt(start),
                "End_DateTime": iso_dt(start + timedelta(hours=24 if all_day else 1)),
                "All_day": all_day,
                "Venue": rng.choice(CITIES),
                "Who_Id": lookup("Contacts"),
            }
        elif name == "Tasks":
            row |= {
                "Subject": f"{rng.choice(('Follow up', 'Send quote', 'Call back'))} {last}",
                "Due_Date": (created + timedelta(days=rng.randrange(1, 30))).date().isoformat(),
                "Status": rng.choice(TASK_STATUSES),
                "Priority": rng.choice(PRIORITIES),
                "Contact_Name": lookup("Contacts"),
            }
        elif name == "Calls":
            row |= {
                "Subject": f"Call with {first} {last}",
                "Call_Type": rng.choice(CALL_TYPES),
                "Call_Start_Time": iso_dt(created + timedelta(hours=rng.randrange(1, 96))),
                "Call_Duration_in_seconds": rng.randrange(30, 3600),
                "Contact_Name": lookup("Contacts"),
            }
        elif name == "Products":
            product = rng.choice(PRODUCTS)
            row |= {
                "Product_Name": f"{product} {index + 1}",
                "Product_Code": f"{product[:3].upper()}-{1000 + index}",
                "Unit_Price": round(rng.uniform(5, 2000), 2),
                "Product_Active": rng.random() < 0.85,
            }
        elif name == "Activities":
            kind = rng.choice(ACTIVITY_TYPES)
            row |= {
                "Subject": f"{kind[:-1]}: {first} {last}",
                "Activity_Type": kind,
                "Due_Date": (created + timedelta(days=rng.randrange(1, 30))).date().isoformat(),
                "Contact_Name": lookup("Contacts"),
            }
        return row
    if module.product == "creator":
        # Creator's system field, derived as CRM's is: without the row's random stream, so
        # every other value stays as it was.
        modified = creator_dt(created + timedelta(hours=index % 48))
        if name == "Orders":
            quantity = rng.randrange(1, 20)
            return {
                "ID": ids.record(module.code, index),
                "Order_No": 10_000 + index,
                "Customer_Name": f"{first} {last}",
                "Email": f"{first.lower()}{index}@example.com",
                "Status": CREATOR_STATUSES[rng.choices(range(4), (5, 3, 3, 1))[0]],
                "Quantity": quantity,
                "Amount": round(quantity * rng.uniform(5, 400), 2),
                "Order_Date": created.strftime("%d-%b-%Y"),
                "Modified_Time": modified,
            }
        return {
            "ID": ids.record(module.code, index),
            "Customer_Name": f"{first} {last}",
            "Email": f"{first.lower()}.{last.lower()}@example.com",
            "City": rng.choice(CITIES),
            "Region": rng.choice(REGIONS),
            "Modified_Time": modified,
        }
    if name == "Sales":
        units = rng.randrange(1, 50)
        return {
            "Date": created.date().isoformat(),
            "Region": rng.choice(REGIONS),
            "Product": rng.choice(PRODUCTS),
            "Customer": f"{first} {last}",
            "Units": units,
            "Amount": round(units * rng.uniform(10, 900), 2),
        }
    if name == "Customers":
        return {
            "Customer": f"{first} {last}",
            "Region": rng.choice(REGIONS),
            "Segment": rng.choice(("Consumer", "Corporate", "Small Business")),
            "Since": created.date().isoformat(),
        }
    raise KeyError(f"no generator for {module.product}.{name}")


def user_row(ids: Ids, index: int) -> Row:
    return {"id": ids.user(index), **USERS[index]}


def render(value: Any) -> str:
    """A value as Zoho writes it in CSV: booleans lower-case, decimals as given, empty for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
