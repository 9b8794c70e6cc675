"""Reading reply bodies within bounds: a size cap, and a body that must keep arriving.

A server can send a 500 MB JSON reply to a status call, a download of 2 GB where 2 MB were
expected, or one byte a second for ever. Every body zsync reads goes through here: JSON
replies are capped before they are parsed (MAX_REPLY), downloads at the job's
`results.max_size`, and every read must bring at least PROGRESS_BYTES within each
`results.stall_timeout`, or the body counts as stalled (a transient error: retried). A body
of declared length up to SINGLE_READ is read in one go that must end within the stall
timeout (most replies: one timer per body, not one per chunk).

`what` names the request in messages; it is a function, called only when there is something
to say (formatting it for every request cost more than the reading).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp

from zsync.errors import GarbageReply
from zsync.sinks.spool import MEMORY_LIMIT, Spool
from zsync.sizes import human_bytes

MAX_REPLY = 16 * 1024 * 1024  # a JSON reply of Zoho's is a few KB; a page of ids, a few MB
PROGRESS_BYTES = 1024
SINGLE_READ = 1 << 20
Describe = Callable[[], str]


class BodyStalled(Exception):
    """Too few bytes arrived for too long: the connection is alive but the body isn't."""


class TooLarge(GarbageReply):
    """A body past its cap; the reply is unusable, and asking again won't shrink it."""


async def read_reply(response: aiohttp.ClientResponse, stall: float, what: Describe) -> bytes:
    """The whole body of a JSON reply, at most MAX_REPLY bytes."""
    declared = response.content_length
    if declared is not None and declared > MAX_REPLY:
        raise TooLarge(f"{what()}: a reply of {human_bytes(declared)} (at most {_cap()} expected)")
    if declared is not None and declared <= SINGLE_READ:
        deadline = asyncio.get_running_loop().time() + stall
        return await _bounded(response.content.read(), deadline, stall)
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks(response, stall):
        size += len(chunk)
        if size > MAX_REPLY:
            raise TooLarge(f"{what()}: a reply of more than {_cap()}")
        parts.append(chunk)
    return b"".join(parts)


async def download_to(
    response: aiohttp.ClientResponse,
    destination: Spool,
    max_size: int,
    stall: float,
    what: Describe,
) -> int:
    """Stream a result into `destination` (memory when small and declared, else its file);
    returns its size. Content-Length is honoured: a body shorter or longer is an error."""
    declared = response.content_length
    if declared is not None and declared > max_size:
        raise TooLarge(
            f"{what()}: the result is {human_bytes(declared)}, over results.max_size "
            f"({human_bytes(max_size)})"
        )
    size = 0
    if declared is not None and declared <= min(MEMORY_LIMIT, SINGLE_READ):
        deadline = asyncio.get_running_loop().time() + stall
        body = await _bounded(response.content.read(), deadline, stall)
        _check_length(len(body), declared, what)
        destination.keep(body)
        return len(body)
    with destination.file() as handle:
        async for chunk in chunks(response, stall):
            size += len(chunk)
            if size > max_size:
                raise TooLarge(
                    f"{what()}: the result passed results.max_size ({human_bytes(max_size)})"
                )
            if declared is not None and size > declared:
                break
            handle.write(chunk)
            destination.size = size  # bytes so far, for the live view
    _check_length(size, declared, what)
    destination.size = size
    return size


async def chunks(response: aiohttp.ClientResponse, stall: float) -> AsyncIterator[bytes]:
    """The body's chunks, each read with a deadline: PROGRESS_BYTES more must arrive within
    `stall` seconds of the last time that many had (silence and trickles alike)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + stall
    window_bytes = 0
    stream = response.content
    while True:
        chunk = await _bounded(stream.readany(), deadline, stall)
        if not chunk:
            return
        window_bytes += len(chunk)
        if window_bytes >= PROGRESS_BYTES:
            deadline = loop.time() + stall
            window_bytes = 0
        yield chunk


async def _bounded(read: Awaitable[bytes], deadline: float, stall: float) -> bytes:
    try:
        async with asyncio.timeout_at(deadline):
            return await read
    except TimeoutError:
        raise BodyStalled(
            f"the reply stalled: it stopped arriving for {stall:g} s (results.stall_timeout)"
        ) from None


def _check_length(size: int, declared: int | None, what: Describe) -> None:
    if declared is not None and size != declared:
        raise aiohttp.ClientPayloadError(
            f"{what()}: the body was {'cut short' if size < declared else 'longer than declared'}"
            f" ({size} of {declared} bytes)"
        )


def _cap() -> str:
    return human_bytes(MAX_REPLY)
