"""Read an Analytics export back into (header, rows) from each format, written from the file
formats' own specifications (XML, HTML, PDF's TJ text, OLE2 + BIFF8), not from the emulator's
writers: a test that parses a download with these compares what Zoho's format says with what
the emulator sent.
"""

from __future__ import annotations

import csv
import io
import json
import re
import struct
from html.parser import HTMLParser
from xml.etree import ElementTree

Table = tuple[list[str], list[list[str]]]


def parse_csv(data: bytes, delimiter: str = ",") -> Table:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=delimiter))
    return rows[0], rows[1:]


def parse_json(data: bytes) -> Table:
    records = json.loads(data)["data"]
    header = list(records[0]) if records else []
    return header, [[record[name] for name in header] for record in records]


def parse_xml(data: bytes) -> Table:
    root = ElementTree.fromstring(data)
    assert root.tag == "response"
    header: list[str] = []
    rows = []
    for row in root.iterfind("./result/rows/row"):
        columns = row.findall("column")
        header = header or [c.attrib["name"] for c in columns]
        assert [c.attrib["name"] for c in columns] == header
        rows.append([c.text or "" for c in columns])
    return header, rows


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.tables = 0
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables += 1
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse_html(data: bytes) -> Table:
    cells = _Cells()
    cells.feed(data.decode("utf-8"))
    cells.close()
    assert cells.tables == 1
    return cells.rows[0], cells.rows[1:]


_STREAM = re.compile(rb"stream\n(.*?)\nendstream", re.S)
_TJ = re.compile(rb"\[(.*?)\] TJ", re.S)
_STRING = re.compile(rb"\((?:\\.|[^\\)])*\)", re.S)


def _pdf_text(token: bytes) -> str:
    body = token[1:-1]
    return re.sub(rb"\\(.)", rb"\1", body).decode("cp1252")


def parse_pdf(data: bytes, title: str | None = None) -> Table:
    """Each page's text lines as TJ arrays of strings, one a cell; every page repeats the
    header; the first page may start with the title."""
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    header: list[str] | None = None
    rows: list[list[str]] = []
    for page, stream in enumerate(_STREAM.findall(data)):
        lines = [[_pdf_text(s) for s in _STRING.findall(tj)] for tj in _TJ.findall(stream)]
        if page == 0 and title is not None:
            assert lines.pop(0) == [title]
        if header is None:
            header = lines[0]
        assert lines[0] == header, "every page repeats the header"
        rows += lines[1:]
    assert header is not None
    return header, rows


def parse_xls(data: bytes) -> Table:
    """The text cells of the first sheet of a BIFF8 workbook in an OLE2 compound file."""
    stream = _ole2_stream(data, "Workbook")
    cells: dict[tuple[int, int], str] = {}
    position = 0
    sheets: list[int] = []
    while position + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, position)
        body = stream[position + 4 : position + 4 + length]
        if kind == 0x0085:  # BOUNDSHEET
            sheets.append(struct.unpack_from("<I", body)[0])
        position += 4 + length
        if kind == 0x000A and sheets:  # the globals' EOF: the sheet follows at its offset
            break
    position = sheets[0]
    kind, length = struct.unpack_from("<HH", stream, position)
    assert kind == 0x0809 and struct.unpack_from("<H", stream, position + 6)[0] == 0x0010
    while True:
        kind, length = struct.unpack_from("<HH", stream, position)
        body = stream[position + 4 : position + 4 + length]
        position += 4 + length
        if kind == 0x000A:
            break
        if kind == 0x0204:  # LABEL
            row, column, _ = struct.unpack_from("<HHH", body)
            count, flags = struct.unpack_from("<HB", body, 6)
            raw = body[9:]
            text = (
                raw[: count * 2].decode("utf-16-le") if flags & 1 else raw[:count].decode("latin-1")
            )
            cells[(row, column)] = text
    height = max((r for r, _ in cells), default=-1) + 1
    width = max((c for _, c in cells), default=-1) + 1
    grid = [[cells.get((r, c), "") for c in range(width)] for r in range(height)]
    return grid[0], grid[1:]


def _ole2_stream(data: bytes, name: str) -> bytes:
    assert data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    shift = struct.unpack_from("<H", data, 0x1E)[0]
    size = 1 << shift
    fat_count, directory_start = struct.unpack_from("<II", data, 0x2C)
    difat_start, difat_count = struct.unpack_from("<II", data, 0x44)
    fat_sectors = list(struct.unpack_from("<109I", data, 0x4C))
    sector_at = difat_start
    for _ in range(difat_count):
        block = struct.unpack_from(f"<{size // 4}I", data, size + sector_at * size)
        fat_sectors += block[:-1]
        sector_at = block[-1]
    fat: list[int] = []
    for sector in fat_sectors[:fat_count]:
        fat += struct.unpack_from(f"<{size // 4}I", data, size + sector * size)

    def chain(start: int) -> bytes:
        out, sector = [], start
        while sector < 0xFFFFFFFA:
            out.append(data[size + sector * size : size + (sector + 1) * size])
            sector = fat[sector]
        return b"".join(out)

    directory = chain(directory_start)
    for offset in range(0, len(directory), 128):
        entry = directory[offset : offset + 128]
        length = struct.unpack_from("<H", entry, 64)[0]
        if entry[: max(length - 2, 0)].decode("utf-16-le") == name:
            start, stream_size = struct.unpack_from("<II", entry, 116)
            assert stream_size >= 4096, "a small stream would live in the mini stream"
            return chain(start)[:stream_size]
    raise KeyError(name)


PARSERS = {
    "csv": parse_csv,
    "json": parse_json,
    "xml": parse_xml,
    "html": parse_html,
    "pdf": parse_pdf,
    "xls": parse_xls,
}
