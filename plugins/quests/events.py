"""The quest's event types. None carries a nickname or anything else personal: the
visitor is the pseudonymous id of the envelope, a team is its short code.

Event ids are derived from what happened (visitor, mission, attempt), so the same
fact published twice — a retried request, an outbox flushed by two requests — is
stored once by the stream's duplicate window, and consumers can tell repeats apart.
"""

from __future__ import annotations

import uuid

from promtour.plugin import Event

__all__ = [
    "QUEST_EVENT_TYPES",
    "QuestAnswerSubmitted",
    "QuestBadgeAwarded",
    "QuestCompleted",
    "QuestEvent",
    "QuestHintTaken",
    "QuestMissionCompleted",
    "QuestMissionFailed",
    "QuestNicknameChosen",
    "QuestTeamJoined",
    "fact_id",
]

_NS = uuid.UUID("3a1f5c9e-2b7d-4e0a-9c41-7d2e8f6b0a15")


def fact_id(*parts: str | int) -> str:
    """A stable event id for one fact (e.g. tour key, visitor, mission, attempt)."""
    return uuid.uuid5(_NS, ":".join(str(p) for p in parts)).hex


class QuestAnswerSubmitted(Event, tag="quest_answer_submitted"):
    """A counted answer to a mission (a repeat of a tried answer is not counted)."""

    mission: str
    correct: bool
    #: 1 for the first counted answer to this mission.
    attempt: int


class QuestMissionCompleted(Event, tag="quest_mission_completed"):
    """A visitor answered a mission right; once per visitor and mission."""

    mission: str
    #: Points awarded (hint costs, wrong-answer costs and time bonus applied).
    points: int
    hints_used: int
    correct_first_try: bool
    #: The visitor's team code at that moment (credited to the team once per mission).
    team: str | None = None


class QuestMissionFailed(Event, tag="quest_mission_failed"):
    """A visitor used up a mission's attempts without the right answer."""

    mission: str
    attempts: int


class QuestHintTaken(Event, tag="quest_hint_taken"):
    mission: str
    #: 1 for the mission's first hint.
    hint: int
    cost: int


class QuestBadgeAwarded(Event, tag="quest_badge_awarded"):
    badge: str


class QuestCompleted(Event, tag="quest_completed"):
    """Every mission of the tour is closed (solved or out of attempts) for a visitor."""

    score: int
    solved: int = 0
    missions: int = 0


class QuestNicknameChosen(Event, tag="quest_nickname_chosen"):
    """A visitor chose or changed their nickname (which stays out of the event)."""


class QuestTeamJoined(Event, tag="quest_team_joined"):
    team: str
    #: True for the visitor who created the team.
    created: bool = False


QuestEvent = (
    QuestAnswerSubmitted
    | QuestMissionCompleted
    | QuestMissionFailed
    | QuestHintTaken
    | QuestBadgeAwarded
    | QuestCompleted
    | QuestNicknameChosen
    | QuestTeamJoined
)

QUEST_EVENT_TYPES: tuple[type[Event], ...] = (
    QuestAnswerSubmitted,
    QuestMissionCompleted,
    QuestMissionFailed,
    QuestHintTaken,
    QuestBadgeAwarded,
    QuestCompleted,
    QuestNicknameChosen,
    QuestTeamJoined,
)
