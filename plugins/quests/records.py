"""What the quest keeps, per tour: visitors, teams, daily boards and the option secret.

Every record belongs to one tour, so all of them live in the tour's store
(``ctx.tour_store``), which the core erases when the quest is switched off for the tour
or the tour is deleted: the plugin keeps nothing elsewhere and needs no teardown. Keys:

- ``v.<visitor>`` — :class:`VisitorState`, the authoritative record of one visitor's
  quest, written with optimistic concurrency. It holds an *outbox* of events committed
  together with the change they describe, published right after.
- ``t.<code>`` — :class:`Team`: members and the first right answer per mission.
- ``b.<day>`` — :class:`Board`: the day's scores, a projection of visitor states kept
  for fast leaderboards.
- ``k`` — :class:`TourSecret`: the key of the per-visitor option values.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from promtour.plugin import utcnow
from promtour.plugins.quests.events import QuestEvent

__all__ = [
    "SECRET_KEY",
    "Board",
    "BoardEntry",
    "MissionState",
    "Team",
    "TeamCredit",
    "TourSecret",
    "VisitorState",
    "board_key",
    "team_key",
    "visitor_key",
]


#: The key of the tour's :class:`TourSecret`.
SECRET_KEY = "k"


def visitor_key(visitor: str) -> str:
    return f"v.{visitor}"


def team_key(code: str) -> str:
    return f"t.{code}"


def board_key(day: str) -> str:
    return f"b.{day}"


class TourSecret(msgspec.Struct, kw_only=True):
    """The tour's key for the opaque option values (never sent to a browser)."""

    secret: str


class MissionState(msgspec.Struct, kw_only=True):
    #: When the visitor first saw the mission open (the time bonus counts from here).
    opened: datetime | None = None
    #: Counted answers.
    attempts: int = 0
    hints: int = 0
    #: Digests of wrong answers already counted: sending one again costs nothing.
    tried: list[str] = msgspec.field(default_factory=list)
    solved: bool = False
    failed: bool = False
    points: int = 0
    closed_at: datetime | None = None
    #: The last answer's outcome, for a page reloaded without JavaScript.
    last: str = ""

    @property
    def closed(self) -> bool:
        return self.solved or self.failed


class VisitorState(msgspec.Struct, kw_only=True):
    visitor: str
    tour: str
    #: The leaderboard day (the tour's local date when the visitor started).
    day: str
    started: datetime = msgspec.field(default_factory=utcnow)
    nickname: str = ""
    team: str | None = None
    missions: dict[str, MissionState] = msgspec.field(default_factory=dict)
    badges: list[str] = msgspec.field(default_factory=list)
    completed: datetime | None = None
    #: Bumped on every change, so projections never go back to an older copy.
    version: int = 0
    #: Events committed with the state, not yet confirmed published.
    outbox: list[QuestEvent] = msgspec.field(default_factory=list)

    @property
    def score(self) -> int:
        return sum(m.points for m in self.missions.values() if m.solved)

    @property
    def solved(self) -> int:
        return sum(1 for m in self.missions.values() if m.solved)

    @property
    def hints_used(self) -> int:
        return sum(m.hints for m in self.missions.values())


class TeamCredit(msgspec.Struct, kw_only=True):
    """The earliest right answer to a mission by a member of the team."""

    visitor: str
    points: int
    #: When the answer was given (not when it was credited): the earliest one wins.
    at: datetime = msgspec.field(default_factory=utcnow)


class Team(msgspec.Struct, kw_only=True):
    code: str
    name: str
    day: str
    created: datetime = msgspec.field(default_factory=utcnow)
    #: visitor id -> nickname ("" until chosen); order of joining.
    members: dict[str, str] = msgspec.field(default_factory=dict)
    #: mission id -> the credit; a mission counts once per team.
    solved: dict[str, TeamCredit] = msgspec.field(default_factory=dict)

    @property
    def score(self) -> int:
        return sum(c.points for c in self.solved.values())


class BoardEntry(msgspec.Struct, kw_only=True):
    nickname: str = ""
    score: int = 0
    solved: int = 0
    group: str | None = None
    team: str | None = None
    #: When the visitor reached this score (earlier ranks higher on a tie).
    reached: datetime = msgspec.field(default_factory=utcnow)
    version: int = 0


class Board(msgspec.Struct, kw_only=True):
    day: str
    #: visitor id -> entry.
    entries: dict[str, BoardEntry] = msgspec.field(default_factory=dict)
