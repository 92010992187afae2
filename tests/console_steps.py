"""Steps a tour manager takes in the Russian console with Chromium, shared by the browser
tests that walk them (the forms of missions, «Озвучить», the posters, the whole story):
one place that knows the console's selectors, and one way of counting the clicks."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

__all__ = [
    "Clicks",
    "add_single_mission",
    "console",
    "poster_url",
    "render_track",
    "russian_tour",
]


class Clicks:
    """A console page whose actions are counted, as a manager would count them: every
    press (a button, a link, a checkbox, a choice in a list) is a click, every field
    typed into is counted apart. Each press waits for the page it loads."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.clicks = 0
        self.typed = 0

    def click(self, selector: str) -> None:
        self.clicks += 1
        self.page.click(selector)
        self.page.wait_for_load_state()

    def check(self, selector: str) -> None:
        self.clicks += 1
        self.page.check(selector)

    def select(self, selector: str, value: str) -> None:
        self.clicks += 1
        self.page.select_option(selector, value)

    def fill(self, selector: str, value: str) -> None:
        self.typed += 1
        self.page.fill(selector, value)

    def __str__(self) -> str:
        return f"{self.clicks} clicks, {self.typed} fields typed"


@contextmanager
def console(browser: Any, server_url: str, enterprise: str, secret: str) -> Iterator[Clicks]:
    """A desktop page of the Russian console, signed in with a token's secret (the
    sign-in counted), on the enterprise's tours; its browser context closed after."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    try:
        c = Clicks(context.new_page())
        c.page.goto(f"{server_url}/console/login")
        c.fill("#token", secret)
        c.click("button[type=submit]")
        c.page.wait_for_url(f"**/console/{enterprise}")
        yield c
    finally:
        context.close()


def editor_on_phone(phone: Any, nats_url: str, server_url: str, enterprise: str) -> Any:
    """A page of the Russian console on a phone (390x844, scale 1: the screenshots'
    size), signed in with a new editor token of ``enterprise``."""
    from promtour._auth import create_token
    from promtour.testing import with_platform

    async def token(platform: Any) -> str:
        return (await create_token(platform.bus, enterprise, "editor", "Ольга"))[1]

    secret = with_platform(nats_url, token)
    page = phone(locale="ru-RU", device_scale_factor=1).new_page()
    page.goto(f"{server_url}/console/login")
    page.fill("#token", secret)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def add_single_mission(
    c: Clicks,
    index: int,
    mission_id: str,
    station: str,
    question: str,
    answers: Sequence[str],
    hint: str,
) -> None:
    """On the quests form: a single-choice mission at ``station`` (the ``index``-th of
    the list), its answers (the first one right) and a hint. Not saved: the form says so."""
    c.click("button[value='add:missions:single']")
    expect(c.page.locator(".flash.unsaved")).to_have_count(1)  # nothing saved yet
    path = f"missions.{index}"
    p = f"cfg.{path}"
    c.fill(f"input[name='{p}.id']", mission_id)
    c.select(f"select[name='{p}.station']", station)
    c.fill(f"textarea[name='{p}.question.ru']", question)
    for _ in answers:
        c.click(f"button[value='add:{path}.choices']")
    for n, text in enumerate(answers):
        c.fill(f"input[name='{p}.choices.{n}.text.ru']", text)
    c.check(f"input[type=checkbox][name='{p}.choices.0.correct']")
    c.click(f"button[value='add:{path}.hints']")
    c.fill(f"input[name='{p}.hints.0.text.ru']", hint)


def render_track(
    c: Clicks, station: str, track_id: str, title: str, script: str, *, index: int = 0
) -> None:
    """On the audio guide's form: a track for ``station`` whose Russian script is typed
    and rendered with «Озвучить»; waits for the rendering and checks that the audio and
    its transcript are filled in (not saved yet)."""
    c.click("button[value='add:stations']")
    c.select(f"select[name='cfg.stations.{index}.station']", station)
    c.click(f"button[value='add:stations.{index}.tracks']")
    track = f"cfg.stations.{index}.tracks.0"
    c.fill(f"input[name='{track}.id']", track_id)
    c.fill(f"input[name='{track}.title.ru']", title)
    render = f"button[value='action:stations.{index}.tracks.0.script']"
    expect(c.page.locator(render)).to_have_text("Озвучить")
    c.fill(f"textarea[name='{track}.script.ru']", script)
    c.click(render)
    # A progress page (refreshing itself) or, if quick, the form again.
    c.page.wait_for_selector("#action-note", timeout=60_000)
    assert "Озвучено:" in c.page.locator("#action-note").inner_text()
    expect(c.page.locator(".flash.unsaved")).to_have_count(1)  # not saved yet
    name = f"audio/{station}-{track_id}.ru"
    expect(c.page.locator(f"select[name='{track}.audio.ru']")).to_have_value(f"{name}.mp3")
    expect(c.page.locator(f"select[name='{track}.transcript.ru']")).to_have_value(f"{name}.vtt")
    assert c.page.input_value(f"textarea[name='{track}.script.ru']") == script


def poster_url(page: Any, station: str) -> str:
    """The address in the QR code of ``station``'s poster on the poster sheet now open,
    read from the printed image as a phone's camera would."""
    poster = page.locator(f"article.poster[data-station={station}]")
    shot = Image.open(io.BytesIO(poster.locator(".qr").screenshot()))
    codes = zxingcpp.read_barcodes(shot)
    assert len(codes) == 1, f"{len(codes)} codes on the poster of {station}"
    return str(codes[0].text)


def russian_tour(
    server_url: str, enterprise: str, secret: str, stations: Sequence[tuple[str, str]]
) -> httpx.Client:
    """A Russian-only tour ``plant`` with ``stations`` (id, name), made through the API
    as the set-up before the console steps; returns that API client (close it)."""
    api = httpx.Client(
        base_url=f"{server_url}/api/v1/enterprises/{enterprise}",
        headers={"Authorization": f"Bearer {secret}"},
    )
    created = api.post(
        "/tours",
        json={
            "id": "plant",
            "name": {"ru": "Завод"},
            "languages": ["ru"],
            "default_language": "ru",
            "stations": [
                {"id": sid, "number": n, "name": {"ru": name}}
                for n, (sid, name) in enumerate(stations, 1)
            ],
        },
    )
    assert created.status_code == 201, created.text
    return api
