"""A visitor's quiz answers and tour signals in the plugin's store (pseudonymous: keyed
by the visitor's cookie id, never by a name), and the event handler that fills them.

The handler runs at least once per event: each event id is counted once (the ids are
kept with the signals and checked inside the optimistic update), so a redelivered or
replayed event never inflates the profile.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from promtour.bus import read, update_with_retry
from promtour.context import PluginContext
from promtour.models import Tour, utcnow
from promtour.store import PluginStore

from .config import CareerConfig
from .profile import Profile, Signals, apply_observation, build_profile, observe

__all__ = ["QuizResult", "handle_event", "load_profile", "quiz_key", "save_quiz", "signals_key"]


class QuizResult(msgspec.Struct, kw_only=True):
    answers: dict[str, int]
    scores: dict[str, float]
    taken: datetime = msgspec.field(default_factory=utcnow)


_signals_decoder = msgspec.json.Decoder(Signals)


def quiz_key(tour: Tour, visitor: str) -> str:
    return f"quiz.{tour.key}.{visitor}"


def signals_key(tour: Tour, visitor: str) -> str:
    return f"sig.{tour.key}.{visitor}"


async def handle_event(event: Any, ctx: PluginContext) -> None:
    """Count an event of the visitor's tour as a profile signal (once per event id)."""
    if not event.visitor:
        return
    obs = observe(event)
    if obs is None:
        return
    key = signals_key(ctx.tour, event.visitor)
    kv = await ctx.store.kv()
    current, revision = await read(kv, key, _signals_decoder)
    if current is not None and obs.event_id in current.seen:
        return
    # The value just read is the update's first attempt (one KV read per event, not
    # two); on a concurrent write the update reads again and re-applies.
    await update_with_retry(
        kv,
        key,
        Signals,
        lambda signals: apply_observation(signals, obs),
        first=(current, revision),
    )


async def save_quiz(store: PluginStore, tour: Tour, visitor: str, result: QuizResult) -> None:
    await store.put(quiz_key(tour, visitor), result)


async def load_profile(
    store: PluginStore, tour: Tour, visitor: str, config: CareerConfig
) -> tuple[Profile, Signals | None, QuizResult | None]:
    quiz = await store.get(quiz_key(tour, visitor), QuizResult)
    signals = await store.get(signals_key(tour, visitor), Signals)
    profile = build_profile(quiz.scores if quiz else None, signals, config)
    return profile, signals, quiz
