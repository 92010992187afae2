"""Guide access to a tour's group shows: the tour's PIN (a signed cookie) or a token.

A guide types the tour's ``guide_pin`` once; the answer is a signed, HttpOnly cookie
scoped to this tour's guide URLs, valid for a working day. The cookie carries a tag
of the PIN, so changing the PIN logs every guide out. An API client sends an
enterprise token (``Authorization: Bearer``) with the role guide, editor or admin;
a request that carries a token is judged by the token alone.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from litestar import Response
from litestar.exceptions import PermissionDeniedException
from promtour.auth import principal_from_request
from promtour.models import Tour
from promtour.web.request import RequestContext
from promtour.web.security import RateLimiter

__all__ = [
    "GUIDE_COOKIE",
    "check_pin",
    "guide_path",
    "is_guide",
    "logout",
    "remember_guide",
    "require_guide",
]

GUIDE_COOKIE = "pt_ag_guide"
GUIDE_HOURS = 12
_PURPOSE = "audio_guide.guide"

#: Wrong PINs: a few per phone and a bound per tour, so a 4-digit PIN is not guessed.
_per_visitor = RateLimiter(limit=5, window=60.0)
_per_tour = RateLimiter(limit=30, window=60.0)


def guide_path(tour: Tour) -> str:
    """The URL prefix the guide cookie is sent to."""
    return f"/p/audio_guide/{tour.enterprise}/{tour.id}/guide"


def _pin_tag(pt: RequestContext, tour: Tour) -> str:
    return pt.platform.signer.mac(tour.guide_pin, purpose="audio_guide.pin")[:12]


def _cookie_ok(pt: RequestContext, tour: Tour) -> bool:
    if not tour.guide_pin:
        return False
    value = pt.platform.signer.unsign(pt.request.cookies.get(GUIDE_COOKIE), purpose=_PURPOSE)
    if value is None:
        return False
    parts = value.split(":")
    if len(parts) != 4:
        return False
    tour_key, tag, expires, _ = parts
    return (
        tour_key == tour.key
        and hmac.compare_digest(tag, _pin_tag(pt, tour))
        and expires.isdigit()
        and int(expires) > time.time()
    )


async def is_guide(pt: RequestContext, tour: Tour) -> bool:
    """True for a guide; a bad token is an error (401/403/404), not a fallback."""
    if pt.request.headers.get("authorization"):
        principal = await principal_from_request(pt.request)
        principal.require(tour.enterprise, "guide")
        return True
    return _cookie_ok(pt, tour)


async def require_guide(pt: RequestContext, tour: Tour) -> None:
    if not await is_guide(pt, tour):
        raise PermissionDeniedException(
            pt._(
                "Only the tour's guide can do this: open the guide console and enter the "
                "guide PIN, or send a guide token."
            )
        )


def check_pin(pt: RequestContext, tour: Tour, pin: str) -> str | None:
    """None if ``pin`` is the tour's PIN, else the reason to show."""
    if not tour.guide_pin:
        return "This tour has no guide PIN. Ask the tour manager to set one."
    if not _per_visitor.allow(pt.visitor) or not _per_tour.allow(tour.key):
        return "Too many attempts. Wait a minute, then try again."
    if not hmac.compare_digest(pin.strip().encode(), tour.guide_pin.encode()):
        return "This PIN is not right."
    return None


def remember_guide(pt: RequestContext, tour: Tour, response: Response[Any]) -> Response[Any]:
    expires = int(time.time()) + GUIDE_HOURS * 3600
    value = f"{tour.key}:{_pin_tag(pt, tour)}:{expires}:{pt.visitor[:8]}"
    response.set_cookie(
        GUIDE_COOKIE,
        pt.platform.signer.sign(value, purpose=_PURPOSE),
        max_age=GUIDE_HOURS * 3600,
        path=guide_path(tour),
        httponly=True,
        secure=pt.platform.settings.web.secure_cookies,
        samesite="strict",
    )
    return response


def logout(tour: Tour, response: Response[Any]) -> Response[Any]:
    response.delete_cookie(GUIDE_COOKIE, path=guide_path(tour))
    return response
