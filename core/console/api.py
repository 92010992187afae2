"""The enterprise JSON API under ``/api/v1/enterprises/{enterprise}``.

Bearer tokens only (``Authorization: Bearer pt_...``); every route runs the
enterprise guard before its body is read. Roles: reads need any role of the
enterprise, changes to tours need ``editor``, tokens need ``admin``.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, Router, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import Body, FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from promtour.auth import create_token, list_tokens, revoke_token
from promtour.console import service
from promtour.console.access import ADMIN, EDIT, READ, current_principal, enterprise_guard
from promtour.console.media import MediaItem, delete_media, list_media, upload_media
from promtour.console.openapi import API_RESPONSES, SECURITY
from promtour.console.schemas import (
    EnterpriseUpdate,
    KeyRotated,
    MediaUpload,
    PluginConfigOut,
    PluginOut,
    Poster,
    StationEnabled,
    StationOrder,
    StationUpdate,
    TokenCreate,
    TokenCreated,
    TokenOut,
    TourCreate,
    TourFields,
    TourImport,
    TourLanguages,
    TourOut,
    TourSummary,
)
from promtour.errors import TourError
from promtour.models import Enterprise, Station, Tour, pick_text
from promtour.platform import Platform
from promtour.qr import qr_svg
from promtour.tours import MAX_MEDIA_BYTES, TourState

__all__ = [
    "EnterpriseApi",
    "MediaApi",
    "StationsApi",
    "TourPluginsApi",
    "ToursApi",
    "api_router",
    "poster_base",
    "tour_out",
    "tour_summary",
]

api_get = partial(get, responses=API_RESPONSES)
api_post = partial(post, responses=API_RESPONSES)
api_put = partial(put, responses=API_RESPONSES)
api_delete = partial(delete, responses=API_RESPONSES)


def _platform(request: Request[Any, Any, Any]) -> Platform:
    return request.app.state.platform  # type: ignore[no-any-return]


# --- conversions -----------------------------------------------------------------------


def tour_out(state: TourState) -> TourOut:
    tour = state.tour
    return TourOut(
        id=tour.id,
        enterprise=tour.enterprise,
        name=tour.name,
        description=tour.description,
        languages=tour.languages,
        default_language=tour.default_language,
        stations=tour.stations,
        plugins=tour.plugins,
        key_id=tour.keys[-1].kid if tour.keys else "",
        revision=state.revision,
    )


def tour_summary(tour: Tour) -> TourSummary:
    return TourSummary(
        id=tour.id,
        name=tour.name,
        stations=len(tour.stations),
        enabled_stations=len(tour.enabled_stations),
        plugins=sorted(tour.plugins),
        languages=tour.languages,
    )


def _apply(tour: Tour, data: JSONBody[TourFields]) -> None:
    tour.name = data.name
    tour.description = data.description
    tour.languages = list(data.languages)
    tour.default_language = data.default_language
    tour.stations = list(data.stations)
    tour.plugins = data.plugins


def poster_base(request: Request[Any, Any, Any]) -> str:
    """The base URL on QR codes: the configured public URL, else this request's."""
    configured = _platform(request).settings.web.public_url
    return (configured or str(request.base_url)).rstrip("/")


R = {"roles": READ}
E = {"roles": EDIT}
A = {"roles": ADMIN}


class EnterpriseApi(Controller):
    path = "/"
    tags = ["enterprise"]

    @api_get("/", opt=R, summary="The enterprise")
    async def get_enterprise(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str]
    ) -> Enterprise:
        return await service.enterprise_of(_platform(request), enterprise)

    @api_put("/", opt=A, summary="Change the enterprise's name and contact (admin)")
    async def update_enterprise(
        self,
        request: Request[Any, Any, Any],
        enterprise: FromPath[str],
        data: JSONBody[EnterpriseUpdate],
    ) -> Enterprise:
        platform = _platform(request)
        current = await service.enterprise_of(platform, enterprise)
        updated = msgspec.structs.replace(
            current,
            name=data.name,
            contact=data.contact,
        )
        await platform.tours.save_enterprise(updated)
        return updated

    @api_get("/plugins", opt=R, summary="Installed plugins with their config schema")
    async def plugins(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str]
    ) -> list[PluginOut]:
        platform = _platform(request)
        out = []
        for name in platform.plugins.names:
            info = platform.plugins.infos[name]
            try:
                default = msgspec.to_builtins(msgspec.convert({}, info.config))
            except msgspec.ValidationError:
                default = None
            out.append(
                PluginOut(
                    name=name,
                    version=info.version,
                    title=info.title,
                    description=info.description,
                    config_schema=msgspec.json.schema(info.config),
                    default_config=default,
                )
            )
        return out

    @api_get("/tokens", opt=A, summary="API tokens (admin); the secrets are never shown again")
    async def tokens(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str]
    ) -> list[TokenOut]:
        tokens = await list_tokens(_platform(request).bus, enterprise)
        return [
            TokenOut(id=t.id, role=t.role, label=t.label, created=t.created.isoformat())
            for t in tokens
        ]

    @api_post("/tokens", opt=A, summary="Create a token (admin); the secret is in this answer only")
    async def create_token(
        self,
        request: Request[Any, Any, Any],
        enterprise: FromPath[str],
        data: JSONBody[TokenCreate],
    ) -> Response[TokenCreated]:
        platform = _platform(request)
        try:
            token, secret = await create_token(
                platform.bus, enterprise, data.role, data.label, roles=platform.roles
            )
        except ValueError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        body = TokenCreated(id=token.id, role=token.role, label=token.label, token=secret)
        return Response(body, status_code=HTTP_201_CREATED)

    @api_post(
        "/tokens/{token_id:str}/rotate",
        opt=A,
        summary="Rotate a token (admin): a new secret, same role and label; the old one is revoked",
    )
    async def rotate_token(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str], token_id: FromPath[str]
    ) -> Response[TokenCreated]:
        if current_principal(request).token_id == token_id:
            raise TourError("you cannot rotate the token you are using; use another admin token")
        token, secret = await service.rotate_token(_platform(request), enterprise, token_id)
        body = TokenCreated(id=token.id, role=token.role, label=token.label, token=secret)
        return Response(body, status_code=HTTP_201_CREATED)

    @api_delete(
        "/tokens/{token_id:str}", opt=A, summary="Revoke a token (admin): 401 for it at once"
    )
    async def revoke_token(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str], token_id: FromPath[str]
    ) -> None:
        if current_principal(request).token_id == token_id:
            raise TourError("you cannot revoke the token you are using; use another admin token")
        if not await revoke_token(_platform(request).bus, enterprise, token_id):
            raise NotFoundException("There is no such token.")


class ToursApi(Controller):
    path = "/tours"
    tags = ["tours"]

    @api_get("/", opt=R, summary="The enterprise's tours")
    async def list_tours(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str]
    ) -> list[TourSummary]:
        return [tour_summary(s.tour) for s in service.tours_of(_platform(request), enterprise)]

    @api_post("/", opt=E, summary="Create a tour")
    async def create_tour(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str], data: JSONBody[TourCreate]
    ) -> Response[TourOut]:
        tour = Tour(id=data.id, enterprise=enterprise, name={})
        _apply(tour, data)
        service.check_tour(tour)
        state = await service.create_tour(_platform(request), tour)
        return Response(tour_out(state), status_code=HTTP_201_CREATED)

    @api_post("/import", opt=E, summary="Import a tour from TOML (as exported)")
    async def import_tour(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str], data: JSONBody[TourImport]
    ) -> Response[TourOut]:
        state = await service.import_tour(
            _platform(request), enterprise, data.toml, replace=data.replace
        )
        return Response(tour_out(state), status_code=HTTP_201_CREATED)

    @api_get("/{tour_id:str}", opt=R, summary="A tour")
    async def get_tour(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str], tour_id: FromPath[str]
    ) -> TourOut:
        return tour_out(await service.load_tour(_platform(request), enterprise, tour_id))

    @api_put("/{tour_id:str}", opt=E, summary="Replace a tour's content (keys and id stay)")
    async def update_tour(
        self,
        request: Request[Any, Any, Any],
        enterprise: FromPath[str],
        tour_id: FromPath[str],
        data: JSONBody[TourFields],
    ) -> TourOut:
        state = await service.change_tour(
            _platform(request), enterprise, tour_id, lambda t: _apply(t, data)
        )
        return tour_out(state)

    @api_delete("/{tour_id:str}", opt=E, summary="Delete a tour and its media")
    async def delete_tour(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str], tour_id: FromPath[str]
    ) -> None:
        await service.delete_tour(_platform(request), enterprise, tour_id)

    @api_put("/{tour_id:str}/languages", opt=E, summary="Set the tour's languages")
    async def set_languages(
        self,
        request: Request[Any, Any, Any],
        enterprise: FromPath[str],
        tour_id: FromPath[str],
        data: JSONBody[TourLanguages],
    ) -> TourOut:
        def change(tour: Tour) -> None:
            tour.languages = list(dict.fromkeys(data.languages))
            tour.default_language = data.default_language

        return tour_out(await service.change_tour(_platform(request), enterprise, tour_id, change))

    @api_get(
        "/{tour_id:str}/export",
        opt=R,
        media_type="application/toml",
        summary="The tour as TOML (signing keys excluded)",
    )
    async def export_tour(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str], tour_id: FromPath[str]
    ) -> Response[str]:
        state = await service.load_tour(_platform(request), enterprise, tour_id)
        return Response(
            service.export_tour(state.tour),
            media_type="application/toml",
            headers={"Content-Disposition": f'attachment; filename="{tour_id}.toml"'},
        )

    @api_post(
        "/{tour_id:str}/keys", opt=E, summary="Rotate the signing key: old posters stop working"
    )
    async def rotate_key(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str], tour_id: FromPath[str]
    ) -> Response[KeyRotated]:
        state = await service.rotate_key(_platform(request), enterprise, tour_id)
        body = KeyRotated(
            key_id=state.tour.keys[-1].kid,
            stations=len(state.tour.stations),
            warning="Every printed QR poster of this tour stopped working: print them again.",
        )
        return Response(body, status_code=HTTP_201_CREATED)

    @api_get("/{tour_id:str}/posters", opt=R, summary="Each station's QR URL")
    async def posters(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str], tour_id: FromPath[str]
    ) -> list[Poster]:
        state = await service.load_tour(_platform(request), enterprise, tour_id)
        base = poster_base(request)
        return [
            Poster(
                station=s.id,
                number=s.number,
                name=s.name,
                enabled=s.enabled,
                url=service.station_url(base, state.tour, s.id),
            )
            for s in state.tour.stations
        ]


class StationsApi(Controller):
    path = "/tours/{tour_id:str}/stations"
    tags = ["stations"]

    @api_post("/", opt=E, summary="Add a station at the end of the tour")
    async def add_station(
        self,
        request: Request[Any, Any, Any],
        enterprise: FromPath[str],
        tour_id: FromPath[str],
        data: JSONBody[Station],
    ) -> Response[TourOut]:
        def change(tour: Tour) -> None:
            if tour.station(data.id) is not None:
                raise service.Conflict(detail=f"The tour already has a station {data.id!r}.")
            tour.stations.append(data)

        state = await service.change_tour(_platform(request), enterprise, tour_id, change)
        return Response(tour_out(state), status_code=HTTP_201_CREATED)

    @api_put("/order", opt=E, summary="Reorder the stations (their numbers stay: no reprint)")
    async def reorder(
        self,
        request: Request[Any, Any, Any],
        enterprise: FromPath[str],
        tour_id: FromPath[str],
        data: JSONBody[StationOrder],
    ) -> TourOut:
        return tour_out(
            await service.change_tour(
                _platform(request),
                enterprise,
                tour_id,
                lambda t: service.reorder_stations(t, data.order),
            )
        )

    @api_put("/{station_id:str}", opt=E, summary="Change a station")
    async def update_station(
        self,
        request: Request[Any, Any, Any],
        enterprise: FromPath[str],
        tour_id: FromPath[str],
        station_id: FromPath[str],
        data: JSONBody[StationUpdate],
    ) -> TourOut:
        def change(tour: Tour) -> None:
            station = service.station_of(tour, station_id)
            station.number = data.number
            station.name = data.name
            station.description = data.description
            station.enabled = data.enabled

        return tour_out(await service.change_tour(_platform(request), enterprise, tour_id, change))

    @api_put("/{station_id:str}/enabled", opt=E, summary="Enable or disable a station (no reprint)")
    async def set_enabled(
        self,
        request: Request[Any, Any, Any],
        enterprise: FromPath[str],
        tour_id: FromPath[str],
        station_id: FromPath[str],
        data: JSONBody[StationEnabled],
    ) -> TourOut:
        def change(tour: Tour) -> None:
            service.station_of(tour, station_id).enabled = data.enabled

        return tour_out(await service.change_tour(_platform(request), enterprise, tour_id, change))

    @api_delete("/{station_id:str}", opt=E, summary="Remove a station")
    async def delete_station(
        self,
        request: Request[Any, Any, Any],
        enterprise: FromPath[str],
        tour_id: FromPath[str],
        station_id: FromPath[str],
    ) -> None:
        def change(tour: Tour) -> None:
            station = service.station_of(tour, station_id)
            tour.stations = [s for s in tour.stations if s.id != station.id]

        await service.change_tour(_platform(request), enterprise, tour_id, change)

    @api_get(
        "/{station_id:str}/qr.svg",
        opt=R,
        media_type="image/svg+xml",
        summary="The station's QR code (SVG, error correction Q, quiet zone)",
    )
    async def qr(
        self,
        request: Request[Any, Any, Any],
        enterprise: FromPath[str],
        tour_id: FromPath[str],
        station_id: FromPath[str],
    ) -> Response[str]:
        state = await service.load_tour(_platform(request), enterprise, tour_id)
        station = service.station_of(state.tour, station_id)
        url = service.station_url(poster_base(request), state.tour, station.id)
        caption = pick_text(station.name, state.tour.default_language)
        return Response(qr_svg(url, station.number, caption), media_type="image/svg+xml")


class TourPluginsApi(Controller):
    path = "/tours/{tour_id:str}/plugins"
    tags = ["plugins"]

    @api_get("/", opt=R, summary="The plugins enabled for the tour, with their config")
    async def enabled(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str], tour_id: FromPath[str]
    ) -> list[PluginConfigOut]:
        state = await service.load_tour(_platform(request), enterprise, tour_id)
        return [
            PluginConfigOut(plugin=name, config=msgspec.to_builtins(config))
            for name, config in sorted(state.configs.items())
        ]

    @api_put("/{plugin:str}", opt=E, summary="Enable a plugin for the tour with this config")
    async def configure(
        self,
        request: Request[Any, Any, Any],
        enterprise: FromPath[str],
        tour_id: FromPath[str],
        plugin: FromPath[str],
        data: JSONBody[dict[str, Any]],
    ) -> PluginConfigOut:
        platform = _platform(request)
        if plugin not in platform.plugins.infos:
            raise NotFoundException(f"There is no plugin {plugin!r} installed.")

        def change(tour: Tour) -> None:
            tour.plugins[plugin] = data

        state = await service.change_tour(platform, enterprise, tour_id, change)
        return PluginConfigOut(plugin=plugin, config=msgspec.to_builtins(state.configs[plugin]))

    @api_delete("/{plugin:str}", opt=E, summary="Disable a plugin for the tour")
    async def disable(
        self,
        request: Request[Any, Any, Any],
        enterprise: FromPath[str],
        tour_id: FromPath[str],
        plugin: FromPath[str],
    ) -> None:
        def change(tour: Tour) -> None:
            if plugin not in tour.plugins:
                raise NotFoundException("This plugin is not enabled for the tour.")
            del tour.plugins[plugin]

        await service.change_tour(_platform(request), enterprise, tour_id, change)


class MediaApi(Controller):
    path = "/tours/{tour_id:str}/media"
    tags = ["media"]

    @api_get("/", opt=R, summary="The tour's media files and where each is used")
    async def list_files(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str], tour_id: FromPath[str]
    ) -> list[MediaItem]:
        state = await service.load_tour(_platform(request), enterprise, tour_id)
        return await list_media(_platform(request), state.tour)

    @api_post(
        "/",
        opt=E,
        summary="Upload a media file (audio, image, transcript), multipart field 'file'",
        request_max_body_size=MAX_MEDIA_BYTES + 1024 * 1024,
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        enterprise: FromPath[str],
        tour_id: FromPath[str],
        data: Annotated[MediaUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[MediaItem]:
        platform = _platform(request)
        state = await service.load_tour(platform, enterprise, tour_id)
        if not isinstance(data.file, UploadFile):
            raise TourError("send the file as the multipart field 'file'")
        name = data.name or data.file.filename or ""
        item = await upload_media(platform, state.tour, name, await data.file.read())
        return Response(item, status_code=HTTP_201_CREATED)

    @api_delete("/{name:path}", opt=E, summary="Delete a media file (refused while it is used)")
    async def delete_file(
        self,
        request: Request[Any, Any, Any],
        enterprise: FromPath[str],
        tour_id: FromPath[str],
        name: FromPath[str],
    ) -> None:
        state = await service.load_tour(_platform(request), enterprise, tour_id)
        await delete_media(_platform(request), state.tour, name.lstrip("/"))


def api_router() -> Router:
    """Every enterprise API route, behind the enterprise guard."""
    return Router(
        path="/api/v1/enterprises/{enterprise:str}",
        route_handlers=[EnterpriseApi, ToursApi, StationsApi, TourPluginsApi, MediaApi],
        guards=[enterprise_guard],
        security=SECURITY,
        tags=["enterprise API"],
    )
