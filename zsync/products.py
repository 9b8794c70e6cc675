"""What each Zoho product offers zsync, and the documented limits that bound it.

Caps marked `documented` come from Zoho's pages (../shared/seeds); the others are zsync's
own conservative defaults where Zoho documents no concurrency cap, and say so.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

Product = Literal["crm", "bigin", "creator", "analytics"]
Direction = Literal["export", "import"]
PRODUCTS: tuple[Product, ...] = ("crm", "bigin", "creator", "analytics")


class Cap(NamedTuple):
    jobs: int
    documented: bool
    note: str


# (product, direction) -> concurrency cap per organisation. Absent: the product offers no
# such job through zsync.
CAPS: dict[tuple[Product, Direction], Cap] = {
    ("analytics", "export"): Cap(5, True, "at most 5 concurrent export jobs per organisation"),
    ("analytics", "import"): Cap(5, True, "at most 5 concurrent import jobs per organisation"),
    ("crm", "export"): Cap(5, False, "Zoho allows 10 result downloads a minute"),
    ("crm", "import"): Cap(5, False, "no documented cap"),
    ("bigin", "export"): Cap(5, False, "no documented cap"),
    ("creator", "export"): Cap(5, False, "Zoho allows 5 bulk read creates a minute per user"),
}

# Documented facts `zsync plan` shows beside the jobs they bound.
NOTES: dict[tuple[Product, Direction], tuple[str, ...]] = {
    ("analytics", "export"): ("results downloadable for 1 hour after completion",),
    ("analytics", "import"): (
        "files up to 100 MB (larger ones are split)",
        "import summary kept 1 hour",
    ),
    ("crm", "export"): ("200,000 records per page",),
    ("crm", "import"): ("up to 25,000 records per file (larger ones are split)",),
    ("bigin", "export"): ("200,000 records per page", "ICS: 20,000 events per batch"),
    ("creator", "export"): ("up to 200,000 records per batch", "record cursor valid 15 minutes"),
}


def offers(product: Product, direction: Direction) -> bool:
    return (product, direction) in CAPS


def products_offering(direction: Direction) -> list[Product]:
    return [p for p in PRODUCTS if offers(p, direction)]


# The fewest API calls one page (or file part) of a job costs: every job creates, checks its
# status at least once, and fetches a result or summary.
MIN_CALLS: dict[tuple[Product, Direction], dict[str, int]] = {
    ("analytics", "export"): {"create": 1, "status": 1, "download": 1},
    ("analytics", "import"): {"create": 1, "status": 1},
    ("crm", "export"): {"create": 1, "status": 1, "download": 1},
    ("crm", "import"): {"upload": 1, "create": 1, "status": 1, "download": 1},
    ("bigin", "export"): {"create": 1, "status": 1, "download": 1},
    ("creator", "export"): {"create": 1, "status": 1, "download": 1},
}


# -- per-minute request limits --------------------------------------------------------------

CallKind = Literal["create", "status", "download"]
CALL_KINDS: tuple[CallKind, ...] = ("create", "status", "download")
Scope = Literal["organisation", "user"]


class RateLimit(NamedTuple):
    """At most `calls` requests of one kind in any `per` seconds, per organisation or per user
    (one refresh token) of it."""

    calls: int
    per: float
    scope: Scope
    source: str


_CRM_BULK_READ = "CRM bulk-read limitations page"
_CREATOR_BULK = "Creator bulk API limitations page"

# Zoho issues at most 10 access tokens per refresh token in 10 minutes (Zoho accounts' OAuth
# limits, as CRM's token validity page and Kaizen #43 state them); past them it answers
# "too many requests" instead of a token.
TOKEN_LIMIT = RateLimit(10, 600.0, "user", "Zoho accounts' access-token limit")

# Zoho's documented per-minute limits of the bulk APIs. Past them Zoho answers HTTP 429 (CRM
# serves the blocked requests again only after a minute) without a Retry-After. Kinds absent
# here have no documented per-minute limit; Zoho's API credits still count every call.
RATE_LIMITS: dict[tuple[Product, CallKind], tuple[RateLimit, ...]] = {
    ("crm", "download"): (RateLimit(10, 60.0, "organisation", _CRM_BULK_READ),),
    ("creator", "create"): (
        RateLimit(5, 60.0, "user", _CREATOR_BULK),
        RateLimit(15, 60.0, "organisation", _CREATOR_BULK),
    ),
    ("creator", "download"): (
        RateLimit(10, 60.0, "user", _CREATOR_BULK),
        RateLimit(30, 60.0, "organisation", _CREATOR_BULK),
    ),
}


def tightest(limits: tuple[RateLimit, ...]) -> RateLimit:
    """The limit that allows the fewest requests a second."""
    return min(limits, key=lambda limit: limit.calls / limit.per)


# API credits per call where Zoho meters them (rolling 24 h, by edition): each call costs 1,
# a bulk read's create 50 and a bulk write's create 500 (CRM's and Bigin's API limits pages).
CREDITS: dict[tuple[Product, Direction], dict[str, int]] = {
    ("crm", "export"): {"create": 50},
    ("crm", "import"): {"create": 500},
    ("bigin", "export"): {"create": 50},
}
METERED: frozenset[Product] = frozenset({"crm", "bigin"})


def credits_of(product: Product, direction: Direction, calls: dict[str, int]) -> int | None:
    """API credits `calls` (kind -> count) cost; None where Zoho meters no credits."""
    if product not in METERED:
        return None
    price = CREDITS.get((product, direction), {})
    return sum(n * price.get(kind, 1) for kind, n in calls.items())
