"""Pages gzipped on the wire, for a phone on a slow network.

A station page is 20-30 KB of HTML, and a new visitor's first page carries the tour's
stylesheet and script inline as well (80-90 KB): on a "Fast 3G" link (about 180 KB/s)
that is 0.15-0.5 s of transfer before the page can paint, and gzip takes it to about
a quarter. Only HTML pages are compressed here, each once, whole:

- static bundles are gzipped once when built (promtour._web.assets) and answered with
  their own ``Content-Encoding``; a response that has one is never touched;
- streams (server-sent events, anything sent in more than one body message) pass as
  they are: compressing them would hold events back in the compressor;
- media (audio, pictures) is already compressed and answered in ranges.

Level 1: on this machine it costs about 10 us of CPU per KB of page (docs/
performance.md, "Compression", with the figures for levels 1-6), and the higher
levels gain 10-20 % more for two to three times the CPU.

Why not litestar's ``CompressionConfig``: its middleware compresses every response
type (it would compress the already gzipped bundles a second time, the audio and its
206 ranges, and the SSE streams) unless each route is excluded by path or option.
"""

from __future__ import annotations

import zlib

from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["LEVEL", "MIN_BYTES", "accepts_gzip", "compress_pages", "gzip_body"]

#: zlib level (see the module's docstring for why 1).
LEVEL = 1
#: Below this a page is sent as it is: a gzip header and a round of CPU for less than
#: one TCP segment saved.
MIN_BYTES = 1400
COMPRESSED_TYPES = ("text/html",)


def accepts_gzip(header: str) -> bool:
    """Whether an ``Accept-Encoding`` header accepts gzip (``gzip;q=0`` refuses it)."""
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        q = params.strip().lower()
        if q.startswith("q="):
            try:
                return float(q[2:]) > 0
            except ValueError:
                return False
        return True
    return False


def gzip_body(body: bytes) -> bytes:
    """``body`` as a gzip member (``mtime`` 0: the same page, the same bytes)."""
    packer = zlib.compressobj(LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return packer.compress(body) + packer.flush()


def compress_pages(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: gzip an HTML page sent in one body message when the client
    accepts it; ``Vary: Accept-Encoding`` on every page it could have compressed."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        gzip_ok = accepts_gzip(Headers.from_scope(scope).get("accept-encoding", ""))
        held: Message | None = None

        async def send_page(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                kind = (headers.get("content-type") or "").split(";")[0].strip().lower()
                if kind in COMPRESSED_TYPES and not headers.get("content-encoding"):
                    headers.extend_header_value("vary", "Accept-Encoding")
                    if gzip_ok:
                        held = message  # until the body shows whether it is one piece
                        return
                await send(message)
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            start, held = held, None
            body = message.get("body", b"")
            if not message.get("more_body", False) and len(body) >= MIN_BYTES:
                body = gzip_body(body)
                headers = MutableScopeHeaders.from_message(start)
                headers["Content-Encoding"] = "gzip"
                headers["Content-Length"] = str(len(body))
                message = {**message, "body": body}
            await send(start)
            await send(message)

        await app(scope, receive, send_page)

    return middleware
