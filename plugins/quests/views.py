"""What the templates get: view models with texts already in the visitor's language.

A mission's view never holds what is right: options carry opaque values, the
explanation is filled in only once the mission is closed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import msgspec
from promtour.plugin import Tour, pick_text
from promtour.plugins.quests import engine
from promtour.plugins.quests.config import (
    Badge,
    CodeMission,
    Mission,
    MultipleChoice,
    OrderMission,
    QuestsConfig,
    RiddleMission,
    SingleChoice,
)
from promtour.plugins.quests.records import Board, MissionState, Team, VisitorState

__all__ = [
    "BadgeView",
    "BoardRow",
    "BoardView",
    "HintView",
    "MissionView",
    "Option",
    "TeamRow",
    "badge_texts",
    "badge_views",
    "base_url",
    "board_view",
    "display_name",
    "mission_view",
    "team_rows",
]

#: Built-in badge names and descriptions (English source; translated by the catalog).
BADGE_TEXTS: dict[str, tuple[str, str]] = {
    "all_stations": ("Explorer", "Checked in at every station of the tour."),
    "no_hints": ("Sharp eye", "Finished the quest without a single hint."),
    "speed": ("Fast and right", "Solved every mission within {minutes} minutes."),
    "perfect": ("Perfect score", "Every mission right on the first try, without hints."),
}


def base_url(tour: Tour) -> str:
    return f"/p/quests/{tour.enterprise}/{tour.id}"


def display_name(nickname: str, visitor: str, player: str) -> str:
    """The nickname, or ``Player 3F2A`` (from the pseudonymous id) until one is chosen."""
    return nickname or f"{player} {visitor[:4].upper()}"


class Option(msgspec.Struct):
    value: str
    label: str


class HintView(msgspec.Struct):
    text: str
    cost: int


class MissionView(msgspec.Struct, kw_only=True):
    id: str
    kind: str
    title: str
    question: str
    station_number: int
    station_name: str
    points: int
    bonus_points: int = 0
    bonus_seconds: int = 0
    status: str
    waits_for: str = ""
    attempts: int = 0
    attempts_left: int = 0
    max_attempts: int = 0
    options: list[Option] = msgspec.field(default_factory=list)
    positions: list[int] = msgspec.field(default_factory=list)
    numeric: bool = False
    hints: list[HintView] = msgspec.field(default_factory=list)
    next_hint: int | None = None
    next_hint_cost: int = 0
    hints_total: int = 0
    last: str = ""
    explanation: str = ""
    awarded: int = 0
    action: str = ""
    hint_action: str = ""
    checkin_url: str = ""

    @property
    def is_open(self) -> bool:
        return self.status == engine.Availability.OPEN

    @property
    def closed(self) -> bool:
        return self.status in (engine.Availability.SOLVED, engine.Availability.FAILED)


def mission_view(
    config: QuestsConfig,
    tour: Tour,
    mission: Mission,
    state: VisitorState | None,
    visited: list[str],
    *,
    lang: str,
    key: str,
) -> MissionView:
    def t(text: dict[str, str]) -> str:
        return pick_text(text, lang)

    station = tour.station(mission.station)
    status, waits = engine.availability(config, tour, mission, state, visited)
    ms = (state.missions.get(mission.id) if state else None) or MissionState()
    limit = engine.max_attempts(config, mission)
    base = base_url(tour)
    waits_station = tour.station(waits) if waits else None
    view = MissionView(
        id=mission.id,
        kind=mission.__struct_config__.tag,  # type: ignore[arg-type]
        title=t(mission.title),
        question=t(mission.question),
        station_number=station.number if station else 0,
        station_name=t(station.name) if station else mission.station,
        points=mission.points,
        bonus_points=mission.time_bonus.points if mission.time_bonus else 0,
        bonus_seconds=mission.time_bonus.seconds if mission.time_bonus else 0,
        status=status,
        waits_for=(f"{waits_station.number} «{t(waits_station.name)}»" if waits_station else ""),
        attempts=ms.attempts,
        attempts_left=max(limit - ms.attempts, 0),
        max_attempts=limit,
        hints=[HintView(t(h.text), h.cost) for h in mission.hints[: ms.hints]],
        hints_total=len(mission.hints),
        last=ms.last,
        awarded=ms.points if ms.solved else 0,
        action=f"{base}/m/{mission.id}/answer",
        hint_action=f"{base}/m/{mission.id}/hint",
        checkin_url=f"/t/{tour.enterprise}/{tour.id}",
    )
    if ms.hints < len(mission.hints):
        view.next_hint = ms.hints
        view.next_hint_cost = mission.hints[ms.hints].cost
    if view.closed:
        view.explanation = t(mission.explanation)
        return view
    if status != engine.Availability.OPEN:
        return view
    if isinstance(mission, SingleChoice | MultipleChoice):
        view.options = [
            Option(token, t(mission.choices[i].text))
            for token, i in engine.display_options(key, mission)
        ]
    elif isinstance(mission, OrderMission):
        view.options = [
            Option(token, t(mission.steps[i])) for token, i in engine.display_options(key, mission)
        ]
        view.positions = list(range(1, len(mission.steps) + 1))
    elif isinstance(mission, RiddleMission):
        view.options = [
            Option(s.id, f"{s.number}. {t(s.name)}") for s in engine.riddle_stations(tour, mission)
        ]
    elif isinstance(mission, CodeMission):
        view.numeric = mission.numeric
    return view


class BadgeView(msgspec.Struct):
    id: str
    name: str
    description: str
    earned: bool


def badge_views(
    config: QuestsConfig, state: VisitorState | None, lang: str, _: Callable[[str], str]
) -> list[BadgeView]:
    earned = set(state.badges) if state else set()
    views = []
    for badge in config.badges:
        name, description = badge_texts(badge, lang, _)
        views.append(BadgeView(badge.id, name, description, badge.id in earned))
    return views


def badge_texts(badge: Badge, lang: str, _: Callable[[str], str]) -> tuple[str, str]:
    """The badge's name and description: the tour's texts, else the built-in ones."""
    default_name, default_description = BADGE_TEXTS[badge.rule]
    name = pick_text(badge.name, lang) or _(default_name)
    description = pick_text(badge.description, lang) or _(default_description)
    return name, description.replace("{minutes}", str(badge.minutes))


class BoardRow(msgspec.Struct):
    rank: int
    name: str
    score: int
    solved: int
    you: bool


class TeamRow(msgspec.Struct):
    rank: int
    name: str
    score: int
    members: int
    yours: bool


class BoardView(msgspec.Struct, kw_only=True):
    day: str
    group: str | None = None
    rows: list[BoardRow] = msgspec.field(default_factory=list)
    #: The viewer's own row when it is not among the shown ones.
    own: BoardRow | None = None
    teams: list[TeamRow] = msgspec.field(default_factory=list)
    updated: datetime | None = None


def board_view(
    board: Board | None,
    teams: list[Team],
    *,
    day: str,
    group: str | None,
    viewer: str,
    viewer_team: str | None,
    player: str,
    limit: int = 20,
) -> BoardView:
    view = BoardView(day=day, group=group)
    if board is not None:
        entries = [
            (visitor, e)
            for visitor, e in board.entries.items()
            if e.score > 0 or e.solved > 0
            if group is None or e.group == group
        ]
        entries.sort(key=lambda item: (-item[1].score, item[1].reached, item[0]))
        for rank, (visitor, entry) in enumerate(entries, 1):
            row = BoardRow(
                rank=rank,
                name=display_name(entry.nickname, visitor, player),
                score=entry.score,
                solved=entry.solved,
                you=visitor == viewer,
            )
            if rank <= limit:
                view.rows.append(row)
            elif row.you:
                view.own = row
    ranked = sorted((t for t in teams if t.score > 0), key=lambda t: (-t.score, t.created, t.code))
    view.teams = [
        TeamRow(
            rank=rank,
            name=team.name,
            score=team.score,
            members=len(team.members),
            yours=team.code == viewer_team,
        )
        for rank, team in enumerate(ranked[:limit], 1)
    ]
    return view


class TeamMissionRow(msgspec.Struct):
    title: str
    station: str
    by: str
    points: int
    done: bool


class MemberRow(msgspec.Struct):
    name: str
    solved: int
    points: int
    you: bool


def team_rows(
    config: QuestsConfig, tour: Tour, team: Team, *, lang: str, player: str, viewer: str
) -> tuple[list[TeamMissionRow], list[MemberRow]]:
    """Who did what: each mission with the member who first solved it, and each member
    with what they brought to the team."""
    missions = []
    for mission in engine.quest_missions(config, tour):
        credit = team.solved.get(mission.id)
        station = tour.station(mission.station)
        missions.append(
            TeamMissionRow(
                title=pick_text(mission.title, lang) or pick_text(mission.question, lang),
                station=f"{station.number}. {pick_text(station.name, lang)}" if station else "",
                by=(
                    display_name(team.members.get(credit.visitor, ""), credit.visitor, player)
                    if credit
                    else ""
                ),
                points=credit.points if credit else 0,
                done=credit is not None,
            )
        )
    members = [
        MemberRow(
            name=display_name(nick, visitor, player),
            solved=sum(1 for c in team.solved.values() if c.visitor == visitor),
            points=sum(c.points for c in team.solved.values() if c.visitor == visitor),
            you=visitor == viewer,
        )
        for visitor, nick in team.members.items()
    ]
    return missions, members
