"""The quest's panels on the station, start and finish pages."""

from __future__ import annotations

from promtour.context import PageContext
from promtour.plugin import Panel
from promtour.plugins.quests import engine, service
from promtour.plugins.quests.config import QuestsConfig
from promtour.plugins.quests.nicknames import MAX_LEN, MIN_LEN
from promtour.plugins.quests.state import Team, VisitorState, team_key
from promtour.plugins.quests.views import badge_views, base_url, mission_view

__all__ = ["finish_panel", "start_panel", "station_panel"]


async def _state(page: PageContext, config: QuestsConfig) -> VisitorState | None:
    """The visitor's record, with any events left over from a failed request published."""
    state = await service.load(page)
    if state is not None and state.outbox:
        state = await service.flush(page, config, state, page.visit.group if page.visit else None)
    return state


async def _team(page: PageContext, state: VisitorState | None) -> Team | None:
    if state is None or not state.team:
        return None
    return await page.store.get(team_key(page.tour, state.team), Team)


def _common(
    page: PageContext, config: QuestsConfig, state: VisitorState | None
) -> dict[str, object]:
    tour = page.tour
    base = base_url(tour)
    return {
        "base": base,
        "csrf_token": page.csrf_token,
        "score": state.score if state else 0,
        "max_score": engine.max_score(config, tour),
        "nickname": state.nickname if state else "",
        "board_url": f"{base}/board" if config.leaderboard != "hidden" else "",
        "min_len": MIN_LEN,
        "max_len": MAX_LEN,
    }


async def station_panel(page: PageContext) -> Panel | None:
    config: QuestsConfig = page.config
    station = page.station
    if station is None:
        return None
    missions = config.missions_at(station.id)
    tour = page.tour
    visited = page.visit.visited if page.visit else []
    state = await _state(page, config)
    opening = [
        m
        for m in missions
        if engine.availability(config, tour, m, state, visited)[0] == engine.Availability.OPEN
    ]
    state = await service.mark_opened(page, config, opening, state, page.visit)
    key = await service.option_key(page, page.visitor or "")
    views = [
        mission_view(config, tour, m, state, visited, lang=page.lang, key=key) for m in missions
    ]
    html = page.render(
        "quests/station.html",
        missions=views,
        here=f"/t/{tour.enterprise}/{tour.id}/at/{station.id}",
        **_common(page, config, state),
    )
    return Panel(title=page._("Quest"), html=html, order=20)


async def start_panel(page: PageContext) -> Panel:
    config: QuestsConfig = page.config
    tour = page.tour
    state = await _state(page, config)
    missions = engine.quest_missions(config, tour)
    html = page.render(
        "quests/start.html",
        intro=page.text(config.intro),
        missions=len(missions),
        stations=len({m.station for m in missions}),
        solved=state.solved if state else 0,
        team=await _team(page, state),
        here=f"/t/{tour.enterprise}/{tour.id}",
        **_common(page, config, state),
    )
    return Panel(title=page._("Quest"), html=html, order=20)


async def finish_panel(page: PageContext) -> Panel:
    config: QuestsConfig = page.config
    tour = page.tour
    state = await _state(page, config)
    html = page.render(
        "quests/finish.html",
        solved=state.solved if state else 0,
        missions=len(engine.quest_missions(config, tour)),
        badges=badge_views(config, state, page.lang, page._),
        team=await _team(page, state),
        certificate_url=(
            f"{base_url(tour)}/certificate" if state is not None and state.solved else ""
        ),
        here=f"/t/{tour.enterprise}/{tour.id}/finish",
        **_common(page, config, state),
    )
    return Panel(title=page._("Quest results"), html=html, order=20)
