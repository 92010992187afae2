"""The safety plugin's per-tour config: the rules, the protective equipment per station
and an optional briefing quiz."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal, get_args

import msgspec
from promtour.plugin import Field, Problem, Text, Tour, check_station, hookimpl

__all__ = ["PPE_KINDS", "Question", "SafetyConfig", "validate_config"]

#: The equipment and rules that have an icon (static/ppe/<kind>.svg) and a label.
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
PPE_KINDS: tuple[str, ...] = get_args(Ppe)


#: The console's names of the equipment (the same msgids as the visitor's icons).
PPE_NAMES = {
    "helmet": "Hard hat",
    "glasses": "Safety glasses",
    "ear_protection": "Ear protection",
    "gloves": "Gloves",
    "closed_shoes": "Closed shoes",
    "vest": "High-visibility vest",
    "no_photo": "No photos",
    "no_phone": "No phones",
}


class Question(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    question: Annotated[Text, Field(title="Question")]
    options: Annotated[
        list[Text],
        msgspec.Meta(min_length=2, max_length=5),
        Field(title="Answer options", item="Option", help="2 to 5 options."),
    ]
    #: Index of the right option (0 = the first).
    correct: Annotated[
        int,
        Field(
            title="Number of the right option",
            help="Counted from 0: 0 is the first option, 1 the second, 2 the third.",
        ),
    ]


class SafetyConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    #: The tour's rules, one per item, per language.
    rules: Annotated[list[Text], Field(title="Safety rules", item="Rule")] = msgspec.field(
        default_factory=list
    )
    min_age: Annotated[
        int, msgspec.Meta(ge=0, le=120), Field(title="Minimum age, years", help="0: no limit.")
    ] = 0
    evacuation: Annotated[Text, Field(title="What to do in an emergency", kind="text")] = (
        msgspec.field(default_factory=dict)
    )
    #: Station id -> the equipment needed there (shown as icons with text).
    ppe: Annotated[
        dict[str, list[Ppe]],
        Field(
            title="Protective equipment at the stations",
            kind="station",
            choices=PPE_NAMES,
            help="Visitors see it at the station as icons with text.",
        ),
    ] = msgspec.field(default_factory=dict)
    #: Require the briefing (rules + quiz) before station panels are shown: ``true``
    #: for every visitor, ``"groups"`` only for visitors in a group (a booked class),
    #: ``false`` never.
    briefing: Annotated[
        bool | Literal["groups"],
        Field(
            title="Briefing before the stations",
            choices={
                "false": "Not required",
                "true": "Required of every visitor",
                "groups": "Required of visitors in a group (a booked class)",
            },
            help="The rules and the quiz: the stations open when every answer is right.",
        ),
    ] = False
    quiz: Annotated[
        list[Question],
        Field(
            title="Briefing quiz",
            item="Question",
            help="2 to 5 questions when the briefing is required.",
        ),
    ] = msgspec.field(default_factory=list)


@hookimpl(specname="promtour_validate_config")
def validate_config(tour: Tour, config: SafetyConfig) -> Sequence[Problem]:
    """What the schema cannot check: stations that exist, a quiz of a sensible length,
    a right answer among the options (messages translated by the console)."""
    problems: list[Problem] = []
    for station in config.ppe:
        problems += check_station(tour, station, "ppe")
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
