"""Stamps: the consumer of the core's check-in and finish events.

The core gives each plugin one durable consumer that handles its events one at a time,
so a visitor's events are applied in stream order; the passport is still written with
compare-and-set (``store.update``) because the visitor's own requests (a restore, a
redemption) write it too. Each applied event id is kept in the passport: a redelivered
event finds its id and changes nothing.
"""

from __future__ import annotations

from promtour.plugin import (
    Event,
    PluginContext,
    PluginStore,
    TourFinished,
    VisitorCheckedIn,
    hookimpl,
)

from .events import RouteStampEarned, RouteTierReached
from .records import (
    SEEN_KEPT,
    Passport,
    Reward,
    Route,
    Stamp,
    TierReached,
    find_passport,
    new_code,
)

__all__ = ["handle_event", "routes_of_tour"]


async def routes_of_tour(
    store: PluginStore, enterprise: str, tour: str, *, fresh: bool = False
) -> list[Route]:
    """The routes a tour was proposed to (any status); ``fresh=True`` reads them from
    NATS (for an admin's decision that depends on them).

    Read on every scan (the station panel, and this plugin's consumer for every
    check-in) but changed only when an operator or an admin acts: so from the
    process's watched copy of the route index and the routes (``store.watched``), not
    from NATS (two requests per scan and per event, about 200 µs of CPU; see
    docs/performance.md). A change made in another process is seen within
    milliseconds; one made in this process at once. The returned routes are shared:
    do not change them."""
    if fresh:
        ids = await store.get(f"idx.{enterprise}.{tour}", list[str])
    else:
        ids = await store.watched("idx.").get(f"{enterprise}.{tour}", list[str])
    if not ids:
        return []
    watched = store.watched("route.")
    routes = []
    for route_id in ids:
        if fresh:
            route = await store.get(f"route.{route_id}", Route)
        else:
            route = await watched.get(route_id, Route)
        if route is not None:
            routes.append(route)
    return routes


def _counts(route: Route, event: Event) -> bool:
    member = route.member(event.enterprise, event.tour)
    if member is None or member.status != "accepted" or member.changed > event.time:
        return False
    if not route.in_season(event.time.date()):
        return False
    if route.stamp == "finish":
        return isinstance(event, TourFinished)
    return isinstance(event, VisitorCheckedIn)


#: The events that can earn a stamp (``PluginInfo.handles``).
HANDLED = (VisitorCheckedIn, TourFinished)


@hookimpl(specname="promtour_handle_event")
async def handle_event(event: Event, ctx: PluginContext) -> None:
    if not isinstance(event, HANDLED) or not event.visitor:
        return
    store = ctx.store
    routes = [
        r for r in await routes_of_tour(store, event.enterprise, event.tour) if _counts(r, event)
    ]
    if not routes:
        return
    pid, found = await find_passport(store, event.visitor)
    earned: list[tuple[Route, Stamp]] = []
    reached: list[tuple[Route, TierReached]] = []

    def apply(current: Passport | None) -> Passport:
        passport = current or Passport(id=pid)
        earned.clear()
        reached.clear()
        if event.id in passport.seen:
            return passport
        passport = Passport(
            id=passport.id,
            stamps=list(passport.stamps),
            tiers=list(passport.tiers),
            seen=[*passport.seen[-(SEEN_KEPT - 1) :], event.id],
            code=passport.code,
            group=passport.group or bool(event.group),
        )
        for route in routes:
            mine = passport.stamps_of(route.id)
            if any(s.enterprise == event.enterprise for s in mine):
                continue
            stamp = Stamp(
                route=route.id,
                enterprise=event.enterprise,
                tour=event.tour,
                time=event.time,
                event=event.id,
            )
            passport.stamps.append(stamp)
            earned.append((route, stamp))
            have = len(mine) + 1
            done = {t.need for t in passport.tiers_of(route.id)}
            for tier in route.tiers:
                if tier.need <= have and tier.need not in done:
                    # A fresh code per attempt: a lost CAS race leaves an unused code
                    # record behind at worst, never two codes in the passport.
                    tr = TierReached(
                        route=route.id, need=tier.need, time=event.time, code=new_code()
                    )
                    passport.tiers.append(tr)
                    reached.append((route, tr))
        return passport

    # Written at the revision find_passport read (absent: created); on a concurrent
    # write, update() reads again and applies the event to the fresh passport.
    passport = await store.update(f"pp.{pid}", Passport, apply, current=found)
    # The reward records after the passport: create() is idempotent, so a redelivery
    # after a crash between the two writes makes the missing ones, and nothing else.
    by_id = {route.id: route for route in routes}
    for tr in passport.tiers:
        if tr.route in by_id and tr.time == event.time:
            await store.create(
                f"reward.{tr.code}",
                Reward(
                    code=tr.code,
                    route=tr.route,
                    passport=passport.id,
                    need=tr.need,
                    enterprise=event.enterprise,
                    tour=event.tour,
                    created=tr.time,
                ),
            )
    # The envelope (enterprise, tour, visitor, group) from the event's context.
    for route, _stamp in earned:
        await ctx.publish(
            ctx.event(
                RouteStampEarned,
                station=event.station,
                route=route.id,
                stamps=len(passport.stamps_of(route.id)),
                of=len(route.enterprises()),
                cause=event.type,
            )
        )
    for route, tr in reached:
        await ctx.publish(
            ctx.event(RouteTierReached, station=event.station, route=route.id, need=tr.need)
        )
