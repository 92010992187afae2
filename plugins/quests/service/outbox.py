"""The outbox: events committed with the change they describe, published right after.

After a visitor's record is written (:func:`.visitors.commit`), :func:`flush` applies
the projections (team credit, the day's board, the member's nickname on the team),
publishes the outbox (stable event ids: a second publish is dropped by the stream) and
removes what was published. If NATS fails in between, the events stay in the outbox
and the next request of that visitor publishes them: nothing accepted is lost,
nothing counts twice.
"""

from __future__ import annotations

from promtour.plugin import PluginContext
from promtour.plugins.quests.config import QuestsConfig
from promtour.plugins.quests.events import (
    QuestEvent,
    QuestMissionCompleted,
    QuestNicknameChosen,
    QuestTeamJoined,
)
from promtour.plugins.quests.records import TeamCredit, VisitorState, visitor_key
from promtour.plugins.quests.service import boards, teams

__all__ = ["flush"]


async def flush(
    ctx: PluginContext, config: QuestsConfig, state: VisitorState, group: str | None
) -> VisitorState:
    """Project and publish the state's outbox, then drop what was published."""
    if not state.outbox:
        return state
    events: list[QuestEvent] = list(state.outbox)
    by_team: dict[str, dict[str, TeamCredit]] = {}
    for event in events:
        if isinstance(event, QuestMissionCompleted) and event.team and event.visitor:
            by_team.setdefault(event.team, {})[event.mission] = teams.credit_of(event)
    for code, credits in by_team.items():
        await teams.credit_team(ctx, code, credits)
    if any(
        isinstance(e, QuestMissionCompleted | QuestNicknameChosen | QuestTeamJoined) for e in events
    ):
        await boards.update_board(ctx, state, group)
    if state.team and any(isinstance(e, QuestNicknameChosen | QuestTeamJoined) for e in events):
        await teams.sync_member(ctx, state)
    for event in events:
        await ctx.publish(event)
    published = {e.id for e in events}

    def clear(current: VisitorState | None) -> VisitorState:
        current = current or state
        current.outbox = [e for e in current.outbox if e.id not in published]
        return current

    return await ctx.tour_store.update(
        visitor_key(state.visitor), VisitorState, clear, ttl=ctx.visitor_ttl
    )
