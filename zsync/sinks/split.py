"""Cut a CSV file into parts under a size cap, on record boundaries, without copying it.

A part is a byte range of the file plus the header row in front. Boundaries fall only
where a newline ends a record (outside quotes), so a quoted field holding newlines is never
cut. The file is scanned once in chunks; parts are read back from it when uploaded.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from zsync.sinks.records import split_header

SCAN_CHUNK = 1 << 20


class SplitError(Exception):
    """The file can't be cut as asked (a header or a single record over the cap...)."""


class Part(NamedTuple):
    number: int  # 1-based
    start: int  # byte offset of the part's first record
    end: int  # byte offset just past its last record
    rows: int  # records in the part (the header not counted)
    size: int  # bytes of the part as uploaded: the header and the range


class Layout(NamedTuple):
    header: bytes
    parts: list[Part]
    sha256: str = ""  # of the whole file, taken during the one scan

    @property
    def rows(self) -> int:
        return sum(part.rows for part in self.parts)

    def rows_before(self, number: int) -> int:
        """Records in the parts before part `number` (1-based)."""
        return sum(part.rows for part in self.parts[: number - 1])


def plan_parts(path: Path, max_bytes: int, max_rows: int | None = None) -> Layout:
    """Where to cut `path` so each part (header included) is at most `max_bytes` and holds
    at most `max_rows` records."""
    hashed = hashlib.sha256()
    with open(path, "rb") as handle:
        head = handle.read(SCAN_CHUNK)
        split = split_header(head)
        while split is None:
            more = handle.read(SCAN_CHUNK)
            if not more:
                if head.strip():
                    hashed.update(head)
                    header_only = head if head.endswith(b"\n") else head + b"\n"
                    return Layout(header_only, [], hashed.hexdigest())
                raise SplitError(f"{path} is empty: no header row")
            head += more
            split = split_header(head)
        header = split[0]
        hashed.update(head[: len(header)])
        if len(header) >= max_bytes:
            raise SplitError(f"the header row alone is {len(header)} bytes, over the part cap")
        budget = max_bytes - len(header)
        parts: list[Part] = []
        offset = len(header)
        start = offset
        last_end = offset  # end of the last whole record seen
        rows_in_part = 0
        in_quotes = False
        handle.seek(offset)
        pending = b""
        while True:
            chunk = handle.read(SCAN_CHUNK)
            if not chunk:
                break
            hashed.update(chunk)
            data = pending + chunk
            base = offset - len(pending)
            position = 0
            while True:
                newline = data.find(b"\n", position)
                if newline < 0:
                    break
                if data.count(b'"', position, newline) % 2:
                    in_quotes = not in_quotes
                position = newline + 1
                if in_quotes:
                    continue
                record_end = base + position
                full = max_rows is not None and rows_in_part >= max_rows
                if record_end - start > budget or full:
                    if last_end == start:
                        raise SplitError(
                            f"record {_row_number(parts, rows_in_part)} alone is "
                            f"{record_end - start} bytes, over the part cap of {max_bytes}"
                        )
                    parts.append(_part(len(parts) + 1, start, last_end, rows_in_part, header))
                    start, rows_in_part = last_end, 0
                last_end = record_end
                rows_in_part += 1
            # The unfinished tail is scanned again with the next chunk.
            pending = data[position:]
            offset = base + len(data)
        if pending:  # a last record without a trailing newline
            record_end = offset
            full = max_rows is not None and rows_in_part >= max_rows
            if (record_end - start > budget or full) and last_end > start:
                parts.append(_part(len(parts) + 1, start, last_end, rows_in_part, header))
                start, rows_in_part = last_end, 0
            last_end = record_end
            rows_in_part += 1
        if last_end > start:
            parts.append(_part(len(parts) + 1, start, last_end, rows_in_part, header))
    return Layout(header, parts, hashed.hexdigest())


def read_part(path: Path, layout: Layout, part: Part, chunk: int = SCAN_CHUNK) -> Iterator[bytes]:
    """The bytes of `part` as uploaded: the header, then its range of the file."""
    yield layout.header
    with open(path, "rb") as handle:
        handle.seek(part.start)
        remaining = part.end - part.start
        while remaining > 0:
            data = handle.read(min(chunk, remaining))
            if not data:
                raise SplitError(f"{path} changed while it was being imported")
            remaining -= len(data)
            yield data


def _part(number: int, start: int, end: int, rows: int, header: bytes) -> Part:
    return Part(number, start, end, rows, len(header) + end - start)


def _row_number(parts: list[Part], rows_in_part: int) -> int:
    return sum(p.rows for p in parts) + rows_in_part + 1


class PartFile(io.RawIOBase):
    """A part as a readable file (the header, then its byte range), for streaming uploads."""

    def __init__(self, path: Path, layout: Layout, part: Part) -> None:
        super().__init__()
        self._chunks = read_part(path, layout, part)
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size
