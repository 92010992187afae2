"""The career plugin's per-tour config: the enterprise's catalogue of professions, the
RIASEC tags of its stations and quest missions, the weights of the profile, the next
steps it offers and the consent text of its lead form.

Everything a visitor reads is per language (``{ ru = "...", en = "..." }``), because
the enterprise, not the plugin, knows its professions, pay and colleges.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from promtour.plugin import SLUG, Text, Tour

__all__ = [
    "AGE_BRACKETS",
    "CareerConfig",
    "Consent",
    "Education",
    "Link",
    "MissionTags",
    "NextStep",
    "Pay",
    "Profession",
    "Riasec",
    "Weights",
    "validate_config",
]

#: The six Holland types, in the usual hexagon order.
Riasec = Literal["R", "I", "A", "S", "E", "C"]

#: Age brackets of the lead form; every bracket but ``18plus`` needs a guardian.
AGE_BRACKETS: tuple[str, ...] = ("under14", "14-15", "16-17", "18plus")

Slug = Annotated[str, msgspec.Meta(pattern=SLUG)]
Tags = Annotated[list[Riasec], msgspec.Meta(min_length=1, max_length=3)]
Url = Annotated[str, msgspec.Meta(pattern=r"^(https?://|/)\S+$")]


class Link(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An internship, a vacancy or any page the enterprise names."""

    title: Text
    url: Url
    kind: Literal["internship", "vacancy", "info"] = "info"


class Education(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One way into the profession: a college or university programme, or a course."""

    level: Literal["course", "college", "university", "on_the_job"]
    #: The programme (with its code, e.g. "15.02.16 Технология машиностроения").
    programme: Text
    #: Where: the partner college or university.
    institution: Text = msgspec.field(default_factory=dict)
    #: How long, as people say it ("2 years 10 months after 9th grade").
    duration: Text = msgspec.field(default_factory=dict)
    url: Url | None = None


class Pay(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A typical monthly pay range before tax, in the tour's region."""

    min: Annotated[int, msgspec.Meta(ge=0)]
    max: Annotated[int, msgspec.Meta(ge=0)]
    currency: str = "RUB"


class Profession(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: Slug
    title: Text
    #: What the person does, in a sentence or two.
    summary: Text
    #: The stations where this profession works.
    stations: Annotated[list[Slug], msgspec.Meta(min_length=1)]
    #: The profession's Holland code, strongest first (e.g. ``["R", "I"]``).
    riasec: Tags
    #: Skills per language: ``{ ru = ["...", ...], en = [...] }``.
    skills: dict[str, list[str]] = msgspec.field(default_factory=dict)
    education: list[Education] = msgspec.field(default_factory=list)
    pay: Pay | None = None
    #: The shift pattern ("2/2, 12-hour day and night shifts").
    shifts: Text = msgspec.field(default_factory=dict)
    links: list[Link] = msgspec.field(default_factory=list)


class MissionTags(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The RIASEC tags of a quest mission (matched by the mission id in quest events)."""

    id: str
    tags: Tags
    #: How the finish page names it in a reason ("the die clearance puzzle").
    name: Text = msgspec.field(default_factory=dict)


class NextStep(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["open_day", "internship", "college", "other"]
    title: Text
    text: Text = msgspec.field(default_factory=dict)
    url: Url | None = None


class Consent(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The enterprise's consent text for the lead form. Changing the text means a new
    ``version``: every lead records the version (and a hash of the text) it agreed to."""

    version: str = ""
    text: Text = msgspec.field(default_factory=dict)
    #: What a parent or guardian agrees to for a visitor under 18.
    guardian_text: Text = msgspec.field(default_factory=dict)


class Weights(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """How the profile is built; see docs/plugins/career.md for the reasoning."""

    #: Share of the quiz in the combined profile when both sources exist.
    quiz: Annotated[float, msgspec.Meta(ge=0)] = 0.6
    #: Share of what the visitor did on the tour.
    tour: Annotated[float, msgspec.Meta(ge=0)] = 0.4
    #: Points a station's tags get from one visit (every visitor visits: kept small).
    visit: Annotated[float, msgspec.Meta(ge=0)] = 0.25
    #: Points per re-scan of a station (the visitor came back).
    replay: Annotated[float, msgspec.Meta(ge=0)] = 1.0
    #: Points per quarter of a station's audio listened to (lingering).
    listen_progress: Annotated[float, msgspec.Meta(ge=0)] = 0.25
    #: Points for listening to a station's audio to its end.
    listen_finished: Annotated[float, msgspec.Meta(ge=0)] = 1.0
    #: Points for a completed quest mission.
    mission: Annotated[float, msgspec.Meta(ge=0)] = 1.0
    #: Extra points when the mission was solved at the first try.
    first_try: Annotated[float, msgspec.Meta(ge=0)] = 0.5
    #: Tour points of a type that give it a tour score of one half.
    saturation: Annotated[float, msgspec.Meta(gt=0)] = 3.0


class CareerConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    #: Where the pay ranges apply ("Свердловская область, 2025").
    region: Text = msgspec.field(default_factory=dict)
    show_pay: bool = True
    professions: list[Profession] = msgspec.field(default_factory=list)
    #: Station id -> the RIASEC tags of what the station shows.
    stations: dict[str, Tags] = msgspec.field(default_factory=dict)
    missions: list[MissionTags] = msgspec.field(default_factory=list)
    weights: Weights = msgspec.field(default_factory=Weights)
    next_steps: list[NextStep] = msgspec.field(default_factory=list)
    #: Offer the "tell me about internships" form (needs ``consent``).
    leads: bool = True
    consent: Consent = msgspec.field(default_factory=Consent)
    #: How a guardian's consent for a visitor under 18 is confirmed: ``link`` keeps the
    #: lead pending until the guardian opens a confirmation link; ``form`` accepts the
    #: guardian's name, contact and consent given on the form (e.g. filled in together).
    guardian_confirmation: Literal["link", "form"] = "link"
    #: Days a lead waits for the guardian's confirmation before it expires by itself.
    guardian_wait_days: Annotated[int, msgspec.Meta(ge=1, le=60)] = 7
    #: Days a lead is kept (its time-to-live in the store) before it expires by itself.
    lead_retention_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] = 180

    def profession(self, profession_id: str) -> Profession | None:
        return next((p for p in self.professions if p.id == profession_id), None)

    def at_station(self, station_id: str) -> list[Profession]:
        return [p for p in self.professions if station_id in p.stations]

    def mission(self, mission_id: str) -> MissionTags | None:
        return next((m for m in self.missions if m.id == mission_id), None)

    @property
    def leads_enabled(self) -> bool:
        return self.leads and bool(self.consent.version) and bool(self.consent.text)


def _missing(text: Text, languages: list[str]) -> list[str]:
    return [lang for lang in languages if not text.get(lang, "").strip()]


def validate_config(tour: Tour, config: CareerConfig) -> list[str]:
    """What is wrong with a tour's career config beyond its schema, each error naming
    the profession, station or key."""
    errors: list[str] = []
    stations = {s.id for s in tour.stations}
    langs = tour.languages
    seen: set[str] = set()
    for p in config.professions:
        where = f"professions.{p.id}"
        if p.id in seen:
            errors.append(f"{where}: the id appears twice")
        seen.add(p.id)
        for sid in p.stations:
            if sid not in stations:
                errors.append(f"{where}.stations: no station {sid!r} in the tour")
        for key, text in (("title", p.title), ("summary", p.summary)):
            missing = _missing(text, langs)
            if missing:
                errors.append(f"{where}.{key}: missing language(s) {', '.join(missing)}")
        if p.pay is not None and p.pay.min > p.pay.max:
            errors.append(f"{where}.pay: min {p.pay.min} is above max {p.pay.max}")
    for sid in config.stations:
        if sid not in stations:
            errors.append(f"stations.{sid}: no station {sid!r} in the tour")
    mission_ids = [m.id for m in config.missions]
    for mid in {m for m in mission_ids if mission_ids.count(m) > 1}:
        errors.append(f"missions.{mid}: the id appears twice")
    if config.weights.quiz + config.weights.tour <= 0:
        errors.append("weights: quiz and tour cannot both be 0")
    if config.leads and (config.consent.version or config.consent.text):
        if not config.consent.version.strip():
            errors.append("consent.version: a consent text needs a version")
        missing = _missing(config.consent.text, langs)
        if missing:
            errors.append(f"consent.text: missing language(s) {', '.join(missing)}")
        missing = _missing(config.consent.guardian_text, langs)
        if missing:
            errors.append(f"consent.guardian_text: missing language(s) {', '.join(missing)}")
    return errors
