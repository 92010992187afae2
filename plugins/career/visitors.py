"""A visitor's quiz answers and tour signals (pseudonymous: keyed by the visitor's
cookie id, never by a name), and the event handler that fills them.

Both records belong to one tour, so they live in ``ctx.tour_store``: the core erases
them when the plugin is disabled for the tour or the tour is deleted.

The handler runs at least once per event: each event id is counted once (the ids are
kept with the signals and checked inside the optimistic update), so a redelivered or
replayed event never inflates the profile.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from promtour.plugin import PluginContext, PluginStore, hookimpl, utcnow

from .config import CareerConfig
from .profile import Profile, Signals, apply_observation, build_profile, observe

__all__ = ["QuizResult", "handle_event", "load_profile", "quiz_key", "save_quiz", "signals_key"]


class QuizResult(msgspec.Struct, kw_only=True):
    answers: dict[str, int]
    scores: dict[str, float]
    taken: datetime = msgspec.field(default_factory=utcnow)


def quiz_key(visitor: str) -> str:
    """The key of a visitor's quiz result in the tour's store."""
    return f"quiz.{visitor}"


def signals_key(visitor: str) -> str:
    """The key of a visitor's tour signals in the tour's store."""
    return f"sig.{visitor}"


@hookimpl(specname="promtour_handle_event")
async def handle_event(event: Any, ctx: PluginContext) -> None:
    """Count an event of the visitor's tour as a profile signal (once per event id)."""
    if not event.visitor:
        return
    obs = observe(event)
    if obs is None:
        return
    store = ctx.tour_store
    key = signals_key(event.visitor)
    current = await store.read(key, Signals)
    if current.value is not None and obs.event_id in current.value.seen:
        return
    # The value just read is the first attempt (one read per event, not two); on a
    # concurrent write the update reads again and re-applies.
    await store.update(
        key,
        Signals,
        lambda signals: apply_observation(signals, obs),
        ttl=ctx.visitor_ttl,
        current=current,
    )


async def save_quiz(
    store: PluginStore, visitor: str, result: QuizResult, *, ttl: float | None = None
) -> None:
    """Keep a visitor's quiz result (``store``: the tour's store; ``ttl``: the
    context's ``visitor_ttl``)."""
    await store.put(quiz_key(visitor), result, ttl=ttl)


async def load_profile(
    store: PluginStore, visitor: str, config: CareerConfig
) -> tuple[Profile, Signals | None, QuizResult | None]:
    """The visitor's profile from the tour's store, with what it was built from."""
    quiz = await store.get(quiz_key(visitor), QuizResult)
    signals = await store.get(signals_key(visitor), Signals)
    profile = build_profile(quiz.scores if quiz else None, signals, config)
    return profile, signals, quiz
