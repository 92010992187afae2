"""Audio guide: each station's audio performance, with transcript."""

from __future__ import annotations

from pathlib import Path

import msgspec
from promtour import __version__, hookimpl
from promtour.context import PageContext
from promtour.plugin import Panel, PluginAssets, PluginInfo

HERE = Path(__file__).parent


class AudioGuideConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    autoplay_allowed: bool = False


@hookimpl
def promtour_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="audio_guide",
        version=__version__,
        title={"ru": "Аудиогид", "en": "Audio guide"},
        description={
            "ru": "Аудиоспектакль на каждой станции",
            "en": "An audio story at each station",
        },
        config=AudioGuideConfig,
    )


@hookimpl
def promtour_assets() -> PluginAssets:
    return PluginAssets(templates=HERE / "templates")


@hookimpl
def promtour_station_panels(page: PageContext) -> Panel:
    return Panel(
        title=page._("Listen"),
        html=page.render("audio_guide/panel.html"),
        order=10,
    )
