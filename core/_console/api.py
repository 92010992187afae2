"""The enterprise JSON API under ``/api/v1/enterprises/{enterprise}``.

Bearer tokens only (``Authorization: Bearer pt_...``); every route runs the
enterprise guard before its body is read. Roles: reads need any role of the
enterprise, changes to tours need ``editor``, tokens need ``admin``.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, Router
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from promtour._console import service
from promtour._console.access import A, E, R, enterprise_guard
from promtour._console.apibase import (
    api_delete,
    api_get,
    api_post,
    api_put,
    poster_base,
    tour_out,
    tour_summary,
)
from promtour._console.deps import DEPENDENCIES, PlatformDep, TourAtDep, TourStateDep
from promtour._console.media import MediaItem, delete_media, list_media, upload_media
from promtour._console.openapi import SECURITY
from promtour._console.schemas import (
    EnterpriseUpdate,
    KeyRotated,
    MediaUpload,
    PluginConfigOut,
    PluginOut,
    Poster,
    TourCreate,
    TourFields,
    TourImport,
    TourLanguages,
    TourOut,
    TourSummary,
)
from promtour._console.stations import StationsApi
from promtour._console.tokens import TokensApi
from promtour._errors import TourError
from promtour._models import Enterprise, Tour
from promtour._tours import MAX_MEDIA_BYTES

__all__ = [
    "EnterpriseApi",
    "MediaApi",
    "StationsApi",
    "TokensApi",
    "TourPluginsApi",
    "ToursApi",
    "api_router",
    "poster_base",
    "tour_out",
    "tour_summary",
]


def _apply(tour: Tour, data: TourFields) -> None:
    tour.name = data.name
    tour.description = data.description
    tour.languages = list(data.languages)
    tour.default_language = data.default_language
    tour.stations = list(data.stations)
    tour.plugins = data.plugins


class EnterpriseApi(Controller):
    path = "/"
    tags = ["enterprise"]

    @api_get("/", opt=R, summary="The enterprise")
    async def get_enterprise(self, platform: PlatformDep, enterprise: FromPath[str]) -> Enterprise:
        return await service.enterprise_of(platform, enterprise)

    @api_put("/", opt=A, summary="Change the enterprise's name and contact (admin)")
    async def update_enterprise(
        self,
        platform: PlatformDep,
        enterprise: FromPath[str],
        data: JSONBody[EnterpriseUpdate],
    ) -> Enterprise:
        current = await service.enterprise_of(platform, enterprise)
        updated = msgspec.structs.replace(
            current,
            name=data.name,
            contact=data.contact,
        )
        await platform.tours.save_enterprise(updated)
        return updated

    @api_get("/plugins", opt=R, summary="Installed plugins with their config schema")
    async def plugins(self, platform: PlatformDep, enterprise: FromPath[str]) -> list[PluginOut]:
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


class ToursApi(Controller):
    path = "/tours"
    tags = ["tours"]

    @api_get("/", opt=R, summary="The enterprise's tours")
    async def list_tours(
        self, platform: PlatformDep, enterprise: FromPath[str]
    ) -> list[TourSummary]:
        return [tour_summary(s.tour) for s in service.tours_of(platform, enterprise)]

    @api_post("/", opt=E, summary="Create a tour")
    async def create_tour(
        self, platform: PlatformDep, enterprise: FromPath[str], data: JSONBody[TourCreate]
    ) -> Response[TourOut]:
        tour = Tour(id=data.id, enterprise=enterprise, name={})
        _apply(tour, data)
        service.check_tour(tour)
        state = await service.create_tour(platform, tour)
        return Response(tour_out(state), status_code=HTTP_201_CREATED)

    @api_post("/import", opt=E, summary="Import a tour from TOML (as exported)")
    async def import_tour(
        self, platform: PlatformDep, enterprise: FromPath[str], data: JSONBody[TourImport]
    ) -> Response[TourOut]:
        state = await service.import_tour(platform, enterprise, data.toml, replace=data.replace)
        return Response(tour_out(state), status_code=HTTP_201_CREATED)

    @api_get("/{tour_id:str}", opt=R, summary="A tour")
    async def get_tour(self, tour_state: TourStateDep) -> TourOut:
        return tour_out(tour_state)

    @api_put("/{tour_id:str}", opt=E, summary="Replace a tour's content (keys and id stay)")
    async def update_tour(
        self,
        platform: PlatformDep,
        at: TourAtDep,
        data: JSONBody[TourFields],
    ) -> TourOut:
        state = await service.change_tour(
            platform, at.enterprise, at.tour_id, lambda t: _apply(t, data)
        )
        return tour_out(state)

    @api_delete("/{tour_id:str}", opt=E, summary="Delete a tour and its media")
    async def delete_tour(self, platform: PlatformDep, at: TourAtDep) -> None:
        await service.delete_tour(platform, at.enterprise, at.tour_id)

    @api_put("/{tour_id:str}/languages", opt=E, summary="Set the tour's languages")
    async def set_languages(
        self,
        platform: PlatformDep,
        at: TourAtDep,
        data: JSONBody[TourLanguages],
    ) -> TourOut:
        def change(tour: Tour) -> None:
            tour.languages = list(dict.fromkeys(data.languages))
            tour.default_language = data.default_language

        return tour_out(await service.change_tour(platform, at.enterprise, at.tour_id, change))

    @api_get(
        "/{tour_id:str}/export",
        opt=R,
        media_type="application/toml",
        summary="The tour as TOML (signing keys excluded)",
    )
    async def export_tour(self, tour_state: TourStateDep) -> Response[str]:
        return Response(
            service.export_tour(tour_state.tour),
            media_type="application/toml",
            headers={"Content-Disposition": f'attachment; filename="{tour_state.tour.id}.toml"'},
        )

    @api_post(
        "/{tour_id:str}/keys", opt=E, summary="Rotate the signing key: old posters stop working"
    )
    async def rotate_key(self, platform: PlatformDep, at: TourAtDep) -> Response[KeyRotated]:
        state = await service.rotate_key(platform, at.enterprise, at.tour_id)
        body = KeyRotated(
            key_id=state.tour.keys[-1].kid,
            stations=len(state.tour.stations),
            warning="Every printed QR poster of this tour stopped working: print them again.",
        )
        return Response(body, status_code=HTTP_201_CREATED)

    @api_get("/{tour_id:str}/posters", opt=R, summary="Each station's QR URL")
    async def posters(
        self, request: Request[Any, Any, Any], tour_state: TourStateDep
    ) -> list[Poster]:
        base = poster_base(request)
        return [
            Poster(
                station=s.id,
                number=s.number,
                name=s.name,
                enabled=s.enabled,
                url=service.station_url(base, tour_state.tour, s.id),
            )
            for s in tour_state.tour.stations
        ]


class TourPluginsApi(Controller):
    path = "/tours/{tour_id:str}/plugins"
    tags = ["plugins"]

    @api_get("/", opt=R, summary="The plugins enabled for the tour, with their config")
    async def enabled(self, tour_state: TourStateDep) -> list[PluginConfigOut]:
        return [
            PluginConfigOut(plugin=name, config=msgspec.to_builtins(config))
            for name, config in sorted(tour_state.configs.items())
        ]

    @api_put("/{plugin:str}", opt=E, summary="Enable a plugin for the tour with this config")
    async def configure(
        self,
        platform: PlatformDep,
        at: TourAtDep,
        plugin: FromPath[str],
        data: JSONBody[dict[str, Any]],
    ) -> PluginConfigOut:
        if plugin not in platform.plugins.infos:
            raise NotFoundException(f"There is no plugin {plugin!r} installed.")

        def change(tour: Tour) -> None:
            tour.plugins[plugin] = data

        state = await service.change_tour(platform, at.enterprise, at.tour_id, change)
        return PluginConfigOut(plugin=plugin, config=msgspec.to_builtins(state.configs[plugin]))

    @api_delete("/{plugin:str}", opt=E, summary="Disable a plugin for the tour")
    async def disable(
        self,
        platform: PlatformDep,
        at: TourAtDep,
        plugin: FromPath[str],
    ) -> None:
        def change(tour: Tour) -> None:
            if plugin not in tour.plugins:
                raise NotFoundException("This plugin is not enabled for the tour.")
            del tour.plugins[plugin]

        await service.change_tour(platform, at.enterprise, at.tour_id, change)


class MediaApi(Controller):
    path = "/tours/{tour_id:str}/media"
    tags = ["media"]

    @api_get("/", opt=R, summary="The tour's media files and where each is used")
    async def list_files(self, platform: PlatformDep, tour_state: TourStateDep) -> list[MediaItem]:
        return await list_media(platform, tour_state.tour)

    @api_post(
        "/",
        opt=E,
        summary="Upload a media file (audio, image, transcript), multipart field 'file'",
        request_max_body_size=MAX_MEDIA_BYTES + 1024 * 1024,
    )
    async def upload(
        self,
        platform: PlatformDep,
        tour_state: TourStateDep,
        data: Annotated[MediaUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[MediaItem]:
        if not isinstance(data.file, UploadFile):
            raise TourError("send the file as the multipart field 'file'")
        name = data.name or data.file.filename or ""
        item = await upload_media(platform, tour_state.tour, name, await data.file.read())
        return Response(item, status_code=HTTP_201_CREATED)

    @api_delete("/{name:path}", opt=E, summary="Delete a media file (refused while it is used)")
    async def delete_file(
        self, platform: PlatformDep, tour_state: TourStateDep, name: FromPath[str]
    ) -> None:
        await delete_media(platform, tour_state.tour, name.lstrip("/"))


def api_router() -> Router:
    """Every enterprise API route, behind the enterprise guard."""
    return Router(
        path="/api/v1/enterprises/{enterprise:str}",
        route_handlers=[EnterpriseApi, TokensApi, ToursApi, StationsApi, TourPluginsApi, MediaApi],
        guards=[enterprise_guard],
        dependencies=DEPENDENCIES,
        security=SECURITY,
        tags=["enterprise API"],
    )
