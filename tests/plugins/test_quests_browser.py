"""Headless Chromium on a phone plays the demo tour's quest: a nickname, two stations
scanned, a hint, a wrong and a right answer, the score and a leaderboard on another
screen updating live (SSE), then the finish page and the certificate."""

from __future__ import annotations

import re

import promtour.plugins.quests as quests_plugin
from playwright.sync_api import expect
from promtour.testing import with_platform
from test_quests_panel_cache import demo_tour

#: Only this plugin: the tests see its panels and routes and nobody else's.
PLUGINS = [("quests", quests_plugin)]


def test_a_phone_plays_the_demo_quest(serve_app, phone, nats_url):
    # The demo tour's stations and quest, under fresh ids (the demo ids are shared).
    tour = with_platform(nats_url, demo_tour, plugins=PLUGINS, entrypoints=False)
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    start_url = f"{server.url}/t/{tour.enterprise}/{tour.id}"
    board_url = f"{server.url}/p/quests/{tour.enterprise}/{tour.id}/board"

    player = phone(locale="en-US").new_page()
    player.goto(start_url)
    expect(player.locator("[data-plugin=quests]")).to_contain_text("inspector")
    player.get_by_label("Nickname for the leaderboard").fill("Steel Fox")
    player.get_by_role("button", name="Save", exact=True).click()
    expect(player.locator(".quest-nick")).to_have_text("Steel Fox")

    # A screen by the exit shows today's board and follows it live.
    screen = phone(locale="en-US").new_page()
    screen.goto(board_url)
    expect(screen.locator(".quest-board-table")).to_contain_text("No points yet today")
    screen.evaluate("window.__notReloaded = true")

    # Station 1: a hint, a wrong answer, then the right one.
    player.goto(server.station_url(tour, "warehouse"))
    mission = player.locator("#m-coil-crane")
    expect(mission).to_contain_text("What moves a 25-tonne steel coil")
    mission.get_by_role("button", name="Take a hint (−3 points)").click()
    mission = player.locator("#m-coil-crane")
    expect(mission.locator(".quest-hint")).to_contain_text("Look up.")
    mission.get_by_label("A forklift").check()
    mission.get_by_role("button", name="Answer").click()
    mission = player.locator("#m-coil-crane")
    expect(mission.locator("[data-quest-status]")).to_have_text("Not right. Attempts left: 2.")
    mission.get_by_label("An overhead crane under the roof").check()
    mission.get_by_role("button", name="Answer").click()
    mission = player.locator("#m-coil-crane")
    # 10 points, less the hint (3) and the wrong answer (2).
    expect(mission.locator("[data-quest-status]")).to_have_text("Right! +5 points.")
    expect(mission.locator(".quest-explanation")).to_contain_text("overhead crane runs on rails")
    expect(player.locator("[data-quest-score]").first).to_have_text("5")
    expect(screen.locator("tr", has_text="Steel Fox")).to_contain_text("5")

    # Station 2, scanned: the number on the press's plate, within the time bonus.
    player.goto(server.station_url(tour, "press"))
    plate = player.locator("#m-press-plate")
    plate.get_by_label("Your answer").fill("1989")
    plate.get_by_role("button", name="Answer").click()
    plate = player.locator("#m-press-plate")
    expect(plate.locator("[data-quest-status]")).to_have_text("Right! +20 points.")
    expect(player.locator("[data-quest-score]").first).to_have_text("25")
    expect(screen.locator("tr", has_text="Steel Fox").locator("td.num")).to_have_text("25")
    assert screen.evaluate("window.__notReloaded") is True

    # The finish page: score, badges, and the printable certificate.
    player.goto(f"{start_url}/finish")
    panel = player.locator("[data-plugin=quests]")
    expect(panel).to_contain_text("Your score: 25 / 100")
    expect(panel.locator(".quest-badge")).to_have_count(4)
    panel.get_by_role("link", name="Your certificate").click()
    certificate = player.locator(".quest-certificate")
    expect(certificate.locator("[data-cert-name]")).to_have_text("Steel Fox")
    expect(certificate.locator("[data-cert-tour]")).to_have_text("«How a part is born»")
    expect(certificate.locator("[data-cert-enterprise]")).to_have_text("Ural Press Works")
    expect(certificate.locator("[data-cert-date]")).to_have_attribute(
        "datetime", re.compile(r"^\d{4}-\d{2}-\d{2}$")
    )
    expect(player.get_by_role("button", name="Print")).to_be_visible()
