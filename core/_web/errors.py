"""Friendly errors: an HTML page for people, JSON for the API; never a bare 500."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from promtour._bus import BusUnavailable, Conflict, is_unavailable
from promtour._errors import PromtourError, TokenError
from promtour._models import Tour
from promtour._tokens import parse_station_code
from promtour._web.request import RequestContext

__all__ = ["exception_handlers"]

log = logging.getLogger("promtour._web")

TITLES = {
    # Words a visitor uses, not HTTP's: most 400s and 404s here are a poster's code.
    400: "This link did not work",
    401: "Please sign in",
    403: "Not allowed",
    404: "There is nothing here",
    405: "Not allowed",
    410: "Closed",
    413: "Too large",
    429: "Too many requests",
    503: "Please try again",
}


def _respond(request: Request[Any, Any, Any], status: int, message: str) -> Response[Any]:
    if (
        request.url.path.startswith(("/api/", "/schema"))
        or "application/json" in (request.headers.get("accept") or "").split(",")[0]
    ):
        return Response({"status_code": status, "detail": message}, status_code=status)
    platform = request.app.state.platform
    pt = RequestContext(platform, request)
    # In the tour's language and frame, with a way back to it, when the URL names a tour.
    tour = _tour_of(platform, request.url.path)
    pt.lang_for(tour)
    title = pt._(TITLES.get(status, "Something went wrong"))
    text = pt._(message)
    response = pt.page(
        "error.html",
        status=status,
        code=status,
        tour=tour,
        title=title,
        message=text[:1].upper() + text[1:],
    )
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response


def _tour_of(platform: Any, path: str) -> Tour | None:
    parts = path.strip("/").split("/")
    key = None
    if len(parts) >= 3 and parts[0] == "t":
        key = f"{parts[1]}.{parts[2]}"
    elif len(parts) == 2 and parts[0] == "s":
        try:
            key = parse_station_code(parts[1]).tour_key
        except TokenError:
            # A truncated or mistyped code still names its tour in front: the page
            # can then offer typing the station number instead.
            front = parts[1].split(".")
            key = f"{front[0]}.{front[1]}" if len(front) >= 2 else None
    state = platform.tours.cached(key) if key else None
    return state.tour if state is not None else None


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    detail = exc.detail
    if exc.status_code == 400 and getattr(exc, "extra", None):
        detail = f"{detail}: {exc.extra}"
    return _respond(request, exc.status_code, str(detail))


def bus_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.warning("NATS unavailable during %s: %s", request.url.path, exc)
    return _respond(
        request,
        503,
        "The tour service is briefly unavailable. Nothing was lost: "
        "please try again in a few seconds.",
    )


def bad_input(request: Request[Any, Any, Any], exc: PromtourError) -> Response[Any]:
    return _respond(request, 400, str(exc))


def unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if is_unavailable(exc):  # a NATS call that no BusUnavailable wrapped (a plugin's)
        return bus_unavailable(request, exc)
    log.exception("unexpected error on %s", request.url.path)
    return _respond(request, 500, "Something went wrong on our side. Please try again.")


exception_handlers: dict[type[Exception] | int, Any] = {
    HTTPException: http_error,
    BusUnavailable: bus_unavailable,
    Conflict: bus_unavailable,
    PromtourError: bad_input,
    Exception: unexpected,
}
