"""Regional routes: a passport of stamps across several enterprises' tours, reward
tiers, reward codes redeemed once by staff, and a region's aggregate dashboard.

Route operators (a regional tourism agency) are the plugin's own organisations, with
their own tokens (``promtour operator create``). The hooks are implemented where their
work is and imported here, which registers them. See docs/routes.md.
"""

from __future__ import annotations

from litestar import Router
from promtour.plugin import PluginInfo, hookimpl

from .cli import add_cli
from .demo import import_demo
from .events import EVENT_TYPES
from .panels import station_panels
from .stamps import HANDLED, handle_event
from .web import ROUTES

#: The hook implementations, each marked @hookimpl where it lives.
__all__ = ["add_cli", "handle_event", "import_demo", "station_panels"]


@hookimpl
def promtour_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="routes",
        title={"ru": "Маршруты", "en": "Routes"},
        description={
            "ru": "Региональные маршруты: паспорт со штампами предприятий и награды",
            "en": "Regional routes: a passport of the enterprises' stamps and rewards",
        },
        events=EVENT_TYPES,
        handles=HANDLED,
        routes=[Router(path="/", route_handlers=ROUTES, include_in_schema=False)],
        css=["routes.css"],
        token_prefix="rto_",
    )
