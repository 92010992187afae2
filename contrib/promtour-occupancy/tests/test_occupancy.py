"""The occupancy plugin on a fresh promtour instance, against a real nats-server."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import promtour_occupancy
from promtour.testing import station_path


def test_slots_are_five_minutes():
    assert (
        promtour_occupancy.slot_of(datetime(2026, 5, 1, 10, 7, 59, tzinfo=UTC)) == "20260501T1005"
    )
    assert promtour_occupancy.slot_of(datetime(2026, 5, 1, 10, 10, tzinfo=UTC)) == "20260501T1010"


async def test_counts_check_ins_once_and_shows_them(make_platform, serve_app, new_tour):
    plugin = [("occupancy", promtour_occupancy)]
    setup = await make_platform(consumers=False, plugins=plugin)
    tour = await new_tour(setup, plugins={"occupancy": {"busy_at": 2}})
    server = serve_app(plugins=plugin)
    for _ in range(2):  # two visitors at station 1, one at station 2
        async with httpx.AsyncClient(base_url=server.url) as visitor:
            assert (await visitor.get(station_path(tour, "s1"))).status_code == 200
    async with httpx.AsyncClient(base_url=server.url) as visitor:
        await visitor.get(station_path(tour, "s2"))
        await visitor.get(station_path(tour, "s2"))  # a double scan counts once
        start_url = f"/t/{tour.enterprise}/{tour.id}"
        for _ in range(100):  # the consumer works asynchronously
            page = (await visitor.get(start_url)).text
            if 'data-station="s1" data-count="2"' in page:
                break
            await asyncio.sleep(0.1)
        assert 'data-station="s1" data-count="2"' in page
        assert 'data-station="s2" data-count="1"' in page
        assert "(busy)" in page or "(занято)" in page
        assert 'data-station="s3" data-count="0"' in page
