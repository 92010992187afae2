"""Regional routes: a passport of stamps across several enterprises' tours, reward
tiers, reward codes redeemed once by staff, and a region's aggregate dashboard.

Route operators (a regional tourism agency) are the plugin's own organisations, with
their own tokens (``promtour operator create``). See docs/routes.md.
"""

from __future__ import annotations

from argparse import _SubParsersAction
from pathlib import Path
from typing import Any

from litestar import Router
from promtour.plugin import (
    EnterpriseContext,
    Event,
    PageContext,
    Panel,
    PluginContext,
    PluginInfo,
    hookimpl,
)

from . import demo, panels
from .cli import add_cli
from .events import EVENT_TYPES
from .stamps import handle_event
from .web import ROUTES

__all__: list[str] = []


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
        routes=[Router(path="/", route_handlers=ROUTES, include_in_schema=False)],
        css=["routes.css"],
        token_prefix="rto_",
    )


@hookimpl
def promtour_cli_commands(subparsers: _SubParsersAction[Any]) -> None:
    add_cli(subparsers)


@hookimpl
async def promtour_handle_event(event: Event, ctx: PluginContext) -> None:
    await handle_event(event, ctx)


@hookimpl
async def promtour_station_panels(page: PageContext) -> list[Panel]:
    return await panels.station_panels(page)


@hookimpl
async def promtour_import_demo(ctx: EnterpriseContext, demo_dir: Path) -> None:
    await demo.import_demo(ctx, demo_dir)
