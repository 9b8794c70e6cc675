"""The in-process handle: every product's state, the clock, tokens, fault switches, introspection.

One `Emulator` is one independent Zoho: tests may run several side by side. The aiohttp app
(`app.create_app`) only translates HTTP to calls on this object, so a test can act on the same
state directly (read stored rows, flip faults, advance a manual clock).
"""

from __future__ import annotations

import fnmatch
import random
from collections import Counter
from typing import TYPE_CHECKING, Any

from zsync.emulator.clock import Clock, ScaledClock
from zsync.emulator.config import EmulatorConfig
from zsync.emulator.data import SCHEMAS, Ids, Row, generate
from zsync.emulator.faults import Faults
from zsync.emulator.introspection import CreatedJob, Stats
from zsync.emulator.jobs import Job, JobBook, Timeline
from zsync.emulator.limits import RateLimits
from zsync.emulator.oauth import TokenStore
from zsync.emulator.tables import Table

if TYPE_CHECKING:
    from zsync.emulator.ground_truth import GroundTruth


class Emulator:
    def __init__(self, config: EmulatorConfig | None = None, clock: Clock | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.clock: Clock = clock or ScaledClock(self.config.time_scale)
        self.tokens = TokenStore(self.config, self.clock)
        self.faults = Faults(self.config.faults)
        # Zoho's per-minute limits; a test may switch them off or on while the server runs.
        self.limits = RateLimits(self.clock, enabled=self.config.rate_limits)
        self.jobs = JobBook()
        self.stats = Stats()
        self.denied_modules: set[str] = set(self.config.denied_modules)
        self.export_permission = self.config.export_permission
        self.tables: dict[tuple[str, str], Table] = {}
        self._job_counter = 0
        self._durations = random.Random(self.config.seed)  # job_seconds draws
        # Imported late: product models need the names above and import this module for typing.
        from zsync.emulator.analytics.models import AnalyticsState
        from zsync.emulator.creator.models import CreatorState
        from zsync.emulator.crm.models import CrmState
        from zsync.emulator.ground_truth import GroundTruth

        self.crm = CrmState(self, "crm")
        self.bigin = CrmState(self, "bigin")
        self.creator = CreatorState(self)
        self.analytics = AnalyticsState(self)
        self.ground_truth: GroundTruth = GroundTruth(self)

    # -- data ----------------------------------------------------------------------------
    def has_table(self, product: str, name: str) -> bool:
        return (product, name) in self.tables or name in SCHEMAS.get(product, {})

    def table(self, product: str, name: str) -> Table:
        """The live table (generated rows + stored writes) of a module/report form/table."""
        key = (product, name)
        if key not in self.tables:
            module = SCHEMAS[product][name]
            ids = Ids(self.config.seed, product)
            sizes = {m: self.config.size(product, m) for m in SCHEMAS[product]}
            seed = self.config.seed
            self.tables[key] = Table(
                module,
                self.config.size(product, name),
                lambda i: generate(seed, module, i, ids, sizes),
            )
        return self.tables[key]

    def rows(self, product: str, name: str) -> list[Row]:
        """Every stored row of a table, settled to now (imports/writes that finished applied)."""
        self.settle()
        return list(self.table(product, name).rows())

    def settle(self) -> None:
        now = self.clock.now()
        self.analytics.settle(now)
        self.crm.settle(now)
        self.bigin.settle(now)

    def touch(
        self, product: str, module: str, changed: int = 0, added: int = 0, at: float | None = None
    ) -> list[str]:
        """Edit `changed` records and add `added`, modified now (or at `at`): see changes.py."""
        from zsync.emulator.changes import touch

        return touch(self, product, module, changed, added, at)

    def may_read(self, product: str, module: str) -> bool:
        return f"{product}.{module}" not in self.denied_modules

    # -- jobs ----------------------------------------------------------------------------
    def new_job_id(self, product: str) -> str:
        """All-digit ids (the CRM SDK insists [sdk]), distinct per instance and product."""
        self._job_counter += 1
        prefix = Ids(self.config.seed, product).prefix
        if product == "creator":
            return f"2000000{self._job_counter:06d}"  # 13 digits like seed 004's "2000000018003"
        return f"{prefix}0{self._job_counter:011d}"

    def register_job(self, job: Job, target: str) -> None:
        self.jobs.add(job, self.clock.now())
        definition = {k: v for k, v in job.definition.items() if k != "target"}
        self.stats.created.append(CreatedJob(job.kind, job.org, target, job.id, definition))

    # -- introspection -------------------------------------------------------------------
    def request_count(self, pattern: str = "*") -> int:
        """Requests served whose endpoint name matches `pattern` (``crm.bulk_read.*``)."""
        return self.stats.count(pattern)

    @property
    def requests(self) -> Counter[str]:
        return self.stats.requests

    def peak_jobs(self, kind: str = "*", org: str | None = None) -> int:
        """Most jobs of `kind` ever in flight at once in one organisation (or in `org`)."""
        return max(
            (
                n
                for (o, k), n in self.jobs.peaks.items()
                if fnmatch.fnmatchcase(k, kind) and (org is None or o == org)
            ),
            default=0,
        )

    def creates(self, kind: str | None = None, target: str | None = None) -> int:
        return self.stats.creates(kind, target)

    def creates_per_definition(self) -> Counter[str]:
        return self.stats.creates_per_definition()

    @property
    def callbacks(self) -> list[Any]:
        return self.stats.callbacks

    def revoke_tokens(self) -> None:
        """Every access token issued so far is refused from now on (refresh still works)."""
        self.tokens.revoke_all()

    def revoke_refresh_token(self) -> None:
        self.tokens.refresh_token_valid = False
        self.tokens.revoke_all()

    def new_timeline(self, rows: int, fails: bool) -> Timeline:
        """The phases of a job over `rows` rows that starts now, at the configured speed."""
        config = self.config
        if config.job_seconds is not None:
            low, high = config.job_seconds
            seconds = low if low == high else self._durations.uniform(low, high)
            # A tenth waiting in each of ADDED and QUEUED, the rest running.
            return Timeline(self.clock.now(), seconds / 10, seconds * 0.8, fails)
        return Timeline.for_rows(
            self.clock.now(), rows, config.job_rows_per_second, config.job_wait_seconds, fails
        )

    def demo(self, base_url: str = "") -> dict[str, str]:
        """The ids a client needs to talk to this instance (printed in the banner)."""
        return {
            "base_url": base_url,
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
            "refresh_token": self.config.refresh_token,
            "crm_org_id": self.crm.org_id,
            "crm_zgid": self.crm.zgid,  # what X-CRM-ORG carries (the org id is accepted too)
            "bigin_org_id": self.bigin.org_id,
            "analytics_org_id": self.analytics.org_id,
            "analytics_workspace_id": self.analytics.workspace_id,
            "creator_owner": self.creator.owner,
            "creator_app": self.creator.app,
        }
