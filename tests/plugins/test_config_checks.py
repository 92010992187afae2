"""The checks every plugin's config shares (a station that does not exist, a text
missing a language, an id given twice, an unknown time zone) say the same sentence in
every plugin, and the manager reads it in Russian without the plugin's catalog carrying
it (the public helpers of promtour.plugin, translated in the core's catalog)."""

from __future__ import annotations

from pathlib import Path

import msgspec
from promtour._i18n import Translations
from promtour._models import Station, Tour
from promtour.plugin import Problem
from promtour.plugins.audio_guide.config import AudioGuideConfig
from promtour.plugins.audio_guide.validate import check_config
from promtour.plugins.career.config import CareerConfig
from promtour.plugins.career.config import validate_config as check_career
from promtour.plugins.quests.config import QuestsConfig
from promtour.plugins.quests.validate import validate as check_quests
from promtour.plugins.safety.config import SafetyConfig
from promtour.plugins.safety.config import validate_config as check_safety
from promtour.plugins.visits.config import VisitsConfig
from promtour.plugins.visits.config import validate_config as check_visits

PLUGINS = Path(__file__).parents[2] / "plugins"
TOUR = Tour(
    id="checks",
    enterprise="acme",
    name={"ru": "Проверки", "en": "Checks"},
    stations=[Station(id=s, number=n, name={"ru": s, "en": s}) for n, s in enumerate("ab", 1)],
)
TEXT = {"ru": "Текст", "en": "Text"}


def job(**fields: object) -> dict[str, object]:
    """A career profession, right unless ``fields`` says otherwise."""
    return {"id": "p", "title": TEXT, "summary": TEXT, "stations": ["a"], "riasec": ["R"]} | fields


def _problems(check, config_type: type, raw: dict, *media: str) -> list[Problem]:
    config = msgspec.convert(raw, config_type)
    return list(check(TOUR, config, frozenset(media)) if media else check(TOUR, config))


def _messages(problems: list[Problem], path: str) -> set[str]:
    return {p.message for p in problems if p.path == path}


def test_no_station_is_one_sentence_in_every_plugin():
    found = {
        **dict.fromkeys(
            _messages(
                _problems(
                    check_career,
                    CareerConfig,
                    {"professions": [job(stations=["z"])]},
                ),
                "professions[0].stations",
            ),
            "career",
        ),
        **dict.fromkeys(
            _messages(_problems(check_safety, SafetyConfig, {"ppe": {"z": ["helmet"]}}), "ppe"),
            "safety",
        ),
        **dict.fromkeys(
            _messages(
                _problems(
                    check_config, AudioGuideConfig, {"stations": [{"station": "z"}]}, "x.mp3"
                ),
                "stations[0].station",
            ),
            "audio_guide",
        ),
        **dict.fromkeys(
            _messages(
                _problems(
                    check_quests,
                    QuestsConfig,
                    {
                        "missions": [
                            {
                                "id": "m",
                                "station": "z",
                                "type": "code",
                                "question": TEXT,
                                "answers": ["1"],
                            }
                        ]
                    },
                ),
                "missions[0].station",
            ),
            "quests",
        ),
    }
    assert list(found) == ["There is no station {station} in this tour (stations: {stations})."]


def test_missing_language_duplicate_id_and_time_zone_read_alike():
    career = _problems(
        check_career,
        CareerConfig,
        {
            "professions": [
                job(title={"ru": "Токарь"}),
                job(),
            ]
        },
    )
    quests = _problems(
        check_quests,
        QuestsConfig,
        {
            "timezone": "Mars/Olympus",
            "missions": [
                {
                    "id": "m",
                    "station": "a",
                    "type": "code",
                    "question": {"ru": "?"},
                    "answers": ["1"],
                },
                {"id": "m", "station": "b", "type": "code", "question": TEXT, "answers": ["1"]},
            ],
        },
    )
    visits = _problems(check_visits, VisitsConfig, {"timezone": "Mars/Olympus"})
    assert _messages(career, "professions[0].title") == _messages(quests, "missions[0].question")
    assert _messages(career, "professions[1].id") == _messages(quests, "missions[1].id")
    assert _messages(quests, "timezone") == _messages(visits, "timezone") != set()


def test_the_shared_sentences_are_russian_for_every_plugin():
    """A plugin's catalog falls back to the core's: no plugin copies these sentences."""
    problems = _problems(check_safety, SafetyConfig, {"ppe": {"z": ["helmet"]}})
    problems += _problems(check_visits, VisitsConfig, {"timezone": "Mars/Olympus"})
    problems += _problems(check_career, CareerConfig, {"professions": [job(title={})]})
    translations = Translations(["ru"])
    for plugin in ("safety", "visits", "career", "quests", "audio_guide"):
        translations.add_domain(plugin, PLUGINS / plugin / "locale")
        _ = translations.translator("ru", plugin)
        for problem in problems:
            assert _(problem.message) != problem.message, (plugin, problem.message)
    assert {_(p.message).format(**p.values) for p in problems} == {
        "В этой экскурсии нет станции z (станции: a, b).",
        "«Mars/Olympus» не найден (пишите так: Europe/Moscow).",
        "Заполните на всех языках экскурсии (ru, en).",
    }
