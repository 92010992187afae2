"""Console pages over HTTP: sign-in and sessions, CSRF, config forms, media, previews,
posters and key rotation."""

from __future__ import annotations

import re

import httpx
from console_http import EN, editor_tour, signed_in
from markupsafe import Markup
from promtour import hookimpl
from promtour._auth import create_token, list_tokens, revoke_token
from promtour._events import STREAM, subject_for
from promtour.plugin import Panel, PluginInfo
from promtour.testing import console_sign_in, csrf_token, station_path


class ProbePanels:
    """A plugin whose station panel says which language and station it was built for."""

    @hookimpl
    def promtour_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="probe", version="1", title={"en": "Probe", "ru": "Зонд"})

    @hookimpl
    def promtour_station_panels(self, page) -> Panel:
        html = Markup("<p class='probe'>{}:{}</p>").format(page.lang, page.station.id)
        return Panel(title="Probe", html=html)


async def test_sign_in_session_cookie_and_sign_out(make_platform, serve_app, new_tour):
    setup, tour, secret, server = await editor_tour(make_platform, serve_app, new_tour, stations=2)
    async with httpx.AsyncClient(base_url=server.url, headers=EN) as anonymous:
        # Without a session a console page sends you to the sign-in form.
        response = await anonymous.get(f"/console/{tour.enterprise}/tours/{tour.id}")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/console/login?next=")
        login = await anonymous.get("/console/login")
        wrong = await anonymous.post(
            "/console/login", data={"token": "pt_nope_nope", "_csrf": csrf_token(login.text)}
        )
        assert wrong.status_code == 401 and "not valid" in wrong.text
        # Signing in saves nothing: the message is not headed "Not saved:".
        assert "Not saved" not in wrong.text

    async with signed_in(server, secret) as (client, csrf):
        cookie = next(c for c in client.cookies.jar if c.name == "pt_console")
        assert cookie.has_nonstandard_attr("HttpOnly") and cookie.path == "/console"
        # Plugins' staff pages (/p/...) get the same session in a cookie of their own;
        # visitor pages (/t/, /s/) get none.
        plugin_cookie = next(c for c in client.cookies.jar if c.name == "pt_console_p")
        assert plugin_cookie.path == "/p/" and plugin_cookie.value == cookie.value
        assert secret not in cookie.value  # the session holds the token id, not the secret
        home = await client.get(f"/console/{tour.enterprise}")
        assert home.status_code == 200 and "Test tour" in home.text
        # Another enterprise's console is not there for this session.
        assert (await client.get("/console/someone-else")).status_code == 404

        # Revoking the token ends its session at the next request.
        tokens = await list_tokens(setup.bus, tour.enterprise)
        await revoke_token(setup.bus, tour.enterprise, tokens[0].id)
        after = await client.get(f"/console/{tour.enterprise}")
        assert after.status_code == 303 and "/console/login" in after.headers["location"]

    _, secret2 = await create_token(setup.bus, tour.enterprise, "editor", "Ivan")
    async with httpx.AsyncClient(base_url=server.url, timeout=10, headers=EN) as client:
        csrf = await console_sign_in(client, secret2)
        out = await client.post("/console/logout", data={"_csrf": csrf})
        assert out.status_code == 303
        assert (await client.get(f"/console/{tour.enterprise}")).status_code == 303


async def test_console_forms_need_their_csrf_token(make_platform, serve_app, new_tour):
    setup, tour, secret, server = await editor_tour(make_platform, serve_app, new_tour, stations=2)
    async with signed_in(server, secret) as (client, csrf):
        target = f"/console/{tour.enterprise}/tours/{tour.id}/stations/s1/toggle"
        refused = await client.post(target, data={})
        assert refused.status_code == 403
        forged = await client.post(target, data={"_csrf": "x" * 22})
        assert forged.status_code == 403
        state = await setup.tours.refresh(tour.key)
        assert state.tour.stations[0].enabled  # nothing changed
        done = await client.post(target, data={"_csrf": csrf})
        assert done.status_code == 303
        state = await setup.tours.refresh(tour.key)
        assert not state.tour.stations[0].enabled
    # The sign-in form is CSRF-protected too.
    async with httpx.AsyncClient(base_url=server.url) as stranger:
        assert (await stranger.post("/console/login", data={"token": secret})).status_code == 403


async def test_create_tour_stations_and_reorder(make_platform, serve_app, new_tour):
    setup, seed, secret, server = await editor_tour(make_platform, serve_app, new_tour)
    base = f"/console/{seed.enterprise}"
    async with signed_in(server, secret) as (client, csrf):
        bad = await client.post(
            f"{base}/tours",
            data={"_csrf": csrf, "id": "Bad Id", "name_en": "x", "languages": "ru, en"},
        )
        assert bad.status_code == 400 and "id:" in bad.text and 'value="x"' in bad.text
        made = await client.post(
            f"{base}/tours",
            data={
                "_csrf": csrf,
                "id": "line",
                "name_ru": "Линия",
                "name_en": "Line",
                "languages": "ru, en",
                "default_language": "ru",
            },
        )
        assert made.status_code == 303 and made.headers["location"].endswith(
            "/tours/line?done=created"
        )
        for sid, name in (("a", "Alpha"), ("b", "Beta"), ("c", "Gamma")):
            added = await client.post(
                f"{base}/tours/line/stations",
                data={"_csrf": csrf, "id": sid, "name_en": name, "name_ru": name},
            )
            assert added.status_code == 303
        duplicate = await client.post(
            f"{base}/tours/line/stations", data={"_csrf": csrf, "id": "a", "name_en": "Again"}
        )
        assert duplicate.status_code == 400 and "already has a station" in duplicate.text
        await client.post(
            f"{base}/tours/line/stations/c/move", data={"_csrf": csrf, "direction": "up"}
        )
        state = await setup.tours.refresh(f"{seed.enterprise}.line")
        assert [s.id for s in state.tour.stations] == ["a", "c", "b"]
        assert [s.number for s in state.tour.stations] == [1, 3, 2]

        edit = await client.post(
            f"{base}/tours/line/stations/b",
            data={
                "_csrf": csrf,
                "number": "7",
                "name_en": "Beta line",
                "name_ru": "Бета",
                "enabled": "on",
            },
        )
        assert edit.status_code == 303
        clash = await client.post(
            f"{base}/tours/line/stations/b",
            data={"_csrf": csrf, "number": "1", "name_en": "Beta line"},
        )
        assert clash.status_code == 400 and "number 1 appears twice" in clash.text
        state = await setup.tours.refresh(f"{seed.enterprise}.line")
        assert state.tour.station("b").number == 7 and state.tour.station("b").name["ru"] == "Бета"

        closed = await client.post(f"{base}/tours/line/close", data={"_csrf": csrf})
        assert closed.status_code == 303
        state = await setup.tours.refresh(f"{seed.enterprise}.line")
        assert not any(s.enabled for s in state.tour.stations)

        page = await client.get(f"{base}/tours/line/delete")
        assert "cannot be undone" in page.text
        gone = await client.post(f"{base}/tours/line/delete", data={"_csrf": csrf})
        assert gone.status_code == 303
        assert await setup.tours.refresh(f"{seed.enterprise}.line") is None


async def test_config_form_names_the_bad_field_and_keeps_what_was_typed(
    make_platform, serve_app, new_tour
):
    setup, tour, secret, server = await editor_tour(make_platform, serve_app, new_tour, stations=2)
    url = f"/console/{tour.enterprise}/tours/{tour.id}/plugins/quests"
    async with signed_in(server, secret) as (client, csrf):
        form = await client.get(url)
        assert form.status_code == 200
        assert 'name="cfg.order"' in form.text  # a generated input for a simple field
        assert "cfg_toml" not in form.text and "TOML" not in form.text
        bad = await client.post(
            url, data={"_csrf": csrf, "cfg.order": "free", "cfg.max_attempts": "50"}
        )
        assert bad.status_code == 400
        assert "Attempts per mission: No more than 20." in bad.text
        assert 'value="50"' in bad.text  # what was typed is still there
        assert 'aria-invalid="true"' in bad.text
        state = await setup.tours.refresh(tour.key)
        assert "quests" not in state.tour.plugins  # nothing half-saved

        ok = await client.post(url, data={"_csrf": csrf, "cfg.order": "fixed"})
        assert ok.status_code == 303 and ok.headers["location"].endswith("done=enabled")
        state = await setup.tours.refresh(tour.key)
        assert state.tour.plugins["quests"]["order"] == "fixed"

        listing = await client.get(f"/console/{tour.enterprise}/plugins")
        assert "quests" in listing.text and tour.id in listing.text
        assert "Order of the missions" in listing.text and "bool" not in listing.text

        off = await client.post(f"{url}/disable", data={"_csrf": csrf})
        assert off.status_code == 303
        assert "quests" not in (await setup.tours.refresh(tour.key)).tour.plugins
        # Disabling kept the settings: the form offers them again for re-enabling.
        again = await client.get(url)
        assert 'value="fixed" selected' in again.text


async def test_media_page_upload_and_refusals(make_platform, serve_app, new_tour):
    setup, tour, secret, server = await editor_tour(make_platform, serve_app, new_tour)
    url = f"/console/{tour.enterprise}/tours/{tour.id}/media"
    async with signed_in(server, secret) as (client, csrf):
        audio = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * (300 * 1024)  # 1.2 MB
        up = await client.post(
            url, data={"_csrf": csrf, "folder": "audio"}, files={"file": ("press.mp3", audio)}
        )
        assert up.status_code == 303, up.text
        page = await client.get(url)
        assert "audio/press.mp3" in page.text and "not used" in page.text
        wrong = await client.post(
            url, data={"_csrf": csrf}, files={"file": ("notes.pdf", b"%PDF-1.4")}
        )
        assert wrong.status_code == 400 and "not accepted" in wrong.text
        no_csrf = await client.post(url, files={"file": ("a.mp3", audio)})
        assert no_csrf.status_code == 403
        deleted = await client.post(
            f"{url}/delete", data={"_csrf": csrf, "name": "audio/press.mp3"}
        )
        assert deleted.status_code == 303
        assert await setup.media_names(tour) == frozenset()


async def test_preview_records_nothing_and_warns_of_missing_translations(
    make_platform, serve_app, new_tour, bus
):
    probe = [("probe", ProbePanels())]
    setup = await make_platform(consumers=False, plugins=probe)
    tour = await new_tour(setup, stations=2, plugins={"probe": {}})
    # Station 2 has no English description.
    state = await setup.tours.refresh(tour.key)
    state.tour.stations[1].description = {"ru": "Только по-русски"}
    tour = (await setup.save_tour(state.tour)).tour
    _, secret = await create_token(setup.bus, tour.enterprise, "guide", "Anna")
    server = serve_app(plugins=probe)
    async with httpx.AsyncClient(base_url=server.url, timeout=10, headers=EN) as client:
        _ = await console_sign_in(client, secret)
        base = f"/console/{tour.enterprise}/tours/{tour.id}/preview/s2"
        en = await client.get(f"{base}?lang=en")
        assert en.status_code == 200
        assert 'data-station="s2"' in en.text and "Station 2" in en.text
        # The plugins' panels, built for this station in this language, as a visitor sees them.
        assert "<p class='probe'>en:s2</p>" in en.text
        assert "station s2: description" in en.text  # the missing translation is named
        ru = await client.get(f"{base}?lang=ru")
        assert "Станция 2" in ru.text and "station s2: description" not in ru.text
        assert "<p class='probe'>ru:s2</p>" in ru.text
        # A guide may look but not change.
        tour_page = await client.get(f"/console/{tour.enterprise}/tours/{tour.id}")
        assert tour_page.status_code == 200 and "/stations/s1/toggle" not in tour_page.text
    subject = subject_for(tour.enterprise, tour.id, ">")
    info = await bus.js.stream_info(STREAM, subjects_filter=subject)
    assert not info.state.subjects  # no check-in, no event of any kind
    assert await setup.visits.progress(tour, "preview") is None


def poster_urls(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-station="([^"]+)" data-url="([^"]+)"', html))


async def test_posters_and_key_rotation(make_platform, serve_app, new_tour):
    _, tour, secret, server = await editor_tour(make_platform, serve_app, new_tour, stations=5)
    base = f"/console/{tour.enterprise}/tours/{tour.id}"
    async with signed_in(server, secret) as (client, csrf):
        one = await client.get(f"{base}/posters")
        assert one.status_code == 200
        assert one.text.count('class="sheet"') == 5 and one.text.count('class="qr"') == 5
        assert "size: A4" in (await client.get("/static/core/console/print.css")).text
        assert "Тестовый завод" in one.text  # the tour's default language: ru
        old = poster_urls(one.text)
        assert old["s1"] == server.url + station_path(tour, "s1")
        four = await client.get(f"{base}/posters?per_page=4")
        assert four.text.count('class="sheet"') == 2 and four.text.count('class="qr"') == 5
        contact = await client.get(f"{base}/contact-sheet")
        assert contact.text.count('class="qr"') == 5 and old["s4"] in contact.text
        reprint = await client.get(f"{base}/posters/s3")
        assert poster_urls(reprint.text) == {"s3": old["s3"]}

        # Disabling a station changes nothing on its poster: no reprint.
        await client.post(f"{base}/stations/s1/toggle", data={"_csrf": csrf})
        assert poster_urls((await client.get(f"{base}/posters")).text) == old

        warning = await client.get(f"{base}/rotate")
        assert "stops working" in warning.text
        rotated = await client.post(f"{base}/rotate", data={"_csrf": csrf})
        assert rotated.status_code == 303
        new = poster_urls((await client.get(f"{base}/posters")).text)
        assert set(new) == set(old) and not set(new.values()) & set(old.values())
    async with httpx.AsyncClient(headers={"Accept-Language": "en"}) as phone:
        stale = await phone.get(old["s2"])
        assert stale.status_code == 400 and "old poster" in stale.text
        assert (await phone.get(new["s2"])).status_code == 200
        assert (await phone.get(new["s1"])).status_code == 410  # disabled, poster still valid


def test_every_console_text_has_a_russian_translation():
    from pathlib import Path

    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parent.parent / "core"
    with (root / "_console/locale/ru/LC_MESSAGES/console.po").open("rb") as fh:
        catalog = {m.id: m.string for m in read_po(fh) if m.id}
    call = re.compile(r"""(?<![\w.])(?:c_|t_|_)\(\s*(?:"([^"]*)"|'([^']*)')\s*\)""")
    texts = set()
    for template in (root / "_web/templates/console").glob("*.html"):
        found = call.findall(template.read_text(encoding="utf-8"))
        texts |= {double or single for double, single in found}
    assert len(texts) > 100
    missing = sorted(t for t in texts if not catalog.get(t))
    assert not missing, f"no Russian for: {missing}"
