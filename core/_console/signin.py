"""Signing in and out of the console with an access token.

The session is a signed HttpOnly cookie holding the token id (see
:mod:`promtour._console.access`). A session that ended is sent back to this page with
the reason: the token was revoked, or the session is older than its 12 hours.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from promtour._auth import authenticate
from promtour._console.access import (
    PLUGIN_SESSION_COOKIE,
    SESSION_COOKIE,
    SESSION_SECONDS,
    session_end,
    session_principal,
    session_value,
)
from promtour._console.ui import Console
from promtour._limits import RateLimit

__all__ = ["LOGIN_LIMIT", "SignInPages", "no_access", "safe_next", "sign_in_redirect"]

#: Why a session ended, shown on the sign-in page (``?why=``).
WHY = {
    "revoked": "Your access token was revoked by an administrator: ask them for a new one.",
    "expired": "Your session ended after 12 hours: sign in again.",
}

#: Sign-in attempts per browser and per address (a staff room shares one address).
LOGIN_LIMIT = RateLimit(name="console-login", per_visitor=10, per_address=60, window=60.0)

#: The session cookies and where they are sent: the console, and plugin pages (an
#: admin's page of a plugin checks it with pt.require_role); visitor pages never get it.
SESSION_COOKIES = ((SESSION_COOKIE, "/console"), (PLUGIN_SESSION_COOKIE, "/p/"))


def safe_next(value: str | None) -> str | None:
    """A console page or a plugin's staff page (``/p/``) to return to after sign-in;
    never another site."""
    if value and value.startswith(("/console/", "/p/")) and "\\" not in value:
        return value
    return None


class SignInPages(Controller):
    path = "/console"
    include_in_schema = False

    @get("/")
    async def home(self, request: Request[Any, Any, Any]) -> Response[Any]:
        c = Console(request)
        principal = await session_principal(request)
        if principal is None:
            return c.redirect("/console/login")
        return c.redirect(f"/console/{principal.enterprise}")

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any]) -> Response[str]:
        c = Console(request)
        return await c.page(
            "console/login.html",
            title=c._("Sign in"),
            next=safe_next(request.query_params.get("next")),
            why=c._(WHY[why]) if (why := request.query_params.get("why") or "") in WHY else "",
        )

    @post("/login")
    async def login(self, request: Request[Any, Any, Any]) -> Response[Any]:
        c = Console(request)
        # Tokens are long random secrets; the limit stops a flood, not a guess.
        c.pt.limit(LOGIN_LIMIT)
        form = await c.form()
        principal = await authenticate(c.platform.bus, form.get("token").strip(), c.platform.roles)
        if principal is None:
            return await c.page(
                "console/login.html",
                status=401,
                title=c._("Sign in"),
                next=safe_next(form.get("next")),
                error=c._("This access token is not valid or was revoked."),
                error_prefix="",
            )
        target = safe_next(form.get("next")) or f"/console/{principal.enterprise}"
        # Another enterprise's console page would only answer 404; a plugin's staff
        # page (/p/) checks the enterprise itself.
        own = target == f"/console/{principal.enterprise}" or target.startswith(
            (f"/console/{principal.enterprise}/", "/p/")
        )
        if not own:
            target = f"/console/{principal.enterprise}"
        response = c.redirect(target)
        value = session_value(c.platform, principal)
        for name, path in SESSION_COOKIES:
            response.set_cookie(
                name,
                value,
                max_age=SESSION_SECONDS,
                path=path,
                httponly=True,
                secure=c.platform.settings.web.secure_cookies,
                samesite="lax",
            )
        return response

    @post("/logout")
    async def logout(self, request: Request[Any, Any, Any]) -> Response[Any]:
        response = Console(request).redirect("/console/login")
        for name, path in SESSION_COOKIES:
            response.delete_cookie(name, path=path)
        return response


def sign_in_redirect(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Exception handler: a console page without a session goes to the sign-in form."""
    target = "/console/login?next=" + quote(request.url.path, safe="/")
    why = session_end(request)
    if why:
        target += f"&why={why}"
    return Console(request).redirect(target)


def no_access(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Exception handler: a console page the person's role may not open. The page keeps
    their menu (which shows only what they may do) and says so in their language."""
    c = Console(request)
    role = c.role_title(c.principal.role) if c.principal else ""
    html = c.render("console/denied.html", title=c._("No access"), role=role)
    return Response(html, status_code=403, media_type="text/html")
