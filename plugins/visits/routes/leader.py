"""The group leader's private page: the live view, broadcast, cancel, erase, the class
report."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
from litestar import Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import ServerSentEvent
from promtour.plugin import (
    PT,
    Event,
    PluginContext,
    RateLimit,
    RequestContext,
    SseMessage,
    TourState,
    event_stream,
    qr_svg,
    subject_for,
    utcnow,
)

from .. import service
from ..config import VisitsConfig
from ..events import GroupBroadcast
from ..records import Booking, Contact
from ..stats import GroupStats, apply, live_summary, profession_titles, report

__all__ = [
    "broadcast",
    "cancel",
    "class_report",
    "erase_contact",
    "leader_live",
    "leader_page",
    "private_link",
]

BROADCAST_LIMIT = RateLimit(name="visits-broadcast", per_visitor=10, window=60)
MAX_MESSAGE = 200


def private_link(pt: RequestContext, state: TourState, booking: Booking) -> str:
    key = service.booking_key(pt.mac, state.tour.key, booking.id)
    return f"/p/visits/b/{state.tour.enterprise}/{state.tour.id}/{booking.id}/{key}"


class Leader(msgspec.Struct, frozen=True):
    """The booking a private link names, with its tour and the plugin's context."""

    state: TourState
    ctx: PluginContext
    booking: Booking


async def _leader(
    pt: PT,
    enterprise: FromPath[str],
    tour_id: FromPath[str],
    booking_id: FromPath[str],
    key: FromPath[str],
) -> Leader:
    """The booking of a private link; 404 for a wrong link (no hint which part)."""
    state = await pt.tour(enterprise, tour_id)
    ctx = pt.context(state)
    booking = await service.load(ctx, booking_id)
    if booking is None or not service.key_matches(pt.mac, state.tour.key, booking_id, key):
        raise NotFoundException(pt._("This booking link is not valid."))
    return Leader(state, ctx, booking)


#: The private link's path, and its booking for every route under it (``leader``).
LINK = "/b/{enterprise:str}/{tour_id:str}/{booking_id:str}/{key:str}"
LEADER = {"leader": Provide(_leader)}
#: A handler parameter filled by ``LEADER`` (marked, as litestar 2.23+ asks).
LeaderDep = NamedDependency[Leader]


async def _stats(ctx: PluginContext, code: FromPath[str]) -> GroupStats:
    return await ctx.tour_store.get(f"group.{code}", GroupStats) or GroupStats()


@get(LINK, dependencies=LEADER)
async def leader_page(pt: PT, leader: LeaderDep) -> Response[Any]:
    state, ctx, booking = leader.state, leader.ctx, leader.booking
    config: VisitsConfig = ctx.config
    slot = config.slot(state.tour, booking.slot)
    slot_state = await service.slot_state(ctx, booking.slot)
    contact = await ctx.tour_store.get(f"contact.{booking.id}", Contact)
    base = private_link(pt, state, booking)
    tour = state.tour
    join = f"{pt.public_url}/p/visits/t/{tour.enterprise}/{tour.id}/join/{booking.code}"
    stats = await _stats(ctx, booking.code)
    return pt.page(
        "visits/leader.html",
        tour=state.tour,
        title=pt._("Your visit"),
        booking=booking,
        slot=slot,
        holds=slot_state.holds(booking.id),
        position=slot_state.position(booking.id),
        contact=contact,
        # The contact's time-to-live: until the slot plus contact_days (service.book).
        kept_until=slot.date + timedelta(days=config.contact_days) if slot else None,
        base=base,
        join_url=join,
        qr=qr_svg(join, booking.code, pt._("Group code")),
        summary=live_summary(stats, state.tour),
        stations=state.tour.stations,
    )


@get(f"{LINK}/live", dependencies=LEADER)
async def leader_live(pt: PT, leader: LeaderDep) -> ServerSentEvent:
    state, ctx, booking = leader.state, leader.ctx, leader.booking
    stats = await _stats(ctx, booking.code)
    tour = state.tour

    def to_message(seq: int, event: Event) -> SseMessage | None:
        # The stored record may lag the stream by a moment: this page folds the
        # events in itself (idempotently) so it never shows less than it has seen.
        if event.group != booking.code or not apply(stats, event):
            return None
        return SseMessage(event="stats", data=live_summary(stats, tour))

    return event_stream(
        pt,
        subject_for(tour.enterprise, tour.id, ">"),
        to_message,
        since=utcnow() - timedelta(seconds=20),
        first=[SseMessage(event="stats", data=live_summary(stats, tour))],
    )


@post(f"{LINK}/broadcast", status_code=200, dependencies=LEADER)
async def broadcast(pt: PT, leader: LeaderDep) -> Response[Any]:
    state, ctx, booking = leader.state, leader.ctx, leader.booking
    pt.limit(BROADCAST_LIMIT, key=booking.id)
    form = await pt.body(_Message)
    message = " ".join(form.message.split())[:MAX_MESSAGE]
    if message and booking.status == "active":
        await ctx.publish(ctx.event(GroupBroadcast, message=message, group=booking.code))
    return pt.answer({"sent": bool(message)}, next=private_link(pt, state, booking))


class _Message(msgspec.Struct):
    message: str = ""


@post(f"{LINK}/cancel", status_code=200, dependencies=LEADER)
async def cancel(pt: PT, leader: LeaderDep) -> Response[Any]:
    state, ctx, booking = leader.state, leader.ctx, leader.booking
    if booking.status == "active":
        await service.cancel(ctx, booking, by="leader")
    return pt.answer({"status": booking.status}, next=private_link(pt, state, booking))


@post(f"{LINK}/erase", status_code=200, dependencies=LEADER)
async def erase_contact(pt: PT, leader: LeaderDep) -> Response[Any]:
    state, ctx, booking = leader.state, leader.ctx, leader.booking
    await ctx.tour_store.erase(f"contact.{booking.id}")
    return pt.answer({"erased": True}, next=private_link(pt, state, booking))


@get(f"{LINK}/report", dependencies=LEADER)
async def class_report(pt: PT, leader: LeaderDep) -> Response[Any]:
    state, ctx, booking = leader.state, leader.ctx, leader.booking
    config: VisitsConfig = ctx.config
    return pt.page(
        "visits/report.html",
        tour=state.tour,
        title=pt._("Class report"),
        report=report([await _stats(ctx, booking.code)], state.tour),
        titles=profession_titles(state.tour),
        booking=booking,
        slot=config.slot(state.tour, booking.slot),
        back=private_link(pt, state, booking),
    )
