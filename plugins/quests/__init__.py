"""Quests: missions at each station, points, hints, badges, teams, live leaderboards
and a printable certificate — checked on the server, so there is nothing to cheat
with in the page.

The hooks live here; the rules are in :mod:`.engine`, the writes in :mod:`.service`,
the routes in :mod:`.web`. Authoring and rules: ``docs/plugins/quests.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from promtour import __version__, hookimpl
from promtour.context import PageContext, PluginContext
from promtour.events import Event, VisitorCheckedIn, VisitorJoinedGroup
from promtour.models import Tour
from promtour.plugin import Panel, PluginAssets, PluginInfo
from promtour.plugins.quests import panels, service
from promtour.plugins.quests.config import QuestsConfig, validate
from promtour.plugins.quests.events import (
    QUEST_EVENT_TYPES,
    QuestMissionCompleted,
)
from promtour.plugins.quests.web import ROUTES

__all__ = [
    "QuestsConfig",
    "promtour_assets",
    "promtour_event_types",
    "promtour_finish_panels",
    "promtour_handle_event",
    "promtour_plugin_info",
    "promtour_routes",
    "promtour_start_panels",
    "promtour_station_panels",
    "promtour_tour_teardown",
    "promtour_validate_config",
]

HERE = Path(__file__).parent


@hookimpl
def promtour_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="quests",
        version=__version__,
        title={"ru": "Квест", "en": "Quest"},
        description={
            "ru": "Задания на станциях, очки, подсказки, команды, рейтинг и сертификат",
            "en": "Missions at the stations, points, hints, teams, leaderboards, certificate",
        },
        config=QuestsConfig,
    )


@hookimpl
def promtour_assets() -> PluginAssets:
    return PluginAssets(
        templates=HERE / "templates",
        static=HERE / "static",
        locales=HERE / "locale",
        css=["quests.css"],
        js=["quests.js"],
    )


@hookimpl
def promtour_event_types() -> Sequence[type[Event]]:
    return QUEST_EVENT_TYPES


@hookimpl
def promtour_routes() -> Sequence[Any]:
    return ROUTES


@hookimpl
def promtour_validate_config(tour: Tour, config: Any, media: frozenset[str]) -> Sequence[str]:
    return validate(tour, config)


@hookimpl
async def promtour_tour_teardown(ctx: PluginContext) -> None:
    """The quest was switched off for the tour, or the tour deleted: its visitors'
    records (nicknames included), teams and boards go with it."""
    removed = await service.purge_tour(ctx)
    ctx.log.info("quests: removed %d records of tour %s", removed, ctx.tour.key)


@hookimpl
async def promtour_station_panels(page: PageContext) -> Panel | None:
    return await panels.station_panel(page)


@hookimpl
async def promtour_start_panels(page: PageContext) -> Panel:
    return await panels.start_panel(page)


@hookimpl
async def promtour_finish_panels(page: PageContext) -> Panel:
    return await panels.finish_panel(page)


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
            await service.credit_team(ctx, event.team, {event.mission: service.credit_of(event)})
        state = await service.load(ctx, event.visitor)
        if state is not None:
            progress = await ctx.progress(event.visitor)
            await service.update_board(ctx, state, progress.group if progress else event.group)
    elif isinstance(event, VisitorCheckedIn):
        await service.on_check_in(ctx, config, event, await ctx.progress(event.visitor))
    elif isinstance(event, VisitorJoinedGroup):
        await service.set_group(ctx, event.visitor, event.group)
