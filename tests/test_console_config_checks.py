"""The plugins' own config checks (``promtour_validate_config``) speak the console's
language: a quest mission or a profession that passes the schema but not the plugin's
check is refused in Russian, naming the field as the form labels it, and nothing is
saved. The form is sent as a browser sends it: every field of the page, one changed."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from promtour._auth import create_token
from promtour.testing import console_sign_in

RU = {"Accept-Language": "ru"}


class FormFields(HTMLParser):
    """The name/value pairs a browser would send for the page's config form."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name", "")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.pairs.append((name, a.get("value", "on" if a.get("type") == "checkbox" else "")))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.pairs.append((self._select, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.pairs.append((self._textarea, self._text.lstrip("\n")))
            self._textarea = None


def fields(html: str) -> dict[str, str]:
    parser = FormFields()
    parser.feed(html)
    return dict(parser.pairs)


def t(ru: str, en: str) -> dict[str, str]:
    return {"ru": ru, "en": en}


QUESTS = {
    "missions": [
        {
            "id": "crane",
            "station": "s1",
            "type": "single",
            "question": t("Чем поднимают рулон?", "What lifts the coil?"),
            "choices": [
                {"text": t("Краном", "A crane"), "correct": True},
                {"text": t("Руками", "By hand")},
            ],
        }
    ]
}
CAREER = {
    "stations": {"s1": ["R"]},
    "professions": [
        {
            "id": "press-operator",
            "title": t("Оператор пресса", "Press operator"),
            "summary": t("Управляет прессом.", "Runs the press."),
            "stations": ["s1"],
            "riasec": ["R"],
            "pay": {"min": 50000, "max": 90000},
        }
    ],
}


def break_mission(form: dict[str, str]) -> dict[str, str]:
    """Untick the only right choice: the schema allows it, the quest check does not."""
    ticked = [k for k in form if k.startswith("cfg.missions.0.choices.") and k.endswith(".correct")]
    assert ticked, "the form shows the mission's right choice"
    return {k: v for k, v in form.items() if k not in ticked}


def break_time_zone(form: dict[str, str]) -> dict[str, str]:
    """A time zone that does not exist: any string passes the schema."""
    assert form["cfg.timezone"] == "Europe/Moscow"
    return {**form, "cfg.timezone": "Mars/Olympus"}


def break_profession(form: dict[str, str]) -> dict[str, str]:
    """The lowest pay above the highest."""
    assert form["cfg.professions.0.pay.min"] == "50000"
    return {**form, "cfg.professions.0.pay.min": "95000"}


#: How the form labels the field of each check.
LABELS = {
    "quests": "Задания › Задание 1",
    "career": "Профессии › Профессия 1",
    "visits": "Часовой пояс",
}


@pytest.mark.parametrize(
    ("plugin", "config", "change", "expected"),
    [
        (
            "quests",
            QUESTS,
            break_mission,
            "Отметьте ровно один правильный вариант (сейчас отмечено: 0).",
        ),
        (
            "career",
            CAREER,
            break_profession,
            "Нижняя граница зарплаты (95000) выше верхней (90000).",
        ),
        (
            "visits",
            {},
            break_time_zone,
            "«Mars/Olympus» не найден (пишите так: Europe/Moscow).",
        ),
    ],
)
async def test_a_plugin_check_speaks_russian_and_names_the_field(
    make_platform, serve_app, new_tour, plugin: str, config: dict[str, Any], change, expected: str
):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, stations=2, plugins={plugin: config})
    _, secret = await create_token(setup.bus, tour.enterprise, "editor", "Ольга")
    server = serve_app()
    url = f"/console/{tour.enterprise}/tours/{tour.id}/plugins/{plugin}"
    async with httpx.AsyncClient(base_url=server.url, timeout=10, headers=RU) as client:
        await console_sign_in(client, secret)
        page = await client.get(url)
        assert page.status_code == 200
        form = fields(page.text)
        refused = await client.post(url, data=change(form))
        assert refused.status_code == 400, refused.text[:500]
        error = refused.text[refused.text.index('id="error"') :][:1500]
        assert expected in error
        assert LABELS[plugin] in error, error
        # The label names the field once; the sentence after it does not say it again.
        assert error.lower().count(LABELS[plugin].lower()) == 1, error
        for english in ("correct", "pay", "mission", "is above", "time zone"):
            assert english not in error.split("</div>")[0].lower()
        stored = (await setup.tours.refresh(tour.key)).tour.plugins[plugin]
        assert stored == config
        # The unchanged form saves: the refusal was the check, not the form.
        saved = await client.post(url, data=form)
        assert saved.status_code == 303, saved.text[:500]
