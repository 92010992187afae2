"""The interest profile: tour signals, their combination with the quiz, and the ranking
of professions with the evidence for each (worded in :mod:`.reasons`).

Everything here is a pure function of plain data (no NATS, no web), so that the model
can be tested, property by property, without a server. The numbers are explained in
docs/plugins/career.md.

- Tour signals are points per station and per quest mission (visits, re-scans, audio
  listened to, missions solved), each weighted by :class:`~.config.Weights`.
- A station's or mission's points go to each of its RIASEC tags; a type's tour score is
  ``points / (points + saturation)``: a little evidence counts a little, and no amount
  of re-scanning outweighs the quiz.
- The combined profile is the weighted mean of the quiz and tour scores, over the
  sources the visitor actually has.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from .config import CareerConfig, Profession, Weights
from .riasec import CODES, empty_scores

__all__ = [
    "CODE_WEIGHTS",
    "Match",
    "MissionSignals",
    "Observation",
    "Profile",
    "Reason",
    "Signals",
    "StationSignals",
    "apply_observation",
    "build_profile",
    "combine",
    "fit",
    "observe",
    "rank_professions",
    "reason_for",
    "tour_points",
    "tour_scores",
]

#: How much the 1st, 2nd and 3rd letter of a profession's Holland code count in its fit.
CODE_WEIGHTS: tuple[float, ...] = (1.0, 0.6, 0.35)
#: Processed event ids kept per visitor, to ignore redeliveries.
SEEN_LIMIT = 2000

Scores = dict[str, float]


# --- Signals from the tour ----------------------------------------------------------------


class StationSignals(msgspec.Struct, kw_only=True):
    visits: int = 0
    replays: int = 0
    #: Quartiles of the station's audio listened to (one per progress event).
    progressed: int = 0
    finished: int = 0

    def points(self, w: Weights) -> float:
        return (
            (w.visit if self.visits else 0.0)
            + self.replays * w.replay
            + self.progressed * w.listen_progress
            + self.finished * w.listen_finished
        )

    @property
    def engaged(self) -> bool:
        """More than passing through: the visitor came back or listened."""
        return bool(self.replays or self.progressed or self.finished)


class MissionSignals(msgspec.Struct, kw_only=True):
    station: str | None = None
    first_try: bool = False
    quest_points: int = 0


class Signals(msgspec.Struct, kw_only=True):
    """What one visitor did on one tour, as the career plugin counts it."""

    #: Ids of the events already counted (handlers run at least once).
    seen: list[str] = msgspec.field(default_factory=list)
    stations: dict[str, StationSignals] = msgspec.field(default_factory=dict)
    missions: dict[str, MissionSignals] = msgspec.field(default_factory=dict)


class Observation(msgspec.Struct, kw_only=True, frozen=True):
    """One event, reduced to what the profile needs."""

    event_id: str
    kind: str  # visit | replay | listen_progress | listen_finished | mission
    station: str | None = None
    mission: str | None = None
    first_try: bool = False
    points: int = 0


#: The event types :func:`observe` reads (``PluginInfo.handles``).
OBSERVED_TYPES = (
    "visitor_checked_in",
    "audio_listen_progressed",
    "audio_listen_finished",
    "quest_mission_completed",
)


def observe(event: Any) -> Observation | None:
    """What an event says about the visitor's interests, or None.

    Events of other plugins are matched by their type name and read with ``getattr``,
    so this plugin does not depend on them (and tolerates fields they drop or add)."""
    kind = getattr(event, "type", "")
    station = getattr(event, "station", None)
    base = {"event_id": event.id, "station": station}
    if kind == "visitor_checked_in" and station:
        return Observation(kind="replay" if getattr(event, "repeat", False) else "visit", **base)
    if kind == "audio_listen_progressed" and station:
        return Observation(kind="listen_progress", **base)
    if kind == "audio_listen_finished" and station:
        return Observation(kind="listen_finished", **base)
    if kind == "quest_mission_completed":
        mission = getattr(event, "mission", None)
        if not isinstance(mission, str) or not mission:
            return None
        points = getattr(event, "points", 0)
        return Observation(
            kind="mission",
            mission=mission,
            first_try=bool(getattr(event, "correct_first_try", False)),
            points=points if isinstance(points, int) else 0,
            **base,
        )
    return None


def apply_observation(signals: Signals | None, obs: Observation) -> Signals:
    """Count one observation once: an event id already seen changes nothing."""
    signals = signals or Signals()
    if obs.event_id in signals.seen:
        return signals
    signals.seen.append(obs.event_id)
    del signals.seen[:-SEEN_LIMIT]
    if obs.kind == "mission" and obs.mission:
        current = signals.missions.get(obs.mission)
        if current is None:
            signals.missions[obs.mission] = MissionSignals(
                station=obs.station, first_try=obs.first_try, quest_points=obs.points
            )
        else:  # the same mission again (another attempt): keep the best of it
            current.first_try = current.first_try or obs.first_try
            current.quest_points = max(current.quest_points, obs.points)
            current.station = current.station or obs.station
        return signals
    if obs.station is None:
        return signals
    station = signals.stations.setdefault(obs.station, StationSignals())
    if obs.kind == "visit":
        station.visits += 1
    elif obs.kind == "replay":
        station.visits = max(station.visits, 1)
        station.replays += 1
    elif obs.kind == "listen_progress":
        station.progressed += 1
    elif obs.kind == "listen_finished":
        station.finished += 1
    return signals


def _mission_tags(config: CareerConfig, mission_id: str, signal: MissionSignals) -> list[str]:
    tags = config.mission(mission_id)
    if tags is not None:
        return list(tags.tags)
    return list(config.stations.get(signal.station or "", []))


def tour_points(signals: Signals | None, config: CareerConfig) -> Scores:
    """Raw tour points per type: each station's and mission's points go to its tags."""
    raw = empty_scores()
    if signals is None:
        return raw
    w = config.weights
    for station_id, station in signals.stations.items():
        points = station.points(w)
        for tag in config.stations.get(station_id, []):
            raw[tag] += points
    for mission_id, mission in signals.missions.items():
        points = w.mission + (w.first_try if mission.first_try else 0.0)
        for mission_tag in _mission_tags(config, mission_id, mission):
            raw[mission_tag] += points
    return raw


def tour_scores(raw: Mapping[str, float], saturation: float) -> Scores:
    """Points to 0..1 with diminishing returns: ``p / (p + saturation)``."""
    return {
        code: max(raw.get(code, 0.0), 0.0) / (max(raw.get(code, 0.0), 0.0) + saturation)
        for code in CODES
    }


def combine(
    quiz: Mapping[str, float] | None, tour: Mapping[str, float] | None, weights: Weights
) -> Scores:
    """The weighted mean of the sources the visitor has: the quiz (if taken) and the
    tour (if it gave any points). Neither: every type is 0."""
    has_tour = tour is not None and any(v > 0 for v in tour.values())
    wq = weights.quiz if quiz is not None else 0.0
    wt = weights.tour if has_tour else 0.0
    if wq + wt <= 0:
        return empty_scores()
    q = quiz or {}
    t = tour or {}
    return {code: (wq * q.get(code, 0.0) + wt * t.get(code, 0.0)) / (wq + wt) for code in CODES}


class Profile(msgspec.Struct, kw_only=True):
    scores: Scores
    quiz: Scores | None = None
    tour: Scores = msgspec.field(default_factory=empty_scores)
    points: Scores = msgspec.field(default_factory=empty_scores)

    @property
    def empty(self) -> bool:
        return not any(v > 0 for v in self.scores.values())


def build_profile(
    quiz: Mapping[str, float] | None, signals: Signals | None, config: CareerConfig
) -> Profile:
    points = tour_points(signals, config)
    tour = tour_scores(points, config.weights.saturation)
    return Profile(
        scores=combine(quiz, tour, config.weights),
        quiz=dict(quiz) if quiz is not None else None,
        tour=tour,
        points=points,
    )


# --- Professions ranked by fit ----------------------------------------------------------------


def fit(scores: Mapping[str, float], riasec: Sequence[str]) -> float:
    """How well a Holland code fits a profile, in 0..1: the profile's scores of the
    code's letters, the first letter counting most."""
    weights = CODE_WEIGHTS[: len(riasec)]
    if not weights:
        return 0.0
    total = sum(w * scores.get(code, 0.0) for w, code in zip(weights, riasec, strict=False))
    return total / sum(weights)


class Reason(msgspec.Struct, kw_only=True):
    """Why a profession fits, from this profession's own evidence only: its stations,
    the missions done there, and the letters of its Holland code. Two professions get
    different reasons because each cites its own stations and one of its own skills;
    no reason cites a station where the profession does not work."""

    #: The profession the reason is about.
    profession: str
    #: The code letter that contributes most to the fit.
    type: str
    #: Code letters the quiz answers lean to (above "partly" on average), code order.
    interests: list[str] = msgspec.field(default_factory=list)
    #: The profession's stations the visitor checked in at (those where they lingered
    #: first); when they visited none, the stations where it can be seen.
    stations: list[str] = msgspec.field(default_factory=list)
    #: True when the visitor was at ``stations``; ``lingered``: came back or listened.
    visited: bool = False
    lingered: bool = False
    #: Quest missions completed at the profession's stations whose tags are among the
    #: code's letters (first-try ones first).
    missions: list[str] = msgspec.field(default_factory=list)

    @property
    def quiz(self) -> bool:
        return bool(self.interests)


class Match(msgspec.Struct, kw_only=True):
    profession: Profession
    fit: float
    reason: Reason | None = None


def reason_for(
    profession: Profession, profile: Profile, signals: Signals | None, config: CareerConfig
) -> Reason:
    code: list[str] = list(profession.riasec)
    contributions = [
        (w * profile.scores.get(letter, 0.0), -i, letter)
        for i, (w, letter) in enumerate(zip(CODE_WEIGHTS, code, strict=False))
    ]
    reason = Reason(profession=profession.id, type=max(contributions)[2])
    if profile.quiz is not None:
        reason.interests = [c for c in code if profile.quiz.get(c, 0.0) > 0.5][:2]
    own = list(dict.fromkeys(profession.stations))
    stations = signals.stations if signals is not None else {}
    w = config.weights
    # Only the profession's own stations, in catalogue order, those lingered at first:
    # a station that merely shares a letter of the code says nothing about this job.
    visited = sorted(
        (sid for sid in own if sid in stations),
        key=lambda sid: (-stations[sid].points(w), own.index(sid)),
    )
    reason.visited = bool(visited)
    reason.lingered = any(stations[sid].engaged for sid in visited)
    reason.stations = visited or own
    if signals is None or not visited:
        return reason
    missions = sorted(
        (
            (not m.first_try, mid)
            for mid, m in signals.missions.items()
            if m.station in visited and set(_mission_tags(config, mid, m)) & set(code)
        ),
    )
    reason.missions = [mid for _, mid in missions]
    return reason


def rank_professions(
    config: CareerConfig, profile: Profile, signals: Signals | None = None
) -> list[Match]:
    """Every profession of the catalogue, best fit first (ties: catalogue order); without
    a profile, the catalogue order and no reasons."""
    if profile.empty:
        return [Match(profession=p, fit=0.0) for p in config.professions]
    matches = [
        Match(
            profession=p,
            fit=fit(profile.scores, p.riasec),
            reason=reason_for(p, profile, signals, config),
        )
        for p in config.professions
    ]
    order = {p.id: i for i, p in enumerate(config.professions)}
    return sorted(matches, key=lambda m: (-m.fit, order[m.profession.id]))
