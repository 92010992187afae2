"""The visits plugin's events. None carries a contact or a school's name: a booking is
an opaque id, a group its code."""

from __future__ import annotations

from promtour.plugin import Event

__all__ = ["EVENT_TYPES", "BookingCancelled", "BookingMade", "GroupBroadcast"]


class BookingMade(Event, tag="visits_booking_made"):
    """A group booked a slot (``waitlisted`` when the slot was full)."""

    booking: str
    slot: str
    size: int
    waitlisted: bool = False


class BookingCancelled(Event, tag="visits_booking_cancelled"):
    """A booking was cancelled by its leader or declined by the enterprise; its
    places went to the waitlist (``promoted``: the bookings that got them)."""

    booking: str
    slot: str
    by: str
    promoted: list[str] = []


class GroupBroadcast(Event, tag="visits_group_broadcast"):
    """A short message from the group's leader to the group's phones."""

    message: str


EVENT_TYPES: tuple[type[Event], ...] = (BookingMade, BookingCancelled, GroupBroadcast)
