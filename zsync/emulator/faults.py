"""Fault switches: deterministic ("the next N requests to endpoint X") and seeded-rate faults.

Endpoints are route names such as ``crm.bulk_read.create`` or ``analytics.export.data``;
patterns use shell wildcards (``crm.*``, ``*.result``). Request-level faults (5xx, 429, CRM's
HTTP-400 throttle, slowness) are applied by the middleware before the handler runs;
body-level faults (reset mid-body, truncated or corrupt file) by `respond.deliver`.
Job faults (a job that ends FAILED / 1003) are taken when a job is created.
"""

from __future__ import annotations

import fnmatch
import random
from dataclasses import dataclass

from zsync.emulator.config import FaultConfig

REQUEST_FAULTS = ("error", "throttle", "crm_throttle", "slow")
BODY_FAULTS = ("reset", "truncate", "corrupt")


@dataclass
class FaultRule:
    kind: str  # one of REQUEST_FAULTS + BODY_FAULTS
    pattern: str
    remaining: int
    status: int = 500
    retry_after: float = 1.0
    delay: float = 0.0


@dataclass(frozen=True)
class Fault:
    kind: str
    status: int = 500
    retry_after: float = 1.0
    delay: float = 0.0
    # Where in a body a truncate or corrupt fault lands (0..1 of its length). An explicit
    # rule cuts at the middle, so tests know what they get; a seeded fault lands at a seeded
    # random place, as a broken transfer does: two faulty reads of one result rarely match.
    position: float = 0.5


class Faults:
    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)
        self.rules: list[FaultRule] = []
        self._job_failures: list[FaultRule] = []
        self.injected: list[tuple[str, str]] = []  # (endpoint, kind) of every fault applied

    # -- switches a test flips -------------------------------------------------------------
    def fail_next(self, pattern: str = "*", n: int = 1, status: int = 500) -> None:
        """The next `n` matching requests answer INTERNAL_ERROR (or `status`) in product shape."""
        self.rules.append(FaultRule("error", pattern, n, status=status))

    def throttle_next(self, pattern: str = "*", n: int = 1, retry_after: float = 1.0) -> None:
        """The next `n` matching requests answer HTTP 429 with `Retry-After` (a burst)."""
        self.rules.append(FaultRule("throttle", pattern, n, retry_after=retry_after))

    def crm_throttle_next(self, pattern: str = "crm.*", n: int = 1) -> None:
        """CRM's HTTP 400 "too many requests" answer, without Retry-After."""
        self.rules.append(FaultRule("crm_throttle", pattern, n))

    def slow_next(self, pattern: str = "*", n: int = 1, delay: float = 0.5) -> None:
        """The next `n` matching requests wait `delay` real seconds before answering."""
        self.rules.append(FaultRule("slow", pattern, n, delay=delay))

    def reset_next(self, pattern: str = "*", n: int = 1) -> None:
        """The next `n` matching replies are cut mid-body and the connection dropped."""
        self.rules.append(FaultRule("reset", pattern, n))

    def truncate_next(self, pattern: str = "*", n: int = 1) -> None:
        """The next `n` matching downloads deliver only the first half of the file, cleanly."""
        self.rules.append(FaultRule("truncate", pattern, n))

    def corrupt_next(self, pattern: str = "*", n: int = 1) -> None:
        """The next `n` matching downloads deliver the full length with bytes flipped."""
        self.rules.append(FaultRule("corrupt", pattern, n))

    def fail_next_jobs(self, pattern: str = "*", n: int = 1) -> None:
        """The next `n` jobs created of a matching kind (``crm.read``, ``analytics.export``,
        ``analytics.import``, ``creator.read``, ``crm.write``, ``bigin.read``) end FAILED/1003."""
        self._job_failures.append(FaultRule("job", pattern, n))

    def clear(self) -> None:
        self.rules.clear()
        self._job_failures.clear()

    # -- consulted by the server ---------------------------------------------------------
    def take(self, endpoint: str, kinds: tuple[str, ...], seeded: bool = True) -> Fault | None:
        """The fault this request gets, consuming one use of the first matching rule; with
        `seeded`, the configured rates may deal one when no rule does."""
        for rule in self.rules:
            hit = rule.kind in kinds and fnmatch.fnmatchcase(endpoint, rule.pattern)
            if hit and rule.remaining > 0:
                rule.remaining -= 1
                self.injected.append((endpoint, rule.kind))
                return Fault(rule.kind, rule.status, rule.retry_after, rule.delay)
        self.rules = [rule for rule in self.rules if rule.remaining > 0]
        return self._seeded(endpoint, kinds) if seeded else None

    def _seeded(self, endpoint: str, kinds: tuple[str, ...]) -> Fault | None:
        c = self.config
        if "error" in kinds and c.error_rate and self._rng.random() < c.error_rate:
            kind = "error"
        elif "throttle" in kinds and c.throttle_rate and self._rng.random() < c.throttle_rate:
            kind = "throttle"
        elif (
            "crm_throttle" in kinds
            and c.crm_throttle_rate
            and self._rng.random() < c.crm_throttle_rate
        ):
            kind = "crm_throttle"
        elif "reset" in kinds and c.reset_rate and self._rng.random() < c.reset_rate:
            kind = "reset"
        elif "truncate" in kinds and c.truncate_rate and self._rng.random() < c.truncate_rate:
            kind = "truncate"
        elif "corrupt" in kinds and c.corrupt_rate and self._rng.random() < c.corrupt_rate:
            kind = "corrupt"
        else:
            return None
        self.injected.append((endpoint, kind))
        position = self._rng.random() if kind in ("truncate", "corrupt") else 0.5
        return Fault(kind, 500, c.retry_after, position=position)

    def job_should_fail(self, kind: str) -> bool:
        for rule in self._job_failures:
            if rule.remaining > 0 and fnmatch.fnmatchcase(kind, rule.pattern):
                rule.remaining -= 1
                self.injected.append((kind, "job"))
                return True
        rate = self.config.job_failure_rate
        if rate and self._rng.random() < rate:
            self.injected.append((kind, "job"))
            return True
        return False
