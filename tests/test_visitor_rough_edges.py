"""Rough edges a visitor walk found on a phone (issue 12, 390x844, Russian), each as a
visitor would check it: error pages in plain words with a way to type the station
number (6), the wrong-answer feedback next to the answer and announced (5), the
layout of the station list and of buttons beside fields (7), only listed tours on the
front page (11)."""

from __future__ import annotations

import re
from typing import NamedTuple

import promtour.plugins.quests as quests_plugin
import pytest
from playwright.sync_api import Page, expect
from promtour._models import Tour
from promtour.testing import LiveServer, unique
from test_offline_browser import demo_tour, run

PLUGINS = [("quests", quests_plugin)]


class Demo(NamedTuple):
    tour: Tour
    server: LiveServer
    page: Page


@pytest.fixture
def demo(serve_app, phone, nats_url) -> Demo:
    """The demo tour with its quests, served, and a page on a phone in Russian."""
    tour = run(demo_tour(nats_url))
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    return Demo(tour, server, phone(locale="ru-RU").new_page())


def test_a_bad_or_truncated_code_explains_and_offers_the_station_number(demo):
    tour, server, page = demo
    code = server.station_url(tour, "press")
    page.goto(code[:-6])  # the camera read the code only in part
    expect(page.locator("h1")).to_have_text("Ссылка не сработала")
    main = page.locator("main")
    expect(main).not_to_contain_text("promtour")
    expect(main).not_to_contain_text("Неверный запрос")
    page.get_by_label("Введите номер, напечатанный под QR-кодом станции").fill("2")
    page.get_by_role("button", name="Перейти").click()
    expect(page.locator("h1")).to_have_text("Прессовая линия")


def test_wrong_answer_feedback_is_next_to_the_answer_and_announced(demo):
    tour, server, page = demo
    page.goto(server.station_url(tour, "warehouse"))
    mission = page.locator("#m-coil-crane")
    mission.get_by_label("Вилочным погрузчиком").check()
    mission.get_by_role("button", name="Ответить").click()
    mission = page.locator("#m-coil-crane")
    status = mission.locator("[data-quest-status]")
    expect(status).to_contain_text("Неверно. Осталось попыток: 2.")
    expect(status).to_have_attribute("aria-live", "polite")
    # Between the options and the Answer button, not under the hint button.
    options = mission.locator("fieldset").bounding_box()
    box = status.bounding_box()
    answer = mission.get_by_role("button", name="Ответить").bounding_box()
    hint = mission.locator(".quest-hint-form").bounding_box()
    assert options and box and answer and hint
    assert options["y"] + options["height"] <= box["y"] < answer["y"] < hint["y"]
    colour = status.evaluate("el => getComputedStyle(el).color")
    assert colour != "rgb(27, 31, 36)", "the feedback stands out from the text"


def test_station_list_and_buttons_beside_fields_keep_their_shape(demo):
    tour, server, page = demo
    page.goto(server.station_url(tour, "warehouse"))
    for badge in page.locator(".stations .num").all():
        box = badge.bounding_box()
        assert box and abs(box["width"] - box["height"]) < 1, "a circle, not an oval"
    for state in page.locator(".stations .todo .state").all():
        box = state.bounding_box()
        line = float(state.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)"))
        assert box and box["height"] < line * 1.5, "«ещё нет» on one line"
    for button in page.locator(".row button").all():
        if not button.is_visible():
            continue
        padding = button.evaluate(
            "el => { const r = el.getBoundingClientRect(); const range = document.createRange();"
            " range.selectNodeContents(el); const t = range.getBoundingClientRect();"
            " return Math.min(t.left - r.left, r.right - t.right); }"
        )
        assert padding >= 12, f"the text of {button.inner_text()!r} touches its edges"


def test_the_front_page_lists_only_listed_tours(serve_app, phone, nats_url):
    listed = run(demo_tour(nats_url))
    hidden = run(
        demo_tour(nats_url, visibility="unlisted", name={"ru": unique("Закрытая"), "en": "Hidden"})
    )
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    page = phone(locale="ru-RU").new_page()
    page.goto(server.url + "/")
    links = page.locator("ul.tours a")
    hrefs = [a.get_attribute("href") for a in links.all()]
    assert f"/t/{listed.enterprise}/{listed.id}" in hrefs
    assert f"/t/{hidden.enterprise}/{hidden.id}" not in hrefs
    # Unlisted is not private: its link still opens it.
    page.goto(f"{server.url}/t/{hidden.enterprise}/{hidden.id}")
    expect(page.locator("h1")).to_contain_text("Закрытая")


def test_points_take_russian_plural_forms(demo):
    tour, server, page = demo
    page.goto(server.station_url(tour, "warehouse"))
    mission = page.locator("#m-coil-crane")
    expect(mission.locator(".quest-points")).to_contain_text("10 очков")
    expect(mission.get_by_role("button", name="Взять подсказку (−3 очка)")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("очков: 10")
    expect(page.locator("main")).not_to_contain_text("(очки: ")


def test_a_station_has_a_picture_with_alt_text_in_both_languages(demo):
    tour, server, page = demo
    page.goto(server.station_url(tour, "press"))
    picture = page.locator("article.station img.station-image")
    expect(picture).to_have_attribute("alt", re.compile("^Пресс: синяя станина"))
    assert picture.evaluate("img => img.complete && img.naturalWidth") == 780
    box = picture.bounding_box()
    assert box and box["width"] <= 390 and box["height"] > 100
    page.goto(f"{server.url}/t/{tour.enterprise}/{tour.id}/at/press?lang=en")
    expect(page.locator("img.station-image")).to_have_attribute(
        "alt", re.compile("^A press: the blue frame")
    )


def test_the_quiz_shows_where_the_visitor_is(serve_app, phone, nats_url):
    import promtour.plugins.career as career_plugin
    import test_offline_browser

    plugins = [("quests", quests_plugin), ("career", career_plugin)]
    test_offline_browser.PLUGINS, saved = plugins, test_offline_browser.PLUGINS
    try:
        tour = run(demo_tour(nats_url))
    finally:
        test_offline_browser.PLUGINS = saved
    server = serve_app(entrypoints=False, plugins=plugins)
    page = phone(locale="ru-RU").new_page()
    page.goto(f"{server.url}/p/career/t/{tour.enterprise}/{tour.id}/quiz")
    legends = page.locator(".career-q legend")
    total = legends.count()
    assert total >= 20
    expect(legends.first).to_contain_text(f"1 / {total}")
    expect(legends.nth(total - 1)).to_contain_text(f"{total} / {total}")
    # The answered count stays on screen while the visitor scrolls through the quiz.
    progress = page.locator(".career-progress")
    for n in (0, 1, 2):
        page.locator(".career-q").nth(n).get_by_text("Про меня", exact=True).click()
    legends.nth(total // 2).scroll_into_view_if_needed()
    box = progress.bounding_box()
    assert box and 0 <= box["y"] and box["y"] + box["height"] <= 844
    assert progress.evaluate("el => getComputedStyle(el, '::before').content.includes('Отвечено:')")
