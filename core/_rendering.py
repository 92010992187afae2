"""Panels and frames: markup rendered once per tour revision, filled per visitor.

A plugin's panel mostly depends on the tour and the language, and only in a few
places on the visitor (a CSRF token, a score, a resume position). The one way to
cache it: render the template once with :meth:`PageContext.slot` markers where the
visitor's values go, keep the result as a :class:`Frame` with
:meth:`PageContext.cached` (per tour revision: a saved tour starts a new cache), and
:meth:`Frame.fill` it for each visitor. A slot is filled with escaped text, or with
:class:`markupsafe.Markup` as is.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping

import msgspec
from markupsafe import Markup, escape

__all__ = ["Frame", "Panel", "slot"]

#: Differs per process, so no text from a tour or a visitor can forge a slot.
_NONCE = secrets.token_hex(6)
_SLOT = re.compile(rf"<!--slot:{_NONCE}:([A-Za-z0-9_.:-]+)-->")


def slot(name: str) -> Markup:
    """The marker of the visitor value ``name`` in markup that is cached as a Frame."""
    return Markup(f"<!--slot:{_NONCE}:{name}-->")


class Frame:
    """Markup with named slots, split once; :meth:`fill` joins it with the values."""

    __slots__ = ("_names", "_parts")

    def __init__(self, html: str) -> None:
        pieces = _SLOT.split(str(html))
        self._parts: tuple[str, ...] = tuple(pieces[0::2])
        self._names: tuple[str, ...] = tuple(pieces[1::2])

    @property
    def slots(self) -> tuple[str, ...]:
        return self._names

    def fill(self, values: Mapping[str, object] | None = None, /, **more: object) -> Markup:
        """The markup with every slot replaced; a missing value is an error (KeyError)."""
        given = {**(values or {}), **more}
        parts = self._parts
        out = [parts[0]]
        for index, name in enumerate(self._names):
            value = given[name]
            out.append(value if isinstance(value, Markup) else str(escape(value)))
            out.append(parts[index + 1])
        return Markup("".join(out))


class Panel(msgspec.Struct, kw_only=True):
    """A block of a visitor page. ``html`` is trusted markup: render it from a template."""

    title: str
    html: Markup | str
    #: Lower comes first.
    order: int = 100
    #: Set by the core: the plugin that contributed the panel.
    plugin: str = ""
    #: Set by the core when the plugin failed: the panel is a notice.
    failed: bool = False
