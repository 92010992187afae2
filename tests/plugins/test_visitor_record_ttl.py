"""Plugin records about one visitor expire: the audio guide's listening positions, the
quests visitor state and the career quiz answers and signals are written with the
``nats.visitor_record_ttl_days`` time-to-live (``ctx.visitor_ttl``), so a visitor who
never comes back leaves nothing behind. Records that are not about one visitor (the
tour's quest secret, here) keep no TTL."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from promtour._events import VisitorCheckedIn
from promtour._settings import DAY
from promtour.plugins import audio_guide, career, quests
from promtour.testing import csrf_token
from test_audio_guide_cache import CONFIG as AUDIO_CONFIG
from test_audio_guide_cache import MEDIA as AUDIO_MEDIA
from test_audio_guide_support import audio_tour
from test_career_flow import career_config
from test_quests_rules import quest

TTL = 2.0


@pytest.fixture
def promtour_plugins() -> list[object]:
    return [audio_guide, quests, career]


@pytest.fixture
def promtour_settings(nats_url: str) -> dict[str, Any]:
    return {"nats": {"url": nats_url, "visitor_record_ttl_days": TTL / DAY}}


def attribute(page: str, name: str) -> str:
    found = re.search(rf'{name}="([^"]+)"', page)
    assert found, f"no {name} in the page"
    return found.group(1)


async def test_visitor_records_are_gone_after_the_ttl(harness, nats_url):
    await harness.start()
    client = await harness.client()
    audio = await audio_tour(nats_url, AUDIO_MEDIA, AUDIO_CONFIG)
    tour = await harness.tour({"quests": quest(), "career": career_config()})

    # Quests and career: a check-in opens a mission and counts a signal; a quiz.
    assert (await harness.scan(tour, "s1")).status_code == 200
    visitor = client.cookies["pt_v"].rsplit(".", 1)[0]
    await harness.handled("quests", VisitorCheckedIn, tour=tour)
    await harness.handled("career", VisitorCheckedIn, tour=tour)
    base = f"/p/career/t/{tour.enterprise}/{tour.id}"
    page = await client.get(f"{base}/quiz")
    answers = dict.fromkeys(re.findall(r'name="([a-z0-9_-]+)" value="2"', page.text), "2")
    done = await client.post(f"{base}/quiz", data={"_csrf": csrf_token(page.text), **answers})
    assert done.status_code == 303

    # The audio guide: the player saves where the visitor stopped.
    page = await harness.scan(audio, "s1")
    saved = await client.post(
        attribute(page.text, "data-position-url"),
        json={"place": "s1", "track": "main", "lang": "ru", "seconds": 4.5},
        headers={"X-CSRF-Token": attribute(page.text, "data-csrf")},
    )
    assert saved.status_code == 202

    stores = {
        "quests": harness.tour_store("quests", tour),
        "career": harness.tour_store("career", tour),
        "audio_guide": harness.tour_store("audio_guide", audio),
    }

    async def visitor_keys() -> dict[str, list[str]]:
        return {
            name: [k for k in await store.keys() if visitor in k] for name, store in stores.items()
        }

    assert await visitor_keys() == {
        "quests": [f"v.{visitor}"],
        "career": [f"quiz.{visitor}", f"sig.{visitor}"],
        "audio_guide": [f"pos.{visitor}"],
    }
    await asyncio.sleep(TTL + 1.5)
    assert await visitor_keys() == {"quests": [], "career": [], "audio_guide": []}
    # The tour's own quest records are not about a visitor: they stay.
    assert await stores["quests"].keys() != []
