"""The domain model: enterprises, tours, stations, visitors and their progress.

Everything is a msgspec Struct, stored as JSON in JetStream KV buckets. Translated
text is a mapping from language code to text (``{"ru": "...", "en": "..."}``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec

__all__ = [
    "SLUG",
    "Enterprise",
    "Progress",
    "Station",
    "Text",
    "Tour",
    "TourKey",
    "pick_text",
    "utcnow",
]

#: Ids of enterprises, tours, stations and plugins: short, lower-case, URL- and subject-safe.
SLUG = r"^[a-z0-9][a-z0-9_-]{0,39}$"
Slug = Annotated[str, msgspec.Meta(pattern=SLUG)]
SLUG_RE = re.compile(SLUG)

#: Text per language code.
Text = dict[str, str]


def utcnow() -> datetime:
    return datetime.now(UTC)


def pick_text(text: Text | None, lang: str, fallback: str = "") -> str:
    """The text in ``lang``, else the first translation there is."""
    if not text:
        return fallback
    return text.get(lang) or next(iter(text.values()), fallback)


class Enterprise(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: Slug
    name: Text
    contact: str = ""


class Station(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: Slug
    #: Printed under the QR code for typing in when the camera fails.
    number: Annotated[int, msgspec.Meta(ge=1, le=9999)]
    name: Text
    description: Text = msgspec.field(default_factory=dict)
    enabled: bool = True
    #: A picture of the station: a file of the tour's media (``img/press.png``), shown
    #: at the top of its page; ``image_alt`` says what it shows, per language.
    image: str = ""
    image_alt: Text = msgspec.field(default_factory=dict)


class TourKey(msgspec.Struct, kw_only=True):
    """A station-code signing key; a tour keeps the active one and may keep old ones."""

    kid: str
    secret: str
    created: datetime = msgspec.field(default_factory=utcnow)


class Tour(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: Slug
    enterprise: Slug
    name: Text
    description: Text = msgspec.field(default_factory=dict)
    languages: list[str] = msgspec.field(default_factory=lambda: ["ru", "en"])
    default_language: str = "ru"
    stations: list[Station] = msgspec.field(default_factory=list)
    #: Enabled plugins and their per-tour config, validated against each plugin's schema.
    plugins: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)
    #: The colour of the phone's browser bar and of the saved app (web app manifest).
    theme_color: Annotated[str, msgspec.Meta(pattern=r"^#[0-9a-fA-F]{6}$")] = "#0b5fa5"
    #: ``listed``: on the site's front page for anyone; ``unlisted``: reached only by
    #: its link and its posters (a private group's or a not yet opened tour).
    visibility: Annotated[str, msgspec.Meta(pattern=r"^(listed|unlisted)$")] = "listed"
    #: Saving the tour for offline use: ``offer`` (a button on the start and station
    #: pages) or ``auto`` (the start page saves it by itself, e.g. where the entrance
    #: has good Wi-Fi; the button stays).
    save_offline: Annotated[str, msgspec.Meta(pattern=r"^(offer|auto)$")] = "offer"
    #: Signing keys, newest last; only the last one signs new codes.
    keys: list[TourKey] = msgspec.field(default_factory=list)

    @property
    def key(self) -> str:
        """The KV key and the unique name of this tour: ``<enterprise>.<tour>``."""
        return f"{self.enterprise}.{self.id}"

    def station(self, station_id: str) -> Station | None:
        return next((s for s in self.stations if s.id == station_id), None)

    def station_by_number(self, number: int) -> Station | None:
        return next((s for s in self.stations if s.number == number), None)

    @property
    def enabled_stations(self) -> list[Station]:
        return [s for s in self.stations if s.enabled]


class Progress(msgspec.Struct, kw_only=True):
    """One visitor's progress through one tour, updated with optimistic concurrency."""

    visitor: str
    tour: str
    #: Station ids in the order first visited.
    visited: list[str] = msgspec.field(default_factory=list)
    #: Check-ins per station, re-scans included (a double scan counts once).
    scans: dict[str, int] = msgspec.field(default_factory=dict)
    #: Time of the last check-in per station, to tell a double scan from a re-scan.
    last_scan: dict[str, datetime] = msgspec.field(default_factory=dict)
    group: str | None = None
    started: datetime = msgspec.field(default_factory=utcnow)
    finished: datetime | None = None
