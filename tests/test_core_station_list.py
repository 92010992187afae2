"""The station list under a station page ("Your tour"), which the core renders once per
tour revision and language: it shows each visitor's own ticks, marks the station they
are at, speaks their language and follows a saved tour (renamed or closed stations).
"""

from __future__ import annotations

import asyncio
import copy
import re

import httpx
from promtour.testing import station_path


def rows(html: str) -> list[tuple[str, str]]:
    """(state, station id) of every row of the list, "here" appended to the state."""
    return re.findall(r'<li class="([a-z ]+)" data-station="([^"]+)">', html)


async def test_station_list_per_visitor_language_and_revision(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, stations=3)
    server = serve_app()
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as anna,
        httpx.AsyncClient(base_url=server.url, timeout=10) as boris,
    ):
        await anna.get(station_path(tour, "s1"), params={"lang": "en"})
        page = await anna.get(station_path(tour, "s3"))
        assert rows(page.text) == [("visited", "s1"), ("todo", "s2"), ("visited here", "s3")]
        assert f'<a href="/t/{tour.enterprise}/{tour.id}/at/s1">Station 1</a>' in page.text
        assert "<span>Station 2</span>" in page.text
        assert 'data-visited="2">2</span> / 3</h2>' in page.text

        # Another visitor at the same station, in Russian: only their own tick.
        page = await boris.get(station_path(tour, "s3"), params={"lang": "ru"})
        assert rows(page.text) == [("todo", "s1"), ("todo", "s2"), ("visited here", "s3")]
        assert "<span>Станция 1</span>" in page.text and "Station 1" not in page.text

        # The tour is saved with station 2 renamed and station 1 closed: the list follows.
        changed = copy.deepcopy(tour)
        changed.stations[1].name = {"en": "Paint shop", "ru": "Покрасочный цех"}
        changed.stations[0].enabled = False
        await setup.save_tour(changed, media=frozenset())
        for _ in range(100):
            page = await anna.get(f"/t/{tour.enterprise}/{tour.id}/at/s3")
            if "Paint shop" in page.text:
                break
            await asyncio.sleep(0.1)
        assert rows(page.text) == [("todo", "s2"), ("visited here", "s3")]
        assert "<span>Paint shop</span>" in page.text
        assert 'data-visited="2">2</span> / 2</h2>' in page.text
