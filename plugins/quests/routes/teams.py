"""Teams: create one, join one by its code or QR, and the team's page."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from promtour.plugin import PT, PluginContext, RequestContext, qr_svg
from promtour.plugins.quests.nicknames import NicknameError, check_nickname
from promtour.plugins.quests.records import Team
from promtour.plugins.quests.routes.common import (
    ACTION_LIMIT,
    TEAM_CODE,
    first,
    form,
    nickname_error,
    open_tour,
    player,
)
from promtour.plugins.quests.service import membership
from promtour.plugins.quests.service.teams import TeamError, get_team
from promtour.plugins.quests.service.visitors import load
from promtour.plugins.quests.views import base_url, team_rows

__all__ = ["create_team", "join_page", "join_team", "team_page"]


def _team_error(pt: RequestContext, exc: TeamError) -> HTTPException:
    return HTTPException(status_code=exc.status, detail=pt._(exc.message).format(**exc.values))


@post("/{enterprise:str}/{tour_id:str}/team", include_in_schema=False, status_code=200)
async def create_team(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> Response[Any]:
    """Create a team; the creator joins it and gets its code and QR to share."""
    tour_state, ctx, config = await open_tour(pt, enterprise, tour_id)
    pt.limit(ACTION_LIMIT)
    fields = await form(pt)
    try:
        name = check_nickname(first(fields, "name"))
    except NicknameError as exc:
        raise HTTPException(
            status_code=400,
            detail=pt._("Team name: {reason}").format(reason=nickname_error(pt, exc)),
        ) from None
    try:
        team = await membership.create_team(ctx, config, name, progress=await ctx.progress())
    except TeamError as exc:
        raise _team_error(pt, exc) from None
    return pt.redirect(f"{base_url(tour_state.tour)}/team/{team.code}")


@post("/{enterprise:str}/{tour_id:str}/team/join", include_in_schema=False, status_code=200)
async def join_team(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> Response[Any]:
    """Join a team by its six-digit code (typed, or from the team's QR)."""
    tour_state, ctx, config = await open_tour(pt, enterprise, tour_id)
    pt.limit(ACTION_LIMIT)
    code = first(await form(pt), "code").replace(" ", "")
    if not TEAM_CODE.match(code):
        raise HTTPException(status_code=400, detail=pt._("A team code has six digits."))
    try:
        team = await membership.join_team(ctx, config, code, progress=await ctx.progress())
    except TeamError as exc:
        raise _team_error(pt, exc) from None
    return pt.redirect(f"{base_url(tour_state.tour)}/team/{team.code}")


async def _team(pt: RequestContext, ctx: PluginContext, code: str) -> Team:
    team = await get_team(ctx, code) if TEAM_CODE.match(code) else None
    if team is None:
        raise NotFoundException(pt._("There is no team with this code in this tour."))
    return team


@get("/{enterprise:str}/{tour_id:str}/team/{code:str}", include_in_schema=False)
async def team_page(
    pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], code: FromPath[str]
) -> Response[str]:
    """Who is in the team and who solved what (by nickname), with its code and QR."""
    tour_state, ctx, config = await open_tour(pt, enterprise, tour_id)
    tour = tour_state.tour
    team = await _team(pt, ctx, code)
    state = await load(ctx)
    missions, members = team_rows(
        config, tour, team, lang=pt.lang_for(tour), player=player(pt), viewer=pt.visitor
    )
    join_url = f"{pt.public_url}{base_url(tour)}/team/{team.code}/join"
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
    tour_state, ctx, _ = await open_tour(pt, enterprise, tour_id)
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
