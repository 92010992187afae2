"""Audio guide: each station's audio performance with its transcript, offline voice
rendering (``promtour audio render``) and synchronised group shows on visitors' phones.

The hooks are here; the work is in the modules: :mod:`.config` (the per-tour config),
:mod:`.validate`, :mod:`.panels` (visitor pages), :mod:`.routes` (player reports, the
show, the guide console), :mod:`.access` (guide PIN and tokens), :mod:`.records` (what
is kept per tour), :mod:`.events`, :mod:`.render` (the CLI) and :mod:`.vtt`. Every
record is in the tour's store, which the core erases with the tour: no teardown hook.
"""

from __future__ import annotations

from argparse import _SubParsersAction
from collections.abc import Sequence
from typing import Any

from promtour.plugin import PageContext, Panel, PluginInfo, Tour, hookimpl

from . import panels, render
from .access import GUIDE_ROLE
from .config import AudioGuideConfig
from .events import EVENT_TYPES
from .routes import ROUTES
from .validate import check_config

__all__ = ["AudioGuideConfig"]


@hookimpl
def promtour_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="audio_guide",
        title={"ru": "Аудиогид", "en": "Audio guide"},
        description={
            "ru": "Аудиоспектакль на каждой станции, расшифровка и групповое шоу",
            "en": "An audio story at each station, with transcript, and group shows",
        },
        config=AudioGuideConfig,
        events=EVENT_TYPES,
        routes=ROUTES,
        roles=(GUIDE_ROLE,),
        css=("audio_guide.css",),
        js=("audio_guide.js",),
        console_page="/p/audio_guide/guides/{enterprise}",
        console_role=GUIDE_ROLE.name,
        console_title={"ru": "Групповое шоу", "en": "Group show"},
    )


@hookimpl
def promtour_cli_commands(subparsers: _SubParsersAction[Any]) -> None:
    render.add_cli(subparsers)


@hookimpl
def promtour_validate_config(tour: Tour, config: Any, media: frozenset[str]) -> Sequence[str]:
    return check_config(tour, config, media)


@hookimpl
async def promtour_station_panels(page: PageContext) -> Panel | None:
    return await panels.station_panel(page)


@hookimpl
async def promtour_start_panels(page: PageContext) -> Panel | None:
    return await panels.start_panel(page)


@hookimpl
async def promtour_finish_panels(page: PageContext) -> Panel | None:
    return await panels.finish_panel(page)
