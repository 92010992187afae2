"""Quests: missions at each station, points, hints, badges, teams, live leaderboards
and a printable certificate — checked on the server, so there is nothing to cheat
with in the page.

Here: the plugin's description and its event handler; the other hooks are implemented
where their work is (``@hookimpl`` in :mod:`.panels`, :mod:`.validate`) and imported
here, which registers them. The layout: :mod:`.config` (the per-tour config and its
checks), :mod:`.events`, :mod:`.records` (what is stored), :mod:`.engine` (the rules,
pure functions), :mod:`.service` (the writes, one module per seam), :mod:`.views` and
:mod:`.panels` (what visitors see on the tour's pages), :mod:`.routes` (the plugin's
own pages, by audience). Authoring and rules: ``docs/plugins/quests.md``.
"""

from __future__ import annotations

from promtour.plugin import (
    Event,
    PluginContext,
    PluginInfo,
    RoleSpec,
    VisitorCheckedIn,
    VisitorJoinedGroup,
    hookimpl,
)
from promtour.plugins.quests.config import QuestsConfig
from promtour.plugins.quests.events import QUEST_EVENT_TYPES, QuestMissionCompleted
from promtour.plugins.quests.panels import finish_panel, start_panel, station_panel
from promtour.plugins.quests.routes import ROUTES
from promtour.plugins.quests.service import boards, missions, teams
from promtour.plugins.quests.service.visitors import load
from promtour.plugins.quests.validate import validate

#: With the hook implementations, each marked @hookimpl where it lives.
__all__ = [
    "QuestsConfig",
    "finish_panel",
    "promtour_handle_event",
    "promtour_plugin_info",
    "start_panel",
    "station_panel",
    "validate",
]

#: Guides read every board, also one the tour hides from visitors (a kiosk screen).
GUIDE = RoleSpec(name="guide", title={"ru": "Экскурсовод", "en": "Guide"}, granted_to=("editor",))


@hookimpl
def promtour_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="quests",
        title={"ru": "Квест", "en": "Quest"},
        description={
            "ru": "Задания на станциях, очки, подсказки, команды, рейтинг и сертификат",
            "en": "Missions at the stations, points, hints, teams, leaderboards, certificate",
        },
        config=QuestsConfig,
        events=QUEST_EVENT_TYPES,
        handles=[QuestMissionCompleted, VisitorCheckedIn, VisitorJoinedGroup],
        routes=ROUTES,
        roles=[GUIDE],
        css=["quests.css"],
        js=["quests.js"],
    )


@hookimpl
async def promtour_handle_event(event: Event, ctx: PluginContext) -> None:
    """Projections and badges that follow from events; all idempotent.

    - ``quest_mission_completed``: credit the team (earliest answer per mission) and put the
      score on the day's board — the request did it already, so normally a no-op;
      it repairs a request that died half-way, and a redelivery changes nothing.
    - ``visitor_checked_in``: when the station's missions were first shown (the time
      bonus counts from it) and the all-stations badge.
    - ``visitor_joined_group``: move the visitor's board entry to the group.
    """
    config: QuestsConfig = ctx.config
    if event.visitor is None:
        return
    if isinstance(event, QuestMissionCompleted):
        if event.team:
            await teams.credit_team(ctx, event.team, {event.mission: teams.credit_of(event)})
        state = await load(ctx, event.visitor)
        if state is not None:
            progress = await ctx.progress(event.visitor)
            await boards.update_board(ctx, state, progress.group if progress else event.group)
    elif isinstance(event, VisitorCheckedIn):
        await missions.on_check_in(ctx, config, event, await ctx.progress(event.visitor))
    elif isinstance(event, VisitorJoinedGroup):
        await boards.set_group(ctx, event.visitor, event.group)
