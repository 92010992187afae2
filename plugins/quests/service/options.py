"""The per-tour key of the opaque option values, kept in the tour's store.

The values of a visitor's choices are an HMAC of the visitor id under a random
per-tour secret, so nothing in the page (not the CSRF token, not the cookie) lets
anyone work out which value is which option. The secret is read once per tour
revision (``ctx.cached``); it is erased with the tour's other records.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from promtour.plugin import PluginContext
from promtour.plugins.quests.records import SECRET_KEY, TourSecret

__all__ = ["option_key"]


async def _tour_secret(ctx: PluginContext) -> str:
    # create() is a no-op when another process made it first: everyone reads that one.
    await ctx.tour_store.create(SECRET_KEY, TourSecret(secret=secrets.token_hex(32)))
    stored = await ctx.tour_store.get(SECRET_KEY, TourSecret)
    assert stored is not None
    return stored.secret


async def option_key(ctx: PluginContext, visitor: str) -> str:
    """The key of a visitor's opaque option values."""
    secret: str = await ctx.cached("option-secret", lambda: _tour_secret(ctx))
    return hmac.new(secret.encode(), visitor.encode(), hashlib.sha256).hexdigest()
