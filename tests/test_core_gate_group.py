"""Two general hooks: a plugin may gate a visitor page behind one panel
(``promtour_page_gate``) and refuse an unknown group code (``promtour_check_group``)."""

from __future__ import annotations

import httpx
from markupsafe import Markup
from promtour import hookimpl
from promtour.plugin import Panel, PluginInfo
from promtour.testing import csrf_token, station_path, unique


class Named:
    """A test plugin registered under a fresh name (the tests run side by side)."""

    title = ""

    def __init__(self, name: str) -> None:
        self.name = name

    @hookimpl
    def promtour_plugin_info(self) -> PluginInfo:
        return PluginInfo(name=self.name, version="1", title={"en": self.title})


class Gatekeeper(Named):
    """Gates pages until the visitor's group is OPEN; accepts only the code OPEN."""

    title = "Gate"

    @hookimpl
    def promtour_page_gate(self, page):
        if page.visit is not None and page.visit.group == "OPEN":
            return None
        return Panel(title="Briefing first", html=Markup("<p>read the rules</p>"))

    @hookimpl
    async def promtour_check_group(self, page, code):
        return None if code == "OPEN" else page._("No such group") + f": {code}"


class Other(Named):
    title = "Other"

    @hookimpl
    def promtour_station_panels(self, page):
        return Panel(title="Other panel", html=Markup("<p>other content</p>"))


async def test_gate_shows_only_its_panel_and_a_refused_group_is_not_joined(
    make_platform, serve_app, new_tour
):
    gate, other = unique("gate"), unique("other")

    def plugins():
        return [(gate, Gatekeeper(gate)), (other, Other(other))]

    setup = await make_platform(consumers=False, entrypoints=False, plugins=plugins())
    tour = await new_tour(setup, plugins={gate: {}, other: {}})
    server = serve_app(entrypoints=False, plugins=plugins())
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        page = await client.get(station_path(tour, "s1"), headers={"Accept-Language": "en"})
        assert page.status_code == 200
        assert "read the rules" in page.text
        assert "other content" not in page.text  # only the gate's panel
        assert "Station 1" in page.text  # the page itself is there (and checked in)
        start = await client.get(f"/t/{tour.enterprise}/{tour.id}")
        csrf = csrf_token(start.text)
        group_url = f"/t/{tour.enterprise}/{tour.id}/group"
        refused = await client.post(group_url, data={"code": "nope", "_csrf": csrf})
        assert refused.status_code == 400
        assert "No such group: NOPE" in refused.text
        progress = await client.get(f"/api/v1/visitor/tours/{tour.enterprise}/{tour.id}/progress")
        assert progress.json()["group"] is None  # nothing written
        joined = await client.post(group_url, data={"code": "open", "_csrf": csrf})
        assert joined.status_code in (200, 303)
        again = await client.get(f"/t/{tour.enterprise}/{tour.id}/at/s1")
        assert "other content" in again.text
        assert "read the rules" not in again.text
