"""What tests read back: requests per endpoint, jobs created per definition, callbacks sent."""

from __future__ import annotations

import fnmatch
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    endpoint: str
    status: int


@dataclass(frozen=True)
class CreatedJob:
    kind: str
    org: str
    target: str  # module, view, report or table name
    job_id: str
    definition: dict[str, Any]

    @property
    def definition_key(self) -> str:
        return json.dumps(
            {"kind": self.kind, "target": self.target, **self.definition},
            sort_keys=True,
            default=str,
        )


@dataclass(frozen=True)
class CallbackRecord:
    url: str
    payload: dict[str, Any]
    status: int | None
    error: str | None


class Stats:
    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.log: list[RequestRecord] = []
        self.created: list[CreatedJob] = []
        self.callbacks: list[CallbackRecord] = []

    def record(self, method: str, path: str, endpoint: str, status: int) -> None:
        self.requests[endpoint] += 1
        self.log.append(RequestRecord(method, path, endpoint, status))

    def count(self, pattern: str = "*") -> int:
        return sum(n for name, n in self.requests.items() if fnmatch.fnmatchcase(name, pattern))

    def creates(self, kind: str | None = None, target: str | None = None) -> int:
        return sum(
            1 for job in self.created if kind in (None, job.kind) and target in (None, job.target)
        )

    def creates_per_definition(self) -> Counter[str]:
        return Counter(job.definition_key for job in self.created)
