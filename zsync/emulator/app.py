"""The aiohttp application: routes of every product, one middleware for Zoho-shaped errors,
request counting and request-level faults, a callback dispatcher, and `running_emulator`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from zsync.emulator import oauth
from zsync.emulator.analytics import responses as analytics
from zsync.emulator.config import EmulatorConfig
from zsync.emulator.creator import responses as creator
from zsync.emulator.crm import responses as crm
from zsync.emulator.emulator import Emulator
from zsync.emulator.errors import (
    ApiError,
    bad_method,
    crm_throttle_400,
    internal_error,
    not_found,
    product_of,
    throttled,
)
from zsync.emulator.faults import BODY_FAULTS, REQUEST_FAULTS
from zsync.emulator.introspection import CallbackRecord
from zsync.emulator.keys import BODY_FAULT, EMULATOR
from zsync.emulator.limits import LIMITED
from zsync.emulator.respond import deliver

logger = logging.getLogger(__name__)
CALLBACK_TICK = 0.02  # real seconds between looks for jobs whose callback is due


def _is_download(endpoint: str) -> bool:
    return endpoint.endswith(".result") or ".download" in endpoint


def _bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    return header.split(" ", 1)[1].strip() if " " in header else ""


@web.middleware
async def zoho_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    emulator: Emulator = request.app[EMULATOR]
    endpoint = request.match_info.route.name or "unmatched"
    product = product_of(request.path)
    status = 500
    try:
        response = await _handle(request, handler, emulator, endpoint, product)
        status = response.status
        return response
    except ApiError as exc:
        status = exc.status
        return web.json_response(exc.body, status=exc.status, headers=exc.headers)
    except web.HTTPException:
        raise
    except Exception:
        # An emulator bug still answers in the product's shape, and is logged for the test.
        logger.exception("unhandled error in %s", endpoint)
        error = internal_error(product)
        status = error.status
        return web.json_response(error.body, status=error.status)
    finally:
        emulator.stats.record(request.method, request.path, endpoint, status)


async def _handle(
    request: web.Request, handler: Any, emulator: Emulator, endpoint: str, product: str
) -> web.StreamResponse:
    failure = request.match_info.http_exception
    if failure is not None:
        raise bad_method(product) if failure.status == 405 else not_found(product)
    if endpoint.startswith("oauth."):
        return await handler(request)
    fault = emulator.faults.take(endpoint, REQUEST_FAULTS)
    if fault is not None:
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay)
        elif fault.kind == "throttle":
            raise throttled(product, fault.retry_after)
        elif fault.kind == "crm_throttle":
            raise crm_throttle_400() if product in ("crm", "bigin") else throttled(product, 1.0)
        else:
            error = internal_error(product)
            error.status = fault.status
            raise error
    if emulator.config.faults.latency:
        await asyncio.sleep(emulator.config.faults.latency)
    if endpoint in LIMITED and emulator.tokens.lookup(_bearer(request)) is not None:
        # Only a request Zoho would otherwise serve counts (a bad token is refused first).
        emulator.limits.check(endpoint)
    # Seeded body faults hit downloads only; explicit rules hit whatever endpoint they name.
    body_fault = emulator.faults.take(endpoint, BODY_FAULTS, seeded=_is_download(endpoint))
    if body_fault is not None:
        request[BODY_FAULT] = body_fault
    try:
        response = await handler(request)
    except ApiError as exc:
        response = web.json_response(exc.body, status=exc.status, headers=exc.headers)
    if request.get(BODY_FAULT) is not None and isinstance(response, web.Response) and response.body:
        # A JSON reply (or an error) hit by a body fault: same treatment as a file.
        raw = response.body
        body = raw if isinstance(raw, bytes) else bytes(raw) if isinstance(raw, bytearray) else b""
        return await deliver(request, [body], response.content_type, status=response.status)
    return response


async def _dispatch_callbacks(app: web.Application) -> AsyncIterator[None]:
    """One background task per app posts due callbacks; cancelled on shutdown, so none leak."""
    emulator: Emulator = app[EMULATOR]

    async def loop(session: aiohttp.ClientSession) -> None:
        while True:
            try:
                now = emulator.clock.now()
                for flavor in (crm.CRM, crm.BIGIN):
                    for url, payload in crm.due_callbacks(flavor, emulator, now):
                        await _post(session, emulator, url, payload)
            except Exception:
                # Keep dispatching: one bad job must not silence every later callback.
                logger.exception("callback dispatch failed")
            await asyncio.sleep(CALLBACK_TICK)

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        task = asyncio.get_running_loop().create_task(loop(session))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _post(
    session: aiohttp.ClientSession, emulator: Emulator, url: str, payload: dict[str, Any]
) -> None:
    try:
        async with session.post(url, json=payload) as response:
            emulator.stats.callbacks.append(CallbackRecord(url, payload, response.status, None))
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        emulator.stats.callbacks.append(CallbackRecord(url, payload, None, repr(exc)))


def create_app(emulator: Emulator | None = None) -> web.Application:
    """An aiohttp application serving every emulated API from `emulator` (a new one if None)."""
    app = web.Application(middlewares=[zoho_middleware], client_max_size=8 * 1024 * 1024)
    app[EMULATOR] = emulator or Emulator()
    oauth.add_routes(app)
    analytics.add_routes(app)
    crm.add_routes(app, crm.CRM)
    crm.add_routes(app, crm.BIGIN)
    creator.add_routes(app)
    app.cleanup_ctx.append(_dispatch_callbacks)
    return app


@dataclass
class RunningEmulator:
    """A live server: where it listens and the in-process handle on its state."""

    base_url: str
    emulator: Emulator
    host: str
    port: int


@contextlib.asynccontextmanager
async def running_emulator(
    config: EmulatorConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    emulator: Emulator | None = None,
) -> AsyncIterator[RunningEmulator]:
    """Serve an emulator on `host:port` (0 = a free port) for the duration of the block."""
    emulator = emulator or Emulator(config)
    runner = web.AppRunner(create_app(emulator), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    try:
        bound = runner.addresses[0][1]
        yield RunningEmulator(f"http://{host}:{bound}", emulator, host, bound)
    finally:
        await runner.cleanup()
