"""The visits plugin's per-tour config: the slots a tour offers and the booking rules.

Slots are written in the tour's ``[plugins.visits]`` table (the console's config form
or TOML): one-off ``slots``, ``recurring`` slots (weekdays and a time over a term) and
``blackout`` dates. Times are local to ``timezone``. A slot's id is its date and time
(``2025-03-04-1000``), so a booking stays attached to it across edits of the config.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec
from promtour.plugin import Field, Problem, Text, Tour, check_languages, check_timezone, hookimpl

__all__ = ["Recurring", "Slot", "SlotSpec", "VisitsConfig", "validate_config"]

Capacity = Annotated[int, msgspec.Meta(ge=1, le=500)]
Age = Annotated[int, msgspec.Meta(ge=0, le=120)]
HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]

#: The console's names of the weekdays (msgids of the visits catalog), 1 = Monday.
WEEKDAYS = {
    "1": "Monday",
    "2": "Tuesday",
    "3": "Wednesday",
    "4": "Thursday",
    "5": "Friday",
    "6": "Saturday",
    "7": "Sunday",
}

# The form's labels of the fields a one-off and a weekly slot share.
SlotTime = Annotated[HHMM, Field(title="Time", help="Hours and minutes, e.g. 10:00.")]
Places = Annotated[Capacity, Field(title="Places")]
MinAge = Annotated[Age, Field(title="Minimum age, years", help="0: no limit.")]
Languages = Annotated[
    list[str],
    Field(
        title="Languages of the visit (codes)",
        help="For example ru or en. Empty: all the tour's languages.",
    ),
]
Notes = Annotated[Text, Field(title="Notes for the group", kind="text")]


class SlotSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One visit slot on one date."""

    date: Annotated[date, Field(title="Date")]
    time: SlotTime
    capacity: Places
    min_age: MinAge = 0
    #: Languages the visit is given in (codes); empty: the tour's languages.
    languages: Languages = msgspec.field(default_factory=list)
    notes: Notes = msgspec.field(default_factory=dict)


class Recurring(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A slot on some weekdays (1 = Monday ... 7 = Sunday) from ``start`` to ``end``.

    Without ``start`` it runs from today, without ``end`` for ``horizon_days`` ahead:
    a standing weekly slot (the demo's) that never runs out."""

    weekdays: Annotated[
        list[Annotated[int, msgspec.Meta(ge=1, le=7)]],
        Field(title="Weekdays", choices=WEEKDAYS),
    ]
    time: SlotTime
    start: Annotated[date | None, Field(title="From", help="Empty: from today.")] = None
    end: Annotated[
        date | None, Field(title="Until", help="Empty: with no end, for the days shown ahead.")
    ] = None
    capacity: Places
    min_age: MinAge = 0
    languages: Languages = msgspec.field(default_factory=list)
    notes: Notes = msgspec.field(default_factory=dict)


class Slot(msgspec.Struct, frozen=True, kw_only=True):
    """A concrete slot: a spec on a date, with its id and its start in UTC."""

    id: str
    date: date
    time: str
    starts: datetime
    capacity: int
    min_age: int
    languages: tuple[str, ...]
    notes: Text


class VisitsConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    slots: Annotated[
        list[SlotSpec],
        Field(title="One-off slots", item="Slot", help="A visit on one given date."),
    ] = msgspec.field(default_factory=list)
    recurring: Annotated[
        list[Recurring],
        Field(
            title="Weekly slots",
            item="Weekly slot",
            help="Visits on the chosen weekdays at one time, over a term or with no end.",
        ),
    ] = msgspec.field(default_factory=list)
    #: Dates without visits (holidays, maintenance), even for recurring slots.
    blackout: Annotated[
        list[date],
        Field(
            title="Days without visits",
            item="Day",
            help="Holidays and maintenance: no visits on these days, weekly slots included.",
        ),
    ] = msgspec.field(default_factory=list)
    timezone: Annotated[
        str,
        Field(
            title="Time zone",
            help="The slots' times are local to it: Europe/Moscow, Asia/Yekaterinburg, …",
        ),
    ] = "Europe/Moscow"
    #: Hours before a slot's start after which it can no longer be booked.
    book_until_hours: Annotated[
        int,
        msgspec.Meta(ge=0, le=720),
        Field(title="Booking closes, hours before the start", help="0: open until the start."),
    ] = 0
    #: The consent the booking contact gives, and its version (kept with the contact).
    #: Empty: the plugin's own text, which names ``contact_days``.
    consent: Annotated[
        Text,
        Field(
            title="Consent to keep the contact",
            kind="text",
            help="Empty: the standard text, which says how many days the contact is kept.",
        ),
    ] = msgspec.field(default_factory=dict)
    consent_version: Annotated[
        str,
        Field(
            title="Version of the consent",
            help="Change it with the text: each contact keeps the version it agreed to.",
        ),
    ] = "1"
    #: Days the contact is kept after the slot (then the server removes it by itself).
    contact_days: Annotated[
        int,
        msgspec.Meta(ge=1, le=365),
        Field(
            title="Keep contacts, days after the visit",
            help="Then they are erased by themselves.",
        ),
    ] = 30
    #: A group code can be joined on its visit's day (local time), from this many
    #: hours before that day starts until this many hours after it ends.
    code_margin_hours: Annotated[
        int,
        msgspec.Meta(ge=0, le=72),
        Field(
            title="Group code works, hours around the visit's day",
            help="From this many hours before the day starts until this many after it ends.",
        ),
    ] = 3
    #: Slots listed on the booking page: this many days ahead.
    horizon_days: Annotated[
        int,
        msgspec.Meta(ge=1, le=400),
        Field(title="Booking page shows slots, days ahead"),
    ] = 120

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def all_slots(self, tour: Tour) -> list[Slot]:
        """Every slot the config describes, by start time (blackout dates left out)."""
        zone = self.zone()
        blackout = set(self.blackout)
        found: dict[str, Slot] = {}

        def add(day: date, spec: SlotSpec | Recurring) -> None:
            if day in blackout:
                return
            hh, mm = (int(x) for x in spec.time.split(":"))
            starts = datetime.combine(day, time(hh, mm), tzinfo=zone)
            slot_id = f"{day.isoformat()}-{hh:02d}{mm:02d}"
            found[slot_id] = Slot(
                id=slot_id,
                date=day,
                time=spec.time,
                starts=starts,
                capacity=spec.capacity,
                min_age=spec.min_age,
                languages=tuple(spec.languages or tour.languages),
                notes=spec.notes,
            )

        today = datetime.now(zone).date()
        for rule in self.recurring:
            day = rule.start or today
            end = rule.end or today + timedelta(days=self.horizon_days)
            while day <= end:
                if day.isoweekday() in rule.weekdays:
                    add(day, rule)
                day += timedelta(days=1)
        for spec in self.slots:  # a one-off slot wins over a recurring one at that time
            add(spec.date, spec)
        return sorted(found.values(), key=lambda s: s.starts)

    def code_window(self, slot: Slot) -> tuple[datetime, datetime]:
        """When the group code of a booking of ``slot`` can be joined."""
        day = datetime.combine(slot.date, time(0, 0), tzinfo=self.zone())
        margin = timedelta(hours=self.code_margin_hours)
        return day - margin, day + timedelta(days=1) + margin

    def slot(self, tour: Tour, slot_id: str) -> Slot | None:
        for slot in self.all_slots(tour):
            if slot.id == slot_id:
                return slot
        return None


@hookimpl(specname="promtour_validate_config")
def validate_config(tour: Tour, config: VisitsConfig) -> Sequence[Problem]:
    """What the schema cannot check: a known time zone, terms that end after they start,
    languages the tour has (messages translated by the console)."""
    problems = check_timezone(config.timezone, "timezone")
    for index, rule in enumerate(config.recurring):
        if rule.start is None or rule.end is None:
            continue
        if rule.end < rule.start:
            problems.append(
                Problem(
                    path=f"recurring[{index}].end",
                    message="The end ({end}) is before the start ({start}).",
                    values={"end": rule.end.isoformat(), "start": rule.start.isoformat()},
                )
            )
        if (rule.end - rule.start).days > 400:
            problems.append(
                Problem(
                    path=f"recurring[{index}].end",
                    message="A term of recurring slots is at most 400 days long.",
                )
            )
    lists: list[tuple[str, Sequence[SlotSpec | Recurring]]] = [
        ("slots", config.slots),
        ("recurring", config.recurring),
    ]
    for field, specs in lists:
        for index, spec in enumerate(specs):
            path = f"{field}[{index}].languages"
            problems += check_languages(spec.languages, tour.languages, path)
    return problems
