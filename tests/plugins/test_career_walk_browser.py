"""Issue 12's rough edges of the career plugin, walked on the demo tour on a phone
(Chromium, 390x844, Russian, real NATS): the reasons under the ranking, the lead form
(ordered by fit, short, the guardian's part only under 18), the thank-you page's link
with copy and share, and the quiz answered without signal (queued, replayed once).
Screenshots of the ranking, the lead form and the thank-you page go to docs/img/."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import promtour.plugins.career as career_plugin
import promtour.plugins.quests as quests_plugin
import test_offline_browser
from playwright.sync_api import expect
from promtour.testing.browser import wait_for_js
from test_offline_browser import (
    FLUSH_JS,
    QUEUE_JS,
    REQUEUE_JS,
    demo_tour,
    events_of,
    run,
    wait_controlled,
)

PLUGINS = [("quests", quests_plugin), ("career", career_plugin)]
IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
#: The demo's stations by name, and where each profession works (config/demo).
STATIONS = {
    "warehouse": "Склад рулонной стали",
    "press": "Прессовая линия",
    "welding": "Роботизированная сварка",
    "cnc": "Участок ЧПУ",
    "qc": "Лаборатория контроля качества",
}


def take_quiz(page, likes: str) -> None:
    from promtour.plugins.career.riasec import QUIZ

    for statement in QUIZ.statements:
        page.click(f'label[for="{statement.id}-{2 if statement.type in likes else 0}"]')


def shot(target, name: str) -> None:
    """The docs' pictures, taken only on request (PROMTOUR_SCREENSHOTS=1): a test run
    leaves the checkout as it was."""
    if os.environ.get("PROMTOUR_SCREENSHOTS"):
        target.screenshot(path=str(IMG / name), animations="disabled")


def test_reasons_lead_form_and_private_link(serve_app, phone, nats_url, monkeypatch):
    monkeypatch.setattr(test_offline_browser, "PLUGINS", PLUGINS)
    tour = run(demo_tour(nats_url))
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    career = f"{server.url}/p/career/t/{tour.enterprise}/{tour.id}"
    context = phone(locale="ru-RU", device_scale_factor=1)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = context.new_page()

    # The walk of the issue: the warehouse twice, the press line; hands-on and
    # investigative answers.
    for station in ("warehouse", "warehouse", "press"):
        page.goto(server.station_url(tour, station))
    page.goto(f"{career}/quiz")
    take_quiz(page, "RI")
    page.get_by_role("button", name="Показать мой профиль").click()
    expect(page.locator("h1")).to_have_text("Ваш профиль интересов")

    page.goto(f"{server.url}/t/{tour.enterprise}/{tour.id}/finish")
    matches = page.locator('[data-plugin="career"] .career-match')
    expect(matches.first).to_be_visible()
    top = [matches.nth(i).get_attribute("data-profession") for i in range(5)]
    reasons = [matches.nth(i).locator(".career-reason").inner_text() for i in range(5)]
    assert len(set(reasons)) == 5, reasons
    config = tour.plugins["career"]
    works_at = {p["id"]: set(p["stations"]) for p in config["professions"]}
    for pid, reason in zip(top, reasons, strict=True):
        cited = {sid for sid, name in STATIONS.items() if f"«{name}»" in reason}
        assert cited and cited <= works_at[pid], (pid, reason)
        assert "станциях: " not in reason
    die = reasons[top.index("die-setter")]
    assert die.startswith("Работает на станции «Прессовая линия», где вы побывали"), die
    matches.first.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -120)")  # the panel's heading above the first match
    shot(page, "career-ranking.png")

    # The lead form: ordered by fit, the best one ticked; short; no guardian for adults.
    page.goto(f"{career}/contact")
    boxes = page.locator("[data-professions] input[type=checkbox]")
    assert boxes.first.get_attribute("value") == top[0]
    expect(boxes.first).to_be_checked()
    expect(boxes.nth(1)).not_to_be_checked()
    guardian = page.locator("[data-guardian]")
    expect(guardian).to_be_hidden()
    page.get_by_label("16–17 лет").check()
    expect(guardian).to_be_visible()
    page.get_by_label("18 лет и старше").check()
    expect(guardian).to_be_hidden()
    # The consent reads as plain text; the full text opens below, not in a scroll box.
    consent = page.locator(".career-consent")
    expect(consent).to_contain_text("хранит ваше имя, контакт")
    consent.get_by_text("Подробнее: полный текст согласия").click()
    full = consent.locator(".career-consent-text")
    expect(full).to_contain_text("Я даю согласие")
    assert full.evaluate("e => e.scrollHeight <= e.clientHeight + 1")
    consent.get_by_text("Подробнее: полный текст согласия").click()
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 2 * 844, f"the form is {height}px, more than two phone screens"
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "career-lead-form.png")

    page.get_by_label("Ваше имя", exact=True).fill(f"Анна {secrets.token_hex(2)}")
    page.get_by_label("Телефон или e-mail", exact=True).fill("anna@example.org")
    page.get_by_label("Я согласен(на) на обработку моих персональных данных").check()
    page.get_by_role("button", name="Отправить").click()
    expect(page.locator("h1")).to_have_text("Спасибо")

    # The private link: a read-only field, copied by a button.
    field = page.get_by_role("textbox", name="Ваша личная ссылка")
    expect(field).to_have_attribute("readonly", "")
    link = field.input_value()
    assert re.match(rf"{re.escape(server.url)}/p/career/my/[^/]+/[^/]+/\S+$", link)
    page.get_by_role("button", name="Скопировать ссылку").click()
    expect(page.get_by_role("status").last).to_have_text("Ссылка скопирована.")
    assert page.evaluate("navigator.clipboard.readText()") == link
    share = page.get_by_role("button", name="Поделиться")
    if page.evaluate("!!navigator.share"):
        expect(share).to_be_visible()
    else:
        expect(share).to_be_hidden()
    shot(page, "career-thanks.png")

    # Without JavaScript: no guardian asked of an adult, and the link still reads well.
    plain = phone(locale="ru-RU", java_script_enabled=False).new_page()
    plain.goto(f"{career}/contact")
    plain.get_by_label("Ваше имя", exact=True).fill("Пётр")
    plain.get_by_label("Телефон или e-mail", exact=True).fill("+7 912 000-11-22")
    plain.get_by_label("18 лет и старше").check()
    expect(plain.locator("[data-guardian]")).to_be_hidden()  # CSS alone
    plain.get_by_label("Я согласен(на) на обработку моих персональных данных").check()
    plain.get_by_role("button", name="Отправить").click()
    expect(plain.locator("h1")).to_have_text("Спасибо")
    expect(plain.get_by_role("textbox", name="Ваша личная ссылка")).to_be_visible()
    expect(plain.get_by_role("button", name="Скопировать ссылку")).to_be_hidden()
    expect(plain.get_by_role("link", name="Открыть ссылку").first).to_be_visible()


def test_quiz_answers_without_signal_are_sent_once_back_online(
    serve_app, phone, nats_url, monkeypatch
):
    monkeypatch.setattr(test_offline_browser, "PLUGINS", PLUGINS)
    tour = run(demo_tour(nats_url))
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    context = phone(locale="ru-RU")
    page = context.new_page()
    page.goto(server.station_url(tour, "warehouse"))
    page.goto(f"{server.url}/p/career/t/{tour.enterprise}/{tour.id}/quiz")
    wait_controlled(page)
    take_quiz(page, "I")

    # No signal: the answers are kept on the phone, and the page says so.
    context.set_offline(True)
    page.get_by_role("button", name="Показать мой профиль").click()
    # Visible, not only present: the text is in the page from the start, hidden.
    expect(page.locator("[data-quiz-queued]")).to_be_visible()
    expect(page.locator("[data-quiz-queued]")).to_have_text(
        "Сохранено на телефоне: ответы отправим, когда появится связь, и тогда покажем ваш профиль."
    )
    queue = page.evaluate(QUEUE_JS)
    assert [(i["kind"], i["url"].rsplit("/", 1)[-1]) for i in queue] == [("post", "quiz")]
    assert run(events_of(nats_url, tour, "career_quiz_completed")) == []

    # Back online: sent once, and the profile shows.
    context.set_offline(False)
    expect(page.locator("h1")).to_have_text("Ваш профиль интересов", timeout=20_000)
    expect(page.locator(".career-type").first).to_have_attribute("data-type", "I")
    assert page.evaluate(QUEUE_JS) == []
    events = run(events_of(nats_url, tour, "career_quiz_completed"))
    assert [e["answered"] for e in events] == [30]

    # The same queue replayed again adds nothing.
    page.evaluate(REQUEUE_JS, queue)
    assert page.evaluate(FLUSH_JS) == 1
    assert len(run(events_of(nats_url, tour, "career_quiz_completed"))) == 1
    wait_for_js(page, "true")
