"""What a result must be before it counts (zsync/sinks/checks.py), through ResultWriter."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from zsync.sinks.checks import ResultError, Utf8
from zsync.sinks.result import ResultWriter
from zsync.sinks.spool import Spool
from zsync.sinks.zipped import extract_single
from zsync.spec.model import Results


def written(tmp_path: Path, kind: str, *bodies: bytes) -> ResultWriter:
    writer = ResultWriter(tmp_path / f"out.{kind}", kind)  # type: ignore[arg-type]
    for body in bodies:
        page = writer.page()
        page.write(body)
        page.close()
    return writer


@pytest.mark.parametrize(
    ("kind", "body", "message"),
    [
        ("csv", b"", "the result is empty"),
        ("json", b"", "the result is empty"),
        ("csv", b"<!DOCTYPE html><html><body>Sign in</body></html>", "an HTML page"),
        ("json", b"  <html>login</html>", "an HTML page"),
        (
            "csv",
            b'{"status":"failure","summary":"x","data":{"errorCode":8504,"errorMessage":"no"}}',
            "error instead of the result: 8504",
        ),
        (
            "json",
            b'{"status":"failure","summary":"x","data":{"errorCode":8504,"errorMessage":"no"}}',
            "error instead of the result: 8504",
        ),
        ("csv", b"id,name\n1,caf\xc3\n", "not UTF-8"),
        ("csv", b"id,name\n1,\xff\xfe\n", "not UTF-8"),
        ("csv", b"1,Acme,\n2,Beta,\n", "is not a header"),  # an empty column name
        ("csv", b"1,1,Acme\n", "is not a header"),  # repeated names: data, not a header
        ("csv", b"17,2.5\n18,3\n", "is not a header"),  # numbers: data, not a header
        ("json", b'{"data": [1, 2', "doesn't parse"),
    ],
)
def test_a_result_that_is_not_what_it_claims_is_refused(
    tmp_path: Path, kind: str, body: bytes, message: str
) -> None:
    with pytest.raises(ResultError, match=message):
        written(tmp_path, kind, body)
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == []


def test_zoho_error_code_is_kept(tmp_path: Path) -> None:
    with pytest.raises(ResultError) as caught:
        written(tmp_path, "csv", b'{"status":"failure","data":{"errorCode":8504}}')
    assert caught.value.code == "8504"


def test_utf8_split_between_chunks_is_fine() -> None:
    text = "Zoë, Łódź, 東京\n".encode() * 3
    for cut in range(1, len(text)):
        check = Utf8()
        check.feed(text[:cut])
        check.feed(text[cut:], final=True)


def test_a_discarded_page_leaves_the_result_as_it_was(tmp_path: Path) -> None:
    writer = written(tmp_path, "csv", b"id,name\n1,a\n")
    page = writer.page()
    page.write(b"id,name\n2,b\n3")
    with pytest.raises(ResultError):
        page.write(b",c,extra\n")
        page.close()
    page.discard()
    page = writer.page()  # the same page, downloaded again
    page.write(b"id,name\n2,b\n3,c\n")
    page.close()
    output = writer.commit()
    assert output.path.read_bytes() == b"id,name\n1,a\n2,b\n3,c\n"
    assert (output.rows, output.pages) == (3, 2)


def test_records_must_match_what_zoho_reported(tmp_path: Path) -> None:
    writer = ResultWriter(tmp_path / "out.csv", "csv")
    page = writer.page()
    page.write(b"id,name\n1,a\n2,b\n")
    with pytest.raises(ResultError, match="Zoho reported 3 records, the result holds 2"):
        page.close(expected=3)


def zipped(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def spool_of(tmp_path: Path, data: bytes) -> Spool:
    spool = Spool(tmp_path / "download.zip")
    spool.keep(data)
    return spool


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"a.csv": b"id\n1\n", "b.csv": b"id\n2\n"}, "should hold one file"),
        ({"../../etc/cron.d/x.csv": b"id\n1\n"}, "refusing it"),
        ({"/abs/x.csv": b"id\n1\n"}, "refusing it"),
        ({}, "holds nothing"),
    ],
)
def test_a_zip_not_made_by_zoho_is_refused(tmp_path: Path, members: dict, message: str) -> None:
    writer = ResultWriter(tmp_path / "out.csv", "csv")
    with pytest.raises(ResultError, match=message):
        extract_single(spool_of(tmp_path, zipped(members)), writer.page())


def test_a_zip_bomb_is_refused_before_it_fills_anything(tmp_path: Path) -> None:
    lines = b"1,2\n" * (40 * 1024 * 1024)  # 160 MiB of lines, a few hundred KiB zipped
    archive = zipped({"x.csv": b"a,b\n" + lines})
    writer = ResultWriter(tmp_path / "out.csv", "csv")
    with pytest.raises(ResultError, match="max_zip_ratio"):
        extract_single(spool_of(tmp_path, archive), writer.page(), Results(max_zip_ratio=100))
    with pytest.raises(ResultError, match="max_size"):
        extract_single(spool_of(tmp_path, archive), writer.page(), Results(max_size=1024))


def test_a_zip_whose_member_name_is_not_utf8_is_corrupt(tmp_path: Path) -> None:
    data = bytearray(zipped({"résumé.csv": b"id\n1\n"}))  # flagged UTF-8 (bit 11)
    name = "résumé.csv".encode()
    for at in [i for i in range(len(data)) if data[i : i + len(name)] == name]:
        data[at] = 0xCB  # a lead byte followed by ASCII: invalid UTF-8
    writer = ResultWriter(tmp_path / "out.csv", "csv")
    with pytest.raises(ResultError, match="isn't UTF-8"):
        extract_single(spool_of(tmp_path, bytes(data)), writer.page())
