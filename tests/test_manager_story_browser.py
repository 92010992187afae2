"""The tour manager's whole story (issue 16, "What the tests must show"), in Chromium and
in the Russian console, typing no TOML and calling no API for content: a 3-station tour
made in the console's forms; quests, audio guide and career enabled there; a
single-choice mission (3 answers, a hint) per station; station 1's track rendered from
a typed script with «Озвучить»; a profession working at station 1; a preview; the poster
sheet printed. Then a phone scans station 1's poster code (read from the poster image)
and sees the mission, plays the rendered audio with its transcript and sees the
profession's card. The manager's clicks are counted and printed.

``PROMTOUR_SCREENSHOTS=1`` also writes the phone's page to docs/img/manager-story-phone.png.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import promtour.plugins.audio_guide as audio_guide
import promtour.plugins.career as career
import promtour.plugins.quests as quests
from playwright.sync_api import expect
from promtour.testing.browser import wait_for_js

from tests.console_steps import (
    add_single_mission,
    console,
    poster_url,
    render_track,
)
from tests.test_console_browser import onboard

PLUGINS = [("quests", quests), ("audio_guide", audio_guide), ("career", career)]
IMG = Path(__file__).resolve().parents[1] / "docs" / "img"
STATIONS = [("gate", "Проходная"), ("press", "Пресс-цех"), ("qc", "Лаборатория ОТК")]
ANSWERS = ("Правильный ответ", "Неверный ответ", "Совсем не то")
SCRIPT = "Добро пожаловать на завод. Здесь начинается путь рулона стали к готовой детали."


def test_a_manager_builds_a_whole_tour_and_a_phone_uses_it(browser, serve_app, nats_url, phone):
    started = time.monotonic()
    ent, secret = onboard(nats_url)
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    tour = f"{server.url}/console/{ent}/tours/story"
    with console(browser, server.url, ent, secret) as c:
        page = c.page

        # The tour and its three stations, in the console's forms.
        c.click("text=Новый тур")
        c.fill("#id", "story")
        c.fill("#name_ru", "Завод изнутри")
        c.fill("#languages", "ru")
        expect(page.locator("#default_language")).to_have_value("ru")
        c.click("text=Создать тур")
        page.wait_for_url(f"{tour}?done=created")
        for n, (sid, name) in enumerate(STATIONS, 1):
            # The form stays open for the next station, the cursor in its first field.
            expect(page.locator("#station-id")).to_be_visible()
            if n > 1:
                expect(page.locator("#station-id")).to_be_focused()
            c.fill("#station-id", sid)
            c.fill("form.add-station #name_ru", name)
            c.click("form.add-station button[type=submit]")
            page.wait_for_url("**done=created")
            expect(page.locator("tr[data-station]")).to_have_count(n)
        expect(page.locator("tr[data-station=qc]")).to_contain_text("Лаборатория ОТК")

        # Quests: a single-choice mission with three answers and a hint per station.
        c.click("li[data-plugin=quests] >> text=Включить…")
        page.wait_for_url(f"{tour}/plugins/quests")
        for m, (sid, name) in enumerate(STATIONS):
            question = f"Что главное на станции «{name}»?"
            add_single_mission(c, m, f"q-{sid}", sid, question, ANSWERS, f"Подсказка {m + 1}")
        c.click("text=Включить с этими настройками")
        page.wait_for_url(f"{tour}?done=enabled")
        expect(page.locator("li[data-plugin=quests] .badge")).to_have_text("включён")

        # Audio guide: station 1's track rendered from a typed script.
        c.click("li[data-plugin=audio_guide] >> text=Включить…")
        page.wait_for_url(f"{tour}/plugins/audio_guide")
        render_track(c, "gate", "main", "Проходная", SCRIPT)
        c.click("text=Включить с этими настройками")
        page.wait_for_url(f"{tour}?done=enabled")

        # Career: one profession card working at station 1.
        c.click("li[data-plugin=career] >> text=Включить…")
        page.wait_for_url(f"{tour}/plugins/career")
        c.click("button[value='add:professions']")
        p = "cfg.professions.0"
        c.fill(f"input[name='{p}.id']", "press-operator")
        c.fill(f"input[name='{p}.title.ru']", "Оператор пресса")
        c.fill(f"textarea[name='{p}.summary.ru']", "Настраивает пресс и следит за качеством.")
        c.check(f"input[name='{p}.stations[]'][value=gate]")
        c.check(f"input[name='{p}.riasec[]'][value=R]")
        c.click("text=Включить с этими настройками")
        page.wait_for_url(f"{tour}?done=enabled")
        for plugin in ("quests", "audio_guide", "career"):
            expect(page.locator(f"li[data-plugin={plugin}] .badge")).to_have_text("включён")

        # The preview of station 1, as a visitor will see it.
        c.click("tr[data-station=gate] >> a[hreflang=ru]")
        page.wait_for_url("**/preview/gate?lang=ru")
        expect(page.locator(".preview-banner")).to_contain_text("Предпросмотр")
        expect(page.locator("article.station h1")).to_have_text("Проходная")
        expect(page.locator("body")).to_contain_text("Что главное на станции «Проходная»?")
        expect(page.locator("#ag-gate-main audio")).to_have_count(1)
        expect(page.locator("body")).to_contain_text("Оператор пресса")
        page.go_back()

        # The poster sheet: station 1's code, read from the printed image.
        c.click("text=QR-плакаты")
        page.wait_for_url(f"{tour}/posters")
        url = poster_url(page, "gate")
        assert re.fullmatch(rf"{re.escape(server.url)}/s/{ent}\.story\.gate\.\w+\.[\w-]+", url)
        built = time.monotonic() - started
        print(f"\nthe manager's story: {c} ({built:.0f} s to build)")

    # A phone scans the poster: the mission, the rendered audio with its transcript,
    # the profession's card.
    visitor = phone(locale="ru-RU", device_scale_factor=1).new_page()
    visitor.goto(url)
    expect(visitor.locator("h1")).to_contain_text("Проходная")
    mission = visitor.locator("#m-q-gate")
    expect(mission).to_contain_text("Что главное на станции «Проходная»?")
    for answer in ANSWERS:
        expect(mission.get_by_label(answer)).to_have_count(1)
    expect(mission.get_by_role("button", name=re.compile("подсказк", re.I))).to_have_count(1)
    track = visitor.locator("#ag-gate-main")
    expect(track.locator(".ag-transcript li").first).to_contain_text("Добро пожаловать")
    track.locator(".ag-play").click()
    wait_for_js(visitor, "document.querySelector('#ag-gate-main audio').currentTime > 0.5")
    if os.environ.get("PROMTOUR_SCREENSHOTS"):
        visitor.screenshot(path=str(IMG / "manager-story-phone.png"))
    card = visitor.locator("[data-plugin=career]")
    expect(card).to_contain_text("Кто здесь работает")
    expect(card).to_contain_text("Оператор пресса")
    # The mission answers, as a visitor would.
    mission.get_by_label(ANSWERS[0]).check()
    mission.get_by_role("button", name="Ответить").click()
    expect(visitor.locator("#m-q-gate [data-quest-status]")).to_contain_text("Верно!")
    if os.environ.get("PROMTOUR_SCREENSHOTS"):
        visitor.evaluate("document.querySelector('#m-q-gate').scrollIntoView()")
        visitor.screenshot(path=str(IMG / "manager-story-phone-mission.png"))
    print(f"the whole story: {time.monotonic() - started:.0f} s")
