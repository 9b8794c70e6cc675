"""An export's CONFIG read the way Zoho's create call reads it: every option checked before
the job exists, refused with Zoho's code (the v2 create-export-job pages and their error
table; Analytics Plus documents the same API).

- responseFormat: csv json xml xls pdf html, any case; `image` (charts only) 8014, other 8001.
- criteria: view exports (criteria.py); on the SQL export 8119 [guess: the pages say only
  that it isn't accepted there].
- selectedColumns: 1-300 names of the view's or query's columns, in the order wanted; empty
  or over 300 8547, an unknown name 8015.
- delimiter (csv; ignored for other formats, as documented): 0 comma, 1 tab, 2 semicolon,
  3 space, 4 pipe, as a number or digit text; other 8119. recordDelimiter (csv): 0 `\r\n`
  (the default), 1 `\n`, 2 `\r`; other 8119.
- dateFormat: Java date letters (dates.py), applied to date columns [guess: the export pages
  don't list it, the import pages define it]; unknown letters 8504.
- showHiddenCols: true/false, other 8119; the emulator's views hide no column, so it changes
  nothing.

Format limits, checked once the rows are counted (`check_limits`): xls 65,536 rows 7806, 256
columns 7807, 32,767 characters a cell 7808; pdf 1,000,000 cells 7827.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zsync.emulator.analytics import formats
from zsync.emulator.analytics.criteria import CriteriaError, Predicate, compile_criteria
from zsync.emulator.analytics.dates import DateFormatError, formatter
from zsync.emulator.analytics.models import AnalyticsState, ExportJob, ExportOptions
from zsync.emulator.errors import analytics_error

FORMATS = ("csv", "json", "xml", "xls", "pdf", "html")
DELIMITERS = {0: ",", 1: "\t", 2: ";", 3: " ", 4: "|"}
RECORD_DELIMITERS = {0: "\r\n", 1: "\n", 2: "\r"}
MAX_SELECTED = 300


def response_format(config: dict[str, Any]) -> str:
    fmt = str(config.get("responseFormat", "csv")).lower()
    if fmt == "image":
        raise analytics_error(8014, "Image export is possible only for charts.")
    if fmt not in FORMATS:
        raise analytics_error(8001, f"Invalid value {fmt} for responseFormat.")
    return fmt


def export_options(
    config: dict[str, Any], job: ExportJob, state: AnalyticsState, tables: Sequence[str]
) -> ExportOptions:
    """The job's options from `config`; `tables` are the names criteria may qualify a
    column with (none for an SQL export, which takes no criteria)."""
    header, _, types = state.export_source(job)
    criteria: Predicate | None = None
    if "criteria" in config:
        if job.query is not None:
            raise analytics_error(8119, "criteria is not supported for SQL query export.")
        text = config["criteria"]
        if not isinstance(text, str) or not text.strip():
            raise analytics_error(7331, "Invalid criteria: it must be a non-empty string.")
        try:
            criteria = compile_criteria(text, types, tables)
        except CriteriaError as exc:
            raise analytics_error(exc.code, exc.message) from None
    delimiter, record_delimiter = ",", "\r\n"
    if job.fmt == "csv":
        delimiter = DELIMITERS[_code(config, "delimiter", DELIMITERS, 0)]
        record_delimiter = RECORD_DELIMITERS[_code(config, "recordDelimiter", RECORD_DELIMITERS, 0)]
    date_format = None
    if config.get("dateFormat"):
        try:
            date_format = formatter(str(config["dateFormat"]))
        except DateFormatError as exc:
            raise analytics_error(8504, f"Invalid dateFormat: {exc}") from None
    hidden = config.get("showHiddenCols", True)
    if hidden not in (True, False, "true", "false"):
        raise analytics_error(8119, f"Invalid value {hidden} for showHiddenCols.")
    return ExportOptions(
        columns=_selected(config, header),
        criteria=criteria,
        delimiter=delimiter,
        record_delimiter=record_delimiter,
        date_format=date_format,
    )


def _selected(config: dict[str, Any], header: list[str]) -> tuple[str, ...]:
    if "selectedColumns" not in config:
        return ()
    names = config["selectedColumns"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise analytics_error(8119, "selectedColumns must be a JSON array of column names.")
    if not 1 <= len(names) <= MAX_SELECTED:
        raise analytics_error(
            8547, f"selectedColumns must hold between 1 and {MAX_SELECTED} column names."
        )
    for name in names:
        if name not in header:
            raise analytics_error(8015, f"Column {name} is not present in the view.")
    return tuple(names)


def _code(config: dict[str, Any], key: str, allowed: dict[int, str], default: int) -> int:
    value = config.get(key, default)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or value not in allowed:
        raise analytics_error(8119, f"Invalid value {value} for {key}.")
    return int(value)


def check_limits(job: ExportJob, state: AnalyticsState, rows: int) -> None:
    """Refuse an export its format can't hold, before the job exists."""
    if job.fmt not in ("xls", "pdf"):
        return
    header, _ = state.shaped(job)
    if job.fmt == "pdf":
        if rows * len(header) > formats.PDF_MAX_CELLS:
            raise analytics_error(7827, "PDF export is limited to 1,000,000 cells.")
        return
    if len(header) > formats.XLS_MAX_COLUMNS:
        raise analytics_error(7807, "XLS export is limited to 256 columns.")
    if rows + 1 > formats.XLS_MAX_ROWS:
        raise analytics_error(7806, "XLS export is limited to 65,536 rows.")
    longest = max((len(v) for row in state.shaped(job)[1] for v in row), default=0)
    if longest > formats.XLS_MAX_CELL:
        raise analytics_error(7808, "XLS export is limited to 32,767 characters in a cell.")
    if longest > formats.XLS_EMULATED_CELL:  # one LABEL record a cell: not Zoho's limit
        raise analytics_error(
            8504, f"The emulator writes xls cells of up to {formats.XLS_EMULATED_CELL} characters."
        )
