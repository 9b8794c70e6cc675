"""Find where a CSV's header record ends, with quoted fields that hold newlines.

A newline ends a record only outside quotes. RFC 4180 escapes a quote by doubling it, so
the parity of quotes seen so far says whether we are inside a quoted field.
"""

from __future__ import annotations


def split_header(data: bytes) -> tuple[bytes, bytes] | None:
    """(header record with its newline, the rest), or None if `data` holds no whole record."""
    in_quotes = False
    start = 0
    while True:
        newline = data.find(b"\n", start)
        if newline < 0:
            return None
        if data.count(b'"', start, newline) % 2:
            in_quotes = not in_quotes
        if not in_quotes:
            return data[: newline + 1], data[newline + 1 :]
        start = newline + 1
