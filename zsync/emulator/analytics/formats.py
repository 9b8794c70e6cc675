"""An export's rows written in each responseFormat Analytics offers: csv, json, xml, html, pdf
and xls, a chunk at a time where the format allows.

Shapes (Zoho's v2 download-exported-data page, "Exported File Structure by Format"): JSON is
`{"data": [{column: value}]}` (keyValueFormat true, its default); XML is
`<response><result><rows><row><column name="…">…</column></row></rows></result></response>`
(keyValueFormat false, its default); HTML a fragment with the rendered table; XLS a binary
workbook served as `application/vnd.ms-excel` with Excel 97-2003's limits (65,536 rows, 256
columns, 32,767 characters a cell), so a BIFF8 workbook in an OLE2 compound file; PDF a
document. Every value is text, as the page says of JSON and XML [guess for xls: text cells].
Fonts, page setup and styling are this emulator's own [guess]: only the data is Zoho's.
"""

from __future__ import annotations

import html
import json
import re
import struct
from collections.abc import Iterable, Iterator
from xml.sax.saxutils import escape, quoteattr

from zsync.emulator.files import ROWS_PER_CHUNK, csv_chunks

CONTENT_TYPES = {
    "csv": "text/csv",
    "json": "application/json",
    "xml": "application/xml",
    "html": "text/html",
    "pdf": "application/pdf",
    "xls": "application/vnd.ms-excel",
}
XLS_MAX_ROWS = 65_536  # header included
XLS_MAX_COLUMNS = 256
XLS_MAX_CELL = 32_767
XLS_EMULATED_CELL = 4_000  # fits one LABEL record in UTF-16; the emulator writes no CONTINUE
PDF_MAX_CELLS = 1_000_000
Rows = Iterable[list[str]]


def render(
    fmt: str,
    header: list[str],
    rows: Rows,
    *,
    title: str = "",
    delimiter: str = ",",
    record_delimiter: str = "\r\n",
) -> Iterator[bytes]:
    if fmt == "csv":
        return csv_chunks(header, rows, delimiter, record_delimiter)
    if fmt == "json":
        return json_chunks(header, rows)
    if fmt == "xml":
        return xml_chunks(header, rows)
    if fmt == "html":
        return html_chunks(header, rows, title)
    if fmt == "pdf":
        return pdf_chunks(header, rows, title)
    if fmt == "xls":
        return iter([xls_workbook(header, rows, title or "Sheet1")])
    raise ValueError(fmt)


def json_chunks(header: list[str], rows: Rows) -> Iterator[bytes]:
    yield b'{"data":['
    first = True
    for row in rows:
        item = json.dumps(dict(zip(header, row, strict=False)))
        yield (item if first else "," + item).encode()
        first = False
    yield b"]}"


# Characters XML 1.0 can't hold at all (not even escaped): dropped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(value: str) -> str:
    return escape(_NOT_XML.sub("", value))


def xml_chunks(header: list[str], rows: Rows) -> Iterator[bytes]:
    names = [quoteattr(_NOT_XML.sub("", name)) for name in header]
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<response action="EXPORT"><result><rows>']
    for count, row in enumerate(rows, start=1):
        cells = "".join(
            f"<column name={name}>{_xml_text(value)}</column>"
            for name, value in zip(names, row, strict=False)
        )
        parts.append(f"<row>{cells}</row>")
        if count % ROWS_PER_CHUNK == 0:
            yield "".join(parts).encode()
            parts.clear()
    parts.append("</rows></result></response>\n")
    yield "".join(parts).encode()


def html_chunks(header: list[str], rows: Rows, title: str) -> Iterator[bytes]:
    heading = "".join(f"<th>{html.escape(name)}</th>" for name in header)
    parts = [f'<h3>{html.escape(title)}</h3>\n<table border="1">\n<tr>{heading}</tr>\n']
    for count, row in enumerate(rows, start=1):
        parts.append("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>\n")
        if count % ROWS_PER_CHUNK == 0:
            yield "".join(parts).encode()
            parts.clear()
    parts.append("</table>\n")
    yield "".join(parts).encode()


# -- PDF --------------------------------------------------------------------------------------
PDF_ROWS_PER_PAGE = 40
PDF_PAGE = (842, 595)  # A4 landscape, in points


def _pdf_string(value: str) -> bytes:
    # Helvetica with WinAnsiEncoding: text outside cp1252 becomes '?' [guess: Zoho embeds
    # fonts per exportLanguage].
    raw = value.encode("cp1252", "replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _pdf_line(cells: list[str]) -> bytes:
    # One row a line: each cell one string of a TJ array, set apart by a fixed gap.
    return b"[" + b" -4000 ".join(_pdf_string(cell) for cell in cells) + b"] TJ T*\n"


def pdf_chunks(header: list[str], rows: Rows, title: str) -> Iterator[bytes]:
    """A PDF written front to back: the page tree (object 2) comes last, once every page is
    known, so no page waits in memory for the ones after it."""
    offsets: dict[int, int] = {}
    written = 0
    kids: list[int] = []

    def obj(number: int, body: bytes) -> bytes:
        nonlocal written
        offsets[number] = written
        data = b"%d 0 obj\n" % number + body + b"\nendobj\n"
        written += len(data)
        return data

    def start() -> bytes:
        nonlocal written
        head = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
        written += len(head)
        return head

    def page(lines: list[bytes]) -> bytes:
        number = 4 + 2 * len(kids)
        width, height = PDF_PAGE
        text = b"BT /F1 7 Tf 9 TL 24 %d Td\n" % (height - 30)
        if title and not kids:
            text += _pdf_line([title]) + b"T*\n"
        content = text + _pdf_line(header) + b"".join(lines) + b"ET"
        stream = b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"
        kids.append(number + 1)
        resources = b"/Resources << /Font << /F1 3 0 R >> >>"
        return obj(number, stream) + obj(
            number + 1,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] %s /Contents %d 0 R >>"
            % (width, height, resources, number),
        )

    yield start()
    yield obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    yield obj(
        3, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    lines: list[bytes] = []
    for row in rows:
        lines.append(_pdf_line(row))
        if len(lines) == PDF_ROWS_PER_PAGE:
            yield page(lines)
            lines = []
    if lines or not kids:
        yield page(lines)
    refs = b" ".join(b"%d 0 R" % kid for kid in kids)
    yield obj(2, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (refs, len(kids)))
    size = max(offsets) + 1
    xref = [b"xref\n0 %d\n" % size, b"0000000000 65535 f \n"]
    xref += [b"%010d 00000 n \n" % offsets[n] for n in range(1, size)]
    trailer = b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, written)
    yield b"".join(xref) + trailer


# -- XLS: BIFF8 in an OLE2 compound file -----------------------------------------------------
def _record(kind: int, data: bytes) -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def _unicode(text: str, length_bytes: int) -> bytes:
    """An XLUnicodeString (2-byte length) or ShortXLUnicodeString (1-byte): Latin-1 bytes
    when every character fits, else UTF-16LE."""
    try:
        raw, flags, count = text.encode("latin-1"), 0, len(text)
    except UnicodeEncodeError:
        raw, flags = text.encode("utf-16-le"), 1
        count = len(raw) // 2
    return struct.pack("<H" if length_bytes == 2 else "<B", count) + bytes([flags]) + raw


BIFF_MAX_DATA = 8224
CELL_XF = 15  # the first cell XF, after the 15 style XFs Excel expects


def _globals(sheet_name: str, sheet_offset: int) -> bytes:
    bof = struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0x06)
    font = struct.pack("<HHHHHBBBB", 200, 0, 0x7FFF, 400, 0, 0, 0, 0, 0) + _unicode("Arial", 1)
    style_xf = struct.pack("<HHHBBBBIIH", 0, 0, 0xFFF5, 0x20, 0, 0, 0xF4, 0, 0, 0x20C0)
    cell_xf = struct.pack("<HHHBBBBIIH", 0, 0, 0x0001, 0x20, 0, 0, 0x00, 0, 0, 0x20C0)
    records = [
        _record(0x0809, bof),
        _record(0x0042, struct.pack("<H", 1200)),  # CODEPAGE: UTF-16
        _record(0x003D, struct.pack("<HHHHHHHHH", 0, 0, 0x4000, 0x2000, 0x38, 0, 0, 1, 0x258)),
        *[_record(0x0031, font)] * 5,  # Excel skips font 4: five make indexes 0-5 valid
        *[_record(0x00E0, style_xf)] * CELL_XF,
        _record(0x00E0, cell_xf),
        _record(0x0293, struct.pack("<HBB", 0x8000, 0, 0xFF)),  # STYLE: built-in Normal
    ]
    boundsheet = _record(
        0x0085, struct.pack("<IBB", sheet_offset, 0, 0) + _unicode(sheet_name[:31], 1)
    )
    return b"".join(records) + boundsheet + _record(0x000A, b"")


def _sheet(header: list[str], rows: Rows) -> bytes:
    cells: list[bytes] = []
    count = 0
    for index, row in enumerate([header, *rows] if header else rows):
        if index >= XLS_MAX_ROWS:
            raise ValueError(f"more than {XLS_MAX_ROWS} rows")
        for column, value in enumerate(row):
            data = struct.pack("<HHH", index, column, CELL_XF) + _unicode(value, 2)
            if len(data) > BIFF_MAX_DATA:
                raise ValueError("a cell too long for one LABEL record")  # [emulator limit]
            cells.append(_record(0x0204, data))  # LABEL
        count = index + 1
    width = max(len(header), 1)
    bof = struct.pack("<HHHHII", 0x0600, 0x0010, 0x0DBB, 0x07CC, 0, 0x06)
    dimensions = struct.pack("<IIHHH", 0, count, 0, width, 0)
    window = struct.pack("<HHHIHHI", 0x06B6, 0, 0, 0x40, 0, 0, 0)
    return (
        _record(0x0809, bof)
        + _record(0x0200, dimensions)
        + b"".join(cells)
        + _record(0x023E, window)
        + _record(0x000A, b"")
    )


def xls_workbook(header: list[str], rows: Rows, sheet_name: str) -> bytes:
    """One worksheet of text cells, whole (a sheet is at most 65,536 rows anyway)."""
    sheet = _sheet(header, rows)
    size = len(_globals(sheet_name, 0))
    return compound_file(_globals(sheet_name, size) + sheet)


SECTOR = 512
FREE, END_OF_CHAIN, FAT_SECTOR, DIFAT_SECTOR, NO_STREAM = (
    0xFFFFFFFF,
    0xFFFFFFFE,
    0xFFFFFFFD,
    0xFFFFFFFC,
    0xFFFFFFFF,
)
MINI_CUTOFF = 4096


def compound_file(workbook: bytes) -> bytes:
    """An OLE2 compound file (version 3, 512-byte sectors) holding one stream, `Workbook`.
    The stream is padded to the mini-stream cutoff, so it always lives in ordinary sectors
    and no mini stream is needed; readers stop at the workbook's last EOF record."""
    stream = workbook.ljust(MINI_CUTOFF, b"\x00")
    stream += b"\x00" * (-len(stream) % SECTOR)
    data_sectors = len(stream) // SECTOR
    fat_count, difat_count = 1, 0
    while True:  # the FAT must also map its own sectors, the DIFAT's and the directory's
        difat_count = -(-max(0, fat_count - 109) // 127)
        total = data_sectors + fat_count + difat_count + 1
        if fat_count * (SECTOR // 4) >= total:
            break
        fat_count += 1
    fat_start = data_sectors
    difat_start = fat_start + fat_count
    directory = difat_start + difat_count
    fat = [*range(1, data_sectors), END_OF_CHAIN]
    fat += [FAT_SECTOR] * fat_count + [DIFAT_SECTOR] * difat_count + [END_OF_CHAIN]
    fat += [FREE] * (fat_count * (SECTOR // 4) - len(fat))
    fat_sectors = list(range(fat_start, fat_start + fat_count))
    header_difat = (fat_sectors[:109] + [FREE] * 109)[:109]
    difat_blocks = []
    rest = fat_sectors[109:]
    for block in range(difat_count):
        listed = (rest[block * 127 : (block + 1) * 127] + [FREE] * 127)[:127]
        following = difat_start + block + 1 if block + 1 < difat_count else END_OF_CHAIN
        difat_blocks.append(struct.pack("<128I", *listed, following))
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\x00" * 6
        + struct.pack(
            "<IIIIIIIII",
            0,  # directory sectors: 0 in version 3
            fat_count,
            directory,
            0,
            MINI_CUTOFF,
            END_OF_CHAIN,  # no mini FAT
            0,
            difat_start if difat_count else END_OF_CHAIN,
            difat_count,
        )
        + struct.pack("<109I", *header_difat)
    )
    directory_entries = (
        _entry("Root Entry", 5, child=1, start=END_OF_CHAIN, size=0)
        + _entry("Workbook", 2, child=NO_STREAM, start=0, size=len(stream))
        + _empty_entry() * 2
    )
    return (
        header
        + stream
        + struct.pack(f"<{len(fat)}I", *fat)
        + b"".join(difat_blocks)
        + directory_entries
    )


def _entry(name: str, kind: int, *, child: int, start: int, size: int) -> bytes:
    raw = name.encode("utf-16-le") + b"\x00\x00"
    return (
        raw.ljust(64, b"\x00")
        + struct.pack("<HBBIII", len(raw), kind, 1, NO_STREAM, NO_STREAM, child)
        + b"\x00" * 16  # CLSID
        + struct.pack("<IQQIII", 0, 0, 0, start, size, 0)
    )


def _empty_entry() -> bytes:
    return (
        b"\x00" * 64
        + struct.pack("<HBBIII", 0, 0, 0, NO_STREAM, NO_STREAM, NO_STREAM)
        + (b"\x00" * 16 + struct.pack("<IQQIII", 0, 0, 0, 0, 0, 0))
    )
