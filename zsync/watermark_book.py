"""A run's incremental exports: the watermark each reads from, the one its output holds, and
advancing them in the store once the run ends well.

A job's watermark moves only when its output is committed and the run as a whole ends
`succeeded` (or `partial`: only imports refuse rows): a run that fails or is interrupted
moves none, so the next run exports again what its files held. A resumed run that ends well
advances the watermarks of the jobs it kept from its first try too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from pathlib import Path

from zsync.errors import ConfigError
from zsync.incremental import since_filtered
from zsync.plan import Plan
from zsync.sinks.highest import UnreadableMoment, highest_moment
from zsync.spec.model import Export, Job
from zsync.state.recorder import Recorder
from zsync.state.records import IncrementalRecord, Outcome
from zsync.watermarks import incremental_of, later, moved_back, watermark_key

ADVANCING: frozenset[Outcome] = frozenset({"succeeded", "partial"})


@dataclasses.dataclass
class Watermarks:
    recorder: Recorder
    keys: dict[str, str]  # job name -> watermark key, incremental jobs only
    stored: dict[str, str]  # key -> watermark, as the run found them
    full_refresh: bool = False

    @classmethod
    def load(cls, plan: Plan, recorder: Recorder, full_refresh: bool) -> Watermarks:
        spec, scope = plan.spec, recorder.run.scope
        keys = {
            name: watermark_key(spec, spec.jobs[name], scope)
            for name in plan.jobs
            if incremental_of(spec.jobs[name]) is not None
        }
        stored = recorder.store.watermarks(list(keys.values())) if keys else {}
        return cls(recorder, keys, stored, full_refresh)

    def start(self, job: Job) -> tuple[Export, str]:
        """The export to send (filtered from the stored watermark) and the definition its
        Zoho jobs carry: one reused on resume must have been filtered from the same bound."""
        assert isinstance(job.action, Export)
        definition = self.recorder.jobs[job.name].definition_sha256
        incremental = incremental_of(job)
        if incremental is None:
            return job.action, definition
        key = self.keys[job.name]
        previous = None if self.full_refresh else self.stored.get(key)
        since = None if previous is None else moved_back(previous, incremental.overlap)
        self.recorder.update_job(
            job.name,
            incremental=IncrementalRecord(
                key, incremental.field, previous, since, None, self.full_refresh
            ),
        )
        if since is None:
            return job.action, definition
        bound = hashlib.sha256(f"{definition}\0{since}".encode()).hexdigest()
        return since_filtered(job.action, since), bound

    async def seen(self, job: Job, output_path: str) -> None:
        """Read the new watermark from the committed output."""
        incremental = incremental_of(job)
        record = self.recorder.jobs[job.name].incremental
        if incremental is None or record is None:
            return
        try:
            highest = await asyncio.to_thread(
                highest_moment, Path(output_path), incremental.field, job.field_delimiter
            )
        except UnreadableMoment as exc:
            raise ConfigError(f"can't read the watermark: {exc}") from None
        watermark = later(record.previous, highest)
        self.recorder.update_job(
            job.name, incremental=dataclasses.replace(record, watermark=watermark)
        )


def advance(recorder: Recorder, outcome: Outcome) -> None:
    """Store the watermark of every incremental job that succeeded, if the run ended well."""
    if outcome not in ADVANCING:
        return
    for record in recorder.jobs.values():
        incremental = record.incremental
        if record.status != "succeeded" or incremental is None or incremental.watermark is None:
            continue
        if incremental.watermark != incremental.previous or incremental.full_refresh:
            recorder.watermark(incremental.key, incremental.watermark)
