"""A scripted day at a five-station tour, and the figures it must give.

The events of the audio guide, quests and career are their own event types,
registered by a tiny test plugin without the rest of those plugins (their panels and
consumers), so the figures depend only on the analytics plugin. The expected figures
are computed here from the script with plain Python (sets, ``statistics.quantiles``),
independently of the plugin's code.
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

from promtour.plugin import Event, PluginInfo, TourFinished, VisitorCheckedIn, hookimpl
from promtour.plugins.audio_guide.events import (
    AudioListenFinished,
    AudioListenProgressed,
    AudioListenStarted,
)
from promtour.plugins.career.events import (
    CareerLeadCreated,
    CareerQuizCompleted,
    CareerTopRanked,
)
from promtour.plugins.quests.events import (
    QuestAnswerSubmitted,
    QuestCompleted,
    QuestHintTaken,
    QuestMissionCompleted,
    QuestMissionFailed,
)

DAY = "2026-11-10"
T0 = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)
STATIONS = ["s1", "s2", "s3", "s4", "s5"]
VISITORS = 200
RANGE = f"from={DAY}&to={DAY}"


class OtherPluginEvents:
    """Registers the other plugins' event types, as those plugins would."""

    @hookimpl
    def promtour_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            name="lookalikes",
            title={"en": "The other plugins' events"},
            events=[
                AudioListenStarted,
                AudioListenProgressed,
                AudioListenFinished,
                QuestAnswerSubmitted,
                QuestMissionCompleted,
                QuestMissionFailed,
                QuestHintTaken,
                QuestCompleted,
                CareerQuizCompleted,
                CareerTopRanked,
                CareerLeadCreated,
            ],
        )


def path_of(i: int) -> list[str]:
    """The stations visitor ``i`` checks in at, in order."""
    if 100 <= i < 103:
        return ["s1", "s3"]  # skips s2
    length = 5 if i < 100 else 4 if i < 120 else 3 if i < 150 else 2 if i < 180 else 1
    return STATIONS[:length]


def dwell_of(i: int, k: int) -> int:
    return 60 * (k + 1) + (i % 7) * 10


def script(enterprise: str, tour: str) -> list[Event]:
    """The day's events, in time order."""
    timed: list[tuple[datetime, int, Event]] = []
    n = 0

    def add(at: datetime, event: Event) -> None:
        nonlocal n
        n += 1
        timed.append((at, n, event.with_(time=at)))

    env: dict[str, Any] = {"enterprise": enterprise, "tour": tour}
    for i in range(VISITORS):
        visitor = f"v{i:03d}"
        lang = "en" if i % 4 == 0 else "ru"
        group = f"g{i // 25}"
        at = T0 + timedelta(seconds=30 * i)
        for k, station in enumerate(path_of(i)):
            add(
                at,
                VisitorCheckedIn(
                    **env,
                    station=station,
                    visitor=visitor,
                    group=group,
                    method="number" if i % 10 == 0 else "qr",
                    repeat=i < 6 and k == 0,
                    lang=lang,
                ),
            )
            if k == 0 and i < 150:
                a = {**env, "visitor": visitor, "station": station, "track": "t1", "lang": lang}
                add(at + timedelta(seconds=1), AudioListenStarted(**a))
                for q, limit in ((1, 140), (2, 120), (3, 100)):
                    if i < limit:
                        add(at + timedelta(seconds=1 + q), AudioListenProgressed(**a, quartile=q))
                if i < 80:
                    add(at + timedelta(seconds=5), AudioListenFinished(**a))
            if k == 1 and i < 100:
                q = {**env, "visitor": visitor, "station": station, "mission": "m1"}
                t = at + timedelta(seconds=2)
                if i % 5 == 0:
                    add(t, QuestHintTaken(**q, hint=1, cost=1))
                if i % 2 == 0:
                    add(t, QuestAnswerSubmitted(**q, correct=True, attempt=1))
                    add(
                        t,
                        QuestMissionCompleted(**q, points=3, hints_used=0, correct_first_try=True),
                    )
                elif i % 4 == 1:
                    add(t, QuestAnswerSubmitted(**q, correct=False, attempt=1))
                    add(t, QuestAnswerSubmitted(**q, correct=True, attempt=2))
                    add(
                        t,
                        QuestMissionCompleted(**q, points=2, hints_used=0, correct_first_try=False),
                    )
                else:
                    add(t, QuestAnswerSubmitted(**q, correct=False, attempt=1))
                    add(t, QuestAnswerSubmitted(**q, correct=False, attempt=2))
                    add(t, QuestMissionFailed(**q, attempts=2))
                if i < 3:  # a mission almost nobody tries: every cell masked
                    m2 = {**q, "mission": "m2"}
                    add(t, QuestAnswerSubmitted(**m2, correct=True, attempt=1))
                    add(
                        t,
                        QuestMissionCompleted(**m2, points=1, hints_used=0, correct_first_try=True),
                    )
            at += timedelta(seconds=dwell_of(i, k))
        if i < 100:
            add(at, QuestCompleted(**env, visitor=visitor, score=3))
        if i < 60:
            add(
                at,
                CareerQuizCompleted(
                    **env, visitor=visitor, code=["RIC", "SEA", "IRC"][i % 3], answered=12
                ),
            )
        if i < 90:
            add(at + timedelta(seconds=1), TourFinished(**env, visitor=visitor, stations_visited=5))
        top = {**env, "visitor": visitor}
        if i < 40:
            first = "welder" if i % 2 == 0 else "painter"
            add(at + timedelta(seconds=2), CareerTopRanked(**top, profession=first))
            if i < 10:  # ranked again after more answers: the last ranking counts
                add(at + timedelta(seconds=3), CareerTopRanked(**top, profession="engineer"))
            if i == 20:  # the same first profession again: counted once
                add(at + timedelta(seconds=3), CareerTopRanked(**top, profession=first))
        elif i < 43:  # three visitors: masked
            add(at + timedelta(seconds=2), CareerTopRanked(**top, profession="chemist"))
    for j in range(7):
        add(T0 + timedelta(hours=3, seconds=j), CareerLeadCreated(**env, lead=f"lead{j}"))
    timed.sort(key=lambda x: (x[0], x[1]))
    return [e for _, _, e in timed]


def pct(part: int, base: int) -> float:
    return round(100.0 * part / base, 1)


def expected() -> dict[str, Any]:
    """The figures the scripted day must give, computed from the script."""
    reached = {s: sum(1 for i in range(VISITORS) if s in path_of(i)) for s in STATIONS}
    dwell: dict[str, list[int]] = {s: [] for s in STATIONS}
    for i in range(VISITORS):
        path = path_of(i)
        for k in range(len(path) - 1):
            dwell[path[k]].append(dwell_of(i, k))
    quartiles = {
        s: [round(q, 1) for q in statistics.quantiles(v, n=4, method="inclusive")]
        for s, v in dwell.items()
        if len(v) >= 5
    }
    m1 = range(100)
    return {
        "visitors": VISITORS,
        "groups": 8,
        "scans": sum(len(path_of(i)) for i in range(VISITORS)),
        "finishes": 90,
        "repeat": 6,
        "number": sum(len(path_of(i)) for i in range(VISITORS) if i % 10 == 0),
        "funnel": [VISITORS] + [reached[s] for s in STATIONS] + [90],
        "quartiles": quartiles,
        "dwell_n": {s: len(v) for s, v in dwell.items()},
        "s1_to_s3": 3,
        "m1_solve": pct(sum(1 for i in m1 if i % 2 == 0 or i % 4 == 1), 100),
        "m1_wrong": pct(
            sum(1 if i % 4 == 1 else 2 for i in m1 if i % 2 == 1),
            sum(1 if i % 2 == 0 else 2 for i in m1),
        ),
        "m1_hint": pct(sum(1 for i in m1 if i % 5 == 0), 100),
        "audio": {
            lang: [
                len(starts),
                *(
                    pct(sum(1 for i in starts if i < limit), len(starts))
                    for limit in (140, 120, 100, 80)
                ),
            ]
            for lang in ("en", "ru")
            for starts in [[i for i in range(150) if (i % 4 == 0) == (lang == "en")]]
        },
        "quizzes": 60,
        "leads": 7,
        # Last profession ranked first per visit (see script()).
        "professions": {"welder": 15, "painter": 15, "engineer": 10, "chemist": "< 5"},
    }
