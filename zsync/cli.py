"""The `zsync` command line: a thin shell over zsync.commands, which tests call directly."""

# ruff: noqa: E402 - the signal handling just below must come before the imports it covers
from __future__ import annotations

from zsync import interrupts

# Ctrl-C while the rest loads (click, then a command's own modules) would print
# an import's traceback: until main() takes over, a signal ends the process quietly.
_LOADING = interrupts.quiet_while_loading()

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from zsync import __version__, output
from zsync.commands import DEFAULT_RUNS_LIMIT
from zsync.emulator_options import (
    EmulatorSettings,
    SectionedCommand,
    emulator_config,
    emulator_options,
)
from zsync.errors import ExitCode, SpecError, ZsyncError
from zsync.products import PRODUCTS

# Each command imports its module when it runs, not here: `zsync --help` and `zsync validate`
# shouldn't load aiohttp, the state store or the emulator (tests/test_start.py checks).
if TYPE_CHECKING:
    from zsync.commands import OutputFormat
    from zsync.products import Product
    from zsync.progress import LogFormat

SPEC = click.Path(dir_okay=False, path_type=str)
OUTPUT = click.option(
    "--output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Print for people (text) or for tools (json: one JSON document on stdout, an error "
    "envelope on failure).",
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


class JsonAwareGroup(click.Group):
    """Click refuses a bad command line (an unknown option, --limit 0) before any command
    runs; under --output json that refusal must still be a JSON document on stdout.

    Click still prints its own message and usage on stderr, and exits 2, as without json."""

    _ASKS_FOR_JSON = "zsync.asks_for_json"

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        # Read before parsing: a parse that fails leaves no parameters to read it from.
        asks_for_json = output.asks_for_json(args)
        if parent is None:  # a new command line (a test process runs many)
            output.start_command()
        try:
            context = super().make_context(info_name, args, parent, **extra)
        except click.ClickException as exc:
            if asks_for_json:
                output.print_envelope(output.for_click_error(exc))
            raise
        context.meta[self._ASKS_FOR_JSON] = asks_for_json
        return context

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:  # the command's own options, parsed in here
            if ctx.meta.get(self._ASKS_FOR_JSON):
                output.print_envelope(output.for_click_error(exc))
            raise


@click.group(
    cls=JsonAwareGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="zsync")
def cli() -> None:
    """Declarative bulk exports and imports for Zoho CRM, Bigin, Creator and Analytics.

    A job file (jobs.yaml) lists connections and jobs; zsync validates it, plans it, and runs
    Zoho's asynchronous bulk jobs within each organisation's limits.

    \b
    Start with:
      zsync init crm analytics     write a starter jobs.yaml for these products
      zsync validate jobs.yaml     check the file (no network)
      zsync plan jobs.yaml         show waves, slots and API calls (no network)
      zsync run jobs.yaml --emulator   run it against the embedded emulator
      zsync status                 what the newest run did (zsync runs: every run)
      zsync schema > zsync.schema.json

    Exit codes: 0 success, 1 a job failed, 2 invalid job file or usage, 3 rows failed,
    4 timeout, 5 another run holds the lock, 130/143 interrupted.
    """


@cli.command()
@click.argument("products", nargs=-1, type=click.Choice(PRODUCTS), metavar="[PRODUCTS]...")
@click.option(
    "--output-file",
    type=click.Path(dir_okay=False),
    metavar="PATH",
    help="Where to write. Default: jobs.yaml (jobs.example.yaml with --example).",
)
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
@click.option(
    "--example",
    is_flag=True,
    help="Write the full example instead (every product, imports, criteria, dependencies).",
)
def init(
    products: tuple[Product, ...], output_file: str | None, force: bool, example: bool
) -> None:
    """Write a starter job file that validates and runs as written.

    For each of PRODUCTS (crm, bigin, creator, analytics; default: crm): a connection whose
    credentials come from ${ZOHO_...} environment variables and one export job, with a
    comment on each key; a commented-out import shows the other direction. `zsync run
    jobs.yaml --emulator` runs it against the embedded emulator at once. An existing file
    is left alone unless --force.

    \b
    Examples:
      zsync init
      zsync init crm analytics --output-file zoho/jobs.yaml
      zsync init --example
    """
    with interrupts.loading():
        from zsync.commands.init import init as init_command

    _exit(lambda: init_command(products, output_file=output_file, force=force, example=example))


@cli.command()
@click.argument("spec", type=SPEC)
@OUTPUT
@click.option(
    "--strict",
    is_flag=True,
    help="Check as a run would: an unset ${VAR} or a missing import file is an "
    "error, not a warning.",
)
def validate(spec: str, output: OutputFormat, strict: bool) -> None:
    """Check a job file against the schema and zsync's rules, reporting every problem.

    Each problem reads FILE:LINE:COLUMN: SEVERITY: PATH: MESSAGE. Unset environment
    variables are warnings here (so a pull-request check without secrets still passes)
    unless --strict is given. Exits 0 when valid, 2 when not.

    Under GitHub Actions (GITHUB_ACTIONS=true) each problem is also printed as a workflow
    command, ::error file=FILE,line=N,col=M::MESSAGE (::warning for warnings), which GitHub
    shows on that line of the pull request.
    """
    with interrupts.loading():
        from zsync.commands.validate import validate as validate_command

    _exit(lambda: validate_command(spec, output=output, strict=strict))


@cli.command()
@click.argument("spec", type=SPEC)
@SELECT
@EXCLUDE
@OUTPUT
def plan(
    spec: str, select: tuple[str, ...], exclude: tuple[str, ...], output: OutputFormat
) -> None:
    """Show what a run would do, without any network call.

    Lists the selected jobs in dependency waves, the concurrency slot each one takes and its
    cap, the documented Zoho limits that apply, and the fewest API calls the run costs.
    """
    with interrupts.loading():
        from zsync.commands.plan import plan as plan_command

    _exit(lambda: plan_command(spec, select=select, exclude=exclude, output=output))


@cli.command(
    cls=SectionedCommand,
    section_note="With --emulator only: the embedded emulator's data and the faults it "
    "injects, as `zsync emulator` takes them, so zsync's retries and checks can be watched "
    "at work. Without --emulator they are a usage error (exit 2).",
)
@click.argument("spec", type=SPEC)
@click.option(
    "--emulator",
    is_flag=True,
    help="Start the embedded Zoho emulator on a free local port and point every "
    "connection at it (demo data and credentials; nothing leaves the machine).",
)
@SELECT
@EXCLUDE
@click.option(
    "--fail-fast", is_flag=True, help="Start no job after the first failure; running jobs finish."
)
@click.option(
    "--max-parallel",
    type=click.IntRange(min=1),
    metavar="N",
    help="Run at most N jobs at once in the whole run (on top of per-organisation caps).",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False),
    metavar="DIR",
    envvar="ZSYNC_STATE_DIR",
    help="Where the state store (state.db) and run manifests go; relative to the working "
    "directory, as every path given here. Default: $ZSYNC_STATE_DIR, else .zsync/ beside "
    "the job file. $ZSYNC_STATE_URL (or the job file's defaults.state) records in a shared "
    "PostgreSQL store instead of state.db; the manifests stay here.",
)
@click.option(
    "--resume",
    is_flag=False,
    flag_value="latest",
    default=None,
    metavar="[RUN_ID|latest]",
    help="Go on with an earlier run (default: the latest of this job file): finished jobs "
    "whose output is unchanged are kept, Zoho jobs already created are polled, not created "
    "again, import parts that landed are not sent again.",
)
@click.option(
    "--wait-lock",
    metavar="DURATION",
    help="When another run of this job file holds its lock, wait up to DURATION (30s, 10m) "
    "for it instead of exiting with 5.",
)
@click.option(
    "--timeout",
    metavar="DURATION",
    help="Stop the whole run after DURATION (45m, 2h): jobs still running end timed_out "
    "(their Zoho jobs are recorded: --resume goes on with them), the rest are skipped; exit 4.",
)
@click.option(
    "--reimport",
    multiple=True,
    metavar="NAME",
    help="Send import NAME even though its file may have landed before (an earlier run "
    "imported it, or a part's create answer was lost); repeatable. Check the target first.",
)
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Incremental exports ignore their watermarks and export every row again (the "
    "watermarks start over from what this run exports).",
)
@click.option(
    "--junit",
    type=click.Path(dir_okay=False, writable=True),
    metavar="FILE",
    help="Also write the run as a JUnit XML report (one testcase per job; failed jobs carry "
    "Zoho's error code and message, skipped ones the reason) for CI test viewers. Written "
    "at the end of the run, also when it fails or is interrupted.",
)
@click.option(
    "-q",
    "--quiet",
    "quiet",
    is_flag=True,
    help="Print only warnings and errors (and the manifest line when the run fails).",
)
@click.option(
    "-v",
    "--verbose",
    "verbose",
    is_flag=True,
    help="Also print every status check and when the next one is due.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Progress on stderr as text (a live view on a terminal, timestamped lines "
    "elsewhere) or as JSON, one object per event.",
)
@click.option(
    "--heartbeat",
    metavar="DURATION",
    default="1m",
    show_default=True,
    help="A running job that said nothing for this long says where it stands (still IN "
    "PROGRESS after 12m, next check in 40s): CI systems kill steps that go silent.",
)
@OUTPUT
@emulator_options
def run(
    spec: str,
    emulator: bool,
    select: tuple[str, ...],
    exclude: tuple[str, ...],
    fail_fast: bool,
    max_parallel: int | None,
    state_dir: str | None,
    resume: str | None,
    wait_lock: str | None,
    timeout: str | None,
    reimport: tuple[str, ...],
    full_refresh: bool,
    junit: str | None,
    quiet: bool,
    verbose: bool,
    log_format: LogFormat,
    heartbeat: str,
    output: OutputFormat,
    emulator_settings: EmulatorSettings,
) -> None:
    """Run the jobs of a job file and write the run manifest.

    Jobs start in `needs:` order, at most as many at once per organisation as Zoho allows;
    every page is fetched and results are written atomically. Everything is recorded in the
    state store (.zsync/state.db); the manifest (.zsync/runs/RUN_ID/manifest.json) is
    rendered from it every couple of seconds and at the end; the last line printed says
    where it is.

    \b
    If a run dies (killed, timed out in CI), go on where it stopped:
      zsync run jobs.yaml --resume          the latest run of jobs.yaml
      zsync run jobs.yaml --resume RUN_ID   a given one (zsync runs lists them)
    A plain `zsync run` after a dead run marks it abandoned and starts afresh; imports that
    landed before (append, insert) are skipped, never sent twice.

    \b
    Progress goes to stderr: on a terminal, a live view of the running jobs (NO_COLOR
    turns its colours off); in CI (no terminal, or CI set), one timestamped line per
    event, and a heartbeat line for each job silent for --heartbeat.

    \b
    In CI:
      zsync run jobs.yaml --junit reports/zsync.xml   a test report of the run's jobs
    Under GitHub Actions, a Markdown summary of the run goes to $GITHUB_STEP_SUMMARY, and a
    job file's problems show as annotations on its lines (also with validate and plan).

    \b
    Watch zsync's failure handling on the emulator (options below):
      zsync run jobs.yaml --emulator --throttle-rate 0.1 --reset-rate 0.1   waited out, read again
      zsync run jobs.yaml --emulator --job-failure-rate 1    every Zoho job fails: exit 1
      zsync run jobs.yaml --emulator --rows crm.Leads=500 --page-size 100   five pages of Leads

    Exit codes: 0 every job succeeded, 1 a job failed, 2 invalid job file or usage,
    3 an import finished but Zoho refused some rows, 4 a job timed out, 5 another run of
    this job file holds its lock (or took it during this run), 130/143 interrupted.
    """
    with interrupts.loading():
        from zsync.commands.run import run as run_command

    if quiet and verbose:
        raise click.UsageError("-q and -v can't be used together")
    beat = _duration("--heartbeat", heartbeat)
    assert beat is not None
    if beat <= 0:
        raise click.BadParameter("must be longer than 0s", param_hint="--heartbeat")
    _exit(
        lambda: run_command(
            spec,
            emulator=emulator,
            select=select,
            exclude=exclude,
            fail_fast=fail_fast,
            max_parallel=max_parallel,
            state_dir=state_dir,
            output=output,
            resume=resume,
            wait_lock=_duration("--wait-lock", wait_lock),
            reimport=reimport,
            full_refresh=full_refresh,
            timeout=_duration("--timeout", timeout),
            emulator_settings=emulator_settings,
            junit=junit,
            verbosity=-1 if quiet else 1 if verbose else 0,
            log_format=log_format,
            heartbeat=beat,
        )
    )


def _duration(option: str, value: str | None) -> float | None:
    if value is None:
        return None
    from zsync.durations import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from exc


@cli.command(cls=SectionedCommand)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port; the banner says which).",
)
@click.option("--client-id", help="OAuth client id to accept (default: the demo client's).")
@click.option("--client-secret", help="OAuth client secret to accept.")
@click.option("--refresh-token", help="Refresh token to accept.")
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Emulated seconds per real second: 3600 makes Zoho's one-hour result "
    "window last one real second.",
)
@emulator_options
def emulator(
    host: str,
    port: int,
    client_id: str | None,
    client_secret: str | None,
    refresh_token: str | None,
    time_scale: float,
    emulator_settings: EmulatorSettings,
) -> None:
    """Serve a local emulator of Zoho's bulk APIs (CRM, Bigin, Creator, Analytics).

    Point Zoho's own SDKs or your scripts at the printed base URL: it serves OAuth, bulk
    read/write, Analytics export/import and the metadata calls, with demo data, Zoho's
    limits and errors. The rates inject faults at random (seeded by --seed), so a client's
    retries can be exercised. Stop it with Ctrl-C.
    """
    with interrupts.loading():
        from zsync.emulator import serve

    config = emulator_config(
        emulator_settings,
        time_scale=time_scale,
        client_id=client_id,
        client_secret=client_secret,
        refresh_token=refresh_token,
    )
    stopped_by = serve(host, port, config)
    if stopped_by is not None:
        raise interrupts.Interrupted(stopped_by)  # exits 130/143 like every other command


@cli.command()
def schema() -> None:
    """Print the JSON Schema of job files (for editors: yaml-language-server, VS Code)."""
    with interrupts.loading():
        from zsync.commands.schema import schema as schema_command

    _exit(schema_command)


READ_STATE_DIR = click.option(
    "--state-dir",
    type=click.Path(file_okay=False),
    metavar="DIR",
    envvar="ZSYNC_STATE_DIR",
    help="The state directory to read (the one `zsync run` wrote). Default: "
    "$ZSYNC_STATE_DIR, else beside --job-file, else .zsync/ here.",
)
READ_STATE_URL = click.option(
    "--state-url",
    metavar="URL",
    envvar="ZSYNC_STATE_URL",
    help="Read a shared state store (postgresql://USER:PASSWORD@HOST/DB) instead of the "
    "state directory's file. Default: $ZSYNC_STATE_URL.",
)
JOB_FILE = click.option(
    "-f",
    "--job-file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Read the state `zsync run FILE` keeps by default: .zsync/ beside FILE.",
)


def _state_dir_to_read(state_dir: str | None, job_file: str | None) -> str:
    """--state-dir given on the command line and --job-file contradict each other; the
    environment's ZSYNC_STATE_DIR gives way to --job-file."""
    from zsync.commands import state_dir_to_read

    context = click.get_current_context()
    source = context.get_parameter_source("state_dir")
    if job_file and state_dir and source is ParameterSource.COMMANDLINE:
        raise click.UsageError("give --state-dir or --job-file, not both")
    if job_file and source is not ParameterSource.COMMANDLINE:
        state_dir = None
    return str(state_dir_to_read(state_dir, job_file))


def _state_url_to_read(state_url: str | None, job_file: str | None) -> str | None:
    """--state-url (or ZSYNC_STATE_URL), else the shared store --job-file's defaults.state
    names: where `zsync run FILE` records."""
    if state_url or not job_file:
        return state_url or None
    import os

    from zsync import redact
    from zsync.spec import validate_spec

    found = validate_spec(job_file, redact.watching(os.environ)).spec
    return found.state_url if found is not None else None


@cli.command()
@click.argument("run_id", metavar="[RUN_ID|latest]", default="latest")
@READ_STATE_DIR
@READ_STATE_URL
@JOB_FILE
@OUTPUT
def status(
    run_id: str,
    state_dir: str | None,
    state_url: str | None,
    job_file: str | None,
    output: OutputFormat,
) -> None:
    """Show a recorded run and each of its jobs.

    The run's job file, outcome, start, end and duration; then one line per job: its
    status, rows, bytes, Zoho job ids, and its error or the reason it didn't run.

    RUN_ID is a run's id as `zsync runs` lists it; the default, latest, is the newest run.
    A run that stopped before it finished ends with the command that resumes it. --output
    json prints the run manifest plus "resume_command". Reads the state store only; safe
    while a run goes on.

    \b
    Examples:
      zsync status
      zsync status 20250301T101500Z-a1b2c3 --state-dir /data/.zsync
      ZSYNC_STATE_URL=postgresql://zsync:$PW@db/zsync zsync status
      zsync status --output json | jq '.jobs[] | select(.status == "failed")'
    """
    with interrupts.loading():
        from zsync.commands.status import status as status_command

    directory = _state_dir_to_read(state_dir, job_file)
    _exit(
        lambda: status_command(
            run_id,
            state_dir=directory,
            output=output,
            state_url=_state_url_to_read(state_url, job_file),
        )
    )


@cli.command()
@READ_STATE_DIR
@READ_STATE_URL
@JOB_FILE
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=DEFAULT_RUNS_LIMIT,
    show_default=True,
    metavar="N",
    help="Show the newest N runs.",
)
@OUTPUT
def runs(
    state_dir: str | None,
    state_url: str | None,
    job_file: str | None,
    limit: int,
    output: OutputFormat,
) -> None:
    """List the recorded runs, newest first.

    One line per run: its id, start, duration, outcome, how many jobs ended in each status,
    and its job file. `zsync status RUN_ID` shows one run in detail. Reads the state store
    only.

    \b
    Examples:
      zsync runs
      zsync runs --limit 5 --state-dir /data/.zsync
      zsync runs --output json
    """
    with interrupts.loading():
        from zsync.commands.runs import runs as runs_command

    directory = _state_dir_to_read(state_dir, job_file)
    _exit(
        lambda: runs_command(
            state_dir=directory,
            limit=limit,
            output=output,
            state_url=_state_url_to_read(state_url, job_file),
        )
    )


def _exit(command: Callable[[], int]) -> None:
    """Run a command and end the process with its exit code; the one place errors print.

    Secrets the command registers are masked in all it prints, its errors included (and
    forgotten after it: a test process runs many commands). Under --output json a command
    that ends without its document prints an error envelope in its place."""
    from zsync import redact

    as_json = _output_is_json()
    output.start_command()
    with redact.scope():
        try:
            code = command()
        except ZsyncError as exc:
            # Diagnostics a command printed already are closed with one line, not repeated.
            shown = isinstance(exc, SpecError) and exc.shown
            said = exc.summary if isinstance(exc, SpecError) and shown else f"error: {exc}"
            if _logs_json():
                from zsync.progress.jsonlines import log_line

                log_line("run.error", said, "error", error=exc.kind, exit_code=int(exc.exit_code))
            else:
                click.echo(redact.text(f"zsync: {said}"), err=True)
            code = exc.exit_code
            if as_json:
                output.print_envelope(output.for_zsync_error(exc))
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click prints these itself (and JsonAwareGroup their envelope)
        except Exception as exc:  # a bug in zsync: its traceback helps, its secrets don't
            import traceback

            sys.stderr.write(redact.text(traceback.format_exc()))
            code = ExitCode.JOB_FAILED
            if as_json:
                output.print_envelope(output.for_internal_error(exc))
        else:
            if as_json and code != ExitCode.OK:
                output.print_envelope(output.for_exit_code(code))
    sys.exit(int(code))


def _logs_json() -> bool:
    # `zsync run --log-format json`: stderr is one JSON object per line, errors included.
    context = click.get_current_context(silent=True)
    return context is not None and context.params.get("log_format") == "json"


def _output_is_json() -> bool:
    # From the parsed parameters: every verb with --output calls _exit inside its context.
    context = click.get_current_context(silent=True)
    return context is not None and context.params.get("output") == "json"


def main() -> None:
    """The console script: exits 130 on SIGINT, 143 on SIGTERM, whenever they come."""
    try:
        # Inside the try: a signal may land while the handlers are being put in place.
        interrupts.raise_on_signals()
        cli(prog_name="zsync")
    except interrupts.Interrupted as exc:
        _interrupted(exc.exit_code)
    except KeyboardInterrupt:  # Python's own handler, in the instant before ours is in place
        _interrupted(ExitCode.INTERRUPTED)
    finally:
        interrupts.exit_at_once()  # the work is over: a late signal needs no cleanup


def _interrupted(code: int) -> None:
    click.echo("zsync: interrupted", err=True)
    # The signal may have come before the command's document or after it was out.
    if output.asks_for_json(sys.argv[1:]):
        output.print_envelope(output.for_exit_code(code))
    sys.exit(code)


# Loaded: the quiet handlers go, main() puts its own in place (and a test process that merely
# imports the CLI keeps the handlers it had).
interrupts.restore(_LOADING)
