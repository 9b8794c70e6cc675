"""XML, HTML, PDF and XLS results (zsync/sinks/documents.py), and CSV with another delimiter,
through ResultWriter: good ones pass chunk by chunk, cut or garbled ones never do."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from zsync.emulator.analytics.formats import pdf_chunks, xls_workbook
from zsync.sinks.checks import ResultError
from zsync.sinks.result import ResultWriter

HEADER = ["Region", "Product", "Amount"]
ROWS = [[f"R{n % 5}", f"P (x) {n}", f"{n * 1.5:.2f}"] for n in range(300)]
XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<response action="EXPORT"><result><rows>'
    + b"".join(
        b'<row><column name="Region">%s</column><column name="Amount">%d</column></row>'
        % (f"R{n}".encode(), n)
        for n in range(200)
    )
    + b"</rows></result></response>\n"
)
HTML = (
    b"<h3>Sales</h3>\n<TABLE border=1>\n<tr><th>Region</th></tr>\n"
    + b"".join(b"<tr><td>R%d</td></tr>\n" % n for n in range(200))
    + b"</Table>\n"
)
PDF = b"".join(pdf_chunks(HEADER, ROWS, "Sales"))
XLS = xls_workbook(HEADER, ROWS, "Sales")


def xlsx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>" * 50)
    return out.getvalue()


GOOD = {"xml": XML, "html": HTML, "pdf": PDF, "xls": XLS}


def check(tmp_path: Path, kind: str, body: bytes, chunk: int = 700, **options: str) -> int | None:
    writer = ResultWriter(tmp_path / f"out.{kind}", kind, **options)  # type: ignore[arg-type]
    page = writer.page()
    try:
        for start in range(0, len(body), chunk):
            page.write(body[start : start + chunk])
        rows = page.close()
    except BaseException:
        page.discard()
        writer.abort()
        raise
    assert writer.commit().bytes == len(body)
    return rows


@pytest.mark.parametrize("kind", sorted(GOOD))
@pytest.mark.parametrize("chunk", [1, 511, 4096, 1 << 20])
def test_good_documents_pass_in_any_chunking(tmp_path: Path, kind: str, chunk: int) -> None:
    rows = check(tmp_path, kind, GOOD[kind], chunk)
    assert rows == (200 if kind == "xml" else None)


def test_pdf_may_end_with_whitespace_and_xlsx_is_a_workbook(tmp_path: Path) -> None:
    check(tmp_path, "pdf", PDF + b"\r\n \n")
    check(tmp_path, "xls", xlsx())


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_every_cut_short_document_is_refused(tmp_path: Path, kind: str) -> None:
    body = GOOD[kind]
    step = max(1, len(body) // 150)
    # Every sector boundary too: where an OLE2 file cut short still has whole sectors.
    cuts = {*range(1, len(body), step), *range(512, len(body), 512)}
    passed = []
    for cut in sorted(cuts):
        try:
            check(tmp_path, kind, body[:cut])
        except ResultError:
            continue
        passed.append(cut)
    assert passed == []


@pytest.mark.parametrize(
    ("kind", "body", "message"),
    [
        ("xml", b"", "empty"),
        ("xml", b"<!DOCTYPE html><html><body>Sign in</body></html>", "an HTML page"),
        ("xml", b"<response><rows><row></rows></response>", "mismatched tag"),
        (
            "xml",
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><r>&b;</r>',
            "declares a DTD",
        ),
        ("xml", b'<?xml version="1.0"?><r>&ext;</r>', "undefined entity"),
        ("xml", b"<a>" * 300 + b"</a>" * 300, "nests deeper"),
        ("xml", XML.replace(b"</row>", b"</rows>", 1), "mismatched tag"),
        (
            "xml",
            b'{"status":"failure","summary":"x","data":{"errorCode":8504,"errorMessage":"no"}}',
            "error instead of the result: 8504",
        ),
        ("html", b"<html><body>Sign in to continue</body></html>", "holds no table"),
        ("html", b"<table><tr><td>1</td></tr>", "cut short"),
        ("html", b"<table><tr><td>1</td></tr></table", "cut short"),
        ("html", b"<table>\xff\xfe</table>", "not UTF-8"),
        ("pdf", b"%PDX-1.4\n", "not a PDF"),
        ("pdf", b"<html>error</html>", "an HTML page"),
        ("pdf", PDF.replace(b"%%EOF", b"%%EOT"), "doesn't end with %%EOF"),
        ("pdf", PDF[: PDF.rindex(b"startxref")] + b"startxref\n99999999\n%%EOF\n", "startxref"),
        ("xls", b"PK\x03\x04" + b"\x00" * 100, "no end-of-archive"),
        ("xls", b"\x00" * 1024, "not an Excel workbook"),
        ("xls", XLS[:0x1C] + b"\xff\xfe" + XLS[0x1E:], "header is corrupt"),
        ("xls", XLS + b"\x00" * 100, "whole number"),
        (
            "xls",
            b'{"status":"failure","summary":"x","data":{"errorCode":7806,"errorMessage":"rows"}}',
            "error instead of the result: 7806",
        ),
    ],
)
def test_garbage_is_refused(tmp_path: Path, kind: str, body: bytes, message: str) -> None:
    with pytest.raises(ResultError, match=message):
        check(tmp_path, kind, body)
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == []


def test_xlsx_without_content_types_is_refused(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    with pytest.raises(ResultError, match=r"no \[Content_Types\]\.xml"):
        check(tmp_path, "xls", out.getvalue())


def test_csv_with_another_delimiter_keeps_its_checks(tmp_path: Path) -> None:
    good = b'Region\tProduct, model\tAmount\r\nEast\tDock, USB-C\t1.50\r\n"We\tst"\tMouse\t2\r\n'
    assert check(tmp_path, "csv", good, 5, delimiter="\t") == 2
    short = good + b"North\tHub\r\n"
    with pytest.raises(ResultError, match="record 3 has 2 fields, the header 3"):
        check(tmp_path, "csv", short, delimiter="\t")
    # The same bytes read as comma-separated: a 2-column header, and records that disagree.
    with pytest.raises(ResultError, match="fields, the header 2"):
        check(tmp_path, "csv", good)
    semicolon = b"a;b\r\n1;2\r\n3\r\n"
    with pytest.raises(ResultError, match="has 1 fields, the header 2"):
        check(tmp_path, "csv", semicolon, delimiter=";")
