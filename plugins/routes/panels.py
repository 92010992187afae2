"""The station panel: "this visit counts for the route X, you have n of m stamps"."""

from __future__ import annotations

from promtour.plugin import PageContext, Panel, hookimpl, utcnow

from .records import Passport, passport_id
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
    passport = await store.get(f"pp.{await passport_id(store, page.visitor)}", Passport)
    out = []
    for route in routes:
        stamped = {s.enterprise for s in passport.stamps_of(route.id)} if passport else set()
        # The stamp of this visit may still be on its way: count it for a check-in rule.
        if route.stamp == "check_in":
            stamped.add(page.tour.enterprise)
        total = len(set(route.enterprises()) | stamped)
        out.append(
            Panel(
                title=page._("Route"),
                order=150,
                html=page.render(
                    "routes/panel.html",
                    route=route,
                    have=len(stamped),
                    total=total,
                    finish_rule=route.stamp == "finish",
                ),
            )
        )
    return out
