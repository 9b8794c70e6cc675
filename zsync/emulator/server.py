"""The standalone server behind `zsync emulator`: a blocking `serve` that prints a banner."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from zsync.emulator.app import running_emulator
from zsync.emulator.config import EmulatorConfig
from zsync.emulator.emulator import Emulator


def banner(emulator: Emulator, base_url: str) -> str:
    demo = emulator.demo(base_url)
    return "\n".join(
        [
            f"zsync emulator listening on {base_url}",
            f"  OAuth token URL      {base_url}/oauth/v2/token",
            f"  client id            {demo['client_id']}",
            f"  client secret        {demo['client_secret']}",
            f"  refresh token        {demo['refresh_token']}",
            f"  CRM org id           {demo['crm_org_id']} (X-CRM-ORG {demo['crm_zgid']})",
            f"  Bigin org id         {demo['bigin_org_id']}",
            f"  Analytics org id     {demo['analytics_org_id']} (ZANALYTICS-ORGID)",
            f"  Analytics workspace  {demo['analytics_workspace_id']}",
            f"  Creator owner/app    {demo['creator_owner']}/{demo['creator_app']}",
            f"  time scale           x{emulator.config.time_scale:g}",
        ]
    )


async def serve_async(
    host: str = "127.0.0.1",
    port: int = 8765,
    config: EmulatorConfig | None = None,
    print_banner: bool = True,
    out: TextIO = sys.stdout,
    stop: asyncio.Event | None = None,
) -> signal.Signals | None:
    """Serve until `stop` is set, or SIGINT or SIGTERM comes (in the main thread); returns
    the signal that stopped it, if one did. See `serve`."""
    stop = stop or asyncio.Event()
    caught: list[signal.Signals] = []
    loop = asyncio.get_running_loop()
    taken: list[signal.Signals] = []
    if threading.current_thread() is threading.main_thread():
        # The loop takes the signals: a Python-level handler raising mid-write would be
        # swallowed by the server's transport, and the process would never stop.
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, _stopper(signum, caught, stop))
                taken.append(signum)
    try:
        async with running_emulator(config, host, port) as running:
            if print_banner:
                print(banner(running.emulator, running.base_url), file=out, flush=True)
            await stop.wait()
    finally:
        for signum in taken:
            loop.remove_signal_handler(signum)
    return caught[0] if caught else None


def _stopper(
    signum: signal.Signals, caught: list[signal.Signals], stop: asyncio.Event
) -> Callable[[], None]:
    def stopped() -> None:
        caught.append(signum)
        stop.set()

    return stopped


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    config: EmulatorConfig | None = None,
    print_banner: bool = True,
    out: TextIO = sys.stdout,
) -> signal.Signals | None:
    """Run the emulator in the foreground until interrupted; returns the signal (SIGINT,
    SIGTERM) that stopped it.

    `port=0` picks a free port (the banner says which). The banner lists the base URL, demo
    organisation ids, the Analytics workspace, Creator owner/app and the OAuth client
    (id, secret, refresh token) a client needs. Blocks the calling thread: run it in its own
    thread, or use `running_emulator` from async code.
    """
    try:
        return asyncio.run(serve_async(host, port, config, print_banner, out))
    except KeyboardInterrupt:  # outside the main thread, or before the loop took the signal
        return signal.SIGINT
