"""The emulator's data and fault options, declared once for `zsync emulator` and `zsync run`.

`@emulator_options` adds them to a command and hands the command one `EmulatorSettings`;
`emulator_config` turns that into the `EmulatorConfig` both commands start their emulator
with. The emulator package is imported only when a config is built: `zsync validate` and a
run against Zoho don't pay for it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from zsync.products import PRODUCTS

if TYPE_CHECKING:
    from zsync.emulator import EmulatorConfig

SECTION = "Emulated data and faults"


@dataclass(frozen=True)
class EmulatorSettings:
    """What the shared options ask of an emulator; the defaults are the emulator's own
    (tests/test_run_emulator_options.py checks that they agree with `EmulatorConfig`'s)."""

    seed: int = 42
    page_size: int = 200_000
    token_lifetime: float = 3600.0
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    reset_rate: float = 0.0
    crm_throttle_rate: float = 0.0
    truncate_rate: float = 0.0
    corrupt_rate: float = 0.0
    job_failure_rate: float = 0.0
    latency: float = 0.0
    rows: tuple[tuple[str, int], ...] = ()  # ("crm.Leads", 5000), in the order given
    # The options typed on the command line (--error-rate, ...): `zsync run` refuses them
    # without --emulator rather than ignore them.
    given: tuple[str, ...] = ()

    def describe(self) -> str:
        """The given options as a command line would say them (for the run's log)."""
        words: list[str] = []
        for flag in self.given:
            if flag == "--rows":
                words += [f"--rows {name}={count}" for name, count in self.rows]
            else:
                words.append(f"{flag} {getattr(self, _name(flag))}")
        return " ".join(words)


_DEFAULTS = EmulatorSettings()


def emulator_config(
    settings: EmulatorSettings,
    *,
    time_scale: float,
    client_id: str | None = None,
    client_secret: str | None = None,
    refresh_token: str | None = None,
) -> EmulatorConfig:
    """The emulator's config: the settings, a time scale, and the demo credentials unless
    others are given."""
    from zsync.emulator import EmulatorConfig, FaultConfig

    demo = EmulatorConfig()
    config = EmulatorConfig(
        seed=settings.seed,
        time_scale=time_scale,
        page_size=settings.page_size,
        token_lifetime=settings.token_lifetime,
        client_id=client_id or demo.client_id,
        client_secret=client_secret or demo.client_secret,
        refresh_token=refresh_token or demo.refresh_token,
        faults=FaultConfig(
            seed=settings.seed,
            error_rate=settings.error_rate,
            throttle_rate=settings.throttle_rate,
            reset_rate=settings.reset_rate,
            crm_throttle_rate=settings.crm_throttle_rate,
            truncate_rate=settings.truncate_rate,
            corrupt_rate=settings.corrupt_rate,
            job_failure_rate=settings.job_failure_rate,
            latency=settings.latency,
        ),
    )
    if settings.rows:
        # with_sizes takes `crm_Leads=...`: its keys must be identifiers.
        config = config.with_sizes(**{name.replace(".", "_", 1): n for name, n in settings.rows})
    return config


class EmulatorOption(click.Option):
    """One of the shared options: --help lists them under their own heading."""


class SectionedCommand(click.Command):
    """A command whose --help lists the emulator's options apart from the others, with a
    note on when they apply (`section_note`)."""

    def __init__(self, *args: Any, section_note: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.section_note = section_note

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        general: list[tuple[str, str]] = []
        emulated: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None and not isinstance(param, click.Argument):
                (emulated if isinstance(param, EmulatorOption) else general).append(record)
        if general:
            with formatter.section("Options"):
                formatter.write_dl(general)
        if emulated:
            with formatter.section(SECTION):
                if self.section_note:
                    formatter.write_text(self.section_note)
                formatter.write_dl(emulated)


def _rate_option(what: str) -> dict[str, Any]:
    return dict(
        type=click.FloatRange(0, 1),
        default=0.0,
        show_default=True,
        metavar="RATE",
        help=f"Share of {what}.",
    )


def _rows(
    _context: click.Context, _param: click.Parameter, values: Iterable[str]
) -> tuple[tuple[str, int], ...]:
    """`crm.Leads=5000` -> ("crm.Leads", 5000), checked as the option is read."""
    parsed = []
    for option in values:
        name, _, count = option.partition("=")
        product, _, module = name.partition(".")
        if not module or not count.isdigit():
            raise click.BadParameter(f"{option!r}: expected PRODUCT.MODULE=N, e.g. crm.Leads=50000")
        if product not in PRODUCTS:
            raise click.BadParameter(
                f"{option!r}: the product is one of {', '.join(PRODUCTS)}",
            )
        parsed.append((name, int(count)))
    return tuple(parsed)


# In --help order: (flag, click.option's settings). Help texts say what the emulator does, as
# Zoho would, so a user can tell which of a client's paths each one exercises. Declared as
# data, not as click.Option objects: each command gets options of its own.
_OPTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "--seed",
        dict(
            type=int,
            default=_DEFAULTS.seed,
            show_default=True,
            help="Seed of the demo data and of the faults below: the same seed and requests "
            "give the same data and the same faults.",
        ),
    ),
    (
        "--rows",
        dict(
            multiple=True,
            callback=_rows,
            metavar="PRODUCT.MODULE=N",
            help="Demo rows of a module, view or report (crm.Leads=50000, "
            "analytics.Sales=1000000, creator.Orders=200000); repeatable. Default: about a "
            "hundred each.",
        ),
    ),
    (
        "--page-size",
        dict(
            type=click.IntRange(min=1),
            default=_DEFAULTS.page_size,
            show_default=True,
            metavar="N",
            help="Records per CRM/Bigin bulk-read page (Zoho's is 200,000; lower it to "
            "exercise paging).",
        ),
    ),
    (
        "--token-lifetime",
        dict(
            type=click.FloatRange(min=1),
            default=_DEFAULTS.token_lifetime,
            show_default=True,
            metavar="SECONDS",
            help="Emulated seconds an access token lives (then INVALID_TOKEN / 8535, and the "
            "client must refresh).",
        ),
    ),
    ("--error-rate", _rate_option("API calls answered HTTP 500 INTERNAL_ERROR")),
    ("--throttle-rate", _rate_option("API calls answered HTTP 429 with Retry-After")),
    (
        "--crm-throttle-rate",
        _rate_option('CRM/Bigin calls answered HTTP 400 "too many requests", no Retry-After'),
    ),
    ("--reset-rate", _rate_option("result downloads cut off mid-body (the connection drops)")),
    (
        "--truncate-rate",
        _rate_option("result downloads that end early but cleanly (a short file)"),
    ),
    ("--corrupt-rate", _rate_option("result downloads at full length with bytes flipped")),
    ("--job-failure-rate", _rate_option("bulk jobs that end FAILED (JOBCODE 1003 in Analytics)")),
    (
        "--latency",
        dict(
            type=click.FloatRange(min=0),
            default=_DEFAULTS.latency,
            show_default=True,
            metavar="SECONDS",
            help="Real seconds added before every API reply (slow answers).",
        ),
    ),
)
FLAGS = tuple(flag for flag, _ in _OPTIONS)


def _name(flag: str) -> str:
    return flag.removeprefix("--").replace("-", "_")


def emulator_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add the emulator's data and fault options to a click command, which receives them
    as one `emulator_settings: EmulatorSettings` argument."""

    @functools.wraps(command)
    def with_settings(*args: Any, **kwargs: Any) -> None:
        names = [_name(flag) for flag in FLAGS]
        values = {name: kwargs.pop(name) for name in names}
        context = click.get_current_context()
        given = tuple(
            flag
            for flag, name in zip(FLAGS, names, strict=True)
            if context.get_parameter_source(name) is not ParameterSource.DEFAULT
        )
        kwargs["emulator_settings"] = EmulatorSettings(**values, given=given)
        command(*args, **kwargs)

    decorated: Callable[..., None] = with_settings
    # click lists options in the reverse of the order they are added: add the last first.
    for flag, attrs in reversed(_OPTIONS):
        decorated = click.option(flag, cls=EmulatorOption, **attrs)(decorated)
    return decorated
