"""The safety plugin's per-tour config: the rules, the protective equipment per station
and an optional briefing quiz."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

import msgspec
from promtour.plugin import Problem, Text, Tour

__all__ = ["PPE_KINDS", "Question", "SafetyConfig", "validate_config"]

#: The equipment and rules that have an icon (static/ppe/<kind>.svg) and a label.
PPE_KINDS = (
    "helmet",
    "glasses",
    "ear_protection",
    "gloves",
    "closed_shoes",
    "vest",
    "no_photo",
    "no_phone",
)
Ppe = Literal[
    "helmet",
    "glasses",
    "ear_protection",
    "gloves",
    "closed_shoes",
    "vest",
    "no_photo",
    "no_phone",
]


class Question(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    question: Text
    options: Annotated[list[Text], msgspec.Meta(min_length=2, max_length=5)]
    #: Index of the right option (0 = the first).
    correct: int


class SafetyConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    #: The tour's rules, one per item, per language.
    rules: list[Text] = msgspec.field(default_factory=list)
    min_age: Annotated[int, msgspec.Meta(ge=0, le=120)] = 0
    evacuation: Text = msgspec.field(default_factory=dict)
    #: Station id -> the equipment needed there (shown as icons with text).
    ppe: dict[str, list[Ppe]] = msgspec.field(default_factory=dict)
    #: Require the briefing (rules + quiz) before station panels are shown: ``true``
    #: for every visitor, ``"groups"`` only for visitors in a group (a booked class),
    #: ``false`` never.
    briefing: bool | Literal["groups"] = False
    quiz: list[Question] = msgspec.field(default_factory=list)


def validate_config(tour: Tour, config: SafetyConfig) -> Sequence[Problem]:
    """What the schema cannot check: stations that exist, a quiz of a sensible length,
    a right answer among the options (messages translated by the console)."""
    problems: list[Problem] = []
    for station in config.ppe:
        if tour.station(station) is None:
            problems.append(
                Problem(
                    path="ppe",
                    message="The tour has no station “{station}”.",
                    values={"station": station},
                )
            )
    if config.briefing and not 2 <= len(config.quiz) <= 5:
        problems.append(
            Problem(
                path="quiz",
                message="A briefing needs 2 to 5 questions (now {count}).",
                values={"count": len(config.quiz)},
            )
        )
    for index, question in enumerate(config.quiz):
        if not 0 <= question.correct < len(question.options):
            problems.append(
                Problem(
                    path=f"quiz[{index}].correct",
                    message="There is no option number {number}: count from 0 up to {last}.",
                    values={"number": question.correct, "last": len(question.options) - 1},
                )
            )
    return problems
