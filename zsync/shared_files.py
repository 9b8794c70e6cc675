"""Files written for others to read (a starter job file, a CI report): whole or not at all,
and readable as a file the user created would be (mkstemp makes them 0600)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def replace_whole(path: Path, data: bytes, mode: int = 0o666) -> None:
    """Write `data` to `path` atomically: a reader (or a step after a killed process) sees the
    old file or the whole new one. `mode` is narrowed by the umask, as open() would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, mode & ~_umask())
        os.replace(temp, path)
    finally:
        Path(temp).unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
