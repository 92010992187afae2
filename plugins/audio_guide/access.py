"""Guide access to a tour's group shows: the tour's PIN (a signed cookie) or a token.

Staff signed in to the console with the guide role (or editor, admin) open it without
a PIN. Otherwise a guide types the tour's ``guide_pin`` once; the answer is a signed,
HttpOnly cookie scoped to this tour's guide URLs, valid for a working day. The cookie carries a tag
of the PIN, so changing the PIN logs every guide out. An API client sends an
enterprise token (``Authorization: Bearer``) with the role guide, editor or admin;
a request that carries a token is judged by the token alone.

PIN attempts are limited per visitor and per client address, never per tour: a
stranger who guesses from many fresh cookies is stopped by the address limits, and
a guide on another phone network (or with a guide token) still signs in. The limits
grow with persistence (a minute, an hour, a day): from one address at most 10 tries
a minute, 30 an hour and 100 a day, so a 4-digit PIN lasts about 50 days on average
against one address and a 6-digit PIN about 14 years.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from litestar import Response
from litestar.exceptions import HTTPException, PermissionDeniedException
from promtour.plugin import RateLimit, RequestContext, RoleSpec, Tour

from .config import AudioGuideConfig

__all__ = [
    "GUIDE_COOKIE",
    "GUIDE_ROLE",
    "PIN_LIMITS",
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

#: Staff who may open group shows and fire cues; editors may too.
GUIDE_ROLE = RoleSpec(
    name="guide", title={"ru": "Экскурсовод", "en": "Guide"}, granted_to=("editor",)
)

#: PIN attempts: a few per phone, and a growing back-off per client address.
PIN_LIMITS = (
    RateLimit(name="audio_guide.pin", per_visitor=5, per_address=10, window=60.0),
    RateLimit(name="audio_guide.pin.hour", per_address=30, window=3600.0),
    RateLimit(name="audio_guide.pin.day", per_address=100, window=86400.0),
)


def guide_path(tour: Tour) -> str:
    """The URL prefix the guide cookie is sent to."""
    return f"/p/audio_guide/{tour.enterprise}/{tour.id}/guide"


def _pin_tag(pt: RequestContext, config: AudioGuideConfig) -> str:
    return pt.mac(config.guide_pin, purpose="audio_guide.pin")[:12]


def _cookie_ok(pt: RequestContext, tour: Tour, config: AudioGuideConfig) -> bool:
    if not config.guide_pin:
        return False
    value = pt.unsign(pt.request.cookies.get(GUIDE_COOKIE), purpose=_PURPOSE)
    if value is None:
        return False
    parts = value.split(":")
    if len(parts) != 4:
        return False
    tour_key, tag, expires, _ = parts
    return (
        tour_key == tour.key
        and hmac.compare_digest(tag, _pin_tag(pt, config))
        and expires.isdigit()
        and int(expires) > time.time()
    )


async def is_guide(pt: RequestContext, tour: Tour, config: AudioGuideConfig) -> bool:
    """True for a guide; a bad token is an error (401/403/404), not a fallback."""
    if pt.request.headers.get("authorization"):
        await pt.require_role(tour.enterprise, GUIDE_ROLE.name)
        return True
    if _cookie_ok(pt, tour, config):
        return True
    # Staff signed in to the console with the guide role need no PIN.
    try:
        await pt.require_role(tour.enterprise, GUIDE_ROLE.name)
    except HTTPException:
        return False
    return True


async def require_guide(pt: RequestContext, tour: Tour, config: AudioGuideConfig) -> None:
    if not await is_guide(pt, tour, config):
        raise PermissionDeniedException(
            pt._(
                "Only the tour's guide can do this: open the guide console and enter the "
                "guide PIN, or send a guide token."
            )
        )


def check_pin(pt: RequestContext, config: AudioGuideConfig, pin: str) -> str | None:
    """None if ``pin`` is the tour's PIN, else the reason to show; 429 (raised) when
    this phone or this address has tried too often."""
    if not config.guide_pin:
        return "This tour has no guide PIN. Ask the tour manager to set one."
    for limit in PIN_LIMITS:
        pt.limit(limit)
    if not hmac.compare_digest(pin.strip().encode(), config.guide_pin.encode()):
        return "This PIN is not right."
    return None


def remember_guide(
    pt: RequestContext, tour: Tour, config: AudioGuideConfig, response: Response[Any]
) -> Response[Any]:
    expires = int(time.time()) + GUIDE_HOURS * 3600
    value = f"{tour.key}:{_pin_tag(pt, config)}:{expires}:{pt.visitor[:8]}"
    response.set_cookie(
        GUIDE_COOKIE,
        pt.sign(value, purpose=_PURPOSE),
        max_age=GUIDE_HOURS * 3600,
        path=guide_path(tour),
        httponly=True,
        secure=pt.secure_cookies,
        samesite="strict",
    )
    return response


def logout(tour: Tour, response: Response[Any]) -> Response[Any]:
    response.delete_cookie(GUIDE_COOKIE, path=guide_path(tour))
    return response
