"""`zsync init`: write a starter job file (or the full example) to begin from."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from zsync.errors import ExitCode, UsageError
from zsync.products import Product
from zsync.resources import example_path
from zsync.shared_files import replace_whole
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
    # Whole or not at all: an interrupted init leaves no half-written job file, and an
    # existing one (with --force) stays intact until the new one is complete.
    replace_whole(path, text.encode("utf-8"))
    shown = shlex.quote(target)
    click.echo(f"wrote {target}: {what}")
    click.echo(f"next: zsync run {shown} --emulator   (demo data; nothing leaves the machine)")
    click.echo(f"then: zsync validate {shown}, with your credentials in the environment")
    return ExitCode.OK
