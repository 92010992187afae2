"""«Озвучить»: audio authored in the console (issue 16, point 4), in Chromium, Russian.

An editor types a track's script, presses «Озвучить», waits for the rendering and
saves; a phone scans the station, plays the rendered audio and reads its transcript;
the media list shows both files as used and refuses to delete them. Bad scripts
(empty, too long) are refused in Russian with nothing changed. An MP3 uploaded
without a transcript is accepted and the player shows the script instead."""

from __future__ import annotations

import time
from typing import Any

import httpx
from playwright.sync_api import expect
from promtour._platform import Platform
from promtour.plugins.audio_guide.speech import MAX_SCRIPT_CHARS
from promtour.testing import csrf_token, run_in_thread, station_path, with_platform
from promtour.testing.browser import wait_for_js
from test_audio_guide_support import ONLY_AUDIO, audio_tour, tone

from tests.console_steps import console, render_track
from tests.test_console_browser import onboard

RU_HEADERS = {"Accept-Language": "ru"}
SCRIPT = "Это пресс усилием тысяча тонн. Он штампует деталь за четыре секунды."
TRACK = "cfg.stations.0.tracks.0"


def _new_tour(server_url: str, ent: str, secret: str, tour_id: str) -> None:
    api = httpx.Client(
        base_url=f"{server_url}/api/v1/enterprises/{ent}",
        headers={"Authorization": f"Bearer {secret}"},
    )
    created = api.post(
        "/tours",
        json={
            "id": tour_id,
            "name": {"ru": "Завод"},
            "languages": ["ru"],
            "default_language": "ru",
            "stations": [
                {"id": "gate", "number": 1, "name": {"ru": "Проходная"}},
                {"id": "press", "number": 2, "name": {"ru": "Пресс"}},
            ],
        },
    )
    assert created.status_code == 201, created.text


def sign_in(client: httpx.Client, secret: str) -> str:
    """Sign a cookie-keeping client in to the console; the CSRF token of its forms."""
    token = csrf_token(client.get("/console/login").text)
    done = client.post("/console/login", data={"token": secret, "_csrf": token})
    assert done.status_code == 303, done.text
    return token


def _tour(nats_url: str, ent: str, tour_id: str) -> Any:
    async def work(platform: Platform) -> Any:
        state = await platform.tours.refresh(f"{ent}.{tour_id}")
        assert state is not None
        return state.tour

    return with_platform(nats_url, work, plugins=ONLY_AUDIO["plugins"], entrypoints=False)


def test_editor_renders_a_track_and_a_phone_plays_it(browser, serve_app, nats_url, phone):
    ent, secret = onboard(nats_url)
    server = serve_app(**ONLY_AUDIO)
    _new_tour(server.url, ent, secret, "voice")
    t = f"{server.url}/console/{ent}/tours/voice"
    with console(browser, server.url, ent, secret) as c:
        page = c.page
        page.goto(f"{t}/plugins/audio_guide")
        render_track(c, "press", "main", "Пресс-цех", SCRIPT)
        c.click("text=Включить с этими настройками")
        page.wait_for_url("**/tours/voice?done=enabled")
        print(f"\nto render and save one track: {c}")

        # The media list: both files used, neither can be deleted.
        page.goto(f"{t}/media")
        for name in ("audio/press-main.ru.mp3", "audio/press-main.ru.vtt"):
            row = page.locator("tr", has_text=name)
            expect(row).to_contain_text("используется")
            expect(row).not_to_contain_text("не используется")
        client = httpx.Client(base_url=server.url, headers=RU_HEADERS, timeout=30)
        csrf = sign_in(client, secret)
        refused = client.post(
            f"/console/{ent}/tours/voice/media/delete",
            data={"_csrf": csrf, "name": "audio/press-main.ru.vtt"},
        )
        assert refused.status_code == 400 and "используется" in refused.text

    # A phone scans the station: the rendered audio plays, the transcript is there.
    tour = _tour(nats_url, ent, "voice")
    visitor = phone(locale="ru-RU").new_page()
    visitor.goto(server.url + station_path(tour, "press"))
    track = visitor.locator("#ag-press-main")
    expect(track.locator(".ag-transcript li")).to_have_count(2)
    expect(track.locator(".ag-transcript li").first).to_contain_text("тысяча тонн")
    track.locator(".ag-play").click()
    wait_for_js(visitor, "document.querySelector('#ag-press-main audio').currentTime > 0.5")


def render_form(csrf: str) -> dict[str, str]:
    """The audio guide form as a browser sends it with station press's first track and
    its «Озвучить» pressed (add the track's id and script)."""
    return {
        "_csrf": csrf,
        "cfg.stations._": "1",
        "cfg.stations.0._": "1",
        "cfg.stations.0.station": "press",
        "cfg.stations.0.tracks._": "1",
        f"{TRACK}._": "1",
        "_op": "action:stations.0.tracks.0.script",
    }


def test_bad_scripts_are_refused_in_russian_and_nothing_changes(serve_app, nats_url):
    ent, secret = onboard(nats_url)
    server = serve_app(**ONLY_AUDIO)
    _new_tour(server.url, ent, secret, "bad")
    client = httpx.Client(base_url=server.url, headers=RU_HEADERS, timeout=30)
    csrf = sign_in(client, secret)
    url = f"/console/{ent}/tours/bad/plugins/audio_guide"
    form = {
        **render_form(csrf),
        f"{TRACK}.id": "main",
    }
    empty = client.post(url, data={**form, f"{TRACK}.script.ru": "  "})
    assert empty.status_code == 400
    assert "Сначала напишите текст: озвучивать нечего." in empty.text
    long = client.post(url, data={**form, f"{TRACK}.script.ru": "Да. " * MAX_SCRIPT_CHARS})
    assert long.status_code == 400
    assert f"не больше {MAX_SCRIPT_CHARS} знаков" in long.text
    assert 'value="main"' in long.text  # what was typed is kept
    media = client.get(f"/console/{ent}/tours/bad/media")
    assert "press-main" not in media.text  # nothing rendered, nothing stored
    tour = _tour(nats_url, ent, "bad")
    assert tour.plugins == {}  # nothing saved


def test_mp3_without_transcript_is_accepted_and_shows_the_script(
    nats_url, serve_app, phone, tmp_path
):
    files = {"audio/gate.ru.mp3": tone(tmp_path / "gate.mp3", 2.0)}
    config = {
        "stations": [
            {
                "station": "s1",
                "tracks": [
                    {
                        "id": "main",
                        "audio": {"ru": "audio/gate.ru.mp3"},
                        "script": {"ru": "Первый абзац сценария.\n\nВторой абзац."},
                    }
                ],
            },
            {"station": "s2", "tracks": [{"id": "main", "audio": {"ru": "audio/gate.ru.mp3"}}]},
        ]
    }
    # Saved without a transcript: accepted (audio_tour saves it through the checks).
    tour = run_in_thread(audio_tour(nats_url, files, config, languages=["ru"]))
    server = serve_app(**ONLY_AUDIO)
    page = phone(locale="ru-RU").new_page()
    page.goto(server.station_url(tour, "s1"))
    script = page.locator("#ag-s1-main .ag-script p")
    expect(script).to_have_count(2)
    expect(script.first).to_have_text("Первый абзац сценария.")
    # No script either: no transcript section at all.
    page.goto(server.station_url(tour, "s2"))
    expect(page.locator("#ag-s2-main audio")).to_have_count(1)
    expect(page.locator("#ag-s2-main .ag-transcript-title")).to_have_count(0)
    expect(page.locator("#ag-s2-main .notice")).to_have_count(0)


def test_rendering_shows_progress_queues_and_leaves_the_server_free(serve_app, nats_url):
    """A slow render answers with a progress page at once; the server answers other
    pages meanwhile (the event loop is free); a second render waits its turn."""
    ent, secret = onboard(nats_url)
    server = serve_app(**ONLY_AUDIO)
    _new_tour(server.url, ent, secret, "queue")
    client = httpx.Client(base_url=server.url, headers=RU_HEADERS, timeout=60)
    csrf = sign_in(client, secret)
    url = f"/console/{ent}/tours/queue/plugins/audio_guide"
    form = {
        **render_form(csrf),
        f"{TRACK}.script.ru": " ".join([SCRIPT] * 2),
    }
    # The first script long enough (about 40 s of speech) to be still rendering when the
    # second comes in, also on a fast machine.
    longer = {f"{TRACK}.script.ru": " ".join([SCRIPT] * 8)}
    first = client.post(url, data={**form, **longer, f"{TRACK}.id": "one"}, follow_redirects=False)
    assert first.status_code == 303, first.text
    progress = first.headers["location"]
    assert "/actions/" in progress
    started = time.monotonic()
    tour_page = client.get(f"/console/{ent}/tours/queue")
    assert tour_page.status_code == 200 and time.monotonic() - started < 2
    second = client.post(url, data={**form, f"{TRACK}.id": "two"}, follow_redirects=False)
    assert second.status_code == 303
    waiting = client.get(second.headers["location"])
    assert waiting.status_code == 200
    assert 'http-equiv="refresh"' in waiting.text and "Ждём очереди" in waiting.text
    # Someone else cannot open the job.
    assert httpx.get(server.url + progress).status_code in (303, 401, 404)
    for location, name in ((progress, "one"), (second.headers["location"], "two")):
        deadline = time.monotonic() + 90
        while True:
            page = client.get(location)
            if "Озвучено:" in page.text or time.monotonic() > deadline:
                break
            assert 'http-equiv="refresh"' in page.text
            time.sleep(0.5)
        assert "Озвучено:" in page.text
        assert f"audio/press-{name}.ru.mp3" in page.text
