"""CSRF on forms.

A form's CSRF token is an HMAC of the visitor's cookie id, so it needs no server-side
state and works across processes. JSON API routes under ``/api/`` authenticate with a
bearer token instead and are exempt.
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request
from litestar.exceptions import PermissionDeniedException
from promtour.web.request import VISITOR_COOKIE

__all__ = ["csrf_guard"]

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def csrf_guard(request: Request[Any, Any, Any]) -> None:
    """``before_request``: refuse an unsafe browser request without its CSRF token."""
    if request.method not in UNSAFE or request.url.path.startswith("/api/"):
        return
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        # An API client with a token: a browser never adds a bearer header by itself
        # (nor cross-site without CORS), so there is no ambient credential to forge.
        # The route must then authenticate by that token alone.
        return
    platform = request.app.state.platform
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
