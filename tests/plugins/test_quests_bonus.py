"""The quest's time bonus against a real nats-server: where its clock starts.

A mission's first-seen time (the start of the bonus clock) is, in free order, the
visitor's first check-in at the mission's station: the station page writes nothing,
the ``visitor_checked_in`` consumer writes the check-in time down, and an answer that
comes before the consumer fills in the same time from the visitor's progress. In fixed
order a mission may open long after the check-in, so the page still writes the time
it first shows the mission open.

Tests 1 and 3 need the consumer out of the way (it usually wins the race against an
answer by a few milliseconds, so a test that merely hoped for the other order could
not fail): they run the app in-process on a platform started without consumers. A
served app's consumer would also take the events of such a platform (one durable
consumer per plugin on the session's nats-server), so no test uses both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import httpx
import promtour.plugins.quests as quests_plugin
from promtour._platform import Platform
from promtour._web.app import create_app
from promtour.plugins.quests.records import VisitorState, visitor_key
from promtour.testing import csrf_token, station_path
from test_quests_rules import EN, answer, mission, quest, visitor_of

#: Only this plugin: the tests see its panels and routes and nobody else's.
PLUGINS = [("quests", quests_plugin)]

#: Base points of the two missions and their time bonuses.
GAUGE, GAUGE_BONUS = 10, 3
PLATE, PLATE_BONUS = 15, 7


def bonus_quest(*, seconds: int = 60, order: str = "free") -> dict[str, object]:
    """A code mission at station 1 and one at station 2, each with a time bonus."""
    return quest(
        order=order,
        missions=[
            mission(
                "gauge",
                "s1",
                "code",
                points=GAUGE,
                answers=["42"],
                time_bonus={"seconds": seconds, "points": GAUGE_BONUS},
            ),
            mission(
                "plate",
                "s2",
                "code",
                points=PLATE,
                answers=["KP-1000"],
                time_bonus={"seconds": seconds, "points": PLATE_BONUS},
            ),
        ],
    )


@asynccontextmanager
async def without_consumers(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """A visitor's client on the app of ``platform`` (started without consumers), served
    in-process: nothing but the requests themselves writes the quest's records."""
    app = create_app(platform, manage_platform=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=EN
    ) as client:
        yield client


async def quest_state(platform: Platform, tour, visitor: str) -> VisitorState | None:
    return (
        await platform.store_for("quests")
        .for_tour(tour.key)
        .get(visitor_key(visitor), VisitorState)
    )


async def first_seen(platform: Platform, tour, visitor: str, mission_id: str) -> datetime | None:
    state = await quest_state(platform, tour, visitor)
    ms = state.missions.get(mission_id) if state else None
    return ms.opened if ms else None


async def wait_first_seen(
    platform: Platform, tour, visitor: str, mission_id: str, timeout: float = 10.0
) -> datetime:
    """The mission's first-seen time once the consumer has written it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (seen := await first_seen(platform, tour, visitor, mission_id)) is None:
        assert asyncio.get_running_loop().time() < deadline, f"{mission_id}: no first-seen time"
        await asyncio.sleep(0.02)
    return seen


async def check_in_time(platform: Platform, tour, visitor: str, station: str) -> datetime:
    progress = await platform.visits.progress(tour, visitor)
    assert progress is not None and progress.scans.get(station) == 1
    return progress.last_scan[station]


async def test_an_answer_right_after_the_check_in_gets_the_bonus_before_the_consumer(
    make_platform, new_tour
):
    setup = await make_platform(entrypoints=False, plugins=PLUGINS, consumers=False)
    tour = await new_tour(setup, plugins={"quests": bonus_quest()})
    async with without_consumers(setup) as client:
        page = await client.get(station_path(tour, "s2"))
        assert page.status_code == 200
        visitor = await visitor_of(client)
        # The premise: the page wrote no first-seen time and no consumer ran.
        assert await first_seen(setup, tour, visitor, "plate") is None
        right = await answer(client, tour, "plate", csrf_token(page.text), answer="KP-1000")
    body = right.json()
    assert body["result"] == "correct"
    assert body["score"] == PLATE + PLATE_BONUS
    assert f"+{PLATE + PLATE_BONUS} points" in body["message"]
    # The clock started at the check-in, as the visitor's progress tells.
    assert await first_seen(setup, tour, visitor, "plate") == await check_in_time(
        setup, tour, visitor, "s2"
    )


async def test_the_check_in_consumer_records_the_check_in_as_first_seen(quest_app):
    setup, tour, server = await quest_app(bonus_quest())
    async with httpx.AsyncClient(base_url=server.url, headers=EN) as client:
        page = await client.get(station_path(tour, "s2"))
        assert page.status_code == 200
        visitor = await visitor_of(client)
        # No answer, no hint: only the consumer can write the time down.
        plate_seen = await wait_first_seen(setup, tour, visitor, "plate")
        assert plate_seen == await check_in_time(setup, tour, visitor, "s2")
        # Only the station's own missions: station 1 was not visited yet.
        assert await first_seen(setup, tour, visitor, "gauge") is None
        # The next station's check-in starts that station's clock and leaves the other.
        await client.get(station_path(tour, "s1"))
        gauge_seen = await wait_first_seen(setup, tour, visitor, "gauge")
        assert gauge_seen == await check_in_time(setup, tour, visitor, "s1")
        assert gauge_seen > plate_seen
        assert await first_seen(setup, tour, visitor, "plate") == plate_seen
        # An answer now counts from the recorded time: inside the window, with the bonus.
        right = await answer(client, tour, "plate", csrf_token(page.text), answer="KP-1000")
        assert right.json()["score"] == PLATE + PLATE_BONUS
    assert await first_seen(setup, tour, visitor, "plate") == plate_seen


async def test_an_answer_after_the_window_gets_no_bonus(make_platform, new_tour):
    setup = await make_platform(entrypoints=False, plugins=PLUGINS, consumers=False)
    tour = await new_tour(setup, plugins={"quests": bonus_quest(seconds=1)})
    async with without_consumers(setup) as late, without_consumers(setup) as quick:
        late_page = await late.get(station_path(tour, "s2"))
        await asyncio.sleep(1.2)
        # A second visitor checks in only now: the window is one second from each
        # visitor's own check-in, not from the tour's or the answer's time.
        quick_page = await quick.get(station_path(tour, "s2"))
        slow = await answer(late, tour, "plate", csrf_token(late_page.text), answer="KP-1000")
        fast = await answer(quick, tour, "plate", csrf_token(quick_page.text), answer="KP-1000")
        late_visitor = await visitor_of(late)
    assert slow.json()["result"] == "correct" and slow.json()["score"] == PLATE
    assert f"+{PLATE} points" in slow.json()["message"]
    assert fast.json()["result"] == "correct" and fast.json()["score"] == PLATE + PLATE_BONUS
    seen = await first_seen(setup, tour, late_visitor, "plate")
    assert seen == await check_in_time(setup, tour, late_visitor, "s2")


async def test_in_fixed_order_the_clock_starts_when_the_page_shows_the_mission_open(quest_app):
    setup, tour, server = await quest_app(bonus_quest(seconds=1, order="fixed"))
    at_s2 = f"/t/{tour.enterprise}/{tour.id}/at/s2"
    async with httpx.AsyncClient(base_url=server.url, headers=EN) as client:
        # Station 2 first: its mission waits for station 1's, so its clock does not start.
        early = (await client.get(station_path(tour, "s2"))).text
        assert "opens after the missions at station 1" in early
        visitor = await visitor_of(client)
        page1 = (await client.get(station_path(tour, "s1"))).text
        # The first station's mission is open at once; its page started the clock (an
        # answer cannot tell the time from the check-ins in fixed order).
        assert await first_seen(setup, tour, visitor, "gauge") is not None
        gauge = await answer(client, tour, "gauge", csrf_token(page1), answer="42")
        assert gauge.json()["score"] == GAUGE + GAUGE_BONUS
        # Station 2's check-in is now more than the one-second window ago...
        await asyncio.sleep(1.1)
        assert await first_seen(setup, tour, visitor, "plate") is None
        # ...but its mission opened only now, when its page shows it: the bonus is on.
        page2 = (await client.get(at_s2)).text
        assert 'id="m-plate"' in page2 and "opens after" not in page2
        plate_seen = await first_seen(setup, tour, visitor, "plate")
        checked_in = await check_in_time(setup, tour, visitor, "s2")
        assert plate_seen is not None and plate_seen - checked_in > timedelta(seconds=1)
        plate = await answer(client, tour, "plate", csrf_token(page2), answer="KP-1000")
        assert plate.json()["result"] == "correct"
        assert plate.json()["score"] == GAUGE + GAUGE_BONUS + PLATE + PLATE_BONUS
