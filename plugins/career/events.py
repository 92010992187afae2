"""The career plugin's events. None of them carries personal data.

A lead event holds only the opaque lead id: an enterprise's HR system subscribes to
``promtour.ev.<enterprise>.*.career_lead_created`` and fetches the lead through the
plugin's API with its HR token; on ``career_lead_erased`` it deletes its copy. Lead
events are published without the visitor id, so that the stream never links a
pseudonymous visitor to a named person.
"""

from __future__ import annotations

from typing import Literal

from promtour.plugin import Event

__all__ = [
    "EVENT_TYPES",
    "CareerLeadCreated",
    "CareerLeadErased",
    "CareerQuizCompleted",
    "CareerTopRanked",
]


class CareerQuizCompleted(Event, tag="career_quiz_completed"):
    """A visitor finished the interest quiz; ``code`` is their top three types ("RIC")."""

    code: str
    answered: int


class CareerTopRanked(Event, tag="career_top_ranked"):
    """The finish page ranked the professions for a visitor and ``profession`` (its
    id) came first; published again only when the first one changes. Lets a class
    report count the professions most often ranked first without reading this
    plugin's records."""

    profession: str


class CareerLeadCreated(Event, tag="career_lead_created"):
    """A consented lead is ready for the enterprise (for a minor: once the guardian
    confirmed). Fetch it with ``GET /p/career/api/<enterprise>/leads/<lead>``."""

    lead: str


class CareerLeadErased(Event, tag="career_lead_erased"):
    """A lead was erased (by the visitor, the guardian or HR): delete every copy."""

    lead: str
    by: Literal["visitor", "guardian", "hr"]


EVENT_TYPES: tuple[type[Event], ...] = (
    CareerQuizCompleted,
    CareerTopRanked,
    CareerLeadCreated,
    CareerLeadErased,
)
