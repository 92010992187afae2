"""Career: the professions behind each station."""

from __future__ import annotations

from pathlib import Path

import msgspec
from promtour import __version__, hookimpl
from promtour.context import PageContext
from promtour.plugin import Panel, PluginAssets, PluginInfo

HERE = Path(__file__).parent


class CareerConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    show_pay: bool = True


@hookimpl
def promtour_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="career",
        version=__version__,
        title={"ru": "Профессии", "en": "Careers"},
        description={"ru": "Кто здесь работает", "en": "Who works here"},
        config=CareerConfig,
    )


@hookimpl
def promtour_assets() -> PluginAssets:
    return PluginAssets(templates=HERE / "templates")


@hookimpl
def promtour_station_panels(page: PageContext) -> Panel:
    return Panel(title=page._("Who works here"), html=page.render("career/panel.html"), order=30)
