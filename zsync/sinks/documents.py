"""Checks of the documents Analytics exports besides CSV and JSON: XML, HTML, PDF and XLS.

Each is fed the body chunk by chunk and holds a bounded amount of it (a parser's state, a
header, a tail), so a result of any size is checked in the same memory. What each proves:

- XML parses to its end with expat, fed incrementally; a DTD or entity declaration is refused
  outright (no entity expansion, no external fetches), and `<row>` elements are counted.
- HTML holds a table, every `<table` it opens is closed, and it ends with a tag.
- PDF starts `%PDF-`, ends `%%EOF` (trailing whitespace allowed) and its `startxref` points
  inside the file.
- XLS is what Zoho's docs describe (`application/vnd.ms-excel`, a sheet of at most 65,536 rows
  and 256 columns): an Excel 97-2003 workbook in an OLE2 compound file whose size is a whole
  number of sectors and whose header points only inside it. An Excel 2007+ workbook (a ZIP
  holding `[Content_Types].xml`) is accepted too, checked by its end-of-archive record, so
  that Zoho sending the newer format one day doesn't fail good exports.
"""

from __future__ import annotations

import re
import struct
from typing import Protocol
from xml.parsers import expat

from zsync.sinks.checks import ResultError


class Document(Protocol):
    def feed(self, chunk: bytes) -> None: ...

    def close(self) -> int | None:
        """Records in the document where it says, else None; raises ResultError."""
        ...


MAX_XML_DEPTH = 256  # Zoho's exports nest 5 deep; more is not an export


class XmlBody:
    """An XML result, parsed as it streams; counts the `row` elements directly in a `rows`."""

    def __init__(self) -> None:
        self._parser = expat.ParserCreate()
        self._parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self._parser.StartDoctypeDeclHandler = self._refuse_dtd
        self._parser.EntityDeclHandler = self._refuse_entity
        self._parser.ExternalEntityRefHandler = self._refuse_external
        self._parser.StartElementHandler = self._start
        self._parser.EndElementHandler = self._end
        self._open: list[str] = []
        self.rows = 0
        self._fed = False

    def feed(self, chunk: bytes) -> None:
        if chunk:
            self._fed = True
            self._parse(chunk, final=False)

    def close(self) -> int:
        if not self._fed:
            raise ResultError("the XML result is empty")
        self._parse(b"", final=True)
        return self.rows

    def _parse(self, data: bytes, *, final: bool) -> None:
        try:
            self._parser.Parse(data, final)
        except expat.ExpatError as exc:
            cut = final and exc.code in (
                expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS],
                expat.errors.codes[expat.errors.XML_ERROR_UNCLOSED_TOKEN],
                expat.errors.codes[expat.errors.XML_ERROR_PARTIAL_CHAR],
            )
            problem = "cut short" if cut else "corrupt"
            raise ResultError(
                f"the XML result doesn't parse ({expat.errors.messages[exc.code]} at line "
                f"{exc.lineno}, column {exc.offset + 1}): it is {problem}"
            ) from None

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        if name == "row" and self._open and self._open[-1] == "rows":
            self.rows += 1
        self._open.append(name)
        if len(self._open) > MAX_XML_DEPTH:
            raise ResultError(f"the XML result nests deeper than {MAX_XML_DEPTH} elements")

    def _end(self, name: str) -> None:
        self._open.pop()

    @staticmethod
    def _refuse_dtd(*_: object) -> None:
        raise ResultError("the XML result declares a DTD, which no export carries: refused")

    @staticmethod
    def _refuse_entity(*_: object) -> None:
        raise ResultError("the XML result declares entities, which no export carries: refused")

    @staticmethod
    def _refuse_external(*_: object) -> int:
        raise ResultError("the XML result refers to an external entity: refused")


_TABLE_OPEN = b"<table"
_TABLE_CLOSE = b"</table"
_WHITESPACE = b" \t\r\n\x0c\x00"


class HtmlBody:
    """An HTML result: the rendered table(s) whole, the document not cut off after them."""

    def __init__(self) -> None:
        self._tail = b""  # the last bytes of the body, lower-cased
        self.opened = 0
        self.closed = 0

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        data = self._tail + chunk.lower()
        keep = len(self._tail)
        self.opened += _new_matches(data, _TABLE_OPEN, keep)
        self.closed += _new_matches(data, _TABLE_CLOSE, keep)
        self._tail = data[-64:]

    def close(self) -> None:
        if not self._tail.strip(_WHITESPACE):
            raise ResultError("the HTML result is empty")
        if not self.opened:
            raise ResultError("the HTML result holds no table: it is not an export")
        if self.closed < self.opened or self._tail.rstrip(_WHITESPACE)[-1:] != b">":
            raise ResultError("the HTML result ends inside its table: it was cut short")


def _new_matches(data: bytes, pattern: bytes, old: int) -> int:
    """Occurrences of `pattern` in `data` not wholly inside its first `old` bytes (those
    were counted with the chunk before)."""
    count = 0
    start = max(0, old - len(pattern) + 1)
    while (found := data.find(pattern, start)) >= 0:
        count += 1
        start = found + 1
    return count


PDF_TAIL = 2048
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*\Z")


class PdfBody:
    """A PDF result: whole from its `%PDF-` header to its final `%%EOF`."""

    def __init__(self) -> None:
        self._head = b""
        self._tail = b""
        self.size = 0

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        if len(self._head) < 5:
            self._head = (self._head + chunk)[:5]
            if not b"%PDF-".startswith(self._head):
                raise ResultError(f"the result is not a PDF (it starts {self._head!r})")
        self.size += len(chunk)
        self._tail = (self._tail + chunk)[-PDF_TAIL:]

    def close(self) -> None:
        if self._head != b"%PDF-":
            raise ResultError("the PDF result is empty or cut short before its header")
        end = self._tail.rstrip(_WHITESPACE)
        if not end.endswith(b"%%EOF"):
            raise ResultError("the PDF result doesn't end with %%EOF: it was cut short")
        found = _STARTXREF.search(end)
        if found is None or not 0 < int(found.group(1)) < self.size:
            raise ResultError("the PDF result's startxref is missing or points outside it")


OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ZIP_END = b"PK\x05\x06"
ZIP_TAIL = 256 * 1024  # the central directory of an xlsx: a few dozen entries
OLE2_HEADER = 512
DIFAT_IN_HEADER = 109


class XlsBody:
    """An Excel workbook: an OLE2 compound file (xls), or a ZIP package (xlsx)."""

    def __init__(self) -> None:
        self._head = b""
        self._tail = b""
        self.size = 0

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        if len(self._head) < OLE2_HEADER:
            self._head = (self._head + chunk)[:OLE2_HEADER]
            start = self._head[:8]
            if not (OLE2_MAGIC.startswith(start) or ZIP_MAGIC.startswith(start[:4])):
                raise ResultError(f"the result is not an Excel workbook (it starts {start!r})")
        self.size += len(chunk)
        if self._head.startswith(ZIP_MAGIC):
            self._tail = (self._tail + chunk)[-ZIP_TAIL:]

    def close(self) -> None:
        if self._head.startswith(ZIP_MAGIC):
            self._check_zip()
        elif self._head.startswith(OLE2_MAGIC) and len(self._head) == OLE2_HEADER:
            self._check_ole2()
        else:
            raise ResultError("the Excel result is empty or cut short inside its header")

    def _check_ole2(self) -> None:
        head = self._head
        major, byte_order, shift, mini_shift = struct.unpack_from("<HHHH", head, 0x1A)
        if byte_order != 0xFFFE or (major, shift) not in ((3, 9), (4, 12)) or mini_shift != 6:
            raise ResultError("the Excel result's compound-file header is corrupt")
        sector = 1 << shift
        first = max(OLE2_HEADER, sector)  # a version 4 header fills a 4096-byte sector
        body = self.size - first
        if body <= 0 or body % sector:
            raise ResultError(
                f"the Excel result ({self.size} bytes) is not a whole number of {sector}-byte "
                "sectors: it was cut short or corrupted"
            )
        sectors = body // sector
        fat_sectors, directory = struct.unpack_from("<II", head, 0x2C)
        difat = struct.unpack_from(f"<{DIFAT_IN_HEADER}I", head, 0x4C)
        listed = difat[: min(fat_sectors, DIFAT_IN_HEADER)]
        if (
            fat_sectors == 0
            or fat_sectors * (sector // 4) < sectors
            or directory >= sectors
            or any(index >= sectors for index in listed)
        ):
            raise ResultError(
                "the Excel result's header points past its end: it was cut short or corrupted"
            )

    def _check_zip(self) -> None:
        end = self._tail.rfind(ZIP_END)
        if end < 0 or len(self._tail) - end < 22:
            raise ResultError("the Excel (xlsx) result has no end-of-archive: it was cut short")
        size, offset = struct.unpack_from("<II", self._tail, end + 12)
        where = self.size - len(self._tail) + end  # the end record's offset in the file
        if offset + size != where:
            raise ResultError("the Excel (xlsx) result's archive directory is corrupt")
        directory = self._tail[end - size : end] if size <= end else b""
        if directory and b"[Content_Types].xml" not in directory:
            raise ResultError("the ZIP result holds no [Content_Types].xml: not a workbook")


def document_check(kind: str) -> Document | None:
    """The check of a document `kind`, or None for CSV, JSON and ICS (checks.py, result.py)."""
    checks: dict[str, type[Document]] = {
        "xml": XmlBody,
        "html": HtmlBody,
        "pdf": PdfBody,
        "xls": XlsBody,
    }
    check = checks.get(kind)
    return check() if check is not None else None
