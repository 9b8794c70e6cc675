"""A result downloaded until it passes its checks: the same GET again, within a budget.

A corrupt or cut-short body usually comes from one bad transfer; asking again for the same
result (Zoho keeps it for an hour) serves a good copy. Only when every try fails its checks,
or Zoho sent an error in place of the result, does the job fail.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from zsync.errors import GarbageReply
from zsync.sinks.atomic import unique_suffix
from zsync.sinks.checks import ResultError
from zsync.sinks.spool import Spool

T = TypeVar("T")


async def checked_download(
    fetch: Callable[[Spool], Awaitable[T]],
    *,
    scratch: Path,
    name: str,
    attempts: int,
    what: str,
    progress: Callable[[str], None],
) -> T:
    """`fetch(spool)` downloads into the spool and checks what it got (raising ResultError);
    it is called again with a fresh spool while tries remain. `what` names the result in
    messages ("the result of CRM job 123")."""
    for attempt in range(1, attempts + 1):
        download = Spool(scratch / f"{name}-{unique_suffix()}.part")
        try:
            return await fetch(download)
        except ResultError as exc:
            problem = f"{what} is unusable: {exc}"
            if attempt == attempts or exc.code is not None:
                raise GarbageReply(problem, code=exc.code or "BAD_RESULT") from exc
            progress(f"{problem}; downloading it again ({attempt + 1} of {attempts})")
        finally:
            download.discard()
    raise AssertionError("unreachable")
