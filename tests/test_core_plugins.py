"""Plugin isolation: a failing or hanging panel hook costs only its own panel, and a
misspelled hook implementation stops the platform at start."""

from __future__ import annotations

import asyncio
import types

import httpx
import msgspec
import pytest
from markupsafe import Markup
from promtour import hookimpl
from promtour._errors import ConfigError, PromtourError
from promtour._manager import PluginManager
from promtour.plugin import Panel, PluginInfo, check_station
from promtour.testing import station_path, unique

NOTICE_EN = "This part of the page is not available right now."


class PanelPlugin:
    """A test plugin whose station panel says hello, fails, or never comes."""

    def __init__(self, name: str, behaviour: str = "ok") -> None:
        self.name = name
        self.behaviour = behaviour
        self.calls = 0

    @hookimpl
    def promtour_plugin_info(self) -> PluginInfo:
        return PluginInfo(name=self.name, version="1.0", title={"en": f"Title {self.name}"})

    @hookimpl
    async def promtour_station_panels(self, page):
        self.calls += 1
        if self.behaviour == "raise":
            raise RuntimeError("the panel of this plugin is broken")
        if self.behaviour == "hang":
            await asyncio.sleep(30)
        return Panel(title=f"Panel of {self.name}", html=Markup(f"<p>hello from {self.name}</p>"))


class Misspelled:
    @hookimpl
    def promtour_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="misspelled", version="1", title={"en": "Typo"})

    @hookimpl
    def promtour_station_panel(self, page):  # the hook is promtour_station_panels
        return None


class WrongArgument:
    @hookimpl
    def promtour_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="wrong_argument", version="1", title={"en": "Typo"})

    @hookimpl
    def promtour_station_panels(self, pgae):  # the argument is `page`
        return None


async def test_failing_and_hanging_panels_leave_the_page_whole(make_platform, serve_app, new_tour):
    good, broken, slow = unique("good"), unique("broken"), unique("slow")

    def plugins() -> list[tuple[str, object]]:
        return [
            (good, PanelPlugin(good)),
            (broken, PanelPlugin(broken, "raise")),
            (slow, PanelPlugin(slow, "hang")),
        ]

    setup = await make_platform(consumers=False, plugins=plugins())
    tour = await new_tour(setup, plugins={good: {}, broken: {}, slow: {}, "quests": {}})
    server = serve_app(plugins=plugins(), plugin_timeout=0.5)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        response = await client.get(station_path(tour, "s1"), headers={"Accept-Language": "en"})
    assert response.status_code == 200
    html = response.text
    # The working plugins' panels are there ...
    assert f"hello from {good}" in html
    assert 'data-plugin="quests"' in html
    # ... and each failed plugin has a notice in place of its panel, under its title.
    assert html.count(NOTICE_EN) == 2
    for name in (broken, slow):
        assert f'data-plugin="{name}"' in html
        assert f"Title {name}" in html
    assert "the panel of this plugin is broken" not in html  # no internals shown
    assert "Station 1" in html
    # The failures are counted for the operator.
    metrics = server.platform.metrics
    assert metrics.value("promtour_panel_failures_total", plugin=broken) == 1
    assert metrics.value("promtour_panel_failures_total", plugin=slow) == 1


async def test_notice_is_translated(make_platform, serve_app, new_tour):
    broken = unique("broken")
    setup = await make_platform(consumers=False, plugins=[(broken, PanelPlugin(broken, "raise"))])
    tour = await new_tour(setup, plugins={broken: {}})
    server = serve_app(plugins=[(broken, PanelPlugin(broken, "raise"))])
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        response = await client.get(station_path(tour, "s1"), headers={"Accept-Language": "ru"})
    assert response.status_code == 200
    assert 'class="panel panel-' + broken + ' panel-failed"' in response.text
    assert NOTICE_EN not in response.text  # Russian page, Russian notice
    assert "Станция 1" in response.text


def test_misspelled_hook_fails_at_start():
    with pytest.raises(PromtourError) as caught:
        PluginManager(load_entrypoints=False, plugins=[("misspelled", Misspelled())])
    message = str(caught.value)
    assert "promtour_station_panel" in message
    assert "misspelled" in message


def test_misspelled_hook_argument_fails_at_start():
    with pytest.raises(PromtourError) as caught:
        PluginManager(load_entrypoints=False, plugins=[("wrong_argument", WrongArgument())])
    message = str(caught.value)
    assert "wrong_argument" in message and "pgae" in message


def test_plugin_info_must_be_a_plugin_info():
    class Dict:
        @hookimpl
        def promtour_plugin_info(self):
            return {"name": "dict", "title": {"en": "Dict"}}

    with pytest.raises(PromtourError, match="returned dict, not a PluginInfo"):
        PluginManager(load_entrypoints=False, plugins=[("dict", Dict())])


def test_plugin_name_must_match_its_registration():
    with pytest.raises(PromtourError, match="calls itself"):
        PluginManager(load_entrypoints=False, plugins=[("other_name", PanelPlugin("good"))])


class GreetingConfig(msgspec.Struct, forbid_unknown_fields=True):
    station: str = "s1"


@hookimpl(specname="promtour_validate_config")
def check_greeting(tour, config):  # no `media`: a hook takes the arguments it uses
    return check_station(tour, config.station, "station")


@hookimpl(specname="promtour_station_panels")
def greeting_panel(page):
    return Panel(title="Greeting", html=Markup("<p>greeting here</p>"))


def imported_hooks_plugin(name: str) -> types.ModuleType:
    """A plugin module as a partner lays it out: the hooks defined in their own modules
    under names of their own and imported into the registered one."""
    module = types.ModuleType(name)

    @hookimpl
    def promtour_plugin_info() -> PluginInfo:
        return PluginInfo(name=name, version="1", title={"en": "Greeting"}, config=GreetingConfig)

    module.promtour_plugin_info = promtour_plugin_info  # type: ignore[attr-defined]
    module.check_greeting = check_greeting  # type: ignore[attr-defined]
    module.greeting_panel = greeting_panel  # type: ignore[attr-defined]
    return module


async def test_hooks_imported_into_the_plugin_module_are_registered_and_called(
    make_platform, serve_app, new_tour
):
    name = f"greeting_{unique()}"
    plugins = [(name, imported_hooks_plugin(name))]
    setup = await make_platform(consumers=False, entrypoints=False, plugins=plugins)
    assert setup.plugins.hooks_of(name) == [
        "promtour_plugin_info",
        "promtour_station_panels",
        "promtour_validate_config",
    ]
    with pytest.raises(ConfigError, match="There is no station s9 in this tour"):
        await new_tour(setup, stations=2, plugins={name: {"station": "s9"}})
    tour = await new_tour(setup, stations=2, plugins={name: {"station": "s2"}})
    server = serve_app(entrypoints=False, plugins=plugins)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        page = await client.get(station_path(tour, "s1"))
    assert "greeting here" in page.text
