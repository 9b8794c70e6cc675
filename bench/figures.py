"""One measured figure of the benchmark suite, beside the reference measured in the same run.

A scenario returns Figures; `suite.py` prints them as a table and writes them as JSON. A
figure's `ok` says whether its goal holds (None: shown for information, no goal).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Figure:
    scenario: str
    name: str  # what was measured, e.g. "makespan, 100 exports of 1.0 s"
    value: float
    unit: str  # "s", "x ideal", "calls/job", "MiB", "jobs/s", ...
    reference: str = ""  # what it is compared with, e.g. "fixed 1 s poller"
    reference_value: float | None = None
    goal: str = ""  # e.g. "<= 1.05x ideal"
    ok: bool | None = None
    details: dict[str, Any] = field(default_factory=dict)  # every raw number, for the JSON

    @property
    def ratio(self) -> float | None:
        """value / reference_value, where both are known and the reference isn't zero."""
        if self.reference_value in (None, 0):
            return None
        return self.value / self.reference_value  # type: ignore[operator]

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


def at_most(value: float, limit: float) -> bool:
    return value <= limit


def at_least(value: float, limit: float) -> bool:
    return value >= limit
