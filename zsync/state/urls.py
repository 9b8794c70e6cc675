"""State store URLs (`postgresql://user:password@host/db`): which backend, and how to name one
in a message without its password. Imports nothing heavy: the CLI reads these before it knows
whether a PostgreSQL driver is needed at all."""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping

from zsync import redact
from zsync.errors import UsageError

# Read by run, status and runs: a shared state store in place of the state directory's file.
STATE_URL_VARIABLE = "ZSYNC_STATE_URL"
POSTGRES_SCHEMES = ("postgresql", "postgres")
# Query parameters of a libpq URL that may carry a secret.
_SECRET_PARAMETERS = frozenset({"password", "sslpassword"})


def state_url_from(configured: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """The state store URL to use: ZSYNC_STATE_URL when set (operators override what a job
    file says), else the job file's `defaults.state`; None for the SQLite file."""
    env = os.environ if env is None else env
    url = env.get(STATE_URL_VARIABLE) or configured
    if url:
        redact.add(*secrets_of(url))  # before anything can print it
        check_state_url(url)
    return url or None


def check_state_url(url: str) -> None:
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme not in POSTGRES_SCHEMES:
        raise UsageError(
            f"the state store URL {described(url)} isn't one zsync knows: give a "
            "postgresql:// URL (with the user, password, host, port and database), or none for "
            "the SQLite file in the state directory"
        )


def secrets_of(url: str) -> list[str]:
    """The password (and any other secret) a URL holds, to register with zsync.redact."""
    parts = urllib.parse.urlsplit(url)
    found = []
    try:
        if parts.password:
            found += [parts.password, urllib.parse.unquote(parts.password)]
    except ValueError:  # a port that isn't a number: no password to find either
        pass
    for name, value in urllib.parse.parse_qsl(parts.query):
        if name in _SECRET_PARAMETERS and value:
            found.append(value)
    return found


def described(url: str) -> str:
    """`url` as messages show it: no password, in the userinfo or the query."""
    try:
        parts = urllib.parse.urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hostport = netloc.rpartition("@")
            user = userinfo.partition(":")[0]
            netloc = f"{user}@{hostport}" if user else hostport
        query = "&".join(
            f"{name}={value if name not in _SECRET_PARAMETERS else '***'}"
            for name, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        )
        return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    except ValueError:
        return "(a state store URL that doesn't parse)"
