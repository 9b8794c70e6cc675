"""The emulator's settings: one frozen value, given once when an `Emulator` is made.

Every knob a test or a benchmark turns lives here (data sizes, page sizes, emulated time,
credentials, scopes, permissions, seeded fault rates); switches that change while a server runs
(fail the next N requests, revoke tokens) live on `Emulator.faults` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

# Sizes are "<product>.<module>" -> rows. Small enough that a test suite reads everything,
# big enough that criteria, pages and group-bys have something to chew on.
DEFAULT_SIZES: Mapping[str, int] = MappingProxyType(
    {
        "crm.Leads": 120,
        "crm.Contacts": 150,
        "crm.Accounts": 40,
        "crm.Deals": 80,
        "crm.Events": 60,
        "bigin.Contacts": 90,
        "bigin.Accounts": 30,  # Bigin's Companies: "Accounts" is the API name
        "bigin.Deals": 50,
        "bigin.Events": 40,
        "bigin.Tasks": 40,
        "bigin.Calls": 30,
        "bigin.Products": 20,
        "bigin.Activities": 60,
        "creator.Orders": 250,
        "creator.Customers": 60,
        "analytics.Sales": 400,
        "analytics.Customers": 50,
    }
)

ALL_SCOPES = None  # sentinel meaning "the demo client was granted every scope"


@dataclass(frozen=True)
class FaultConfig:
    """Seeded, rate-based faults applied to API calls (never to /oauth or downloads' retries).

    Rates are probabilities per request drawn from `random.Random(seed)`, so a run with the same
    seed and the same request order sees the same faults.
    """

    seed: int = 0
    error_rate: float = 0.0  # HTTP 500 INTERNAL_ERROR in each product's shape
    throttle_rate: float = 0.0  # HTTP 429 with Retry-After
    retry_after: float = 1.0  # seconds, sent in Retry-After on 429
    reset_rate: float = 0.0  # connection dropped mid-body on result downloads
    crm_throttle_rate: float = 0.0  # CRM/Bigin's HTTP 400 "too many requests" (429 elsewhere)
    truncate_rate: float = 0.0  # result downloads cut short at a seeded point, cleanly
    corrupt_rate: float = 0.0  # result downloads at full length with bytes flipped
    job_failure_rate: float = 0.0  # jobs that end FAILED / JOBCODE 1003
    latency: float = 0.0  # real seconds added before every API response


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything that shapes one emulator instance; the same config gives the same data and ids."""

    seed: int = 42
    sizes: Mapping[str, int] = field(default_factory=lambda: DEFAULT_SIZES)
    page_size: int = 200_000  # CRM/Bigin records per bulk-read page [seed 002/003]
    ics_batch_size: int = 20_000  # Events per ICS export batch [seed 003]
    creator_max_batch: int = 200_000  # largest Creator max_records (Creator bulk limitations)
    # Testing aid, not Zoho: accept any max_records from 1 to creator_max_batch (Zoho takes
    # 100,000..200,000 in steps of 1,000), so small demo data spans several batches.
    creator_small_batches: bool = False
    # Emulated seconds per real second: 3600 makes an emulated hour last one real second.
    time_scale: float = 1.0
    token_lifetime: float = 3600.0  # emulated seconds an access token lives
    # Zoho issues at most 10 access tokens per refresh token per 10 minutes and keeps 15
    # alive (the 16th retires the oldest): CRM's token-validity page, Kaizen #43.
    # None turns the budget off.
    token_budget: int | None = 10
    token_window: float = 600.0  # emulated seconds
    live_tokens: int = 15
    # Zoho's per-minute request limits (CRM downloads, Creator creates and downloads; see
    # `limits`), over emulated time. False lets a test or benchmark go as fast as it can.
    rate_limits: bool = True
    client_id: str = "1000.ZSYNCEMULATORDEMOCLIENT"
    client_secret: str = "zsync-emulator-demo-secret"
    refresh_token: str = "1000.zsyncdemorefresh.emulator"
    # None grants every scope; a tuple limits the demo client (-> OAUTH_SCOPE_MISMATCH).
    scopes: tuple[str, ...] | None = ALL_SCOPES
    # "<product>.<module>" the demo user may not read (-> NO_PERMISSION 403 / 7301 / Creator).
    denied_modules: frozenset[str] = frozenset()
    # False: the demo user's profile lacks "export" (-> AUTHORIZATION_FAILED 400 on CRM/Bigin).
    export_permission: bool = True
    job_rows_per_second: float = 100_000.0  # emulated processing speed of every bulk job
    job_wait_seconds: float = 2.0  # emulated seconds a job spends in each waiting state
    # Benchmarking aid, not Zoho: every job lasts a duration drawn (seeded) from this range of
    # emulated seconds, whatever its rows; (1.0, 1.0) makes every job last exactly a second.
    job_seconds: tuple[float, float] | None = None
    analytics_result_lifetime: float = 3600.0  # [seed 000/001]
    crm_result_lifetime: float = 86_400.0  # [doc?] "about a day"
    creator_cursor_lifetime: float = 900.0  # [seed 004] 15 minutes
    analytics_max_jobs: int = 5  # per organisation and kind (export/import) [seed 000/001]
    analytics_max_file_bytes: int = 100 * 1024 * 1024  # [seed 001]
    faults: FaultConfig = field(default_factory=FaultConfig)

    def size(self, product: str, module: str) -> int:
        key = f"{product}.{module}"
        return int(self.sizes.get(key, DEFAULT_SIZES.get(key, 0)))

    def with_sizes(self, **sizes: int) -> EmulatorConfig:
        """A copy with some sizes changed; keys use `_` for `.` (``crm_Leads=10``)."""
        merged = dict(self.sizes)
        merged.update({key.replace("_", ".", 1): value for key, value in sizes.items()})
        return replace(self, sizes=MappingProxyType(merged))
