"""Object-storage URLs in a job file (`s3://bucket/prefix`): recognised, joined, confined.

Pure string work, no fsspec: `zsync validate` and `plan` read URLs without importing the
filesystem packages (sinks/remote.py does, once something is written or read).
"""

from __future__ import annotations

import importlib.util
import posixpath
from typing import NamedTuple


class Backend(NamedTuple):
    package: str  # the module fsspec needs for the scheme
    extra: str  # zoho-zsync's extra that installs it


BACKENDS: dict[str, Backend] = {
    "s3": Backend("s3fs", "s3"),
    "gs": Backend("gcsfs", "gcs"),
    "gcs": Backend("gcsfs", "gcs"),
    "az": Backend("adlfs", "azure"),
    "abfs": Backend("adlfs", "azure"),
    "abfss": Backend("adlfs", "azure"),
}


def scheme(text: str) -> str | None:
    """The object-storage scheme `text` starts with, or None for a local path."""
    head, separator, _ = text.partition("://")
    return head.lower() if separator and head.lower() in BACKENDS else None


def is_url(text: str) -> bool:
    return scheme(text) is not None


def normal_url(url: str) -> str | None:
    """`url` with '.' and '//' removed and no trailing '/', or None when it has no bucket or
    climbs above it with '..' (a prefix that can't be kept to)."""
    found = scheme(url)
    if found is None:
        return None
    rest = url.split("://", 1)[1]
    bucket, _, key = rest.partition("/")
    if not bucket or bucket in (".", ".."):
        return None
    parts: list[str] = []
    for part in key.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            return None  # never resolved: a prefix must say where it is plainly
        parts.append(part)
    return f"{found}://{'/'.join([bucket, *parts])}"


def join(root: str, relative: str) -> str | None:
    """`relative` below the URL `root`, or None when it climbs out ('..' above it, or
    absolute)."""
    if relative.startswith("/") or is_url(relative):
        return None
    joined = posixpath.normpath(relative)
    if joined == ".." or joined.startswith("../"):
        return None
    return root if joined == "." else f"{root}/{joined}"


def inside(url: str, root: str) -> str | None:
    """`url` as a path relative to the URL `root`, or None when it isn't below it."""
    normal = normal_url(url)
    if normal is None:
        return None
    if normal == root:
        return "."
    return normal.removeprefix(root + "/") if normal.startswith(root + "/") else None


def missing_backend(url: str) -> Backend | None:
    """The filesystem package `url` needs when it isn't installed (found without importing
    it: s3fs pulls in botocore, a second and more)."""
    found = scheme(url)
    if found is None:
        return None
    backend = BACKENDS[found]
    needed = ("fsspec", backend.package)
    return backend if any(importlib.util.find_spec(name) is None for name in needed) else None


def install_hint(backend: Backend) -> str:
    return f"pip install 'zoho-zsync[{backend.extra}]'"
