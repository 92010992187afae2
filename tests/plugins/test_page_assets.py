"""A station page on a slow phone network: one stylesheet and one script, cached for
good under a content-hash URL, both inline on a new visitor's first page, pages
gzipped on the wire, and no audio fetched before the visitor presses play."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx
from playwright.sync_api import expect
from promtour._web.assets import AFTER_PAINT_END, AFTER_PAINT_START, READY_SNIPPET
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


def sha256_source(block: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()}'"


def csp_sources(csp: str, directive: str) -> set[str]:
    (sources,) = [d.split()[1:] for d in csp.split(";") if d.split()[:1] == [directive]]
    return set(sources)


def test_a_new_visitors_first_page_carries_the_stylesheet_and_script_allowed_by_their_hashes(
    nats_url, serve_app, tmp_path
):
    """No round trip after the page before a phone that never came here can paint and
    use it; the CSP allows exactly the page's two blocks, nothing else inline."""
    tour = arun(audio_tour(nats_url, media(tmp_path), CONFIG, languages=["en"]))
    server = serve_app(**ONLY_AUDIO)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        first = client.get(server.station_url(tour, "s1"))
        assert first.status_code == 200
        assert re.findall(r'<link rel="stylesheet"', first.text) == []
        assert re.findall(r"<script src=", first.text) == []
        styles = re.findall(r"<style>(.*?)</style>", first.text, re.S)
        scripts = re.findall(r"<script>(.*?)</script>", first.text, re.S)
        assert len(styles) == 1 and ".ag-player" in styles[0]
        assert len(scripts) == 1 and "data-ag-player" in scripts[0] and "data-ready" in scripts[0]
        csp = first.headers["content-security-policy"]
        assert csp_sources(csp, "style-src") == {"'self'", sha256_source(styles[0])}
        assert csp_sources(csp, "script-src") == {"'self'", sha256_source(scripts[0])}
        assert "unsafe-inline" not in csp
        # The same files, fetched for the next pages while this one is read.
        prefetch = dict(
            (kind, url)
            for url, kind in re.findall(
                r'<link rel="prefetch" href="([^"]+)" as="(\w+)">', first.text
            )
        )
        assert set(prefetch) == {"style", "script"}
        assert client.get(prefetch["style"]).text == styles[0]
        # The inline block is the linked bundle's code, run after the first paint.
        linked = client.get(prefetch["script"]).text
        assert linked.removesuffix(READY_SNIPPET) in scripts[0]
        # The next page links them (the visitor has the cookie now), nothing inline.
        second = client.get(server.station_url(tour, "s1"))
        assert re.findall(r'<link rel="stylesheet" href="([^"]+)"', second.text) == [
            prefetch["style"]
        ]
        assert re.findall(r'<script src="([^"]+)" defer>', second.text) == [prefetch["script"]]
        assert "<style>" not in second.text and "<script>" not in second.text
        assert "sha256" not in second.headers["content-security-policy"]


def test_a_new_visitors_first_page_is_usable_with_no_script_or_stylesheet_request(
    nats_url, serve_app, phone, tmp_path
):
    """The bundles' URLs unreachable: the first page is still styled, set up (play
    button wired, ``data-ready``) and runs under its CSP; the next page links them."""
    tour = arun(audio_tour(nats_url, media(tmp_path), CONFIG, languages=["en"]))
    server = serve_app(**ONLY_AUDIO)
    context = phone(locale="en-US")
    page = context.new_page()
    kinds: list[tuple[str, str]] = []
    problems: list[str] = []
    page.on("request", lambda r: kinds.append((r.resource_type, r.url)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.route("**/static/b/**", lambda route: route.abort())
    page.goto(server.station_url(tour, "s1"))
    wait_for_js(page, "document.documentElement.hasAttribute('data-ready')")
    assert page.evaluate("getComputedStyle(document.querySelector('.skip')).position") == (
        "absolute"
    )
    assert [k for k in kinds if k[0] in ("script", "stylesheet")] == []
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p]
    # The player works with the script from the page itself.
    page.locator(f"{MAIN} .ag-play").click()
    wait_for_js(page, f"document.querySelector('{MAIN} audio').currentTime > 0.2")
    page.unroute("**/static/b/**")
    kinds.clear()
    page.goto(server.station_url(tour, "s1"))
    wait_for_js(page, "document.documentElement.hasAttribute('data-ready')")
    linked = {k for k, url in kinds if BUNDLE.match(url.removeprefix(server.url))}
    assert linked == {"script", "stylesheet"}, kinds
    assert page.locator("style, script:not([src])").count() == 0


def test_the_inline_script_runs_after_paint_on_the_parsed_page_like_a_deferred_one(phone):
    """A plugin's script written for ``defer`` (a ``DOMContentLoaded`` listener, no
    ``readyState`` check) still sets up on a first page, before ``data-ready``."""
    code = """
      window.seen = [document.readyState, !!document.getElementById("last")];
      document.addEventListener("DOMContentLoaded", function (event) {
        window.seen.push(event.type, document.documentElement.hasAttribute("data-ready"));
      });
    """
    page = phone().new_page()
    page.set_content(
        "<!doctype html><html><body><p>text</p>"
        f"<script>{AFTER_PAINT_START}{code}{AFTER_PAINT_END}</script><p id=last></p></body></html>"
    )
    wait_for_js(page, "document.documentElement.hasAttribute('data-ready')")
    state, parsed, *later = page.evaluate("window.seen")
    assert state in ("interactive", "complete") and parsed  # the whole page was there
    assert later == ["DOMContentLoaded", False]  # its listener ran, before data-ready


def test_pages_are_gzipped_for_a_phone_that_accepts_it(nats_url, serve_app, tmp_path):
    tour = arun(audio_tour(nats_url, media(tmp_path), CONFIG, languages=["en"]))
    server = serve_app(**ONLY_AUDIO)
    url = server.station_url(tour, "s1")
    plain = httpx.get(url, headers={"Accept-Encoding": "identity"}, timeout=10)
    packed = httpx.get(url, headers={"Accept-Encoding": "gzip, deflate"}, timeout=10)
    refused = httpx.get(url, headers={"Accept-Encoding": "gzip;q=0"}, timeout=10)
    for answer in (plain, packed, refused):
        assert answer.status_code == 200
        assert "accept-encoding" in answer.headers["vary"].lower()
    assert "content-encoding" not in plain.headers and "content-encoding" not in refused.headers
    assert packed.headers["content-encoding"] == "gzip"
    # httpx unpacks it: the same first page, in under half the bytes.
    assert packed.text.count("<script>") == 1 and "</html>" in packed.text
    assert int(packed.headers["content-length"]) < len(plain.content) / 2
    # Media is sent as it is (already compressed, and answered in ranges).
    audio = httpx.get(
        f"{server.url}/media/{tour.enterprise}/{tour.id}/audio/s1.en.mp3",
        headers={"Accept-Encoding": "gzip"},
        timeout=10,
    )
    assert audio.status_code == 200 and "content-encoding" not in audio.headers
    # Behind a proxy that compresses, the setting leaves it to the proxy.
    behind = serve_app(**ONLY_AUDIO, web={"compress_pages": False})
    as_is = httpx.get(behind.station_url(tour, "s1"), headers={"Accept-Encoding": "gzip"})
    assert as_is.status_code == 200 and "content-encoding" not in as_is.headers


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
