"""Visits: school classes (any group) book a slot of a tour, get a group code for the
day, and their leader follows the group live and gets a class report afterwards.

- ``/p/visits/t/<enterprise>/<tour>/book``: the public booking page.
- ``/p/visits/b/<enterprise>/<tour>/<booking>/<key>``: the leader's private page (no
  account): group code and QR, live view, broadcast, cancel, class report.
- ``/p/visits/e/<enterprise>/day``: the enterprise's day sheet (role editor).

See docs/plugins/visits.md.
"""

from __future__ import annotations

from promtour.plugin import (
    Event,
    PageContext,
    Panel,
    PluginContext,
    PluginInfo,
    hookimpl,
    utcnow,
)

from . import service
from .config import VisitsConfig, validate_config
from .events import EVENT_TYPES
from .records import CodeRef
from .routes import ROUTES
from .stats import FOLDED_TYPES, GroupStats, apply

#: validate_config: the config check, @hookimpl in .config.
__all__ = ["VisitsConfig", "validate_config"]


@hookimpl
def promtour_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="visits",
        title={"ru": "Визиты групп", "en": "Group visits"},
        description={
            "ru": "Запись классов на экскурсию, код группы, страница учителя и отчёт",
            "en": "Class bookings, a group code, the leader's live page and a class report",
        },
        config=VisitsConfig,
        events=EVENT_TYPES,
        handles=FOLDED_TYPES,
        routes=ROUTES,
        css=("visits.css",),
        js=("visits.js",),
        links={"Book a class visit": "t/{enterprise}/{tour}/book"},
    )


@hookimpl
async def promtour_check_group(page: PageContext, code: str) -> str | None:
    booking = await service.find_by_code(page, code)
    if booking is None:
        return page._(
            "There is no group with the code %(code)s on this tour. Check the code with "
            "your group leader."
        ) % {"code": code}
    if booking.status != "active":
        return page._("The visit of group %(code)s was cancelled.") % {"code": code}
    config: VisitsConfig = page.config
    slot = config.slot(page.tour, booking.slot)
    if slot is not None:
        opens, closes = config.code_window(slot)
        now = utcnow()
        when = slot.date.strftime("%d.%m.%Y")
        if now < opens:
            return page._(
                "Group %(code)s visits on %(date)s: the code can be used from that day."
            ) % {"code": code, "date": when}
        if now > closes:
            return page._(
                "The visit of group %(code)s was on %(date)s: the code can no longer be used."
            ) % {"code": code, "date": when}
    state = await service.slot_state(page, booking.slot)
    if not state.holds(booking.id):
        return page._(
            "Group %(code)s is still on the waiting list: it can be joined once it has its places."
        ) % {"code": code}
    return None


@hookimpl
async def promtour_handle_event(event: Event, ctx: PluginContext) -> None:
    code = event.group
    if not code or event.type in ("visits_booking_made", "visits_booking_cancelled"):
        return
    if await ctx.tour_store.get(f"code.{code}", CodeRef) is None:
        return  # a group of no booking (the plugin was off, or a guide's own code)

    def fold(stats: GroupStats | None) -> GroupStats:
        stats = stats or GroupStats()
        apply(stats, event)
        return stats

    await ctx.tour_store.update(f"group.{code}", GroupStats, fold)


def _messages(page: PageContext) -> Panel | None:
    """Where the leader's broadcasts appear on the group's phones."""
    group = page.visit.group if page.visit else None
    if not group:
        return None
    html = page.render(
        "visits/panel_messages.html",
        group=group,
        feed=page.url(f"t/{page.tour.enterprise}/{page.tour.id}/messages"),
    )
    return Panel(title=page._("Your group"), html=html, order=5)


@hookimpl
def promtour_station_panels(page: PageContext) -> Panel | None:
    return _messages(page)


@hookimpl
def promtour_start_panels(page: PageContext) -> Panel | None:
    panel = _messages(page)
    if panel is not None:
        return panel
    html = page.render(
        "visits/panel_start.html",
        book=page.url(f"t/{page.tour.enterprise}/{page.tour.id}/book"),
    )
    return Panel(title=page._("Coming with a class?"), html=html, order=90)


@hookimpl
def promtour_finish_panels(page: PageContext) -> Panel | None:
    return _messages(page)
