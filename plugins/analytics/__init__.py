"""Analytics: what the event stream tells an enterprise about its tours.

A read model built by a batch consumer from the stream's first event
(:mod:`.model`, :mod:`.consumer`), read for a date range through a day index and a
cache (:mod:`.reading`), figures computed from it (:mod:`.figures`,
:mod:`.plugin_tables`) and shown as pages with SVG charts, CSV and a JSON API
(:mod:`.routes`, :mod:`.charts`, :mod:`.tables`); ``promtour analytics rebuild``
(:mod:`.cli`). Uses only the public plugin API. See docs/plugins/analytics.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import msgspec
from promtour.plugin import Field, PluginInfo, RoleSpec, StreamEvent, hookimpl

from .cli import add_cli
from .consumer import Folder
from .routes import ROUTES

#: add_cli: ``promtour analytics``, @hookimpl in .cli.
__all__ = ["AnalyticsConfig", "add_cli"]

#: The process's consumer state (the records it wrote last).
FOLDER = Folder()


class AnalyticsConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    #: Days the visitor-level records (pseudonymous ids, last check-in) are kept;
    #: the counters stay.
    visitor_days: Annotated[
        int,
        msgspec.Meta(ge=1, le=400),
        Field(
            title="Days visitor records are kept",
            help="Pseudonymous visitor records (for repeat visits and paths) are deleted "
            "after this many days; the counts stay.",
        ),
    ] = 30


@hookimpl
def promtour_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="analytics",
        title={"ru": "Аналитика", "en": "Analytics"},
        description={
            "ru": "Посетители, воронка, время на станциях, аудио, квест и профориентация",
            "en": "Visitors, funnel, time at stations, audio, quest and career figures",
        },
        config=AnalyticsConfig,
        routes=ROUTES,
        roles=[
            RoleSpec(
                name="analyst",
                title={"ru": "Аналитик", "en": "Analyst"},
                granted_to=("editor",),
            )
        ],
        consume_from="first",
        batch_size=5000,
        console_page="/p/analytics/{enterprise}/",
        console_role="analyst",
    )


@hookimpl
async def promtour_handle_batch(batch: Sequence[StreamEvent]) -> None:
    await FOLDER.fold(batch)
