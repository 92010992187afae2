"""The hooks a promtour plugin can implement, grouped by phase.

Implement a hook with ``@hookimpl`` (from :mod:`promtour.plugin`) on a function of the
same name in a module (or object) registered under the entry-point group ``promtour``. Hooks marked
*awaitable* may be ``async def`` or return an awaitable; the core awaits it.

Hooks that run for a tour (panels, events, teardown) are called only on the plugins
enabled for that tour, one implementation at a time, each with a time limit and its
own error handling: a failing plugin costs only its own contribution.
"""

from __future__ import annotations

from argparse import _SubParsersAction
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from promtour._consumers import StreamEvent
    from promtour._context import EnterpriseContext, PageContext, PluginContext
    from promtour._describe import PluginInfo
    from promtour._events import Event
    from promtour._fields import Problem
    from promtour._models import Tour
    from promtour._rendering import Panel

hookspec = pluggy.HookspecMarker("promtour")

__all__ = ["hookspec"]


# --- Describe: what the plugin is and what it brings ----------------------------------


@hookspec
def promtour_plugin_info() -> PluginInfo:
    """Describe the plugin: its name, title, per-tour config schema, event types,
    routes, staff roles and the CSS/JS its pages include.

    Returns a :class:`promtour.plugin.PluginInfo`. ``name`` must equal the name the
    plugin is registered under (its entry-point name). ``config`` is a msgspec Struct
    type; a tour's ``[plugins.<name>]`` table is converted to it when the tour is saved,
    and its defaults are the plugin's default config. ``routes`` are litestar handlers
    mounted under ``/p/<name>/``; a handler declares ``pt: PT`` to get the
    :class:`promtour.plugin.RequestContext`. The plugin's ``templates/``, ``static/``
    and ``locale/`` folders beside its module are found by the core, and ``version``
    defaults to its distribution's version.

    Call rule: called on each plugin separately. Not awaitable.
    """


@hookspec
def promtour_cli_commands(subparsers: _SubParsersAction[Any]) -> None:
    """Add sub-commands to the ``promtour`` command line.

    ``subparsers`` is the argparse sub-parser collection; set ``func`` on the parser
    with ``parser.set_defaults(func=...)``. The function gets the parsed arguments and
    returns an exit code; it may be ``async def``.

    Call rule: called on every plugin. Not awaitable.
    """


@hookspec
def promtour_import_demo(ctx: EnterpriseContext, demo_dir: Path) -> Awaitable[None] | None:
    """Add the plugin's part of the demo after ``promtour demo`` imported the demo's
    enterprises and tours from ``demo_dir`` (``config/demo``): records the demo needs
    that are not part of a tour (enable the plugin in the demo tours' files instead).
    ``ctx`` is the plugin's context of no enterprise: its ``store`` and ``publish``.
    Must be idempotent: the demo is imported at every start.

    Call rule: called on every plugin, one at a time. Awaitable.
    """


# --- Tours: config validation and teardown --------------------------------------


@hookspec
def promtour_validate_config(
    tour: Tour, config: Any, media: frozenset[str]
) -> Sequence[str | Problem]:
    """Check a tour's config for this plugin beyond its schema (stations that exist,
    media files that exist in ``media``, the tour's languages).

    ``config`` is the already converted config Struct. Return a list of error messages,
    each naming the station, item and key; an empty list accepts the config. A message
    may be a :class:`~promtour.plugin.Problem` (a msgid with values and the field's
    path): the console then shows it translated, naming the field as its form does.

    Call rule: called only on the plugin whose config is checked. Not awaitable.
    """


@hookspec
def promtour_tour_teardown(ctx: PluginContext) -> Awaitable[None] | None:
    """Clean up after the plugin was disabled for a tour, or the tour was deleted.

    The core erases the tour's records in ``ctx.tour_store`` itself, after this hook;
    implement it only for records kept elsewhere.

    Call rule: each formerly enabled plugin separately, isolated. Awaitable.
    """


# --- Pages: what the visitor sees --------------------------------------------------------


@hookspec
def promtour_station_panels(page: PageContext) -> Panel | Sequence[Panel] | None:
    """Contribute panels to a station page (``page.station`` is set).

    Call rule: each plugin enabled for the tour separately, with a time limit; an
    exception or a time-out replaces that plugin's panels by a notice. Awaitable.
    """


@hookspec
def promtour_page_gate(page: PageContext) -> Panel | None:
    """Hold back a visitor page behind one panel (a safety briefing, a consent).

    Called first on the start, station and finish pages. When a plugin returns a
    :class:`Panel`, the page shows only that panel (the first one, by plugin name)
    instead of every plugin's panels; ``None`` lets the page through. The core's own
    work (a check-in, the group form) is not held back.

    Call rule: each plugin enabled for the tour separately, with a time limit; a plugin
    that fails or times out gates nothing (logged). Awaitable.
    """


@hookspec
def promtour_start_panels(page: PageContext) -> Panel | Sequence[Panel] | None:
    """Contribute panels to the tour's start page. Same rules as station panels."""


@hookspec
def promtour_finish_panels(page: PageContext) -> Panel | Sequence[Panel] | None:
    """Contribute panels to the tour's finish page. Same rules as station panels."""


# --- Groups -------------------------------------------------------------------------


@hookspec
def promtour_check_group(page: PageContext, code: str) -> str | None:
    """Say whether a group code may be joined on this tour (e.g. that a booking
    issued it), before the visitor joins it.

    ``code`` is upper-case. Return ``None`` to accept, or a message for the visitor (in
    ``page.lang``: use ``page._``) to refuse: the join is then not recorded and the
    visitor sees the message. Without any implementation every well-formed code is
    accepted.

    Call rule: each plugin enabled for the tour separately, with a time limit; a plugin
    that fails or times out refuses with a "try again" notice. Awaitable.
    """


# --- Events: reacting to what happened ---------------------------------------------------


@hookspec
def promtour_handle_event(event: Event, ctx: PluginContext) -> Awaitable[None] | None:
    """React to an event of a tour the plugin is enabled for.

    Each plugin has its own durable consumer; this is called at least once per event,
    so it must be idempotent (use the event id, or ``PluginStore.create``). Raising
    makes the event redelivered with back-off; after the last attempt it is terminated
    and reported as ``plugin_event_failed``. Other plugins are not held up.

    Call rule: only this plugin's implementation, with ``ctx.tour`` set. Awaitable.
    """


@hookspec
def promtour_handle_batch(batch: Sequence[StreamEvent]) -> Awaitable[None] | None:
    """React to a batch of events, in stream order (for read models replayed fast).

    Instead of ``promtour_handle_event``: each item is a
    :class:`promtour.plugin.StreamEvent` (``seq``, the event's stream sequence;
    ``event``; ``ctx``, the plugin's context for the event's tour). Only events of
    tours the plugin is enabled for are in it; at most ``PluginInfo.batch_size``.
    Batches come one at a time, in order: the next is delivered only after this one
    was acknowledged, which the core does when the call returns. Raising makes the
    whole batch redelivered with back-off; before the last attempt the core retries
    its events one by one and terminates (and reports) only the event that fails.
    The call must be idempotent: use ``seq`` as a checkpoint stored with the state.

    Call rule: only this plugin's implementation. Awaitable.
    """
