"""The public plugin API: every name a promtour plugin may import, and nothing else.

A plugin imports from here (and from :mod:`promtour.testing` in its tests); the rest of
the core is private and may change without notice. A test of the project fails on any
other ``promtour`` import from ``plugins/`` or ``contrib/``. Each name is documented in
docs/plugins/api.md.

Describe the plugin
    :data:`hookimpl`, :class:`PluginInfo`, :class:`RoleSpec`, :class:`NoConfig`
Describe the config's form (labels, help, pickers) and its errors
    :func:`Field`, :class:`FieldInfo`, :class:`Problem`; the common checks
    :func:`check_station`, :func:`check_text`, :func:`check_languages`,
    :func:`check_unique`, :func:`check_timezone`; a button beside a field:
    :class:`FieldAction`, :class:`ActionRequest`, :class:`ActionResult`
Build pages
    :class:`PageContext`, :class:`Panel`, :class:`Frame`
Handle requests in the plugin's routes
    :class:`RequestContext` (annotate the handler's ``pt`` parameter with :data:`PT`),
    :class:`EnterpriseContext`, :class:`Principal`, :class:`RateLimit`,
    :class:`TooManyRequests`, :func:`qr_svg`
React to events and keep state
    :class:`PluginContext`, :class:`PluginStore`, :class:`Versioned`,
    :class:`WatchedKeys`, :class:`Event` and the core's events, :func:`subject_for`,
    :class:`StoreUnavailable`, :class:`Conflict`, :class:`StreamEvent`
    (``promtour_handle_batch``)
Command-line commands
    :func:`plugin_session`, :class:`PluginSession`, :func:`add_settings_args`
Live pages
    :func:`event_stream`, :class:`SseMessage`
The tour
    :class:`Tour`, :class:`Station`, :class:`Enterprise`, :class:`Progress`,
    :class:`TourState`, :data:`Text`, :data:`SLUG`, :func:`pick_text`, :func:`utcnow`
Errors
    :class:`PromtourError`, :class:`ConfigError`
"""

from __future__ import annotations

from promtour import __version__, hookimpl
from promtour._auth import Principal
from promtour._bus import BusUnavailable as StoreUnavailable
from promtour._bus import Conflict
from promtour._consumers import StreamEvent
from promtour._context import EnterpriseContext, PageContext, PluginContext
from promtour._describe import NoConfig, PluginInfo, RoleSpec
from promtour._errors import ConfigError, PromtourError
from promtour._events import (
    Event,
    TourFinished,
    VisitorCheckedIn,
    VisitorJoinedGroup,
    subject_for,
)
from promtour._fields import (
    ActionRequest,
    ActionResult,
    Field,
    FieldAction,
    FieldInfo,
    Problem,
    check_languages,
    check_station,
    check_text,
    check_timezone,
    check_unique,
)
from promtour._limits import RateLimit, TooManyRequests
from promtour._models import SLUG, Enterprise, Progress, Station, Text, Tour, pick_text, utcnow
from promtour._qr import qr_svg
from promtour._rendering import Frame, Panel
from promtour._session import PluginSession, add_settings_args, plugin_session
from promtour._store import PluginStore, Versioned
from promtour._tours import TourState
from promtour._watched import WatchedKeys
from promtour._web.request import PT, RequestContext
from promtour._web.sse import SseMessage, event_stream, live_presence

__all__ = [
    "PT",
    "SLUG",
    "ActionRequest",
    "ActionResult",
    "ConfigError",
    "Conflict",
    "Enterprise",
    "EnterpriseContext",
    "Event",
    "Field",
    "FieldAction",
    "FieldInfo",
    "Frame",
    "NoConfig",
    "PageContext",
    "Panel",
    "PluginContext",
    "PluginInfo",
    "PluginSession",
    "PluginStore",
    "Principal",
    "Problem",
    "Progress",
    "PromtourError",
    "RateLimit",
    "RequestContext",
    "RoleSpec",
    "SseMessage",
    "Station",
    "StoreUnavailable",
    "StreamEvent",
    "Text",
    "TooManyRequests",
    "Tour",
    "TourFinished",
    "TourState",
    "Versioned",
    "VisitorCheckedIn",
    "VisitorJoinedGroup",
    "WatchedKeys",
    "__version__",
    "add_settings_args",
    "check_languages",
    "check_station",
    "check_text",
    "check_timezone",
    "check_unique",
    "event_stream",
    "hookimpl",
    "live_presence",
    "pick_text",
    "plugin_session",
    "qr_svg",
    "subject_for",
    "utcnow",
]
