"""Object storage (S3, GCS, Azure) through fsspec: whole objects in, whole objects out.

Object stores have no rename, so a result is written and checked in a local scratch file as
any other (result.py, atomic.py), and only then uploaded to its final key: S3 shows an
object only once its multipart upload completes, so a reader sees the old object or the new
one, never part of one, and a failed job leaves the key as it was. fsspec is imported here,
on first use, never by validate or plan.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import posixpath
import shutil
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zsync import redact
from zsync.errors import ConfigError, TransientError
from zsync.locations import install_hint, missing_backend
from zsync.sinks.atomic import unique_suffix
from zsync.sinks.result import FileKind, Output, ResultWriter

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

CHUNK = 5 * 1024 * 1024  # per read, and the smallest part S3 takes: memory per transfer
MAX_PARTS = 9_000  # S3 allows 10,000 parts per upload; some headroom
# Parts in flight at once. s3fs sends 10 by default, each held in memory (and copied again
# while botocore signs it): 150 MiB more for a big result. With one, a 1 GiB export peaks
# under 90 MiB, flat in size (bench/scenarios/object_storage.py; two cost 10 MiB more and
# were no faster there); jobs running side by side keep the link busy.
PARTS_AT_ONCE = 1
PAGE_NAME = "page-"  # per-page results are page-0001.csv, ...


class Storage:
    """One object store, reached with the job file's `defaults.storage_options` (on top of
    the filesystem package's own environment: AWS_PROFILE, AWS_ENDPOINT_URL, ...)."""

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options = dict(options or {})

    def filesystem(self, url: str) -> tuple[AbstractFileSystem, str]:
        backend = missing_backend(url)
        if backend is not None:
            raise ConfigError(
                f"{url} needs the {backend.package} package, which isn't installed: "
                f"{install_hint(backend)}"
            )
        from fsspec.core import url_to_fs

        fs, path = url_to_fs(url, **self.options)
        return fs, path

    def check(self, url: str) -> None:
        """Ask for the bucket (container) `url` is in: one request, so a missing bucket or
        an endpoint that doesn't answer is known before Zoho does any work. A refusal proves
        nothing: a policy may let zsync write below its prefix and not describe the bucket
        (S3's HeadBucket needs s3:ListBucket on the whole bucket); the upload will tell."""
        fs, path = self.filesystem(url)
        bucket = path.split("/", 1)[0]
        with _translated(f"reaching {url}"):
            try:
                fs.info(bucket)
            except PermissionError:
                return

    def put(self, local: Path, url: str) -> None:
        """Upload `local` to `url` in parts of bounded size; the object appears whole when
        the last part is in, or not at all."""
        fs, path = self.filesystem(url)
        size = local.stat().st_size
        chunk = max(CHUNK, -(-size // MAX_PARTS))
        bounded = {"chunksize": chunk, "max_concurrency": PARTS_AT_ONCE}
        with _translated(f"uploading to {url}"):
            # gcsfs and adlfs stream in parts of their own, bounded sizes.
            fs.put_file(str(local), path, **(bounded if "s3" in _protocols(fs) else {}))
            fs.invalidate_cache(posixpath.dirname(path))
            # The upload counts once the store shows the object whole: a part lost on the way
            # or another writer at the same key would otherwise pass as this result. A policy
            # that lets zsync write but not read objects can't show it: S3 checked each part
            # as it came in, and the upload stands.
            try:
                stored = fs.info(path).get("size")
            except PermissionError:
                stored = size
        if stored != size:
            raise TransientError(
                f"uploading to {url}: the store holds {stored} bytes there, not the {size} "
                "sent (another writer at the same key?)"
            )

    def put_pages(self, local: Path, url: str) -> None:
        """Upload a directory of pages below `url/`, then remove pages an earlier, longer
        result left there. Each page is whole, but the set changes one page at a time (an
        object store can't swap a folder): pages are only uploaded once all were checked."""
        fs, path = self.filesystem(url)
        names = sorted(page.name for page in local.iterdir() if page.is_file())
        for name in names:
            self.put(local / name, f"{url}/{name}")
        with _translated(f"tidying {url}/"):
            fs.invalidate_cache(path)
            try:
                present = fs.ls(path, detail=False)
            except FileNotFoundError:
                present = []
            stale = [
                key
                for key in present
                if posixpath.basename(key).startswith(PAGE_NAME)
                and posixpath.basename(key) not in names
            ]
            if stale:
                fs.rm(stale)

    def get(self, url: str, local: Path) -> None:
        """Download `url` to `local` (readable by its owner only) a chunk at a time."""
        fs, path = self.filesystem(url)
        local.parent.mkdir(parents=True, exist_ok=True)
        with _translated(f"reading {url}"):
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
            with (
                fs.open(path, "rb", block_size=CHUNK) as source,
                os.fdopen(os.open(local, flags, 0o600), "wb") as target,
            ):
                expected = source.size  # the object's size when it was opened
                received = 0
                while chunk := source.read(CHUNK):
                    target.write(chunk)
                    received += len(chunk)
        # A download cut short must not be imported as if it were the file.
        if expected is not None and received != expected:
            raise TransientError(
                f"reading {url}: got {received} bytes of the {expected} the object holds"
            )

    def digest(self, url: str) -> str | None:
        """The sha256 a run records for an output (atomic.digest's, for an object or a
        prefix of pages): read back a chunk at a time. None when it isn't there."""
        fs, path = self.filesystem(url)
        with _translated(f"reading {url}"):
            fs.invalidate_cache(path)
            if fs.isfile(path):
                return _object_digest(fs, path)
            if not fs.isdir(path):
                return None
            keys = sorted(key for key in fs.ls(path, detail=False) if fs.isfile(key))
            digests = [_object_digest(fs, key) for key in keys]
            return hashlib.sha256("\n".join(digests).encode()).hexdigest()


def _protocols(fs: AbstractFileSystem) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def _object_digest(fs: AbstractFileSystem, path: str) -> str:
    hashed = hashlib.sha256()
    with fs.open(path, "rb", block_size=CHUNK) as handle:
        while chunk := handle.read(CHUNK):
            hashed.update(chunk)
    return hashed.hexdigest()


@contextmanager
def _translated(doing: str) -> Iterator[None]:
    """The storage library's exceptions as job errors: a missing bucket or a refusal is the
    configuration's to fix, anything else (an endpoint that doesn't answer) transient."""
    try:
        yield
    except ConfigError:
        raise
    except (FileNotFoundError, PermissionError) as exc:
        raise ConfigError(f"{doing}: {_reason(exc)}") from None
    except Exception as exc:
        raise TransientError(f"{doing}: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return redact.text(f"{type(exc).__name__}: {text}" if str(exc) else text)


class RemoteResultWriter(ResultWriter):
    """A ResultWriter whose commit uploads: the result is built and checked in `scratch`,
    then put at `url`; the scratch copy goes either way."""

    def __init__(
        self,
        url: str,
        kind: FileKind,
        *,
        storage: Storage,
        scratch: Path,
        per_page: bool = False,
        delimiter: str = ",",
    ) -> None:
        self.url = url.rstrip("/")
        self.storage = storage
        self.stage = scratch / f"remote-{unique_suffix()}"
        name = posixpath.basename(self.url) or "output"
        super().__init__(
            self.stage / name, kind, per_page=per_page, root=self.stage, delimiter=delimiter
        )

    def commit(self) -> Output:
        try:
            local = super().commit()
            upload: Callable[[Path, str], None] = (
                self.storage.put_pages if self.per_page else self.storage.put
            )
            upload(Path(local.path), self.url)
        finally:
            shutil.rmtree(self.stage, ignore_errors=True)
        return local._replace(path=self.url)

    def abort(self) -> None:
        super().abort()
        shutil.rmtree(self.stage, ignore_errors=True)


def writer_for(
    destination: Path | str,
    kind: FileKind,
    *,
    root: Path,
    scratch: Path,
    storage: Storage | None,
    per_page: bool = False,
    delimiter: str = ",",
) -> ResultWriter:
    """A local ResultWriter for a path, a RemoteResultWriter for a URL (`storage` given)."""
    if isinstance(destination, Path):
        return ResultWriter(destination, kind, per_page=per_page, root=root, delimiter=delimiter)
    assert storage is not None, "a URL output needs its storage"
    return RemoteResultWriter(
        destination,
        kind,
        storage=storage,
        scratch=scratch,
        per_page=per_page,
        delimiter=delimiter,
    )


@asynccontextmanager
async def downloaded(storage: Storage, url: str, scratch: Path) -> AsyncIterator[Path]:
    """`url` as a local file in `scratch` for the block (an import's splitter reads its file
    by byte ranges, again on a retry: a local copy, fetched once and streamed to disk, keeps
    memory flat and needs no connection held open), removed after it."""
    folder = scratch / f"import-{unique_suffix()}"
    local = folder / (posixpath.basename(url) or "input")
    try:
        await asyncio.to_thread(storage.get, url, local)
        yield local
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, True)
