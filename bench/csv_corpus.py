"""Deterministic CSV files for the data-path benchmarks, and a ZIP of one, made fast.

A file is a header and one seeded block of records written over and over: the block is a
few MiB, far past deflate's 32 KiB window, so the file compresses like one of distinct
records (about 5:1, as Zoho's results do) while it is written at disk speed. Some fields
are quoted (commas, doubled quotes, a newline inside a field) and some hold non-ASCII text,
so the checks and the splitter meet every kind of record, not only the quote-free kind.

The ZIP is made without compressing the whole file: the block is deflated once, ending
with a full flush (byte-aligned, history cleared), so the same compressed bytes decode the
same wherever they stand, and the member's stream is that segment repeated, then an empty
final block.
"""

from __future__ import annotations

import random
import struct
import zlib
from pathlib import Path
from typing import NamedTuple

HEADER = b"Id,Name,Email,Phone,City,Amount,Created,Stage,Description\r\n"
WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "quarterly",
    "renewal",
    "pipeline",
    "discount",
    "follow-up",
    "invoice",
    "shipped",
    "pending",
    "warehouse",
    "Zürich",
    "São",
    "Paulo",
    "Kraków",
    "naïve",
    "café",
    "order",
    "customer",
    "contract",
]
CITIES = ("Berlin", "Chennai", "Austin", "Zürich", "Lyon", "Osaka", "Toronto", "Perth")
STAGES = ("Qualification", "Negotiation", "Closed Won", "Closed Lost")


class Corpus(NamedTuple):
    path: Path
    size: int  # bytes
    records: int  # after the header
    block: bytes  # written `repeats` times after the header
    repeats: int


def make_csv(path: Path, size: int, record_size: int, *, seed: int = 12) -> Corpus:
    """A CSV of about `size` bytes whose records average about `record_size` bytes."""
    block, count = _block(record_size, min(size, 4 << 20), seed)
    repeats = max(1, round((size - len(HEADER)) / len(block)))
    with open(path, "wb") as handle:
        handle.write(HEADER)
        for _ in range(repeats):
            handle.write(block)
    return Corpus(path, len(HEADER) + repeats * len(block), repeats * count, block, repeats)


def _block(record_size: int, size: int, seed: int) -> tuple[bytes, int]:
    rng = random.Random(seed)
    records: list[bytes] = []
    total = 0
    while total < size:
        record = _record(rng, len(records), record_size)
        records.append(record)
        total += len(record)
    return b"".join(records), len(records)


def _record(rng: random.Random, number: int, record_size: int) -> bytes:
    name = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()}"
    if number % 7 == 0:
        name = f'"{name}, Jr."'  # a quoted comma
    fixed = (
        f"{4_000_000 + number},{name},user{number}@example.com,+1-555-{number % 10_000:04d},"
        f"{rng.choice(CITIES)},{rng.randrange(100, 10**6) / 100:.2f},"
        f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d} 10:{number % 60:02d}:00,"
        f"{rng.choice(STAGES)},"
    )
    room = max(0, record_size - len(fixed.encode()) - 4)
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < room:
        words.append(rng.choice(WORDS))
    text = " ".join(words)[:room]
    if number % 11 == 0:
        text = f'"{text[: room // 2]} ""quoted""\n{text[room // 2 :]}"'  # quotes, a newline
    elif number % 5 == 0:
        text = f'"{text}, more"'
    return (fixed + text + "\r\n").encode()


def make_zip(corpus: Corpus, target: Path, member: str = "result.csv") -> int:
    """A ZIP of the corpus's file (one deflated member, as Zoho's results); returns its
    size."""
    header, block, repeats, data_size = HEADER, corpus.block, corpus.repeats, corpus.size
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    head = compressor.compress(header) + compressor.flush(zlib.Z_FULL_FLUSH)
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    segment = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(6, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    crc = zlib.crc32(header)
    for _ in range(repeats):
        crc = zlib.crc32(block, crc)
    compressed = len(head) + repeats * len(segment) + len(final)
    name = member.encode()
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, compressed, data_size, len(name), 0
    )
    with open(target, "wb") as out:
        out.write(local + name + head)
        for _ in range(repeats):
            out.write(segment)
        out.write(final)
        directory = out.tell()
        central = struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            0,
            8,
            0,
            0x21,
            crc,
            compressed,
            data_size,
            len(name),
            0,
            0,
            0,
            0,
            0o100600 << 16,
            0,
        )
        out.write(central + name)
        end = out.tell()
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, end - directory, directory, 0))
        return out.tell()
