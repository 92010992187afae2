"""A station page on a slow phone network: one stylesheet and one script, cached for
good under a content-hash URL, and no audio fetched before the visitor presses play."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx
from playwright.sync_api import expect
from promtour.testing import run_in_thread as arun
from promtour.testing.browser import wait_for_js
from test_audio_guide_support import ONLY_AUDIO, audio_tour, tone, vtt

MAIN = "#ag-s1-main"
CONFIG = {
    "stations": [
        {
            "station": "s1",
            "tracks": [
                {"id": "main", "title": {"en": "The story"}, "audio": {"en": "audio/s1.en.mp3"}}
            ],
        }
    ]
}
BUNDLE = re.compile(r"^/static/b/[0-9a-f]{16}/[a-z_+]+\.(css|js)$")


def media(tmp_path) -> dict[str, bytes]:
    return {
        "audio/s1.en.mp3": tone(tmp_path / "s1.mp3", 3.0),
        "audio/s1.en.vtt": vtt((0.0, 3.0, "A sentence.")),
    }


def test_station_page_links_one_hashed_stylesheet_and_script_cached_for_good(
    nats_url, serve_app, tmp_path
):
    tour = arun(audio_tour(nats_url, media(tmp_path), CONFIG, languages=["en"]))
    server = serve_app(**ONLY_AUDIO)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        client.get(f"/t/{tour.enterprise}/{tour.id}")  # the visitor's first page
        page = client.get(server.station_url(tour, "s1"))
        assert page.status_code == 200
        styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text)
        scripts = re.findall(r'<script src="([^"]+)"', page.text)
        assert len(styles) == 1 and len(scripts) == 1, (styles, scripts)
        assert "<style" not in page.text
        assert "sha256" not in page.headers["content-security-policy"]
        for url in styles + scripts:
            assert BUNDLE.match(url), url
            plain = client.get(url, headers={"Accept-Encoding": "identity"})
            assert plain.status_code == 200
            assert "immutable" in plain.headers["cache-control"]
            assert "max-age=31536000" in plain.headers["cache-control"]
            packed = client.get(url, headers={"Accept-Encoding": "gzip"})
            assert packed.headers["content-encoding"] == "gzip"
            assert packed.content == plain.content  # httpx unpacks it
        css = client.get(styles[0]).text
        js = client.get(scripts[0]).text
        # The core's and the plugin's files, in one of each.
        assert ".skip" in css and ".ag-player" in css
        assert "data-ag-player" in js and "data-ready" in js
        # Another content under the same name is not served as this one.
        stale = re.sub(r"/b/[0-9a-f]{16}/", "/b/0123456789abcdef/", styles[0])
        assert client.get(stale).status_code == 404
        # The next station's page asks for the same URLs: nothing to fetch again.
        again = client.get(server.station_url(tour, "s1"))
        assert re.findall(r'<link rel="stylesheet" href="([^"]+)"', again.text) == styles


def test_a_new_visitors_first_page_carries_the_stylesheet_inline_allowed_by_its_hash(
    nats_url, serve_app, tmp_path
):
    """One round trip less before the first paint of a phone that never came here."""
    tour = arun(audio_tour(nats_url, media(tmp_path), CONFIG, languages=["en"]))
    server = serve_app(**ONLY_AUDIO)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        first = client.get(server.station_url(tour, "s1"))
        assert first.status_code == 200
        assert re.findall(r'<link rel="stylesheet"', first.text) == []
        blocks = re.findall(r"<style>(.*?)</style>", first.text, re.S)
        assert len(blocks) == 1 and ".ag-player" in blocks[0]
        digest = base64.b64encode(hashlib.sha256(blocks[0].encode()).digest()).decode()
        csp = first.headers["content-security-policy"]
        assert f"style-src 'self' 'sha256-{digest}'" in csp and "unsafe-inline" not in csp
        # The same stylesheet, fetched for the next pages while this one is read.
        (prefetch,) = re.findall(r'<link rel="prefetch" href="([^"]+)" as="style">', first.text)
        assert BUNDLE.match(prefetch) and client.get(prefetch).text == blocks[0]
        # The next page links it (the visitor has the cookie now).
        second = client.get(server.station_url(tour, "s1"))
        assert re.findall(r'<link rel="stylesheet" href="([^"]+)"', second.text) == [prefetch]


def test_no_audio_is_fetched_before_play(nats_url, serve_app, phone, tmp_path):
    tour = arun(audio_tour(nats_url, media(tmp_path), CONFIG, languages=["en"]))
    server = serve_app(**ONLY_AUDIO)
    page = phone(locale="en-US").new_page()
    audio: list[str] = []
    page.on("request", lambda r: audio.append(r.url) if "/media/" in r.url else None)
    page.goto(server.station_url(tour, "s1"))
    # Visible once the player's script has set it up.
    expect(page.locator(f"{MAIN} .ag-play")).to_be_visible()
    page.wait_for_timeout(800)  # a preload would have started by now
    assert audio == []
    page.locator(f"{MAIN} .ag-play").click()
    wait_for_js(page, f"document.querySelector('{MAIN} audio').currentTime > 0.2")
    assert audio, "the audio is fetched once the visitor presses play"
