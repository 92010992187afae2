"""Audio guide: each station's audio performance with its transcript, offline voice
rendering (``promtour audio render``) and synchronised group shows on visitors' phones.

The hooks are here; the work is in the modules: :mod:`.config` (the per-tour config),
:mod:`.validate`, :mod:`.panels` (visitor pages), :mod:`.routes` (player reports, the
show, the guide console), :mod:`.events`, :mod:`.render` (the CLI) and :mod:`.vtt`.
"""

from __future__ import annotations

from argparse import _SubParsersAction
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from promtour import __version__, hookimpl
from promtour.context import PageContext, PluginContext
from promtour.events import Event
from promtour.models import Tour
from promtour.plugin import Panel, PluginAssets, PluginInfo

from . import panels, records, render
from .config import AudioGuideConfig
from .events import EVENT_TYPES
from .routes import ROUTES
from .validate import check_config

__all__ = ["AudioGuideConfig"]

HERE = Path(__file__).parent


@hookimpl
def promtour_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="audio_guide",
        version=__version__,
        title={"ru": "Аудиогид", "en": "Audio guide"},
        description={
            "ru": "Аудиоспектакль на каждой станции, расшифровка и групповое шоу",
            "en": "An audio story at each station, with transcript, and group shows",
        },
        config=AudioGuideConfig,
    )


@hookimpl
def promtour_assets() -> PluginAssets:
    return PluginAssets(
        templates=HERE / "templates",
        static=HERE / "static",
        locales=HERE / "locale",
        css=["audio_guide.css"],
        js=["audio_guide.js"],
    )


@hookimpl
def promtour_event_types() -> Sequence[type[Event]]:
    return EVENT_TYPES


@hookimpl
def promtour_routes() -> Sequence[Any]:
    return ROUTES


@hookimpl
def promtour_cli_commands(subparsers: _SubParsersAction[Any]) -> None:
    render.add_cli(subparsers)


@hookimpl
def promtour_validate_config(tour: Tour, config: Any, media: frozenset[str]) -> Sequence[str]:
    return check_config(tour, config, media)


@hookimpl
async def promtour_tour_teardown(ctx: PluginContext) -> None:
    """The tour dropped the audio guide (or was deleted): forget its positions and groups."""
    await records.forget_tour(ctx.store, ctx.tour)


@hookimpl
async def promtour_station_panels(page: PageContext) -> Panel | None:
    return await panels.station_panel(page)


@hookimpl
async def promtour_start_panels(page: PageContext) -> Panel | None:
    return await panels.start_panel(page)


@hookimpl
async def promtour_finish_panels(page: PageContext) -> Panel | None:
    return await panels.finish_panel(page)
