"""The pollers zsync is measured against: a hand-written script that checks an Analytics
export job every N seconds (the docs' own pattern is every 10 s), `workers` jobs at a time."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp

from bench.emulated import Emulator


async def fixed_interval(zoho: Emulator, view: str, jobs: int, workers: int, every: float) -> float:
    """Seconds to export `view` `jobs` times, checking each job every `every` seconds."""
    async with aiohttp.ClientSession() as http:
        token = await _token(http, zoho)
        headers = {
            "Authorization": f"Zoho-oauthtoken {token}",
            "ZANALYTICS-ORGID": zoho.ids["analytics_org_id"],
        }
        workspace = zoho.ids["analytics_workspace_id"]
        base = f"{zoho.base_url}/restapi/v2"
        async with http.get(f"{base}/workspaces/{workspace}/views", headers=headers) as reply:
            views = (await reply.json())["data"]["views"]
        view_id = next(v["viewId"] for v in views if v["viewName"] == view)
        bulk = f"{base}/bulk/workspaces/{workspace}"
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(jobs):
            queue.put_nowait(n)

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                config = json.dumps({"responseFormat": "csv"})
                url = f"{bulk}/views/{view_id}/data"
                async with http.get(url, params={"CONFIG": config}, headers=headers) as reply:
                    job = (await reply.json())["data"]["jobId"]
                while True:
                    await asyncio.sleep(every)
                    async with http.get(f"{bulk}/exportjobs/{job}", headers=headers) as reply:
                        code = (await reply.json())["data"]["jobCode"]
                    if str(code) == "1004":
                        break
                async with http.get(f"{bulk}/exportjobs/{job}/data", headers=headers) as reply:
                    await reply.read()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(workers)))
        return time.perf_counter() - started


async def _token(http: aiohttp.ClientSession, zoho: Emulator) -> Any:
    form = {"grant_type": "refresh_token", **zoho.auth}
    async with http.post(f"{zoho.base_url}/oauth/v2/token", data=form) as reply:
        return (await reply.json())["access_token"]


def fixed(zoho: Emulator, view: str, jobs: int, workers: int, every: float) -> float:
    return asyncio.run(fixed_interval(zoho, view, jobs, workers, every))
