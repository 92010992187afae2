"""The enterprise's staff: the day sheet, actions on bookings, CSV and iCal exports, the
report."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, timedelta
from typing import Any

import msgspec
from litestar import Response, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, FromQuery
from promtour.plugin import (
    PT,
    RequestContext,
    utcnow,
)

from .. import service
from ..config import Slot, VisitsConfig
from ..records import Booking, Contact, SlotState
from ..stats import GroupStats, profession_titles, report

__all__ = ["day_sheet", "enterprise_report", "export_csv", "export_ics", "staff_action"]


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
