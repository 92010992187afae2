"""The quest's panels on the station, start and finish pages."""

from __future__ import annotations

import re

import msgspec
from markupsafe import Markup, escape
from promtour.context import PageContext
from promtour.models import Tour
from promtour.plugin import Panel
from promtour.plugins.quests import engine, service
from promtour.plugins.quests.config import (
    Mission,
    MultipleChoice,
    OrderMission,
    QuestsConfig,
    SingleChoice,
)
from promtour.plugins.quests.nicknames import MAX_LEN, MIN_LEN
from promtour.plugins.quests.state import MissionState, Team, VisitorState, team_key
from promtour.plugins.quests.views import Option, badge_views, base_url, mission_view

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


#: tour key -> (config, tour, the quest's maximum score) for the objects it was counted on.
_max_scores: dict[str, tuple[QuestsConfig, Tour, int]] = {}


def _max_score(config: QuestsConfig, tour: Tour) -> int:
    """``engine.max_score``, counted once per tour revision (a saved tour brings new
    config and tour objects)."""
    known = _max_scores.get(tour.key)
    if known is not None and known[0] is config and known[1] is tour:
        return known[2]
    score = engine.max_score(config, tour)
    if len(_max_scores) >= _CARDS_MAX:
        _max_scores.clear()
    _max_scores[tour.key] = (config, tour, score)
    return score


def _common(
    page: PageContext, config: QuestsConfig, state: VisitorState | None
) -> dict[str, object]:
    tour = page.tour
    base = base_url(tour)
    return {
        "base": base,
        "csrf_token": page.csrf_token,
        "score": state.score if state else 0,
        "max_score": _max_score(config, tour),
        "nickname": state.nickname if state else "",
        "board_url": f"{base}/board" if config.leaderboard != "hidden" else "",
        "min_len": MIN_LEN,
        "max_len": MAX_LEN,
    }


# --- a mission card not yet touched, rendered once --------------------------------------
#
# An open mission the visitor has not answered nor taken a hint of looks the same for
# every visitor but for the CSRF token and the options (opaque values, in an order
# derived from them). Its card is rendered once per tour, language and mission with
# markers in their place, and a scan fills them in: the same HTML as a fresh render.

_MARK = re.compile("\ue000([a-z0-9]+)\ue001")


def _mark(name: str) -> str:
    return f"\ue000{name}\ue001"


class _Card(msgspec.Struct):
    #: The objects the card was rendered from: a saved tour brings new ones.
    config: QuestsConfig
    tour: Tour
    #: The card cut at its markers (odd items name them): ``c`` the CSRF token,
    #: ``v<n>``/``l<n>`` the value and label of the option shown n-th.
    pieces: list[str]
    #: The options' labels (escaped), by config index; empty if not per visitor.
    labels: list[str]


#: (tour key, language, mission id) -> card; cleared when it grows past _CARDS_MAX.
_cards: dict[tuple[str, str, str], _Card] = {}
_CARDS_MAX = 1024


def _untouched(ms: MissionState | None) -> bool:
    """Nothing of the visitor shows on the card (``opened`` and ``tried`` do not)."""
    return ms is None or (
        ms.attempts == 0 and ms.hints == 0 and not ms.last and not ms.solved and not ms.failed
    )


def _card(
    page: PageContext,
    config: QuestsConfig,
    tour: Tour,
    mission: Mission,
    state: VisitorState | None,
    visited: list[str],
) -> _Card:
    cache_key = (tour.key, page.lang, mission.id)
    card = _cards.get(cache_key)
    if card is not None and card.config is config and card.tour is tour:
        return card
    view = mission_view(config, tour, mission, state, visited, lang=page.lang, key="")
    labels: list[str] = []
    if isinstance(mission, SingleChoice | MultipleChoice | OrderMission):
        texts = (
            [c.text for c in mission.choices]
            if isinstance(mission, SingleChoice | MultipleChoice)
            else mission.steps
        )
        labels = [str(escape(page.text(text))) for text in texts]
        view.options = [Option(_mark(f"v{n}"), _mark(f"l{n}")) for n in range(len(labels))]
    html = str(page.render("quests/mission.html", m=view, csrf_token=_mark("c")))
    card = _Card(config=config, tour=tour, pieces=_MARK.split(html), labels=labels)
    if len(_cards) >= _CARDS_MAX:
        _cards.clear()
    _cards[cache_key] = card
    return card


def _fill(card: _Card, mission: Mission, csrf_token: str, key: str) -> Markup:
    values = {"c": str(escape(csrf_token))}
    if card.labels:
        for n, (token, index) in enumerate(engine.display_options(key, mission)):
            values[f"v{n}"] = token
            values[f"l{n}"] = card.labels[index]
    return Markup(_join(card.pieces, values))


def _join(pieces: list[str], values: dict[str, str]) -> str:
    parts = list(pieces)
    for n in range(1, len(parts), 2):
        parts[n] = values[parts[n]]
    return "".join(parts)


class _Frame(msgspec.Struct):
    """The panel around the cards, for a visitor not asked for a nickname: the same for
    everyone at a station but for the score (marker ``s``) and the cards (``k``)."""

    config: QuestsConfig
    tour: Tour
    pieces: list[str]


#: (tour key, language, station id) -> frame; cleared when it grows past _CARDS_MAX.
_frames: dict[tuple[str, str, str], _Frame] = {}


def _frame(
    page: PageContext,
    config: QuestsConfig,
    tour: Tour,
    station: str,
    common: dict[str, object],
    empty: bool,
) -> _Frame:
    cache_key = (tour.key, page.lang, station)
    frame = _frames.get(cache_key)
    if frame is not None and frame.config is config and frame.tour is tour:
        return frame
    # Whatever of the visitor the frame might show is a marker or a value that hides
    # the nickname form (the only part that differs between such visitors).
    values = {**common, "score": _mark("s"), "nickname": "-", "csrf_token": _mark("c")}
    html = page.render(
        "quests/station.html",
        missions=[] if empty else [Markup(_mark("k"))],
        here=f"/t/{tour.enterprise}/{tour.id}/at/{station}",
        **values,
    )
    frame = _Frame(config=config, tour=tour, pieces=_MARK.split(str(html)))
    if len(_frames) >= _CARDS_MAX:
        _frames.clear()
    _frames[cache_key] = frame
    return frame


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
    open_ids = {m.id for m in opening}
    cards: list[Markup] = []
    for m in missions:
        if m.id in open_ids and _untouched(state.missions.get(m.id) if state else None):
            card = _card(page, config, tour, m, state, visited)
            cards.append(_fill(card, m, page.csrf_token, key))
        else:
            view = mission_view(config, tour, m, state, visited, lang=page.lang, key=key)
            cards.append(page.render("quests/mission.html", m=view, csrf_token=page.csrf_token))
    common = _common(page, config, state)
    if common["nickname"] or not common["score"]:
        # Not asked for a nickname: the frame is the same for everyone at the station.
        frame = _frame(page, config, tour, station.id, common, not cards)
        filled = {"s": str(common["score"]), "k": "".join(cards), "c": str(escape(page.csrf_token))}
        html = Markup(_join(frame.pieces, filled))
    else:
        html = page.render(
            "quests/station.html",
            missions=cards,
            here=f"/t/{tour.enterprise}/{tour.id}/at/{station.id}",
            **common,
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
