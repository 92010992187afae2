"""How busy each station is now: check-ins per station in five-minute slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import msgspec
from promtour.plugin import (
    Event,
    PageContext,
    Panel,
    PluginContext,
    PluginInfo,
    VisitorCheckedIn,
    hookimpl,
)

__all__ = ["OccupancyConfig", "slot_of"]

SLOT = timedelta(minutes=5)


class OccupancyConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    window_minutes: Annotated[int, msgspec.Meta(ge=5, le=240)] = 15
    busy_at: Annotated[int, msgspec.Meta(ge=1)] = 20


class SlotCount(msgspec.Struct):
    count: int = 0


def slot_of(moment: datetime) -> str:
    """The five-minute slot of a moment, as a KV-key-safe string."""
    start = moment.astimezone(UTC).replace(second=0, microsecond=0)
    start -= timedelta(minutes=start.minute % 5)
    return start.strftime("%Y%m%dT%H%M")


def recent_slots(now: datetime, window_minutes: int) -> list[str]:
    return [slot_of(now - SLOT * i) for i in range(max(1, window_minutes // 5))]


@hookimpl
def promtour_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="occupancy",
        title={"ru": "Загруженность", "en": "How busy"},
        description={
            "ru": "Сколько посетителей сейчас у каждой станции",
            "en": "How many visitors are at each station now",
        },
        config=OccupancyConfig,
        handles=[VisitorCheckedIn],
    )


@hookimpl
async def promtour_handle_event(event: Event, ctx: PluginContext) -> None:
    if not isinstance(event, VisitorCheckedIn) or event.station is None:
        return
    # At-least-once delivery: count each event id once.
    if not await ctx.store.create(f"seen.{event.id}", True):
        return
    key = f"{ctx.tour.key}.{event.station}.{slot_of(event.time)}"

    def add(current: SlotCount | None) -> SlotCount:
        return SlotCount((current.count if current else 0) + 1)

    await ctx.store.update(key, SlotCount, add)


async def counts(ctx: PluginContext, now: datetime | None = None) -> dict[str, int]:
    """Check-ins per station id in the configured window."""
    config: OccupancyConfig = ctx.config
    slots = recent_slots(now or datetime.now(UTC), config.window_minutes)
    result: dict[str, int] = {}
    for station in ctx.tour.enabled_stations:
        total = 0
        for slot in slots:
            value = await ctx.store.get(f"{ctx.tour.key}.{station.id}.{slot}", SlotCount)
            total += value.count if value else 0
        result[station.id] = total
    return result


@hookimpl
async def promtour_start_panels(page: PageContext) -> Panel:
    per_station = await counts(page)
    return Panel(
        title=page._("How busy are the stations?"),
        html=page.render("occupancy/start.html", counts=per_station, config=page.config),
        order=50,
    )


@hookimpl
async def promtour_station_panels(page: PageContext) -> Panel | None:
    assert page.station is not None
    here = (await counts(page)).get(page.station.id, 0)
    return Panel(
        title=page._("How busy"),
        html=page.render("occupancy/station.html", here=here, config=page.config),
        order=90,
    )
