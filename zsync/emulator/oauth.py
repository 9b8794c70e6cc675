"""Zoho Accounts' refresh-token grant and the access tokens every API call must carry.

Model: `TokenStore` issues tokens that expire on the emulated clock and checks them per product
(each product answers a bad token in its own envelope). Handler: `POST /oauth/v2/token`, whose
parameters may come in the form body (CRM SDK) or the query string (Analytics client) [sdk].
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from aiohttp import web

from zsync.emulator.clock import Clock
from zsync.emulator.config import EmulatorConfig
from zsync.emulator.errors import ApiError, analytics_error, creator_error, crm_error
from zsync.emulator.keys import EMULATOR


@dataclass
class Token:
    value: str
    scopes: tuple[str, ...] | None  # None: every scope
    expires_at: float


def scope_covers(granted: str, required: str) -> bool:
    """`ZohoCRM.bulk.ALL` covers `ZohoCRM.bulk.read`; `ZohoCRM.modules.ALL` covers
    `ZohoCRM.modules.leads.READ`; names compare case-insensitively as Zoho's do."""
    g, r = granted.lower(), required.lower()
    if g == r:
        return True
    if g.endswith(".all") and r.startswith(g[:-3]):
        return True
    product = g.split(".", 1)[0]
    return g == f"{product}.fullaccess.all" and r.startswith(product + ".")


class TokenStore:
    def __init__(self, config: EmulatorConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.tokens: dict[str, Token] = {}
        self.refresh_token_valid = True
        self.scopes = config.scopes
        self.issued_at: list[float] = []  # emulated times tokens were issued, oldest first
        self.refused = 0  # token requests refused for the budget

    def within_budget(self) -> bool:
        """Whether another token may be issued now (Zoho's 10 per 10 minutes)."""
        budget = self.config.token_budget
        if budget is None:
            return True
        since = self.clock.now() - self.config.token_window
        self.issued_at = [at for at in self.issued_at if at > since]
        return len(self.issued_at) < budget

    def issue(self) -> Token:
        # Random, not seeded: a token of one emulator must not open another one's doors.
        value = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
        token = Token(value, self.scopes, self.clock.now() + self.config.token_lifetime)
        self.tokens[value] = token
        self.issued_at.append(self.clock.now())
        while len(self.tokens) > self.config.live_tokens:  # the oldest retires
            del self.tokens[next(iter(self.tokens))]
        return token

    def revoke_all(self) -> None:
        """Every access token issued so far stops working; refreshing still works."""
        self.tokens.clear()

    def lookup(self, value: str) -> Token | None:
        token = self.tokens.get(value)
        if token is None or token.expires_at <= self.clock.now():
            return None
        return token

    def authenticate(self, request: web.Request, product: str) -> Token:
        """The request's token, or the product's missing/expired-token error."""
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        schemes = {"zoho-oauthtoken"} | ({"bearer"} if product == "creator" else set())
        if scheme.lower() not in schemes or not value.strip():
            raise _missing(product)
        token = self.lookup(value.strip())
        if token is None:
            raise _expired(product)
        return token

    @staticmethod
    def require_scope(token: Token, product: str, *accepted: str) -> None:
        if token.scopes is None:
            return
        if any(scope_covers(g, r) for g in token.scopes for r in accepted):
            return
        if product == "analytics":
            raise analytics_error(8518, "Invalid OAuth scope to access this URL.")
        if product == "creator":
            raise creator_error(2945)
        raise crm_error("OAUTH_SCOPE_MISMATCH")


def _missing(product: str) -> ApiError:
    if product == "analytics":
        return analytics_error(8518)
    if product == "creator":
        return creator_error(1030)
    return crm_error("AUTHENTICATION_FAILURE")  # [doc?]


def _expired(product: str) -> ApiError:
    if product == "analytics":
        return analytics_error(8535)  # the official client refreshes on exactly this [sdk]
    if product == "creator":
        return creator_error(1030)
    return crm_error("INVALID_TOKEN")


async def token_endpoint(request: web.Request) -> web.Response:
    """`POST /oauth/v2/token`. Bad credentials answer HTTP 200 with {"error": …} [doc?], which
    is what both SDKs handle (they look for `access_token` in the body)."""
    store: TokenStore = request.app[EMULATOR].tokens
    config = store.config
    params = dict(request.query)
    if request.can_read_body:
        form = await request.post()
        params.update({k: str(v) for k, v in form.items()})
    grant = params.get("grant_type")
    if grant != "refresh_token":
        error = "unsupported_grant_type" if grant else "invalid_request"
        return web.json_response({"error": error})
    client = (params.get("client_id"), params.get("client_secret"))
    if client != (config.client_id, config.client_secret):
        return web.json_response({"error": "invalid_client"})
    if params.get("refresh_token") != config.refresh_token or not store.refresh_token_valid:
        return web.json_response({"error": "invalid_code"})
    if not store.within_budget():
        store.refused += 1
        # HTTP 200, like every answer of this endpoint (CRM token-validity page).
        return web.json_response(
            {
                "error": "Access Denied",
                "error_description": "You have made too many requests continuously. "
                "Please try again after some time.",
            }
        )
    token = store.issue()
    scope = (
        " ".join(token.scopes)
        if token.scopes is not None
        else "ZohoCRM.ALL ZohoBigin.ALL ZohoCreator.ALL ZohoAnalytics.fullaccess.all"
    )
    return web.json_response(
        {
            "access_token": token.value,
            "scope": scope,
            # The CRM SDK re-targets itself to api_domain [sdk]: point it back at this server.
            "api_domain": str(request.url.origin()),
            "token_type": "Bearer",
            # Emulated seconds, what Zoho would say; with time_scale the real lifetime is shorter.
            "expires_in": int(config.token_lifetime),
        }
    )


async def revoke_endpoint(request: web.Request) -> web.Response:
    """`POST /oauth/v2/token/revoke?token=…`: a refresh token revokes the grant, an access
    token just itself [doc?]."""
    store: TokenStore = request.app[EMULATOR].tokens
    token = request.query.get("token", "")
    if token == store.config.refresh_token:
        store.refresh_token_valid = False
        store.revoke_all()
    else:
        store.tokens.pop(token, None)
    return web.json_response({"status": "success"})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/oauth/v2/token", token_endpoint, name="oauth.token")
    app.router.add_post("/oauth/v2/token/revoke", revoke_endpoint, name="oauth.revoke")
