"""A visitor's quest record: read it, and change it with optimistic concurrency.

Every change to a visitor goes through :func:`commit`: a read-modify-write of the
record (``PluginStore.update``), where the change may also append the events that
describe it to the record's outbox (see :mod:`.outbox`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from promtour.plugin import Event, PluginContext, utcnow
from promtour.plugins.quests import engine
from promtour.plugins.quests.config import QuestsConfig
from promtour.plugins.quests.records import VisitorState, visitor_key

__all__ = ["commit", "event", "load", "new_state"]

E = TypeVar("E", bound=Event)


async def load(ctx: PluginContext, visitor: str | None = None) -> VisitorState | None:
    """The visitor's record (default: the context's visitor), None before their first."""
    visitor = visitor or ctx.visitor
    if visitor is None:
        return None
    return await ctx.tour_store.get(visitor_key(visitor), VisitorState)


def new_state(
    ctx: PluginContext, config: QuestsConfig, visitor: str, now: datetime | None = None
) -> VisitorState:
    now = now or utcnow()
    return VisitorState(
        visitor=visitor, tour=ctx.tour.key, day=engine.local_day(config, now), started=now
    )


async def commit(
    ctx: PluginContext,
    config: QuestsConfig,
    change: Callable[[VisitorState], None],
    *,
    visitor: str | None = None,
    now: datetime | None = None,
) -> VisitorState:
    """Apply ``change`` (which mutates the state and may append to its outbox) with
    optimistic concurrency; it may run more than once, on fresh copies. ``now`` is
    when a record created here was started (default: now)."""
    who = visitor or ctx.visitor
    assert who is not None

    def apply(current: VisitorState | None) -> VisitorState:
        state = current or new_state(ctx, config, who, now)
        change(state)
        return state

    return await ctx.tour_store.update(visitor_key(who), VisitorState, apply, ttl=ctx.visitor_ttl)


def event(
    ctx: PluginContext, state: VisitorState, cls: type[E], group: str | None, **fields: Any
) -> E:
    """An event about the record's visitor (the context may be the consumer's)."""
    return ctx.event(cls, visitor=state.visitor, group=group, **fields)
