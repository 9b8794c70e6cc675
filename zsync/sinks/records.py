"""Count CSV records in a stream of chunks, with quoted fields that hold newlines.

A newline ends a record only outside quotes. RFC 4180 escapes a quote by doubling it, so
the parity of quotes seen so far says whether we are inside a quoted field.
"""

from __future__ import annotations


class CsvRecords:
    """Feed chunks in order; `records` counts completed records, the header included."""

    def __init__(self) -> None:
        self.records = 0
        self._in_quotes = False
        self._pending = False  # bytes seen since the last record ended

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        pieces = chunk.split(b"\n")
        for index, piece in enumerate(pieces):
            if piece.count(b'"') % 2:
                self._in_quotes = not self._in_quotes
            last = index == len(pieces) - 1
            if last:
                self._pending = self._pending or bool(piece)
            elif not self._in_quotes:
                self.records += 1
                self._pending = False
            else:
                self._pending = True

    @property
    def in_quotes(self) -> bool:
        """Whether the stream so far ends inside a quoted field."""
        return self._in_quotes

    def close(self) -> int:
        """Total records, counting a last record without a trailing newline."""
        return self.records + (1 if self._pending else 0)


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
