"""promtour.testing's harness as a plugin author uses it: a tour with a plugin, a scan
in the in-process client, wait for the plugin's consumer, read its store and the
stream; a plugin passed explicitly replaces an installed one of the same name."""

from __future__ import annotations

import msgspec
import pytest
from markupsafe import Markup
from promtour.plugin import ConfigError, Panel, PluginInfo, VisitorCheckedIn, hookimpl


class ProbeConfig(msgspec.Struct, forbid_unknown_fields=True):
    word: str = "hi"


class Probe:
    @hookimpl
    def promtour_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="probe", title={"en": "Probe"}, config=ProbeConfig)

    @hookimpl
    def promtour_station_panels(self, page) -> Panel:
        return Panel(title="Probe", html=Markup('<p class="probe">{}</p>').format(page.config.word))

    @hookimpl
    async def promtour_handle_event(self, event, ctx) -> None:
        if isinstance(event, VisitorCheckedIn):
            await ctx.tour_store.put(f"seen.{event.station}", event.id)


@pytest.fixture
def promtour_plugins() -> list[object]:
    return [Probe()]


async def test_scan_wait_for_the_consumer_and_read_its_store(harness) -> None:
    tour = await harness.tour({"probe": {"word": "hello"}})
    page = await harness.scan(tour, "s1", lang="ru")
    assert page.status_code == 200
    assert '<p class="probe">hello</p>' in page.text
    assert await harness.handled("probe", VisitorCheckedIn, tour=tour) == ["handled"]
    (event,) = await harness.events(tour, VisitorCheckedIn)
    assert event.station == "s1"
    assert await harness.tour_store("probe", tour).get("seen.s1", str) == event.id


async def test_a_published_event_of_a_tour_without_the_plugin_is_skipped(harness) -> None:
    tour = await harness.tour({})
    event = VisitorCheckedIn(enterprise=tour.enterprise, tour=tour.id, station="s2")
    await harness.publish(event)
    assert await harness.handled("probe", event) == ["skipped"]


async def test_a_refused_config_names_the_key(harness) -> None:
    with pytest.raises(ConfigError, match="word"):
        await harness.tour({"probe": {"word": 3}})


async def test_a_plugin_passed_again_replaces_the_registered_one(harness) -> None:
    # What a test of a pip-installed plugin does: the entry point registered it, the
    # test passes it again (pluggy raised "Plugin name already registered").
    first, again = Probe(), Probe()
    await harness.start(("probe", first), ("probe", again), first)
    tour = await harness.tour({"probe": {"word": "once"}})
    assert (await harness.scan(tour, "s1")).text.count('<p class="probe">once</p>') == 1
