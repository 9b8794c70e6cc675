"""The standalone server behind `zsync emulator`: a blocking `serve` that prints a banner."""

from __future__ import annotations

import asyncio
import contextlib
import sys
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
) -> None:
    """Serve until `stop` is set (or forever); see `serve`."""
    async with running_emulator(config, host, port) as running:
        if print_banner:
            print(banner(running.emulator, running.base_url), file=out, flush=True)
        await (stop or asyncio.Event()).wait()


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    config: EmulatorConfig | None = None,
    print_banner: bool = True,
    out: TextIO = sys.stdout,
) -> None:
    """Run the emulator in the foreground until interrupted (Ctrl-C returns normally).

    `port=0` picks a free port (the banner says which). The banner lists the base URL, demo
    organisation ids, the Analytics workspace, Creator owner/app and the OAuth client
    (id, secret, refresh token) a client needs. Blocks the calling thread: run it in its own
    thread, or use `running_emulator` from async code.
    """
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_async(host, port, config, print_banner, out))
