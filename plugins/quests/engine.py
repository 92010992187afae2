"""The quest's rules as pure functions: checking answers, points, order, badges.

Nothing here touches NATS or HTTP, so each rule is easy to read and to test.

Right answers never reach the browser. Choices, steps and stations are sent with
opaque values (an HMAC, under a key derived from a per-tour server secret and the
visitor, of the mission and the config index),
shown in an order derived from those values, so neither a value nor the position of
an option tells which one is right, and an order mission is never shown in its
right order.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
import zoneinfo
from collections.abc import Iterable
from datetime import datetime

from promtour.plugin import Progress, Station, Tour
from promtour.plugins.quests.config import (
    Badge,
    CodeMission,
    Mission,
    MultipleChoice,
    OrderMission,
    QuestsConfig,
    RiddleMission,
    SingleChoice,
)
from promtour.plugins.quests.records import MissionState, VisitorState

__all__ = [
    "AnswerError",
    "Availability",
    "Form",
    "answer_digest",
    "availability",
    "award",
    "display_options",
    "earned_badges",
    "evaluate",
    "first_seen",
    "local_day",
    "max_attempts",
    "max_score",
    "normalize_code",
    "option_token",
    "quest_missions",
    "riddle_stations",
]

#: A parsed form: every field with all its values.
Form = dict[str, list[str]]

# Cyrillic letters that look like Latin ones, read as Latin in typed codes.
_LOOKALIKES = str.maketrans(
    {
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
    }
)
_DROP = str.maketrans("", "", " \t\n-‐‑‒–—_")


class AnswerError(Exception):
    """The form holds no usable answer (nothing chosen, an unknown value): not counted."""

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message)
        self.message = message
        self.values = values


def normalize_code(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    return text.translate(_DROP).replace(",", ".").translate(_LOOKALIKES)


def option_token(key: str, mission: str, kind: str, index: int) -> str:
    """The opaque value of option ``index`` of a mission for one visitor."""
    mac = hmac.new(key.encode(), f"{mission}:{kind}:{index}".encode(), hashlib.sha256)
    return mac.hexdigest()[:12]


def display_options(key: str, mission: Mission) -> list[tuple[str, int]]:
    """``(token, config index)`` of a mission's choices or steps, in display order."""
    if isinstance(mission, SingleChoice | MultipleChoice):
        kind, count = "c", len(mission.choices)
    elif isinstance(mission, OrderMission):
        kind, count = "s", len(mission.steps)
    else:
        return []
    options = sorted((option_token(key, mission.id, kind, i), i) for i in range(count))
    if kind == "s" and [i for _, i in options] == list(range(count)):
        # Never show the steps already in their right order.
        options = options[1:] + options[:1]
    return options


def _one(form: Form, name: str) -> str:
    values = form.get(name) or [""]
    return values[0].strip()


def evaluate(mission: Mission, form: Form, key: str, tour: Tour) -> tuple[str, bool]:
    """Read the answer from ``form``: ``(canonical answer, correct)``.

    Raises :class:`AnswerError` when there is no answer to count."""
    if isinstance(mission, SingleChoice):
        tokens = {t: i for t, i in display_options(key, mission)}
        picked = _one(form, "choice")
        if picked not in tokens:
            raise AnswerError("Choose an answer.")
        index = tokens[picked]
        return f"c:{index}", mission.choices[index].correct
    if isinstance(mission, MultipleChoice):
        tokens = {t: i for t, i in display_options(key, mission)}
        picked_set = {tokens[v] for v in form.get("choice", []) if v in tokens}
        if not picked_set:
            raise AnswerError("Choose at least one answer.")
        right = {i for i, c in enumerate(mission.choices) if c.correct}
        return "m:" + ",".join(map(str, sorted(picked_set))), picked_set == right
    if isinstance(mission, CodeMission):
        typed = _one(form, "answer")
        if not typed:
            raise AnswerError("Type the answer.")
        if len(typed) > 100:
            raise AnswerError("This answer is too long.")
        code = normalize_code(typed)
        accepted = {normalize_code(a) for a in mission.answers if a.strip()}
        return f"t:{code}", code in accepted
    if isinstance(mission, OrderMission):
        count = len(mission.steps)
        positions: list[int] = []
        for token, _ in sorted(display_options(key, mission), key=lambda o: o[1]):
            value = _one(form, f"p-{token}")
            positions.append(int(value) if value.isdigit() else 0)
        if sorted(positions) != list(range(1, count + 1)):
            raise AnswerError("Give every step a different number from 1 to {count}.", count=count)
        order = [index for _, index in sorted(zip(positions, range(count), strict=True))]
        return "o:" + ",".join(map(str, order)), order == list(range(count))
    if isinstance(mission, RiddleMission):
        picked = _one(form, "station")
        offered = {s.id for s in riddle_stations(tour, mission)}
        if picked not in offered:
            raise AnswerError("Choose a station.")
        return f"r:{picked}", picked == mission.answer_station
    raise AnswerError("This mission cannot be answered.")  # pragma: no cover


def riddle_stations(tour: Tour, mission: RiddleMission) -> list[Station]:
    """The stations offered as answers to a riddle: all but the riddle's own."""
    return [s for s in tour.stations if s.id != mission.station]


def answer_digest(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def max_attempts(config: QuestsConfig, mission: Mission) -> int:
    return mission.max_attempts or config.max_attempts


def award(config: QuestsConfig, mission: Mission, state: MissionState, now: datetime) -> int:
    """Points for a right answer now: the mission's points less hint costs and the
    wrong-answer cost (never below zero), plus the time bonus if it is still on."""
    wrong = max(state.attempts - 1, 0)
    cost = sum(h.cost for h in mission.hints[: state.hints]) + config.wrong_answer_cost * wrong
    points = max(mission.points - cost, 0)
    bonus = mission.time_bonus
    if bonus and state.opened and (now - state.opened).total_seconds() <= bonus.seconds:
        points += bonus.points
    return points


def first_seen(
    config: QuestsConfig, mission: Mission, progress: Progress | None
) -> datetime | None:
    """When the visitor first saw ``mission`` open, as far as the check-ins tell.

    In free order a mission opens with the first check-in at its station, and that
    check-in's page shows it: while it is the only check-in there (a double tap does
    not count), ``Progress.last_scan`` holds its time, so the time bonus can count from
    it without a write of its own. ``None`` when the check-ins do not tell (fixed order,
    a re-scan since): then the time was written when the mission was first shown."""
    if config.order != "free" or progress is None:
        return None
    if progress.scans.get(mission.station) != 1:
        return None
    return progress.last_scan.get(mission.station)


def max_score(config: QuestsConfig, tour: Tour) -> int:
    return sum(
        m.points + (m.time_bonus.points if m.time_bonus else 0)
        for m in quest_missions(config, tour)
    )


def quest_missions(config: QuestsConfig, tour: Tour) -> list[Mission]:
    """The missions that count: those at enabled stations, in tour order."""
    order = {s.id: n for n, s in enumerate(tour.stations) if s.enabled}
    missions = [m for m in config.missions if m.station in order]
    return sorted(missions, key=lambda m: order[m.station])


class Availability:
    OPEN = "open"
    SOLVED = "solved"
    FAILED = "failed"
    #: The visitor has not checked in at the mission's station.
    NEEDS_CHECKIN = "needs_checkin"
    #: Fixed order: a previous station's missions are not closed yet.
    WAITS = "waits"


def availability(
    config: QuestsConfig,
    tour: Tour,
    mission: Mission,
    state: VisitorState | None,
    visited: Iterable[str],
) -> tuple[str, str | None]:
    """The mission's status for a visitor, and for ``WAITS`` the station it waits for."""
    ms = state.missions.get(mission.id) if state else None
    if ms is not None and ms.solved:
        return Availability.SOLVED, None
    if ms is not None and ms.failed:
        return Availability.FAILED, None
    if mission.station not in set(visited):
        return Availability.NEEDS_CHECKIN, None
    if config.order == "fixed":
        blocking = previous_station(config, tour, mission.station)
        if blocking is not None:
            for other in config.missions_at(blocking):
                other_state = state.missions.get(other.id) if state else None
                if other_state is None or not other_state.closed:
                    return Availability.WAITS, blocking
    return Availability.OPEN, None


def previous_station(config: QuestsConfig, tour: Tour, station: str) -> str | None:
    """In fixed order: the previous enabled station (tour order) that has missions."""
    with_missions = [
        s.id for s in tour.stations if s.enabled and (config.missions_at(s.id) or s.id == station)
    ]
    index = with_missions.index(station) if station in with_missions else 0
    return with_missions[index - 1] if index > 0 else None


def all_closed(config: QuestsConfig, tour: Tour, state: VisitorState) -> bool:
    missions = quest_missions(config, tour)
    return bool(missions) and all(
        m.id in state.missions and state.missions[m.id].closed for m in missions
    )


def earned_badges(
    config: QuestsConfig, tour: Tour, state: VisitorState, progress: Progress | None
) -> list[Badge]:
    """Badges whose rule holds now and that the visitor does not have yet.

    The state is the fold of the visitor's quest events, the progress the fold of
    their check-ins, so these are rules over the visitor's events."""
    missions = quest_missions(config, tour)
    done = all_closed(config, tour, state)
    mstates = [state.missions[m.id] for m in missions if m.id in state.missions]
    new: list[Badge] = []
    for badge in config.badges:
        if badge.id in state.badges:
            continue
        if badge.rule == "all_stations":
            visited = set(progress.visited) if progress else set()
            stations = {s.id for s in tour.enabled_stations}
            ok = bool(stations) and stations <= visited
        elif badge.rule == "no_hints":
            ok = done and any(m.solved for m in mstates) and all(m.hints == 0 for m in mstates)
        elif badge.rule == "perfect":
            ok = done and all(m.solved and m.attempts == 1 and m.hints == 0 for m in mstates)
        elif badge.rule == "speed":
            opened = [m.opened for m in mstates if m.opened]
            closed = [m.closed_at for m in mstates if m.closed_at]
            ok = (
                done
                and all(m.solved for m in mstates)
                and bool(opened)
                and bool(closed)
                and (max(closed) - min(opened)).total_seconds() <= badge.minutes * 60
            )
        else:  # pragma: no cover - the schema allows no other rule
            ok = False
        if ok:
            new.append(badge)
    return new


def local_day(config: QuestsConfig, now: datetime) -> str:
    try:
        zone = zoneinfo.ZoneInfo(config.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return now.astimezone(zone).date().isoformat()
