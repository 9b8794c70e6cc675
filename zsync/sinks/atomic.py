"""Files and directories that appear whole or not at all.

Data goes to a temporary sibling of the destination (same filesystem, so the final rename is
atomic) while its size and sha256 are computed; `commit` renames it into place, anything
else removes it. An earlier good file at the destination stays untouched until the commit.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from pathlib import Path
from types import TracebackType
from typing import NamedTuple, Self

TEMP_MARK = ".zsync-tmp-"


class WrittenFile(NamedTuple):
    path: Path
    bytes: int
    sha256: str


class _AllOrNothing:
    """Leaving the `with` block without `commit()` throws the temporary data away."""

    committed: bool

    def abort(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not self.committed:
            self.abort()


class AtomicFile(_AllOrNothing):
    """`with AtomicFile(dest) as f: f.write(...); f.commit()`: uncommitted data vanishes."""

    def __init__(self, destination: Path) -> None:
        self.destination = destination
        destination.parent.mkdir(parents=True, exist_ok=True)
        self.temp_path = destination.with_name(
            f".{destination.name}{TEMP_MARK}{secrets.token_hex(4)}"
        )
        self._file = open(self.temp_path, "wb")  # noqa: SIM115 - closed by commit/abort
        self._hash = hashlib.sha256()
        self.bytes = 0
        self.committed = False

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._hash.update(data)
        self.bytes += len(data)

    def commit(self) -> WrittenFile:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.temp_path, self.destination)
        self.committed = True
        return WrittenFile(self.destination, self.bytes, self._hash.hexdigest())

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.temp_path.unlink(missing_ok=True)


class AtomicDirectory(_AllOrNothing):
    """A directory of files (one per page) swapped into place whole on `commit`."""

    def __init__(self, destination: Path) -> None:
        self.destination = destination
        destination.parent.mkdir(parents=True, exist_ok=True)
        self.temp_path = destination.with_name(
            f".{destination.name}{TEMP_MARK}{secrets.token_hex(4)}"
        )
        self.temp_path.mkdir()
        self.committed = False

    def file(self, name: str) -> AtomicFile:
        return AtomicFile(self.temp_path / name)

    def commit(self) -> Path:
        # A directory can't be renamed over a non-empty one: move the old one aside first,
        # so there is never a moment with a half-written directory at the destination.
        old = None
        if self.destination.exists():
            old = self.destination.with_name(
                f".{self.destination.name}.zsync-old-{secrets.token_hex(4)}"
            )
            os.replace(self.destination, old)
        os.replace(self.temp_path, self.destination)
        self.committed = True
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.destination

    def abort(self) -> None:
        shutil.rmtree(self.temp_path, ignore_errors=True)
