"""Visitors answering: an answer or a hint, as a form that works without JavaScript
(303 back to the station page) or by ``fetch`` with ``Accept: application/json``
(the re-rendered mission back).

Every answer is checked here, on the server: the check-in at the mission's station
(403 otherwise), the order rule, the attempt limit and a rate limit.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, post
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.params import FromPath
from promtour.plugin import (
    PT,
    PluginContext,
    Progress,
    RateLimit,
    RequestContext,
    Tour,
    pick_text,
)
from promtour.plugins.quests import engine
from promtour.plugins.quests.config import Mission, QuestsConfig
from promtour.plugins.quests.records import VisitorState
from promtour.plugins.quests.routes.common import (
    ACTION_LIMIT,
    ANSWER_LIMIT,
    find_mission,
    first,
    form,
    open_tour,
)
from promtour.plugins.quests.service import missions
from promtour.plugins.quests.service.options import option_key
from promtour.plugins.quests.service.visitors import load
from promtour.plugins.quests.views import mission_view

__all__ = ["answer", "hint"]


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
    visited = progress.visited if progress else []
    view = mission_view(config, tour, mission, state, visited, lang=pt.lang_for(tour), key=key)
    return pt.render("quests/mission.html", m=view, csrf_token=pt.csrf_token, tour=tour)


def _outcome_message(pt: RequestContext, result: str, points: int, left: int) -> str:
    if result == "correct":
        return pt.ngettext("Right! +{n} point.", "Right! +{n} points.", points).format(n=points)
    if result == "wrong":
        if left == 0:
            return pt._("Not right, and that was the last attempt.")
        return pt._("Not right. Attempts left: {left}.").format(left=left)
    if result == "repeat":
        return pt._("You already tried this answer; it did not cost an attempt.")
    if result == "solved":
        return pt._("You already solved this mission.")
    return pt._("No attempts left for this mission.")


async def _open_mission(
    pt: RequestContext, enterprise: str, tour_id: str, mission_id: str, limit: RateLimit
) -> tuple[PluginContext, QuestsConfig, Mission, Progress | None, VisitorState | None, str]:
    """The mission, counted against ``limit``, with the visitor's progress, record and
    the mission's status (403 unless the visitor may answer it now)."""
    tour_state, ctx, config = await open_tour(pt, enterprise, tour_id)
    tour = tour_state.tour
    mission = find_mission(pt, config, tour, mission_id)
    pt.limit(limit)
    progress = await ctx.progress()
    current = await load(ctx)
    status = _require_open(pt, config, tour, mission, current, progress)
    return ctx, config, mission, progress, current, status


def _back(tour: Tour, mission: Mission) -> str:
    return f"/t/{tour.enterprise}/{tour.id}/at/{mission.station}#m-{mission.id}"


@post(
    "/{enterprise:str}/{tour_id:str}/m/{mission_id:str}/answer",
    include_in_schema=False,
    status_code=200,
)
async def answer(
    pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], mission_id: FromPath[str]
) -> Response[Any]:
    """Check an answer; count it once (a repeated or double-tapped answer is free)."""
    ctx, config, mission, progress, current, _ = await _open_mission(
        pt, enterprise, tour_id, mission_id, ANSWER_LIMIT
    )
    tour = ctx.tour
    fields = await form(pt)
    try:
        key = await option_key(ctx, pt.visitor)
        canonical, correct = engine.evaluate(mission, fields, key, tour)
    except engine.AnswerError as exc:
        raise HTTPException(
            status_code=400, detail=pt._(exc.message).format(**exc.values)
        ) from None
    outcome = await missions.answer(
        ctx,
        config,
        mission,
        canonical,
        correct,
        progress=progress,
        current=current,
        at=pt.action_time,
    )
    if outcome.result == "no_attempts":
        raise PermissionDeniedException(pt._("No attempts left for this mission."))
    if not pt.wants_json:
        return pt.redirect(_back(tour, mission))
    left = max(engine.max_attempts(config, mission) - outcome.mission.attempts, 0)
    body = {
        "result": outcome.result,
        "correct": outcome.result in ("correct", "solved"),
        "message": _outcome_message(pt, outcome.result, outcome.mission.points, left),
        "score": outcome.state.score,
        "html": _render_mission(pt, key, config, tour, mission, outcome.state, progress),
    }
    return pt.answer(body)


@post(
    "/{enterprise:str}/{tour_id:str}/m/{mission_id:str}/hint",
    include_in_schema=False,
    status_code=200,
)
async def hint(
    pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], mission_id: FromPath[str]
) -> Response[Any]:
    """Take the mission's next hint (it costs its points off the mission's award)."""
    ctx, config, mission, progress, _, status = await _open_mission(
        pt, enterprise, tour_id, mission_id, ACTION_LIMIT
    )
    tour = ctx.tour
    if status == engine.Availability.SOLVED:
        raise HTTPException(status_code=409, detail=pt._("You already solved this mission."))
    number = first(await form(pt), "n")
    if not number.isdecimal() or int(number) >= len(mission.hints):
        raise HTTPException(status_code=400, detail=pt._("This mission has no such hint."))
    state = await missions.take_hint(ctx, config, mission, int(number), progress=progress)
    if not pt.wants_json:
        return pt.redirect(_back(tour, mission))
    key = await option_key(ctx, pt.visitor)
    html = _render_mission(pt, key, config, tour, mission, state, progress)
    return pt.answer({"score": state.score, "html": html})
