"""A tour's stations: the console's station pages and the API's station routes.

Both do the same changes through :mod:`promtour._console.service`. A deleted station
goes to the bin (:mod:`promtour._console.bin`) with its place in the tour: the tour
page offers «Вернуть» right after the deletion and lists what can be restored.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from promtour._console import bin as bin_
from promtour._console import service
from promtour._console.access import E, R
from promtour._console.apibase import api_delete, api_get, api_post, api_put, poster_base, tour_out
from promtour._console.deps import ConsoleDep, PlatformDep, TourAtDep, TourStateDep
from promtour._console.pages import change_or_show, done_or_refused, form_languages, station_from
from promtour._console.schemas import StationEnabled, StationOrder, StationUpdate, TourOut
from promtour._console.ui import Console
from promtour._errors import PromtourError, TourError
from promtour._models import SLUG_RE, Station, Tour, pick_text
from promtour._platform import Platform
from promtour._qr import qr_svg

__all__ = ["StationPages", "StationsApi", "delete_station", "restore_station"]


async def delete_station(
    platform: Platform, enterprise: str, tour_id: str, station_id: str
) -> None:
    """Remove a station from the tour and keep it in the bin with its place."""
    removed: list[tuple[Station, int]] = []

    def change(tour: Tour) -> None:
        station = service.station_of(tour, station_id)
        removed.append((station, tour.stations.index(station)))
        tour.stations = [s for s in tour.stations if s.id != station.id]

    state = await service.change_tour(platform, enterprise, tour_id, change)
    await bin_.keep_station(platform, state.tour, *removed[0])


async def restore_station(
    platform: Platform, enterprise: str, tour_id: str, station_id: str
) -> None:
    """Put a deleted station back where it was (refused, naming why, if its id or
    number was taken meanwhile)."""
    state = await service.load_tour(platform, enterprise, tour_id)
    try:
        station, position = await bin_.take_station(platform, state.tour, station_id)
    except KeyError:
        raise TourError("this station is no longer in the bin") from None

    def change(tour: Tour) -> None:
        if tour.station(station.id) is not None:
            raise TourError(f"station id: the tour already has a station {station.id!r}")
        at = position if 0 <= position <= len(tour.stations) else len(tour.stations)
        tour.stations.insert(at, station)

    await service.change_tour(platform, enterprise, tour_id, change)
    await bin_.forget_station(platform, state.tour, station_id)


class StationPages(Controller):
    path = "/tours/{tour_id:str}/stations"
    include_in_schema = False

    @post("/", opt=E)
    async def add_station(self, c: ConsoleDep, at: TourAtDep) -> Response[Any]:
        form = await c.form()

        def change(tour: Tour) -> None:
            station_id = form.get("id").strip().lower()
            if not SLUG_RE.match(station_id):
                raise TourError("station id: use 1–40 lower-case letters, digits, '-' or '_'")
            if tour.station(station_id) is not None:
                raise TourError(f"station id: the tour already has a station {station_id!r}")
            if not form.get("number").strip():
                numbers = [s.number for s in tour.stations]
                form.items.append(("number", str(max(numbers, default=0) + 1)))
            form.items.append(("enabled", "on"))
            tour.stations.append(station_from(form, form_languages(c, tour), station_id))

        return await change_or_show(c, at, change, "created", form=form.all(), kind="station")

    @get("/{station_id:str}", opt=R)
    async def station(
        self, c: ConsoleDep, tour_state: TourStateDep, station_id: FromPath[str]
    ) -> Response[str]:
        return await self._page(c, tour_state.tour, station_id)

    async def _page(self, c: Console, tour: Tour, station_id: str, **values: Any) -> Response[str]:
        station = service.station_of(tour, station_id)
        values.setdefault("form", None)
        return await c.page(
            "console/station.html",
            title=c.text(station.name, station.id),
            tour=tour,
            station=station,
            langs=form_languages(c, tour),
            **values,
        )

    @post("/{station_id:str}", opt=E)
    async def save_station(
        self, c: ConsoleDep, at: TourAtDep, station_id: FromPath[str]
    ) -> Response[Any]:
        form = await c.form()

        def change(tour: Tour) -> None:
            current = service.station_of(tour, station_id)
            new = station_from(form, form_languages(c, tour), current.id)
            tour.stations = [new if s.id == current.id else s for s in tour.stations]

        try:
            await service.change_tour(c.platform, at.enterprise, at.tour_id, change)
        except PromtourError as exc:
            state = await service.load_tour(c.platform, at.enterprise, at.tour_id)
            return await self._page(
                c, state.tour, station_id, status=400, form=form.all(), error=str(exc)
            )
        return c.redirect(f"{c.base()}/tours/{at.tour_id}", "saved")

    @post("/{station_id:str}/move", opt=E)
    async def move(self, c: ConsoleDep, at: TourAtDep, station_id: FromPath[str]) -> Response[Any]:
        step = -1 if (await c.form()).get("direction") == "up" else 1
        return await change_or_show(c, at, lambda t: service.move_station(t, station_id, step))

    @post("/{station_id:str}/toggle", opt=E)
    async def toggle(
        self, c: ConsoleDep, at: TourAtDep, station_id: FromPath[str]
    ) -> Response[Any]:
        def change(tour: Tour) -> None:
            station = service.station_of(tour, station_id)
            station.enabled = not station.enabled

        return await change_or_show(c, at, change)

    @post("/{station_id:str}/delete", opt=E)
    async def delete(
        self, c: ConsoleDep, at: TourAtDep, station_id: FromPath[str]
    ) -> Response[Any]:
        deleted = delete_station(c.platform, at.enterprise, at.tour_id, station_id)
        # The tour page offers to undo this at once (and the bin keeps it for days).
        undo = f"?undo={station_id}"
        return await done_or_refused(c, at, deleted, "station_deleted", query=undo)

    @post("/{station_id:str}/restore", opt=E)
    async def restore(
        self, c: ConsoleDep, at: TourAtDep, station_id: FromPath[str]
    ) -> Response[Any]:
        restored = restore_station(c.platform, at.enterprise, at.tour_id, station_id)
        return await done_or_refused(c, at, restored, "restored")


class StationsApi(Controller):
    path = "/tours/{tour_id:str}/stations"
    tags = ["stations"]

    @api_post("/", opt=E, summary="Add a station at the end of the tour")
    async def add_station(
        self, platform: PlatformDep, at: TourAtDep, data: JSONBody[Station]
    ) -> Response[TourOut]:
        def change(tour: Tour) -> None:
            if tour.station(data.id) is not None:
                raise service.Conflict(detail=f"The tour already has a station {data.id!r}.")
            tour.stations.append(data)

        state = await service.change_tour(platform, at.enterprise, at.tour_id, change)
        return Response(tour_out(state), status_code=HTTP_201_CREATED)

    @api_put("/order", opt=E, summary="Reorder the stations (their numbers stay: no reprint)")
    async def reorder(
        self, platform: PlatformDep, at: TourAtDep, data: JSONBody[StationOrder]
    ) -> TourOut:
        return tour_out(
            await service.change_tour(
                platform,
                at.enterprise,
                at.tour_id,
                lambda t: service.reorder_stations(t, data.order),
            )
        )

    @api_put("/{station_id:str}", opt=E, summary="Change a station")
    async def update_station(
        self,
        platform: PlatformDep,
        at: TourAtDep,
        station_id: FromPath[str],
        data: JSONBody[StationUpdate],
    ) -> TourOut:
        def change(tour: Tour) -> None:
            station = service.station_of(tour, station_id)
            station.number = data.number
            station.name = data.name
            station.description = data.description
            station.enabled = data.enabled

        return tour_out(await service.change_tour(platform, at.enterprise, at.tour_id, change))

    @api_put("/{station_id:str}/enabled", opt=E, summary="Enable or disable a station (no reprint)")
    async def set_enabled(
        self,
        platform: PlatformDep,
        at: TourAtDep,
        station_id: FromPath[str],
        data: JSONBody[StationEnabled],
    ) -> TourOut:
        def change(tour: Tour) -> None:
            service.station_of(tour, station_id).enabled = data.enabled

        return tour_out(await service.change_tour(platform, at.enterprise, at.tour_id, change))

    @api_delete(
        "/{station_id:str}",
        opt=E,
        summary="Remove a station (kept in the bin: POST …/restore brings it back)",
    )
    async def delete_station(
        self, platform: PlatformDep, at: TourAtDep, station_id: FromPath[str]
    ) -> None:
        await delete_station(platform, at.enterprise, at.tour_id, station_id)

    @api_post(
        "/{station_id:str}/restore",
        opt=E,
        summary="Put a deleted station back where it was (while it is in the bin)",
    )
    async def restore_station(
        self, platform: PlatformDep, at: TourAtDep, station_id: FromPath[str]
    ) -> Response[TourOut]:
        await restore_station(platform, at.enterprise, at.tour_id, station_id)
        state = await service.load_tour(platform, at.enterprise, at.tour_id)
        return Response(tour_out(state), status_code=HTTP_201_CREATED)

    @api_get(
        "/{station_id:str}/qr.svg",
        opt=R,
        media_type="image/svg+xml",
        summary="The station's QR code (SVG, error correction Q, quiet zone)",
    )
    async def qr(
        self, request: Request[Any, Any, Any], tour_state: TourStateDep, station_id: FromPath[str]
    ) -> Response[str]:
        tour = tour_state.tour
        station = service.station_of(tour, station_id)
        url = service.station_url(poster_base(request), tour, station.id)
        caption = pick_text(station.name, tour.default_language)
        return Response(qr_svg(url, station.number, caption), media_type="image/svg+xml")
