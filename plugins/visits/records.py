"""The visits plugin's records in the tour's store (``ctx.tour_store``).

- ``slot.<slot>``: who holds the slot's places and who waits, in order. The one record
  every booking of the slot writes, with compare-and-set (``store.update``): fifty
  leaders booking the last places at once are serialised by the server, never
  overbooked. A booking's status is read from here, so it cannot disagree.
- ``booking.<id>``: what was booked (size, ages, organisation, group code).
- ``contact.<id>``: the leader's contact and consent, with a time-to-live; never in
  an event; erased with ``store.erase``.
- ``code.<CODE>``: the group code's booking.
- ``group.<CODE>``: what the group did (see stats.py).
"""

from __future__ import annotations

from datetime import datetime

import msgspec

__all__ = ["Booking", "CodeRef", "Contact", "Hold", "SlotState"]


class Hold(msgspec.Struct):
    booking: str
    size: int


class SlotState(msgspec.Struct):
    booked: list[Hold] = msgspec.field(default_factory=list)
    waitlist: list[Hold] = msgspec.field(default_factory=list)

    @property
    def taken(self) -> int:
        return sum(h.size for h in self.booked)

    def position(self, booking: str) -> int | None:
        """1 for the first on the waitlist; None when not waiting."""
        for index, hold in enumerate(self.waitlist):
            if hold.booking == booking:
                return index + 1
        return None

    def holds(self, booking: str) -> bool:
        return any(h.booking == booking for h in self.booked)


class Booking(msgspec.Struct, kw_only=True):
    id: str
    slot: str
    size: int
    age_min: int
    age_max: int
    organisation: str
    code: str
    created: datetime
    lang: str = ""
    #: active, cancelled (by the leader) or declined (by the enterprise)
    status: str = "active"
    confirmed: bool = False


class Contact(msgspec.Struct, kw_only=True):
    name: str
    email: str = ""
    phone: str = ""
    consent_text: str
    consent_version: str
    consented: datetime


class CodeRef(msgspec.Struct):
    booking: str
