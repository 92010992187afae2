"""The analytics pages in a real headless Chromium, as an editor reaches them: sign in
to the console, follow its Analytics link, open a tour. At phone width (390x844) and
desktop width the page fits, has a language, headings, table headers, and each
chart is an SVG image with a title and a description."""

from __future__ import annotations

import asyncio
import threading

from analytics_script import DAY, script
from promtour._auth import create_token
from promtour._manager import PluginManager
from promtour._platform import Platform
from promtour.testing import save_new_tour
from promtour.testing import test_settings as settings_for

DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "en-US"}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "ru-RU",
}


def scripted_tour(nats_url: str) -> tuple[str, str, str]:
    """A tour with the scripted day and an editor token, made in a thread of its own
    (Playwright owns this thread's loop); waits until analytics has it all."""
    out: list[str] = []

    async def work() -> None:
        platform = Platform(settings_for(nats_url), plugins=PluginManager())
        await platform.start(consumers=False)
        try:
            tour = await save_new_tour(platform, plugins={"analytics": {}}, stations=5)
            events = script(tour.enterprise, tour.id)
            last = 0
            for start in range(0, len(events), 200):
                chunk = events[start : start + 200]
                seqs = await asyncio.gather(*(platform.bus.publish(e) for e in chunk))
                assert list(seqs) == sorted(seqs)
                last = seqs[-1]
            _, secret = await create_token(platform.bus, tour.enterprise, "editor", "Olga")
            for _ in range(600):
                done, _total = await platform.consumers.progress("analytics")
                if done >= last:
                    break
                await asyncio.sleep(0.1)
            out.extend([tour.enterprise, tour.id, secret])
        finally:
            await platform.stop()

    server_ready.wait(30)
    thread = threading.Thread(target=lambda: asyncio.run(work()))
    thread.start()
    thread.join(120)
    assert len(out) == 3, "the scripted tour could not be made"
    return out[0], out[1], out[2]


server_ready = threading.Event()


def check_page(page) -> None:
    assert page.locator("html").get_attribute("lang") in ("ru", "en")
    assert page.locator("h1").count() == 1
    assert page.locator("h2").count() >= 2
    assert page.locator("th[scope=col]").count() >= 5
    assert page.locator("th[scope=row]").count() >= 2
    charts = page.locator("svg.chart")
    assert charts.count() >= 1
    for i in range(charts.count()):
        svg = charts.nth(i)
        assert svg.get_attribute("role") == "img"
        assert svg.evaluate("s => s.querySelector('title').textContent").strip()
        assert svg.evaluate("s => s.querySelector('desc').textContent")
        labelled = svg.get_attribute("aria-labelledby").split()
        assert len(labelled) == 2
    # Nothing wider than the screen, except inside a scrolling table box.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, width


def sign_in(context, base: str, secret: str) -> object:
    page = context.new_page()
    page.goto(f"{base}/console/login")
    page.fill("#token", secret)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/*")
    return page


def test_overview_on_phone_and_desktop(browser, serve_app, nats_url):
    server = serve_app()
    server_ready.set()
    ent, tour_id, secret = scripted_tour(nats_url)

    desktop = browser.new_context(**DESKTOP)
    try:
        page = sign_in(desktop, server.url, secret)
        page.click("nav.console-nav >> text=Analytics")
        page.wait_for_url(f"**/p/analytics/{ent}/")
        assert "All tours" in page.locator("h1").inner_text()
        page.goto(f"{server.url}/p/analytics/{ent}/{tour_id}/overview?from={DAY}&to={DAY}")
        check_page(page)
        summary = page.locator("#t-summary tbody tr").first.inner_text()
        assert "Visitors" in summary and "200" in summary
        page.click("nav.an-sections >> text=Funnel")
        page.wait_for_url("**/funnel*")
        assert page.locator("#t-funnel tbody tr").count() == 7
    finally:
        desktop.close()

    phone = browser.new_context(**PHONE)
    try:
        page = sign_in(phone, server.url, secret)
        page.goto(f"{server.url}/p/analytics/{ent}/{tour_id}/overview?from={DAY}&to={DAY}")
        assert page.locator("html").get_attribute("lang") == "ru"
        assert "Обзор" in page.locator("h1").inner_text()
        check_page(page)
        page.goto(f"{server.url}/p/analytics/{ent}/{tour_id}/flow?from={DAY}&to={DAY}")
        check_page(page)
    finally:
        phone.close()
