"""CSV records in bytes, found by the parity of quotes, at C speed.

The model (RFC 4180, which is how Zoho writes CSV): a quote character toggles "inside a
quoted field" (a doubled quote inside one toggles twice, so it changes nothing); a newline
outside quotes ends a record; a delimiter outside quotes separates two fields. The checks
(checks.py) and the splitter (split.py) both read CSV this way, so a record the splitter
keeps whole is a record the checks count once.

Walking a buffer line by line in Python costs seconds per GiB. Everything here instead
works on the buffer's *separators*: `bytes.translate` deletes every other byte in one C
pass, which leaves a few percent of the buffer, and in that string `replace` drops adjacent
quote pairs (a quoted field without a separator inside: its quotes change no parity and
enclose nothing) and `split` on the quotes left puts the outside of quotes at the even
positions. A chunk without a quote is one `translate` and one `rfind`. Python walks a
record at a time only where a question is about one record (a header; an error's details;
the few records between a guess and a cut in `nth_record_end`).

Every range given to these functions starts at the start of a record (outside quotes).
"""

from __future__ import annotations

import functools

QUOTE = b'"'
NEWLINE = b"\n"
Buffer = bytes | bytearray  # a chunk read into a reused buffer is scanned where it lies
_ALL = bytes(range(256))


@functools.cache
def deletions(keep: bytes) -> bytes:
    """The bytes `translate` must delete to leave only those in `keep`."""
    return _ALL.translate(None, keep)


def outside(separators: Buffer) -> Buffer:
    """The separators (a translate of a range to quotes and other separators) that lie
    outside quotes, in order; quotes themselves dropped. A range that ends inside a quoted
    field keeps only what precedes the opening quote of that field."""
    if QUOTE not in separators:
        return separators
    reduced = separators.replace(b'""', b"")
    if QUOTE not in reduced:
        return reduced
    return b"".join(reduced.split(QUOTE)[0::2])


def count_records(data: Buffer, start: int = 0, end: int | None = None) -> int:
    """Records that end (with a newline outside quotes) in data[start:end]."""
    end = len(data) if end is None else end
    if data.find(QUOTE, start, end) < 0:
        return data.count(NEWLINE, start, end)
    kept = data[start:end].translate(None, deletions(QUOTE + NEWLINE))
    return outside(kept).count(NEWLINE)


def whole_records(data: Buffer, start: int = 0) -> tuple[int, int]:
    """(the records that end in data[start:], the offset just past the last of them, or
    `start` if none): one C pass over data[start:] for both."""
    if data.find(QUOTE, start) < 0:
        return data.count(NEWLINE, start), max(start, data.rfind(NEWLINE, start) + 1)
    kept = data.translate(None, deletions(QUOTE + NEWLINE))
    if start:  # drop the separators of data[:start] (a small slice: no copy of the rest)
        kept = kept[len(data[:start].translate(None, deletions(QUOTE + NEWLINE))) :]
    records = outside(kept).count(NEWLINE)
    if not records:
        return 0, start
    return records, last_record_end(data, start, quotes=kept.count(QUOTE))


def last_record_end(
    data: Buffer, start: int = 0, end: int | None = None, *, quotes: int | None = None
) -> int:
    """The offset just past the last whole record in data[start:end]; `start` if none.
    `quotes`: the number of quotes in the range, when the caller knows it already."""
    end = len(data) if end is None else end
    newline = data.rfind(NEWLINE, start, end)
    if newline < 0:
        return start
    if data.find(QUOTE, start, newline) < 0:
        return newline + 1  # no quote before it: it is outside quotes
    if quotes is None:
        quotes = data.count(QUOTE, start, end)
    return _outside_newline_before(data, start, end, quotes) + 1


def _outside_newline_before(data: Buffer, start: int, end: int, quotes: int) -> int:
    """The last newline in data[start:end] outside quotes (-1 if none), given the number of
    quotes in that range: a newline is outside when the quotes before it are even, and the
    quotes before it are the range's less those after it. Walks back from the end, a line at
    a time, only while the lines are inside a quoted field."""
    after = 0
    high = end
    while True:
        newline = data.rfind(NEWLINE, start, high)
        if newline < 0:
            return start - 1
        after += data.count(QUOTE, newline + 1, high)
        if (quotes - after) % 2 == 0:
            return newline
        high = newline


def next_record_end(
    data: Buffer, start: int = 0, end: int | None = None, *, inside: bool = False
) -> int:
    """The offset just past the first whole record in data[start:end]; -1 if none.
    `inside`: the record began before `start`, and is inside a quoted field there."""
    end = len(data) if end is None else end
    position = start
    while (newline := data.find(NEWLINE, position, end)) >= 0:
        if data.count(QUOTE, position, newline) % 2:
            inside = not inside
        if not inside:
            return newline + 1
        position = newline + 1
    return -1


def nth_record_end(data: Buffer, start: int, end: int, n: int) -> int:
    """The offset just past the `n`-th whole record (n >= 1) of data[start:end]; -1 if the
    range holds fewer. Guesses from the range's average record where the answer lies, counts
    the records up to a record boundary short of the guess at C speed, and repeats on what
    is left; only the last few records are stepped over one at a time."""
    total = count_records(data, start, end)
    if total < n:
        return -1
    if total == n:
        return last_record_end(data, start, end)
    average = (end - start) / total
    position, needed, aim = start, n, 0.98
    while needed > 32:
        guess = min(end, position + int(needed * average * aim))
        guess = last_record_end(data, position, guess)
        found = count_records(data, position, guess)
        if found > needed:  # records shorter here than on average: aim nearer
            aim /= 2
            continue
        if found == 0:
            break
        position, needed = guess, needed - found
    for _ in range(needed):
        position = next_record_end(data, position, end)
        if position < 0:
            raise AssertionError("fewer records than counted")
    return position


def split_header(data: bytes) -> tuple[bytes, bytes] | None:
    """(header record with its newline, the rest), or None if `data` holds no whole record."""
    end = next_record_end(data)
    if end < 0:
        return None
    return data[:end], data[end:]
