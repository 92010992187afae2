"""What a schema cannot check in a tour's quest config: stations that exist, texts in
exactly the tour's languages, a single-choice mission with exactly one right answer.

Every problem is a :class:`~promtour.plugin.Problem`: an English msgid with values,
translated by the console with this plugin's catalog, and the path of the field as
msgspec names it (``missions[0].choices``), which the console shows as its form labels
it («Задания › Задание 1 › Варианты») and the CLI prints as it is.
"""

from __future__ import annotations

from promtour.plugin import (
    Problem,
    Tour,
    check_languages,
    check_station,
    check_text,
    check_timezone,
    check_unique,
    hookimpl,
)

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
    """A quest text must be in exactly the tour's languages: none missing (or, when
    optional, none at all) and none the tour does not have."""
    problems = check_text(text, languages, path, required=required)
    return problems + check_languages(text, languages, path)


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
        unknown = check_station(tour, mission.answer_station, path)
        problems += unknown
        if not unknown and mission.answer_station == mission.station:
            problems.append(
                Problem(path=path, message="The answer must be another station than the riddle's.")
            )
    return problems


@hookimpl(specname="promtour_validate_config")
def validate(tour: Tour, config: QuestsConfig) -> list[Problem]:
    """Every problem of ``config`` for ``tour``, each with the path of its field."""
    problems: list[Problem] = []
    if len(config.missions) > MAX_MISSIONS:
        problems.append(
            Problem(
                path="missions",
                message="At most {n} missions per tour.",
                values={"n": MAX_MISSIONS},
            )
        )
    problems += check_unique([m.id for m in config.missions], "missions")
    for i, mission in enumerate(config.missions):
        where = f"missions[{i}]"
        problems += check_station(tour, mission.station, f"{where}.station")
        problems += _mission(mission, where, tour)
    problems += check_unique([b.id for b in config.badges], "badges")
    for i, badge in enumerate(config.badges):
        where = f"badges[{i}]"
        problems += text_problems(badge.name, tour.languages, f"{where}.name", required=False)
        problems += text_problems(
            badge.description, tour.languages, f"{where}.description", required=False
        )
    problems += text_problems(config.intro, tour.languages, "intro", required=False)
    problems += check_timezone(config.timezone, "timezone")
    return problems
