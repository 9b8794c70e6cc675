"""Cut a CSV file into parts under a size cap, on record boundaries, without copying it.

A part is a byte range of the file plus the header row in front. Boundaries fall only
where a newline ends a record (outside quotes), so a quoted field holding newlines is never
cut. The file is scanned once in chunks, each at C speed (records.py: a chunk's records are
counted in one pass, and a part's end is looked for only in the chunk where it falls), and
hashed on another core meanwhile; parts are read back from it when uploaded.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from zsync.sinks.behind import OneBehind
from zsync.sinks.records import (
    QUOTE,
    Buffer,
    count_records,
    last_record_end,
    next_record_end,
    nth_record_end,
    split_header,
    whole_records,
)

SCAN_CHUNK = 8 << 20  # per read: few hand-offs to the hashing thread (each may wait for the GIL)
READ_CHUNK = 1 << 20


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
    with open(path, "rb", buffering=0) as handle:
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
        cutter = _Cutter(header, max_bytes - len(header), max_rows)
        offset = len(header)
        handle.seek(offset)
        carry = b""  # the start of a record whose end is in a later chunk
        # Two buffers in turn: a worker hashes one while this thread reads and scans the
        # other (sha256 releases the GIL; the scan can't).
        buffers = (bytearray(SCAN_CHUNK), bytearray(SCAN_CHUNK))
        turn = 0
        hasher = OneBehind()
        try:
            while size := handle.readinto(buffers[turn]):
                buffer = buffers[turn]
                turn ^= 1
                data = buffer if size == len(buffer) else buffer[:size]
                hasher.run(hashed.update, data)
                start = 0
                if carry:
                    start = next_record_end(data, inside=carry.count(QUOTE) % 2 == 1)
                    if start < 0:
                        carry += data
                        cutter.check_unfinished(len(carry))
                        offset += size
                        continue
                    cutter.add_one(offset + start)
                records, end = whole_records(data, start)
                cutter.add(data, start, end, records, offset)
                carry = bytes(data[end:])
                cutter.check_unfinished(len(carry))
                offset += size
            hasher.wait()
        finally:
            hasher.drain()
        if carry:  # a last record without a trailing newline
            cutter.add_one(offset)
        cutter.finish()
    return Layout(header, cutter.parts, hashed.hexdigest())


class _Cutter:
    """Places records into parts in file order: a part closes when its next record would
    take it past the byte budget (the cap less the header) or the row cap."""

    def __init__(self, header: bytes, budget: int, max_rows: int | None) -> None:
        self.header = header
        self.budget = budget
        self.max_rows = max_rows
        self.parts: list[Part] = []
        self.start = len(header)  # file offset of the open part's first record
        self.end = self.start  # just past its last record
        self.rows = 0  # its records

    def add_one(self, record_end: int) -> None:
        """One record, from the open part's end to `record_end`."""
        if record_end - self.start > self.budget or self._full():
            self._close(record_end)
            if record_end - self.start > self.budget:
                self._too_big(record_end)
        self.end = record_end
        self.rows += 1

    def add(self, data: Buffer, low: int, high: int, count: int, base: int) -> None:
        """The `count` records of data[low:high] (data starting at file offset `base`), with
        a part's end found in C over the whole range instead of record by record."""
        while count:
            room = count if self.max_rows is None else self.max_rows - self.rows
            limit = self.start + self.budget - base  # where the open part must end, in data
            if high <= limit and count <= room:
                self.end, self.rows = base + high, self.rows + count
                return
            cut, taken = high, count
            if high > limit:
                cut = last_record_end(data, low, max(low, limit))
                taken = count_records(data, low, cut)
            if taken > room:
                cut, taken = (nth_record_end(data, low, cut, room), room) if room else (low, 0)
            if taken:
                self.end, self.rows = base + cut, self.rows + taken
                count, low = count - taken, cut
            if count:
                self._close(base + next_record_end(data, low, high))

    def check_unfinished(self, size: int) -> None:
        """A record still without its end, `size` bytes long so far: past the budget, it
        can't fit any part (said now, before it fills memory)."""
        if size > self.budget:
            raise SplitError(
                f"record {self._number()} alone is more than {size} bytes, over the part cap "
                f"of {self.budget + len(self.header)}"
            )

    def finish(self) -> None:
        if self.end > self.start:
            self._close(self.end)

    def _full(self) -> bool:
        return self.max_rows is not None and self.rows >= self.max_rows

    def _close(self, next_end: int) -> None:
        """Close the open part; `next_end`: where the record that didn't fit ends."""
        if self.end == self.start:
            self._too_big(next_end)
        self.parts.append(
            Part(
                len(self.parts) + 1,
                self.start,
                self.end,
                self.rows,
                len(self.header) + self.end - self.start,
            )
        )
        self.start, self.rows = self.end, 0

    def _too_big(self, record_end: int) -> None:
        raise SplitError(
            f"record {self._number()} alone is {record_end - self.start} bytes, over the part "
            f"cap of {self.budget + len(self.header)}"
        )

    def _number(self) -> int:
        return sum(p.rows for p in self.parts) + self.rows + 1


def read_part(path: Path, layout: Layout, part: Part, chunk: int = READ_CHUNK) -> Iterator[bytes]:
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
