"""The group show: a guide with the PIN opens a group and fires a cue; phones in
Russian and English start their own file together; a late phone catches up. Without
the PIN or a guide token, nothing can be fired."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect
from promtour._auth import create_token
from promtour._bus import Bus
from promtour.testing import csrf_token, run_in_thread
from promtour.testing.browser import wait_for_js
from test_audio_guide_support import (
    ONLY_AUDIO,
    PRESS_CUE,
    audio_tour,
    join_show,
    open_group,
    show_media,
    stream_events,
)

PIN = "2468"

CONFIG = {
    "show_lead_seconds": 2.0,
    "stations": [
        {
            "station": "s1",
            "tracks": [{"id": "main", "audio": {"ru": "audio/s1.ru.mp3"}}],
            "cues": [PRESS_CUE],
        }
    ],
    "guide_pin": PIN,
}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return show_media(tmp_path_factory.mktemp("show"), cue_seconds=8.0)


def started(page) -> dict:
    wait_for_js(page, "window.agShow.started !== null", timeout=10_000)
    return page.evaluate("window.agShow.started")


def test_guide_fires_cue_phones_play_together_late_phone_catches_up(
    nats_url, serve_app, phone, media
):
    tour = run_in_thread(audio_tour(nats_url, media, CONFIG))
    server = serve_app(**ONLY_AUDIO)
    base = f"{server.url}/p/audio_guide/{tour.enterprise}/{tour.id}"

    # The guide signs in with the PIN and opens a group.
    guide = phone(locale="ru-RU").new_page()
    guide.goto(f"{base}/guide")
    guide.get_by_label("PIN").fill(PIN)
    guide.get_by_label("PIN").press("Enter")
    guide.get_by_role("button", name=re.compile("Открыть новую группу|Open a new group")).click()
    code = guide.locator(".ag-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{4}", code)
    assert guide.locator(".ag-qr svg").count() == 1

    # Two phones, Russian and English, join by the group's link (the QR's target).
    show_url = f"{base}/show?code={code}"
    ru = join_show(phone(locale="ru-RU"), show_url)
    en = join_show(phone(locale="en-US"), show_url)
    expect(guide.locator(".ag-total")).to_have_text("2", timeout=8000)
    expect(guide.locator(".ag-counts")).to_contain_text("EN: 1")
    expect(guide.locator(".ag-counts")).to_contain_text("RU: 1")

    guide.locator("form.ag-fire button").first.click()
    expect(guide.locator(".ag-np-title")).to_have_text("Слушайте пресс!")

    ru_start, en_start = started(ru), started(en)
    cue = ru.evaluate("window.agShow.cue")
    assert en.evaluate("window.agShow.cue")["id"] == cue["id"]
    assert ".ru." in ru.evaluate("document.querySelector('.ag-show-audio').src")
    assert ".en." in en.evaluate("document.querySelector('.ag-show-audio').src")
    # Both began the file's first second together (server clock, measured in the pages).
    assert abs(ru_start["zero"] - en_start["zero"]) < 100, (ru_start, en_start)
    assert abs(ru_start["zero"] - cue["start_at"]) < 250, (ru_start, cue)
    expect(ru.locator(".ag-now-title")).to_have_text("Слушайте пресс!")
    expect(en.locator(".ag-now-title")).to_have_text("Listen to the press!")
    expect(en.locator(".ag-show-transcript li.ag-current")).to_have_text("Listen to the press!")

    # A third phone joins a second after the start: it plays the cue from where it is.
    ru.wait_for_timeout(1000)
    late = join_show(phone(locale="ru-RU"), show_url)
    late_start = started(late)
    assert late.evaluate("window.agShow.cue")["id"] == cue["id"]
    assert late_start["position"] > 0.8
    assert abs(late_start["zero"] - ru_start["zero"]) < 400, (late_start, ru_start)
    assert late.evaluate("!document.querySelector('.ag-show-audio').paused")

    events = run_in_thread(stream_events(nats_url, tour, "audio_cue_fired"))
    assert len(events) == 1
    assert events[0]["group"] == code and events[0]["cue"] == "press-now"
    assert events[0]["station"] == "s1" and events[0]["visitor"] is None


async def test_guide_actions_need_the_pin_or_a_guide_token(nats_url, serve_app, media):
    tour = await audio_tour(nats_url, media, CONFIG)
    other = await audio_tour(nats_url, media, CONFIG)
    server = serve_app(**ONLY_AUDIO)
    base = f"/p/audio_guide/{tour.enterprise}/{tour.id}"
    fire = {"station": "s1", "cue": "press-now"}
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        page = await client.get(f"{base}/guide")
        assert page.status_code == 200 and 'name="pin"' in page.text
        csrf = csrf_token(page.text)

        # No PIN: no group, no cue, no status.
        response = await client.post(f"{base}/guide/groups", data={"_csrf": csrf})
        assert response.status_code == 403
        response = await client.post(f"{base}/guide/groups/ACDE/cues", data={"_csrf": csrf, **fire})
        assert response.status_code == 403
        assert (await client.get(f"{base}/guide/groups/ACDE")).status_code == 403
        wrong = await client.post(f"{base}/guide/login", data={"_csrf": csrf, "pin": "0000"})
        assert wrong.status_code == 403 and "PIN" in wrong.text

        # With the PIN.
        ok = await client.post(f"{base}/guide/login", data={"_csrf": csrf, "pin": PIN})
        assert ok.status_code == 303
        created = await client.post(
            f"{base}/guide/groups", data={"_csrf": csrf}, headers={"Accept": "application/json"}
        )
        assert created.status_code == 201
        code = created.json()["code"]
        fired = await client.post(
            f"{base}/guide/groups/{code}/cues",
            data={"_csrf": csrf, **fire},
            headers={"Accept": "application/json"},
        )
        assert fired.status_code == 201 and fired.json()["cue"] == "press-now"
        unknown = await client.post(
            f"{base}/guide/groups/{code}/cues",
            data={"_csrf": csrf, "station": "s1", "cue": "nope"},
            headers={"Accept": "application/json"},
        )
        assert unknown.status_code == 400 and "nope" in unknown.json()["detail"]
        # The PIN of one tour opens nothing on another.
        other_base = f"/p/audio_guide/{other.enterprise}/{other.id}"
        response = await client.post(f"{other_base}/guide/groups", data={"_csrf": csrf})
        assert response.status_code == 403

    # An API client with an enterprise token: guide yes, hr no, another enterprise no.
    bus = Bus(nats_url)
    await bus.connect()
    try:
        _, guide_token = await create_token(bus, tour.enterprise, "guide", "tablet")
        _, hr_token = await create_token(bus, tour.enterprise, "hr", "hr")
        _, foreign = await create_token(bus, other.enterprise, "admin", "other")
    finally:
        await bus.close()
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as api:

        def auth(token: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {token}"}

        created = await api.post(f"{base}/guide/groups", headers=auth(guide_token))
        assert created.status_code == 201
        code = created.json()["code"]
        fired = await api.post(
            f"{base}/guide/groups/{code}/cues", json=fire, headers=auth(guide_token)
        )
        assert fired.status_code == 201
        assert fired.json()["start_at"] > 0
        status = await api.get(f"{base}/guide/groups/{code}", headers=auth(guide_token))
        assert status.json()["last_cue"]["cue"] == "press-now"
        assert (await api.post(f"{base}/guide/groups", headers=auth(hr_token))).status_code == 403
        assert (await api.post(f"{base}/guide/groups", headers=auth(foreign))).status_code == 404
        bad = await api.post(f"{base}/guide/groups", headers=auth("pt_nope_nope"))
        assert bad.status_code == 401


async def test_wrong_pins_from_one_address_do_not_lock_out_the_guide(nats_url, serve_app, media):
    """Issue 10, defect 6: guesses from fresh cookies are stopped per address (429),
    and the guide on another address still signs in with the right PIN."""
    tour = await audio_tour(nats_url, media, CONFIG)
    server = serve_app(**ONLY_AUDIO, web={"trusted_proxies": ["127.0.0.1/32"]})
    base = f"{server.url}/p/audio_guide/{tour.enterprise}/{tour.id}/guide"

    async def try_pin(pin: str, address: str) -> httpx.Response:
        # A fresh cookie every time, as a guessing script would do.
        headers = {"X-Forwarded-For": address}
        async with httpx.AsyncClient(timeout=10, headers=headers) as client:
            csrf = csrf_token((await client.get(base)).text)
            return await client.post(f"{base}/login", data={"_csrf": csrf, "pin": pin})

    statuses = [(await try_pin(f"{n:04d}", "203.0.113.7")).status_code for n in range(40)]
    assert statuses[:10] == [403] * 10, statuses
    assert set(statuses[10:]) == {429}, statuses
    # Even the right PIN is refused from that address now.
    assert (await try_pin(PIN, "203.0.113.7")).status_code == 429
    # The guide, on the factory's network, signs in at once.
    assert (await try_pin(PIN, "198.51.100.9")).status_code == 303


def test_tap_to_listen_is_hidden_while_hidden(nats_url, serve_app, phone, media):
    """Issue 17, defect 1: the core's button style must not beat the hidden attribute."""
    tour = run_in_thread(audio_tour(nats_url, media, CONFIG))
    code = run_in_thread(open_group(nats_url, tour))
    server = serve_app(**ONLY_AUDIO)
    page = phone(locale="en-US").new_page()
    page.goto(f"{server.url}/p/audio_guide/{tour.enterprise}/{tour.id}/show?code={code}")
    tap = page.locator(".ag-tap")
    page.evaluate("document.querySelector('.ag-now').hidden = false")
    assert tap.evaluate("b => b.hidden") is True
    assert tap.evaluate("b => getComputedStyle(b).display") == "none"
    expect(tap).to_be_hidden()
    tap.evaluate("b => { b.hidden = false }")
    expect(tap).to_be_visible()
    tap.evaluate("b => { b.hidden = true }")
    expect(tap).to_be_hidden()
