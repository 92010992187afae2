"""A tour manager who types no TOML: in Russian, in Chromium, adds one single-choice
mission (3 answers, a hint) per station of a 3-station tour with the generated quest
form; a wrong value is refused in Russian naming the field, nothing saved. Clicks are
counted and printed."""

from __future__ import annotations

from contextlib import closing

from tests.console_steps import add_single_mission, console, russian_tour
from tests.test_console_browser import onboard

STATIONS = [("gate", "Проходная"), ("press", "Пресс"), ("qc", "ОТК")]
ANSWERS = ("Штампуют", "Красят", "Отдыхают")


def test_manager_builds_missions_in_russian_forms(browser, serve_app, nats_url):
    ent, secret = onboard(nats_url)
    server = serve_app(entrypoints=False, plugins=_quests())
    api = russian_tour(server.url, ent, secret, STATIONS)
    with console(browser, server.url, ent, secret) as c, closing(api):
        page, click = c.page, c.click
        page.goto(f"{server.url}/console/{ent}/tours/plant/plugins/quests")
        assert "Порядок заданий" in page.content()  # labels in Russian, not field names
        assert "TOML" not in page.content()
        for m, (sid, name) in enumerate(STATIONS):
            question = f"Что делают на станции «{name}»?"
            add_single_mission(c, m, f"q-{sid}", sid, question, ANSWERS, "Прислушайтесь к грохоту")

        # A wrong value: refused in Russian, naming the field as the form shows it.
        c.fill("input[name='cfg.missions.1.max_attempts']", "50")
        click("text=Включить с этими настройками")
        error = page.locator("#error").inner_text()
        assert "Задания › Задание 2 › Попыток: Не больше 20." in error, error
        assert page.locator("[data-path='missions.1.max_attempts'] [aria-invalid=true]").count()
        assert api.get("/tours/plant").json()["plugins"] == {}  # nothing saved

        c.fill("input[name='cfg.missions.1.max_attempts']", "")
        click("text=Включить с этими настройками")
        page.wait_for_url("**/tours/plant?done=enabled")
        quests = api.get("/tours/plant").json()["plugins"]["quests"]
        missions = quests["missions"]
        assert [m["station"] for m in missions] == [sid for sid, _ in STATIONS]
        for mission in missions:
            assert mission["type"] == "single" and len(mission["choices"]) == 3
            assert [a.get("correct", False) for a in mission["choices"]] == [True, False, False]
            assert mission["hints"][0]["text"] == {"ru": "Прислушайтесь к грохоту"}
        print(f"\nto build 3 missions (3 answers, a hint each) and save: {c}")

        # Reopened, the form shows what was typed (no reformatted TOML).
        page.goto(f"{server.url}/console/{ent}/tours/plant/plugins/quests")
        assert page.input_value("input[name='cfg.missions.2.choices.2.text.ru']") == "Отдыхают"


def _quests() -> list[tuple[str, object]]:
    import promtour.plugins.quests as quests

    return [("quests", quests)]
