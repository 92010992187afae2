"""Accessibility: axe-core finds no serious or critical violation on any kind of page,
in Russian, on a phone (390x844) and on a desktop (1280x800).

The pages are the visitor's (index, tour start, station with its plugin panels,
finish, career quiz and lead form, quest team, board and certificate, the group show,
the route passport, restore and enterprise pages, a class booking with the teacher's
pages, the pupil's join and safety briefing, the 404/400/410 error pages), the
console's (sign-in, tours, tour, station, plugin form, media, posters, tokens, reward
redemption) and the guide console. One server, one browser context per size; the demo
tour stands in for a real one. Violations are printed with their elements, then the
test fails."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from typing import Any

import msgspec
from promtour._auth import create_token
from promtour._models import Tour
from promtour._platform import Platform
from promtour._server import import_demo
from promtour.testing import save_new_tour, station_path, with_platform
from promtour.testing.browser import axe_violations, format_violations

SIZES = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}
DAY = date.today() + timedelta(days=2)
#: The demo's guide PIN (config/demo/tours/main.toml).
GUIDE_PIN = "4821"

SCHOOL_PLUGINS: dict[str, dict[str, Any]] = {
    "visits": {
        "slots": [{"date": DAY.isoformat(), "time": "10:00", "capacity": 60, "min_age": 10}],
        "timezone": "Europe/Moscow",
        # The slot is in three days: let its group code work today.
        "code_margin_hours": 72,
    },
    "safety": {
        "rules": [{"en": "Closed shoes only.", "ru": "Только закрытая обувь."}],
        "min_age": 10,
        "evacuation": {"en": "Follow the green signs.", "ru": "По зелёным знакам."},
        "ppe": {"s1": ["helmet", "glasses"], "s2": ["no_photo"]},
        "briefing": True,
        "quiz": [
            {
                "question": {"en": "Can you take the lift?", "ru": "Можно ли ехать на лифте?"},
                "options": [{"en": "Yes", "ru": "Да"}, {"en": "No", "ru": "Нет"}],
                "correct": 1,
            },
            {
                "question": {"en": "Which shoes?", "ru": "Какая обувь?"},
                "options": [
                    {"en": "Sandals", "ru": "Сандалии"},
                    {"en": "Closed", "ru": "Закрытая"},
                ],
                "correct": 1,
            },
        ],
    },
}


class World(msgspec.Struct):
    demo: Tour
    school: Tour
    admin: str


def world_in_thread(nats_url: str) -> World:
    """The demo (all visitor plugins but visits and safety), a school tour with those
    two and a closed station, and an admin token for the demo enterprise; made in a
    thread of its own, as Playwright owns this thread's event loop."""

    async def work(platform: Platform) -> World:
        await import_demo(platform)
        demo = (await platform.tours.refresh("uralpress.main")).tour
        school = await save_new_tour(platform, plugins=SCHOOL_PLUGINS)
        closed = [msgspec.structs.replace(s, enabled=s.id != "s3") for s in school.stations]
        school = msgspec.structs.replace(school, stations=closed)
        school = (await platform.save_tour(school, media=frozenset())).tour
        _, admin = await create_token(platform.bus, demo.enterprise, "admin", "a11y")
        return World(demo=demo, school=school, admin=admin)

    return with_platform(nats_url, work)


def visit_every_page(page: Any, size: str, base: str, world: World) -> list[str]:
    """Visit each kind of page in ``page``'s context; axe's findings, one text a page."""
    demo, school = world.demo, world.school
    found: list[str] = []

    def check(name: str, url: str | None = None, status: int = 200) -> None:
        if url is not None:
            response = page.goto(base + url)
            if response is None or response.status != status:
                got = response.status if response else None
                found.append(f"[{size}] {name} {url}: status {got}, not {status}")
                return
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "ru", name
        started = time.monotonic()
        violations = axe_violations(page)
        print(f"[{size}] {name}: axe {time.monotonic() - started:.2f} s")
        if violations:
            found.append(format_violations(violations, where=f"[{size}] {name} {page.url}\n  "))

    t = f"/t/{demo.enterprise}/{demo.id}"
    check("index", "/")
    check("tour start", t)
    check("station (first scan)", station_path(demo, "warehouse"))
    check("station", station_path(demo, "press"))
    plate = page.locator("#m-press-plate")
    plate.locator("input[name=answer]").fill("1989")
    plate.get_by_role("button", name="Ответить").click()
    page.locator("#m-press-plate .quest-explanation").wait_for()
    check("quest mission, answered")
    check("finish", f"{t}/finish")
    # Career.
    career = f"/p/career{t}"
    check("career quiz", f"{career}/quiz")
    check("career lead form", f"{career}/contact")
    # Quests: a team, the board, the certificate.
    quests = f"/p/quests/{demo.enterprise}/{demo.id}"
    page.goto(base + t)
    page.locator("form.quest-team-create input:not([type=hidden])").first.fill("Сталь")
    page.locator("form.quest-team-create button[type=submit]").click()
    page.wait_for_url(re.compile(r"/team/"))
    check("quest team")
    check("quest board", f"{quests}/board")
    check("quest certificate", f"{quests}/certificate")
    # Routes.
    check("route passport", "/p/routes/r/demo-route")
    check("route restore", "/p/routes/restore")
    check("route operator sign-in", "/p/routes/operator/login")
    # The guide console and the group show.
    guide = f"/p/audio_guide/{demo.enterprise}/{demo.id}/guide"
    check("guide sign-in", guide)
    page.fill("#ag-pin", GUIDE_PIN)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()
    check("guide console")
    page.locator("form.ag-new-group button").first.click()
    page.wait_for_url(re.compile(r"group="))
    check("guide console, group open")
    code = re.search(r"group=(\w+)", page.url).group(1)  # type: ignore[union-attr]
    check("group show", f"/p/audio_guide/{demo.enterprise}/{demo.id}/show?code={code}")
    # School visits: booking, the teacher's pages, the pupil's join and briefing.
    visits = f"/p/visits/t/{school.enterprise}/{school.id}"
    check("visits booking", f"{visits}/book")
    page.locator("input[name=slot]").first.check()
    page.fill("#size", "12")
    page.fill("#age_min", "12")
    page.fill("#age_max", "13")
    page.fill("#organisation", "Школа 7")
    page.fill("#name", "Анна Учитель")
    page.fill("#email", "anna@example.org")
    page.locator("input[name=consent]").check()
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/p/visits/b/"))
    check("visits teacher page")
    leader = page.url.removeprefix(base)
    group = page.locator("#group-code").inner_text().strip()
    check("visits class report", f"{leader}/report")
    check("visits join", f"{visits}/join/{group}")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    assert page.locator(".safety-briefing").count() == 1
    check("safety briefing")
    # Error pages.
    check("error 404", "/t/nope/nope", status=404)
    check("error 400", "/s/not-a-code", status=400)
    check("error 410", station_path(school, "s3"), status=410)
    # The console.
    ent = demo.enterprise
    check("console sign-in", "/console/login")
    page.fill("#token", world.admin)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/console/{ent}")
    check("console tours")
    tour = f"/console/{ent}/tours/{demo.id}"
    check("console tour", tour)
    check("console station", f"{tour}/stations/press")
    check("console plugin form", f"{tour}/plugins/quests")
    check("console audio form (Озвучить)", f"{tour}/plugins/audio_guide")
    check("console visits form (dates, weekdays)", f"{tour}/plugins/visits")
    check("console safety form (equipment, quiz)", f"{tour}/plugins/safety")
    check("console media", f"{tour}/media")
    check("console posters", f"{tour}/posters")
    check("console tokens", f"/console/{ent}/tokens")
    check("console HR leads", f"/p/career/hr/{ent}/leads")
    check("route reward redemption", "/p/routes/r/demo-route/redeem")
    check("route enterprise", f"/p/routes/e/{demo.enterprise}")
    return found


def test_axe_finds_no_serious_violation_on_any_page(browser, serve_app, nats_url):
    world = world_in_thread(nats_url)
    server = serve_app()
    found: list[str] = []
    for size, options in SIZES.items():
        context = browser.new_context(locale="ru-RU", **options)
        try:
            found += visit_every_page(context.new_page(), size, server.url, world)
        finally:
            context.close()
    assert not found, "axe found serious or critical violations:\n" + "\n".join(found)


def test_axe_reports_what_it_finds(browser, serve_app):
    """The helper is not vacuous: a button with no name and an image with no text
    alternative, added to a real page, come back as critical, with their elements."""
    server = serve_app(entrypoints=False)
    context = browser.new_context(locale="ru-RU", **SIZES["phone"])
    try:
        page = context.new_page()
        page.goto(server.url + "/")
        assert axe_violations(page) == []
        page.evaluate(
            """() => {
              const b = document.createElement("button"); b.id = "nameless";
              const i = document.createElement("img"); i.id = "wordless"; i.src = "/x.png";
              document.querySelector("main").append(b, i);
            }"""
        )
        found = {v["id"]: v for v in axe_violations(page)}
        assert found["button-name"]["impact"] == "critical"
        assert found["button-name"]["nodes"][0]["target"] == ["#nameless"]
        assert found["image-alt"]["nodes"][0]["target"] == ["#wordless"]
        assert "button-name" in format_violations(list(found.values()))
        assert "#nameless" in format_violations(list(found.values()))
    finally:
        context.close()
