"""The demo tour in a phone-sized headless Chromium: scan, switch language, see progress,
and type a station number when the camera fails."""

from __future__ import annotations

from urllib.parse import urlsplit

from promtour._tokens import sign_station
from promtour.testing import import_demo_in_thread

DEMO_PLUGINS = {"audio_guide", "quests", "career"}


def test_demo_station_on_a_phone(nats_url, serve_app, phone):
    assert "uralpress.main" in import_demo_in_thread(nats_url)
    server = serve_app()
    state = server.platform.tours.cached("uralpress.main")
    assert state is not None
    tour = state.tour

    def url(station: str) -> str:
        return f"{server.url}/s/{sign_station(tour, station)}"

    page = phone(locale="ru-RU").new_page()
    page.goto(url("warehouse"))
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.locator("h1").inner_text() == "Склад рулонной стали"
    # Every plugin enabled for the demo contributed its panel, and none failed.
    plugins = {p.get_attribute("data-plugin") for p in page.locator("section.panel").all()}
    assert plugins >= DEMO_PLUGINS
    assert page.locator("section.panel-failed").count() == 0
    # Built for the phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator(".progress .count").inner_text() == "1"

    # Switch to English: the same station, now in English, and remembered.
    page.locator("nav.langs a[hreflang=en]").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Steel coil warehouse"
    assert "/s/" not in page.url  # switching language is not a second scan

    # A second station: progress 2 of 5, both marked visited.
    page.goto(url("press"))
    assert page.locator("h1").inner_text() == "Press line"
    progress = page.locator("section.progress")
    assert progress.locator(".count").inner_text() == "2"
    assert "/ 5" in progress.locator("h2").inner_text()
    for visited in ("warehouse", "press"):
        assert "visited" in (
            progress.locator(f"li[data-station={visited}]").get_attribute("class") or ""
        )
    for todo in ("welding", "cnc", "qc"):
        assert "todo" in (progress.locator(f"li[data-station={todo}]").get_attribute("class") or "")

    # The camera does not work: type the number printed under the code.
    page.get_by_label("Camera not working? Type the station number").fill("3")
    page.get_by_role("button", name="Go").click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path == "/t/uralpress/main/at/welding"
    assert page.locator("h1").inner_text() == "Robotic welding"
    assert page.locator("section.progress .count").inner_text() == "3"

    # A number that is not on the tour gets a clear answer, and a way back.
    page.get_by_label("Camera not working? Type the station number").fill("42")
    page.get_by_role("button", name="Go").click()
    page.wait_for_load_state()
    assert "no station with this number" in page.locator("[role=alert]").inner_text()
    page.get_by_role("link", name="Back to the tour").click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path == "/t/uralpress/main"
