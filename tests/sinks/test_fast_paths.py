"""The C-speed CSV paths (records.py, CsvBody, plan_parts) against a byte-at-a-time
definition written here: the same record boundaries, counts, check verdicts and parts, on
generated CSV (quoted fields, doubled quotes, newlines and delimiters inside quotes, CRLF)
and on arbitrary bytes of the same alphabet, fed in chunks down to one byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zsync.sinks import split as split_module
from zsync.sinks.checks import CsvBody, ResultError
from zsync.sinks.records import (
    count_records,
    last_record_end,
    next_record_end,
    nth_record_end,
    whole_records,
)
from zsync.sinks.split import Part, SplitError, plan_parts

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- the definition, one byte at a time ------------------------------------------------------


def record_ends(data: bytes, start: int = 0, end: int | None = None) -> list[int]:
    """Offsets just past every newline outside quotes in data[start:end]."""
    end = len(data) if end is None else end
    inside = False
    ends = []
    for position in range(start, end):
        byte = data[position : position + 1]
        if byte == b'"':
            inside = not inside
        elif byte == b"\n" and not inside:
            ends.append(position + 1)
    return ends


def fields_of(record: bytes, delimiter: bytes) -> int:
    if record in (b"", b"\r"):
        return 0
    inside, fields = False, 1
    for position in range(len(record)):
        byte = record[position : position + 1]
        if byte == b'"':
            inside = not inside
        elif byte == delimiter and not inside:
            fields += 1
    return fields


def check_verdict(data: bytes, columns: int, delimiter: bytes) -> int | str:
    """The records CsvBody must count, or the error it must raise."""
    ends = record_ends(data)
    start = 0
    for number, end in enumerate(ends, 1):
        fields = fields_of(data[start : end - 1], delimiter)
        if fields != columns:
            return f"record {number} has {fields} fields, the header {columns}"
        start = end
    tail = data[start:]
    if not tail.strip(b"\r\n"):
        return len(ends)
    if tail.count(b'"') % 2:
        return "ends inside a quoted field"
    fields = fields_of(tail, delimiter)
    if fields != columns:
        return f"the last record has {fields} fields, the header {columns}"
    return len(ends) + 1


def reference_parts(
    data: bytes, header: int, max_bytes: int, max_rows: int | None
) -> list[Part] | str:
    """plan_parts' parts by the rule, record by record; "error" when a record can't fit."""
    ends = record_ends(data, header)
    if len(data) > (ends[-1] if ends else header):
        ends.append(len(data))  # a last record without its newline
    budget = max_bytes - header
    parts: list[Part] = []
    start = last = header
    rows = 0
    for end in ends:
        if end - start > budget or (max_rows is not None and rows >= max_rows):
            if last == start:
                return "error"
            parts.append(Part(len(parts) + 1, start, last, rows, header + last - start))
            start, rows = last, 0
            if end - start > budget:
                return "error"
        last, rows = end, rows + 1
    if last > start:
        parts.append(Part(len(parts) + 1, start, last, rows, header + last - start))
    return parts


# -- generated CSV ---------------------------------------------------------------------------

TEXT = st.text(alphabet='ab,"\n\r é', max_size=8)


@st.composite
def csv_bodies(draw: st.DrawFn, columns: int | None = None) -> tuple[bytes, int]:
    """Records of `columns` fields (sometimes a wrong number), quoted as a CSV writer does
    (and sometimes when it needn't), joined by LF or CRLF; maybe no final newline."""
    columns = columns or draw(st.integers(1, 4))
    records = []
    for _ in range(draw(st.integers(0, 12))):
        count = columns + draw(st.sampled_from([0, 0, 0, 0, 0, 0, -1, 1]))
        fields = []
        for _ in range(max(count, 0)):
            text = draw(TEXT)
            if any(c in text for c in ',"\n\r') or draw(st.booleans()):
                text = '"' + text.replace('"', '""') + '"'
            fields.append(text)
        records.append(",".join(fields))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    body = ending.join(records) + (ending if records and draw(st.booleans()) else "")
    return body.encode(), columns


RAW = st.binary(max_size=60).map(lambda b: bytes(b'a,"\n\r'[x % 5] for x in b))


def chunked(data: bytes, sizes: list[int]) -> list[bytes]:
    pieces, position, turn = [], 0, 0
    while position < len(data):
        size = sizes[turn % len(sizes)]
        pieces.append(data[position : position + size])
        position += size
        turn += 1
    return pieces


CHUNK_SIZES = st.lists(st.integers(1, 40), min_size=1, max_size=5)


def fed(data: bytes, columns: int, sizes: list[int], delimiter: bytes = b",") -> int | str:
    body = CsvBody(columns, delimiter)
    try:
        for piece in chunked(data, sizes):
            body.feed(piece)
        return body.close()
    except ResultError as exc:
        return str(exc)


def same_verdict(got: int | str, expected: int | str) -> bool:
    if isinstance(expected, int):
        return got == expected
    return isinstance(got, str) and expected in got


# -- the checks ------------------------------------------------------------------------------


@SETTINGS
@given(csv_bodies(), CHUNK_SIZES)
def test_csv_check_matches_the_definition(body: tuple[bytes, int], sizes: list[int]) -> None:
    data, columns = body
    expected = check_verdict(data, columns, b",")
    got = fed(data, columns, sizes)
    assert same_verdict(got, expected), (got, expected)
    assert same_verdict(fed(data, columns, [len(data) or 1]), expected)  # one chunk


@SETTINGS
@given(RAW, st.integers(1, 4), CHUNK_SIZES)
def test_csv_check_matches_the_definition_on_any_bytes(
    data: bytes, columns: int, sizes: list[int]
) -> None:
    expected = check_verdict(data, columns, b",")
    assert same_verdict(fed(data, columns, sizes), expected)


@SETTINGS
@given(csv_bodies(), CHUNK_SIZES)
def test_csv_check_with_another_delimiter(body: tuple[bytes, int], sizes: list[int]) -> None:
    data, columns = body
    data = data.replace(b",", b";")
    expected = check_verdict(data, columns, b";")
    assert same_verdict(fed(data, columns, sizes, b";"), expected)


def test_compensating_errors_are_caught() -> None:
    """One record short of a field and one with an extra: the totals agree, the records
    don't (a check by totals would pass this)."""
    assert (
        fed(b"1,2\n3\n4,5,6\n", 2, [100])
        == "record 2 has 1 fields, the header 2: the result is corrupt"
    )


def test_a_one_column_csv_refuses_a_blank_record() -> None:
    assert "record 2 has 0 fields" in str(fed(b"a\n\nb\n", 1, [100]))
    assert "record 2 has 0 fields" in str(fed(b"a\r\n\r\nb\r\n", 1, [3]))
    assert fed(b'a\n"\n\n"\nb\n', 1, [100]) == 3  # blank lines inside quotes are data


# -- the record primitives -------------------------------------------------------------------


@SETTINGS
@given(st.one_of(csv_bodies().map(lambda b: b[0]), RAW), st.data())
def test_record_primitives_match_the_definition(data: bytes, draw: st.DataObject) -> None:
    ends = record_ends(data)
    # Ranges start at a record's start: the data's or just after a record's end.
    start = draw.draw(st.sampled_from([0, *ends]))
    end = draw.draw(st.integers(start, len(data)))
    inside = [e for e in ends if start < e <= end]
    assert count_records(data, start, end) == len(inside)
    assert last_record_end(data, start, end) == (inside[-1] if inside else start)
    assert next_record_end(data, start, end) == (inside[0] if inside else -1)
    if end == len(data):
        assert whole_records(data, start) == (len(inside), inside[-1] if inside else start)
        assert whole_records(bytearray(data), start) == whole_records(data, start)
    n = draw.draw(st.integers(1, len(inside) + 1))
    assert nth_record_end(data, start, end, n) == (inside[n - 1] if n <= len(inside) else -1)


def test_nth_record_end_over_many_records_of_uneven_length() -> None:
    data = b"".join(
        b"x" * (i % 37) + (b'"a\nb"' if i % 5 == 0 else b"") + b"\n" for i in range(5000)
    )
    ends = record_ends(data)
    for n in (1, 33, 100, 2500, 4999, 5000):
        assert nth_record_end(data, 0, len(data), n) == ends[n - 1]
    assert nth_record_end(data, 0, len(data), 5001) == -1


# -- the splitter ----------------------------------------------------------------------------


@SETTINGS
@given(
    st.one_of(csv_bodies(), RAW.map(lambda b: (b, 1))),
    st.integers(7, 80),
    st.one_of(st.none(), st.integers(1, 5)),
    st.integers(1, 48),
)
def test_parts_match_the_definition(
    tmp_path_factory: pytest.TempPathFactory,
    body: tuple[bytes, int],
    max_bytes: int,
    max_rows: int | None,
    chunk: int,
) -> None:
    data = b"h1,h2\n" + body[0]
    path = Path(tmp_path_factory.mktemp("split")) / "in.csv"
    path.write_bytes(data)
    expected = reference_parts(data, 6, max_bytes, max_rows)
    original = split_module.SCAN_CHUNK
    split_module.SCAN_CHUNK = chunk  # records across chunk boundaries, down to one byte
    try:
        try:
            got: list[Part] | str = plan_parts(path, max_bytes, max_rows).parts
        except SplitError:
            got = "error"
    finally:
        split_module.SCAN_CHUNK = original
    assert got == expected
