"""The pupils' join link and their message feed."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from litestar.response import ServerSentEvent
from promtour.plugin import (
    PT,
    Event,
    SseMessage,
    event_stream,
    subject_for,
)

from ..events import GroupBroadcast

__all__ = ["join_page", "messages"]


@get("/t/{enterprise:str}/{tour_id:str}/join/{code:str}")
async def join_page(
    pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], code: FromPath[str]
) -> Response[Any]:
    """Where the group's QR code leads: one tap joins the group."""
    state = await pt.tour(enterprise, tour_id)
    progress = await pt.context(state).progress()
    if progress is not None and progress.group == code.upper():
        # Joined (the core's group form comes back here): on to the tour.
        return pt.redirect(f"/t/{enterprise}/{tour_id}")
    return pt.page(
        "visits/join.html",
        tour=state.tour,
        title=pt._("Join your group"),
        code=code.upper()[:16],
        action=f"/t/{enterprise}/{tour_id}/group",
    )


@get("/t/{enterprise:str}/{tour_id:str}/messages")
async def messages(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> ServerSentEvent:
    """The leader's broadcasts to the visitor's group, live."""
    state = await pt.tour(enterprise, tour_id)
    progress = await pt.context(state).progress()
    group = progress.group if progress else None
    if not group:
        raise HTTPException(status_code=404, detail=pt._("Join a group first."))

    def to_message(seq: int, event: Event) -> SseMessage | None:
        if event.group != group or not isinstance(event, GroupBroadcast):
            return None
        return SseMessage(event="broadcast", data={"message": event.message})

    return event_stream(pt, subject_for(enterprise, tour_id, "visits_group_broadcast"), to_message)
