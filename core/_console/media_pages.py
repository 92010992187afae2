"""The console's media page: upload, the list with where each file is used, and
deleting a file after a question (refused while the tour needs it)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from promtour._console.access import E, R
from promtour._console.deps import ConsoleDep, TourStateDep
from promtour._console.media import MediaError, MediaInUse, delete_media, list_media, upload_media
from promtour._console.ui import Console
from promtour._errors import PromtourError
from promtour._tours import MAX_MEDIA_BYTES, TourState

__all__ = ["MediaPages"]


class MediaPages(Controller):
    path = "/tours/{tour_id:str}/media"
    include_in_schema = False

    async def _page(self, c: Console, tour_state: TourState, **values: Any) -> Response[str]:
        items = await list_media(c.platform, tour_state.tour)
        return await c.page(
            "console/media.html",
            title=f"{c._('Media')} · {c.text(tour_state.tour.name)}",
            tour=tour_state.tour,
            items=items,
            max_mb=MAX_MEDIA_BYTES // 1048576,
            **values,
        )

    @get("/", opt=R)
    async def media(self, c: ConsoleDep, tour_state: TourStateDep) -> Response[str]:
        return await self._page(c, tour_state)

    @post("/", opt=E, request_max_body_size=MAX_MEDIA_BYTES + 1024 * 1024)
    async def upload(self, c: ConsoleDep, tour_state: TourStateDep) -> Response[Any]:
        form = await c.form()
        upload = form.file("file")
        try:
            if upload is None or not upload.filename:
                raise MediaError("choose a file to upload")
            folder = form.get("folder").strip().strip("/")
            name = f"{folder}/{upload.filename}" if folder else upload.filename
            await upload_media(c.platform, tour_state.tour, name, await upload.read())
        except PromtourError as exc:
            return await self._page(c, tour_state, status=400, error=str(exc))
        return c.redirect(f"{c.base()}/tours/{tour_state.tour.id}/media", "uploaded")

    @get("/delete", opt=E)
    async def delete_form(self, c: ConsoleDep, tour_state: TourStateDep) -> Response[str]:
        """The question before deleting; for a file in use, why it cannot be deleted."""
        name = c.request.query_params.get("name") or ""
        if not name:
            return await self._page(c, tour_state)  # no file chosen yet: the list to choose from
        item = next(
            (i for i in await list_media(c.platform, tour_state.tour) if i.name == name), None
        )
        if item is None:
            return await self._page(c, tour_state, status=404, error=c._("There is no such file."))
        return await c.page(
            "console/media_delete.html",
            title=c._("Delete a file"),
            tour=tour_state.tour,
            item=item,
        )

    @post("/delete", opt=E)
    async def delete(self, c: ConsoleDep, tour_state: TourStateDep) -> Response[Any]:
        name = (await c.form()).get("name")
        try:
            await delete_media(c.platform, tour_state.tour, name)
        except MediaInUse:
            error = c._("%(name)s is used by the tour: change the settings that use it first.")
            return await self._page(c, tour_state, status=400, error=error % {"name": name})
        except PromtourError:
            return await self._page(c, tour_state, status=404, error=c._("There is no such file."))
        return c.redirect(f"{c.base()}/tours/{tour_state.tour.id}/media", "deleted")
