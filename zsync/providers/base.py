"""The provider interface and canonical job states, apart from any product's spelling."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NamedTuple, Protocol

from zsync.errors import RemoteError
from zsync.http.session import Reply, ZohoSession
from zsync.sinks.result import FileKind
from zsync.sinks.spool import Spool

State = Literal["pending", "running", "completed", "failed", "not_found", "expired"]
TERMINAL: frozenset[State] = frozenset({"completed", "failed", "not_found", "expired"})


class Page(NamedTuple):
    """What one remote job fetches: a page number, or a token/cursor from the last one."""

    number: int | None = None
    token: str | None = None


class Status(NamedTuple):
    state: State
    remote: str  # the state as Zoho spelled it
    records: int | None = None  # what Zoho says this page or batch holds
    download_url: str | None = None
    next: Page | None = None  # the page after this one, if there are more records
    error: str | None = None


class Provider(Protocol):
    @property
    def kind(self) -> FileKind: ...

    @property
    def zipped(self) -> bool: ...

    @property
    def reread(self) -> bool:
        """Whether a result must be read twice to be trusted: true where Zoho sends neither
        a ZIP (whose CRC covers the data) nor a record count to check it against."""
        ...

    @property
    def chained(self) -> bool:
        """Whether each page is asked for with a cursor that dies soon after the page before
        it (Creator's, 15 minutes): the job then keeps its slot from the first page to the
        last, so its next create never queues behind other jobs' first ones."""
        ...

    def first_page(self) -> Page: ...

    async def create(self, page: Page) -> str:
        """Start the job of `page`; raises CursorExpired when `page`'s cursor is dead."""
        ...

    async def status(self, remote_id: str) -> Status: ...

    async def download(
        self, remote_id: str, status: Status, destination: Spool
    ) -> Mapping[str, str]:
        """Fetch the result of a completed job into `destination`; returns reply headers."""
        ...

    def next_page(self, status: Status, headers: Mapping[str, str]) -> Page | None: ...


async def get_status(session: ZohoSession, url: str, **kwargs: Any) -> Reply | None:
    """GET a job's status; None when Zoho answers 404 (an unknown or expired job)."""
    try:
        return await session.request("GET", url, kind="status", **kwargs)
    except RemoteError as exc:
        if exc.status == 404:
            return None
        raise


def canonical(table: Mapping[str, State], remote: object, product: str) -> State:
    """Map a product's state through its table; a state no table knows is an error."""
    state = table.get(str(remote))
    if state is None:
        shown = repr(remote) if len(repr(remote)) <= 80 else repr(remote)[:77] + "..."
        raise RemoteError(
            f"{product} reported job state {shown}, which zsync doesn't know; "
            f"known: {', '.join(table)}",
            code="UNKNOWN_STATE",
        )
    return state
