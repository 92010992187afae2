"""Leaderboards: the page visitors see, its live updates (SSE), and the JSON a kiosk
screen or a guide's console reads (staff with the ``guide`` role read a board the
tour hides from visitors)."""

from __future__ import annotations

import re
from datetime import date

from babel.dates import format_date
from litestar import Response, get
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.response import ServerSentEvent
from promtour.plugin import (
    PT,
    Event,
    PluginContext,
    Progress,
    RequestContext,
    SseMessage,
    Tour,
    VisitorJoinedGroup,
    event_stream,
    subject_for,
    utcnow,
)
from promtour.plugins.quests import engine
from promtour.plugins.quests.config import QuestsConfig
from promtour.plugins.quests.events import (
    QuestMissionCompleted,
    QuestNicknameChosen,
    QuestTeamJoined,
)
from promtour.plugins.quests.routes.common import open_tour, player
from promtour.plugins.quests.service.boards import get_board
from promtour.plugins.quests.service.teams import get_team
from promtour.plugins.quests.service.visitors import load
from promtour.plugins.quests.views import BoardView, base_url, board_view

__all__ = ["board_json", "board_live", "board_page"]

DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
GROUP = re.compile(r"^[A-Za-z0-9-]{2,16}$")
#: Events after which a live board is sent again.
BOARD_EVENTS = (QuestMissionCompleted, QuestNicknameChosen, QuestTeamJoined, VisitorJoinedGroup)


async def _is_staff(pt: RequestContext, enterprise: str) -> bool:
    """A staff token of the tour's enterprise that may act as a guide."""
    if not pt.request.headers.get("authorization"):
        return False
    try:
        await pt.require_role(enterprise, "guide")
    except HTTPException:
        return False
    return True


async def _board_scope(
    pt: RequestContext, ctx: PluginContext, config: QuestsConfig, group: str, day: str
) -> tuple[str, str | None, Progress | None]:
    """The day and group a visitor may see, by the tour's board setting."""
    if day and not DAY.match(day):
        raise HTTPException(status_code=400, detail=pt._("A day looks like 2025-05-17."))
    if group and not GROUP.match(group):
        raise HTTPException(status_code=400, detail=pt._("There is no such group."))
    day = day or engine.local_day(config, utcnow())
    progress = await ctx.progress()
    if config.leaderboard == "public" or await _is_staff(pt, ctx.tour.enterprise):
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
    board = await get_board(ctx, day)
    state = await load(ctx)
    entries = board.entries.values() if board is not None else []
    codes = {e.team for e in entries if e.team and (group is None or e.group == group)}
    teams = [team for code in sorted(codes) if (team := await get_team(ctx, code)) is not None]
    return board_view(
        board,
        teams,
        day=day,
        group=group,
        viewer=pt.visitor,
        viewer_team=state.team if state else None,
        player=player(pt),
    )


def _render_board(pt: RequestContext, tour: Tour, view: BoardView) -> str:
    day = format_date(date.fromisoformat(view.day), format="long", locale=pt.lang_for(tour))
    return pt.render("quests/_board.html", board=view, tour=tour, day_label=day)


@get("/{enterprise:str}/{tour_id:str}/board", include_in_schema=False)
async def board_page(
    pt: PT,
    enterprise: FromPath[str],
    tour_id: FromPath[str],
    group: FromQuery[str] = "",
    day: FromQuery[str] = "",
) -> Response[str]:
    """Today's leaderboard of the tour (or of one group), updated live."""
    tour_state, ctx, config = await open_tour(pt, enterprise, tour_id)
    tour = tour_state.tour
    day, scope, progress = await _board_scope(pt, ctx, config, group, day)
    view = await _board(pt, ctx, day, scope)
    query = f"?day={day}" + (f"&group={scope}" if scope else "")
    own = progress.group if progress else None
    public = config.leaderboard == "public"
    return pt.page(
        "quests/board_page.html",
        tour=tour,
        title=pt._("Leaderboard"),
        board_html=_render_board(pt, tour, view),
        live_url=f"{base_url(tour)}/board/live{query}",
        scope=scope,
        own_group=own if public else None,
        all_url=f"{base_url(tour)}/board" if public else "",
        day=day,
    )


@get("/{enterprise:str}/{tour_id:str}/board/live", include_in_schema=False)
async def board_live(
    pt: PT,
    enterprise: FromPath[str],
    tour_id: FromPath[str],
    group: FromQuery[str] = "",
    day: FromQuery[str] = "",
) -> ServerSentEvent:
    """The board as Server-Sent Events: sent at once, then after every event that can
    change it (a mission solved, a nickname, a team, a group joined)."""
    tour_state, ctx, config = await open_tour(pt, enterprise, tour_id)
    day, scope, _ = await _board_scope(pt, ctx, config, group, day)

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
    enterprise: FromPath[str],
    tour_id: FromPath[str],
    group: FromQuery[str] = "",
    day: FromQuery[str] = "",
) -> BoardView:
    """The same board as JSON, for a kiosk screen or the guide's console. Staff tokens
    (guide and up) read it even when the tour hides it from visitors."""
    _, ctx, config = await open_tour(pt, enterprise, tour_id)
    day, scope, _ = await _board_scope(pt, ctx, config, group, day)
    return await _board(pt, ctx, day, scope)
