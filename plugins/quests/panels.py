"""The quest's panels on the station, start and finish pages, through the render cache.

A panel is the same for every visitor but for a few values (the score, the nickname,
the team, the CSRF token, the opaque option values of a mission not yet touched). Each
panel is rendered once per tour revision, language and *variant* (what changes the
markup's shape: a nickname form shown or not, a team or none, the badges earned) with
slots for those values (``page.cached_frame``), and filled per visitor.

Every panel function takes ``cached=False`` to render the same panel directly with the
visitor's values, without the cache: what the frames must equal (a test holds that).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import msgspec
from markupsafe import Markup
from promtour.plugin import PageContext, Panel, hookimpl
from promtour.plugins.quests import engine
from promtour.plugins.quests.config import (
    Mission,
    MultipleChoice,
    OrderMission,
    QuestsConfig,
    SingleChoice,
)
from promtour.plugins.quests.nicknames import MAX_LEN, MIN_LEN
from promtour.plugins.quests.records import MissionState, Team, VisitorState
from promtour.plugins.quests.service import missions as mission_service
from promtour.plugins.quests.service.options import option_key
from promtour.plugins.quests.service.outbox import flush
from promtour.plugins.quests.service.teams import get_team
from promtour.plugins.quests.service.visitors import load
from promtour.plugins.quests.views import Option, badge_views, base_url, mission_view

__all__ = ["finish_panel", "start_panel", "station_panel"]


class _Values:
    """Hands a template the visitor's values: as slots for a cached frame (and keeps
    the values to fill them), or as they are for a direct render."""

    def __init__(self, page: PageContext, slotted: bool) -> None:
        self._page = page
        self.slotted = slotted
        self.filled: dict[str, object] = {}

    def slot(self, name: str, value: object) -> object:
        self.filled[name] = value
        return self._page.slot(name) if self.slotted else value

    def hide(self, value: object, stand_in: object) -> object:
        """A visitor value the frame's key already fixes the look of (e.g. whether
        there is a nickname): the frame gets ``stand_in`` instead."""
        return stand_in if self.slotted else value

    def join(self, name: str, items: list[Markup]) -> list[Markup]:
        """A list of markup rendered as one block (``{{- item -}}`` in a loop)."""
        self.filled[name] = Markup("".join(items))
        return [self._page.slot(name)] if self.slotted and items else items


async def _framed(
    page: PageContext,
    key: Hashable,
    template: str,
    values: Callable[[_Values], dict[str, Any]],
    *,
    cached: bool,
) -> Markup:
    """``template`` with ``values``: the frame cached under ``key`` (with the page's
    language), filled with this visitor's values; or a direct render."""
    fill = _Values(page, slotted=cached)
    fields = values(fill)
    if not cached:
        return page.render(template, **fields)
    frame = await page.cached_frame(key, lambda: str(page.render(template, **fields)))
    return frame.fill(fill.filled)


async def _state(page: PageContext, config: QuestsConfig) -> VisitorState | None:
    """The visitor's record, with any events left over from a failed request published."""
    state = await load(page)
    if state is not None and state.outbox:
        state = await flush(page, config, state, page.visit.group if page.visit else None)
    return state


async def _team(page: PageContext, state: VisitorState | None) -> Team | None:
    if state is None or not state.team:
        return None
    return await get_team(page, state.team)


async def _common(page: PageContext, config: QuestsConfig) -> dict[str, object]:
    """What every panel shows that depends on the tour only."""
    tour = page.tour
    base = base_url(tour)
    return {
        "base": base,
        "max_score": await page.cached("max-score", lambda: engine.max_score(config, tour)),
        "board_url": f"{base}/board" if config.leaderboard != "hidden" else "",
        "min_len": MIN_LEN,
        "max_len": MAX_LEN,
    }


class _TeamView(msgspec.Struct):
    code: object
    name: object
    score: object


def _team_view(v: _Values, team: Team | None) -> _TeamView | None:
    if team is None:
        return None
    return _TeamView(
        code=v.slot("team_code", team.code),
        name=v.slot("team_name", team.name),
        score=v.slot("team_score", team.score),
    )


# --- station -------------------------------------------------------------------------------


def _untouched(ms: MissionState | None) -> bool:
    """Nothing of the visitor shows on the card (``opened`` and ``tried`` do not)."""
    return ms is None or (
        ms.attempts == 0 and ms.hints == 0 and not ms.last and not ms.solved and not ms.failed
    )


async def _card(
    page: PageContext,
    config: QuestsConfig,
    mission: Mission,
    state: VisitorState | None,
    key: str,
    *,
    cached: bool,
) -> Markup:
    """An open mission the visitor has not touched: the same card for everyone but for
    the CSRF token and the options (opaque values, in an order derived from them)."""
    visited = page.visit.visited if page.visit else []
    view = mission_view(config, page.tour, mission, state, visited, lang=page.lang, key=key)
    per_visitor = isinstance(mission, SingleChoice | MultipleChoice | OrderMission)

    def values(v: _Values) -> dict[str, Any]:
        if per_visitor:
            view.options = [
                Option(v.slot(f"v{n}", o.value), v.slot(f"l{n}", o.label))  # type: ignore[arg-type]
                for n, o in enumerate(view.options)
            ]
        return {"m": view, "csrf_token": v.slot("csrf", page.csrf_token)}

    return await _framed(page, ("card", mission.id), "quests/mission.html", values, cached=cached)


@hookimpl(specname="promtour_station_panels")
async def station_panel(page: PageContext, *, cached: bool = True) -> Panel | None:
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
    state = await mission_service.mark_opened(page, config, opening, state, page.visit)
    key = await option_key(page, page.visitor or "")
    open_ids = {m.id for m in opening}
    cards: list[Markup] = []
    for m in missions:
        if m.id in open_ids and _untouched(state.missions.get(m.id) if state else None):
            cards.append(await _card(page, config, m, state, key, cached=cached))
        else:
            view = mission_view(config, tour, m, state, visited, lang=page.lang, key=key)
            cards.append(page.render("quests/mission.html", m=view, csrf_token=page.csrf_token))
    common = await _common(page, config)
    score = state.score if state else 0
    nickname = state.nickname if state else ""
    asks_nickname = bool(not nickname and score)

    def values(v: _Values) -> dict[str, Any]:
        return {
            **common,
            "score": v.slot("score", score),
            # Shown only in the nickname form, and only while there is none.
            "nickname": v.hide(nickname, "" if asks_nickname else "-"),
            "csrf_token": v.slot("csrf", page.csrf_token),
            "missions": v.join("cards", cards),
            "here": page.station_url(station),
        }

    frame_key = ("station", station.id, bool(cards), asks_nickname)
    html = await _framed(page, frame_key, "quests/station.html", values, cached=cached)
    return Panel(title=page._("Quest"), html=html, order=20)


# --- start and finish ----------------------------------------------------------------------


@hookimpl(specname="promtour_start_panels")
async def start_panel(page: PageContext, *, cached: bool = True) -> Panel:
    config: QuestsConfig = page.config
    state = await _state(page, config)
    team = await _team(page, state)
    quest = engine.quest_missions(config, page.tour)
    common = await _common(page, config)
    nickname = state.nickname if state else ""

    def values(v: _Values) -> dict[str, Any]:
        return {
            **common,
            "intro": page.text(config.intro),
            "missions": len(quest),
            "stations": len({m.station for m in quest}),
            "score": v.slot("score", state.score if state else 0),
            "nickname": v.slot("nickname", nickname) if nickname else "",
            "team": _team_view(v, team),
            "csrf_token": v.slot("csrf", page.csrf_token),
            "here": page.tour_url(),
        }

    key = ("start", bool(nickname), team is not None)
    html = await _framed(page, key, "quests/start.html", values, cached=cached)
    return Panel(title=page._("Quest"), html=html, order=20)


@hookimpl(specname="promtour_finish_panels")
async def finish_panel(page: PageContext, *, cached: bool = True) -> Panel:
    config: QuestsConfig = page.config
    tour = page.tour
    state = await _state(page, config)
    team = await _team(page, state)
    badges = badge_views(config, state, page.lang, page._)
    common = await _common(page, config)
    nickname = state.nickname if state else ""
    solved = state.solved if state else 0

    def values(v: _Values) -> dict[str, Any]:
        return {
            **common,
            "score": v.slot("score", state.score if state else 0),
            "solved": v.slot("solved", solved),
            "missions": len(engine.quest_missions(config, tour)),
            "badges": badges,
            "team": _team_view(v, team),
            "certificate_url": f"{base_url(tour)}/certificate" if solved else "",
            # Shown only in the nickname form, and only while there is none.
            "nickname": v.hide(nickname, "-" if nickname else ""),
            "csrf_token": v.slot("csrf", page.csrf_token),
            "here": page.tour_url("finish"),
        }

    key = (
        "finish",
        tuple(b.earned for b in badges),
        team is not None,
        bool(nickname),
        bool(solved),
    )
    html = await _framed(page, key, "quests/finish.html", values, cached=cached)
    return Panel(title=page._("Quest results"), html=html, order=20)
