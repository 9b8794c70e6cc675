"""Result files: CSV text produced a chunk at a time, and ZIP archives built whole or streamed.

Streaming matters for benchmark sizes: the ZIP writer runs on an unseekable sink (data
descriptors instead of seeking back), so a page of 200,000 generated rows never sits in memory.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator

ROWS_PER_CHUNK = 2_000


def csv_chunks(
    header: list[str],
    rows: Iterable[list[str]],
    delimiter: str = ",",
    record_delimiter: str = "\r\n",
) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=record_delimiter)
    writer.writerow(header)
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


class _Sink(io.RawIOBase):
    """Write-only, tell-able, not seekable: makes ZipFile emit a streamable archive."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.parts.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def seekable(self) -> bool:
        return False

    def drain(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


def zip_chunks(member: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """A ZIP holding one file `member` whose content is `chunks`, yielded as it is compressed."""
    sink = _Sink()
    # A fixed timestamp keeps archives byte-identical across runs.
    info = zipfile.ZipInfo(member, date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(sink, "w") as archive, archive.open(info, "w", force_zip64=True) as entry:
        for chunk in chunks:
            entry.write(chunk)
            if out := sink.drain():
                yield out
    if out := sink.drain():
        yield out


def unzip_single(data: bytes) -> tuple[str, bytes]:
    """The one member of an uploaded ZIP (CRM bulk write), or ValueError."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            if len(names) != 1:
                raise ValueError("the zip must hold exactly one file")
            return names[0], archive.read(names[0])
    except zipfile.BadZipFile as exc:
        raise ValueError("not a zip file") from exc


def read_csv(
    data: bytes, delimiter: str = ",", quotechar: str | None = '"'
) -> tuple[list[str], list[list[str]]]:
    """Header and records; `quotechar` None reads quote characters as plain text."""
    text = data.decode("utf-8-sig")
    if quotechar is None:
        reader = csv.reader(io.StringIO(text), delimiter=delimiter, quoting=csv.QUOTE_NONE)
    else:
        reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar=quotechar)
    rows = list(reader)
    if not rows:
        return [], []
    return rows[0], rows[1:]
