"""Zoho's per-minute request limits, enforced as Zoho enforces them.

- CRM bulk read: 10 result downloads a minute per organisation; past that HTTP 429
  TOO_MANY_REQUESTS, and the downloads are served again only after a minute (CRM bulk-read
  limitations page). Bigin documents no such limit, so none is enforced for it.
- Creator bulk read: 5 creates a minute per user and 15 per organisation; 10 result downloads
  a minute per user and 30 per organisation; past that HTTP 429 with code 2955 (Creator bulk API
  limitations page; the code is Creator's "API call limit" error).

Neither answer carries Retry-After [doc?: none is documented]. Windows slide over emulated
time; a refused request does not count. The emulator has one user (its one refresh token), so
the per-user window of Creator is the one a single client meets first.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from zsync.emulator.clock import Clock
from zsync.emulator.errors import ApiError, creator_error, crm_error


@dataclass(frozen=True)
class Limit:
    calls: int
    per: float  # emulated seconds
    blocks: bool = False  # past it, refuse everything for `per` (CRM's one-minute block)


_DOWNLOADS_CRM = (Limit(10, 60.0, blocks=True),)
_CREATES_CREATOR = (Limit(5, 60.0), Limit(15, 60.0))  # per user, per organisation
_DOWNLOADS_CREATOR = (Limit(10, 60.0), Limit(30, 60.0))

# endpoint name -> (the kind of request it counts as, its limits)
LIMITED: dict[str, tuple[str, tuple[Limit, ...]]] = {
    "crm.bulk_read.result": ("crm.download", _DOWNLOADS_CRM),
    "creator.bulk_read.create": ("creator.create", _CREATES_CREATOR),
    "creator.bulk_read.result": ("creator.download", _DOWNLOADS_CREATOR),
    "creator.bulk_read.download": ("creator.download", _DOWNLOADS_CREATOR),
    "creator.bulk_read.download_slash": ("creator.download", _DOWNLOADS_CREATOR),
}


@dataclass
class _Window:
    limit: Limit
    accepted: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0


@dataclass
class RateLimits:
    clock: Clock
    enabled: bool = True
    _windows: dict[tuple[str, int], _Window] = field(default_factory=dict)
    refused: list[tuple[str, float]] = field(default_factory=list)  # (kind, emulated time)

    def check(self, endpoint: str) -> None:
        """Count a request of `endpoint`, or raise Zoho's answer when it is over a limit."""
        if not self.enabled or endpoint not in LIMITED:
            return
        kind, limits = LIMITED[endpoint]
        now = self.clock.now()
        windows = [self._window(kind, i, limit) for i, limit in enumerate(limits)]
        for window in windows:
            while window.accepted and window.accepted[0] + window.limit.per <= now:
                window.accepted.popleft()
        over = [w for w in windows if now < w.blocked_until or len(w.accepted) >= w.limit.calls]
        if over:
            for window in over:
                if window.limit.blocks and now >= window.blocked_until:
                    window.blocked_until = now + window.limit.per
            self.refused.append((kind, now))
            raise _refusal(kind)
        for window in windows:
            window.accepted.append(now)

    def _window(self, kind: str, index: int, limit: Limit) -> _Window:
        window = self._windows.get((kind, index))
        if window is None:
            window = self._windows[(kind, index)] = _Window(limit)
        return window


def _refusal(kind: str) -> ApiError:
    if kind.startswith("creator."):
        return creator_error(2955)
    return crm_error("TOO_MANY_REQUESTS")
