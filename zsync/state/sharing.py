"""What runners sharing one state store agree on: organisation slots and per-minute limits.

Zoho's limits belong to the organisation, not to a process. Runners on one store (several CI
pipelines, an orchestrator's workers, one job file per team) take them from the store, each
in one short transaction:

- A **slot** is a lease row (key, lease, holder, expiry): taken before a create call, renewed
  while the Zoho job lives, freed when it ends. A crashed holder's lease expires on its own
  after its time to live, and the next take drops it.
- A **per-minute limit** is a log of calls (key, call, start, end): a call counts from its
  start, and until `per` seconds after its end, as the run's own windows do
  (zsync.http.rates): a request reaches Zoho before its answer comes back.

Each backend keeps the rows; the arithmetic is here, the same for all of them.
"""

from __future__ import annotations

from collections.abc import Sequence

# Seconds a lease lives without renewal: how long a crashed runner's slots stay taken.
LEASE_TTL = 60.0
LEASE_TTL_VARIABLE = "ZSYNC_LEASE_TTL"
# A call still "in flight" this long after it started belongs to a runner that died.
STALE_CALL = 900.0
# How long to wait before asking again when every call of a window is in flight (its end,
# which frees it, can't be foreseen).
BUSY_RETRY = 0.5


def wait_for_room(
    in_flight: int, ended: Sequence[float], calls: int, per: float, now: float
) -> float:
    """Seconds until one more call fits a window of `calls` per `per` seconds: 0 when it
    fits now. `ended` are the end times (ascending) of finished calls still in the window."""
    over = in_flight + len(ended) - calls  # >= 0: no room left
    if over < 0:
        return 0.0
    if in_flight >= calls:
        return BUSY_RETRY
    return max(0.0, ended[over] + per - now)
