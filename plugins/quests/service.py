"""The quest's writes: visitor state with an outbox, teams, and the daily boards.

Every change to a visitor goes through :func:`commit`: an optimistic read-modify-write
of the visitor's record (``PluginStore.update``), where the change function also
appends the events that describe it to the record's *outbox*. After the write,
:func:`flush` applies the projections (team credit, the day's board), publishes the
outbox (stable event ids: a second publish is dropped by the stream) and removes what
was published. If NATS fails in between, the events stay in the outbox and the next
request of that visitor publishes them: nothing accepted is lost, nothing counts twice.

Projections are idempotent: a team credits a mission only if no member has it yet (a
mission counts once per team), a board entry is replaced only by a newer version of
the visitor's record. The event consumer applies the same projections again from
``quest_mission_completed``, which repairs a request that died half-way and makes a
redelivered event harmless.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

import msgspec
import nats.errors
import nats.js.errors
from promtour.bus import BusUnavailable, Conflict, read, update_with_retry
from promtour.context import PluginContext
from promtour.events import Event, VisitorCheckedIn
from promtour.models import Progress, utcnow
from promtour.plugins.quests import engine
from promtour.plugins.quests.config import Mission, QuestsConfig
from promtour.plugins.quests.events import (
    QuestAnswerSubmitted,
    QuestBadgeAwarded,
    QuestCompleted,
    QuestEvent,
    QuestHintTaken,
    QuestMissionCompleted,
    QuestMissionFailed,
    QuestNicknameChosen,
    QuestTeamJoined,
    fact_id,
)
from promtour.plugins.quests.state import (
    Board,
    BoardEntry,
    MissionState,
    Team,
    TeamCredit,
    TourSecret,
    VisitorState,
    board_key,
    secret_key,
    team_key,
    visitor_key,
)

__all__ = [
    "AnswerOutcome",
    "TeamError",
    "answer",
    "commit",
    "create_team",
    "credit_of",
    "credit_team",
    "flush",
    "join_team",
    "load",
    "mark_opened",
    "on_check_in",
    "option_key",
    "purge_tour",
    "set_group",
    "set_nickname",
    "take_hint",
    "update_board",
]

T = TypeVar("T")
E = TypeVar("E", bound=Event)


class TeamError(Exception):
    """A team action that cannot be done (no such team, full, already scored elsewhere)."""

    def __init__(self, message: str, status: int = 409, **values: object) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.values = values


class _Missing(Exception):
    """The record to update does not exist (a team that was never created)."""


async def _update(
    ctx: PluginContext, key: str, type_: type[T], change: Callable[[T | None], T]
) -> T:
    """A visitor's record: ``PluginStore.update`` (one visitor rarely races with
    themselves; a double tap or the consumer at most)."""
    try:
        return await ctx.store.update(key, type_, change)
    except Conflict:
        await asyncio.sleep(random.uniform(0.01, 0.05))
        return await ctx.store.update(key, type_, change)


async def _update_shared(
    ctx: PluginContext, key: str, type_: type[T], change: Callable[[T | None], T]
) -> T:
    """A record many visitors write at once (a team, the day's board): the same
    optimistic read-modify-write as ``PluginStore.update`` (create when absent, else
    update at the revision read), but a writer that loses waits a random, growing
    moment before it reads again, so fifty members answering at once take turns
    instead of all re-reading after every write."""
    kv = await ctx.store.kv()
    decoder = msgspec.json.Decoder(type_)
    for attempt in range(80):
        current, revision = await read(kv, key, decoder)
        new = change(current)
        data = msgspec.json.encode(new)
        try:
            if revision is None:
                await kv.create(key, data)
            else:
                await kv.update(key, data, last=revision)
            return new
        except nats.js.errors.KeyWrongLastSequenceError:
            await asyncio.sleep(random.uniform(0, min(0.2, 0.002 * 2**attempt)))
        except (TimeoutError, nats.errors.Error) as exc:
            raise BusUnavailable(str(exc) or type(exc).__name__) from exc
    raise Conflict(f"too many concurrent updates of {key!r}")


_STATE_DECODER = msgspec.json.Decoder(VisitorState)


async def load(ctx: PluginContext, visitor: str | None = None) -> VisitorState | None:
    visitor = visitor or ctx.visitor
    if visitor is None:
        return None
    return await ctx.store.get(visitor_key(ctx.tour, visitor), VisitorState)


def _new_state(
    ctx: PluginContext, config: QuestsConfig, visitor: str, now: datetime | None = None
) -> VisitorState:
    now = now or utcnow()
    return VisitorState(
        visitor=visitor, tour=ctx.tour.key, day=engine.local_day(config, now), started=now
    )


async def commit(
    ctx: PluginContext,
    config: QuestsConfig,
    change: Callable[[VisitorState], None],
    *,
    visitor: str | None = None,
    now: datetime | None = None,
) -> VisitorState:
    """Apply ``change`` (which mutates the state and may append to its outbox) with
    optimistic concurrency; it may run more than once, on fresh copies. ``now`` is
    when a record created here was started (default: now)."""
    visitor = visitor or ctx.visitor
    assert visitor is not None

    def apply(current: VisitorState | None) -> VisitorState:
        state = current or _new_state(ctx, config, visitor, now)
        change(state)
        return state

    return await _update(ctx, visitor_key(ctx.tour, visitor), VisitorState, apply)


def _event(
    ctx: PluginContext, state: VisitorState, cls: type[E], group: str | None, **fields: object
) -> E:
    return ctx.event(cls, visitor=state.visitor, group=group, **fields)


async def flush(
    ctx: PluginContext, config: QuestsConfig, state: VisitorState, group: str | None
) -> VisitorState:
    """Project and publish the state's outbox, then drop what was published."""
    if not state.outbox:
        return state
    events: list[QuestEvent] = list(state.outbox)
    by_team: dict[str, dict[str, TeamCredit]] = {}
    for event in events:
        if isinstance(event, QuestMissionCompleted) and event.team and event.visitor:
            by_team.setdefault(event.team, {})[event.mission] = credit_of(event)
    for code, credits in by_team.items():
        await credit_team(ctx, code, credits)
    if any(
        isinstance(e, QuestMissionCompleted | QuestNicknameChosen | QuestTeamJoined) for e in events
    ):
        await update_board(ctx, state, group)
    if state.team and any(isinstance(e, QuestNicknameChosen | QuestTeamJoined) for e in events):
        await _sync_member(ctx, state)
    for event in events:
        await ctx.publish(event)
    published = {e.id for e in events}

    def clear(current: VisitorState | None) -> VisitorState:
        current = current or state
        current.outbox = [e for e in current.outbox if e.id not in published]
        return current

    return await _update(ctx, visitor_key(ctx.tour, state.visitor), VisitorState, clear)


# --- missions -------------------------------------------------------------------------


def _close_quest(
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
            _event(
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
    _award_badges(ctx, config, state, group, progress)


def _award_badges(
    ctx: PluginContext,
    config: QuestsConfig,
    state: VisitorState,
    group: str | None,
    progress: Progress | None,
) -> None:
    for badge in engine.earned_badges(config, ctx.tour, state, progress):
        state.badges.append(badge.id)
        state.outbox.append(
            _event(
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
) -> AnswerOutcome:
    """Count an answer once. The caller checked the check-in and the order rule
    (``current`` is the record it read for that, to save a read)."""
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
        now = utcnow()
        if ms.opened is None:
            # Shown at the check-in and not written then (see mark_opened).
            ms.opened = engine.first_seen(config, mission, progress)
        ms.attempts += 1
        state.version += 1
        state.outbox.append(
            _event(
                ctx,
                state,
                QuestAnswerSubmitted,
                group,
                id=fact_id(tour.key, state.visitor, mission.id, "answer", ms.attempts),
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
                _event(
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
                    _event(
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
            _close_quest(ctx, config, state, group, progress)

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
            _event(
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
    kv = await ctx.store.kv()
    key = visitor_key(ctx.tour, visitor)
    state, revision = await read(kv, key, _STATE_DECODER)
    probe = state or _new_state(ctx, config, visitor, event.time)
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
        _award_badges(ctx, config, current, group, progress)
        if len(current.badges) != before:
            current.version += 1

    def apply(current: VisitorState | None) -> VisitorState:
        new = current or _new_state(ctx, config, visitor, event.time)
        change(new)
        return new

    try:
        state, _ = await update_with_retry(kv, key, VisitorState, apply, first=(state, revision))
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
            _event(
                ctx,
                state,
                QuestNicknameChosen,
                group,
                id=fact_id(ctx.tour.key, state.visitor, "nickname", state.version),
            )
        )

    state = await commit(ctx, config, change)
    return await flush(ctx, config, state, group)


# --- teams ----------------------------------------------------------------------------


def _earlier(a: TeamCredit, b: TeamCredit) -> bool:
    return (a.at, a.visitor) < (b.at, b.visitor)


async def credit_team(ctx: PluginContext, code: str, credits: dict[str, TeamCredit]) -> Team | None:
    """Credit missions to a team. Per mission the earliest right answer of any member
    counts, once: crediting is a minimum, so repeating it (a retry, a redelivered
    event) or doing it in any order gives the same team."""
    key = team_key(ctx.tour, code)
    team = await ctx.store.get(key, Team)
    if team is None:
        return None
    if all(m in team.solved and not _earlier(c, team.solved[m]) for m, c in credits.items()):
        return team

    def change(current: Team | None) -> Team:
        if current is None:
            raise _Missing(code)
        for mission, credit in credits.items():
            have = current.solved.get(mission)
            if have is None or _earlier(credit, have):
                current.solved[mission] = credit
        return current

    try:
        return await _update_shared(ctx, key, Team, change)
    except _Missing:
        return None


def credit_of(event: QuestMissionCompleted) -> TeamCredit:
    assert event.visitor is not None
    return TeamCredit(visitor=event.visitor, points=event.points, at=event.time)


def _solved_credits(state: VisitorState) -> dict[str, TeamCredit]:
    return {
        mission: TeamCredit(visitor=state.visitor, points=ms.points, at=ms.closed_at)
        for mission, ms in state.missions.items()
        if ms.solved and ms.closed_at is not None
    }


def _scored_for(team: Team | None, visitor: str) -> bool:
    return team is not None and any(c.visitor == visitor for c in team.solved.values())


async def _leave(ctx: PluginContext, code: str, visitor: str) -> None:
    def change(current: Team | None) -> Team:
        if current is None:
            raise _Missing(code)
        current.members.pop(visitor, None)
        return current

    try:
        await _update_shared(ctx, team_key(ctx.tour, code), Team, change)
    except _Missing:
        pass


async def _switch_to(
    ctx: PluginContext,
    config: QuestsConfig,
    team: Team,
    *,
    created: bool,
    progress: Progress | None,
) -> VisitorState:
    group = progress.group if progress else None
    previous: str | None = None

    def change(state: VisitorState) -> None:
        nonlocal previous
        if state.team == team.code:
            return
        previous = state.team
        state.team = team.code
        state.version += 1
        state.outbox.append(
            _event(
                ctx,
                state,
                QuestTeamJoined,
                group,
                id=fact_id(ctx.tour.key, state.visitor, "team", team.code),
                team=team.code,
                created=created,
            )
        )

    state = await commit(ctx, config, change)
    if previous:
        await _leave(ctx, previous, state.visitor)
    # The member's earlier right answers count for the team too (earliest wins).
    credits = _solved_credits(state)
    if credits and state.team:
        await credit_team(ctx, state.team, credits)
    return await flush(ctx, config, state, group)


async def _check_can_switch(ctx: PluginContext, state: VisitorState | None, code: str) -> None:
    if state is None or not state.team or state.team == code:
        return
    old = await ctx.store.get(team_key(ctx.tour, state.team), Team)
    if _scored_for(old, state.visitor):
        raise TeamError(
            "You already scored for team {team}: your answers stay with it.",
            team=old.name if old else state.team,
        )


async def join_team(
    ctx: PluginContext, config: QuestsConfig, code: str, *, progress: Progress | None
) -> Team:
    """Join the team ``code`` (idempotent). A visitor is in one team per tour and
    cannot switch after scoring for their team."""
    visitor = ctx.visitor
    assert visitor is not None
    state = await load(ctx)
    await _check_can_switch(ctx, state, code)
    nickname = state.nickname if state else ""
    key = team_key(ctx.tour, code)

    def change(current: Team | None) -> Team:
        if current is None:
            raise _Missing(code)
        if visitor not in current.members:
            if len(current.members) >= config.team_size:
                raise TeamError("This team is full ({size} people).", size=config.team_size)
            current.members[visitor] = nickname
        return current

    try:
        team = await _update_shared(ctx, key, Team, change)
    except _Missing:
        raise TeamError("There is no team with this code in this tour.", status=404) from None
    await _switch_to(ctx, config, team, created=False, progress=progress)
    return team


async def create_team(
    ctx: PluginContext, config: QuestsConfig, name: str, *, progress: Progress | None
) -> Team:
    """A new team with a six-digit code, the creator its first member."""
    visitor = ctx.visitor
    assert visitor is not None
    state = await load(ctx)
    await _check_can_switch(ctx, state, "")
    now = utcnow()
    for _ in range(50):
        code = str(100_000 + secrets.randbelow(900_000))
        team = Team(
            code=code,
            name=name,
            day=engine.local_day(config, now),
            members={visitor: state.nickname if state else ""},
        )
        if await ctx.store.create(team_key(ctx.tour, code), team):
            break
    else:  # pragma: no cover - a million codes per tour
        raise TeamError("Could not find a free team code; try again.", status=503)
    await _switch_to(ctx, config, team, created=True, progress=progress)
    return team


async def _sync_member(ctx: PluginContext, state: VisitorState) -> None:
    """Keep the member's nickname on the team page current."""
    if not state.team:
        return
    key = team_key(ctx.tour, state.team)
    team = await ctx.store.get(key, Team)
    if team is None or team.members.get(state.visitor, None) == state.nickname:
        return

    def change(current: Team | None) -> Team:
        if current is None:
            raise _Missing(state.team)
        if state.visitor in current.members:
            current.members[state.visitor] = state.nickname
        return current

    try:
        await _update_shared(ctx, key, Team, change)
    except _Missing:
        pass


# --- boards ---------------------------------------------------------------------------


def _entry_current(entry: BoardEntry | None, state: VisitorState, group: str | None) -> bool:
    return entry is not None and entry.version >= state.version and entry.group == group


async def update_board(ctx: PluginContext, state: VisitorState, group: str | None) -> None:
    """Put the visitor's score on their day's board (once they solved something)."""
    if state.solved == 0:
        return
    key = board_key(ctx.tour, state.day)
    board = await ctx.store.get(key, Board)
    if board is not None and _entry_current(board.entries.get(state.visitor), state, group):
        return

    def change(current: Board | None) -> Board:
        current = current or Board(day=state.day)
        entry = current.entries.get(state.visitor)
        if entry is not None and entry.version >= state.version:
            if entry.group != group:
                entry.group = group
            return current
        reached = entry.reached if entry is not None and entry.score == state.score else utcnow()
        current.entries[state.visitor] = BoardEntry(
            nickname=state.nickname,
            score=state.score,
            solved=state.solved,
            group=group,
            team=state.team,
            reached=reached,
            version=state.version,
        )
        return current

    await _update_shared(ctx, key, Board, change)


async def set_group(ctx: PluginContext, visitor: str, group: str | None) -> None:
    """A visitor joined a group: move their board entry to it."""
    state = await load(ctx, visitor)
    if state is None or state.solved == 0:
        return
    key = board_key(ctx.tour, state.day)
    board = await ctx.store.get(key, Board)
    entry = board.entries.get(visitor) if board else None
    if entry is None or entry.group == group:
        return

    def change(current: Board | None) -> Board:
        current = current or Board(day=state.day)
        found = current.entries.get(visitor)
        if found is not None:
            found.group = group
        return current

    await _update_shared(ctx, key, Board, change)


async def purge_tour(ctx: PluginContext) -> int:
    """Remove every quest record of the tour (visitors, teams, boards); the number."""
    removed = 0
    key = ctx.tour.key
    # The option secret (k.<tour>) stays: other processes keep it cached.
    for prefix in (f"v.{key}.", f"t.{key}.", f"b.{key}."):
        for name in await ctx.store.keys(prefix):
            await ctx.store.purge(name)
            removed += 1
    return removed


#: Each process keeps the tour secrets it has read (they never change).
_secrets: dict[str, str] = {}


async def option_key(ctx: PluginContext, visitor: str) -> str:
    """The key of a visitor's opaque option values: an HMAC of the visitor id with a
    random per-tour secret kept in the store, so nothing in the page (not the CSRF
    token, not the cookie) lets anyone work out which value is which option."""
    tour_key = ctx.tour.key
    secret = _secrets.get(tour_key)
    if secret is None:
        await ctx.store.create(secret_key(ctx.tour), TourSecret(secret=secrets.token_hex(32)))
        stored = await ctx.store.get(secret_key(ctx.tour), TourSecret)
        assert stored is not None
        secret = _secrets[tour_key] = stored.secret
    return hmac.new(secret.encode(), visitor.encode(), hashlib.sha256).hexdigest()
