"""The occupancy plugin on a fresh promtour platform (the harness), real nats-server."""

from __future__ import annotations

from datetime import UTC, datetime

import promtour_occupancy
from promtour.plugin import VisitorCheckedIn


def test_slots_are_five_minutes():
    assert (
        promtour_occupancy.slot_of(datetime(2026, 5, 1, 10, 7, 59, tzinfo=UTC)) == "20260501T1005"
    )
    assert promtour_occupancy.slot_of(datetime(2026, 5, 1, 10, 10, tzinfo=UTC)) == "20260501T1010"


async def test_counts_check_ins_once_and_shows_them(harness):
    tour = await harness.tour({"occupancy": {"busy_at": 2}})
    for _ in range(2):  # two visitors at station 1
        assert (await harness.scan(tour, "s1", visitor=await harness.visitor())).status_code == 200
    await harness.scan(tour, "s2")
    await harness.scan(tour, "s2")  # a double scan is one check-in
    assert (
        await harness.handled("occupancy", VisitorCheckedIn, count=3, tour=tour) == ["handled"] * 3
    )
    page = (await harness.get(f"/t/{tour.enterprise}/{tour.id}")).text
    assert 'data-station="s1" data-count="2"' in page
    assert 'data-station="s2" data-count="1"' in page
    assert "(busy)" in page or "(занято)" in page
    assert 'data-station="s3" data-count="0"' in page
