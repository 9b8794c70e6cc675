"""Which of Zoho's per-minute limits a connection's requests keep to, and who shares them.

Plain functions of the job file, apart from rates.py (which keeps to the limits at run time,
on the event loop): `zsync plan` counts requests against them without importing asyncio.
"""

from __future__ import annotations

from zsync.products import RATE_LIMITS, TOKEN_LIMIT, CallKind, Product, RateLimit
from zsync.spec.model import Connection


def limits_for(connection: Connection, kind: CallKind) -> tuple[RateLimit, ...]:
    """The limits a connection's requests of `kind` keep to: Zoho's documented ones, or the
    job file's own (`limits.requests`), which replace them for that kind."""
    own = connection.limits.for_requests(kind)
    if own is not None:
        calls, per = own
        return (RateLimit(calls, per, "organisation", "the job file's limits.requests"),)
    product: Product = connection.product
    return RATE_LIMITS.get((product, kind), ())


def token_limit(connection: Connection) -> RateLimit | None:
    """How many access tokens the connection's refresh token may be issued in a window: the
    job file's `limits.tokens`, else Zoho's own for Zoho's hosts. A `base_url` (an emulator,
    a proxy) keeps its own count: none is assumed for it."""
    own = connection.limits.for_requests("token")
    if own is not None:
        calls, per = own
        return RateLimit(calls, per, "user", "the job file's limits.tokens")
    return TOKEN_LIMIT if connection.base_url is None else None


def organisation_of(connection: Connection) -> str:
    """Connections reaching the same organisation of the same product share its limits."""
    org = connection.org_id or connection.owner or f"connection:{connection.name}"
    where = connection.base_url or connection.dc
    return f"{connection.product}/{where}/{org}"


def user_of(connection: Connection) -> str:
    # A refresh token belongs to one user; only its digest is kept, never the secret itself.
    import hashlib  # here: only per-user limits need it, and OpenSSL costs `zsync plan` 2 ms

    auth = connection.auth
    return hashlib.sha256(f"{auth.client_id}\0{auth.refresh_token}".encode()).hexdigest()[:16]
