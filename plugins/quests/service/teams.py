"""Team records: members and, per mission, the credit of the earliest right answer.

Many members write one team at once (fifty answering together): every write is a
``PluginStore.update``, which retries with back-off on a concurrent write.
Crediting is a minimum per mission, so it is idempotent and order-independent.
"""

from __future__ import annotations

from collections.abc import Callable

from promtour.plugin import PluginContext
from promtour.plugins.quests.events import QuestMissionCompleted
from promtour.plugins.quests.records import Team, TeamCredit, VisitorState, team_key

__all__ = [
    "TeamError",
    "check_can_switch",
    "credit_of",
    "credit_team",
    "get_team",
    "leave",
    "solved_credits",
    "sync_member",
    "update_team",
]


class TeamError(Exception):
    """A team action that cannot be done (no such team, full, already scored elsewhere)."""

    def __init__(self, message: str, status: int = 409, **values: object) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.values = values


class _Missing(Exception):
    """The team to update does not exist (never created, or its tour's records erased)."""


async def get_team(ctx: PluginContext, code: str) -> Team | None:
    return await ctx.tour_store.get(team_key(code), Team)


async def update_team(ctx: PluginContext, code: str, change: Callable[[Team], Team]) -> Team | None:
    """``change`` applied to an existing team; None if there is no such team."""

    def apply(current: Team | None) -> Team:
        if current is None:
            raise _Missing(code)
        return change(current)

    try:
        return await ctx.tour_store.update(team_key(code), Team, apply)
    except _Missing:
        return None


def _earlier(a: TeamCredit, b: TeamCredit) -> bool:
    return (a.at, a.visitor) < (b.at, b.visitor)


async def credit_team(ctx: PluginContext, code: str, credits: dict[str, TeamCredit]) -> Team | None:
    """Credit missions to a team. Per mission the earliest right answer of any member
    counts, once: crediting is a minimum, so repeating it (a retry, a redelivered
    event) or doing it in any order gives the same team."""
    team = await get_team(ctx, code)
    if team is None:
        return None
    if all(m in team.solved and not _earlier(c, team.solved[m]) for m, c in credits.items()):
        return team

    def change(current: Team) -> Team:
        for mission, credit in credits.items():
            have = current.solved.get(mission)
            if have is None or _earlier(credit, have):
                current.solved[mission] = credit
        return current

    return await update_team(ctx, code, change)


def credit_of(event: QuestMissionCompleted) -> TeamCredit:
    assert event.visitor is not None
    return TeamCredit(visitor=event.visitor, points=event.points, at=event.time)


def solved_credits(state: VisitorState) -> dict[str, TeamCredit]:
    """The visitor's right answers as credits (they count for a team they join)."""
    return {
        mission: TeamCredit(visitor=state.visitor, points=ms.points, at=ms.closed_at)
        for mission, ms in state.missions.items()
        if ms.solved and ms.closed_at is not None
    }


async def leave(ctx: PluginContext, code: str, visitor: str) -> None:
    def change(current: Team) -> Team:
        current.members.pop(visitor, None)
        return current

    await update_team(ctx, code, change)


async def check_can_switch(ctx: PluginContext, state: VisitorState | None, code: str) -> None:
    """A visitor who scored for their team stays with it (their answers do)."""
    if state is None or not state.team or state.team == code:
        return
    old = await get_team(ctx, state.team)
    if old is not None and any(c.visitor == state.visitor for c in old.solved.values()):
        raise TeamError(
            "You already scored for team {team}: your answers stay with it.", team=old.name
        )


async def sync_member(ctx: PluginContext, state: VisitorState) -> None:
    """Keep the member's nickname on the team page current."""
    if not state.team:
        return
    team = await get_team(ctx, state.team)
    if team is None or team.members.get(state.visitor, None) == state.nickname:
        return

    def change(current: Team) -> Team:
        if state.visitor in current.members:
            current.members[state.visitor] = state.nickname
        return current

    await update_team(ctx, state.team, change)
