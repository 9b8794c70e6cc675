"""What a result must be before it counts: text that is UTF-8, CSV whose every record has the
header's number of fields, JSON that parses and isn't an error, never an HTML page (unless
HTML was asked for). XML, HTML, PDF and XLS results have their own checks: documents.py.

Zoho's downloads carry no checksum (a ZIP's CRC covers only the archive's own bytes, and
Analytics sends no ZIP), so these checks are what stands between a corrupt or cut-short
body and an output labelled "succeeded". They run on every chunk as it is written, so they
must be cheap: a chunk of plain ASCII without a quote character is checked with a few
C-level counts, with no per-line Python.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from typing import Any


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
    `columns` fields (a quoted field may hold delimiters and newlines)."""

    def __init__(self, columns: int, delimiter: bytes = b",") -> None:
        self.columns = columns
        self.delimiter = delimiter
        self.records = 0
        self._carry = b""  # the start of a record whose end hasn't arrived

    def feed(self, chunk: bytes) -> None:
        data = self._carry + chunk if self._carry else chunk
        end = data.rfind(b"\n") + 1
        if end == 0:
            self._hold(data)
            return
        # Offsets, not slices: a slice of a 1 MiB chunk is a 1 MiB copy.
        if data.find(b'"', 0, end) < 0 and self._plain(data, end):
            self._hold(data[end:])
            return
        end = _record_end(data)
        self._quoted(data[:end])
        self._hold(data[end:])

    def close(self) -> int:
        """Total records; a last record without a newline counts, if it is whole."""
        tail = self._carry
        self._carry = b""
        if tail.strip(b"\r\n"):
            if tail.count(b'"') % 2:
                raise ResultError("the result ends inside a quoted field: it was cut short")
            self._quoted(tail + b"\n", last=True)
        return self.records

    def _hold(self, rest: bytes) -> None:
        if len(rest) > MAX_RECORD:
            raise ResultError(
                f"a record of more than {MAX_RECORD // (1024 * 1024)} MiB without its end: "
                "the result is corrupt"
            )
        self._carry = rest

    def _plain(self, data: bytes, end: int) -> bool:
        """Whole records without quotes in data[:end]: each line is one record of exactly
        `columns`-1 delimiters, which the totals prove; False when some line is wrong (the
        caller then finds which). Two wrong lines could cancel out (one short of a field,
        one with an extra); a broken transfer that did so would also have to stay valid
        UTF-8, which flipped bytes don't."""
        lines = data.count(b"\n", 0, end)
        if data.count(self.delimiter, 0, end) != (self.columns - 1) * lines:
            return False
        self.records += lines
        return True

    def _quoted(self, block: bytes, *, last: bool = False) -> None:
        text = block.decode("utf-8", "replace")
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter.decode())
        for row in reader:
            if len(row) != self.columns:
                where = "the last record" if last else f"record {self.records + 1}"
                raise ResultError(
                    f"{where} has {len(row)} fields, the header {self.columns}: the result is "
                    + ("cut short" if last and len(row) < self.columns else "corrupt")
                )
            self.records += 1


def _record_end(data: bytes) -> int:
    """Where the last whole record of `data` ends: after a newline outside quotes."""
    in_quotes = False
    end = 0
    start = 0
    while (newline := data.find(b"\n", start)) >= 0:
        if data.count(b'"', start, newline) % 2:
            in_quotes = not in_quotes
        if not in_quotes:
            end = newline + 1
        start = newline + 1
    return end


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
