"""Quest authoring: a bad mission is refused on import with its station and mission
named; the demo tour's quest validates; the rules that need no server; every string
of the plugin has a Russian translation."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import promtour.plugins.quests as quests_plugin
import pytest
from babel.messages.pofile import read_po
from promtour._errors import ConfigError
from promtour._manager import PluginManager
from promtour._models import Enterprise, Station, Tour
from promtour._tours import load_tour_toml
from promtour.plugins.quests import engine
from promtour.plugins.quests.config import OrderMission, QuestsConfig
from promtour.plugins.quests.nicknames import NicknameError, check_nickname
from promtour.plugins.quests.records import MissionState
from promtour.plugins.quests.validate import validate
from promtour.testing import unique

#: Only this plugin: the tests see its panels and routes and nobody else's.
PLUGINS = [("quests", quests_plugin)]

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "plugins" / "quests"
DEMO_TOUR = ROOT / "config" / "demo" / "tours" / "main.toml"


def t(text: str) -> dict[str, str]:
    return {"en": text, "ru": f"RU {text}"}


def single(mid: str = "pick", station: str = "s1", **fields: object) -> dict[str, object]:
    mission: dict[str, object] = {
        "id": mid,
        "station": station,
        "type": "single",
        "question": t("Which?"),
        "choices": [{"text": t("A")}, {"text": t("B"), "correct": True}],
    }
    mission.update(fields)
    return mission


BAD = [
    (single(station="foundry"), "missions[0].station: There is no station foundry"),
    (
        single(choices=[{"text": t("A"), "correct": True}, {"text": t("B"), "correct": True}]),
        "missions[0].choices: Mark exactly one choice as the right one (marked now: 2)",
    ),
    (single(question={"ru": "Какой?"}), "missions[0].question: Not filled in for: en."),
    (
        single(explanation={"en": "x", "ru": "y", "de": "z"}),
        "missions[0].explanation: de: not a language of this tour (ru, en)",
    ),
    (
        {
            "id": "where",
            "station": "s2",
            "type": "riddle",
            "question": t("?"),
            "answer_station": "s9",
        },
        "missions[0].answer_station: There is no station s9 in this tour (stations:",
    ),
    (
        {"id": "code", "station": "s3", "type": "code", "question": t("?"), "answers": [" "]},
        "missions[0].answers: Give at least one accepted answer.",
    ),
    (
        {"id": "steps", "station": "s1", "type": "order", "question": t("?"), "steps": [t("one")]},
        "missions[0].steps: Give between two and ten steps",
    ),
]


async def test_bad_mission_config_is_refused_on_import_naming_the_field(make_platform, new_tour):
    platform = await make_platform(entrypoints=False, plugins=PLUGINS, consumers=False)
    for mission, message in BAD:
        with pytest.raises(ConfigError) as refused:
            await new_tour(platform, plugins={"quests": {"missions": [mission]}})
        assert "plugin 'quests'" in str(refused.value)
        assert message in str(refused.value), (message, str(refused.value))


async def test_a_tour_file_with_a_bad_mission_is_refused_by_import(make_platform, tmp_path):
    platform = await make_platform(entrypoints=False, plugins=PLUGINS, consumers=False)
    enterprise = unique("ent")
    await platform.import_enterprise(Enterprise(id=enterprise, name=t("Works")))
    path = tmp_path / "tour.toml"
    path.write_text(
        f"""
id = "{unique("tour")}"
enterprise = "{enterprise}"
name = {{ en = "Tour", ru = "Тур" }}

[[stations]]
id = "press"
number = 1
name = {{ en = "Press", ru = "Пресс" }}

[[plugins.quests.missions]]
id = "plate"
station = "press"
type = "code"
question = {{ en = "Which year is on the plate?" }}
answers = ["1989"]
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as refused:
        await platform.import_tour(load_tour_toml(path))
    assert "missions[0].question: Not filled in for: ru." in str(refused.value)


async def test_schema_errors_and_duplicates_are_refused(make_platform, new_tour):
    platform = await make_platform(entrypoints=False, plugins=PLUGINS, consumers=False)
    with pytest.raises(ConfigError, match=r"Invalid value 'essay'.*missions\[0\]"):
        await new_tour(platform, plugins={"quests": {"missions": [single(type="essay")]}})
    with pytest.raises(ConfigError, match=r"Expected `int`.*missions\[0\].points"):
        await new_tour(platform, plugins={"quests": {"missions": [single(points="ten")]}})
    with pytest.raises(ConfigError, match=r"missions\[1\].id: The id pick is used twice"):
        await new_tour(platform, plugins={"quests": {"missions": [single(), single()]}})
    with pytest.raises(ConfigError, match="timezone: “Mars/Olympus” is not a known zone name"):
        await new_tour(platform, plugins={"quests": {"timezone": "Mars/Olympus"}})
    # A good config is stored: the tour exists afterwards.
    tour = await new_tour(platform, plugins={"quests": {"missions": [single()]}})
    assert (await platform.tours.get(tour.key)) is not None


def test_the_demo_quest_validates_in_both_languages():
    tour = load_tour_toml(DEMO_TOUR).tour
    config = PluginManager(load_entrypoints=False, plugins=PLUGINS).convert_config(
        "quests", tour.plugins["quests"]
    )
    assert validate(tour, config) == []
    assert tour.languages == ["ru", "en"]
    stations = {m.station for m in config.missions}
    assert stations == {"warehouse", "press", "welding", "cnc", "qc"}
    kinds = {m.__struct_config__.tag for m in config.missions}
    assert len(kinds) >= 3, kinds
    assert all(set(m.question) == {"ru", "en"} for m in config.missions)


# --- rules without a server -----------------------------------------------------------


def tour_of(n: int = 3) -> Tour:
    return Tour(
        id="t",
        enterprise="e",
        name=t("T"),
        stations=[Station(id=f"s{i}", number=i, name=t(f"S{i}")) for i in range(1, n + 1)],
    )


def test_codes_compare_without_case_spaces_dashes_or_lookalike_letters():
    assert engine.normalize_code(" КР-1000 ") == engine.normalize_code("kp1000")
    assert engine.normalize_code("2,5") == engine.normalize_code("2.5")
    assert engine.normalize_code("25") != engine.normalize_code("2.5")


def test_order_steps_are_never_shown_in_their_right_order():
    mission = msgspec.convert(
        {
            "id": "o",
            "station": "s1",
            "type": "order",
            "question": t("?"),
            "steps": [t("a"), t("b")],
        },
        OrderMission,
    )
    for n in range(200):
        shown = [index for _, index in engine.display_options(f"visitor-key-{n}", mission)]
        assert sorted(shown) == [0, 1] and shown != [0, 1]


def test_the_award_takes_off_hints_and_wrong_answers_and_adds_the_time_bonus():
    config = msgspec.convert(
        {
            "wrong_answer_cost": 2,
            "missions": [
                single(
                    points=10,
                    hints=[{"text": t("h1"), "cost": 3}, {"text": t("h2"), "cost": 4}],
                    time_bonus={"seconds": 60, "points": 5},
                )
            ],
        },
        QuestsConfig,
    )
    mission = config.missions[0]
    now = datetime.now(UTC)
    fresh = MissionState(opened=now - timedelta(seconds=30), attempts=1)
    assert engine.award(config, mission, fresh, now) == 15
    late = MissionState(opened=now - timedelta(seconds=61), attempts=3, hints=2)
    assert engine.award(config, mission, late, now) == 0  # never below zero


def test_nicknames():
    assert check_nickname("  Steel   Fox ") == "Steel Fox"
    assert check_nickname("Команда 7Б") == "Команда 7Б"
    for bad in (
        "ab",
        "x" * 21,
        "<script>",
        "Сука",
        "c y k a",
        "SHIT",
        "Пи3дец",
        "admin",
        "1234567",
    ):
        with pytest.raises(NicknameError):
            check_nickname(bad)


# --- translations -----------------------------------------------------------------------


def used_strings() -> set[str]:
    """Every English source string of the plugin: ``_("...")`` in templates and code,
    and the messages of its user-facing errors and built-in badge texts."""
    used: set[str] = set()
    for path in (PLUGIN / "templates").glob("*.html"):
        used |= {m[1] for m in re.findall(r"""_\(\s*(["'])(.+?)\1\s*\)""", path.read_text())}
    calls = {"_", "AnswerError", "NicknameError", "TeamError"}
    for path in PLUGIN.glob("*.py"):
        # The config checks' messages, shown in the console (Problem(message=...)).
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Problem":
                used |= {
                    str(k.value.value)
                    for k in node.keywords
                    if k.arg == "message" and isinstance(k.value, ast.Constant)
                }
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and node.args:
                func = node.func
                name = getattr(func, "id", None) or getattr(func, "attr", None)
                first = node.args[0]
                if name in calls and isinstance(first, ast.Constant):
                    used.add(str(first.value))
            if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "BADGE_TEXTS":
                assert isinstance(node.value, ast.Dict)
                for value in node.value.values:
                    assert isinstance(value, ast.Tuple)
                    used |= {str(e.value) for e in value.elts if isinstance(e, ast.Constant)}
    return used


def test_every_string_has_a_russian_translation():
    with (PLUGIN / "locale" / "ru" / "LC_MESSAGES" / "quests.po").open("rb") as fh:
        catalog = read_po(fh)
    used = used_strings()
    assert len(used) > 80
    missing = sorted(m for m in used if not (catalog.get(m) and catalog.get(m).string))
    assert not missing, f"quest strings without a Russian translation: {missing}"
    for message in catalog:
        if message.id and message.string:
            slots = set(re.findall(r"\{\w+\}", str(message.id)))
            assert slots == set(re.findall(r"\{\w+\}", str(message.string))), message.id
