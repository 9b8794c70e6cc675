"""Stream the one file inside a downloaded result ZIP (CRM, Bigin, Creator) into a page.

The ZIP is in memory when small, else on disk (downloaded streaming), so memory stays
bounded; zipfile checks the member's CRC-32 when the read reaches its end, and a mismatch
fails the page. What the archive may expand to is bounded too (`results.max_size`, and
`results.max_zip_ratio` once past RATIO_FLOOR): a small ZIP holding gigabytes of zeros is
refused from its directory entry when that tells the truth, and while copying when it lies.
"""

from __future__ import annotations

import zipfile
import zlib

from zsync.sinks.checks import ResultError, sniff
from zsync.sinks.result import PageWriter
from zsync.sinks.spool import Spool
from zsync.sizes import human_bytes
from zsync.spec.model import Results

CHUNK = 1 << 20
RATIO_FLOOR = 64 * 1024 * 1024  # below this, any ratio: a tiny ZIP of a repetitive CSV is fine
DEFAULT_LIMITS = Results()


def extract_single(spool: Spool, page: PageWriter, limits: Results = DEFAULT_LIMITS) -> str:
    """Copy the archive's only file into `page`; returns that file's name."""
    with spool.open() as handle:
        head = handle.read(4096)
    if not head.startswith(b"PK"):
        sniff(head, "zip")  # an HTML page or Zoho's error in place of the archive
        raise ResultError("the result is not a ZIP archive: it is corrupt")
    try:
        with spool.open() as handle, zipfile.ZipFile(handle) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) != 1:
                names = ", ".join(repr(m.filename) for m in members[:5]) or "nothing"
                raise ResultError(f"the result ZIP should hold one file, it holds {names}")
            member = members[0]
            _check_name(member.filename)
            bound = _bound(spool.size, limits)
            if member.file_size > bound:
                raise ResultError(_too_big(member.file_size, spool.size, limits))
            copied = 0
            with archive.open(member) as stream:
                while chunk := stream.read(CHUNK):
                    copied += len(chunk)
                    if copied > bound:
                        raise ResultError(_too_big(copied, spool.size, limits))
                    page.write(chunk)
            if copied != member.file_size:
                raise ResultError(
                    f"{member.filename} in the result ZIP is cut short "
                    f"({copied} of {member.file_size} bytes)"
                )
            return member.filename
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError) as exc:
        raise ResultError(f"the result ZIP is corrupt: {exc}") from exc
    except UnicodeDecodeError as exc:  # a member name flagged UTF-8 that isn't
        problem = f"the result ZIP is corrupt (a file name isn't UTF-8: {exc.reason})"
        raise ResultError(problem) from exc
    except NotImplementedError as exc:  # an unsupported compression method
        raise ResultError(f"the result ZIP can't be read: {exc}") from exc


def _bound(compressed: int, limits: Results) -> int:
    """The most bytes this archive may extract to."""
    by_ratio = max(RATIO_FLOOR, int(compressed * limits.max_zip_ratio))
    return min(limits.max_size, by_ratio)


def _too_big(size: int, compressed: int, limits: Results) -> str:
    if size > limits.max_size:
        return (
            f"the result ZIP extracts to more than results.max_size "
            f"({human_bytes(limits.max_size)})"
        )
    return (
        f"the result ZIP of {human_bytes(compressed)} extracts to more than "
        f"{limits.max_zip_ratio:g} times its size (results.max_zip_ratio): a ZIP bomb?"
    )


def _check_name(name: str) -> None:
    """zsync never extracts by name, but a name that climbs out of its folder or is absolute
    says the archive wasn't made by Zoho."""
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
        raise ResultError(f"the result ZIP holds a file named {name!r}: refusing it")
