"""Files only their owner may read: the state directory (0700), the state store and the run
manifests (0600). They name organisations, modules and hosts, and Zoho's own error messages."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> None:
    """Create `path`, and whichever of its parents are missing, as 0700; one that exists
    is left as it is (its owner may share it on purpose)."""
    missing: list[Path] = []
    while not path.exists():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    for directory in reversed(missing):
        directory.mkdir(mode=DIR_MODE, exist_ok=True)


def private_file(path: Path) -> None:
    """Make sure `path` exists and is 0600: created so, or narrowed when an older zsync left
    it readable to others."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        narrow(path)
        return
    os.close(fd)


def narrow(path: Path) -> None:
    """Take group and other access away from `path`, if it exists and has any."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & ~FILE_MODE:
        os.chmod(path, mode & FILE_MODE)


def create_private(path: Path) -> IO[str]:
    """A new file at `path`, 0600 from its first byte, open for writing UTF-8 text."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    return os.fdopen(fd, "w", encoding="utf-8")
