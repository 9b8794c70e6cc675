"""`zsync schema`: print the JSON Schema of job files, for editors and other tools."""

from __future__ import annotations

import click

from zsync.errors import ExitCode
from zsync.resources import schema_path


def schema(name: str = "zsync") -> int:
    click.echo(schema_path(name).read_text(encoding="utf-8"), nl=False)
    return ExitCode.OK
