"""Booking, cancelling and looking up visits: the rules, apart from the pages.

Every check runs before the first write, so refused input leaves nothing behind.
Places are decided in one compare-and-set update of the slot's record; the booking's
own records are written first and removed again if that update fails.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import secrets
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Annotated

import msgspec
from promtour.plugin import PluginContext, pick_text, utcnow

from .config import Slot, VisitsConfig
from .events import BookingCancelled, BookingMade
from .records import Booking, CodeRef, Contact, Hold, SlotState

__all__ = [
    "BookingError",
    "BookingForm",
    "book",
    "booking_key",
    "cancel",
    "consent_text",
    "find_by_code",
    "load",
    "slot_state",
]

#: Group codes: no 0/O, 1/I/L, so a class can read them off a board.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ()-]{6,20}$")

Short = Annotated[str, msgspec.Meta(max_length=200)]


class BookingForm(msgspec.Struct, kw_only=True):
    slot: Short = ""
    size: int = 0
    age_min: int = 0
    age_max: int = 0
    organisation: Short = ""
    name: Short = ""
    email: Short = ""
    phone: Short = ""
    consent: str = ""


class BookingError(Exception):
    """Input the booking cannot take; the message is for the person booking."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def consent_text(
    config: VisitsConfig, lang: str, ngettext: Callable[[str, str, int], str] | None = None
) -> str:
    """The consent the booking form shows and the contact keeps: the tour's own text,
    or the plugin's, which says how long the contact is kept (``contact_days``)."""
    if config.consent:
        return pick_text(config.consent, lang)
    plural = ngettext or (lambda one, many, n: one if n == 1 else many)
    return plural(
        "I agree that the enterprise keeps my contact details until the visit and "
        "%(num)s day after it, to reach me about this booking; then they are deleted.",
        "I agree that the enterprise keeps my contact details until the visit and "
        "%(num)s days after it, to reach me about this booking; then they are deleted.",
        config.contact_days,
    ) % {"num": config.contact_days}


def booking_key(mac: Callable[..., str], tour_key: str, booking: str) -> str:
    """The secret part of a booking's private link."""
    return mac(f"{tour_key}:{booking}", purpose="visits-booking")[:32]


def key_matches(mac: Callable[..., str], tour_key: str, booking: str, key: str) -> bool:
    return hmac.compare_digest(booking_key(mac, tour_key, booking), key)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


#: One lock per (event loop, tour, slot) in this process: the bookings of one slot that
#: a worker takes at once queue here instead of racing in compare-and-set retries
#: (fifty at once made forty-nine retry, with growing waits). Other workers still
#: meet in the store's compare-and-set, which alone keeps the capacity.
_LOCKS: weakref.WeakValueDictionary[tuple[int, str, str], asyncio.Lock] = (
    weakref.WeakValueDictionary()
)


@asynccontextmanager
async def _slot_turn(ctx: PluginContext, slot: str) -> AsyncIterator[None]:
    key = (id(asyncio.get_running_loop()), ctx.tour.key, slot)
    lock = _LOCKS.get(key)
    if lock is None:
        lock = _LOCKS[key] = asyncio.Lock()
    async with lock:
        yield


async def slot_state(ctx: PluginContext, slot: str) -> SlotState:
    return await ctx.tour_store.get(f"slot.{slot}", SlotState) or SlotState()


def check(
    form: BookingForm, slot: Slot | None, config: VisitsConfig, _: Callable[[str], str]
) -> None:
    """Raise BookingError for the first thing wrong with ``form``."""
    if slot is None:
        raise BookingError(_("Choose a date and time from the list."), "slot")
    if slot.starts - timedelta(hours=config.book_until_hours) <= utcnow():
        raise BookingError(
            _("This slot is in the past or too close to book. Choose a later one."), "slot"
        )
    if form.size < 1:
        raise BookingError(_("How many people come? Give a number of at least 1."), "size")
    if form.size > slot.capacity:
        raise BookingError(
            _("A group of %(size)s does not fit: this slot takes at most %(capacity)s people.")
            % {"size": form.size, "capacity": slot.capacity},
            "size",
        )
    if form.age_min < 1 or form.age_max < form.age_min:
        raise BookingError(_("Give the ages of the group: from the youngest to the oldest."), "age")
    if form.age_min < slot.min_age:
        raise BookingError(
            _(
                "This visit is for people aged %(min_age)s and over (safety rules of the "
                "floor); the youngest in your group are %(age)s. Choose another slot or "
                "come with an older group."
            )
            % {"min_age": slot.min_age, "age": form.age_min},
            "age",
        )
    if not form.organisation.strip():
        raise BookingError(_("Name your school or organisation."), "organisation")
    if not form.name.strip():
        raise BookingError(_("Give a name we can ask for."), "name")
    email, phone = form.email.strip(), form.phone.strip()
    if not email and not phone:
        raise BookingError(_("Give an e-mail address or a phone number."), "email")
    if email and not EMAIL.match(email):
        raise BookingError(_("This e-mail address does not look right."), "email")
    if phone and not PHONE.match(phone):
        raise BookingError(_("This phone number does not look right."), "phone")
    if form.consent not in ("yes", "on", "true"):
        raise BookingError(
            _("Tick the consent to keep your contact, or we cannot book."), "consent"
        )


async def book(
    ctx: PluginContext,
    form: BookingForm,
    *,
    lang: str,
    _: Callable[[str], str],
    ngettext: Callable[[str, str, int], str] | None = None,
) -> tuple[Booking, SlotState]:
    """Check the form, then book the slot (or put the group on its waitlist)."""
    config: VisitsConfig = ctx.config
    slot = config.slot(ctx.tour, form.slot)
    check(form, slot, config, _)
    assert slot is not None
    store = ctx.tour_store
    booking_id = secrets.token_hex(8)
    code = new_code()
    while not await store.create(f"code.{code}", CodeRef(booking_id)):
        code = new_code()
    now = utcnow()
    booking = Booking(
        id=booking_id,
        slot=slot.id,
        size=form.size,
        age_min=form.age_min,
        age_max=form.age_max,
        organisation=form.organisation.strip(),
        code=code,
        created=now,
        lang=lang,
    )
    keep = (slot.starts - now).total_seconds() + config.contact_days * 86400
    contact = Contact(
        name=form.name.strip(),
        email=form.email.strip(),
        phone=form.phone.strip(),
        consent_text=consent_text(config, lang, ngettext),
        consent_version=config.consent_version,
        consented=now,
    )
    await store.put(f"booking.{booking_id}", booking)
    # Personal data is written once and erased, never overwritten (see store.erase).
    await store.create(f"contact.{booking_id}", contact, ttl=max(keep, 3600), personal=True)

    def take(state: SlotState | None) -> SlotState:
        state = state or SlotState()
        if state.holds(booking_id) or state.position(booking_id):
            return state  # a retry after the write went through
        hold = Hold(booking_id, form.size)
        if not state.waitlist and state.taken + form.size <= slot.capacity:
            state.booked.append(hold)
        else:
            state.waitlist.append(hold)
        return state

    try:
        async with _slot_turn(ctx, slot.id):
            state = await store.update(f"slot.{slot.id}", SlotState, take)
    except Exception:
        await store.erase(f"contact.{booking_id}")
        await store.delete(f"booking.{booking_id}")
        await store.delete(f"code.{code}")
        raise
    await ctx.publish(
        ctx.event(
            BookingMade,
            booking=booking_id,
            slot=slot.id,
            size=form.size,
            waitlisted=not state.holds(booking_id),
            visitor=None,
            group=code,
        )
    )
    return booking, state


async def load(ctx: PluginContext, booking_id: str) -> Booking | None:
    if not re.fullmatch(r"[0-9a-f]{16}", booking_id):
        return None
    return await ctx.tour_store.get(f"booking.{booking_id}", Booking)


async def find_by_code(ctx: PluginContext, code: str) -> Booking | None:
    ref = await ctx.tour_store.get(f"code.{code}", CodeRef)
    return await load(ctx, ref.booking) if ref else None


async def cancel(ctx: PluginContext, booking: Booking, *, by: str) -> list[str]:
    """Cancel (``by="leader"``) or decline (``by="enterprise"``) a booking: its places
    go to the waitlist, strictly in order (the first waiting group that does not fit
    stops the queue). Returns the promoted bookings' ids."""
    config: VisitsConfig = ctx.config
    slot = config.slot(ctx.tour, booking.slot)
    capacity = slot.capacity if slot else 0
    promoted: list[str] = []

    def release(state: SlotState | None) -> SlotState:
        state = state or SlotState()
        promoted.clear()
        state.booked = [h for h in state.booked if h.booking != booking.id]
        state.waitlist = [h for h in state.waitlist if h.booking != booking.id]
        while state.waitlist and state.taken + state.waitlist[0].size <= capacity:
            hold = state.waitlist.pop(0)
            state.booked.append(hold)
            promoted.append(hold.booking)
        return state

    async with _slot_turn(ctx, booking.slot):
        await ctx.tour_store.update(f"slot.{booking.slot}", SlotState, release)
    booking.status = "cancelled" if by == "leader" else "declined"
    await ctx.tour_store.put(f"booking.{booking.id}", booking)
    # The contact is no longer needed for a cancelled visit.
    await ctx.tour_store.erase(f"contact.{booking.id}")
    await ctx.publish(
        ctx.event(
            BookingCancelled,
            booking=booking.id,
            slot=booking.slot,
            by=by,
            promoted=promoted,
            visitor=None,
            group=booking.code,
        )
    )
    return list(promoted)
