"""The routes plugin's events. A visitor is the pseudonymous id of the core's events;
nothing personal is ever in them."""

from __future__ import annotations

from promtour.plugin import Event

__all__ = ["EVENT_TYPES", "RouteRewardRedeemed", "RouteStampEarned", "RouteTierReached"]


class RouteStampEarned(Event, tag="route_stamp_earned"):
    """A visitor earned the stamp of the event's enterprise on a route."""

    route: str
    #: Stamps the visitor has on the route now, and how many there are.
    stamps: int
    of: int
    #: The core event that earned it (``visitor_checked_in`` or ``tour_finished``).
    cause: str


class RouteTierReached(Event, tag="route_tier_reached"):
    """A visitor reached a tier of a route (``need`` stamps); a reward code was made."""

    route: str
    need: int


class RouteRewardRedeemed(Event, tag="route_reward_redeemed"):
    """Staff redeemed a visitor's reward; ``by`` is ``enterprise`` or ``operator``."""

    route: str
    need: int
    by: str


EVENT_TYPES: tuple[type[Event], ...] = (RouteStampEarned, RouteTierReached, RouteRewardRedeemed)
