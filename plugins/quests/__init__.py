"""Quests: missions at each station, points and leaderboards."""

from __future__ import annotations

from pathlib import Path

import msgspec
from promtour import __version__, hookimpl
from promtour.context import PageContext
from promtour.plugin import Panel, PluginAssets, PluginInfo

HERE = Path(__file__).parent


class QuestsConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    order: str = "free"


@hookimpl
def promtour_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="quests",
        version=__version__,
        title={"ru": "Квест", "en": "Quest"},
        description={"ru": "Задания на станциях", "en": "Missions at the stations"},
        config=QuestsConfig,
    )


@hookimpl
def promtour_assets() -> PluginAssets:
    return PluginAssets(templates=HERE / "templates")


@hookimpl
def promtour_station_panels(page: PageContext) -> Panel:
    return Panel(title=page._("Mission"), html=page.render("quests/panel.html"), order=20)
