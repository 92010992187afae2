"""Visitor pages: the scan, the station, the tour's start and finish, groups."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from promtour._errors import TokenError
from promtour._models import Station
from promtour._tokens import parse_station_code, verify_station
from promtour._tours import TourState
from promtour._web.panels import collect_panels, page_context_for
from promtour._web.request import PT, RequestContext
from promtour._web.station_frame import station_html

__all__ = ["VisitorPages", "check_group", "check_in_by_code"]

GROUP_CODE = r"^[A-Za-z0-9-]{2,16}$"


class GroupForm(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(pattern=GROUP_CODE)]
    _csrf: str = ""


async def check_in_by_code(pt: RequestContext, code: str) -> tuple[TourState, Station, Any]:
    """Verify a station code and record the check-in; 4xx with a reason if it fails."""
    platform = pt._platform
    try:
        parsed = parse_station_code(code)
    except TokenError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    state = await platform.tours.get(parsed.tour_key)
    if state is None:
        raise NotFoundException("This code belongs to no tour here.")
    try:
        verify_station(state.tour, parsed)
    except TokenError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    station = state.tour.station(parsed.station)
    if station is None:
        raise NotFoundException("This station is no longer part of the tour.")
    return state, station, await _check_in(pt, state, station, "qr")


async def check_group(pt: RequestContext, state: TourState, code: str) -> str | None:
    """A plugin's reason to refuse the group ``code`` on this tour (its message for
    the visitor), or None when every enabled plugin accepts it."""
    platform = pt._platform
    progress = await platform.visits.progress(state.tour, pt.visitor)
    outcomes = await platform.plugins.call_each(
        "promtour_check_group",
        state.configs,
        timeout=platform.settings.plugin_timeout,
        kwargs_for=lambda plugin: {
            "page": page_context_for(pt, plugin, state, progress),
            "code": code,
        },
    )
    for outcome in sorted(outcomes, key=lambda o: o.plugin):
        if outcome.error is not None:
            # Cannot tell whether the code is valid: refuse rather than count pupils
            # into a group that may not exist.
            return platform.translations.translator(pt.lang_for(state.tour))(
                "This part of the page is not available right now."
            )
        if isinstance(outcome.result, str) and outcome.result:
            return outcome.result
    return None


async def _check_in(pt: RequestContext, state: TourState, station: Station, method: str) -> Any:
    if not station.enabled:
        raise HTTPException(
            status_code=410, detail="This station is closed today. Please go on to the next one."
        )
    pt.limit(pt._platform.scan_limit)
    # A check-in queued offline and replayed: its original time and action id.
    action = pt.replayed_action
    return await pt._platform.visits.check_in(
        state,
        station,
        pt.visitor,
        lang=pt.lang_for(state.tour),
        method=method,
        time=pt.action_time if action else None,
        action=action,
    )


async def station_page(
    pt: RequestContext, state: TourState, station: Station, progress: Any, *, saved: bool = False
) -> Response[str]:
    panels = await collect_panels(pt, "promtour_station_panels", state, progress, station)
    tour = state.tour
    # The language switch must not re-scan: it links to the station's own page.
    path = f"/t/{tour.enterprise}/{tour.id}/at/{station.id}"
    html = pt.page_html(
        lambda: station_html(pt, state, station, progress, panels, saved=saved, path=path)
    )
    if html is not None:
        response: Response[str] = pt.finish(Response(html, media_type="text/html"))
    else:
        response = pt.page(
            "station.html",
            tour=tour,
            station=station,
            progress=progress,
            panels=panels,
            # A copy saved for offline use: the service worker shows its offline notice.
            saved=saved,
            path=path,
        )
    if saved and any(p.failed for p in panels):
        # A copy to keep for offline use must be whole: the phone tries again.
        response.status_code = 503
        response.headers["Retry-After"] = "2"
    return response


async def _visit(pt: RequestContext, enterprise: str, tour_id: str) -> tuple[TourState, Any]:
    """The tour of the path and this visitor's progress on it (None before a first scan)."""
    state = await pt.tour(enterprise, tour_id)
    return state, await pt._platform.visits.progress(state.tour, pt.visitor)


async def _tour_page(
    pt: RequestContext, state: TourState, progress: Any, hook: str, template: str
) -> Response[str]:
    """The tour's start or finish page with the plugins' panels of ``hook``."""
    panels = await collect_panels(pt, hook, state, progress)
    return pt.page(template, tour=state.tour, progress=progress, panels=panels)


class VisitorPages(Controller):
    include_in_schema = False

    @get("/")
    async def index(self, pt: PT) -> Response[str]:
        # Unlisted tours are reached by their link and posters only.
        listed = [s.tour for s in pt._platform.tours.all() if s.tour.visibility == "listed"]
        return pt.page("index.html", tours=listed)

    @get("/s/{code:str}")
    async def scan(self, pt: PT, code: FromPath[str]) -> Response[str]:
        state, station, checkin = await check_in_by_code(pt, code)
        return await station_page(pt, state, station, checkin.progress)

    @get("/t/{enterprise:str}/{tour_id:str}")
    async def start(
        self, pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]
    ) -> Response[str]:
        state, progress = await _visit(pt, enterprise, tour_id)
        return await _tour_page(pt, state, progress, "promtour_start_panels", "start.html")

    @get("/t/{enterprise:str}/{tour_id:str}/go")
    async def go(
        self,
        pt: PT,
        enterprise: FromPath[str],
        tour_id: FromPath[str],
        number: Annotated[str, QueryParameter(name="n")] = "",
    ) -> Response[Any]:
        """The station number typed in when the camera fails."""
        state = await pt.tour(enterprise, tour_id)
        typed = number.strip()
        # isdecimal, not isdigit: "²" is a digit that int() refuses; the length keeps
        # int() away from its 4300-digit limit.
        station = (
            state.tour.station_by_number(int(typed))
            if typed.isdecimal() and len(typed) <= 6
            else None
        )
        if station is None:
            raise HTTPException(
                status_code=404,
                detail="There is no station with this number on the tour. "
                "Check the number under the QR code.",
            )
        await _check_in(pt, state, station, "number")
        return pt.redirect(f"/t/{enterprise}/{tour_id}/at/{station.id}")

    @get("/t/{enterprise:str}/{tour_id:str}/at/{station_id:str}")
    async def station(
        self, pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], station_id: FromPath[str]
    ) -> Response[str]:
        state = await pt.tour(enterprise, tour_id)
        station = state.tour.station(station_id)
        if station is None:
            raise NotFoundException("There is no such station.")
        progress = await pt._platform.visits.progress(state.tour, pt.visitor)
        if progress is None or station_id not in progress.visited:
            raise PermissionDeniedException(
                "Scan this station's QR code (or type its number) to open it."
            )
        return await station_page(pt, state, station, progress)

    @get("/t/{enterprise:str}/{tour_id:str}/finish")
    async def finish(
        self, pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]
    ) -> Response[str]:
        state, progress = await _visit(pt, enterprise, tour_id)
        if progress is not None:
            await pt._platform.visits.finish(state, progress)
        return await _tour_page(pt, state, progress, "promtour_finish_panels", "finish.html")

    @post("/t/{enterprise:str}/{tour_id:str}/group")
    async def join_group(
        self,
        pt: PT,
        request: Request[Any, Any, Any],
        enterprise: FromPath[str],
        tour_id: FromPath[str],
        data: URLEncodedBody[GroupForm],
    ) -> Response[Any]:
        state = await pt.tour(enterprise, tour_id)
        code = data.code.upper()
        refusal = await check_group(pt, state, code)
        if refusal is not None:
            raise HTTPException(status_code=400, detail=refusal)
        await pt._platform.visits.join_group(state, pt.visitor, code)
        # Back to the page the form was on; only a path, so never off this site.
        back = urlsplit(request.headers.get("referer") or "").path or f"/t/{enterprise}/{tour_id}"
        return pt.redirect(back)
