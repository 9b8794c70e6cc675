"""Files and directories that appear whole or not at all.

Data goes to a temporary sibling of the destination (same filesystem, so the final rename is
atomic) while its size and sha256 are computed; `commit` renames it into place, anything
else removes it. An earlier good file at the destination stays untouched until the commit.

A big chunk is written and hashed a step behind (behind.py) while the caller prepares the
next one: on two cores, a 1 GiB export's writing and hashing cost it next to nothing. A
write's error is raised by the next call (`write`, `mark`, `rollback`, `commit`), so it can
never go unseen into a committed file.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, NamedTuple, Self

from zsync.sinks.behind import OneBehind

TEMP_MARK = ".zsync-tmp-"
_serial = itertools.count(1)
BEHIND_MIN = 256 * 1024  # smaller writes cost less than a hand-off to another thread


def unique_suffix() -> str:
    """Unique among this machine's live processes: pid and a counter. Cheaper than random
    bytes (a system call each, a wait for the GIL when threads are busy)."""
    return f"{os.getpid()}-{next(_serial)}"


OLD_MARK = ".zsync-old-"


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


class Mark(NamedTuple):
    """Where an AtomicFile stood: `rollback` returns it there."""

    bytes: int
    hash: Any  # hashlib's sha256 object, copied


class AtomicFile(_AllOrNothing):
    """`with AtomicFile(dest) as f: f.write(...); f.commit()`: uncommitted data vanishes.

    The temporary file appears with the first bytes, not before: a job that dies waiting on
    Zoho leaves nothing behind. It is created readable by its owner only (exports hold a
    company's data). With `root`, the file must land inside it: a symlinked folder on the
    way that leads elsewhere is refused."""

    def __init__(self, destination: Path, *, root: Path | None = None) -> None:
        self.destination = destination
        self.root = root
        self.temp_path = destination.with_name(f".{destination.name}{TEMP_MARK}{unique_suffix()}")
        self._file: BinaryIO | None = None
        self._hash = hashlib.sha256()
        self._behind = OneBehind()  # the chunk a worker is writing
        self.bytes = 0
        self.committed = False
        self.aborted = False

    def _open(self) -> BinaryIO:
        if self.aborted:  # a writer thread still going after its job was cancelled
            raise ValueError(f"{self.destination}: written after it was abandoned")
        if self._file is None:
            self.destination.parent.mkdir(parents=True, exist_ok=True)
            if self.root is not None:
                confine(self.destination.parent, self.root)
            # O_EXCL and O_NOFOLLOW: never write through a link planted at the temp name.
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            self._file = os.fdopen(os.open(self.temp_path, flags, 0o600), "wb")
        return self._file

    def write(self, data: bytes) -> None:
        if len(data) >= BEHIND_MIN and type(data) is bytes:  # immutable: safe to hand off
            if self.aborted:
                raise ValueError(f"{self.destination}: written after it was abandoned")
            self._behind.run(self._write_now, data)
        else:
            self._behind.wait()
            self._write_now(data)

    def _write_now(self, data: bytes) -> None:
        self._open().write(data)
        self._hash.update(data)
        self.bytes += len(data)

    def mark(self) -> Mark:
        self._behind.wait()
        return Mark(self.bytes, self._hash.copy())

    def rollback(self, mark: Mark) -> None:
        """Forget everything written since `mark`."""
        self._behind.wait()
        if self._file is not None:
            self._file.flush()
            self._file.truncate(mark.bytes)
            self._file.seek(mark.bytes)
        self.bytes = mark.bytes
        self._hash = mark.hash.copy()

    def commit(self) -> WrittenFile:
        self._behind.wait()
        handle = self._open()
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        if self.root is not None:
            confine(self.destination.parent, self.root)
        os.replace(self.temp_path, self.destination)
        self.committed = True
        return WrittenFile(self.destination, self.bytes, self._hash.hexdigest())

    def abort(self) -> None:
        self.aborted = True
        self._behind.drain()  # one chunk: let it finish before the file goes
        if self._file is not None and not self._file.closed:
            self._file.close()
        self.temp_path.unlink(missing_ok=True)


class OutsideRoot(ValueError):
    """A path that resolves outside the directory it must stay in."""


def confine(directory: Path, root: Path) -> None:
    """Refuse `directory` unless it is `root` or lies below it with no symbolic link on the
    way. `root` itself is the user's (it may be a link); only what lies below it is checked,
    one lstat per folder between the two: most outputs sit in `root` itself and cost none
    (resolving whole paths cost milliseconds per file while other threads renamed files in
    the same folder)."""
    relative = os.path.relpath(directory, root)
    if relative == ".":
        return
    parts = Path(relative).parts
    if parts[0] == os.pardir or os.path.isabs(relative):
        raise OutsideRoot(f"{directory} is outside the output directory {root}")
    here = root
    for part in parts:
        here = here / part
        if here.is_symlink():
            raise OutsideRoot(
                f"{here} is a symbolic link (to {os.path.realpath(here)}), inside the output "
                f"directory {root}: refusing to write through it, outside the output directory"
            )


class AtomicDirectory(_AllOrNothing):
    """A directory of files (one per page) swapped into place whole on `commit`."""

    def __init__(self, destination: Path, *, root: Path | None = None) -> None:
        self.destination = destination
        self.root = root
        self.temp_path = destination.with_name(f".{destination.name}{TEMP_MARK}{unique_suffix()}")
        self.committed = False

    def file(self, name: str) -> AtomicFile:
        # Made when its first page arrives (an AtomicFile creates its parent then).
        return AtomicFile(self.temp_path / name, root=self.root)

    def commit(self) -> Path:
        self.temp_path.mkdir(mode=0o700, parents=True, exist_ok=True)  # a result of no pages
        if self.root is not None:
            confine(self.destination.parent, self.root)
        # A directory can't be renamed over a non-empty one: move the old one aside first,
        # so there is never a moment with a half-written directory at the destination.
        old = None
        if self.destination.exists():
            old = self.destination.with_name(f".{self.destination.name}{OLD_MARK}{unique_suffix()}")
            os.replace(self.destination, old)
        os.replace(self.temp_path, self.destination)
        self.committed = True
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.destination

    def abort(self) -> None:
        shutil.rmtree(self.temp_path, ignore_errors=True)


def remove_leftovers(destination: Path) -> list[Path]:
    """Remove what a killed writer of `destination` left beside it (temporary files and
    directories, an old directory moved aside); returns what was removed."""
    removed: list[Path] = []
    parent = destination.parent
    if not parent.is_dir():
        return removed
    for mark in (TEMP_MARK, OLD_MARK):
        for path in parent.glob(f".{destination.name}{mark}*"):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def digest(path: Path, *, pages: bool) -> str | None:
    """The sha256 a run recorded for an output: of the file, or for a directory of pages of
    the pages' digests in order; None when it isn't there (or isn't what it should be)."""
    if pages:
        if not path.is_dir():
            return None
        digests = [_file_digest(page) for page in sorted(path.iterdir()) if page.is_file()]
        return hashlib.sha256("\n".join(digests).encode()).hexdigest()
    return _file_digest(path) if path.is_file() else None


def _file_digest(path: Path) -> str:
    hashed = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            hashed.update(chunk)
    return hashed.hexdigest()
