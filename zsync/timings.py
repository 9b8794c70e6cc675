"""How long Zoho jobs of each kind take: the state store's history, and this run's as it goes.

A kind is a `fingerprints.duration_key`: jobs that ask Zoho for the same thing, wherever their
output goes. Polling asks what to expect before a job's first check, and reports what it saw
after the last one; a job of the kind that ends later in the same run already learns from it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from zsync.polling import Expectation, Timed
from zsync.state.recorder import Recorder
from zsync.state.store import DURATIONS_KEPT

Bounds = tuple[float | None, float]


class Timings:
    def __init__(self, recorder: Recorder, keys: Mapping[str, str]) -> None:
        self.recorder = recorder
        self.keys = dict(keys)  # job name -> duration key
        self._seen: dict[str, deque[Bounds]] = {}

    def load(self) -> None:
        """Read the history of every kind in the run: one query, before any job starts (on
        the loop: nothing else waits yet, and a signal is handled as before)."""
        history = self.recorder.store.durations(sorted(set(self.keys.values())))
        for key, bounds in history.items():
            self._seen[key] = deque(reversed(bounds), maxlen=DURATIONS_KEPT)  # oldest first

    def expect(self, job: str) -> Expectation | None:
        seen = self._seen.get(self.keys.get(job, ""))
        return Expectation.of(list(seen)) if seen else None

    def finished(self, job: str, timed: Timed) -> None:
        """Keep a job's duration, when polling saw it end (a resumed job's age isn't known)."""
        key = self.keys.get(job)
        if key is None or timed.upper is None:
            return
        self._seen.setdefault(key, deque(maxlen=DURATIONS_KEPT)).append((timed.lower, timed.upper))
        self.recorder.duration(key, timed.lower, timed.upper)
