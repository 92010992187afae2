"""Tour media (audio, images) served from the NATS object store, with byte ranges.

Phones' audio players (Safari's above all) ask for ranges; a process keeps recently
used files in memory so a school class at one station costs one read from NATS.
"""

from __future__ import annotations

import mimetypes
import re
from collections import OrderedDict
from typing import Any

import nats.js.errors
from litestar import Request, Response, get
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from promtour.tours import media_name

__all__ = ["MediaCache", "serve_media"]

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class MediaCache:
    def __init__(self, max_bytes: int = 128 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._files: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0

    def get(self, name: str) -> bytes | None:
        data = self._files.get(name)
        if data is not None:
            self._files.move_to_end(name)
        return data

    def put(self, name: str, data: bytes) -> None:
        if len(data) > self.max_bytes // 4:
            return
        self._files[name] = data
        self._size += len(data)
        while self._size > self.max_bytes:
            _, old = self._files.popitem(last=False)
            self._size -= len(old)


@get("/media/{enterprise:str}/{tour_id:str}/{name:path}", include_in_schema=False)
async def serve_media(
    request: Request[Any, Any, Any],
    enterprise: FromPath[str],
    tour_id: FromPath[str],
    name: FromPath[str],
) -> Response[bytes]:
    platform = request.app.state.platform
    cache: MediaCache = request.app.state.media_cache
    state = await platform.tours.get(f"{enterprise}.{tour_id}")
    name = name.lstrip("/")
    if state is None or ".." in name.split("/"):
        raise NotFoundException("No such file.")
    key = media_name(state.tour, name)
    data = cache.get(key)
    if data is None:
        try:
            result = await platform.bus.media.get(key)
        except (nats.js.errors.NotFoundError, nats.js.errors.ObjectNotFoundError):
            raise NotFoundException("No such file.") from None
        data = result.data or b""
        cache.put(key, data)
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "public, max-age=3600"}
    asked = request.headers.get("range")
    if not asked:
        return Response(data, media_type=media_type, headers=headers)
    match = RANGE.match(asked.strip())
    size = len(data)
    if match is None or match.groups() == ("", ""):
        raise HTTPException(
            status_code=416, detail="Bad range.", headers={"Content-Range": f"bytes */{size}"}
        )
    first, last = match.groups()
    if first == "":
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last) if last else size - 1, size - 1)
    if start >= size or start > end:
        raise HTTPException(
            status_code=416,
            detail="Range not satisfiable.",
            headers={"Content-Range": f"bytes */{size}"},
        )
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return Response(data[start : end + 1], status_code=206, media_type=media_type, headers=headers)
