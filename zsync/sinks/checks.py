"""What a result must be before it counts: text that is UTF-8, CSV whose every record has the
header's number of fields, JSON that parses and isn't an error, never an HTML page (unless
HTML was asked for). XML, HTML, PDF and XLS results have their own checks: documents.py.

Zoho's downloads carry no checksum (a ZIP's CRC covers only the archive's own bytes, and
Analytics sends no ZIP), so these checks are what stands between a corrupt or cut-short
body and an output labelled "succeeded". They run on every chunk as it is written, so they
must be cheap: a chunk is checked in a few C-level passes (records.py), with no per-line
Python, quotes or not.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from typing import Any

from zsync.sinks.records import (
    NEWLINE,
    QUOTE,
    Buffer,
    deletions,
    last_record_end,
    next_record_end,
    outside,
)


class ResultError(Exception):
    """A result (or one page of it) is unusable; `code` is Zoho's when it sent an error."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


MAX_RECORD = 16 * 1024 * 1024  # one CSV record; Zoho's largest field holds 32,000 characters
JSON_PARSE_LIMIT = 64 * 1024 * 1024  # JSON results up to this size are parsed whole


class Utf8:
    """Strict UTF-8 over a stream of chunks; a sequence split between chunks is fine."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._offset = 0
        self._pending = False  # the decoder holds the start of a multi-byte sequence

    def feed(self, chunk: bytes, *, final: bool = False) -> None:
        if not self._pending and chunk.isascii():
            self._offset += len(chunk)
            if not final:
                return
            chunk = b""
        try:
            self._decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            raise ResultError(
                f"the result is not UTF-8 text (byte {self._offset + exc.start}: "
                f"{exc.reason}): it is corrupt"
            ) from None
        self._offset += len(chunk)
        self._pending = bool(self._decoder.getstate()[0])


class CsvBody:
    """The records after a CSV header, fed in order: counts them and checks each one holds
    `columns` fields (a quoted field may hold delimiters and newlines), reading CSV as
    records.py does. A blank record (nothing, or a lone carriage return, before its
    newline) has no fields.

    The check is exact, and costs one C pass over a chunk (see records.py): the separators
    outside quotes of every whole record in the chunk, in order, must be exactly
    `columns`-1 delimiters and a newline, repeated. Only when they are not does Python walk
    the records, to say which one is wrong (`walk`, the check's definition)."""

    def __init__(self, columns: int, delimiter: bytes = b",") -> None:
        if len(delimiter) != 1 or delimiter in (QUOTE, NEWLINE):
            raise ValueError(f"a CSV delimiter is one byte, not a quote or newline: {delimiter!r}")
        self.columns = columns
        self.delimiter = delimiter
        self.records = 0
        self._carry = b""  # the start of a record whose end hasn't arrived
        self._keep = deletions(QUOTE + NEWLINE + delimiter)
        self._record = delimiter * (columns - 1) + NEWLINE  # its separators outside quotes

    def feed(self, chunk: bytes) -> None:
        start = 0
        if self._carry:
            # Finish the record the last chunk left unfinished without copying the chunk:
            # its end is the chunk's first newline outside quotes, counting the carried
            # record's quotes.
            inside = self._carry.count(QUOTE) % 2 == 1
            start = next_record_end(chunk, inside=inside)
            if start < 0:
                self._hold(self._carry + chunk)
                return
            record = self._carry + chunk[:start]
            self._carry = b""
            self.records += walk(record, 0, len(record), self.columns, self.delimiter, self.records)
        self._scan(chunk, start)

    def _scan(self, data: bytes, start: int) -> None:
        """Check and count the whole records of data[start:], which starts a record; hold
        the unfinished one at its end."""
        separators: Buffer = data.translate(None, self._keep)
        if start:  # the separators of data[:start] (a record already checked) go
            separators = separators[len(data[:start].translate(None, self._keep)) :]
        if QUOTE not in separators:
            end = data.rfind(NEWLINE, start) + 1
            whole = separators[: separators.rfind(NEWLINE) + 1]
        else:
            end = last_record_end(data, start, quotes=separators.count(QUOTE))
            # The separators of data[end:], the unfinished record, are the last ones.
            rest = data[end:].translate(None, self._keep) if end < len(data) else b""
            whole = outside(separators[: len(separators) - len(rest)])
        end = max(end, start)
        if end > start:
            lines = len(whole) // len(self._record)
            if whole != self._record * lines or (
                self.columns == 1 and _blank_line(data, start, end)
            ):
                lines = walk(data, start, end, self.columns, self.delimiter, self.records)
            self.records += lines
        self._hold(data[end:] if end else data)

    def close(self) -> int:
        """Total records; a last record without a newline counts, if it is whole."""
        tail = self._carry
        self._carry = b""
        if tail.strip(b"\r\n"):
            if tail.count(QUOTE) % 2:
                raise ResultError("the result ends inside a quoted field: it was cut short")
            record = tail + NEWLINE
            self.records += walk(
                record, 0, len(record), self.columns, self.delimiter, self.records, last=True
            )
        return self.records

    def _hold(self, rest: bytes) -> None:
        if len(rest) > MAX_RECORD:
            raise ResultError(
                f"a record of more than {MAX_RECORD // (1024 * 1024)} MiB without its end: "
                "the result is corrupt"
            )
        self._carry = rest


def walk(
    data: bytes,
    start: int,
    end: int,
    columns: int,
    delimiter: bytes,
    before: int,
    *,
    last: bool = False,
) -> int:
    """The check, one record at a time: data[start:end] is whole records, each of which must
    hold `columns` fields; returns how many there are. `before`: records already counted
    (for the message)."""
    records = 0
    position = start
    while position < end:
        record_end = next_record_end(data, position, end)
        if record_end < 0:
            raise AssertionError("walk() is given whole records")
        fields = record_fields(data[position : record_end - 1], delimiter)
        if fields != columns:
            where = "the last record" if last else f"record {before + records + 1}"
            raise ResultError(
                f"{where} has {fields} fields, the header {columns}: the result is "
                + ("cut short" if last and fields < columns else "corrupt")
            )
        records += 1
        position = record_end
    return records


def record_fields(record: bytes, delimiter: bytes) -> int:
    """Fields in one record (without its newline): delimiters outside quotes, plus one."""
    if record in (b"", b"\r"):
        return 0
    return sum(piece.count(delimiter) for piece in record.split(QUOTE)[0::2]) + 1


def _blank_line(data: bytes, start: int, end: int) -> bool:
    """Whether data[start:end] may hold a blank record (which the separators alone can't
    tell from a one-field one): only then need a one-column CSV be walked."""
    return (
        data.startswith((NEWLINE, b"\r\n"), start)
        or data.find(b"\n\n", start, end) >= 0
        or data.find(b"\n\r\n", start, end) >= 0
    )


def header_columns(header: bytes, delimiter: bytes = b",") -> list[str]:
    """The column names of a CSV header record; refuses what can't be one."""
    text = header.decode("utf-8-sig", "replace").rstrip("\r\n")
    names = next(csv.reader(io.StringIO(text), delimiter=delimiter.decode()), [])
    if not names or not any(name.strip() for name in names):
        raise ResultError("the result has no header row")
    blank = any(not name.strip() for name in names)
    numbers = all(_is_number(name) for name in names)
    if blank or numbers or len(set(names)) != len(names):
        raise ResultError(
            f"the result's first row {_show(text)} is not a header (column names are "
            "non-empty, distinct and not all numbers): the result is corrupt or has no header"
        )
    return names


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def sniff(head: bytes, kind: str) -> None:
    """Refuse a body that is plainly not a result of `kind`: an HTML page (a login or error
    page served with HTTP 200), a Zoho error envelope, or nothing at all."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start:
        if not head:
            raise ResultError("the result is empty")
        return
    markup = kind in ("xml", "html")  # results that start with '<' themselves
    page = start[:14].lower().startswith((b"<!doctype html", b"<html"))
    if start[:1] == b"<" and (not markup or (kind == "xml" and page)):
        raise ResultError(f"the result is an HTML page, not {kind.upper()}: {_show(start)}")
    if kind != "json" and start[:1] == b"{":
        envelope_error(start)
        raise ResultError(f"the result is JSON, not {kind.upper()}: {_show(start)}")


def envelope_error(data: bytes) -> None:
    """Raise if `data` is one of Zoho's error envelopes (parsed only when small enough)."""
    if len(data) > 1024 * 1024:
        return
    try:
        body: Any = json.loads(data)
    except ValueError:
        return
    code, message = _error_of(body)
    if code is not None:
        raise ResultError(f"Zoho sent an error instead of the result: {message}", code=code)


class JsonBody:
    """A JSON result: parsed whole when it is small enough, else checked at both ends."""

    def __init__(self) -> None:
        self._parts: list[bytes] | None = []
        self._size = 0
        self._first = b""
        self._last = b""

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._size += len(chunk)
        if not self._first.strip():
            self._first = (self._first + chunk)[:64]
        self._last = (self._last + chunk)[-64:]
        if self._parts is not None:
            self._parts.append(chunk)
            if self._size > JSON_PARSE_LIMIT:
                self._parts = None

    def close(self) -> int | None:
        """Records in the result when it says (a list, or {"data": [...]}), else None."""
        if self._parts is None:
            first, last = self._first.lstrip()[:1], self._last.rstrip()[-1:]
            if (first, last) not in ((b"{", b"}"), (b"[", b"]")):
                raise ResultError("the JSON result is cut short or corrupt")
            return None
        try:
            body = json.loads(b"".join(self._parts))
        except ValueError as exc:
            raise ResultError(f"the JSON result doesn't parse ({exc}): it is corrupt") from None
        finally:
            self._parts = []
        code, message = _error_of(body)
        if code is not None:
            raise ResultError(f"Zoho sent an error instead of the result: {message}", code=code)
        rows = body.get("data") if isinstance(body, dict) else body
        return len(rows) if isinstance(rows, list) else None


def _error_of(body: Any) -> tuple[str | None, str]:
    if not isinstance(body, dict):
        return None, ""
    data = body.get("data")
    if body.get("status") == "failure" or (isinstance(data, dict) and "errorCode" in data):
        detail = data if isinstance(data, dict) else {}
        code = detail.get("errorCode") or body.get("code") or "failure"
        message = detail.get("errorMessage") or body.get("summary") or "failure"
        return str(code), f"{code} {message}"
    if body.get("status") == "error" and "code" in body:
        return str(body["code"]), f"{body['code']} {body.get('message', '')}".strip()
    return None, ""


def _show(data: bytes | str) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    text = " ".join(text[:200].split())
    return repr(text if len(text) <= 80 else text[:77] + "...")
