"""An editor builds a tour in the console with a real headless Chromium: signs in,
creates a tour with two stations, enables the quests plugin (a bad value first, then
a good one), previews a station, opens the poster sheet; the printed QR code decodes
to a station URL that works. A form whose CSRF token is removed is refused."""

from __future__ import annotations

import re

import httpx
from promtour._auth import create_token
from promtour._models import Enterprise
from promtour._platform import Platform
from promtour.testing import unique, with_platform

from tests.console_steps import poster_url

DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "en-US"}


def onboard(nats_url: str) -> tuple[str, str]:
    """A new enterprise and an editor token (made in a thread of its own: Playwright
    owns this thread's event loop)."""

    async def work(platform: Platform) -> tuple[str, str]:
        enterprise = Enterprise(
            id=unique("ent"), name={"ru": "Завод «Восток»", "en": "Vostok Works"}
        )
        await platform.import_enterprise(enterprise)
        _, secret = await create_token(platform.bus, enterprise.id, "editor", "Olga")
        return enterprise.id, secret

    return with_platform(nats_url, work)


def test_editor_builds_a_tour_and_prints_working_posters(browser, serve_app, nats_url):
    ent, secret = onboard(nats_url)
    server = serve_app()
    api = httpx.Client(
        base_url=f"{server.url}/api/v1/enterprises/{ent}",
        headers={"Authorization": f"Bearer {secret}"},
    )
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/console/login")
        page.fill("#token", secret)
        page.click("button[type=submit]")
        page.wait_for_url(f"**/console/{ent}")
        assert page.locator("h1").inner_text() == "Tours"
        assert "Vostok Works" in page.locator("header").inner_text()

        # A new tour with two stations.
        page.click("text=New tour")
        page.fill("#id", "plant")
        page.fill("#name_ru", "Завод изнутри")
        page.fill("#name_en", "Inside the plant")
        page.click("text=Create the tour")
        page.wait_for_url(f"**/console/{ent}/tours/plant?done=created")
        for sid, ru, en in (("gate", "Проходная", "Gate"), ("press", "Пресс", "Press shop")):
            if page.locator("details").first.get_attribute("open") is None:
                page.click("summary")
            page.fill("#station-id", sid)
            page.fill("form.add-station #name_ru", ru)
            page.fill("form.add-station #name_en", en)
            page.click("text=Add the station")
            page.wait_for_url("**done=created")
        rows = page.locator("tr[data-station]")
        assert rows.count() == 2
        assert "Press shop" in rows.nth(1).inner_text()

        # Enable the quests plugin: a bad value is refused with the field named.
        page.click("li[data-plugin=quests] >> text=Enable…")
        page.wait_for_url("**/plugins/quests")
        page.fill("input[name='cfg.max_attempts']", "50")
        page.click("text=Enable with these settings")
        error = page.locator("#error")
        error.wait_for()
        assert "Attempts per mission: No more than 20." in error.inner_text()
        assert page.locator("[data-path=max_attempts] [aria-invalid=true]").count() == 1
        assert api.get("/tours/plant").json()["plugins"] == {}  # nothing half-saved

        # Fixed: saved and enabled.
        page.fill("input[name='cfg.max_attempts']", "5")
        page.click("text=Enable with these settings")
        page.wait_for_url("**/tours/plant?done=enabled")
        assert "Enabled for this tour." in page.locator(".flash").inner_text()
        stored = api.get("/tours/plant").json()["plugins"]
        assert stored["quests"]["max_attempts"] == 5

        # Preview a station as a visitor sees it, in English.
        page.click("tr[data-station=press] >> a[hreflang=en]")
        page.wait_for_url("**/preview/press?lang=en")
        assert page.locator("article.station h1").inner_text() == "Press shop"
        assert "Preview" in page.locator(".preview-banner").inner_text()
        page.go_back()

        # The poster sheet: the QR code decodes to a station URL that works.
        page.click("text=QR posters")
        page.wait_for_url("**/posters")
        poster = page.locator("article.poster[data-station=gate]")
        assert poster.locator(".number").inner_text() == "1"
        assert "Inside the plant" in poster.inner_text() or "Завод изнутри" in poster.inner_text()
        assert "Завод «Восток»" in poster.inner_text() or "Vostok Works" in poster.inner_text()
        url = poster_url(page, "gate")
        assert re.fullmatch(rf"{re.escape(server.url)}/s/{ent}\.plant\.gate\.\w+\.[\w-]+", url)
        with httpx.Client(headers={"Accept-Language": "en"}) as phone:
            visit = phone.get(url)
        assert visit.status_code == 200 and "Gate" in visit.text

        # CSRF: the same console form without its token is refused.
        page.goto(f"{server.url}/console/{ent}/tours/plant")
        page.evaluate(
            'document.querySelectorAll(\'form[action$="/stations/gate/toggle"] '
            "input[name=_csrf]').forEach(e => e.remove())"
        )
        with page.expect_response(lambda r: r.url.endswith("/stations/gate/toggle")) as info:
            page.click('form[action$="/stations/gate/toggle"] button')
        assert info.value.status == 403
        assert api.get("/tours/plant").json()["stations"][0]["enabled"] is True

        # Built for phones too: nothing wider than the screen, and in Russian.
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{server.url}/console/{ent}/tours/plant?lang=ru")
        assert page.locator("h2#stations-h").inner_text() == "Станции"
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
        api.close()
