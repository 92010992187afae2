"""What a schema cannot check in a tour's quest config: stations that exist, texts in
exactly the tour's languages, a single-choice mission with exactly one right answer.

Every problem is a :class:`~promtour.plugin.Problem`: an English msgid with values,
translated by the console with this plugin's catalog, and the path of the field as
msgspec names it (``missions[0].choices``), which the console shows as its form labels
it («Задания › Задание 1 › Варианты») and the CLI prints as it is.
"""

from __future__ import annotations

import zoneinfo

from promtour.plugin import Problem, Tour

from .config import (
    MAX_MISSIONS,
    CodeMission,
    Mission,
    MultipleChoice,
    OrderMission,
    QuestsConfig,
    RiddleMission,
    SingleChoice,
    Text,
)

__all__ = ["text_problems", "validate"]


def text_problems(text: Text, languages: list[str], path: str, *, required: bool) -> list[Problem]:
    """A text given in other languages than the tour's (or, if required, not at all)."""
    shown = ", ".join(languages)
    if not text:
        if not required:
            return []
        return [
            Problem(
                path=path,
                message="Fill this in, in every language of the tour ({languages}).",
                values={"languages": shown},
            )
        ]
    problems = []
    missing = [lang for lang in languages if not (text.get(lang) or "").strip()]
    extra = sorted(set(text) - set(languages))
    if missing:
        problems.append(
            Problem(
                path=path,
                message="Not filled in for: {missing}.",
                values={"missing": ", ".join(missing)},
            )
        )
    if extra:
        problems.append(
            Problem(
                path=path,
                message="{extra}: not a language of this tour ({languages}).",
                values={"extra": ", ".join(extra), "languages": shown},
            )
        )
    return problems


def _choices(mission: SingleChoice | MultipleChoice, where: str) -> list[Problem]:
    path = f"{where}.choices"
    problems = []
    if len(mission.choices) < 2:
        problems.append(Problem(path=path, message="Give at least two choices."))
    if len(mission.choices) > 12:
        problems.append(Problem(path=path, message="Give at most twelve choices."))
    right = sum(c.correct for c in mission.choices)
    if isinstance(mission, SingleChoice) and right != 1:
        problems.append(
            Problem(
                path=path,
                message="Mark exactly one choice as the right one (marked now: {n}).",
                values={"n": right},
            )
        )
    if isinstance(mission, MultipleChoice) and right < 1:
        problems.append(Problem(path=path, message="Mark at least one choice as right."))
    return problems


def _mission(mission: Mission, where: str, tour: Tour) -> list[Problem]:
    langs = tour.languages
    problems = text_problems(mission.question, langs, f"{where}.question", required=True)
    problems += text_problems(mission.title, langs, f"{where}.title", required=False)
    problems += text_problems(mission.explanation, langs, f"{where}.explanation", required=False)
    for n, hint in enumerate(mission.hints):
        problems += text_problems(hint.text, langs, f"{where}.hints[{n}].text", required=True)
    if isinstance(mission, SingleChoice | MultipleChoice):
        problems += _choices(mission, where)
        for n, choice in enumerate(mission.choices):
            path = f"{where}.choices[{n}].text"
            problems += text_problems(choice.text, langs, path, required=True)
    elif isinstance(mission, CodeMission):
        path = f"{where}.answers"
        if not [a for a in mission.answers if a.strip()]:
            problems.append(Problem(path=path, message="Give at least one accepted answer."))
        if any(len(a) > 100 for a in mission.answers):
            problems.append(Problem(path=path, message="An answer is longer than 100 characters."))
    elif isinstance(mission, OrderMission):
        if not 2 <= len(mission.steps) <= 10:
            problems.append(
                Problem(
                    path=f"{where}.steps",
                    message="Give between two and ten steps, in the right order.",
                )
            )
        for n, step in enumerate(mission.steps):
            problems += text_problems(step, langs, f"{where}.steps[{n}]", required=True)
    elif isinstance(mission, RiddleMission):
        path = f"{where}.answer_station"
        if tour.station(mission.answer_station) is None:
            problems.append(
                Problem(
                    path=path,
                    message="There is no station {station} in this tour.",
                    values={"station": mission.answer_station},
                )
            )
        elif mission.answer_station == mission.station:
            problems.append(
                Problem(path=path, message="The answer must be another station than the riddle's.")
            )
    return problems


def validate(tour: Tour, config: QuestsConfig) -> list[Problem]:
    """Every problem of ``config`` for ``tour``, each with the path of its field."""
    problems: list[Problem] = []
    station_ids = [s.id for s in tour.stations]
    if len(config.missions) > MAX_MISSIONS:
        problems.append(
            Problem(
                path="missions",
                message="At most {n} missions per tour.",
                values={"n": MAX_MISSIONS},
            )
        )
    seen: set[str] = set()
    for i, mission in enumerate(config.missions):
        where = f"missions[{i}]"
        if mission.id in seen:
            problems.append(
                Problem(
                    path=f"{where}.id",
                    message="The mission id {id} is used twice.",
                    values={"id": mission.id},
                )
            )
        seen.add(mission.id)
        if mission.station not in station_ids:
            problems.append(
                Problem(
                    path=f"{where}.station",
                    message="There is no station {station} in this tour (stations: {stations}).",
                    values={"station": mission.station, "stations": ", ".join(station_ids)},
                )
            )
        problems += _mission(mission, where, tour)
    badge_ids: set[str] = set()
    for i, badge in enumerate(config.badges):
        where = f"badges[{i}]"
        if badge.id in badge_ids:
            problems.append(
                Problem(
                    path=f"{where}.id",
                    message="The badge id {id} is used twice.",
                    values={"id": badge.id},
                )
            )
        badge_ids.add(badge.id)
        problems += text_problems(badge.name, tour.languages, f"{where}.name", required=False)
        problems += text_problems(
            badge.description, tour.languages, f"{where}.description", required=False
        )
    problems += text_problems(config.intro, tour.languages, "intro", required=False)
    try:
        zoneinfo.ZoneInfo(config.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.append(
            Problem(
                path="timezone",
                message="{zone} is not a known time zone (e.g. Europe/Moscow).",
                values={"zone": config.timezone},
            )
        )
    return problems
