"""Where a job's output or input is: a local path, or a URL when the job file keeps its
files in object storage (defaults.output_dir: s3://...)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

from zsync.errors import JobError, StorageError
from zsync.locations import inside, is_url, join, normal_url
from zsync.sinks.atomic import OutsideRoot
from zsync.spec.model import Spec


def output_place(spec: Spec, relative: str) -> Path | str:
    """A path relative to the output directory: below output_dir, or a key below its URL."""
    if spec.output_url is None:
        return spec.output_dir / relative
    url = join(spec.output_url, relative.rstrip("/"))
    if url is None:  # validation says so first; this holds even without it
        raise OutsideRoot(f"{relative} is outside the output directory {spec.output_url}")
    return url


def input_place(spec: Spec, file: str) -> Path | str:
    """An import's file: relative to the output directory, an absolute path, or a URL below
    the output directory's or one of defaults.import_roots."""
    if is_url(file):
        url = normal_url(file)
        roots = [*([spec.output_url] if spec.output_url else []), *spec.import_urls]
        if url is None or not any(inside(url, root) not in (None, ".") for root in roots):
            raise OutsideRoot(
                f"{file} is outside the output directory and defaults.import_roots: imports "
                "read only objects there"
            )
        return url
    path = Path(file)
    return path if path.is_absolute() else output_place(spec, file)


async def check_output_storage(spec: Spec, jobs: Iterable[str]) -> None:
    """When `jobs` export to object storage, check once that its bucket answers: otherwise
    every export would run at Zoho (a slot, an hour of the organisation's limits) only to
    fail at its upload."""
    if spec.output_url is None or not any(spec.jobs[job].direction == "export" for job in jobs):
        return
    from zsync.sinks.remote import Storage  # fsspec only for runs that need it

    try:
        await asyncio.to_thread(Storage(spec.storage_options).check, spec.output_url)
    except JobError as exc:
        raise StorageError(
            f"output_dir {spec.output_url} can't be used: {exc.message}; no Zoho job was started"
        ) from None
