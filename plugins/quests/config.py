"""The quest's per-tour config: missions, badges and rules, as msgspec Structs.

A tour's ``[plugins.quests]`` table is converted to :class:`QuestsConfig` when the
tour is saved; :func:`promtour.plugins.quests.validate.validate` then checks what a
schema cannot (stations that exist, texts in exactly the tour's languages, a
single-choice mission with exactly one right answer).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from promtour.plugin import SLUG, Field

__all__ = [
    "Badge",
    "Choice",
    "CodeMission",
    "Hint",
    "Mission",
    "MultipleChoice",
    "OrderMission",
    "QuestsConfig",
    "RiddleMission",
    "SingleChoice",
    "TimeBonus",
    "default_badges",
]

Text = dict[str, str]
Id = Annotated[str, msgspec.Meta(pattern=SLUG)]
Points = Annotated[int, msgspec.Meta(ge=0, le=10_000)]

MAX_MISSIONS = 300

#: The console's names of the kinds of mission (msgids of the quests catalog).
MISSION_KINDS = {
    "single": "One right answer",
    "multiple": "Several right answers",
    "code": "A code or number",
    "order": "Put in order",
    "riddle": "Riddle: find the station",
}
BADGE_RULES = {
    "all_stations": "Every station visited",
    "no_hints": "No hints taken",
    "speed": "Every mission within the minutes",
    "perfect": "Every answer right at the first try",
}


class Hint(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A hint the visitor may take; it costs ``cost`` points of the mission's award."""

    text: Annotated[Text, Field(title="Hint")]
    cost: Annotated[Points, Field(title="Costs points", help="Taken off the mission's award.")] = 1


class TimeBonus(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Extra points for a right answer within ``seconds`` of first seeing the mission."""

    seconds: Annotated[int, msgspec.Meta(ge=1, le=86_400), Field(title="Within seconds")]
    points: Annotated[Points, Field(title="Bonus points")]


class Choice(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    text: Annotated[Text, Field(title="Answer")]
    correct: Annotated[bool, Field(title="This answer is right")] = False


class MissionBase(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, tag_field="type"):
    """What every mission has. ``type`` (the tag) picks the kind of answer."""

    id: Annotated[
        Id, Field(title="Mission code", help="Latin letters, digits and “-”, e.g. press-1.")
    ]
    #: The station whose check-in opens the mission.
    station: Annotated[str, Field(title="Station", kind="station")]
    question: Annotated[Text, Field(title="Question", kind="text")]
    title: Annotated[Text, Field(title="Title")] = msgspec.field(default_factory=dict)
    points: Annotated[Points, Field(title="Points")] = 10
    hints: Annotated[list[Hint], Field(title="Hints", item="Hint")] = msgspec.field(
        default_factory=list
    )
    time_bonus: Annotated[TimeBonus | None, Field(title="Bonus for speed")] = None
    #: Shown once the mission is closed (solved, or out of attempts).
    explanation: Annotated[Text, Field(title="Explanation after the answer", kind="text")] = (
        msgspec.field(default_factory=dict)
    )
    #: Overrides the tour's ``max_attempts`` for this mission.
    max_attempts: Annotated[
        Annotated[int, msgspec.Meta(ge=1, le=20)] | None,
        Field(title="Attempts", help="Empty: as set for the whole tour."),
    ] = None


class SingleChoice(MissionBase, kw_only=True, tag="single"):
    """Pick one answer; exactly one choice is correct."""

    choices: Annotated[list[Choice], Field(title="Answers", item="Answer")]


class MultipleChoice(MissionBase, kw_only=True, tag="multiple"):
    """Pick every right answer; the picked set must equal the correct set."""

    choices: Annotated[list[Choice], Field(title="Answers", item="Answer")]


class CodeMission(MissionBase, kw_only=True, tag="code"):
    """Type a number or code found on the equipment (a plate, a label, a display).

    Compared without case, spaces or dashes, with a decimal comma read as a point and
    Cyrillic letters that look Latin read as Latin (a typed ``КР-1000`` is ``KP1000``)."""

    answers: Annotated[list[str], Field(title="Right answers")]
    #: Shows a numeric keypad on phones.
    numeric: Annotated[bool, Field(title="Digits only (numeric keypad)")] = False


class OrderMission(MissionBase, kw_only=True, tag="order"):
    """Put the steps of a process in order; ``steps`` lists them in the right order."""

    steps: Annotated[list[Text], Field(title="Steps in the right order", item="Step")]


class RiddleMission(MissionBase, kw_only=True, tag="riddle"):
    """A riddle whose answer is a station (usually the next one): pick it from the list."""

    answer_station: Annotated[str, Field(title="The answer: a station", kind="station")]


Mission = SingleChoice | MultipleChoice | CodeMission | OrderMission | RiddleMission


class Badge(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A badge and the rule that awards it; empty texts use the built-in name."""

    id: Annotated[Id, Field(title="Badge code")]
    rule: Annotated[
        Literal["all_stations", "no_hints", "speed", "perfect"],
        Field(title="Awarded for", choices=BADGE_RULES),
    ]
    name: Annotated[Text, Field(title="Name")] = msgspec.field(default_factory=dict)
    description: Annotated[Text, Field(title="Description")] = msgspec.field(default_factory=dict)
    #: For ``speed``: every mission closed within this many minutes of the first opening.
    minutes: Annotated[int, msgspec.Meta(ge=1, le=1440), Field(title="Minutes (for speed)")] = 30


def default_badges() -> list[Badge]:
    return [
        Badge(id="explorer", rule="all_stations"),
        Badge(id="sharp-eye", rule="no_hints"),
        Badge(id="fast", rule="speed", minutes=30),
        Badge(id="perfect", rule="perfect"),
    ]


class QuestsConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``[plugins.quests]`` of a tour."""

    #: ``free``: any order; ``fixed``: a station's missions open only after every
    #: mission of the previous station (in tour order) is closed.
    order: Annotated[
        Literal["free", "fixed"],
        Field(
            title="Order of the missions",
            choices={"free": "Any order", "fixed": "Station by station, in tour order"},
        ),
    ] = "free"
    max_attempts: Annotated[int, msgspec.Meta(ge=1, le=20), Field(title="Attempts per mission")] = 3
    #: Points taken off a mission's award for each wrong attempt before the right one.
    wrong_answer_cost: Annotated[Points, Field(title="Points off per wrong answer")] = 0
    #: ``public``: the day's board and group boards; ``group``: a visitor sees only
    #: their own group's board; ``hidden``: no board for visitors (staff with a token
    #: can still read it).
    leaderboard: Annotated[
        Literal["public", "group", "hidden"],
        Field(
            title="Leaderboard",
            choices={
                "public": "Everyone sees the day's board",
                "group": "Each group sees its own board",
                "hidden": "No board for visitors",
            },
        ),
    ] = "public"
    team_size: Annotated[int, msgspec.Meta(ge=1, le=500), Field(title="Largest team")] = 8
    #: The day of a leaderboard is the local date in this zone.
    timezone: Annotated[
        str, Field(title="Time zone", help="The leaderboard's day follows it, e.g. Europe/Moscow.")
    ] = "Europe/Moscow"
    intro: Annotated[Text, Field(title="Introduction", kind="text")] = msgspec.field(
        default_factory=dict
    )
    missions: Annotated[
        list[Mission], Field(title="Missions", item="Mission", choices=MISSION_KINDS)
    ] = msgspec.field(default_factory=list)
    badges: Annotated[list[Badge], Field(title="Badges", item="Badge")] = msgspec.field(
        default_factory=default_badges
    )

    def mission(self, mission_id: str) -> Mission | None:
        return next((m for m in self.missions if m.id == mission_id), None)

    def missions_at(self, station: str) -> list[Mission]:
        return [m for m in self.missions if m.station == station]
