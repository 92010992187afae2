"""A tour manager on a phone (390x844, Russian, Chromium) who types no code sets up
visits and safety in the generated forms: a one-off slot with the browser's date input,
a day without visits, a weekly slot on ticked weekdays, and a briefing quiz question
with its options; both are saved and the stored config is what was entered."""

from __future__ import annotations

from tests.console_steps import russian_tour
from tests.test_console_browser import onboard

PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "ru-RU", "is_mobile": True}


def test_manager_adds_a_slot_a_day_off_and_a_quiz_question_on_a_phone(browser, serve_app, nats_url):
    ent, secret = onboard(nats_url)
    server = serve_app(entrypoints=False, plugins=_plugins())
    api = russian_tour(server.url, ent, secret, [("press", "Пресс")])
    context = browser.new_context(**PHONE)
    page = context.new_page()
    clicks = 0

    def click(selector: str) -> None:
        nonlocal clicks
        clicks += 1
        # Every button here submits the form: wait for the new page, not the old one.
        with page.expect_navigation():
            page.click(selector)

    try:
        page.goto(f"{server.url}/console/login")
        page.fill("#token", secret)
        click("button[type=submit]")

        page.goto(f"{server.url}/console/{ent}/tours/plant/plugins/visits")
        assert page.locator("label[for='cfg-timezone']").inner_text() == "Часовой пояс"
        click("button[value='add:slots']")
        assert page.locator(".flash.unsaved").count() == 1  # nothing saved yet
        assert page.get_attribute("input[name='cfg.slots.0.date']", "type") == "date"
        page.fill("input[name='cfg.slots.0.date']", "2026-12-15")
        page.fill("input[name='cfg.slots.0.time']", "11:30")
        page.fill("input[name='cfg.slots.0.capacity']", "20")
        page.fill("textarea[name='cfg.slots.0.notes.ru']", "Сбор у проходной")
        click("button[value='add:blackout']")
        page.fill("input[name='cfg.blackout.0']", "2026-12-31")
        click("button[value='add:recurring']")
        page.check("input[name='cfg.recurring.0.weekdays[]'][value='2']")  # Вторник
        page.check("text=Четверг")
        page.fill("input[name='cfg.recurring.0.time']", "10:00")
        page.fill("input[name='cfg.recurring.0.capacity']", "25")
        assert page.input_value("input[name='cfg.slots.0.date']") == "2026-12-15"  # kept
        click("text=Включить с этими настройками")
        page.wait_for_url("**/tours/plant?done=enabled")
        visits = api.get("/tours/plant").json()["plugins"]["visits"]
        assert visits["slots"] == [
            {
                "date": "2026-12-15",
                "time": "11:30",
                "capacity": 20,
                "min_age": 0,
                "languages": [],
                "notes": {"ru": "Сбор у проходной"},
            }
        ]
        assert visits["blackout"] == ["2026-12-31"]
        assert visits["recurring"][0]["weekdays"] == [2, 4]
        assert visits["recurring"][0]["time"] == "10:00"

        page.goto(f"{server.url}/console/{ent}/tours/plant/plugins/safety")
        page.select_option("select[name='cfg.briefing']", label="Не нужен")
        page.check("input[name='cfg.ppe.press[]'][value='helmet']")
        click("button[value='add:quiz']")
        page.fill("input[name='cfg.quiz.0.question.ru']", "Где можно ходить в цеху?")
        click("button[value='add:quiz.0.options']")
        click("button[value='add:quiz.0.options']")
        page.fill("input[name='cfg.quiz.0.options.0.ru']", "Где удобнее")
        page.fill("input[name='cfg.quiz.0.options.1.ru']", "Только по зелёной дорожке")
        page.fill("input[name='cfg.quiz.0.correct']", "1")
        click("text=Включить с этими настройками")
        page.wait_for_url("**/tours/plant?done=enabled")
        safety = api.get("/tours/plant").json()["plugins"]["safety"]
        assert safety["quiz"] == [
            {
                "question": {"ru": "Где можно ходить в цеху?"},
                "options": [{"ru": "Где удобнее"}, {"ru": "Только по зелёной дорожке"}],
                "correct": 1,
            }
        ]
        assert safety["ppe"] == {"press": ["helmet"]}
        assert safety["briefing"] is False
        print(f"\nclicks for a slot, a day off, a weekly slot and a quiz question: {clicks}")

        # Reopened: what was entered is shown, dates in the date inputs.
        page.goto(f"{server.url}/console/{ent}/tours/plant/plugins/visits")
        assert page.input_value("input[name='cfg.blackout.0']") == "2026-12-31"
        assert page.is_checked("input[name='cfg.recurring.0.weekdays[]'][value='4']")
    finally:
        context.close()
        api.close()


def _plugins() -> list[tuple[str, object]]:
    import promtour.plugins.safety as safety
    import promtour.plugins.visits as visits

    return [("visits", visits), ("safety", safety)]
