"""Atomic files, page merging, row counts and ZIP extraction."""

from __future__ import annotations

import csv
import hashlib
import io
import random
import zipfile

import pytest

from zsync.sinks.atomic import AtomicFile
from zsync.sinks.checks import CsvBody
from zsync.sinks.records import split_header
from zsync.sinks.result import ResultError, ResultWriter
from zsync.sinks.spool import Spool
from zsync.sinks.zipped import extract_single


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_atomic_file_appears_only_on_commit(tmp_path) -> None:
    target = tmp_path / "out/a.csv"
    with AtomicFile(target) as f:
        f.write(b"hello")
        assert not target.exists()
        written = f.commit()
    assert target.read_bytes() == b"hello"
    assert written.sha256 == hashlib.sha256(b"hello").hexdigest()
    assert list(target.parent.iterdir()) == [target]


def test_failed_write_keeps_the_earlier_good_file(tmp_path) -> None:
    target = tmp_path / "a.csv"
    target.write_bytes(b"good")
    with pytest.raises(RuntimeError), AtomicFile(target) as f:
        f.write(b"half")
        raise RuntimeError("connection dropped")
    assert target.read_bytes() == b"good"
    assert list(tmp_path.iterdir()) == [target]


def test_csv_records_with_quoted_newlines_in_any_chunking() -> None:
    rows = [[str(i), f'line one\nline "two"\r\n,{i}'] for i in range(200)]
    rows += [[str(i), "plain"] for i in range(100)]  # chunks without a quote: the fast path
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    data = buffer.getvalue().encode()
    for size in (1, 2, 7, 64, 4096, len(data)):
        body = CsvBody(2)
        for piece in chunks(data, size):
            body.feed(piece)
        assert body.close() == 300, size


def test_last_record_without_newline_counts() -> None:
    body = CsvBody(2)
    body.feed(b"1,2\n3,4")
    assert body.close() == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"1,2\n3,4,5\n6,7\n", "record 2 has 3 fields, the header 2"),
        (b"1,2\n3\n", "record 2 has 1 fields"),
        (b"1,2\n\n3,4\n", "record 2 has 0 fields"),  # a blank line: not CSV from Zoho
        (b'1,"a\n,b"\n3,4,"x"\n', "record 2 has 3 fields"),
    ],
)
def test_a_record_with_the_wrong_number_of_fields_is_refused(data: bytes, message: str) -> None:
    body = CsvBody(2)
    with pytest.raises(ResultError, match=message):
        body.feed(data)
        body.close()


def test_split_header_waits_for_a_whole_record() -> None:
    assert split_header(b'"a\nb",c') is None
    assert split_header(b'"a\nb",c\n1,2\n') == (b'"a\nb",c\n', b"1,2\n")


def test_pages_merge_with_one_header(tmp_path) -> None:
    writer = ResultWriter(tmp_path / "all.csv", "csv")
    for page_rows in (["1,a", "2,b"], ["3,c"], []):
        page = writer.page()
        body = "id,name\n" + "".join(r + "\n" for r in page_rows)
        for piece in chunks(body.encode(), 3):
            page.write(piece)
        page.close()
    output = writer.commit()
    assert (tmp_path / "all.csv").read_text() == "id,name\n1,a\n2,b\n3,c\n"
    assert (output.rows, output.pages) == (3, 3)


def test_changed_header_is_an_error_and_leaves_nothing(tmp_path) -> None:
    writer = ResultWriter(tmp_path / "all.csv", "csv")
    page = writer.page()
    page.write(b"id,name\n1,a\n")
    page.close()
    page = writer.page()
    with pytest.raises(ResultError, match="page 2 has other columns than page 1"):
        page.write(b"id,email\n2,b\n")
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_one_file_per_page(tmp_path) -> None:
    writer = ResultWriter(tmp_path / "pages", "csv", per_page=True)
    for n in range(3):
        page = writer.page()
        page.write(f"id\n{n}\n".encode())
        page.close()
    output = writer.commit()
    names = sorted(p.name for p in (tmp_path / "pages").iterdir())
    assert names == ["page-0001.csv", "page-0002.csv", "page-0003.csv"]
    assert (tmp_path / "pages/page-0002.csv").read_text() == "id\n1\n"
    assert (output.rows, output.pages, output.bytes) == (3, 3, 15)


def test_ics_pages_merge_into_one_calendar(tmp_path) -> None:
    def calendar(*uids: str) -> bytes:
        events = "".join(f"BEGIN:VEVENT\r\nUID:{u}\r\nEND:VEVENT\r\n" for u in uids)
        return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{events}END:VCALENDAR\r\n".encode()

    writer = ResultWriter(tmp_path / "m.ics", "ics")
    for uids in (("a", "b"), ("c",)):
        page = writer.page()
        for piece in chunks(calendar(*uids), 5):
            page.write(piece)
        page.close()
    output = writer.commit()
    assert (tmp_path / "m.ics").read_bytes() == calendar("a", "b", "c")
    assert output.rows == 3


def _zip(tmp_path, payload: bytes, name="1.csv"):
    path = tmp_path / "r.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, payload)
    return path


def test_zip_member_streams_into_the_output(tmp_path) -> None:
    payload = b"id,v\n" + b"".join(f"{i},{random.random()}\n".encode() for i in range(5000))
    writer = ResultWriter(tmp_path / "out.csv", "csv")
    page = writer.page()
    assert extract_single(Spool(_zip(tmp_path, payload)), page) == "1.csv"
    page.close()
    output = writer.commit()
    assert (tmp_path / "out.csv").read_bytes() == payload
    assert output.rows == 5000


def test_corrupt_zip_is_refused(tmp_path) -> None:
    payload = b"id\n" + b"x\n" * 10000
    path = _zip(tmp_path, payload)
    data = bytearray(path.read_bytes())
    data[60] ^= 0xFF  # inside the compressed member
    path.write_bytes(bytes(data))
    writer = ResultWriter(tmp_path / "out.csv", "csv")
    with pytest.raises(ResultError, match="corrupt"):
        extract_single(Spool(path), writer.page())
    writer.abort()
    assert not (tmp_path / "out.csv").exists()


def test_truncated_zip_is_refused(tmp_path) -> None:
    path = _zip(tmp_path, b"id\n" + b"x\n" * 1000)
    path.write_bytes(path.read_bytes()[:-30])
    writer = ResultWriter(tmp_path / "out.csv", "csv")
    with pytest.raises(ResultError, match="corrupt"):
        extract_single(Spool(path), writer.page())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'id,note\n1,"open quote\nnever closed', "inside a quoted field"),
        (b"id,name,email\n1,a,a@x\n2,b", "last record has 2 fields, the header 3"),
    ],
)
def test_a_csv_cut_short_is_refused(tmp_path, body, message) -> None:
    writer = ResultWriter(tmp_path / "out.csv", "csv")
    page = writer.page()
    page.write(body)
    with pytest.raises(ResultError, match=message):
        page.close()
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_a_csv_without_trailing_newline_is_fine(tmp_path) -> None:
    writer = ResultWriter(tmp_path / "out.csv", "csv")
    page = writer.page()
    page.write(b"id,name\n1,a\n2,b")
    page.close()
    assert writer.commit().rows == 2


def test_json_cut_short_is_refused(tmp_path) -> None:
    writer = ResultWriter(tmp_path / "out.json", "json")
    page = writer.page()
    page.write(b'{"data": [{"a": 1}, {"a"')
    with pytest.raises(ResultError, match="JSON result doesn't parse"):
        page.close()
