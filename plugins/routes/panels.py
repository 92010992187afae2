"""The station panel: "this visit counts for the route X, you have n of m stamps"."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
from promtour.plugin import PageContext, Panel, hookimpl, utcnow

from .records import Route, find_passport
from .stamps import routes_of_tour

__all__ = ["station_panels"]


@hookimpl(specname="promtour_station_panels")
async def station_panels(page: PageContext) -> list[Panel]:
    store = page.store
    routes = [
        r
        for r in await routes_of_tour(store, page.tour.enterprise, page.tour.id)
        if (m := r.member(page.tour.enterprise, page.tour.id))
        and m.status == "accepted"
        and r.in_season(utcnow().date())
    ]
    if not routes or page.visitor is None:
        return []
    passport = None
    if not page.new_visitor:  # a browser new with this page has no passport and no link
        passport = (await find_passport(store, page.visitor))[1].value
    out = []
    for route in routes:
        stamped = {s.enterprise for s in passport.stamps_of(route.id)} if passport else set()
        # The stamp of this visit may still be on its way: count it for a check-in rule.
        if route.stamp == "check_in":
            stamped.add(page.tour.enterprise)
        total = len(set(route.enterprises()) | stamped)
        frame = await page.cached_frame(_frame_key(route), _build(page, route))
        count = page.ngettext(
            "You have %(n)s of %(m)s stamp.", "You have %(n)s of %(m)s stamps.", total
        ) % {"n": len(stamped), "m": total}
        out.append(Panel(title=page._("Route"), order=150, html=frame.fill(count=count)))
    return out


def _frame_key(route: Route) -> tuple[str, str, str, bytes]:
    """What the panel's markup shows of a route besides the visitor's count: a changed
    route (another title) is a new frame; the tour's revision is in the cache's key."""
    return ("route", route.id, route.stamp, msgspec.json.encode(route.title))


def _build(page: PageContext, route: Route) -> Callable[[], str]:
    """The panel of ``route`` with a slot for the visitor's count: rendered once per
    tour revision, language and route version (it was about 90 µs of every scan)."""

    def build() -> str:
        return page.render("routes/panel.html", route=route, finish_rule=route.stamp == "finish")

    return build
