"""Nothing lost by one click, and every role has a home (console over HTTP, Russian).

- A file the tour needs (the demo's transcript ``audio/press.ru.vtt``, named nowhere in
  the config but required by the audio guide beside ``audio/press.ru.mp3``) is shown as
  used and refused for deletion; after the refusal the tour still saves.
- Media are deleted after a question; a Cyrillic file name uploads.
- A deleted station can be put back at once («Отменить») or from the bin.
- Revoking a token asks first; the revoked person's sign-in page says why.
- A role's no-access page keeps its menu, in Russian; the menu shows only what it may do.
"""

from __future__ import annotations

import re

import httpx
from console_http import editor_tour, signed_in
from promtour._auth import create_token, list_tokens
from promtour._server import import_demo
from promtour._tours import media_name
from promtour.testing import console_sign_in as sign_in
from promtour.testing import csrf_token as csrf_of

RU = {"Accept-Language": "ru"}
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 16


def row(html: str, attr: str, value: str) -> str:
    match = re.search(rf'<tr data-{attr}="{re.escape(value)}">(.*?)</tr>', html, re.S)
    assert match, f"no row {value!r}"
    return match.group(1)


async def test_a_needed_transcript_is_used_and_cannot_be_deleted(make_platform, serve_app):
    setup = await make_platform(consumers=False)
    assert "uralpress.main" in await import_demo(setup)
    enterprise, tour_id = "uralpress", "main"
    _, secret = await create_token(setup.bus, enterprise, "editor", "Ольга")
    server = serve_app()
    t = f"/console/{enterprise}/tours/{tour_id}"
    async with signed_in(server, secret, headers=RU, timeout=30) as (client, csrf):
        page = (await client.get(f"{t}/media")).text
        press = row(page, "file", "audio/press.ru.vtt")
        assert "не используется" not in press and "используется" in press
        assert "audio_guide" in press and "/media/delete" not in press
        asked = await client.get(f"{t}/media/delete", params={"name": "audio/press.ru.vtt"})
        assert "нельзя удалить" in asked.text and 'name="name"' not in asked.text
        refused = await client.post(
            f"{t}/media/delete", data={"_csrf": csrf, "name": "audio/press.ru.vtt"}
        )
        assert refused.status_code == 400 and "используется в экскурсии" in refused.text
        state = await setup.tours.refresh(f"{enterprise}.{tour_id}")
        assert "audio/press.ru.vtt" in await setup.media_names(state.tour)
        # The tour still saves: disabling a station is accepted.
        station = state.tour.stations[0].id
        toggled = await client.post(f"{t}/stations/{station}/toggle", data={"_csrf": csrf})
        assert toggled.status_code == 303, toggled.text

        # An unused file is deleted after a question; a Cyrillic name uploads.
        upload = await client.post(
            f"{t}/media",
            data={"_csrf": csrf, "folder": "audio"},
            files={"file": ("Пресс-цех.mp3", MP3, "audio/mpeg")},
        )
        assert upload.status_code == 303, upload.text
        page = (await client.get(f"{t}/media")).text
        assert "не используется" in row(page, "file", "audio/Пресс-цех.mp3")
        asked = await client.get(f"{t}/media/delete", params={"name": "audio/Пресс-цех.mp3"})
        assert "удалён навсегда" in asked.text and csrf_of(asked.text)
        gone = await client.post(
            f"{t}/media/delete", data={"_csrf": csrf, "name": "audio/Пресс-цех.mp3"}
        )
        assert gone.status_code == 303
        assert media_name(state.tour, "audio/Пресс-цех.mp3") not in {
            i.name for i in await setup.bus.media.list(ignore_deletes=True)
        }


async def test_a_deleted_station_comes_back(make_platform, serve_app, new_tour):
    setup, tour, secret, server = await editor_tour(
        make_platform, serve_app, new_tour, stations=3, label="Ольга"
    )
    t = f"/console/{tour.enterprise}/tours/{tour.id}"
    async with signed_in(server, secret, headers=RU, timeout=30) as (client, csrf):
        deleted = await client.post(f"{t}/stations/s2/delete", data={"_csrf": csrf})
        assert deleted.status_code == 303
        page = (await client.get(deleted.headers["location"])).text
        assert "Станция «Станция 2» удалена." in page and "Отменить" in page
        assert 'data-station="s2"' not in page and 'data-deleted="s2"' in page
        back = await client.post(f"{t}/stations/s2/restore", data={"_csrf": csrf})
        assert back.status_code == 303
        state = await setup.tours.refresh(tour.key)
        assert [s.id for s in state.tour.stations] == ["s1", "s2", "s3"]
        assert 'data-deleted="s2"' not in (await client.get(t)).text

    # The API's delete keeps it in the same bin.
    _, api_secret = await create_token(setup.bus, tour.enterprise, "editor", "script")
    api = f"/api/v1/enterprises/{tour.enterprise}/tours/{tour.id}/stations"
    auth = {"Authorization": f"Bearer {api_secret}"}
    async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=auth) as client:
        assert (await client.delete(f"{api}/s1")).status_code == 204
        restored = await client.post(f"{api}/s1/restore")
        assert restored.status_code == 201
        assert [s["id"] for s in restored.json()["stations"]] == ["s1", "s2", "s3"]


async def test_revoking_asks_first_and_the_revoked_person_is_told_why(
    make_platform, serve_app, new_tour
):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, stations=1)
    _, admin = await create_token(setup.bus, tour.enterprise, "admin", "Анна")
    _, editor = await create_token(setup.bus, tour.enterprise, "editor", "Олег")
    editor_id = next(
        t.id for t in await list_tokens(setup.bus, tour.enterprise) if t.label == "Олег"
    )
    server = serve_app()
    base = f"/console/{tour.enterprise}"
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=30, headers=RU) as anna,
        httpx.AsyncClient(base_url=server.url, timeout=30, headers=RU) as oleg,
    ):
        csrf = await sign_in(anna, admin)
        await sign_in(oleg, editor)
        tokens = (await anna.get(f"{base}/tokens")).text
        assert "редактор" in row(tokens, "token", editor_id)  # roles as people call them
        assert f"/tokens/{editor_id}/revoke" in tokens and "Копировать" not in tokens
        question = await anna.get(f"{base}/tokens/{editor_id}/revoke")
        assert "Отозванный токен не вернуть" in question.text
        assert await list_tokens(setup.bus, tour.enterprise)  # nothing revoked by asking
        done = await anna.post(f"{base}/tokens/{editor_id}/revoke", data={"_csrf": csrf})
        assert done.status_code == 303
        created = await anna.post(
            f"{base}/tokens", data={"_csrf": csrf, "role": "editor", "label": "Новый"}
        )
        assert "Копировать" in created.text  # the secret shown once can be copied

        after = await oleg.get(base)
        assert after.status_code == 303 and "why=revoked" in after.headers["location"]
        login = await oleg.get(after.headers["location"])
        assert "отозвал администратор" in login.text


async def test_no_access_keeps_the_menu_and_speaks_russian(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, stations=1)
    _, hr = await create_token(setup.bus, tour.enterprise, "hr", "Кадры")
    server = serve_app()
    base = f"/console/{tour.enterprise}"
    async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=RU) as client:
        await sign_in(client, hr)
        home = (await client.get(base)).text
        assert f'href="{base}/import"' not in home  # the menu shows only what HR may do
        denied = await client.get(f"{base}/import")
        assert denied.status_code == 403
        assert "Нет доступа" in denied.text and "Отдел кадров" in denied.text
        assert 'class="console-nav"' in denied.text and "may not" not in denied.text
