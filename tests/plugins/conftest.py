"""Fixtures shared by the built-in plugins' tests (the platform's own fixtures come from
``promtour.testing``, enabled in the root conftest.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import promtour.plugins.quests as quests_plugin
import pytest

QUESTS_ONLY = [("quests", quests_plugin)]


@pytest.fixture
def quest_app(make_platform, serve_app, new_tour) -> Callable[..., Awaitable[Any]]:
    """``setup, tour, server = await quest_app(config)``: a tour with the quest
    ``config`` on a platform of the quests plugin only, without consumers (only the
    requests write), and its app served."""

    async def start(config: dict[str, object]) -> tuple[Any, Any, Any]:
        setup = await make_platform(entrypoints=False, plugins=QUESTS_ONLY, consumers=False)
        tour = await new_tour(setup, plugins={"quests": config})
        return setup, tour, serve_app(entrypoints=False, plugins=QUESTS_ONLY)

    return start
