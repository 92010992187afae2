"""The station panel's markup, rendered once per (tour revision, station, language).

The profession cards of a station depend on the tour (its config and station names)
and the language only, never on the visitor, so a scan reuses the markup rendered for
the first visitor. A saved tour is a new ``Tour`` and a new config object (the core
never changes a stored one in place), so the cache is keyed on their identities; each
entry keeps both objects alive, so an id cannot be reused by another tour while its
entry exists. The cache is bounded: the oldest entry goes first.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from promtour.context import PageContext
from promtour.models import Tour

__all__ = ["MAX_ENTRIES", "cached_panel", "clear", "store_panel"]

#: Entries kept (tours × stations × languages); a demo tour needs a few dozen.
MAX_ENTRIES = 512

_Key = tuple[int, int, str, str]
# key -> (tour, config, title, html); tour and config pin the identities in the key.
_cache: dict[_Key, tuple[Tour, Any, str, Markup]] = {}


def cached_panel(page: PageContext, station_id: str) -> tuple[str, Markup] | None:
    """The (title, html) rendered earlier for this tour, config, station and language."""
    tour, config = page.tour, page.config
    entry = _cache.get((id(tour), id(config), station_id, page.lang))
    if entry is None or entry[0] is not tour or entry[1] is not config:
        return None
    return entry[2], entry[3]


def store_panel(page: PageContext, station_id: str, title: str, html: Markup) -> None:
    """Keep a rendered panel; drops the oldest entry when the cache is full."""
    tour, config = page.tour, page.config
    while len(_cache) >= MAX_ENTRIES:
        del _cache[next(iter(_cache))]
    _cache[(id(tour), id(config), station_id, page.lang)] = (tour, config, title, html)


def clear() -> None:
    """Forget every rendered panel (tests)."""
    _cache.clear()
