"""The key under which an aiohttp app holds its `Emulator` (its own module to avoid cycles)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from zsync.emulator.emulator import Emulator

EMULATOR: web.AppKey[Emulator] = web.AppKey("emulator")

# The body-level fault a request was dealt; `respond.deliver` consumes it. RequestKey arrived in
# aiohttp 3.12 (zsync allows >=3.9), hence the plain-string fallback.
BODY_FAULT: Any = (
    web.RequestKey("body_fault", object) if hasattr(web, "RequestKey") else "body_fault"
)
