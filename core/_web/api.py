"""The visitor JSON API (for kiosks and apps): check in by code, read progress."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody
from promtour._models import Progress
from promtour._web.pages import check_in_by_code
from promtour._web.request import PT

__all__ = ["VisitorApi"]


class CheckInRequest(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class CheckInResponse(msgspec.Struct):
    enterprise: str
    tour: str
    station: str
    repeat: bool
    event_id: str
    progress: Progress


class VisitorApi(Controller):
    path = "/api/v1/visitor"
    tags = ["visitor"]

    @post("/check-ins", summary="Check in at a station with the code from its QR")
    async def check_in(self, pt: PT, data: JSONBody[CheckInRequest]) -> Response[CheckInResponse]:
        state, station, checkin = await check_in_by_code(pt, data.code)
        body = CheckInResponse(
            enterprise=state.tour.enterprise,
            tour=state.tour.id,
            station=station.id,
            repeat=checkin.repeat,
            event_id=checkin.event_id,
            progress=checkin.progress,
        )
        return pt.finish(Response(body, status_code=201))

    @get("/tours/{enterprise:str}/{tour_id:str}/progress", summary="This visitor's progress")
    async def progress(self, pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> Progress:
        state = await pt.tour(enterprise, tour_id)
        progress = await pt._platform.visits.progress(state.tour, pt.visitor)
        return progress or Progress(visitor=pt.visitor, tour=state.tour.key)
