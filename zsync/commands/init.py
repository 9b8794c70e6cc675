"""`zsync init`: write a starter job file (or the full example) to begin from."""

from __future__ import annotations

import contextlib
import os
import shlex
import tempfile
from pathlib import Path

import click

from zsync.errors import ExitCode, UsageError
from zsync.products import Product
from zsync.resources import example_path
from zsync.starter import starter_text

DEFAULT_FILE = "jobs.yaml"


def init(
    products: tuple[Product, ...],
    *,
    output_file: str | None = None,
    force: bool = False,
    example: bool = False,
) -> int:
    if example and products:
        raise UsageError("--example writes the full example of every product: name no PRODUCTS")
    target = output_file or (example_path().name if example else DEFAULT_FILE)
    path = Path(target)
    if path.is_dir():
        raise UsageError(f"{target} is a directory: name a file with --output-file")
    if path.exists() and not force:
        raise UsageError(f"{target} exists: --force overwrites it")
    if example:
        text = example_path().read_text(encoding="utf-8")
        what = "the example job file (every product)"
    else:
        chosen = products or ("crm",)
        text = starter_text(chosen, file_name=shlex.quote(target))
        what = "a starter job file for " + ", ".join(chosen)
    write_atomically(path, text)
    shown = shlex.quote(target)
    click.echo(f"wrote {target}: {what}")
    click.echo(f"next: zsync run {shown} --emulator   (demo data; nothing leaves the machine)")
    click.echo(f"then: zsync validate {shown}, with your credentials in the environment")
    return ExitCode.OK


def write_atomically(path: Path, text: str) -> None:
    """The whole file or none of it: an interrupted init leaves no half-written job file,
    and an existing one (with --force) stays intact until the new one is complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o666 & ~_umask())  # mkstemp makes it 0600; a job file is for sharing
        os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
