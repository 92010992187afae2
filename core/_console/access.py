"""Who is asking, and may they: bearer tokens for the API, a signed session for pages.

Every console and API route that touches an enterprise's data has ``{enterprise}`` in
its path and runs :func:`enterprise_guard` before anything else (before the body is
even read): a principal of another enterprise gets 404, a role that may not do this
gets 403. The roles a route needs are in its ``opt["roles"]``; a route that forgets
them is admin-only, so a mistake fails closed.

The JSON API under ``/api/`` accepts only ``Authorization: Bearer`` (it is exempt from
CSRF, so it must never accept a cookie); console pages accept only the session cookie.
The cookie holds the token id and the login time, signed with the platform secret;
each request looks the token up again, so a revoked token's sessions end at once.
"""

from __future__ import annotations

import time
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import BaseRouteHandler
from promtour._auth import ANY_ROLE, Principal, principal_for_token_id
from promtour._auth import principal_from_request as api_principal
from promtour._platform import Platform

__all__ = [
    "ADMIN",
    "EDIT",
    "PLUGIN_SESSION_COOKIE",
    "READ",
    "SESSION_COOKIE",
    "SESSION_SECONDS",
    "A",
    "E",
    "R",
    "SignInRequired",
    "api_principal",
    "current_principal",
    "enterprise_guard",
    "principal_of",
    "session_end",
    "session_principal",
    "session_value",
]

SESSION_COOKIE = "pt_console"
#: The same session, sent to plugin pages under ``/p/`` (``pt.require_role``); a cookie
#: of its own name so that no client sees two cookies of one name.
PLUGIN_SESSION_COOKIE = "pt_console_p"
SESSION_SECONDS = 12 * 3600
SESSION_PURPOSE = "console-session"
STATE_KEY = "promtour.principal"

#: Roles per kind of route (admin may do everything; see promtour._auth.Roles).
READ: tuple[str, ...] = (ANY_ROLE,)
EDIT: tuple[str, ...] = ("editor",)
ADMIN: tuple[str, ...] = ("admin",)

#: Route ``opt`` for each kind of route: ``@get("/", opt=R)``.
R: dict[str, object] = {"roles": READ}
E: dict[str, object] = {"roles": EDIT}
A: dict[str, object] = {"roles": ADMIN}


class SignInRequired(NotAuthorizedException):
    """A console page was asked for without a valid session: pages redirect to the login."""


def session_value(platform: Platform, principal: Principal, now: float | None = None) -> str:
    """The signed cookie value of a console session for ``principal``."""
    issued = int(now if now is not None else time.time())
    return platform.signer.sign(f"{principal.token_id}~{issued}", purpose=SESSION_PURPOSE)


async def session_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The principal of the console session cookie, or None (none, expired, revoked)."""
    platform: Platform = connection.app.state.platform
    raw = connection.cookies.get(SESSION_COOKIE) or connection.cookies.get(PLUGIN_SESSION_COOKIE)
    value = platform.signer.unsign(raw, purpose=SESSION_PURPOSE)
    if not value or "~" not in value:
        return None
    token_id, _, issued = value.partition("~")
    if not issued.isdigit() or time.time() - int(issued) > SESSION_SECONDS:
        return None
    return await principal_for_token_id(platform.bus, token_id, platform.roles)


def session_end(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """Why a signed session cookie no longer signs in: ``expired``, ``revoked`` (the
    cookie is genuine and fresh, so the token behind it is gone), or ``""`` (no
    session cookie at all: nothing to explain)."""
    platform: Platform = connection.app.state.platform
    value = platform.signer.unsign(connection.cookies.get(SESSION_COOKIE), purpose=SESSION_PURPOSE)
    if not value or "~" not in value:
        return ""
    issued = value.partition("~")[2]
    if not issued.isdigit() or time.time() - int(issued) > SESSION_SECONDS:
        return "expired"
    return "revoked"


async def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """Bearer token under /api/, the session cookie elsewhere."""
    if connection.url.path.startswith("/api/"):
        return await api_principal(connection)
    principal = await session_principal(connection)
    if principal is None:
        raise SignInRequired("Please sign in with your access token.")
    return principal


async def enterprise_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Litestar guard: the caller must belong to the path's enterprise and hold a role
    from the handler's ``opt["roles"]``."""
    principal = await principal_of(connection)
    enterprise = connection.path_params.get("enterprise")
    if not isinstance(enterprise, str):
        raise RuntimeError(f"{handler} uses enterprise_guard without an {{enterprise}} path")
    roles = handler.opt.get("roles") or ADMIN
    # Known before the role check, so that the no-access page keeps the person's menu.
    connection.scope.setdefault("state", {})[STATE_KEY] = principal  # type: ignore[typeddict-item]
    principal.require(enterprise, *roles)


def current_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The principal the guard checked for this request."""
    principal = connection.scope.get("state", {}).get(STATE_KEY)  # type: ignore[union-attr]
    if not isinstance(principal, Principal):
        raise RuntimeError("no principal: the route is missing enterprise_guard")
    return principal
