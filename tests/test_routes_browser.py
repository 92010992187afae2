"""A visitor collects a route's stamps at two enterprises on a phone (headless
Chromium), reaches the tiers and shows the reward code; staff redeem it once; the
passport code restores the passport in a second browser."""

from __future__ import annotations

import re
from typing import Any

from promtour._platform import Platform
from promtour.testing import station_path, with_platform

from tests.test_routes import PLUGINS, build_world

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "ru-RU",
}


def world_in_thread(nats_url: str, server: Any) -> Any:
    """The operator, the route and its two accepted tours, made in a thread of its own:
    Playwright owns this thread's event loop."""
    from promtour.testing import save_new_tour

    def work(platform: Platform) -> Any:
        return build_world(platform, server, save_new_tour)

    return with_platform(nats_url, work, plugins=PLUGINS, entrypoints=False)


def wait_stamps(page: Any, url: str, n: int) -> None:
    for _ in range(50):
        page.goto(url)
        if page.locator(f'[data-stamps="{n}"]').count():
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"the passport did not show {n} stamps")


def test_stamps_tier_reward_redeemed_once_and_passport_restored(browser, serve_app, nats_url):
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    world = world_in_thread(nats_url, server)
    a, b = world.tours
    route_url = f"{server.url}/p/routes/r/{world.route}"
    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    try:
        page.goto(server.url + station_path(a, "s1"))
        panel = page.locator(".routes-panel")
        assert "засчитывается в маршрут" in panel.inner_text()
        assert "Сталь и хлеб" in panel.inner_text()
        page.screenshot(path="/tmp/routes-station.png", full_page=True)
        wait_stamps(page, route_url, 1)
        assert page.locator(".routes-stamps li.stamped").count() == 1
        page.goto(server.url + station_path(b, "s2"))
        wait_stamps(page, route_url, 2)
        assert "2 из 2 штампов" in page.locator(".routes-count").first.inner_text()
        codes = page.locator("[data-reward-code]").all_inner_texts()
        assert len(codes) == 2  # both tiers reached, each with its code on the phone
        certificate = codes[1]
        page.get_by_role("button", name="Показать код для переноса паспорта").click()
        passport_code = page.locator("[data-passport-code]").inner_text()
        assert re.fullmatch(r"[A-Z2-9]{8}", passport_code)
        assert page.locator(".routes-qr > svg").count() == 1
        page.screenshot(path="/tmp/routes-passport.png", full_page=True)

        # Staff of enterprise B sign in to the console, then redeem the code: once.
        staff = browser.new_context(**PHONE)
        desk = staff.new_page()
        desk.goto(f"{server.url}/console/login")
        desk.fill("input[name=token]", world.admins[1])
        desk.locator("form button[type=submit]").click()
        desk.goto(f"{route_url}/redeem")
        desk.fill("#routes-reward", certificate.lower())
        desk.get_by_role("button", name="Выдать").click()
        assert "Вручите награду" in desk.locator("[data-redeemed]").inner_text()
        desk.screenshot(path="/tmp/routes-redeem.png", full_page=True)
        desk.fill("#routes-reward", certificate)
        desk.get_by_role("button", name="Выдать").click()
        assert "уже выдана" in desk.locator("[data-refused]").inner_text()
        staff.close()

        page.goto(route_url)
        assert "Получено" in page.locator(".routes-tier.reached").nth(1).inner_text()

        # A second browser restores the passport with the code.
        other = browser.new_context(**PHONE)
        second = other.new_page()
        second.goto(f"{server.url}/p/routes/restore")
        second.fill("#routes-code", "WRONG234")
        second.get_by_role("button", name="Перенести").click()
        assert "срок его действия истёк" in second.locator("[role=alert]").inner_text()
        second.fill("#routes-code", passport_code)
        second.get_by_role("button", name="Перенести").click()
        second.wait_for_url(re.compile(r"/p/routes/r/"))
        assert second.locator('[data-stamps="2"]').count() == 1
        second.screenshot(path="/tmp/routes-restored.png", full_page=True)
        other.close()
    finally:
        phone.close()
