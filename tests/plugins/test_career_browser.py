"""The career plugin in headless Chromium on a phone: profession cards at a station, the
quiz, the finish page ranking with reasons, and the lead form with its consent rules.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from typing import Any

import msgspec
import promtour.plugins.career as career
from playwright.sync_api import expect
from promtour import hookimpl
from promtour._bus import Bus
from promtour._events import Event
from promtour._models import Tour
from promtour.plugin import PluginInfo
from promtour.plugins.career.profile import Signals
from promtour.plugins.career.riasec import load_quiz
from promtour.testing import run_in_thread, save_new_tour, with_platform


class AudioListenFinished(Event, tag="audio_listen_finished"):
    """Stand-in for the audio guide's event (the career plugin reads it by its tag)."""

    track: str
    lang: str


class Probe:
    @hookimpl
    def promtour_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            name="career_probe", version="1", title={"en": "probe"}, events=[AudioListenFinished]
        )


PLUGINS = [("career", career), ("career_probe", Probe())]


def t(en: str, ru: str) -> dict[str, str]:
    return {"en": en, "ru": ru}


CONFIG: dict[str, Any] = {
    "region": t("Test region", "Тестовый регион"),
    "stations": {"s1": ["R"], "s2": ["I", "A"], "s3": ["C", "I"]},
    "professions": [
        {
            "id": "press-operator",
            "title": t("Press line operator", "Оператор прессовой линии"),
            "summary": t("Runs the big press.", "Управляет большим прессом."),
            "stations": ["s1"],
            "riasec": ["R", "C"],
            "skills": {"en": ["the press panel"], "ru": ["пульт пресса"]},
            "pay": {"min": 60000, "max": 90000},
            "shifts": t("2 on / 2 off", "2/2"),
        },
        {
            "id": "cnc-programmer",
            "title": t("CNC programmer", "Программист станков с ЧПУ"),
            "summary": t("Writes programs for CNC machines.", "Пишет программы для станков."),
            "stations": ["s2"],
            "riasec": ["I", "R", "C"],
            "education": [
                {
                    "level": "college",
                    "programme": t("15.01.32 CNC operator", "15.01.32 Оператор станков с ПУ"),
                    "duration": t("2 years 10 months", "2 года 10 месяцев"),
                }
            ],
            "pay": {"min": 100000, "max": 160000},
            "shifts": t("5 days, day shift", "5/2, днём"),
            "links": [{"kind": "vacancy", "title": t("Vacancy", "Вакансия"), "url": "/vacancy"}],
        },
        {
            "id": "die-designer",
            "title": t("Die design engineer", "Конструктор штампов"),
            "summary": t("Designs dies in 3D.", "Проектирует штампы в 3D."),
            "stations": ["s2"],
            "riasec": ["A", "I"],
        },
        {
            "id": "quality-inspector",
            "title": t("Quality inspector", "Контролёр ОТК"),
            "summary": t("Checks parts.", "Проверяет детали."),
            "stations": ["s3"],
            "riasec": ["C", "I"],
        },
    ],
    "next_steps": [
        {"kind": "open_day", "title": t("Open day on Saturday", "День открытых дверей")},
        {"kind": "college", "title": t("Partner college", "Колледж-партнёр"), "url": "/c"},
    ],
    "consent": {
        "version": "2025-06",
        "text": t("We keep your contacts for internships.", "Мы храним ваши контакты."),
        "guardian_text": t("The guardian agrees.", "Родитель согласен."),
    },
}


def make_tour(nats_url: str) -> Tour:
    return with_platform(
        nats_url,
        lambda platform: save_new_tour(platform, plugins={"career": CONFIG}),
        plugins=PLUGINS,
        entrypoints=False,
    )


async def publish_and_wait(nats_url: str, tour: Tour, visitor: str, events: list[Event]) -> None:
    """Publish events, then wait until the career consumer has counted them."""
    bus = Bus(nats_url)
    await bus.connect(name="career-test")
    try:
        for event in events:
            await bus.publish(event)
        kv = await bus.bucket("PROMTOUR_P_CAREER")
        ids = {e.id for e in events}
        for _ in range(200):
            try:
                entry = await kv.get(f"tour.{tour.key}.sig.{visitor}")
                if ids <= set(msgspec.json.decode(entry.value, type=Signals).seen):
                    return
            except Exception:
                pass
            await asyncio.sleep(0.05)
        raise AssertionError("the career plugin did not count the events")
    finally:
        await bus.close()


def visitor_of(context: Any) -> str:
    cookie = next(c for c in context.cookies() if c["name"] == "pt_v")
    return cookie["value"].rsplit(".", 1)[0]


def test_cards_quiz_and_ranked_finish(serve_app, phone, nats_url):
    tour = make_tour(nats_url)
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    context = phone(locale="en-US")
    page = context.new_page()

    # At station 2: the cards of the people who work there.
    page.goto(server.station_url(tour, "s2") + "?lang=en")
    panel = page.locator('[data-plugin="career"]')
    expect(panel.locator("h2")).to_have_text("Who works here")
    cards = panel.locator(".career-card")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text("CNC programmer")
    cards.first.locator("summary").click()
    expect(cards.first).to_contain_text("15.01.32 CNC operator")
    expect(cards.first).to_contain_text("100,000–160,000 ₽ a month before tax (Test region)")
    expect(cards.first.get_by_role("link", name="Vacancy")).to_be_visible()

    # The visitor comes back to station 2 and listens to its audio to the end.
    page.goto(server.station_url(tour, "s1"))
    page.goto(server.station_url(tour, "s2"))
    visitor = visitor_of(context)
    listened = AudioListenFinished(
        enterprise=tour.enterprise,
        tour=tour.id,
        station="s2",
        visitor=visitor,
        track="cnc",
        lang="en",
    )
    run_in_thread(publish_and_wait(nats_url, tour, visitor, [listened]))

    # The quiz: investigative statements "that's me", hands-on "partly", others "not me".
    page.get_by_role("link", name=re.compile("Take the 3-minute quiz")).click()
    expect(page.locator("h1")).to_have_text("Interest quiz")
    statements = page.locator(".career-q")
    expect(statements).to_have_count(30)
    for statement in load_quiz().statements:
        value = {"I": 2, "R": 1}.get(statement.type, 0)
        page.click(f'label[for="{statement.id}-{value}"]')
    page.get_by_role("button", name="See my profile").click()
    expect(page.locator("h1")).to_have_text("Your interest profile")
    first_type = page.locator(".career-type").first
    expect(first_type).to_have_attribute("data-type", "I")
    expect(first_type).to_contain_text("analyse, measure")

    # The finish page: professions ranked by fit, each with a reason, and next steps.
    page.goto(f"{server.url}/t/{tour.enterprise}/{tour.id}/finish")
    finish = page.locator('[data-plugin="career"]')
    expect(finish.locator("h2")).to_have_text("Professions that fit you")
    matches = finish.locator(".career-match")
    expect(matches.first).to_have_attribute("data-profession", "cnc-programmer")
    expect(matches.first.locator(".career-reason")).to_have_text(
        "Works at the “Station 2” station, where you spent time; your quiz answers lean to "
        "investigating how things work."
    )
    ranked = [matches.nth(i).get_attribute("data-profession") for i in range(matches.count())]
    assert sorted(ranked) == sorted(p["id"] for p in CONFIG["professions"])
    # Hands-on only "partly", no I in its code: the press operator fits least.
    assert ranked[-1] == "press-operator"
    for i in range(matches.count()):
        expect(matches.nth(i).locator(".career-reason")).not_to_be_empty()
    expect(finish.locator(".career-step")).to_have_count(2)
    expect(finish).to_contain_text("Open day on Saturday")
    expect(finish.get_by_role("link", name="I want to hear about internships here")).to_be_visible()


def test_lead_form_consent_in_russian(serve_app, phone, nats_url):
    tour = make_tour(nats_url)
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    page = phone(locale="ru-RU").new_page()
    name = f"Мария Кузнецова {secrets.token_hex(2)}"

    page.goto(f"{server.url}/p/career/t/{tour.enterprise}/{tour.id}/contact")
    expect(page.locator("h1")).to_have_text("Узнать о практике и стажировках")
    page.get_by_text("Подробнее: полный текст согласия").click()
    expect(page.locator(".career-consent-text").first).to_have_text("Мы храним ваши контакты.")
    page.get_by_label("Ваше имя", exact=True).fill(name)
    page.get_by_label("Телефон или e-mail", exact=True).fill("maria@example.org")
    page.get_by_label("16–17 лет").check()
    page.get_by_label("Программист станков с ЧПУ").check()
    page.get_by_role("button", name="Отправить").click()

    # Refused: no consent, and under 18 without a parent's consent. Nothing typed is lost.
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Без вашего согласия мы не можем передать контакты")
    expect(alert).to_contain_text("Вам нет 18 лет")
    expect(page.get_by_label("Ваше имя", exact=True)).to_have_value(name)
    expect(page.get_by_label("Программист станков с ЧПУ")).to_be_checked()

    page.get_by_label("Я согласен(на) на обработку моих персональных данных").check()
    page.get_by_role("button", name="Отправить").click()
    expect(page.get_by_role("alert")).to_contain_text("Вам нет 18 лет")
    expect(page.get_by_role("alert")).not_to_contain_text("Без вашего согласия")

    # With a guardian: accepted, pending until the guardian confirms by the link.
    page.get_by_label("Имя родителя или законного представителя").fill("Ольга Кузнецова")
    page.get_by_label("Телефон или e-mail родителя или законного представителя").fill(
        "+7 912 000-11-22"
    )
    page.get_by_label("Мой родитель или законный представитель согласен").check()
    page.get_by_role("button", name="Отправить").click()
    expect(page.locator("h1")).to_have_text("Спасибо")
    expect(page.get_by_role("status").first).to_contain_text("Почти готово")
    guardian_url = page.locator("#guardian-link").get_attribute("href")
    my_url = page.locator("#my-link").get_attribute("href")

    # The guardian confirms on their own phone.
    guardian = phone(locale="ru-RU").new_page()
    guardian.goto(guardian_url)
    expect(guardian.locator('[data-field="name"]')).to_have_text(name)
    guardian.get_by_label("Как родитель или законный представитель").check()
    guardian.get_by_role("button", name="Подтвердить").click()
    expect(guardian.get_by_role("status")).to_contain_text("ваше согласие подтверждено")

    # The visitor sees the data and erases it.
    page.goto(my_url)
    expect(page.locator('[data-field="status"]')).to_have_text("переданы предприятию")
    page.get_by_role("button", name="Удалить мои данные").click()
    expect(page.get_by_role("status")).to_have_text(
        "Данные удалены. Здесь от них ничего не осталось."
    )
    response = page.goto(my_url)
    assert response is not None and response.status == 404
