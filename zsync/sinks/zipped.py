"""Stream the one file inside a downloaded result ZIP (CRM, Bigin, Creator) into a page.

The ZIP is in memory when small, else on disk (downloaded streaming), so memory stays
bounded; zipfile checks the member's CRC-32 when the read reaches its end, and a mismatch
fails the page.
"""

from __future__ import annotations

import zipfile
import zlib

from zsync.sinks.result import PageWriter, ResultError
from zsync.sinks.spool import Spool

CHUNK = 1 << 20


def extract_single(spool: Spool, page: PageWriter) -> str:
    """Copy the archive's only file into `page`; returns that file's name."""
    try:
        with spool.open() as handle, zipfile.ZipFile(handle) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) != 1:
                names = ", ".join(m.filename for m in members) or "nothing"
                raise ResultError(f"the result ZIP should hold one file, it holds {names}")
            member = members[0]
            copied = 0
            with archive.open(member) as stream:
                while chunk := stream.read(CHUNK):
                    copied += len(chunk)
                    page.write(chunk)
            if copied != member.file_size:
                raise ResultError(
                    f"{member.filename} in the result ZIP is cut short "
                    f"({copied} of {member.file_size} bytes)"
                )
            return member.filename
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise ResultError(f"the result ZIP is corrupt: {exc}") from exc
