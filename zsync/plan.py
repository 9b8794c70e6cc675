"""What a run would do, without a network call: the selected jobs, their waves, their slots.

A wave holds the jobs whose needs are all in earlier waves. A slot is a concurrency pool per
organisation, product and direction; jobs of connections that reach the same organisation
share one, with the lowest cap any of them sets.
"""

from __future__ import annotations

import fnmatch
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from zsync.errors import UsageError
from zsync.http.hosts import hosts_for
from zsync.http.limits import limits_for, organisation_of, user_of
from zsync.products import (
    CALL_KINDS,
    CAPS,
    MIN_CALLS,
    NOTES,
    CallKind,
    Direction,
    Product,
    RateLimit,
    credits_of,
)
from zsync.spec.model import Connection, Job, Spec, ancestors


class Slot(NamedTuple):
    key: str
    product: Product
    direction: Direction
    cap: int
    zoho_cap: int
    documented: bool
    note: str
    jobs: tuple[str, ...]


class PlannedJob(NamedTuple):
    name: str
    wave: int
    direction: Direction
    connection: str
    product: Product
    slot: str
    needs: tuple[str, ...]  # within this run
    outside_needs: tuple[str, ...]  # needed, but not in this run (excluded or disabled)
    min_calls: dict[str, int]


class RateUse(NamedTuple):
    """One per-minute limit and the fewest requests of the run it counts."""

    organisation: str
    kind: CallKind
    limit: RateLimit
    requests: int

    @property
    def imposed(self) -> float:
        """Seconds the limit alone stretches those requests over."""
        windows = -(-self.requests // self.limit.calls) - 1  # ceil, less the first window
        return max(windows, 0) * self.limit.per


class Plan(NamedTuple):
    spec: Spec
    waves: list[list[str]]
    jobs: dict[str, PlannedJob]
    slots: dict[str, Slot]
    left_out: dict[str, str]  # job -> why it is not in this run

    @property
    def min_calls(self) -> dict[str, int]:
        """Fewest API calls of the run: one token per sign-in (the run's TokenPool shares
        it among connections), then every job's share."""
        total: Counter[str] = Counter()
        signed_in = {
            (hosts_for(c).accounts, c.auth.client_id, c.auth.refresh_token)
            for c in (self.spec.connections[job.connection] for job in self.jobs.values())
        }
        total["token"] = len(signed_in)
        for job in self.jobs.values():
            total.update(job.min_calls)
        return dict(total)

    def rate_uses(self) -> list[RateUse]:
        """Every per-minute limit the run meets, with the fewest requests it counts."""
        counted: dict[tuple[str, CallKind, RateLimit], int] = {}
        for job in self.jobs.values():
            connection = self.spec.connections[job.connection]
            for kind in CALL_KINDS:
                n = job.min_calls.get(kind, 0)
                for limit in limits_for(connection, kind) if n else ():
                    holder = organisation_of(connection)
                    if limit.scope == "user":
                        holder += f" (user {user_of(connection)[:6]})"
                    key = (holder, kind, limit)
                    counted[key] = counted.get(key, 0) + n
        return [RateUse(org, kind, limit, n) for (org, kind, limit), n in counted.items()]

    def credits(self) -> dict[str, int]:
        """The fewest API credits the run costs, per organisation that meters them."""
        spent: Counter[str] = Counter()
        for job in self.jobs.values():
            connection = self.spec.connections[job.connection]
            cost = credits_of(job.product, job.direction, job.min_calls)
            if cost is not None:
                spent[organisation_of(connection)] += cost
        return dict(spent)

    def notes(self) -> list[str]:
        kinds = sorted({(j.product, j.direction) for j in self.jobs.values()})
        return [
            f"{product} {direction}: {note}"
            for product, direction in kinds
            for note in NOTES.get((product, direction), ())
        ]


def needs_of(spec: Spec) -> dict[str, tuple[str, ...]]:
    """Each job's needs: those written, plus the export that writes an import's file (an
    import must read the finished file, even when the job file forgot to say so)."""
    writers = {
        _place(spec, job.output): name
        for name, job in spec.jobs.items()
        if job.output and job.direction == "export"
    }
    needs: dict[str, tuple[str, ...]] = {}
    for name, job in spec.jobs.items():
        writer = writers.get(_place(spec, job.input_file)) if job.input_file else None
        extra = (writer,) if writer and writer != name and writer not in job.needs else ()
        needs[name] = (*job.needs, *extra)
    return needs


def _place(spec: Spec, relative: str) -> str:
    return os.path.normpath(spec.output_dir / relative)


def build_plan(spec: Spec, select: Sequence[str] = (), exclude: Sequence[str] = ()) -> Plan:
    chosen, left_out = select_jobs(spec, select, exclude)
    needs = needs_of(spec)
    waves = _waves(spec, chosen, needs)
    slot_of = {
        name: slot_key(spec.connections[spec.jobs[name].connection], spec.jobs[name].direction)
        for name in chosen
    }
    slots = _slots(spec, slot_of)
    jobs: dict[str, PlannedJob] = {}
    for index, wave in enumerate(waves, start=1):
        for name in wave:
            job = spec.jobs[name]
            connection = spec.connections[job.connection]
            jobs[name] = PlannedJob(
                name=name,
                wave=index,
                direction=job.direction,
                connection=job.connection,
                product=connection.product,
                slot=slot_of[name],
                needs=tuple(n for n in needs[name] if n in chosen),
                outside_needs=tuple(n for n in needs[name] if n not in chosen),
                min_calls=MIN_CALLS[(connection.product, job.direction)],
            )
    return Plan(spec, waves, jobs, slots, left_out)


def select_jobs(
    spec: Spec, select: Sequence[str], exclude: Sequence[str]
) -> tuple[set[str], dict[str, str]]:
    """The jobs a run takes, and why each other job is left out.

    `select` and `exclude` take job names, globs (`crm_*`) and `tag:NAME`. Selected jobs pull
    in what they need; a disabled job runs only when named exactly.
    """
    names = list(spec.jobs)
    left_out: dict[str, str] = {}
    if select:
        matched = _match_all(spec, select, "--select")
        chosen = {n for n in matched if spec.jobs[n].enabled or n in select}
        for name in names:
            if name not in matched:
                left_out[name] = "not selected"
            elif name not in chosen:
                left_out[name] = "disabled (select it by its name to run it)"
        needs = needs_of(spec)
        for name in list(chosen):
            for need in ancestors(needs, name):
                if spec.jobs[need].enabled and need not in chosen:
                    chosen.add(need)
                    left_out.pop(need, None)
    else:
        chosen = {n for n in names if spec.jobs[n].enabled}
        left_out.update({n: "disabled" for n in names if n not in chosen})
    if exclude:
        for name in _match_all(spec, exclude, "--exclude"):
            if name in chosen:
                chosen.discard(name)
                left_out[name] = "excluded"
    return chosen, left_out


def slot_key(connection: Connection, direction: Direction) -> str:
    return f"{organisation_of(connection)}/{direction}"


def _match_all(spec: Spec, patterns: Iterable[str], option: str) -> set[str]:
    found: set[str] = set()
    for pattern in patterns:
        hits = _match(spec, pattern)
        if not hits:
            raise UsageError(f"{option} {pattern!r} matches no job (jobs: {', '.join(spec.jobs)})")
        found |= hits
    return found


def _match(spec: Spec, pattern: str) -> set[str]:
    if pattern.startswith("tag:"):
        tag = pattern[len("tag:") :]
        return {name for name, job in spec.jobs.items() if tag in job.tags}
    return {name for name in spec.jobs if fnmatch.fnmatchcase(name, pattern)}


def _waves(spec: Spec, chosen: set[str], needs: dict[str, tuple[str, ...]]) -> list[list[str]]:
    order = [name for name in spec.jobs if name in chosen]  # file order within a wave
    wave_of: dict[str, int] = {}
    remaining = list(order)
    waves: list[list[str]] = []
    while remaining:
        ready = [
            n for n in remaining if all(need in wave_of or need not in chosen for need in needs[n])
        ]
        if not ready:  # validation rejects cycles; this guards direct callers
            raise UsageError(f"needs form a cycle among: {', '.join(remaining)}")
        for name in ready:
            wave_of[name] = len(waves)
        waves.append(ready)
        remaining = [n for n in remaining if n not in wave_of]
    return waves


def _slots(spec: Spec, slot_of: dict[str, str]) -> dict[str, Slot]:
    slots: dict[str, Slot] = {}
    for name in (n for n in spec.jobs if n in slot_of):
        job: Job = spec.jobs[name]
        connection = spec.connections[job.connection]
        cap = CAPS[(connection.product, job.direction)]
        lowered = connection.limits.for_direction(job.direction)
        key = slot_of[name]
        previous = slots.get(key)
        # A documented cap can only be lowered; zsync's own defaults may be raised (validation
        # warns about that).
        own = cap.jobs if lowered is None or (cap.documented and lowered > cap.jobs) else lowered
        allowed = min(own, previous.cap) if previous else own
        slots[key] = Slot(
            key=key,
            product=connection.product,
            direction=job.direction,
            cap=allowed,
            zoho_cap=cap.jobs,
            documented=cap.documented,
            note=cap.note,
            jobs=(*previous.jobs, name) if previous else (name,),
        )
    return slots
