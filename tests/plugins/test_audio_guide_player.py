"""The station player in headless Chromium: it plays after a tap, the transcript
highlight follows the audio, the visitor resumes after a reload (from the server when
the phone's storage is gone), listening is reported as events, tracks can be chosen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from promtour.testing import run_in_thread
from promtour.testing.browser import wait_for_js
from test_audio_guide_support import ONLY_AUDIO, audio_tour, stream_events, tone, vtt

MAIN = "#ag-s1-main"

CONFIG = {
    "autoplay_allowed": True,
    "stations": [
        {
            "station": "s1",
            "tracks": [
                {"id": "main", "title": {"en": "The story"}, "audio": {"en": "audio/s1.en.mp3"}},
                {"id": "kids", "title": {"en": "For kids"}, "audio": {"en": "audio/kids.en.mp3"}},
            ],
        }
    ],
}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("audio")
    return {
        "audio/s1.en.mp3": tone(folder / "s1.mp3", 4.0),
        "audio/s1.en.vtt": vtt(
            (0.0, 1.0, "First sentence."),
            (1.3, 2.4, "Second sentence."),
            (2.7, 4.0, "Third sentence."),
        ),
        "audio/kids.en.mp3": tone(folder / "kids.mp3", 2.0, 660),
        "audio/kids.en.vtt": vtt((0.0, 2.0, "A story for kids.")),
    }


def current_time(page) -> float:
    return page.evaluate(f"document.querySelector('{MAIN} audio').currentTime")


def test_station_track_plays_highlights_resumes_and_reports(nats_url, serve_app, phone, media):
    tour = run_in_thread(
        audio_tour(nats_url, media, CONFIG, languages=["en", "ru"], default_language="en")
    )
    server = serve_app(**ONLY_AUDIO)
    page = phone(locale="en-US").new_page()
    page.goto(server.station_url(tour, "s1"))
    track = page.locator(MAIN)

    # The transcript is on the page before anything plays; nothing plays by itself.
    expect(track.locator(".ag-transcript li")).to_have_count(3)
    expect(track.locator(".ag-transcript li").first).to_contain_text("First sentence.")
    assert current_time(page) == 0
    expect(track.locator(".ag-play")).to_have_text(re.compile("Play"))
    expect(track.locator(".ag-transcript li.ag-current")).to_have_count(0)

    track.locator(".ag-play").click()
    wait_for_js(page, f"document.querySelector('{MAIN} audio').currentTime > 0.2")
    expect(track.locator(".ag-play")).to_have_text(re.compile("Pause"))
    current = track.locator(".ag-transcript li.ag-current")
    expect(current).to_contain_text("First sentence.")
    # The highlight moves on with the audio.
    expect(current).to_contain_text("Second sentence.", timeout=5000)
    assert track.locator(".ag-transcript li[aria-current=true]").count() == 1

    with page.expect_response(lambda r: r.url.endswith("/position")) as saved:
        track.locator(".ag-play").click()  # pause: the position is saved
    assert saved.value.status == 202
    stopped = current_time(page)
    assert stopped > 1.3

    # Resume after a reload, even with this phone's storage gone: from the server.
    page.evaluate("localStorage.clear()")
    page.reload()
    wait_for_js(page, f"document.querySelector('{MAIN} audio').currentTime > 1")
    assert abs(current_time(page) - stopped) < 0.6
    expect(track.locator(".ag-transcript li.ag-current")).to_contain_text("Second sentence.")

    # Listen to the end, faster: 1.5x.
    track.locator(".ag-speed").select_option("1.5")
    track.locator(".ag-play").click()
    wait_for_js(page, f"document.querySelector('{MAIN} audio').ended", timeout=10_000)
    page.wait_for_timeout(300)  # the last report is in flight

    started = run_in_thread(stream_events(nats_url, tour, "audio_listen_started"))
    progressed = run_in_thread(stream_events(nats_url, tour, "audio_listen_progressed"))
    finished = run_in_thread(stream_events(nats_url, tour, "audio_listen_finished"))
    assert len(started) == 2  # two listening sessions: before and after the reload
    assert sorted(e["quartile"] for e in progressed) == [1, 2, 3]
    assert len(finished) == 1
    for event in started + progressed + finished:
        assert event["track"] == "main" and event["lang"] == "en"
        assert event["station"] == "s1" and event["visitor"] and event["tour"] == tour.id
    # Nothing beyond the envelope and the listening fields: no personal data.
    assert set(progressed[0]) == {
        "type", "id", "enterprise", "tour", "station", "visitor", "group", "time", "v",
        "track", "lang", "quartile",
    }  # fmt: skip

    # Heard to the end: the next visit starts from the beginning.
    page.reload()
    wait_for_js(page, "document.documentElement.hasAttribute('data-ready')")
    assert current_time(page) == 0


def test_track_choice_and_opt_in_autoplay(nats_url, serve_app, phone, media):
    tour = run_in_thread(
        audio_tour(nats_url, media, CONFIG, languages=["en", "ru"], default_language="en")
    )
    server = serve_app(**ONLY_AUDIO)
    page = phone(locale="en-US").new_page()
    page.goto(server.station_url(tour, "s1"))
    kids = page.locator("#ag-s1-kids")
    expect(page.locator(MAIN)).to_be_visible()
    expect(kids).to_be_hidden()
    page.get_by_role("button", name="For kids").click()
    expect(kids).to_be_visible()
    expect(page.locator(MAIN)).to_be_hidden()
    expect(page.get_by_role("button", name="For kids")).to_have_attribute("aria-pressed", "true")

    # The visitor's choice of version and their autoplay wish carry to the next scan.
    page.get_by_label("Play each station when I scan it").check()
    page.goto(server.station_url(tour, "s1"))
    expect(kids).to_be_visible()
    wait_for_js(page, "document.querySelector('#ag-s1-kids audio').currentTime > 0.2")
