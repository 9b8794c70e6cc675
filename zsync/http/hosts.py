"""Zoho's hosts per data centre, and the rule for where a connection's token may be sent."""

from __future__ import annotations

import functools
from typing import NamedTuple
from urllib.parse import urljoin, urlsplit

from zsync.spec.model import Connection


class Hosts(NamedTuple):
    accounts: str  # OAuth
    api: str  # CRM, Bigin, Creator
    analytics: str
    upload: str  # CRM bulk write file upload

    def all(self) -> set[str]:
        return {origin(url) for url in self}


def hosts_for(connection: Connection) -> Hosts:
    """A connection's hosts: Zoho's for its data centre, or all `base_url` when set."""
    if connection.base_url:
        return Hosts(*(connection.base_url,) * 4)
    dc = connection.dc
    return Hosts(
        accounts=f"https://accounts.zoho.{dc}",
        api=f"https://www.zohoapis.{dc}",
        analytics=f"https://analyticsapi.zoho.{dc}",
        upload=f"https://content.zohoapis.{dc}",
    )


@functools.lru_cache(maxsize=4096)
def origin(url: str) -> str:
    """scheme://host[:port] of `url`, lower-cased: what host pinning compares."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def resolve(base: str, url: str) -> str:
    """`url` made absolute against `base` (Zoho hands out relative download URLs)."""
    if url.startswith("/") and not url.startswith("//") and "/." not in url and "\\" not in url:
        # A plain absolute path, the usual case: what urljoin would make of it, without
        # parsing both (a download's URL is resolved once per page of every job).
        return origin(base) + url
    return urljoin(base + "/", url)
