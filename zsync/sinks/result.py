"""A job's result: pages streamed into one output file, or into one file per page.

CSV pages merge with the header written once; a page whose header differs is an error (the
columns changed under us, and a silently misaligned file is worse than none). ICS pages
merge into one calendar. JSON and the documents (XML, HTML, PDF, XLS: documents.py) are
written as they come, checked whole. Nothing appears at the output path until `commit`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal, NamedTuple

from zsync.sinks.atomic import AtomicDirectory, AtomicFile, Mark
from zsync.sinks.checks import (
    MAX_RECORD,
    CsvBody,
    JsonBody,
    ResultError,
    Utf8,
    header_columns,
    sniff,
)
from zsync.sinks.documents import document_check
from zsync.sinks.records import split_header

__all__ = ["FileKind", "Output", "PageWriter", "ResultError", "ResultWriter"]

FileKind = Literal["csv", "ics", "json", "xml", "xls", "pdf", "html"]
TEXT_KINDS = frozenset({"csv", "ics", "json", "xml", "html"})  # UTF-8 throughout
COUNTED_KINDS = frozenset({"csv", "ics", "xml"})  # whose records the checks count
ICS_END = b"END:VCALENDAR"
ICS_EVENT = b"BEGIN:VEVENT"


class Output(NamedTuple):
    path: Path | str  # a URL once uploaded to object storage (remote.py)
    bytes: int
    rows: int | None
    sha256: str
    pages: int


class ResultWriter:
    """Usage: `page = writer.page(); page.write(...); page.close()` per page, then `commit()`."""

    def __init__(
        self,
        destination: Path,
        kind: FileKind,
        *,
        per_page: bool = False,
        root: Path | None = None,
        delimiter: str = ",",
    ) -> None:
        self.destination = destination
        self.kind = kind
        self.delimiter = delimiter.encode()  # between a CSV result's fields
        self.per_page = per_page
        self.pages = 0
        self.rows: int | None = 0 if kind in COUNTED_KINDS else None  # JSON doesn't say
        self._header: bytes | None = None
        if per_page:
            self._directory: AtomicDirectory | None = AtomicDirectory(destination, root=root)
            self._file: AtomicFile | None = None
        else:
            self._directory = None
            self._file = AtomicFile(destination, root=root)
        self._sizes: list[int] = []
        self._digests: list[str] = []

    def page(self) -> PageWriter:
        """The next page; `discard()` it if it fails its checks, and the result is as it
        was before (so the same page can be downloaded again)."""
        self.pages += 1
        if self._directory is not None:
            target = self._directory.file(f"page-{self.pages:04d}.{self.kind}")
            return PageWriter(self, target, first=True, own_file=True, mark=None)
        assert self._file is not None
        mark = self._file.mark()
        return PageWriter(self, self._file, first=self.pages == 1, own_file=False, mark=mark)

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

    def _page_done(self, rows: int | None, target: AtomicFile, own_file: bool) -> None:
        if self.rows is not None and rows is not None:
            self.rows += rows
        if own_file:
            if self.kind == "ics":
                target.write(ICS_END + b"\r\n")
            written = target.commit()
            self._sizes.append(written.bytes)
            self._digests.append(written.sha256)


class PageWriter:
    """One page's bytes, in order: checked as they pass (see sinks/checks.py), stripped of
    what merging requires, its records counted."""

    def __init__(
        self,
        result: ResultWriter,
        target: AtomicFile,
        *,
        first: bool,
        own_file: bool,
        mark: Mark | None,
    ) -> None:
        self.result = result
        self.target = target
        self.first = first
        self.own_file = own_file
        self._mark = mark
        self._header_known = result._header  # to restore if this page is discarded
        self._buffer = b""  # held back until a whole header or line is seen
        self._header_done = False
        self._sniffed = False
        self._utf8 = Utf8() if result.kind in TEXT_KINDS else None
        self._csv: CsvBody | None = None
        self._json = JsonBody() if result.kind == "json" else None
        self._document = document_check(result.kind)
        self._events = 0

    def write(self, data: bytes) -> None:
        if not data:
            return
        if not self._sniffed:
            sniff(data[:4096], self.result.kind)
            self._sniffed = True
        if self._utf8 is not None:
            self._utf8.feed(data)
        if self.result.kind == "csv":
            self._write_csv(data)
        elif self.result.kind == "ics":
            self._write_ics(data)
        elif self._document is not None:
            self._document.feed(data)
            self.target.write(data)
        else:
            assert self._json is not None
            self._json.feed(data)
            self.target.write(data)

    def close(self, expected: int | None = None) -> int | None:
        """Finish the page's checks and add it to the result; returns its records (None
        where the format doesn't say). `expected`: the records Zoho said the page holds."""
        if not self._sniffed:
            sniff(b"", self.result.kind)
        if self._utf8 is not None:
            self._utf8.feed(b"", final=True)
        rows: int | None
        if self._document is not None:
            rows = self._document.close()
        elif self.result.kind == "csv":
            if not self._header_done:
                self._take_header(self._buffer + b"\n", final=True)
            assert self._csv is not None
            rows = self._csv.close()
        elif self.result.kind == "ics":
            self._write_ics(b"", final=True)
            rows = self._events
        else:
            assert self._json is not None
            rows = self._json.close()
        counted = self.result.kind == "csv"  # Zoho's count is of records, not of events
        if counted and expected is not None and rows is not None and rows != expected:
            raise ResultError(f"Zoho reported {expected} records, the result holds {rows}")
        self.result._page_done(rows, self.target, self.own_file)
        return rows

    def discard(self) -> None:
        """Undo this page: the result is as before it started."""
        self.result.pages -= 1
        self.result._header = self._header_known
        if self.own_file:
            self.target.abort()
        elif self._mark is not None:
            self.target.rollback(self._mark)

    # -- CSV ---------------------------------------------------------------------------------

    def _write_csv(self, data: bytes) -> None:
        if self._header_done:
            self._body(data)
            return
        self._buffer += data
        if len(self._buffer) > MAX_RECORD and split_header(self._buffer) is None:
            raise ResultError("the result's first row never ends: it is not CSV")
        self._take_header(self._buffer, final=False)

    def _take_header(self, data: bytes, *, final: bool) -> None:
        split = split_header(data)
        if split is None:
            if final:
                raise ResultError("a page ends inside its header row")
            return
        header, rest = split
        columns = header_columns(header, self.result.delimiter)
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
        self._csv = CsvBody(len(columns), self.result.delimiter)
        self._buffer = b""
        if rest:
            self._body(rest)

    def _body(self, data: bytes) -> None:
        assert self._csv is not None
        self._csv.feed(data)
        self.target.write(data)

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


def _strip_eol(line: bytes) -> bytes:
    return line.rstrip(b"\r\n")


def _show(header: bytes) -> str:
    text = _strip_eol(header).decode("utf-8", "replace")
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _combined(digests: list[str]) -> str:
    """One sha256 for a directory of pages: of the pages' digests, in order."""
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()
