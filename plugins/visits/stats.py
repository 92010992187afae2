"""What a group did, from the events of its pupils: kept per group code, shown live to
the leader and summed up in the class report.

:func:`apply` is idempotent (everything is keyed by visitor or event id), so the
consumer may see an event twice, and the leader's live page may apply events that the
stored record already holds.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from itertools import pairwise

import msgspec
from promtour.plugin import Event, Station, Tour

__all__ = [
    "MASK_BELOW",
    "GroupStats",
    "Pupil",
    "Report",
    "TeamRow",
    "apply",
    "live_summary",
    "masked",
    "profession_titles",
    "report",
]

#: Counts under this are shown as "fewer than 5": no pupil can be singled out.
MASK_BELOW = 5
#: A pause longer than this between two stations is not counted as time at the first.
MAX_DWELL_SECONDS = 30 * 60


class Pupil(msgspec.Struct, kw_only=True):
    joined: bool = False
    briefed: bool = False
    finished: bool = False
    #: event id -> (station, time)
    checkins: dict[str, tuple[str, datetime]] = msgspec.field(default_factory=dict)
    riasec: str = ""
    #: The career profession id the pupil's finish page ranked first.
    top: str = ""


class GroupStats(msgspec.Struct, kw_only=True):
    pupils: dict[str, Pupil] = msgspec.field(default_factory=dict)
    #: team -> event id -> points
    teams: dict[str, dict[str, int]] = msgspec.field(default_factory=dict)
    #: team -> its pupils (who joined it or scored for it), to mask small teams
    members: dict[str, list[str]] = msgspec.field(default_factory=dict)
    #: the last broadcast: (time, text)
    broadcasts: list[tuple[datetime, str]] = msgspec.field(default_factory=list)


#: The event types :func:`apply` folds (``PluginInfo.handles``).
FOLDED_TYPES = (
    "visits_group_broadcast",
    "visitor_joined_group",
    "visitor_checked_in",
    "safety_briefing_passed",
    "tour_finished",
    "career_quiz_completed",
    "career_top_ranked",
    "quest_mission_completed",
    "quest_team_joined",
)


def apply(stats: GroupStats, event: Event) -> bool:
    """Fold ``event`` into ``stats``; True if it concerned the group."""
    kind = event.type
    visitor = event.visitor
    if kind == "visits_group_broadcast":
        entry = (event.time, str(getattr(event, "message", "")))
        if entry not in stats.broadcasts:
            stats.broadcasts = [*stats.broadcasts, entry][-5:]
        return True
    if visitor is None:
        return False
    pupil = stats.pupils.get(visitor)
    if kind == "visitor_joined_group":
        pupil = stats.pupils.setdefault(visitor, Pupil())
        pupil.joined = True
    elif kind == "visitor_checked_in" and event.station:
        pupil = stats.pupils.setdefault(visitor, Pupil())
        pupil.checkins[event.id] = (event.station, event.time)
    elif kind == "safety_briefing_passed":
        pupil = stats.pupils.setdefault(visitor, Pupil())
        pupil.briefed = True
    elif kind == "tour_finished":
        pupil = stats.pupils.setdefault(visitor, Pupil())
        pupil.finished = True
    elif kind == "career_quiz_completed":
        pupil = stats.pupils.setdefault(visitor, Pupil())
        pupil.riasec = str(getattr(event, "code", ""))[:3]
    elif kind == "career_top_ranked":
        pupil = stats.pupils.setdefault(visitor, Pupil())
        pupil.top = str(getattr(event, "profession", ""))[:100]
    elif kind in ("quest_mission_completed", "quest_team_joined"):
        team = getattr(event, "team", None)
        if not team:
            return False
        members = stats.members.setdefault(str(team), [])
        if visitor not in members:
            members.append(visitor)
        if kind == "quest_mission_completed":
            stats.teams.setdefault(str(team), {})[event.id] = int(getattr(event, "points", 0))
    else:
        return False
    return True


def masked(count: int) -> str:
    """A count for a report: exact from ``MASK_BELOW`` on, else "<5" (0 stays 0)."""
    if 0 < count < MASK_BELOW:
        return f"<{MASK_BELOW}"
    return str(count)


def _reached(stats: GroupStats) -> Counter[str]:
    reached: Counter[str] = Counter()
    for pupil in stats.pupils.values():
        for station in {s for s, _ in pupil.checkins.values()}:
            reached[station] += 1
    return reached


def live_summary(stats: GroupStats, tour: Tour) -> dict[str, object]:
    """What the leader's live page shows: counts, never who."""
    reached = _reached(stats)
    return {
        "joined": sum(1 for p in stats.pupils.values() if p.joined),
        "briefed": sum(1 for p in stats.pupils.values() if p.briefed),
        "finished": sum(1 for p in stats.pupils.values() if p.finished),
        "stations": {s.id: reached.get(s.id, 0) for s in tour.stations},
        "teams": {team: sum(points.values()) for team, points in sorted(stats.teams.items())},
    }


def _dwell(stats: GroupStats) -> dict[str, list[float]]:
    """Seconds each pupil spent at a station: until their next check-in elsewhere."""
    spent: dict[str, list[float]] = {}
    for pupil in stats.pupils.values():
        visits = sorted(pupil.checkins.values(), key=lambda item: item[1])
        for (station, at), (after, then) in pairwise(visits):
            if after == station:
                continue
            seconds = (then - at).total_seconds()
            if 0 < seconds <= MAX_DWELL_SECONDS:
                spent.setdefault(station, []).append(seconds)
    return spent


class StationRow(msgspec.Struct):
    station: Station
    reached: str
    dwell_minutes: str


class TeamRow(msgspec.Struct):
    team: str
    #: None for a team of fewer than ``MASK_BELOW`` pupils: its score is theirs.
    points: int | None


class Report(msgspec.Struct, kw_only=True):
    pupils: str
    briefed: str
    finished: str
    stations: list[StationRow]
    teams: list[TeamRow]
    riasec: list[tuple[str, str]]
    riasec_answered: str
    #: (profession id, masked count), the most often ranked first first.
    top: list[tuple[str, str]]
    top_answered: str


def report(groups: list[GroupStats], tour: Tour) -> Report:
    """The aggregates of one or more groups, with counts under ``MASK_BELOW`` masked.

    A dwell time is shown only when at least ``MASK_BELOW`` pupils make it up."""
    merged = GroupStats()
    for group in groups:
        merged.pupils.update(group.pupils)
        for team, points in group.teams.items():
            merged.teams.setdefault(team, {}).update(points)
        for team, members in group.members.items():
            known = merged.members.setdefault(team, [])
            known.extend(m for m in members if m not in known)
    reached = _reached(merged)
    dwell = _dwell(merged)
    rows = []
    for station in tour.stations:
        times = sorted(dwell.get(station.id, []))
        minutes = (
            f"{times[len(times) // 2] / 60:.0f}" if len(times) >= MASK_BELOW else ""
        )  # the median
        rows.append(StationRow(station, masked(reached.get(station.id, 0)), minutes))
    letters: Counter[str] = Counter()
    for pupil in merged.pupils.values():
        if pupil.riasec:
            letters[pupil.riasec[0].upper()] += 1
    tops = Counter(p.top for p in merged.pupils.values() if p.top)
    teams = sorted(
        (
            TeamRow(
                team,
                sum(points.values()) if len(merged.members.get(team, ())) >= MASK_BELOW else None,
            )
            for team, points in merged.teams.items()
        ),
        key=lambda row: (row.points is None, -(row.points or 0), row.team),
    )
    return Report(
        pupils=masked(len(merged.pupils)),
        briefed=masked(sum(1 for p in merged.pupils.values() if p.briefed)),
        finished=masked(sum(1 for p in merged.pupils.values() if p.finished)),
        stations=rows,
        # A team's score is its pupils' together: shown from MASK_BELOW pupils on,
        # since a team of one is a pupil.
        teams=teams,
        riasec=[(letter, masked(letters.get(letter, 0))) for letter in "RIASEC"],
        riasec_answered=masked(sum(letters.values())),
        top=[(profession, masked(count)) for profession, count in tops.most_common(5)],
        top_answered=masked(sum(tops.values())),
    )


def profession_titles(tour: Tour) -> dict[str, dict[str, str]]:
    """Profession id -> title, read from the tour's career config as documented for
    enterprises (docs/plugins/career.md), so this plugin imports no other plugin. An
    id without a title there is shown as it is."""
    career = tour.plugins.get("career") or {}
    titles: dict[str, dict[str, str]] = {}
    for item in career.get("professions") or []:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            title = item.get("title")
            titles[item["id"]] = title if isinstance(title, dict) else {}
    return titles
