"""Joining and creating teams: a visitor is in one team per tour.

The visitor's record names the team (with a ``quest_team_joined`` event in its
outbox); the team's record lists the member. A visitor who scored for their team
cannot switch (their answers stay with it); their earlier right answers count for a
team they join (the earliest answer per mission wins).
"""

from __future__ import annotations

import secrets

from promtour.plugin import PluginContext, Progress, utcnow
from promtour.plugins.quests import engine
from promtour.plugins.quests.config import QuestsConfig
from promtour.plugins.quests.events import QuestTeamJoined, fact_id
from promtour.plugins.quests.records import Team, VisitorState, team_key
from promtour.plugins.quests.service import teams
from promtour.plugins.quests.service.outbox import flush
from promtour.plugins.quests.service.teams import TeamError
from promtour.plugins.quests.service.visitors import commit, event, load

__all__ = ["create_team", "join_team"]


async def _free_to_switch(ctx: PluginContext, code: str) -> tuple[str, VisitorState | None]:
    """The visitor of the request and their quest record, once they may move to the team
    ``code`` ("" for a new one); :class:`TeamError` when they may not."""
    visitor = ctx.visitor
    assert visitor is not None
    state = await load(ctx)
    await teams.check_can_switch(ctx, state, code)
    return visitor, state


async def _switch_to(
    ctx: PluginContext,
    config: QuestsConfig,
    team: Team,
    *,
    created: bool,
    progress: Progress | None,
) -> VisitorState:
    group = progress.group if progress else None
    previous: str | None = None

    def change(state: VisitorState) -> None:
        nonlocal previous
        if state.team == team.code:
            return
        previous = state.team
        state.team = team.code
        state.version += 1
        state.outbox.append(
            event(
                ctx,
                state,
                QuestTeamJoined,
                group,
                id=fact_id(ctx.tour.key, state.visitor, "team", team.code),
                team=team.code,
                created=created,
            )
        )

    state = await commit(ctx, config, change)
    if previous:
        await teams.leave(ctx, previous, state.visitor)
    credits = teams.solved_credits(state)
    if credits and state.team:
        await teams.credit_team(ctx, state.team, credits)
    return await flush(ctx, config, state, group)


async def join_team(
    ctx: PluginContext, config: QuestsConfig, code: str, *, progress: Progress | None
) -> Team:
    """Join the team ``code`` (idempotent)."""
    visitor, state = await _free_to_switch(ctx, code)
    nickname = state.nickname if state else ""

    def change(current: Team) -> Team:
        if visitor not in current.members:
            if len(current.members) >= config.team_size:
                raise TeamError("This team is full ({size} people).", size=config.team_size)
            current.members[visitor] = nickname
        return current

    team = await teams.update_team(ctx, code, change)
    if team is None:
        raise TeamError("There is no team with this code in this tour.", status=404)
    await _switch_to(ctx, config, team, created=False, progress=progress)
    return team


async def create_team(
    ctx: PluginContext, config: QuestsConfig, name: str, *, progress: Progress | None
) -> Team:
    """A new team with a six-digit code, the creator its first member."""
    visitor, state = await _free_to_switch(ctx, "")
    now = utcnow()
    for _ in range(50):
        code = str(100_000 + secrets.randbelow(900_000))
        team = Team(
            code=code,
            name=name,
            day=engine.local_day(config, now),
            members={visitor: state.nickname if state else ""},
        )
        if await ctx.tour_store.create(team_key(code), team):
            break
    else:  # pragma: no cover - a million codes per tour
        raise TeamError("Could not find a free team code; try again.", status=503)
    await _switch_to(ctx, config, team, created=True, progress=progress)
    return team
