"""What the quest's routes share: opening the tour, the forms, the rate limits."""

from __future__ import annotations

import re

from litestar.exceptions import HTTPException, NotFoundException
from promtour.plugin import PluginContext, RateLimit, RequestContext, Tour, TourState
from promtour.plugins.quests import engine
from promtour.plugins.quests.config import Mission, QuestsConfig
from promtour.plugins.quests.nicknames import MAX_LEN, MIN_LEN, NicknameError

__all__ = [
    "ACTION_LIMIT",
    "ANSWER_LIMIT",
    "TEAM_CODE",
    "Gone",
    "find_mission",
    "first",
    "form",
    "nickname_error",
    "open_tour",
    "player",
]

#: Per visitor session (a school class shares one address), and per address for a
#: script that drops its cookie: thirty phones of a class, each at the visitor rate.
ANSWER_LIMIT = RateLimit(name="quests-answer", per_visitor=20, per_address=600, window=60.0)
ACTION_LIMIT = RateLimit(name="quests-action", per_visitor=30, per_address=900, window=60.0)
TEAM_CODE = re.compile(r"^[0-9]{6}$")


class Gone(HTTPException):
    status_code = 410


async def open_tour(
    pt: RequestContext, enterprise: str, tour_id: str
) -> tuple[TourState, PluginContext, QuestsConfig]:
    """The tour (404 if the quest is off for it), the plugin's context and its config."""
    state = await pt.tour(enterprise, tour_id)
    ctx = pt.context(state)
    config: QuestsConfig = ctx.config
    return state, ctx, config


async def form(pt: RequestContext) -> engine.Form:
    """The posted form with every field's values (an answer may pick several)."""
    raw = await pt.body(dict[str, str | list[str]])
    return {key: value if isinstance(value, list) else [value] for key, value in raw.items()}


def first(fields: engine.Form, name: str) -> str:
    return (fields.get(name) or [""])[0].strip()


def find_mission(pt: RequestContext, config: QuestsConfig, tour: Tour, mission_id: str) -> Mission:
    mission = config.mission(mission_id)
    station = tour.station(mission.station) if mission is not None else None
    if mission is None or station is None:
        raise NotFoundException(pt._("There is no such mission in this tour."))
    if not station.enabled:
        raise Gone(detail=pt._("This station is closed today. Please go on to the next one."))
    return mission


def player(pt: RequestContext) -> str:
    return pt._("Player")


def nickname_error(pt: RequestContext, exc: NicknameError) -> str:
    return pt._(str(exc)).format(min=MIN_LEN, max=MAX_LEN)
