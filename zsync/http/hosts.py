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


# Zoho's hosts per data centre. Sources: the CRM SDK's data-centre classes (zohocrmsdk8-0,
# `com/zoho/crm/api/dc/*_data_center.py`: accounts, API and upload hosts of com, eu, in,
# com.au, jp, com.cn, ca, sa; tests/http/test_hosts.py compares them), Zoho's OAuth multi-DC
# page (zoho.com/accounts/protocol/oauth/multi-dc.html) and the Analytics v2 API
# specification (analyticsapi.<domain>; Canada's accounts and Analytics live on
# zohocloud.ca, its API on zohoapis.ca). uk follows the pattern of the others [doc?].
DATA_CENTRES: dict[str, Hosts] = {
    "com": Hosts(
        "https://accounts.zoho.com",
        "https://www.zohoapis.com",
        "https://analyticsapi.zoho.com",
        "https://content.zohoapis.com",
    ),
    "eu": Hosts(
        "https://accounts.zoho.eu",
        "https://www.zohoapis.eu",
        "https://analyticsapi.zoho.eu",
        "https://content.zohoapis.eu",
    ),
    "in": Hosts(
        "https://accounts.zoho.in",
        "https://www.zohoapis.in",
        "https://analyticsapi.zoho.in",
        "https://content.zohoapis.in",
    ),
    "com.au": Hosts(
        "https://accounts.zoho.com.au",
        "https://www.zohoapis.com.au",
        "https://analyticsapi.zoho.com.au",
        "https://content.zohoapis.com.au",
    ),
    "jp": Hosts(
        "https://accounts.zoho.jp",
        "https://www.zohoapis.jp",
        "https://analyticsapi.zoho.jp",
        "https://content.zohoapis.jp",
    ),
    "com.cn": Hosts(
        "https://accounts.zoho.com.cn",
        "https://www.zohoapis.com.cn",
        "https://analyticsapi.zoho.com.cn",
        "https://content.zohoapis.com.cn",
    ),
    "ca": Hosts(
        "https://accounts.zohocloud.ca",
        "https://www.zohoapis.ca",
        "https://analyticsapi.zohocloud.ca",
        "https://upload.zohocloud.ca",
    ),
    "sa": Hosts(
        "https://accounts.zoho.sa",
        "https://www.zohoapis.sa",
        "https://analyticsapi.zoho.sa",
        "https://files.zoho.sa",
    ),
    "uk": Hosts(
        "https://accounts.zoho.uk",
        "https://www.zohoapis.uk",
        "https://analyticsapi.zoho.uk",
        "https://content.zohoapis.uk",
    ),
}


def hosts_for(connection: Connection) -> Hosts:
    """A connection's hosts: Zoho's for its data centre, or all `base_url` when set."""
    if connection.base_url:
        return Hosts(*(connection.base_url,) * 4)
    known = DATA_CENTRES.get(connection.dc)
    if known is not None:
        return known
    # Only a plan of a file whose ${DC} is unset gets here (the schema allows the table's
    # keys): show the common pattern rather than fail.
    dc = connection.dc
    return Hosts(
        f"https://accounts.zoho.{dc}",
        f"https://www.zohoapis.{dc}",
        f"https://analyticsapi.zoho.{dc}",
        f"https://content.zohoapis.{dc}",
    )


def data_centre_of(api_domain: str) -> str | None:
    """The data centre whose API host is `api_domain` (a token reply's), if zsync knows it."""
    wanted = origin(api_domain)
    return next((dc for dc, hosts in DATA_CENTRES.items() if origin(hosts.api) == wanted), None)


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
