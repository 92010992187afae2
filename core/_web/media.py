"""Tour media (audio, images) served from the NATS object store, with byte ranges.

Phones' audio players (Safari's above all) ask for ranges; a process keeps recently
used files in memory so a school class at one station costs one read from NATS.

Files come from editors, and this is the app's own origin: the type sent is the
allow-list's for what the bytes are (:func:`promtour._media.served_type`), never a guess
from the name, always with ``nosniff``; anything else is a download
(``application/octet-stream``, ``attachment``), and a sandbox CSP keeps even a file
opened directly from running as a page.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any
from urllib.parse import quote

import nats.js.errors
from litestar import Request, Response, get
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from promtour._media import served_type
from promtour._tours import media_name

__all__ = ["MediaCache", "media_headers", "serve_media"]

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
#: A media file is never a page: no scripts, no plugins, no framing, even if opened.
MEDIA_CSP = "default-src 'none'; media-src 'self'; img-src 'self'; sandbox; frame-ancestors 'none'"


def media_headers(name: str, data: bytes) -> tuple[str, dict[str, str]]:
    """The content type and headers to serve a stored file with."""
    headers = {
        "Accept-Ranges": "bytes",
        "Cache-Control": "public, max-age=3600",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": MEDIA_CSP,
    }
    media_type = served_type(name, data)
    if media_type is None:
        filename = name.rsplit("/", 1)[-1]
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
        media_type = "application/octet-stream"
    return media_type, headers


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
    media_type, headers = media_headers(name, data)
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
