"""The whole school visit in headless Chromium: a teacher books, three pupils join with
the group code, pass the safety briefing (one answers wrong first), scan a station;
a fourth, under the minimum age, is told why the stations stay closed; the teacher's
page counts them live, a broadcast reaches the three phones, and the
class report masks the small counts."""

from __future__ import annotations

import asyncio
import concurrent.futures
from datetime import timedelta
from typing import Any

from playwright.sync_api import expect
from promtour._manager import PluginManager
from promtour._models import Tour
from promtour._platform import Platform
from promtour.testing import save_new_tour
from promtour.testing import test_settings as settings_for
from visits_helpers import SOON_DAY, safety_config, visits_config


def run(coro: Any) -> Any:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def make_tour(nats_url: str) -> Tour:
    platform = Platform(settings_for(nats_url), plugins=PluginManager())
    await platform.start(consumers=False)
    try:
        return await save_new_tour(
            platform, plugins={"visits": visits_config(capacity=30), "safety": safety_config()}
        )
    finally:
        await platform.stop()


def answer_quiz(page: Any, right: bool, age: int = 13) -> None:
    page.get_by_label("Your age, years").fill(str(age))
    page.get_by_label("No", exact=True).check()
    page.get_by_label("Sandals" if not right else "Closed shoes").check()
    page.get_by_role("button", name="Check my answers").click()


def test_book_join_brief_scan_live_broadcast_report(serve_app, phone, nats_url):
    tour = run(make_tour(nats_url))
    server = serve_app()
    base = f"{server.url}/p/visits/t/{tour.enterprise}/{tour.id}"

    teacher = phone(locale="en-US").new_page()
    teacher.goto(f"{base}/book?lang=en")
    expect(teacher.locator(".visits-slot .left").first).to_have_text("30 places left")
    teacher.locator("input[name=slot]").first.check()
    teacher.fill("#size", "12")
    teacher.fill("#age_min", "12")
    teacher.fill("#age_max", "13")
    teacher.fill("#organisation", "School 7")
    teacher.fill("#name", "Anna Teacher")
    teacher.fill("#email", "anna@example.org")
    # The consent says how long the contact is kept (the tour's contact_days: 30).
    expect(teacher.locator("label.check")).to_contain_text("30 days after it")
    teacher.locator("input[name=consent]").check()
    teacher.get_by_role("button", name="Book").click()
    expect(teacher.locator("h1")).to_have_text("Your visit")
    code = teacher.locator("#group-code").inner_text().strip()
    leader_url = teacher.url
    assert len(code) == 6
    # The slot is today (the first listed): kept until the visit day plus 30 days.
    kept = (SOON_DAY + timedelta(days=30)).strftime("%d.%m.%Y")
    expect(teacher.locator(".visits-leader")).to_contain_text(f"kept until {kept}")
    # The capacity went down for the next teacher.
    other = phone(locale="en-US").new_page()
    other.goto(f"{base}/book?lang=en")
    expect(other.locator(".visits-slot .left").first).to_have_text("18 places left")
    teacher.goto(leader_url)
    expect(teacher.locator('[data-count="joined"]')).to_have_text("0")

    pupils = []
    for number in range(3):
        page = phone(locale="en-US").new_page()
        page.goto(f"{base}/join/{code}?lang=en")
        page.get_by_role("button", name="Join").click()
        # The briefing holds the tour back until it is passed.
        expect(page.locator(".safety-briefing")).to_be_visible()
        if number == 0:
            answer_quiz(page, right=False)
            expect(page.locator("#quiz-wrong")).to_contain_text("1 answer is not right")
        answer_quiz(page, right=True)
        expect(page.locator(".safety-briefing")).to_have_count(0)
        page.goto(server.station_url(tour, "s1"))
        expect(page.locator(".safety-ppe")).to_contain_text("Hard hat")
        expect(page.locator(".visits-messages")).to_have_count(1)
        pupils.append(page)

    # A fourth phone, of a pupil under the tour's minimum age (10): the briefing says
    # why the stations stay closed, and the pupil is not counted as briefed.
    young = phone(locale="en-US").new_page()
    young.goto(f"{base}/join/{code}?lang=en")
    young.get_by_role("button", name="Join").click()
    answer_quiz(young, right=True, age=9)
    expect(young.locator("#too-young")).to_contain_text("aged 10 and over")
    young.goto(server.station_url(tour, "s1"))
    expect(young.locator(".safety-briefing")).to_be_visible()
    expect(young.locator(".safety-ppe")).to_have_count(0)

    # The teacher's page counted them live (no reload).
    expect(teacher.locator('[data-count="joined"]')).to_have_text("4", timeout=15000)
    expect(teacher.locator('[data-count="briefed"]')).to_have_text("3", timeout=15000)
    expect(teacher.locator('strong[data-station="s1"]')).to_have_text("4", timeout=15000)
    assert "Anna" not in teacher.locator(".visits-live").inner_text()

    teacher.fill("#message", "Meet at the exit in 5 minutes")
    teacher.get_by_role("button", name="Send to everyone").click()
    for page in pupils:
        expect(page.locator(".visits-message")).to_have_text(
            "Meet at the exit in 5 minutes", timeout=15000
        )

    teacher.goto(leader_url + "/report")
    expect(teacher.locator("h1")).to_have_text("Class report")
    # Three pupils: every count under 5 is masked, nobody can be singled out.
    expect(teacher.locator('[data-report="pupils"]')).to_have_text("<5", timeout=15000)
    expect(teacher.locator('tr[data-station="s1"] td').nth(1)).to_have_text("<5")
    expect(teacher.locator('tr[data-station="s2"] td').nth(1)).to_have_text("0")
