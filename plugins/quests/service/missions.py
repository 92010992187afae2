"""Missions: answers, hints, when a mission was first seen, badges and nicknames.

Each action is one :func:`.visitors.commit` whose change appends the events that
describe it to the outbox, then one :func:`.outbox.flush`. Facts only ever become
true (solved, tried, out of attempts, a badge), so a repeated request is a no-op.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from promtour.plugin import Conflict, PluginContext, Progress, VisitorCheckedIn, utcnow
from promtour.plugins.quests import engine
from promtour.plugins.quests.config import Mission, QuestsConfig
from promtour.plugins.quests.events import (
    QuestAnswerSubmitted,
    QuestBadgeAwarded,
    QuestCompleted,
    QuestHintTaken,
    QuestMissionCompleted,
    QuestMissionFailed,
    QuestNicknameChosen,
    fact_id,
)
from promtour.plugins.quests.records import MissionState, VisitorState, visitor_key
from promtour.plugins.quests.service.outbox import flush
from promtour.plugins.quests.service.visitors import commit, event, load, new_state

__all__ = [
    "CHECKIN_PAGE",
    "AnswerOutcome",
    "answer",
    "award_badges",
    "close_quest",
    "mark_opened",
    "on_check_in",
    "set_nickname",
    "take_hint",
]


def close_quest(
    ctx: PluginContext,
    config: QuestsConfig,
    state: VisitorState,
    group: str | None,
    progress: Progress | None,
) -> None:
    """After a mission closes: the quest's end and any badges now earned."""
    tour = ctx.tour
    if state.completed is None and engine.all_closed(config, tour, state):
        state.completed = utcnow()
        missions = engine.quest_missions(config, tour)
        state.outbox.append(
            event(
                ctx,
                state,
                QuestCompleted,
                group,
                id=fact_id(tour.key, state.visitor, "quest-completed"),
                score=state.score,
                solved=state.solved,
                missions=len(missions),
            )
        )
    award_badges(ctx, config, state, group, progress)


def award_badges(
    ctx: PluginContext,
    config: QuestsConfig,
    state: VisitorState,
    group: str | None,
    progress: Progress | None,
) -> None:
    for badge in engine.earned_badges(config, ctx.tour, state, progress):
        state.badges.append(badge.id)
        state.outbox.append(
            event(
                ctx,
                state,
                QuestBadgeAwarded,
                group,
                id=fact_id(ctx.tour.key, state.visitor, "badge", badge.id),
                badge=badge.id,
            )
        )


class AnswerOutcome:
    """What became of an answer: ``correct``, ``wrong``, ``repeat`` (that wrong answer
    was already counted), ``solved`` (already), ``no_attempts``."""

    def __init__(self, result: str, state: VisitorState, mission: MissionState) -> None:
        self.result = result
        self.state = state
        self.mission = mission


async def answer(
    ctx: PluginContext,
    config: QuestsConfig,
    mission: Mission,
    canonical: str,
    correct: bool,
    *,
    progress: Progress | None,
    current: VisitorState | None = None,
    at: datetime | None = None,
) -> AnswerOutcome:
    """Count an answer once. The caller checked the check-in and the order rule
    (``current`` is the record it read for that, to save a read). ``at``: when the
    visitor answered, if not now (an answer queued offline and replayed later): its
    events carry that time and the time bonus counts to it."""
    tour = ctx.tour
    group = progress.group if progress else None
    limit = engine.max_attempts(config, mission)
    digest = engine.answer_digest(canonical)

    def outcome_of(ms: MissionState) -> str | None:
        if ms.solved:
            return "solved"
        if ms.failed or ms.attempts >= limit:
            return "no_attempts"
        if not correct and digest in ms.tried:
            return "repeat"
        return None

    # Facts only ever become true (solved, tried, out of attempts), so an answer that
    # is a no-op on this read stays one: no write needed.
    if current is None:
        current = await load(ctx)
    if current is not None:
        ms = current.missions.get(mission.id, MissionState())
        early = outcome_of(ms)
        if early is not None:
            current = await flush(ctx, config, current, group)
            return AnswerOutcome(early, current, current.missions.get(mission.id, ms))

    result = ""

    def change(state: VisitorState) -> None:
        nonlocal result
        ms = state.missions.setdefault(mission.id, MissionState())
        early = outcome_of(ms)
        if early is not None:
            result = early
            return
        now = at or utcnow()
        if ms.opened is None:
            # Shown at the check-in and not written then (see mark_opened).
            ms.opened = engine.first_seen(config, mission, progress)
        ms.attempts += 1
        state.version += 1
        state.outbox.append(
            event(
                ctx,
                state,
                QuestAnswerSubmitted,
                group,
                id=fact_id(tour.key, state.visitor, mission.id, "answer", ms.attempts),
                time=now,
                station=mission.station,
                mission=mission.id,
                correct=correct,
                attempt=ms.attempts,
            )
        )
        if correct:
            result = "correct"
            ms.points = engine.award(config, mission, ms, now)
            ms.solved = True
            ms.closed_at = now
            ms.last = "correct"
            state.outbox.append(
                event(
                    ctx,
                    state,
                    QuestMissionCompleted,
                    group,
                    id=fact_id(tour.key, state.visitor, mission.id, "completed"),
                    time=now,
                    station=mission.station,
                    mission=mission.id,
                    points=ms.points,
                    hints_used=ms.hints,
                    correct_first_try=ms.attempts == 1,
                    team=state.team,
                )
            )
        else:
            result = "wrong"
            ms.tried.append(digest)
            ms.last = "wrong"
            if ms.attempts >= limit:
                ms.failed = True
                ms.closed_at = now
                state.outbox.append(
                    event(
                        ctx,
                        state,
                        QuestMissionFailed,
                        group,
                        id=fact_id(tour.key, state.visitor, mission.id, "failed"),
                        station=mission.station,
                        mission=mission.id,
                        attempts=ms.attempts,
                    )
                )
        if ms.closed:
            close_quest(ctx, config, state, group, progress)

    state = await commit(ctx, config, change)
    state = await flush(ctx, config, state, group)
    return AnswerOutcome(result, state, state.missions[mission.id])


async def take_hint(
    ctx: PluginContext,
    config: QuestsConfig,
    mission: Mission,
    number: int,
    *,
    progress: Progress | None,
) -> VisitorState:
    """Take hint ``number`` (0-based) of a mission; taking one already taken is a no-op,
    so a double tap costs once. Only the next hint can be taken."""
    group = progress.group if progress else None

    def change(state: VisitorState) -> None:
        ms = state.missions.setdefault(mission.id, MissionState())
        if ms.closed or number != ms.hints or number >= len(mission.hints):
            return
        ms.hints += 1
        state.version += 1
        state.outbox.append(
            event(
                ctx,
                state,
                QuestHintTaken,
                group,
                id=fact_id(ctx.tour.key, state.visitor, mission.id, "hint", ms.hints),
                station=mission.station,
                mission=mission.id,
                hint=ms.hints,
                cost=mission.hints[number].cost,
            )
        )

    current = await load(ctx)
    if current is not None:
        ms = current.missions.get(mission.id)
        if ms is not None and (ms.closed or number < ms.hints):
            return await flush(ctx, config, current, group)
    state = await commit(ctx, config, change)
    return await flush(ctx, config, state, group)


#: A page shown this soon after the first check-in at its station is that check-in's
#: page (the check-in and the page are one request; this only bounds a slow one).
CHECKIN_PAGE = timedelta(seconds=2)


async def mark_opened(
    ctx: PluginContext,
    config: QuestsConfig,
    missions: list[Mission],
    state: VisitorState | None,
    progress: Progress | None = None,
) -> VisitorState | None:
    """Note when the visitor first saw these (open) missions: the time bonus counts
    from then. Writes only if one of them was not seen before, and not for a mission
    shown on the page of the first check-in at its station: its time is that
    check-in's (``engine.first_seen``), which the event consumer writes down
    (:func:`on_check_in`) and an answer fills in if it comes first, so a scan's page
    costs no write."""
    now = utcnow()

    def told(mission: Mission) -> bool:
        seen = engine.first_seen(config, mission, progress)
        return seen is not None and now - seen <= CHECKIN_PAGE

    fresh = [
        m.id
        for m in missions
        if (
            state is None or state.missions.get(m.id) is None or state.missions[m.id].opened is None
        )
        and not told(m)
    ]
    if not fresh:
        return state

    def change(current: VisitorState) -> None:
        for mission_id in fresh:
            ms = current.missions.setdefault(mission_id, MissionState())
            if ms.opened is None:
                ms.opened = now

    return await commit(ctx, config, change)


async def on_check_in(
    ctx: PluginContext, config: QuestsConfig, event: VisitorCheckedIn, progress: Progress | None
) -> VisitorState | None:
    """A check-in: write down when its station's missions were first shown (the first
    check-in there, in free order: ``engine.first_seen``) and award the badges whose
    rules now hold. One read; a write only if something changed (at the revision read).
    Idempotent: a time only ever moves to that first check-in, a badge is awarded once."""
    visitor = event.visitor
    assert visitor is not None
    key = visitor_key(visitor)
    read = await ctx.tour_store.read(key, VisitorState)
    state = read.value
    probe = state or new_state(ctx, config, visitor, event.time)
    first = config.order == "free" and not event.repeat and event.station is not None
    seen = event.time

    def unseen(ms: MissionState | None) -> bool:
        return ms is None or (not ms.closed and (ms.opened is None or ms.opened > seen))

    opened = (
        [m.id for m in config.missions_at(event.station) if unseen(probe.missions.get(m.id))]
        if first and event.station is not None
        else []
    )
    if not opened and not engine.earned_badges(config, ctx.tour, probe, progress):
        return state
    group = progress.group if progress else None

    def change(current: VisitorState) -> None:
        for mission_id in opened:
            ms = current.missions.get(mission_id)
            if unseen(ms):
                current.missions.setdefault(mission_id, MissionState()).opened = seen
        before = len(current.badges)
        award_badges(ctx, config, current, group, progress)
        if len(current.badges) != before:
            current.version += 1

    try:
        # Written at the revision just read (saves a read); on a race, commit() reads again.
        change(probe)
        await ctx.tour_store.replace(key, probe, read.revision, ttl=ctx.visitor_ttl)
        state = probe
    except Conflict:
        state = await commit(ctx, config, change, visitor=visitor, now=event.time)
    return await flush(ctx, config, state, group)


async def set_nickname(
    ctx: PluginContext, config: QuestsConfig, nickname: str, *, progress: Progress | None
) -> VisitorState:
    group = progress.group if progress else None

    def change(state: VisitorState) -> None:
        if state.nickname == nickname:
            return
        state.nickname = nickname
        state.version += 1
        state.outbox.append(
            event(
                ctx,
                state,
                QuestNicknameChosen,
                group,
                id=fact_id(ctx.tour.key, state.visitor, "nickname", state.version),
            )
        )

    state = await commit(ctx, config, change)
    return await flush(ctx, config, state, group)
