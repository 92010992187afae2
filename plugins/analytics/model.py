"""The read model: per tour and day, aggregates (no visitor ids) and visitor state.

Events are folded, in stream order, into two records per tour and day (UTC):

- :class:`DayStats` (key ``day.<YYYY-MM-DD>``): counters only, kept as long as the
  tour; the pages read these and nothing else;
- :class:`DayVisitors` (key ``vis.<YYYY-MM-DD>``): per pseudonymous visitor what the
  counters need to count each visitor once and to measure dwell (their last
  check-in); it expires with the tour's ``visitor_days`` setting (store TTL);

a small :class:`Live` record (check-ins per station and minute, last hour), and
:class:`DayIndex` (key ``days``): each day record's ``seq``. A day record's content is
a function of the day's events up to its ``seq`` (a replay gives the same record at
the same ``seq``), so ``(day, seq)`` names its content: pages read the index and take
unchanged days from a cache (:mod:`.reading`) instead of reading them again.

Idempotency: each record holds ``seq``, the stream sequence of the last event folded
into it; an event at or below it is skipped. A batch writes ``DayStats`` before
``DayVisitors``, so ``stats.seq >= visitors.seq`` always holds and a batch redelivered
after a crash between the two writes updates the visitor state without counting twice.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

__all__ = [
    "AUDIO",
    "MISSION",
    "DayIndex",
    "DayStats",
    "DayVisitors",
    "Live",
    "VisitorDay",
    "apply",
    "apply_live",
    "day_of",
]

# Visitor flags.
FINISHED = 1
QUEST = 2
QUIZ = 4
REPEAT = 8

#: Columns of ``DayStats.audio[track|lang]``.
AUDIO = ("starts", "q1", "q2", "q3", "finished")
#: Columns of ``DayStats.missions[mission]``.
MISSION = ("attempted", "answers", "wrong", "solved", "failed", "hinted", "hints")

#: Minutes of check-ins the live record keeps.
LIVE_MINUTES = 60


class VisitorDay(msgspec.Struct, array_like=True):
    """One visitor's day at a tour (a "visit")."""

    first: int  # epoch seconds of the first check-in
    station: str  # station of the last check-in
    at: int  # epoch seconds of the last check-in
    stations: list[str]
    flags: int = 0
    #: The career profession the visitor's finish page ranked first (the last one).
    top: str = ""


class DayVisitors(msgspec.Struct, kw_only=True):
    seq: int = 0
    visitors: dict[str, VisitorDay] = msgspec.field(default_factory=dict)
    groups: list[str] = msgspec.field(default_factory=list)


class DayStats(msgspec.Struct, kw_only=True):
    seq: int = 0
    day: str = ""
    #: Visits: distinct visitors with a check-in this day.
    visitors: int = 0
    groups: int = 0
    scans: int = 0
    qr: int = 0
    number: int = 0
    #: Visits whose first check-in was at a station the visitor knew (an earlier day).
    repeat: int = 0
    finishes: int = 0
    langs: dict[str, int] = msgspec.field(default_factory=dict)
    #: Distinct visitors per station.
    reached: dict[str, int] = msgspec.field(default_factory=dict)
    #: Seconds to the visitor's next check-in -> how often, per station.
    dwell: dict[str, dict[int, int]] = msgspec.field(default_factory=dict)
    #: From station -> to station -> visitors who went that way.
    transitions: dict[str, dict[str, int]] = msgspec.field(default_factory=dict)
    audio: dict[str, list[int]] = msgspec.field(default_factory=dict)
    missions: dict[str, list[int]] = msgspec.field(default_factory=dict)
    quest_players: int = 0
    quest_completed: int = 0
    quizzes: int = 0
    types: dict[str, int] = msgspec.field(default_factory=dict)
    codes: dict[str, int] = msgspec.field(default_factory=dict)
    #: Profession id -> visits whose finish page ranked it first (the last ranking).
    top: dict[str, int] = msgspec.field(default_factory=dict)
    leads: int = 0


class DayIndex(msgspec.Struct, kw_only=True):
    #: Day -> the ``seq`` of its ``DayStats`` record as last written.
    days: dict[str, int] = msgspec.field(default_factory=dict)


class Live(msgspec.Struct, kw_only=True):
    seq: int = 0
    #: Minute (epoch seconds // 60) -> station -> check-ins.
    minutes: dict[int, dict[str, int]] = msgspec.field(default_factory=dict)


def day_of(time: datetime) -> str:
    return time.date().isoformat()


def _inc(counts: dict[str, int], key: str, n: int = 1) -> None:
    counts[key] = counts.get(key, 0) + n


def _row(table: dict[str, list[int]], key: str, width: int) -> list[int]:
    row = table.get(key)
    if row is None:
        row = table[key] = [0] * width
    return row


def apply(seq: int, event: object, stats: DayStats, visits: DayVisitors) -> None:
    """Fold one event into the day's records (skipped where already folded)."""
    if seq <= visits.seq:
        return  # stats.seq >= visits.seq: both have it
    count = seq > stats.seq
    # Counting goes into a scratch record when the stats already have this event.
    s = stats if count else DayStats()
    _fold(event, s, visits)
    visits.seq = seq
    if count:
        stats.seq = seq


def _fold(event: object, s: DayStats, visits: DayVisitors) -> None:
    kind: str = event.type  # type: ignore[attr-defined]
    visitor: str | None = getattr(event, "visitor", None)
    at = int(event.time.timestamp())  # type: ignore[attr-defined]
    v = visits.visitors.get(visitor) if visitor else None

    if kind == "visitor_checked_in":
        station: str = event.station or ""  # type: ignore[attr-defined]
        s.scans += 1
        if event.method == "number":  # type: ignore[attr-defined]
            s.number += 1
        else:
            s.qr += 1
        if visitor is None:
            return
        group = event.group  # type: ignore[attr-defined]
        if group and group not in visits.groups:
            visits.groups.append(group)
            s.groups += 1
        if v is None:
            v = visits.visitors[visitor] = VisitorDay(first=at, station=station, at=at, stations=[])
            s.visitors += 1
            _inc(s.langs, event.lang or "?")  # type: ignore[attr-defined]
            if event.repeat:  # type: ignore[attr-defined]
                v.flags |= REPEAT
                s.repeat += 1
        elif v.station != station:
            # Dwell at the previous station: time to this next check-in.
            dwell = s.dwell.setdefault(v.station, {})
            seconds = max(0, at - v.at)
            dwell[seconds] = dwell.get(seconds, 0) + 1
            _inc(s.transitions.setdefault(v.station, {}), station)
            v.station, v.at = station, at
        if station not in v.stations:
            v.stations.append(station)
            _inc(s.reached, station)
        return

    if kind == "tour_finished":
        if v is not None and not v.flags & FINISHED:
            v.flags |= FINISHED
            s.finishes += 1
        return

    if kind in ("audio_listen_started", "audio_listen_progressed", "audio_listen_finished"):
        key = f"{event.track}|{event.lang}"  # type: ignore[attr-defined]
        row = _row(s.audio, key, len(AUDIO))
        if kind == "audio_listen_started":
            row[0] += 1
        elif kind == "audio_listen_finished":
            row[4] += 1
        else:
            quartile = int(event.quartile)  # type: ignore[attr-defined]
            if 1 <= quartile <= 3:
                row[quartile] += 1
        return

    if kind.startswith("quest_"):
        mission = getattr(event, "mission", None)
        if v is not None and not v.flags & QUEST and kind != "quest_nickname_chosen":
            v.flags |= QUEST
            s.quest_players += 1
        if kind == "quest_completed":
            s.quest_completed += 1
        if mission is None:
            return
        row = _row(s.missions, mission, len(MISSION))
        if kind == "quest_answer_submitted":
            row[1] += 1
            if event.attempt == 1:  # type: ignore[attr-defined]
                row[0] += 1
            if not event.correct:  # type: ignore[attr-defined]
                row[2] += 1
        elif kind == "quest_mission_completed":
            row[3] += 1
        elif kind == "quest_mission_failed":
            row[4] += 1
        elif kind == "quest_hint_taken":
            row[6] += 1
            if event.hint == 1:  # type: ignore[attr-defined]
                row[5] += 1
        return

    if kind == "career_quiz_completed":
        if v is not None:
            if v.flags & QUIZ:
                return  # a visit counts one quiz (the first)
            v.flags |= QUIZ
        s.quizzes += 1
        code: str = event.code or ""  # type: ignore[attr-defined]
        if code:
            _inc(s.types, code[0])
            _inc(s.codes, code)
        return

    if kind == "career_top_ranked":
        profession = str(getattr(event, "profession", ""))[:100]
        if not profession:
            return
        if v is not None:
            if v.top == profession:
                return
            if v.top and s.top.get(v.top, 0) > 0:
                s.top[v.top] -= 1  # the visit's earlier first profession
                if not s.top[v.top]:
                    del s.top[v.top]
            v.top = profession
        _inc(s.top, profession)
        return

    if kind == "career_lead_created":
        s.leads += 1


def apply_live(seq: int, event: object, live: Live) -> None:
    """Count a check-in in its minute; keep the last hour of the stream's time."""
    if seq <= live.seq:
        return
    live.seq = seq
    if event.type != "visitor_checked_in":  # type: ignore[attr-defined]
        return
    minute = int(event.time.timestamp()) // 60  # type: ignore[attr-defined]
    _inc(live.minutes.setdefault(minute, {}), event.station or "")  # type: ignore[attr-defined]
    if len(live.minutes) > LIVE_MINUTES:
        newest = max(live.minutes)
        for old in [m for m in live.minutes if m <= newest - LIVE_MINUTES]:
            del live.minutes[old]
