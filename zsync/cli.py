"""The `zsync` command line: a thin shell over zsync.commands, which tests call directly."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from zsync import __version__
from zsync.commands.plan import plan as plan_command
from zsync.commands.schema import schema as schema_command
from zsync.commands.validate import validate as validate_command
from zsync.errors import ZsyncError

SPEC = click.Path(dir_okay=False, path_type=str)
OUTPUT = click.option(
    "--output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Print for people (text) or for tools (json).",
)
SELECT = click.option(
    "--select",
    multiple=True,
    metavar="PATTERN",
    help="Run only these jobs: a name, a glob (crm_*) or tag:NAME; "
    "repeatable. Jobs they need come along.",
)
EXCLUDE = click.option(
    "--exclude",
    multiple=True,
    metavar="PATTERN",
    help="Leave these jobs out: a name, a glob or tag:NAME; repeatable.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="zsync")
def cli() -> None:
    """Declarative bulk exports and imports for Zoho CRM, Bigin, Creator and Analytics.

    A job file (jobs.yaml) lists connections and jobs; zsync validates it, plans it, and runs
    Zoho's asynchronous bulk jobs within each organisation's limits.

    \b
    Start with:
      zsync validate jobs.yaml     check the file (no network)
      zsync plan jobs.yaml         show waves, slots and API calls (no network)
      zsync schema > zsync.schema.json

    Exit codes: 0 success, 1 a job failed, 2 invalid job file or usage, 3 rows failed,
    4 timeout, 130/143 interrupted.
    """


@cli.command()
@click.argument("spec", type=SPEC)
@OUTPUT
@click.option(
    "--strict",
    is_flag=True,
    help="Check as a run would: an unset ${VAR} or a missing import file is an "
    "error, not a warning.",
)
def validate(spec: str, output: str, strict: bool) -> None:
    """Check a job file against the schema and zsync's rules, reporting every problem.

    Each problem reads FILE:LINE:COLUMN: SEVERITY: PATH: MESSAGE. Unset environment
    variables are warnings here (so a pull-request check without secrets still passes)
    unless --strict is given. Exits 0 when valid, 2 when not.
    """
    _exit(lambda: validate_command(spec, output=output, strict=strict))  # type: ignore[arg-type]


@cli.command()
@click.argument("spec", type=SPEC)
@SELECT
@EXCLUDE
@OUTPUT
def plan(spec: str, select: tuple[str, ...], exclude: tuple[str, ...], output: str) -> None:
    """Show what a run would do, without any network call.

    Lists the selected jobs in dependency waves, the concurrency slot each one takes and its
    cap, the documented Zoho limits that apply, and the fewest API calls the run costs.
    """
    _exit(lambda: plan_command(spec, select=select, exclude=exclude, output=output))  # type: ignore[arg-type]


@cli.command()
def schema() -> None:
    """Print the JSON Schema of job files (for editors: yaml-language-server, VS Code)."""
    _exit(schema_command)


def _exit(command: Callable[[], int]) -> None:
    """Run a command and end the process with its exit code; the one place errors print."""
    try:
        code = command()
    except ZsyncError as exc:
        click.echo(f"zsync: error: {exc}", err=True)
        code = exc.exit_code
    sys.exit(int(code))


def main() -> None:
    cli(prog_name="zsync")
