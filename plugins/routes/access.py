"""Who may do what: route operators (their own tokens) and enterprise staff (the core's).

An operator authenticates with ``Authorization: Bearer rto_<id>_<secret>`` or, in a
browser, with the signed cookie its sign-in form sets. An operator's objects are its
routes: another operator's get 404, as another enterprise's objects do in the core.
"""

from __future__ import annotations

from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from promtour.plugin import PT, Principal

from .records import OperatorToken, Route, authenticate_operator

__all__ = ["OPERATOR_COOKIE", "operator_token", "require_operator", "require_staff"]

OPERATOR_COOKIE = "pt_route_op"
COOKIE_PURPOSE = "routes-operator"


async def operator_token(pt: PT) -> OperatorToken | None:
    """The operator token of the request (bearer or sign-in cookie), or None."""
    store = pt.enterprise("").store
    header = pt.request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() == "bearer" and secret.strip().startswith("rto_"):
        token = await authenticate_operator(store, secret.strip())
        if token is None:
            raise NotAuthorizedException("This operator token is not valid or was revoked.")
        return token
    if header:
        return None
    token_id = pt.unsign(pt.request.cookies.get(OPERATOR_COOKIE), purpose=COOKIE_PURPOSE)
    if token_id:
        return await store.get(f"optok.{token_id}", OperatorToken)
    return None


async def require_operator(pt: PT, operator: str) -> OperatorToken:
    """The operator's token: 401 without one, 404 for another operator's objects."""
    token = await operator_token(pt)
    if token is None:
        raise NotAuthorizedException("An operator token or an operator sign-in is required.")
    if token.operator != operator:
        raise NotFoundException("No such object.")
    return token


async def require_staff(pt: PT, route: Route) -> str:
    """Who may redeem the route's rewards: its operator, or a guide or admin of an
    enterprise with an accepted tour on it. Returns ``operator:<id>`` or
    ``enterprise:<id>``."""
    token = await operator_token(pt)
    if token is not None:
        if token.operator != route.operator:
            raise NotFoundException("No such object.")
        return f"operator:{token.operator}"
    principal: Principal = await pt.principal()
    if principal.enterprise not in route.enterprises():
        raise NotFoundException("No such object.")
    if not (principal.can("guide") or principal.can("admin")):
        raise PermissionDeniedException("A guide or an admin may redeem rewards.")
    return f"enterprise:{principal.enterprise}"
