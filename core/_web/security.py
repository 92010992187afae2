"""CSRF on forms and security headers on every response.

A form's CSRF token is an HMAC of the visitor's cookie id, so it needs no server-side
state and works across processes. JSON API routes under ``/api/`` authenticate with a
bearer token instead and are exempt; elsewhere a bearer header skips the check only
when it is a valid token (see :func:`csrf_guard`).
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.types import Message, Scope
from promtour._auth import authenticate
from promtour._web.request import VISITOR_COOKIE

__all__ = [
    "CSP",
    "SECURITY_HEADERS",
    "csp_allowing",
    "csp_allowing_style",
    "csrf_guard",
    "security_headers",
]

#: Everything from this origin only. No page has a style attribute or event-handler
#: attribute, and inline blocks only on a new visitor's first page: the tour's
#: stylesheet and script, each allowed by its hash in that response (csp_allowing);
#: tests/test_security_headers.py keeps it so. No nonce is needed; ``data:`` images
#: are the QR codes and icons some pages inline, ``blob:`` media is what a player may
#: build from fetched audio.
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    )
)


def csp_allowing(*, style: str = "", script: str = "") -> str:
    """The CSP with one more ``style-src`` and/or ``script-src`` source: the hashes of
    the inline stylesheet and script a new visitor's first page carries
    (promtour._web.assets). Only these exact blocks run; never ``'unsafe-inline'``."""
    csp = CSP
    if style:
        csp = csp.replace("style-src 'self'", f"style-src 'self' {style}", 1)
    if script:
        csp = csp.replace("script-src 'self'", f"script-src 'self' {script}", 1)
    return csp


def csp_allowing_style(source: str) -> str:
    """The CSP allowing one inline stylesheet by its hash (see :func:`csp_allowing`)."""
    return csp_allowing(style=source)


#: Sent on every response unless the route set its own (media sets a stricter CSP,
#: the career lead form a stricter Referrer-Policy). ``same-origin``: station and
#: group URLs carry codes that must not leak to other sites through the Referer.
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


async def security_headers(message: Message, scope: Scope) -> None:
    """``before_send``: runs for every response the app sends, error pages, 404s of
    unknown paths and static files included (route-level hooks would miss those)."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in SECURITY_HEADERS.items():
        if headers.get(name) is None:
            headers[name] = value


UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def csrf_guard(request: Request[Any, Any, Any]) -> None:
    """``before_request``: refuse an unsafe browser request without its CSRF token."""
    if request.method not in UNSAFE or request.url.path.startswith("/api/"):
        return
    platform = request.app.state.platform
    if await _bearer_authenticated(request):
        # An API client with a valid token: a browser never adds a bearer header by
        # itself (nor cross-site without CORS), so there is no ambient credential to
        # forge, and the routes outside /console/ that accept a bearer header act as
        # its principal (promtour._auth.principal_from_request), not as the cookie's.
        return
    visitor = platform.signer.unsign(request.cookies.get(VISITOR_COOKIE), purpose="visitor")
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.content_type[0] in FORM_TYPES:
        form = await request.form()
        value = form.get("_csrf")
        sent = value if isinstance(value, str) else None
    expected = platform.signer.mac(visitor, purpose="csrf") if visitor else None
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise PermissionDeniedException(
            "This form has expired or did not come from this site. "
            "Go back, reload the page and send it again."
        )


async def _bearer_authenticated(request: Request[Any, Any, Any]) -> bool:
    """True if the request is authenticated by a valid API token, so it needs no CSRF
    token; 401 for a bearer header that is not a valid token (an API client gets the
    same answer the route would give, and the route never runs on the cookie).

    A junk ``Bearer`` header used to skip CSRF while the route acted on the cookie.
    Console pages authenticate by the session cookie alone, so there a bearer header
    never stands in for the CSRF token."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    if request.url.path == "/console" or request.url.path.startswith("/console/"):
        return False
    platform = request.app.state.platform
    for name, info in platform.plugins.infos.items():
        # A plugin's own tokens (PluginInfo.token_prefix), on its own routes only: they
        # authenticate them and never act on a cookie when a bearer header is present.
        prefix = getattr(info, "token_prefix", "")
        if (
            prefix
            and secret.strip().startswith(prefix)
            and request.url.path.startswith(f"/p/{name}/")
        ):
            return True
    if (
        not secret.strip()
        or await authenticate(request.app.state.platform.bus, secret.strip(), None) is None
    ):
        raise NotAuthorizedException("This API token is not valid or was revoked.")
    return True
