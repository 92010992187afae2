"""The visits plugin's pages: booking (public), the leader's private page with the live
view, broadcast and class report, the pupils' join link and message feed, and the
enterprise's day sheet with its exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, timedelta
from typing import Any

import msgspec
from litestar import Response, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, FromQuery
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

from . import service
from .config import Slot, VisitsConfig
from .events import GroupBroadcast
from .records import Booking, Contact, SlotState
from .stats import GroupStats, apply, live_summary, profession_titles, report

__all__ = ["ROUTES"]

BOOK_LIMIT = RateLimit(name="visits-book", per_visitor=20, per_address=200, window=600)
BROADCAST_LIMIT = RateLimit(name="visits-broadcast", per_visitor=10, window=60)
MAX_MESSAGE = 200


class SlotView(msgspec.Struct):
    slot: Slot
    left: int
    waiting: int


async def _slot_views(ctx: PluginContext) -> list[SlotView]:
    config: VisitsConfig = ctx.config
    now = utcnow()
    horizon = now + timedelta(days=config.horizon_days)
    views = []
    for slot in config.all_slots(ctx.tour):
        if slot.starts - timedelta(hours=config.book_until_hours) <= now or slot.starts > horizon:
            continue
        state = await service.slot_state(ctx, slot.id)
        views.append(SlotView(slot, max(0, slot.capacity - state.taken), len(state.waitlist)))
    return views


def _book_page(
    pt: RequestContext,
    state: TourState,
    ctx: PluginContext,
    views: list[SlotView],
    *,
    form: service.BookingForm | None = None,
    error: service.BookingError | None = None,
) -> Response[Any]:
    config: VisitsConfig = ctx.config
    lang = pt.lang_for(state.tour)
    return pt.page(
        "visits/book.html",
        status=400 if error else 200,
        tour=state.tour,
        title=pt._("Book a visit"),
        slots=views,
        form=form or service.BookingForm(),
        error=error,
        consent=service.consent_text(config, lang, pt.ngettext),
        action=ctx.url(f"t/{state.tour.enterprise}/{state.tour.id}/book"),
    )


@get("/t/{enterprise:str}/{tour_id:str}/book")
async def book_page(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> Response[Any]:
    state = await pt.tour(enterprise, tour_id)
    ctx = pt.context(state)
    return _book_page(pt, state, ctx, await _slot_views(ctx))


@post("/t/{enterprise:str}/{tour_id:str}/book", status_code=200)
async def book(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> Response[Any]:
    state = await pt.tour(enterprise, tour_id)
    ctx = pt.context(state)
    pt.limit(BOOK_LIMIT)
    form = await pt.body(service.BookingForm)
    try:
        booking, _slot = await service.book(
            ctx, form, lang=pt.lang_for(state.tour), _=pt._, ngettext=pt.ngettext
        )
    except service.BookingError as exc:
        if pt.wants_json:
            return pt.finish(Response({"error": exc.message, "field": exc.field}, status_code=400))
        return _book_page(pt, state, ctx, await _slot_views(ctx), form=form, error=exc)
    link = _private(pt, state, booking)
    if pt.wants_json:
        return pt.finish(
            Response({"booking": booking.id, "code": booking.code, "link": link}, status_code=201)
        )
    return pt.redirect(link)


def _private(pt: RequestContext, state: TourState, booking: Booking) -> str:
    key = service.booking_key(pt.mac, state.tour.key, booking.id)
    return f"/p/visits/b/{state.tour.enterprise}/{state.tour.id}/{booking.id}/{key}"


async def _leader(
    pt: RequestContext, enterprise: str, tour_id: str, booking_id: str, key: str
) -> tuple[TourState, PluginContext, Booking]:
    """The booking of a private link; 404 for a wrong link (no hint which part)."""
    state = await pt.tour(enterprise, tour_id)
    ctx = pt.context(state)
    booking = await service.load(ctx, booking_id)
    if booking is None or not service.key_matches(pt.mac, state.tour.key, booking_id, key):
        raise NotFoundException(pt._("This booking link is not valid."))
    return state, ctx, booking


async def _stats(ctx: PluginContext, code: FromPath[str]) -> GroupStats:
    return await ctx.tour_store.get(f"group.{code}", GroupStats) or GroupStats()


@get("/b/{enterprise:str}/{tour_id:str}/{booking_id:str}/{key:str}")
async def leader_page(
    pt: PT,
    enterprise: FromPath[str],
    tour_id: FromPath[str],
    booking_id: FromPath[str],
    key: FromPath[str],
) -> Response[Any]:
    state, ctx, booking = await _leader(pt, enterprise, tour_id, booking_id, key)
    config: VisitsConfig = ctx.config
    slot = config.slot(state.tour, booking.slot)
    slot_state = await service.slot_state(ctx, booking.slot)
    contact = await ctx.tour_store.get(f"contact.{booking.id}", Contact)
    base = _private(pt, state, booking)
    join = f"{pt.public_url}/p/visits/t/{enterprise}/{tour_id}/join/{booking.code}"
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


@get("/b/{enterprise:str}/{tour_id:str}/{booking_id:str}/{key:str}/live")
async def leader_live(
    pt: PT,
    enterprise: FromPath[str],
    tour_id: FromPath[str],
    booking_id: FromPath[str],
    key: FromPath[str],
) -> ServerSentEvent:
    state, ctx, booking = await _leader(pt, enterprise, tour_id, booking_id, key)
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
        subject_for(enterprise, tour_id, ">"),
        to_message,
        since=utcnow() - timedelta(seconds=20),
        first=[SseMessage(event="stats", data=live_summary(stats, tour))],
    )


@post("/b/{enterprise:str}/{tour_id:str}/{booking_id:str}/{key:str}/broadcast", status_code=200)
async def broadcast(
    pt: PT,
    enterprise: FromPath[str],
    tour_id: FromPath[str],
    booking_id: FromPath[str],
    key: FromPath[str],
) -> Response[Any]:
    state, ctx, booking = await _leader(pt, enterprise, tour_id, booking_id, key)
    pt.limit(BROADCAST_LIMIT, key=booking.id)
    form = await pt.body(_Message)
    message = " ".join(form.message.split())[:MAX_MESSAGE]
    if message and booking.status == "active":
        await ctx.publish(ctx.event(GroupBroadcast, message=message, group=booking.code))
    return pt.answer({"sent": bool(message)}, next=_private(pt, state, booking))


class _Message(msgspec.Struct):
    message: str = ""


@post("/b/{enterprise:str}/{tour_id:str}/{booking_id:str}/{key:str}/cancel", status_code=200)
async def cancel(
    pt: PT,
    enterprise: FromPath[str],
    tour_id: FromPath[str],
    booking_id: FromPath[str],
    key: FromPath[str],
) -> Response[Any]:
    state, ctx, booking = await _leader(pt, enterprise, tour_id, booking_id, key)
    if booking.status == "active":
        await service.cancel(ctx, booking, by="leader")
    return pt.answer({"status": booking.status}, next=_private(pt, state, booking))


@post("/b/{enterprise:str}/{tour_id:str}/{booking_id:str}/{key:str}/erase", status_code=200)
async def erase_contact(
    pt: PT,
    enterprise: FromPath[str],
    tour_id: FromPath[str],
    booking_id: FromPath[str],
    key: FromPath[str],
) -> Response[Any]:
    state, ctx, booking = await _leader(pt, enterprise, tour_id, booking_id, key)
    await ctx.tour_store.erase(f"contact.{booking.id}")
    return pt.answer({"erased": True}, next=_private(pt, state, booking))


@get("/b/{enterprise:str}/{tour_id:str}/{booking_id:str}/{key:str}/report")
async def class_report(
    pt: PT,
    enterprise: FromPath[str],
    tour_id: FromPath[str],
    booking_id: FromPath[str],
    key: FromPath[str],
) -> Response[Any]:
    state, ctx, booking = await _leader(pt, enterprise, tour_id, booking_id, key)
    config: VisitsConfig = ctx.config
    return pt.page(
        "visits/report.html",
        tour=state.tour,
        title=pt._("Class report"),
        report=report([await _stats(ctx, booking.code)], state.tour),
        titles=profession_titles(state.tour),
        booking=booking,
        slot=config.slot(state.tour, booking.slot),
        back=_private(pt, state, booking),
    )


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


# --- the enterprise's staff --------------------------------------------------------------


class DayRow(msgspec.Struct):
    tour: Any
    booking: Booking
    slot: Slot | None
    contact: Contact | None
    holds: bool
    position: int | None
    link: str


async def _day(pt: RequestContext, enterprise: FromPath[str], day: date) -> list[DayRow]:
    rows: list[DayRow] = []
    for ctx in pt.enterprise(enterprise).tours():
        config: VisitsConfig = ctx.config
        slots = {s.id: s for s in config.all_slots(ctx.tour) if s.date == day}
        for key in await ctx.tour_store.keys("booking."):
            booking = await ctx.tour_store.get(key, Booking)
            if booking is None or booking.slot not in slots:
                continue
            state = await ctx.tour_store.get(f"slot.{booking.slot}", SlotState) or SlotState()
            rows.append(
                DayRow(
                    tour=ctx.tour,
                    booking=booking,
                    slot=slots[booking.slot],
                    contact=await ctx.tour_store.get(f"contact.{booking.id}", Contact),
                    holds=state.holds(booking.id),
                    position=state.position(booking.id),
                    link=service.booking_key(pt.mac, ctx.tour.key, booking.id),
                )
            )
    rows.sort(key=lambda r: (r.slot.starts if r.slot else utcnow(), r.booking.created))
    return rows


def _date(value: str | None) -> date:
    try:
        return date.fromisoformat(value) if value else utcnow().date()
    except ValueError:
        raise HTTPException(status_code=400, detail="date: use YYYY-MM-DD") from None


@get("/e/{enterprise:str}/day")
async def day_sheet(
    pt: PT, enterprise: FromPath[str], day: FromQuery[str | None] = None
) -> Response[Any]:
    await pt.require_role(enterprise, "editor")
    when = _date(day)
    return pt.page(
        "visits/day.html",
        title=pt._("Visits of the day"),
        enterprise=enterprise,
        day=when,
        prev=when - timedelta(days=1),
        next_day=when + timedelta(days=1),
        rows=await _day(pt, enterprise, when),
    )


@post("/e/{enterprise:str}/{tour_id:str}/{booking_id:str}/{action:str}", status_code=200)
async def staff_action(
    pt: PT,
    enterprise: FromPath[str],
    tour_id: FromPath[str],
    booking_id: FromPath[str],
    action: FromPath[str],
) -> Response[Any]:
    await pt.require_role(enterprise, "editor")
    ctx = await pt.enterprise(enterprise).tour(tour_id)
    if ctx is None or not ctx.enabled:
        raise NotFoundException("There is no such tour.")
    booking = await service.load(ctx, booking_id)
    if booking is None:
        raise NotFoundException("There is no such booking.")
    if action == "confirm" and booking.status == "active":
        booking.confirmed = True
        await ctx.tour_store.put(f"booking.{booking.id}", booking)
    elif action == "decline" and booking.status == "active":
        await service.cancel(ctx, booking, by="enterprise")
    elif action not in ("confirm", "decline"):
        raise NotFoundException("There is no such action.")
    slot = ctx.config.slot(ctx.tour, booking.slot)
    back = f"/p/visits/e/{enterprise}/day?day={slot.date.isoformat() if slot else ''}"
    return pt.answer({"status": booking.status, "confirmed": booking.confirmed}, next=back)


def _status(row: DayRow) -> str:
    if row.booking.status != "active":
        return row.booking.status
    if row.position:
        return f"waitlist {row.position}"
    return "confirmed" if row.booking.confirmed else "booked"


@get("/e/{enterprise:str}/bookings.csv")
async def export_csv(
    pt: PT, enterprise: FromPath[str], day: FromQuery[str | None] = None
) -> Response[Any]:
    await pt.require_role(enterprise, "editor")
    when = _date(day)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "date",
            "time",
            "tour",
            "organisation",
            "size",
            "ages",
            "status",
            "group",
            "contact",
            "email",
            "phone",
        ]
    )
    for row in await _day(pt, enterprise, when):
        contact = row.contact
        writer.writerow(
            [
                when.isoformat(),
                row.slot.time if row.slot else "",
                row.tour.id,
                _cell(row.booking.organisation),
                row.booking.size,
                f"{row.booking.age_min}-{row.booking.age_max}",
                _status(row),
                row.booking.code,
                _cell(contact.name) if contact else "",
                _cell(contact.email) if contact else "",
                _cell(contact.phone) if contact else "",
            ]
        )
    return pt.finish(
        Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="visits-{when}.csv"'},
        )
    )


def _cell(value: str) -> str:
    """A spreadsheet must not run a cell as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _ics(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", " ")


@get("/e/{enterprise:str}/bookings.ics")
async def export_ics(
    pt: PT, enterprise: FromPath[str], day: FromQuery[str | None] = None
) -> Response[Any]:
    await pt.require_role(enterprise, "editor")
    when = _date(day)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//promtour//visits//EN"]
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    for row in await _day(pt, enterprise, when):
        if row.slot is None or row.booking.status != "active" or not row.holds:
            continue
        start = row.slot.starts.astimezone(UTC)
        lines += [
            "BEGIN:VEVENT",
            f"UID:{row.booking.id}@promtour",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{start.strftime('%Y%m%dT%H%M%SZ')}",
            f"DTEND:{(start + timedelta(hours=2)).strftime('%Y%m%dT%H%M%SZ')}",
            f"SUMMARY:{_ics(row.booking.organisation)} ({row.booking.size})",
            f"DESCRIPTION:{_ics(row.tour.id)} {row.booking.code}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return pt.finish(
        Response("\r\n".join(lines) + "\r\n", media_type="text/calendar; charset=utf-8")
    )


@get("/e/{enterprise:str}/report")
async def enterprise_report(pt: PT, enterprise: FromPath[str]) -> Response[Any]:
    """The same aggregates as the class reports, per tour over all its groups."""
    await pt.require_role(enterprise, "editor")
    tours = []
    for ctx in pt.enterprise(enterprise).tours():
        groups = [
            stats
            for key in await ctx.tour_store.keys("group.")
            if (stats := await ctx.tour_store.get(key, GroupStats)) is not None
        ]
        tours.append((ctx.tour, len(groups), report(groups, ctx.tour), profession_titles(ctx.tour)))
    return pt.page("visits/enterprise_report.html", title=pt._("Visits report"), tours=tours)


ROUTES = [
    book_page,
    book,
    leader_page,
    leader_live,
    broadcast,
    cancel,
    erase_contact,
    class_report,
    join_page,
    messages,
    day_sheet,
    staff_action,
    export_csv,
    export_ics,
    enterprise_report,
]
