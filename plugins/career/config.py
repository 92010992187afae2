"""The career plugin's per-tour config: the enterprise's catalogue of professions, the
RIASEC tags of its stations and quest missions, the weights of the profile, the next
steps it offers and the consent text of its lead form.

Everything a visitor reads is per language (``{ ru = "...", en = "..." }``), because
the enterprise, not the plugin, knows its professions, pay and colleges.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from promtour.plugin import (
    SLUG,
    Field,
    Problem,
    Text,
    Tour,
    check_station,
    check_text,
    check_unique,
    hookimpl,
)

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

#: The console's names of the Holland types (msgids of the career catalog).
RIASEC_NAMES = {
    "R": "Realistic: hands and machines",
    "I": "Investigative: finding out how",
    "A": "Artistic: designing",
    "S": "Social: helping and teaching",
    "E": "Enterprising: leading",
    "C": "Conventional: order and accuracy",
}

Slug = Annotated[str, msgspec.Meta(pattern=SLUG)]
Tags = Annotated[list[Riasec], msgspec.Meta(min_length=1, max_length=3)]
Url = Annotated[str, msgspec.Meta(pattern=r"^(https?://|/)\S+$")]


class Link(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An internship, a vacancy or any page the enterprise names."""

    title: Annotated[Text, Field(title="Title")]
    url: Annotated[Url, Field(title="Address (https://…)")]
    kind: Annotated[
        Literal["internship", "vacancy", "info"],
        Field(
            title="Kind",
            choices={"internship": "Internship", "vacancy": "Vacancy", "info": "Information"},
        ),
    ] = "info"


class Education(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One way into the profession: a college or university programme, or a course."""

    level: Annotated[
        Literal["course", "college", "university", "on_the_job"],
        Field(
            title="Level",
            choices={
                "course": "Course",
                "college": "College",
                "university": "University",
                "on_the_job": "Training on the job",
            },
        ),
    ]
    #: The programme (with its code, e.g. "15.02.16 Технология машиностроения").
    programme: Annotated[Text, Field(title="Programme")]
    #: Where: the partner college or university.
    institution: Annotated[Text, Field(title="College or university")] = msgspec.field(
        default_factory=dict
    )
    #: How long, as people say it ("2 years 10 months after 9th grade").
    duration: Annotated[Text, Field(title="Duration")] = msgspec.field(default_factory=dict)
    url: Annotated[Url | None, Field(title="Address (https://…)")] = None


class Pay(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A typical monthly pay range before tax, in the tour's region."""

    min: Annotated[Annotated[int, msgspec.Meta(ge=0)], Field(title="From (per month)")]
    max: Annotated[Annotated[int, msgspec.Meta(ge=0)], Field(title="To (per month)")]
    currency: Annotated[str, Field(title="Currency")] = "RUB"


class Profession(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: Annotated[
        Slug,
        Field(title="Profession code", help="Latin letters, digits and “-”, e.g. press-operator."),
    ]
    title: Annotated[Text, Field(title="Profession")]
    #: What the person does, in a sentence or two.
    summary: Annotated[Text, Field(title="What the person does", kind="text")]
    #: The stations where this profession works.
    stations: Annotated[
        Annotated[list[Slug], msgspec.Meta(min_length=1)],
        Field(title="Stations where it works", kind="station"),
    ]
    #: The profession's Holland code, strongest first (e.g. ``["R", "I"]``).
    riasec: Annotated[Tags, Field(title="Interest types (1 to 3)", choices=RIASEC_NAMES)]
    #: Skills per language: ``{ ru = ["...", ...], en = [...] }``.
    skills: Annotated[dict[str, list[str]], Field(title="Skills")] = msgspec.field(
        default_factory=dict
    )
    education: Annotated[list[Education], Field(title="Where to learn it", item="Way to learn")] = (
        msgspec.field(default_factory=list)
    )
    pay: Annotated[Pay | None, Field(title="Pay")] = None
    #: The shift pattern ("2/2, 12-hour day and night shifts").
    shifts: Annotated[Text, Field(title="Shifts")] = msgspec.field(default_factory=dict)
    links: Annotated[list[Link], Field(title="Links", item="Link")] = msgspec.field(
        default_factory=list
    )


class MissionTags(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The RIASEC tags of a quest mission (matched by the mission id in quest events)."""

    id: Annotated[str, Field(title="Quest mission code")]
    tags: Annotated[Tags, Field(title="Interest types (1 to 3)", choices=RIASEC_NAMES)]
    #: How the finish page names it in a reason ("the die clearance puzzle").
    name: Annotated[Text, Field(title="How the finish page names it")] = msgspec.field(
        default_factory=dict
    )


class NextStep(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    kind: Annotated[
        Literal["open_day", "internship", "college", "other"],
        Field(
            title="Kind",
            choices={
                "open_day": "Open day",
                "internship": "Internship",
                "college": "College",
                "other": "Other",
            },
        ),
    ]
    title: Annotated[Text, Field(title="Title")]
    text: Annotated[Text, Field(title="Text", kind="text")] = msgspec.field(default_factory=dict)
    url: Annotated[Url | None, Field(title="Address (https://…)")] = None


class Consent(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The enterprise's consent text for the lead form. Changing the text means a new
    ``version``: every lead records the version (and a hash of the text) it agreed to."""

    version: Annotated[
        str, Field(title="Consent version", help="A new text needs a new version.")
    ] = ""
    text: Annotated[Text, Field(title="Consent text", kind="text")] = msgspec.field(
        default_factory=dict
    )
    #: What a parent or guardian agrees to for a visitor under 18.
    guardian_text: Annotated[
        Text, Field(title="Consent text for a parent or guardian", kind="text")
    ] = msgspec.field(default_factory=dict)


class Weights(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """How the profile is built; see docs/plugins/career.md for the reasoning."""

    #: Share of the quiz in the combined profile when both sources exist.
    quiz: Annotated[Annotated[float, msgspec.Meta(ge=0)], Field(title="Share of the quiz")] = 0.6
    #: Share of what the visitor did on the tour.
    tour: Annotated[Annotated[float, msgspec.Meta(ge=0)], Field(title="Share of the tour")] = 0.4
    #: Points a station's tags get from one visit (every visitor visits: kept small).
    visit: Annotated[
        Annotated[float, msgspec.Meta(ge=0)], Field(title="Points per station visit")
    ] = 0.25
    #: Points per re-scan of a station (the visitor came back).
    replay: Annotated[
        Annotated[float, msgspec.Meta(ge=0)], Field(title="Points per repeated scan")
    ] = 1.0
    #: Points per quarter of a station's audio listened to (lingering).
    listen_progress: Annotated[
        Annotated[float, msgspec.Meta(ge=0)], Field(title="Points per quarter of audio listened")
    ] = 0.25
    #: Points for listening to a station's audio to its end.
    listen_finished: Annotated[
        Annotated[float, msgspec.Meta(ge=0)], Field(title="Points for audio listened to the end")
    ] = 1.0
    #: Points for a completed quest mission.
    mission: Annotated[
        Annotated[float, msgspec.Meta(ge=0)], Field(title="Points per quest mission")
    ] = 1.0
    #: Extra points when the mission was solved at the first try.
    first_try: Annotated[
        Annotated[float, msgspec.Meta(ge=0)], Field(title="Extra points for a first-try answer")
    ] = 0.5
    #: Tour points of a type that give it a tour score of one half.
    saturation: Annotated[
        Annotated[float, msgspec.Meta(gt=0)], Field(title="Points for a half score")
    ] = 3.0


class CareerConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    #: Where the pay ranges apply ("Свердловская область, 2025").
    region: Annotated[Text, Field(title="Region of the pay ranges")] = msgspec.field(
        default_factory=dict
    )
    show_pay: Annotated[bool, Field(title="Show pay")] = True
    professions: Annotated[list[Profession], Field(title="Professions", item="Profession")] = (
        msgspec.field(default_factory=list)
    )
    #: Station id -> the RIASEC tags of what the station shows.
    stations: Annotated[
        dict[str, Tags],
        Field(title="Interest types of the stations", kind="station", choices=RIASEC_NAMES),
    ] = msgspec.field(default_factory=dict)
    missions: Annotated[
        list[MissionTags], Field(title="Interest types of quest missions", item="Mission")
    ] = msgspec.field(default_factory=list)
    weights: Annotated[Weights, Field(title="Profile weights")] = msgspec.field(
        default_factory=Weights
    )
    next_steps: Annotated[list[NextStep], Field(title="Next steps", item="Next step")] = (
        msgspec.field(default_factory=list)
    )
    #: Offer the "tell me about internships" form (needs ``consent``).
    leads: Annotated[bool, Field(title="Offer the contact form")] = True
    consent: Annotated[Consent, Field(title="Consent")] = msgspec.field(default_factory=Consent)
    #: How a guardian's consent for a visitor under 18 is confirmed: ``link`` keeps the
    #: lead pending until the guardian opens a confirmation link; ``form`` accepts the
    #: guardian's name, contact and consent given on the form (e.g. filled in together).
    guardian_confirmation: Annotated[
        Literal["link", "form"],
        Field(
            title="Guardian consent",
            choices={"link": "By a confirmation link", "form": "On the form"},
        ),
    ] = "link"
    #: Days a lead waits for the guardian's confirmation before it expires by itself.
    guardian_wait_days: Annotated[
        Annotated[int, msgspec.Meta(ge=1, le=60)], Field(title="Days to wait for the guardian")
    ] = 7
    #: Days a lead is kept (its time-to-live in the store) before it expires by itself.
    lead_retention_days: Annotated[
        Annotated[int, msgspec.Meta(ge=1, le=3650)], Field(title="Days a lead is kept")
    ] = 180

    def profession(self, profession_id: str) -> Profession | None:
        return next((p for p in self.professions if p.id == profession_id), None)

    def at_station(self, station_id: str) -> list[Profession]:
        return [p for p in self.professions if station_id in p.stations]

    def mission(self, mission_id: str) -> MissionTags | None:
        return next((m for m in self.missions if m.id == mission_id), None)

    @property
    def leads_enabled(self) -> bool:
        return self.leads and bool(self.consent.version) and bool(self.consent.text)


@hookimpl(specname="promtour_validate_config")
def validate_config(tour: Tour, config: CareerConfig) -> list[Problem]:
    """What is wrong with a tour's career config beyond its schema: each
    :class:`~promtour.plugin.Problem` an English msgid (translated by the console with
    this plugin's catalog) with the path of its field (``professions[0].stations``)."""
    langs = tour.languages
    problems = check_unique([p.id for p in config.professions], "professions")
    for i, p in enumerate(config.professions):
        where = f"professions[{i}]"
        for sid in p.stations:
            problems += check_station(tour, sid, f"{where}.stations")
        problems += check_text(p.title, langs, f"{where}.title")
        problems += check_text(p.summary, langs, f"{where}.summary")
        if p.pay is not None and p.pay.min > p.pay.max:
            problems.append(
                Problem(
                    path=f"{where}.pay.min",
                    message="The lowest pay ({min}) is above the highest ({max}).",
                    values={"min": p.pay.min, "max": p.pay.max},
                )
            )
    for sid in config.stations:
        problems += check_station(tour, sid, f"stations.{sid}")
    problems += check_unique([m.id for m in config.missions], "missions")
    if config.weights.quiz + config.weights.tour <= 0:
        problems.append(
            Problem(path="weights.quiz", message="The quiz and the tour cannot both weigh 0.")
        )
    if config.leads and (config.consent.version or config.consent.text):
        if not config.consent.version.strip():
            problems.append(
                Problem(path="consent.version", message="A consent text needs a version.")
            )
        problems += check_text(config.consent.text, langs, "consent.text")
        problems += check_text(config.consent.guardian_text, langs, "consent.guardian_text")
    return problems
