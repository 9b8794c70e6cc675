"""Where a download lands before it is checked and unpacked: memory when small, else a file.

Most results are small; keeping them in memory spares the event loop a file to create, write
and remove per download (each a wait for the GIL when threads are busy). A body larger than
MEMORY_LIMIT, or of unknown length, streams to a scratch file instead, so memory stays bounded.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import BinaryIO

MEMORY_LIMIT = 1 << 20


class Spool:
    def __init__(self, path: Path) -> None:
        self.path = path  # used only once a body is too big for memory
        self.data: bytes | None = None
        self.size = 0  # bytes kept; whoever streams to file() sets it
        self._on_disk = False

    def keep(self, data: bytes) -> None:
        self.discard()  # a retry's earlier body
        self.data = data
        self.size = len(data)

    def file(self) -> BinaryIO:
        """A new file at `path` for a body streamed to disk."""
        self.data = None
        self.size = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._on_disk = True
        return open(self.path, "wb")

    def open(self) -> BinaryIO:
        """The body, to read from the start."""
        if self.data is not None:
            return io.BytesIO(self.data)
        return open(self.path, "rb")

    def discard(self) -> None:
        self.data = None
        if self._on_disk:
            self.path.unlink(missing_ok=True)
            self._on_disk = False

    def digest(self) -> str:
        """sha256 of the body (reads a file body from disk: call off the event loop)."""
        if self.data is not None:
            return hashlib.sha256(self.data).hexdigest()
        hashed = hashlib.sha256()
        with open(self.path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                hashed.update(chunk)
        return hashed.hexdigest()

    def take(self, other: Spool) -> None:
        """Hold `other`'s body instead of this one's; `other` is left empty."""
        self.discard()
        if other.data is not None:
            self.keep(other.data)
        elif other._on_disk:
            os.replace(other.path, self.path)
            self._on_disk, self.size = True, other.size
        other.data, other._on_disk = None, False
