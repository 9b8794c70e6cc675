"""The highest date-time in one column of a committed CSV result: an incremental export's
next watermark. The column is found by its header; empty cells are skipped."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from zsync.watermarks import parse_moment


class UnreadableMoment(ValueError):
    """A cell of the column holds something that is no date-time."""


def highest_moment(output: Path, column: str, delimiter: str = ",") -> str | None:
    """The text of the latest value of `column` in `output` (a file, or a directory of one
    file per page), or None when no row has one."""
    best: tuple[datetime, str] | None = None
    for file in _files(output):
        with file.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            header = next(reader, None)
            if header is None:
                continue
            if column not in header:
                raise UnreadableMoment(f"{file.name} has no column '{column}'")
            index = header.index(column)
            for row in reader:
                text = row[index] if index < len(row) else ""
                if not text.strip():
                    continue
                moment = parse_moment(text)
                if moment is None:
                    raise UnreadableMoment(f"'{column}' holds {text!r}, which is no date-time")
                if best is None or moment > best[0]:
                    best = (moment, text.strip())
    return None if best is None else best[1]


def _files(output: Path) -> Iterator[Path]:
    if output.is_dir():
        yield from sorted(path for path in output.iterdir() if path.is_file())
    else:
        yield output
