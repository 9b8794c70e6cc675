"""Splitting CSV files on record boundaries, quoted newlines included."""

from __future__ import annotations

import csv
import io

import pytest

from zsync.sinks.split import SplitError, plan_parts, read_part


def write_csv(path, rows) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    data = buffer.getvalue().encode()
    path.write_bytes(data)
    return data


def parse(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode())))


def test_parts_hold_whole_records_under_the_cap(tmp_path) -> None:
    rows = [["id", "note"]] + [[str(i), f'line {i}\nstill {i}, "quoted"'] for i in range(500)]
    path = tmp_path / "in.csv"
    write_csv(path, rows)
    layout = plan_parts(path, 2000)
    assert len(layout.parts) > 5
    rebuilt: list[list[str]] = []
    for part in layout.parts:
        data = b"".join(read_part(path, layout, part))
        assert len(data) == part.size <= 2000
        records = parse(data)
        assert records[0] == ["id", "note"]
        assert len(records) - 1 == part.rows
        rebuilt.extend(records[1:])
    assert rebuilt == rows[1:]
    assert layout.rows == 500
    assert layout.rows_before(3) == layout.parts[0].rows + layout.parts[1].rows


def test_small_file_is_one_part(tmp_path) -> None:
    path = tmp_path / "in.csv"
    data = write_csv(path, [["a"], ["1"], ["2"]])
    layout = plan_parts(path, 10_000)
    assert [(p.start, p.end, p.rows) for p in layout.parts] == [(2, len(data), 2)]


def test_last_record_without_newline(tmp_path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b"a,b\n1,2\n3,4")
    layout = plan_parts(path, 10)
    assert [b"".join(read_part(path, layout, p)) for p in layout.parts] == [
        b"a,b\n1,2\n",
        b"a,b\n3,4",
    ]


def test_record_over_the_cap_is_an_error(tmp_path) -> None:
    path = tmp_path / "in.csv"
    write_csv(path, [["a"], ["x" * 100]])
    with pytest.raises(SplitError, match="record 1 alone is"):
        plan_parts(path, 50)


def test_header_only_file_has_no_parts(tmp_path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b"a,b\n")
    assert plan_parts(path, 100).parts == []


def test_row_cap(tmp_path) -> None:
    path = tmp_path / "in.csv"
    write_csv(path, [["a"]] + [[str(i)] for i in range(10)])
    layout = plan_parts(path, 10_000, max_rows=4)
    assert [p.rows for p in layout.parts] == [4, 4, 2]
    assert layout.rows_before(3) == 8


def test_the_scan_hashes_the_whole_file(tmp_path) -> None:
    import hashlib

    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * 5000 + b"3,4")  # no trailing newline
    layout = plan_parts(path, 2048)
    assert len(layout.parts) > 1
    assert layout.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    header_only = tmp_path / "h.csv"
    header_only.write_bytes(b"a,b")
    assert plan_parts(header_only, 2048).sha256 == hashlib.sha256(b"a,b").hexdigest()
