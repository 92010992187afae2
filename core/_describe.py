"""What a plugin says about itself: one :class:`PluginInfo` from ``promtour_plugin_info``.

Everything a plugin brings besides its hooks is declared here in one place: its config
schema, its event types, its routes, the roles it needs and the CSS/JS its pages
include. Its ``templates/``, ``static/`` and ``locale/`` folders are found beside its
module (datasette's way), and its version comes from its distribution's metadata.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import msgspec
from promtour._events import tag_of

__all__ = ["NoConfig", "PluginInfo", "RoleSpec"]


class NoConfig(msgspec.Struct, forbid_unknown_fields=True):
    """The config schema of a plugin that has no per-tour settings."""


class RoleSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A role of enterprise staff that a plugin needs (e.g. ``guide``, ``hr``).

    Tokens can be created with it once the plugin is installed; ``admin`` may always do
    what the role may, and so may the core roles listed in ``granted_to``."""

    name: str
    title: dict[str, str]
    #: Core roles that may also do what this role may (``admin`` always may).
    granted_to: tuple[str, ...] = ()


class PluginInfo(msgspec.Struct, kw_only=True):
    name: str
    #: Shown in ``promtour plugins list`` and the console, per language.
    title: dict[str, str]
    description: dict[str, str] = msgspec.field(default_factory=dict)
    #: Filled from the installed distribution's metadata when left empty.
    version: str = ""
    #: msgspec Struct type for the per-tour config; its defaults are the default config.
    config: type[Any] = NoConfig
    #: The plugin's own event types (subclasses of ``Event`` with a unique tag).
    events: Sequence[type[Any]] = ()
    #: litestar route handlers, mounted under ``/p/<name>/``.
    routes: Sequence[Any] = ()
    #: Staff roles the plugin checks (see :meth:`RequestContext.require_role`).
    roles: Sequence[RoleSpec] = ()
    #: The prefix of bearer tokens the plugin issues and checks itself (e.g. ``"rto_"``):
    #: on the plugin's own routes such a request needs no CSRF token, so the routes must
    #: authenticate it (401 when it is not valid) and never act on a cookie instead.
    token_prefix: str = ""
    #: Files in the plugin's ``static/`` folder that every page of its tours includes.
    css: Sequence[str] = ()
    js: Sequence[str] = ()
    #: Pages of a tour worth announcing, e.g. ``{"Book a class visit":
    #: "t/{enterprise}/{tour}/book"}``: title -> path under ``/p/<name>/`` with the
    #: tour's ids filled in. ``promtour serve``/``demo`` print them under each tour.
    links: Mapping[str, str] = msgspec.field(default_factory=dict)
    #: Where the plugin's event consumer starts when it is first created: ``"new"``
    #: (events published from then on) or ``"first"`` (the stream's first event: a
    #: read model built from the whole history, rebuilt the same way).
    consume_from: Literal["new", "first"] = "new"
    #: Most events per call of ``promtour_handle_batch`` (for plugins that implement it).
    batch_size: int = 500
    #: The event types the plugin's ``promtour_handle_event`` / ``promtour_handle_batch``
    #: is given: event classes, or tags (``"career_quiz_completed"``) for types of
    #: plugins that may not be installed. Empty: every event. The plugin's consumer
    #: subscribes to these types only, so it neither fetches nor acknowledges the rest.
    handles: Sequence[type[Any] | str] = ()
    #: A staff page for an enterprise, linked from the console's menu under the
    #: plugin's title: a path with ``{enterprise}``, e.g. ``/p/analytics/{enterprise}/``.
    console_page: str = ""
    #: The role the page needs (``pt.require_role`` on the page, e.g. ``"hr"``): the
    #: menu links it only for principals who hold that role (admin always does, and so
    #: do the core roles the role is granted to). Empty: every role of the enterprise
    #: sees the link, so a page that checks a role must name it here.
    console_role: str = ""
    #: The menu's label of the page, per language (empty: the plugin's ``title``), for
    #: a page that is one task of the plugin rather than the whole of it.
    console_title: dict[str, str] = msgspec.field(default_factory=dict)

    def handled_tags(self) -> list[str]:
        """The tags of :attr:`handles` (empty: every event)."""
        return sorted({t if isinstance(t, str) else tag_of(t) for t in self.handles})
