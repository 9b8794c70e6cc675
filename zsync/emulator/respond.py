"""How replies leave the server: JSON bodies, and file downloads with their body-level faults.

`deliver` is the one place a result file is written to the wire, so "reset mid-body",
"truncated" and "corrupt" behave the same for every product's download.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from zsync.emulator.faults import Fault
from zsync.emulator.keys import BODY_FAULT

IN_MEMORY_LIMIT = 4 * 1024 * 1024


def json_reply(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def _corrupt(data: bytes, position: float) -> bytes:
    if len(data) < 8:
        return bytes(b ^ 0xFF for b in data)
    span = max(4, len(data) // 10)
    start = min(int(len(data) * position), len(data) - span)
    flipped = bytes(b ^ 0xFF for b in data[start : start + span])
    return data[:start] + flipped + data[start + span :]


def _cut(data: bytes, position: float) -> bytes:
    return data[: min(max(1, int(len(data) * position)), len(data) - 1)]


async def deliver(
    request: web.Request,
    chunks: Iterable[bytes],
    content_type: str,
    filename: str | None = None,
    status: int = 200,
) -> web.StreamResponse:
    """Send a file; small ones with Content-Length, large ones chunked, faults applied."""
    headers = {"Content-Type": content_type}
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    fault: Fault | None = request.pop(BODY_FAULT, None)
    iterator = iter(chunks)
    buffered: list[bytes] = []
    size = 0
    exhausted = True
    for chunk in iterator:
        # Generating a big page is CPU work: let other requests in between chunks.
        await asyncio.sleep(0)
        buffered.append(chunk)
        size += len(chunk)
        if size > IN_MEMORY_LIMIT:
            exhausted = False
            break
    head = b"".join(buffered)
    if fault is not None and fault.kind == "truncate":
        return web.Response(body=_cut(head, fault.position), status=status, headers=headers)
    if fault is not None and fault.kind == "corrupt":
        head = _corrupt(head, fault.position)
    if fault is not None and fault.kind == "reset":
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = len(head) if exhausted else len(head) * 2
        await response.prepare(request)
        await response.write(head[: len(head) // 2])
        if request.transport is not None:
            request.transport.abort()
        return response
    if exhausted:
        return web.Response(body=head, status=status, headers=headers)
    response = web.StreamResponse(status=status, headers=headers)
    response.enable_chunked_encoding()
    await response.prepare(request)
    await response.write(head)
    for chunk in iterator:
        await response.write(chunk)
    await response.write_eof()
    return response
