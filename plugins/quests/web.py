"""The quest's routes, under ``/p/quests/<enterprise>/<tour>/``.

Answers and hints are forms that work without JavaScript (303 back to the station
page); ``quests.js`` sends the same forms with ``fetch`` and ``Accept:
application/json`` and gets the re-rendered mission back. Every answer is checked
here, on the server: the check-in at the mission's station (403 otherwise), the
order rule, the attempt limit and a per-visitor rate limit.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from babel.dates import format_date
from litestar import Request, Response, get, post
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.response import ServerSentEvent
from promtour.auth import principal_from_request
from promtour.context import PluginContext
from promtour.events import Event, VisitorJoinedGroup, subject_for
from promtour.models import Progress, Tour, pick_text, utcnow
from promtour.plugins.quests import engine, service
from promtour.plugins.quests.config import Mission, QuestsConfig
from promtour.plugins.quests.events import (
    QuestMissionCompleted,
    QuestNicknameChosen,
    QuestTeamJoined,
)
from promtour.plugins.quests.nicknames import MAX_LEN, MIN_LEN, NicknameError, check_nickname
from promtour.plugins.quests.state import Board, Team, VisitorState, board_key, team_key
from promtour.plugins.quests.views import (
    BoardView,
    badge_views,
    base_url,
    board_view,
    mission_view,
    team_rows,
)
from promtour.qr import qr_svg
from promtour.tours import TourState
from promtour.web.request import PT, RequestContext
from promtour.web.security import RateLimiter
from promtour.web.sse import SseMessage, event_stream

__all__ = ["ROUTES"]

#: Counted per visitor session (a school class shares one IP).
ANSWER_LIMIT = RateLimiter(20, 60.0)
ACTION_LIMIT = RateLimiter(30, 60.0)
TEAM_CODE = re.compile(r"^[0-9]{6}$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
GROUP = re.compile(r"^[A-Za-z0-9-]{2,16}$")
#: Events after which a live board is sent again.
BOARD_EVENTS = (QuestMissionCompleted, QuestNicknameChosen, QuestTeamJoined, VisitorJoinedGroup)

Form = dict[str, list[str]]


class TooManyRequests(HTTPException):
    status_code = 429


class Gone(HTTPException):
    status_code = 410


# --- helpers ----------------------------------------------------------------------------


async def _open(
    pt: RequestContext, enterprise: str, tour_id: str
) -> tuple[TourState, PluginContext]:
    state = await pt.tour(enterprise, tour_id)
    return state, pt.context(state)


def _config(ctx: PluginContext) -> QuestsConfig:
    config: QuestsConfig = ctx.config
    return config


async def _form(request: Request[Any, Any, Any]) -> Form:
    form = await request.form()
    return {key: [str(v) for v in form.getall(key)] for key in form}


def _first(form: Form, name: str) -> str:
    return (form.get(name) or [""])[0].strip()


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    return "application/json" in (request.headers.get("accept") or "")


def _safe_next(value: str, fallback: str) -> str:
    """Only a path on this site (never ``//host`` or a full URL)."""
    parts = urlsplit(value)
    if value.startswith("/") and not value.startswith("//") and not parts.netloc:
        return value
    return fallback


def _mission(pt: RequestContext, config: QuestsConfig, tour: Tour, mission_id: str) -> Mission:
    mission = config.mission(mission_id)
    if mission is None or tour.station(mission.station) is None:
        raise NotFoundException(pt._("There is no such mission in this tour."))
    station = tour.station(mission.station)
    if station is not None and not station.enabled:
        raise Gone(detail=pt._("This station is closed today. Please go on to the next one."))
    return mission


def _require_open(
    pt: RequestContext,
    config: QuestsConfig,
    tour: Tour,
    mission: Mission,
    state: VisitorState | None,
    progress: Progress | None,
) -> str:
    """403 with the reason unless the visitor may answer the mission now."""
    visited = progress.visited if progress else []
    status, waits = engine.availability(config, tour, mission, state, visited)
    lang = pt.lang_for(tour)
    if status == engine.Availability.NEEDS_CHECKIN:
        station = tour.station(mission.station)
        assert station is not None
        raise PermissionDeniedException(
            pt._(
                "Scan the QR code at station {number} «{name}» first: a mission opens "
                "only after a check-in at its station."
            ).format(number=station.number, name=pick_text(station.name, lang))
        )
    if status == engine.Availability.WAITS:
        blocking = tour.station(waits or "")
        raise PermissionDeniedException(
            pt._("This mission opens after the missions at station {number} «{name}».").format(
                number=blocking.number if blocking else "?",
                name=pick_text(blocking.name, lang) if blocking else "",
            )
        )
    if status == engine.Availability.FAILED:
        raise PermissionDeniedException(pt._("No attempts left for this mission."))
    return status


def _render_mission(
    pt: RequestContext,
    key: str,
    config: QuestsConfig,
    tour: Tour,
    mission: Mission,
    state: VisitorState | None,
    progress: Progress | None,
) -> str:
    view = mission_view(
        config,
        tour,
        mission,
        state,
        progress.visited if progress else [],
        lang=pt.lang_for(tour),
        key=key,
    )
    return pt.render("quests/mission.html", m=view, csrf_token=pt.csrf_token, tour=tour)


def _outcome_message(pt: RequestContext, result: str, points: int, left: int) -> str:
    if result == "correct":
        return pt._("Right! +{points} points.").format(points=points)
    if result == "wrong":
        if left == 0:
            return pt._("Not right, and that was the last attempt.")
        return pt._("Not right. Attempts left: {left}.").format(left=left)
    if result == "repeat":
        return pt._("You already tried this answer; it did not cost an attempt.")
    if result == "solved":
        return pt._("You already solved this mission.")
    return pt._("No attempts left for this mission.")


def _player(pt: RequestContext) -> str:
    return pt._("Player")


# --- missions ---------------------------------------------------------------------------


@post(
    "/{enterprise:str}/{tour_id:str}/m/{mission_id:str}/answer",
    include_in_schema=False,
    status_code=200,
)
async def answer(
    pt: PT,
    request: Request[Any, Any, Any],
    enterprise: FromPath[str],
    tour_id: FromPath[str],
    mission_id: FromPath[str],
) -> Response[Any]:
    """Check an answer; count it once (a repeated or double-tapped answer is free)."""
    tour_state, ctx = await _open(pt, enterprise, tour_id)
    tour = tour_state.tour
    config = _config(ctx)
    mission = _mission(pt, config, tour, mission_id)
    if not ANSWER_LIMIT.allow(pt.visitor):
        raise TooManyRequests(
            detail=pt._("Too many answers in a short time. Take a closer look and try in a minute.")
        )
    progress = await ctx.progress()
    current = await service.load(ctx)
    _require_open(pt, config, tour, mission, current, progress)
    form = await _form(request)
    try:
        key = await service.option_key(ctx, pt.visitor)
        canonical, correct = engine.evaluate(mission, form, key, tour)
    except engine.AnswerError as exc:
        raise HTTPException(
            status_code=400, detail=pt._(exc.message).format(**exc.values)
        ) from None
    outcome = await service.answer(
        ctx, config, mission, canonical, correct, progress=progress, current=current
    )
    if outcome.result == "no_attempts":
        raise PermissionDeniedException(pt._("No attempts left for this mission."))
    if not _wants_json(request):
        return pt.redirect(f"/t/{enterprise}/{tour_id}/at/{mission.station}#m-{mission.id}")
    body = {
        "result": outcome.result,
        "correct": outcome.result in ("correct", "solved"),
        "message": _outcome_message(
            pt,
            outcome.result,
            outcome.mission.points,
            max(engine.max_attempts(config, mission) - outcome.mission.attempts, 0),
        ),
        "score": outcome.state.score,
        "html": _render_mission(pt, key, config, tour, mission, outcome.state, progress),
    }
    return pt.finish(Response(body, status_code=200))


@post(
    "/{enterprise:str}/{tour_id:str}/m/{mission_id:str}/hint",
    include_in_schema=False,
    status_code=200,
)
async def hint(
    pt: PT,
    request: Request[Any, Any, Any],
    enterprise: FromPath[str],
    tour_id: FromPath[str],
    mission_id: FromPath[str],
) -> Response[Any]:
    """Take the mission's next hint (it costs its points off the mission's award)."""
    tour_state, ctx = await _open(pt, enterprise, tour_id)
    tour = tour_state.tour
    config = _config(ctx)
    mission = _mission(pt, config, tour, mission_id)
    if not ACTION_LIMIT.allow(pt.visitor):
        raise TooManyRequests(detail=pt._("Too many requests in a short time. Wait a minute."))
    progress = await ctx.progress()
    current = await service.load(ctx)
    status = _require_open(pt, config, tour, mission, current, progress)
    if status == engine.Availability.SOLVED:
        raise HTTPException(status_code=409, detail=pt._("You already solved this mission."))
    form = await _form(request)
    number = _first(form, "n")
    if not number.isdecimal() or int(number) >= len(mission.hints):
        raise HTTPException(status_code=400, detail=pt._("This mission has no such hint."))
    state = await service.take_hint(ctx, config, mission, int(number), progress=progress)
    if not _wants_json(request):
        return pt.redirect(f"/t/{enterprise}/{tour_id}/at/{mission.station}#m-{mission.id}")
    body = {
        "score": state.score,
        "html": _render_mission(
            pt, await service.option_key(ctx, pt.visitor), config, tour, mission, state, progress
        ),
    }
    return pt.finish(Response(body, status_code=200))


# --- nickname ---------------------------------------------------------------------------


def _nickname_error(pt: RequestContext, exc: NicknameError) -> str:
    return pt._(str(exc)).format(min=MIN_LEN, max=MAX_LEN)


@post("/{enterprise:str}/{tour_id:str}/nickname", include_in_schema=False, status_code=200)
async def nickname(
    pt: PT, request: Request[Any, Any, Any], enterprise: FromPath[str], tour_id: FromPath[str]
) -> Response[Any]:
    """Choose a nickname for boards, the team page and the certificate."""
    tour_state, ctx = await _open(pt, enterprise, tour_id)
    config = _config(ctx)
    if not ACTION_LIMIT.allow(pt.visitor):
        raise TooManyRequests(detail=pt._("Too many requests in a short time. Wait a minute."))
    form = await _form(request)
    back = _safe_next(_first(form, "next"), f"/t/{enterprise}/{tour_id}")
    try:
        name = check_nickname(_first(form, "nickname"))
    except NicknameError as exc:
        message = _nickname_error(pt, exc)
        if _wants_json(request):
            raise HTTPException(status_code=400, detail=message) from None
        return pt.page(
            "quests/nickname_page.html",
            status=400,
            tour=tour_state.tour,
            title=pt._("Your nickname"),
            error=message,
            value=_first(form, "nickname")[:40],
            action=f"{base_url(tour_state.tour)}/nickname",
            back=back,
            min_len=MIN_LEN,
            max_len=MAX_LEN,
        )
    await service.set_nickname(ctx, config, name, progress=await ctx.progress())
    return pt.redirect(back)


# --- teams ------------------------------------------------------------------------------


def _team_error(pt: RequestContext, exc: service.TeamError) -> str:
    return pt._(exc.message).format(**exc.values)


@post("/{enterprise:str}/{tour_id:str}/team", include_in_schema=False, status_code=200)
async def create_team(
    pt: PT, request: Request[Any, Any, Any], enterprise: FromPath[str], tour_id: FromPath[str]
) -> Response[Any]:
    """Create a team; the creator joins it and gets its code and QR to share."""
    tour_state, ctx = await _open(pt, enterprise, tour_id)
    config = _config(ctx)
    if not ACTION_LIMIT.allow(pt.visitor):
        raise TooManyRequests(detail=pt._("Too many requests in a short time. Wait a minute."))
    form = await _form(request)
    try:
        name = check_nickname(_first(form, "name"))
    except NicknameError as exc:
        raise HTTPException(
            status_code=400,
            detail=pt._("Team name: {reason}").format(reason=_nickname_error(pt, exc)),
        ) from None
    try:
        team = await service.create_team(ctx, config, name, progress=await ctx.progress())
    except service.TeamError as exc:
        raise HTTPException(status_code=exc.status, detail=_team_error(pt, exc)) from None
    return pt.redirect(f"{base_url(tour_state.tour)}/team/{team.code}")


@post("/{enterprise:str}/{tour_id:str}/team/join", include_in_schema=False, status_code=200)
async def join_team(
    pt: PT, request: Request[Any, Any, Any], enterprise: FromPath[str], tour_id: FromPath[str]
) -> Response[Any]:
    """Join a team by its six-digit code (typed, or from the team's QR)."""
    tour_state, ctx = await _open(pt, enterprise, tour_id)
    config = _config(ctx)
    if not ACTION_LIMIT.allow(pt.visitor):
        raise TooManyRequests(detail=pt._("Too many requests in a short time. Wait a minute."))
    form = await _form(request)
    code = _first(form, "code").replace(" ", "")
    if not TEAM_CODE.match(code):
        raise HTTPException(status_code=400, detail=pt._("A team code has six digits."))
    try:
        team = await service.join_team(ctx, config, code, progress=await ctx.progress())
    except service.TeamError as exc:
        raise HTTPException(status_code=exc.status, detail=_team_error(pt, exc)) from None
    return pt.redirect(f"{base_url(tour_state.tour)}/team/{team.code}")


async def _team(pt: RequestContext, ctx: PluginContext, code: str) -> Team:
    team = await ctx.store.get(team_key(ctx.tour, code), Team) if TEAM_CODE.match(code) else None
    if team is None:
        raise NotFoundException(pt._("There is no team with this code in this tour."))
    return team


def _join_url(pt: RequestContext, tour: Tour, code: str) -> str:
    return f"{pt.platform.settings.public_url}{base_url(tour)}/team/{code}/join"


@get("/{enterprise:str}/{tour_id:str}/team/{code:str}", include_in_schema=False)
async def team_page(
    pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], code: FromPath[str]
) -> Response[str]:
    """Who is in the team and who solved what (by nickname), with its code and QR."""
    tour_state, ctx = await _open(pt, enterprise, tour_id)
    tour = tour_state.tour
    config = _config(ctx)
    team = await _team(pt, ctx, code)
    lang = pt.lang_for(tour)
    state = await service.load(ctx)
    missions, members = team_rows(
        config, tour, team, lang=lang, player=_player(pt), viewer=pt.visitor
    )
    join_url = _join_url(pt, tour, team.code)
    return pt.page(
        "quests/team_page.html",
        tour=tour,
        title=pt._("Team {name}").format(name=team.name),
        team=team,
        missions=missions,
        members=members,
        member=pt.visitor in team.members,
        mine=state is not None and state.team == team.code,
        qr=qr_svg(join_url, int(team.code), team.name),
        join_url=join_url,
        board_url=f"{base_url(tour)}/board" if config.leaderboard != "hidden" else "",
    )


@get("/{enterprise:str}/{tour_id:str}/team/{code:str}/join", include_in_schema=False)
async def join_page(
    pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], code: FromPath[str]
) -> Response[str]:
    """Where a team's QR leads: a button to join (a GET never changes anything)."""
    tour_state, ctx = await _open(pt, enterprise, tour_id)
    team = await _team(pt, ctx, code)
    return pt.page(
        "quests/join_page.html",
        tour=tour_state.tour,
        title=pt._("Join team {name}").format(name=team.name),
        team=team,
        member=pt.visitor in team.members,
        action=f"{base_url(tour_state.tour)}/team/join",
        team_url=f"{base_url(tour_state.tour)}/team/{team.code}",
    )


# --- leaderboards -----------------------------------------------------------------------


async def _is_staff(request: Request[Any, Any, Any], enterprise: str) -> bool:
    if not request.headers.get("authorization"):
        return False
    try:
        principal = await principal_from_request(request)
    except HTTPException:
        return False
    return principal.enterprise == enterprise and principal.can("guide")


async def _board_scope(
    pt: RequestContext,
    request: Request[Any, Any, Any],
    ctx: PluginContext,
    config: QuestsConfig,
    group: str,
    day: str,
) -> tuple[str, str | None, Progress | None]:
    """The day and group a visitor may see, by the tour's board setting."""
    if day and not DAY.match(day):
        raise HTTPException(status_code=400, detail=pt._("A day looks like 2025-05-17."))
    if group and not GROUP.match(group):
        raise HTTPException(status_code=400, detail=pt._("There is no such group."))
    day = day or engine.local_day(config, utcnow())
    progress = await ctx.progress()
    if config.leaderboard == "public" or await _is_staff(request, ctx.tour.enterprise):
        return day, group.upper() or None, progress
    if config.leaderboard == "hidden":
        raise NotFoundException(pt._("The organisers have hidden the leaderboard of this tour."))
    own = progress.group if progress else None
    if not own:
        raise PermissionDeniedException(
            pt._("This tour shows only group leaderboards: join your group on the tour page.")
        )
    return day, own, progress


async def _board(pt: RequestContext, ctx: PluginContext, day: str, group: str | None) -> BoardView:
    board = await ctx.store.get(board_key(ctx.tour, day), Board)
    state = await service.load(ctx)
    entries = board.entries.values() if board is not None else []
    codes = {e.team for e in entries if e.team and (group is None or e.group == group)}
    teams = []
    for code in sorted(codes):
        team = await ctx.store.get(team_key(ctx.tour, code), Team)
        if team is not None:
            teams.append(team)
    return board_view(
        board,
        teams,
        day=day,
        group=group,
        viewer=pt.visitor,
        viewer_team=state.team if state else None,
        player=_player(pt),
    )


def _render_board(pt: RequestContext, tour: Tour, view: BoardView) -> str:
    day = format_date(date.fromisoformat(view.day), format="long", locale=pt.lang_for(tour))
    return pt.render("quests/_board.html", board=view, tour=tour, day_label=day)


@get("/{enterprise:str}/{tour_id:str}/board", include_in_schema=False)
async def board_page(
    pt: PT,
    request: Request[Any, Any, Any],
    enterprise: FromPath[str],
    tour_id: FromPath[str],
    group: FromQuery[str] = "",
    day: FromQuery[str] = "",
) -> Response[str]:
    """Today's leaderboard of the tour (or of one group), updated live."""
    tour_state, ctx = await _open(pt, enterprise, tour_id)
    config = _config(ctx)
    day, scope, progress = await _board_scope(pt, request, ctx, config, group, day)
    view = await _board(pt, ctx, day, scope)
    query = f"?day={day}" + (f"&group={scope}" if scope else "")
    own = progress.group if progress else None
    return pt.page(
        "quests/board_page.html",
        tour=tour_state.tour,
        title=pt._("Leaderboard"),
        board_html=_render_board(pt, tour_state.tour, view),
        live_url=f"{base_url(tour_state.tour)}/board/live{query}",
        scope=scope,
        own_group=own if config.leaderboard == "public" else None,
        all_url=f"{base_url(tour_state.tour)}/board" if config.leaderboard == "public" else "",
        day=day,
    )


@get("/{enterprise:str}/{tour_id:str}/board/live", include_in_schema=False)
async def board_live(
    pt: PT,
    request: Request[Any, Any, Any],
    enterprise: FromPath[str],
    tour_id: FromPath[str],
    group: FromQuery[str] = "",
    day: FromQuery[str] = "",
) -> ServerSentEvent:
    """The board as Server-Sent Events: sent at once, then after every event that can
    change it (a mission solved, a nickname, a team, a group joined)."""
    tour_state, ctx = await _open(pt, enterprise, tour_id)
    config = _config(ctx)
    day, scope, _ = await _board_scope(pt, request, ctx, config, group, day)

    async def message() -> SseMessage:
        view = await _board(pt, ctx, day, scope)
        return SseMessage(
            event="board", data={"html": _render_board(pt, tour_state.tour, view), "day": day}
        )

    async def to_message(seq: int, event: Event) -> SseMessage | None:
        if not isinstance(event, BOARD_EVENTS):
            return None
        return await message()

    # Events from just before the first board on, so none falls between the two.
    since = utcnow()
    first = await message()
    subject = subject_for(enterprise, tour_id, ">")
    return event_stream(pt, subject, to_message, since=since, first=[first])


@get("/{enterprise:str}/{tour_id:str}/board.json", include_in_schema=False)
async def board_json(
    pt: PT,
    request: Request[Any, Any, Any],
    enterprise: FromPath[str],
    tour_id: FromPath[str],
    group: FromQuery[str] = "",
    day: FromQuery[str] = "",
) -> BoardView:
    """The same board as JSON, for a kiosk screen or the guide's console. Staff tokens
    (guide and up) read it even when the tour hides it from visitors."""
    _, ctx = await _open(pt, enterprise, tour_id)
    config = _config(ctx)
    day, scope, _ = await _board_scope(pt, request, ctx, config, group, day)
    return await _board(pt, ctx, day, scope)


# --- certificate ------------------------------------------------------------------------


@get("/{enterprise:str}/{tour_id:str}/certificate", include_in_schema=False)
async def certificate(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> Response[str]:
    """A printable certificate: nickname, tour, enterprise, date, score and badges."""
    tour_state, ctx = await _open(pt, enterprise, tour_id)
    tour = tour_state.tour
    config = _config(ctx)
    state = await service.load(ctx)
    if state is None or state.solved == 0:
        raise NotFoundException(pt._("Solve at least one mission to get a certificate."))
    lang = pt.lang_for(tour)
    company = await ctx.enterprise()
    when = state.completed or utcnow()
    day = date.fromisoformat(engine.local_day(config, when))
    return pt.page(
        "quests/certificate.html",
        tour=tour,
        title=pt._("Certificate"),
        nickname=state.nickname,
        completed=state.completed is not None,
        tour_name=pick_text(tour.name, lang),
        enterprise_name=pick_text(company.name, lang) if company else tour.enterprise,
        date=format_date(day, format="long", locale=lang),
        iso_date=day.isoformat(),
        score=state.score,
        max_score=engine.max_score(config, tour),
        solved=state.solved,
        missions=len(engine.quest_missions(config, tour)),
        badges=[b for b in badge_views(config, state, lang, pt._) if b.earned],
        action=f"{base_url(tour)}/nickname",
        here=f"{base_url(tour)}/certificate",
        min_len=MIN_LEN,
        max_len=MAX_LEN,
    )


ROUTES = [
    answer,
    hint,
    nickname,
    create_team,
    join_team,
    team_page,
    join_page,
    board_page,
    board_live,
    board_json,
    certificate,
]
