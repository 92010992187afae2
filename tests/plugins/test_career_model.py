"""The career model without a server: quiz scoring, tour signals, the combined profile,
the ranking with reasons, the lead form checks, the CSV export, the demo catalogue and
the Russian catalog. Property tests (hypothesis) pin down what must hold for any input.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from promtour._i18n import Translations
from promtour._models import Station, Tour
from promtour._tours import load_tour_toml
from promtour.plugins.career import forms, views
from promtour.plugins.career.config import CareerConfig, Weights, validate_config
from promtour.plugins.career.export import leads_csv
from promtour.plugins.career.forms import LeadInput, check_lead, valid_contact
from promtour.plugins.career.leads import ConsentRecord, Lead
from promtour.plugins.career.profile import (
    Observation,
    Profile,
    Signals,
    apply_observation,
    build_profile,
    combine,
    fit,
    observe,
    rank_professions,
    tour_scores,
)
from promtour.plugins.career.reasons import format_reason
from promtour.plugins.career.riasec import CODES, holland_code, load_quiz, ranked_types, score_quiz

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "plugins" / "career"
QUIZ = load_quiz()
STATEMENTS = QUIZ.statements
IDS = [s.id for s in STATEMENTS]

answers_st = st.dictionaries(st.sampled_from(IDS), st.integers(0, 2))
scores_st = st.fixed_dictionaries({c: st.floats(0, 1) for c in CODES})


# --- The quiz -----------------------------------------------------------------------------


def test_quiz_has_five_statements_per_type_in_both_languages():
    assert len(STATEMENTS) == 30 and len(set(IDS)) == 30
    for code in CODES:
        assert sum(s.type == code for s in STATEMENTS) == 5
        info = QUIZ.type_info(code)
        assert info.name["ru"] and info.name["en"] and info.explain["ru"] and info.explain["en"]
    for s in STATEMENTS:
        assert s.text["ru"].strip() and s.text["en"].strip()
        assert len(s.text["en"]) <= 80, f"{s.id} is too long for a phone"
    # Interleaved: any six consecutive statements cover all six types.
    assert all(len({s.type for s in STATEMENTS[i : i + 6]}) == 6 for i in range(0, 30, 6))


@given(st.sampled_from(CODES), st.data())
def test_all_yes_for_one_type_puts_it_first(code, data):
    # "That's me" for every statement of one type, anything less for the others.
    answers = {
        s.id: 2 if s.type == code else data.draw(st.integers(0, 1), label=s.id) for s in STATEMENTS
    }
    scores = score_quiz(answers, STATEMENTS)
    assert scores[code] == 1.0
    assert ranked_types(scores)[0] == code
    assert holland_code(scores)[0] == code


@given(answers_st)
def test_scores_are_means_in_unit_range(answers):
    scores = score_quiz(answers, STATEMENTS)
    assert set(scores) == set(CODES)
    for code in CODES:
        given_ = [v for k, v in answers.items() if QUIZ_TYPES[k] == code]
        assert 0.0 <= scores[code] <= 1.0
        expected = sum(given_) / (2 * len(given_)) if given_ else 0.0
        assert scores[code] == pytest.approx(expected)


QUIZ_TYPES = {s.id: s.type for s in STATEMENTS}


@given(answers_st, st.sampled_from(IDS))
def test_raising_an_answer_raises_only_its_type(answers, sid):
    before = score_quiz(answers, STATEMENTS)
    raised = dict(answers)
    raised[sid] = min(answers.get(sid, 0) + 1, 2) if sid in answers else 2
    after = score_quiz(raised, STATEMENTS)
    code = QUIZ_TYPES[sid]
    assert after[code] >= before[code] or sid not in answers
    for other in CODES:
        if other != code:
            assert after[other] == before[other]


@given(answers_st)
def test_scoring_ignores_order_and_unknown_ids(answers):
    shuffled = dict(reversed(list(answers.items())))
    shuffled["not-a-statement"] = 2
    assert score_quiz(shuffled, STATEMENTS) == score_quiz(answers, STATEMENTS)


def test_skipped_and_out_of_range_answers():
    assert score_quiz({}, STATEMENTS) == dict.fromkeys(CODES, 0.0)
    assert holland_code(score_quiz({}, STATEMENTS)) == ""
    clamped = score_quiz({"q01": 7, "q02": -3}, STATEMENTS)
    assert clamped["R"] == 1.0 and clamped["I"] == 0.0


# --- Profile combination -----------------------------------------------------------------


@given(scores_st, scores_st, st.floats(0.01, 5), st.floats(0.01, 5))
def test_combined_profile_lies_between_its_sources(quiz, tour, wq, wt):
    weights = Weights(quiz=wq, tour=wt)
    combined = combine(quiz, tour, weights)
    for code in CODES:
        low, high = sorted((quiz[code], tour[code]))
        assert low - 1e-9 <= combined[code] <= high + 1e-9


@given(scores_st, scores_st)
def test_a_missing_source_leaves_the_other(quiz, tour):
    weights = Weights()
    assert combine(quiz, None, weights) == pytest.approx(quiz)
    if any(v > 0 for v in tour.values()):
        assert combine(None, tour, weights) == pytest.approx(tour)
    assert combine(None, None, weights) == dict.fromkeys(CODES, 0.0)
    assert combine(quiz, tour, Weights(quiz=1.0, tour=0.0)) == pytest.approx(quiz)


@given(st.floats(0, 1000), st.floats(0, 1000), st.floats(0.1, 20))
def test_tour_scores_saturate_and_keep_order(a, b, saturation):
    scores = tour_scores({"R": a, "I": b}, saturation)
    assert 0.0 <= scores["R"] < 1.0 and 0.0 <= scores["I"] < 1.0
    if a > b:
        assert scores["R"] >= scores["I"]


observation_st = st.builds(
    Observation,
    event_id=st.sampled_from([f"e{i}" for i in range(8)]),
    kind=st.sampled_from(["visit", "replay", "listen_progress", "listen_finished", "mission"]),
    station=st.sampled_from(["s1", "s2", "s3"]),
    mission=st.sampled_from(["m1", "m2"]),
    first_try=st.booleans(),
)


@given(st.lists(observation_st, max_size=20))
def test_signals_count_each_event_once(observations):
    # A consumer may see an event again (redelivery): the outcome must not change.
    once: Signals | None = None
    seen: set[str] = set()
    for obs in observations:
        if obs.event_id not in seen:
            seen.add(obs.event_id)
            once = apply_observation(once, obs)
    twice: Signals | None = None
    for obs in observations + observations:
        twice = apply_observation(twice, obs)
    if once is None:
        assert twice is None
    else:
        assert msgspec.to_builtins(twice) == msgspec.to_builtins(once)


# --- A small catalogue for ranking -------------------------------------------------------

TOUR = Tour(
    id="t",
    enterprise="e",
    name={"en": "T"},
    stations=[
        Station(id="s1", number=1, name={"en": "Press line", "ru": "Прессовая линия"}),
        Station(id="s2", number=2, name={"en": "CNC", "ru": "ЧПУ"}),
        Station(id="s3", number=3, name={"en": "Lab", "ru": "Лаборатория"}),
    ],
)


def text(en: str) -> dict[str, str]:
    return {"en": en, "ru": en + " (ru)"}


CONFIG = msgspec.convert(
    {
        "stations": {"s1": ["R"], "s2": ["I", "A"], "s3": ["C", "I"]},
        "missions": [{"id": "cnc-quiz", "tags": ["I"], "name": text("the CNC quiz")}],
        "professions": [
            {
                "id": p,
                "title": text(p),
                "summary": text(p),
                "stations": [s],
                "riasec": code,
            }
            for p, s, code in [
                ("operator", "s1", ["R", "C"]),
                ("programmer", "s2", ["I", "R", "C"]),
                ("designer", "s2", ["A", "I"]),
                ("inspector", "s3", ["C", "I"]),
                ("mentor", "s1", ["S", "E"]),
            ]
        ],
    },
    CareerConfig,
)


class FakeEvent(msgspec.Struct, kw_only=True):
    """A stand-in for another plugin's event: only the attribute names matter."""

    type: str
    id: str
    station: str | None = None
    visitor: str = "v"
    repeat: bool = False
    mission: str | None = None
    points: int = 0
    correct_first_try: bool = False
    track: str = ""
    quartile: int = 0


def ev(kind: str, eid: str, station: str | None = None, **fields) -> FakeEvent:
    return FakeEvent(type=kind, id=eid, station=station, **fields)


def english_plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


def signals_of(*events) -> Signals | None:
    signals = None
    for event in events:
        obs = observe(event)
        if obs is not None:
            signals = apply_observation(signals, obs)
    return signals


def test_observe_reads_other_plugins_events_by_name():
    assert observe(ev("visitor_checked_in", "1", "s1")).kind == "visit"
    assert observe(ev("visitor_checked_in", "2", "s1", repeat=True)).kind == "replay"
    assert observe(ev("audio_listen_progressed", "3", "s2", track="a", quartile=2)).kind == (
        "listen_progress"
    )
    assert observe(ev("audio_listen_finished", "4", "s2", track="a")).kind == "listen_finished"
    quest = observe(
        ev(
            "quest_mission_completed",
            "5",
            "s2",
            mission="cnc-quiz",
            points=10,
            correct_first_try=True,
        )
    )
    assert quest.mission == "cnc-quiz" and quest.first_try and quest.points == 10
    assert observe(ev("quest_mission_completed", "6", "s2")) is None  # no mission id
    assert observe(ev("audio_listen_finished", "7", None)) is None  # the tour's intro
    assert observe(ev("tour_finished", "8")) is None


def test_ranking_follows_the_profile_with_reasons():
    signals = signals_of(
        ev("visitor_checked_in", "1", "s1"),
        ev("visitor_checked_in", "2", "s2"),
        ev("visitor_checked_in", "3", "s2", repeat=True),
        ev("audio_listen_finished", "4", "s2", track="cnc"),
        ev("quest_mission_completed", "5", "s2", mission="cnc-quiz", correct_first_try=True),
    )
    quiz = score_quiz({s.id: 2 if s.type in "IR" else 0 for s in STATEMENTS}, STATEMENTS)
    profile = build_profile(quiz, signals, CONFIG)
    assert ranked_types(profile.scores)[0] == "I"
    ranked = rank_professions(CONFIG, profile, signals)
    assert ranked[0].profession.id == "programmer"
    assert [m.fit for m in ranked] == sorted((m.fit for m in ranked), reverse=True)
    reason = ranked[0].reason
    assert reason.type == "I" and reason.interests == ["I", "R"]
    assert reason.stations == ["s2"] and reason.visited and reason.lingered
    assert reason.missions == ["cnc-quiz"]
    en = Translations(["en"]).translator("en")
    line = format_reason(
        reason, _=en, ngettext=english_plural, lang="en", quiz=QUIZ, tour=TOUR, config=CONFIG
    )
    assert line == (
        "Works at the “CNC” station, where you spent time; there you completed 1 mission: "
        "the CNC quiz; your quiz answers lean to investigating how things work and hands-on "
        "work with machines."
    )


def test_profile_from_the_tour_alone_and_none_at_all():
    signals = signals_of(
        ev("visitor_checked_in", "1", "s3"),
        ev("visitor_checked_in", "2", "s3", repeat=True),
        ev("audio_listen_progressed", "3", "s3", quartile=1),
    )
    profile = build_profile(None, signals, CONFIG)
    assert profile.quiz is None and set(holland_code(profile.scores)) == {"C", "I"}
    top = rank_professions(CONFIG, profile, signals)[0]
    assert top.profession.id == "inspector" and not top.reason.quiz
    empty = build_profile(None, None, CONFIG)
    assert empty.empty
    assert [m.profession.id for m in rank_professions(CONFIG, empty)] == [
        p.id for p in CONFIG.professions
    ]
    assert all(m.reason is None for m in rank_professions(CONFIG, empty))


@given(scores_st)
def test_fit_is_a_weighted_mean(scores):
    for code in (["R"], ["I", "R"], ["A", "S", "E"]):
        value = fit(scores, code)
        assert min(scores[c] for c in code) - 1e-9 <= value <= max(scores[c] for c in code) + 1e-9
    profile = Profile(scores=scores)
    ranked = rank_professions(CONFIG, profile)
    assert [m.fit for m in ranked] == sorted((m.fit for m in ranked), reverse=True)


def test_reasons_in_russian():
    ru = Translations(["ru"])
    ru.add_domain("career", PLUGIN / "locale")
    _ = ru.translator("ru", "career")
    signals = signals_of(ev("visitor_checked_in", "1", "s1", repeat=True))
    quiz = score_quiz({s.id: 2 if s.type == "R" else 0 for s in STATEMENTS}, STATEMENTS)
    profile = build_profile(quiz, signals, CONFIG)
    match = rank_professions(CONFIG, profile, signals)[0]
    ngettext = ru.plural_translator("ru", "career")
    line = format_reason(
        match.reason, _=_, ngettext=ngettext, lang="ru", quiz=QUIZ, tour=TOUR, config=CONFIG
    )
    assert line == (
        "Работает на станции «Прессовая линия», где вы задержались; "
        "по ответам теста вас тянет к работе с техникой своими руками."
    )


# --- The lead form -----------------------------------------------------------------------

LEAD_CONFIG = msgspec.convert(
    {
        "professions": CONFIG.professions and msgspec.to_builtins(CONFIG.professions),
        "consent": {"version": "v1", "text": text("We keep it.")},
    },
    CareerConfig,
)


def fields(errors) -> set[str]:
    return {e.field for e in errors}


def test_lead_needs_consent_and_a_guardian_under_18():
    adult = LeadInput(name="Anna", contact="anna@example.org", age="18plus", consent=True)
    assert check_lead(adult, LEAD_CONFIG) == []
    no_consent = msgspec.structs.replace(adult, consent=False)
    (error,) = check_lead(no_consent, LEAD_CONFIG)
    assert error.field == "consent" and "consent" in error.message
    minor = msgspec.structs.replace(adult, age="16-17")
    assert fields(check_lead(minor, LEAD_CONFIG)) == {
        "guardian_name",
        "guardian_contact",
        "guardian_consent",
    }
    with_guardian = msgspec.structs.replace(
        minor, guardian_name="Olga", guardian_contact="+7 912 000-11-22", guardian_consent=True
    )
    assert check_lead(with_guardian, LEAD_CONFIG) == []
    bad = LeadInput(contact="nope", age="12", professions=["astronaut"], place="x" * 121)
    assert fields(check_lead(bad, LEAD_CONFIG)) == {
        "name",
        "contact",
        "age",
        "place",
        "professions",
        "consent",
    }


@pytest.mark.parametrize(
    ("contact", "ok"),
    [
        ("anna@example.org", True),
        ("+7 (912) 345-67-89", True),
        ("89123456789", True),
        ("anna@", False),
        ("12345", False),
        ("call me maybe", False),
        ("", False),
    ],
)
def test_contact_is_a_phone_or_an_email(contact, ok):
    assert valid_contact(contact) is ok


def lead(name: str, contact: str, **kw) -> Lead:
    from datetime import UTC, datetime

    now = datetime(2025, 6, 1, tzinfo=UTC)
    base = {
        "id": "a" * 24,
        "enterprise": "e",
        "tour": "t",
        "created": now,
        "expires": now,
        "status": "active",
        "name": name,
        "contact": contact,
        "age": "18plus",
        "consent": ConsentRecord(version="v1", lang="ru", text_sha256="x", given=now),
        "secret_sha256": "s",
    }
    base.update(kw)
    return Lead(**base)


def test_csv_has_bom_separator_and_no_formulas():
    leads = [
        lead("Анна Смирнова", "+7 912 345-67-89", professions=["operator"]),
        lead('=HYPERLINK("x")', "@evil", place="Екатеринбург; школа 5"),
    ]
    body = leads_csv(leads, lambda lead: ["Оператор"] if lead.professions else [], separator=";")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:5] == ["id", "created", "expires", "name", "contact"]
    assert rows[1][3] == "Анна Смирнова" and rows[1][4] == "+7 912 345-67-89"
    assert rows[1][7] == "Оператор"
    assert rows[2][3].startswith("'=") and rows[2][4] == "'@evil"
    assert rows[2][6] == "Екатеринбург; школа 5"  # quoted, not split
    comma = leads_csv(leads, lambda lead: [])
    assert comma.splitlines()[0].count(",") == 14


# --- The demo catalogue and the translations ---------------------------------------------


def test_demo_catalogue_is_valid_and_complete():
    tour_file = load_tour_toml(ROOT / "config" / "demo" / "tours" / "main.toml")
    tour = tour_file.tour
    config = msgspec.convert(tour.plugins["career"], CareerConfig, str_keys=True)
    assert validate_config(tour, config) == []
    assert len(config.professions) >= 6
    for station in tour.stations:
        assert config.at_station(station.id), f"no profession at {station.id}"
        assert config.stations.get(station.id), f"no RIASEC tags for {station.id}"
    for p in config.professions:
        for lang in ("ru", "en"):
            assert p.title[lang] and p.summary[lang] and p.shifts[lang]
            assert p.skills.get(lang), p.id
        assert p.education and p.pay is not None and p.pay.currency == "RUB"
    assert {s.kind for s in config.next_steps} >= {"open_day", "internship", "college"}
    assert config.leads_enabled and config.consent.text["ru"] and config.consent.text["en"]
    # The missions it tags are the demo quest's (matched by id in quest events).
    quest_missions = {m["id"] for m in tour.plugins.get("quests", {}).get("missions", [])}
    if quest_missions:
        assert {m.id for m in config.missions} <= quest_missions


def test_config_errors_name_the_profession_and_station():
    bad = msgspec.convert(
        {
            "stations": {"nowhere": ["R"]},
            "professions": [
                {
                    "id": "x",
                    "title": {"en": "X"},
                    "summary": text("x"),
                    "stations": ["s9"],
                    "riasec": ["R"],
                    "pay": {"min": 10, "max": 5},
                }
            ],
            "consent": {"text": {"en": "only english"}},
        },
        CareerConfig,
    )
    tour = msgspec.structs.replace(TOUR, languages=["ru", "en"])
    errors = "\n".join(map(str, validate_config(tour, bad)))
    assert "professions[0].stations: There is no station s9 in this tour (stations:" in errors
    assert "professions[0].title: Not filled in for: ru." in errors
    assert "professions[0].pay.min" in errors and "stations.nowhere" in errors
    assert "consent.version" in errors and "consent.text: Not filled in for: ru." in errors
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"professions": [{"id": "y", "riasec": ["Q"]}]}, CareerConfig)


def _msgids() -> set[str]:
    found: set[str] = set()
    for path in [*PLUGIN.rglob("*.html"), *PLUGIN.rglob("*.py")]:
        source = path.read_text(encoding="utf-8")
        for m in re.finditer(r'_\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\)', source):
            found.add("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))))
        for m in re.finditer(r'message=((?:"(?:[^"\\]|\\.)*"\s*)+)', source):
            found.add("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))))
        for m in re.finditer(r'FieldError\(\s*"\w+",\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\)', source):
            found.add("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))))
    found |= set(views.LEVELS.values()) | set(views.STEP_KINDS.values())
    found |= set(forms.AGE_LABELS.values())
    return {m.replace("\\'", "'") for m in found}


def test_every_string_has_a_russian_translation():
    from babel.messages.pofile import read_po

    with (PLUGIN / "locale" / "ru" / "LC_MESSAGES" / "career.po").open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id for m in catalog if m.id and m.string}
    missing = sorted(_msgids() - translated)
    assert not missing, f"missing Russian translations: {missing}"
    assert len(_msgids()) > 100


@settings(max_examples=30)
@given(st.text(max_size=40))
def test_any_form_text_gives_errors_never_exceptions(value):
    data = LeadInput(name=value, contact=value, age=value, place=value, guardian_contact=value)
    check_lead(data, LEAD_CONFIG)


def test_quiz_toml_round_trips():
    raw = tomllib.loads((PLUGIN / "data" / "quiz.toml").read_text(encoding="utf-8"))
    assert len(raw["statements"]) == 30 and len(raw["types"]) == 6
