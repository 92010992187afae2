"""The quest's routes, under ``/p/quests/<enterprise>/<tour>/``, by audience:
:mod:`.missions` (answers and hints), :mod:`.profile` (nickname, certificate),
:mod:`.teams` and :mod:`.boards` (the leaderboards, live and for staff screens)."""

from __future__ import annotations

from promtour.plugins.quests.routes.boards import board_json, board_live, board_page
from promtour.plugins.quests.routes.missions import answer, hint
from promtour.plugins.quests.routes.profile import certificate, nickname
from promtour.plugins.quests.routes.teams import create_team, join_page, join_team, team_page

__all__ = ["ROUTES"]

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
