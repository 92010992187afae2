"""What every part of the enterprise JSON API shares: the route decorators with the
documented error answers, the platform of a request, and the tour's JSON shapes.

Kept apart from :mod:`promtour._console.api` so that the API's areas (tours, stations,
tokens) live in their own modules without importing each other.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from litestar import Request, delete, get, post, put
from promtour._console.openapi import API_RESPONSES
from promtour._console.schemas import TourOut, TourSummary
from promtour._models import Tour
from promtour._platform import Platform
from promtour._tours import TourState

__all__ = [
    "api_delete",
    "api_get",
    "api_post",
    "api_put",
    "platform_of",
    "poster_base",
    "tour_out",
    "tour_summary",
]

api_get = partial(get, responses=API_RESPONSES)
api_post = partial(post, responses=API_RESPONSES)
api_put = partial(put, responses=API_RESPONSES)
api_delete = partial(delete, responses=API_RESPONSES)


def platform_of(request: Request[Any, Any, Any]) -> Platform:
    return request.app.state.platform  # type: ignore[no-any-return]


def tour_out(state: TourState) -> TourOut:
    tour = state.tour
    return TourOut(
        id=tour.id,
        enterprise=tour.enterprise,
        name=tour.name,
        description=tour.description,
        languages=tour.languages,
        default_language=tour.default_language,
        stations=tour.stations,
        plugins=tour.plugins,
        key_id=tour.keys[-1].kid if tour.keys else "",
        revision=state.revision,
    )


def tour_summary(tour: Tour) -> TourSummary:
    return TourSummary(
        id=tour.id,
        name=tour.name,
        stations=len(tour.stations),
        enabled_stations=len(tour.enabled_stations),
        plugins=sorted(tour.plugins),
        languages=tour.languages,
    )


def poster_base(request: Request[Any, Any, Any]) -> str:
    """The base URL on QR codes: the configured public URL, else this request's."""
    configured = platform_of(request).settings.web.public_url
    return (configured or str(request.base_url)).rstrip("/")
