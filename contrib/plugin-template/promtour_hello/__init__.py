"""A promtour plugin that greets visitors at each station."""

from __future__ import annotations

from pathlib import Path

import msgspec

from promtour import hookimpl
from promtour.context import PageContext
from promtour.plugin import Panel, PluginAssets, PluginInfo

HERE = Path(__file__).parent


class HelloConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Per-tour settings: ``[plugins.hello]`` in the tour's TOML."""

    #: Greeting per language; the default is used where the tour sets none.
    greeting: dict[str, str] = msgspec.field(
        default_factory=lambda: {"ru": "Добро пожаловать", "en": "Welcome"}
    )


@hookimpl
def promtour_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="hello",
        version="0.1.0",
        title={"ru": "Приветствие", "en": "Hello"},
        description={"ru": "Приветствует на каждой станции", "en": "Greets at every station"},
        config=HelloConfig,
    )


@hookimpl
def promtour_assets() -> PluginAssets:
    return PluginAssets(templates=HERE / "templates", locales=HERE / "locale")


@hookimpl
def promtour_station_panels(page: PageContext) -> Panel:
    config: HelloConfig = page.config
    return Panel(
        title=page._("Hello"),
        html=page.render("hello/panel.html", greeting=page.text(config.greeting)),
    )
