"""A job's result: pages streamed into one output file, or into one file per page.

CSV pages merge with the header written once; a page whose header differs is an error (the
columns changed under us, and a silently misaligned file is worse than none). ICS pages
merge into one calendar. Nothing appears at the output path until `commit`.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path
from typing import Literal, NamedTuple

from zsync.sinks.atomic import AtomicDirectory, AtomicFile
from zsync.sinks.records import CsvRecords, split_header

FileKind = Literal["csv", "ics", "json"]
ICS_END = b"END:VCALENDAR"
ICS_EVENT = b"BEGIN:VEVENT"


class ResultError(Exception):
    """A page can't join the result (its header differs, it is cut short...)."""


class Output(NamedTuple):
    path: Path
    bytes: int
    rows: int | None
    sha256: str
    pages: int


class ResultWriter:
    """Usage: `page = writer.page(); page.write(...); page.close()` per page, then `commit()`."""

    def __init__(self, destination: Path, kind: FileKind, *, per_page: bool = False) -> None:
        self.destination = destination
        self.kind = kind
        self.per_page = per_page
        self.pages = 0
        self.rows: int | None = 0 if kind in ("csv", "ics") else None
        self._header: bytes | None = None
        if per_page:
            self._directory: AtomicDirectory | None = AtomicDirectory(destination)
            self._file: AtomicFile | None = None
        else:
            self._directory = None
            self._file = AtomicFile(destination)
        self._sizes: list[int] = []
        self._digests: list[str] = []

    def page(self) -> PageWriter:
        self.pages += 1
        if self._directory is not None:
            target = self._directory.file(f"page-{self.pages:04d}.{self.kind}")
            return PageWriter(self, target, first=True, own_file=True)
        assert self._file is not None
        return PageWriter(self, self._file, first=self.pages == 1, own_file=False)

    def commit(self) -> Output:
        if self._file is not None:
            if self.kind == "ics" and self.pages:
                self._file.write(ICS_END + b"\r\n")
            written = self._file.commit()
            return Output(written.path, written.bytes, self.rows, written.sha256, self.pages)
        assert self._directory is not None
        path = self._directory.commit()
        return Output(path, sum(self._sizes), self.rows, _combined(self._digests), self.pages)

    def abort(self) -> None:
        if self._file is not None:
            self._file.abort()
        if self._directory is not None:
            self._directory.abort()

    def _page_done(self, rows: int, target: AtomicFile, own_file: bool) -> None:
        if self.rows is not None:
            self.rows += rows
        if own_file:
            if self.kind == "ics":
                target.write(ICS_END + b"\r\n")
            written = target.commit()
            self._sizes.append(written.bytes)
            self._digests.append(written.sha256)


class PageWriter:
    """One page's bytes, in order; strips what merging requires and counts rows."""

    def __init__(
        self, result: ResultWriter, target: AtomicFile, *, first: bool, own_file: bool
    ) -> None:
        self.result = result
        self.target = target
        self.first = first
        self.own_file = own_file
        self._buffer = b""  # held back until a whole header or line is seen
        self._header_done = False
        self._csv = CsvRecords()
        self._events = 0
        self._tail = b""  # bytes after the last newline: a last record not yet ended
        self._columns = 0

    def write(self, data: bytes) -> None:
        if self.result.kind == "csv":
            self._write_csv(data)
        elif self.result.kind == "ics":
            self._write_ics(data)
        else:
            self.target.write(data)
            if data.strip():
                self._tail = data[-64:]

    def close(self) -> None:
        if self.result.kind == "csv":
            if not self._header_done:
                self._take_header(self._buffer + b"\n" if self._buffer else b"", final=True)
            self._check_csv_end()
            rows = max(self._csv.close(), 0)
        elif self.result.kind == "ics":
            self._write_ics(b"", final=True)
            rows = self._events
        else:
            if self._tail and self._tail.rstrip()[-1:] not in (b"}", b"]"):
                raise ResultError("the JSON result ends abruptly: it was cut short")
            rows = 0
        self.result._page_done(rows, self.target, self.own_file)

    # -- CSV ---------------------------------------------------------------------------------

    def _write_csv(self, data: bytes) -> None:
        if self._header_done:
            self._body(data)
            return
        self._buffer += data
        self._take_header(self._buffer, final=False)

    def _take_header(self, data: bytes, *, final: bool) -> None:
        split = split_header(data)
        if split is None:
            if final and data:
                raise ResultError("a page ends inside its header row")
            if final:  # an empty page: nothing to merge
                self._header_done = True
            return
        header, rest = split
        known = self.result._header
        if known is None or self.own_file:
            self.result._header = self.result._header or header
            self.target.write(header)
        elif _strip_eol(header) != _strip_eol(known):
            raise ResultError(
                f"page {self.result.pages} has other columns than page 1 "
                f"({_show(header)} instead of {_show(known)})"
            )
        self._header_done = True
        self._columns = len(next(csv.reader(io.StringIO(_decode(header))), []))
        self._buffer = b""
        if rest:
            self._body(rest)

    def _body(self, data: bytes) -> None:
        self._csv.feed(data)
        self.target.write(data)
        _, newline, tail = data.rpartition(b"\n")
        self._tail = tail if newline else self._tail + data

    def _check_csv_end(self) -> None:
        """A result cut short by the server can still arrive cleanly (a complete HTTP body):
        catch the cuts CSV itself reveals, a quoted field or a last row left open."""
        if self._csv.in_quotes:
            raise ResultError("the result ends inside a quoted field: it was cut short")
        if self._tail.strip() and self._columns > 1:
            fields = next(csv.reader(io.StringIO(_decode(self._tail))), [])
            if len(fields) < self._columns:
                raise ResultError(
                    f"the last row has {len(fields)} of {self._columns} columns: the result "
                    "was cut short"
                )

    # -- ICS ---------------------------------------------------------------------------------

    def _write_ics(self, data: bytes, *, final: bool = False) -> None:
        self._buffer += data
        lines = self._buffer.split(b"\n")
        self._buffer = b"" if final else lines.pop()
        for line in lines:
            if not line and final:
                continue
            bare = line.rstrip(b"\r")
            if bare == ICS_END:
                continue  # written once, at the very end
            if not self._header_done:
                if bare == ICS_EVENT:
                    self._header_done = True
                elif not self.first:
                    continue  # later pages' calendar preamble
            if bare == ICS_EVENT:
                self._events += 1
            self.target.write(line + b"\n")


def _decode(data: bytes) -> str:
    return data.decode("utf-8-sig", "replace")


def _strip_eol(line: bytes) -> bytes:
    return line.rstrip(b"\r\n")


def _show(header: bytes) -> str:
    text = _strip_eol(header).decode("utf-8", "replace")
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _combined(digests: list[str]) -> str:
    """One sha256 for a directory of pages: of the pages' digests, in order."""
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()
