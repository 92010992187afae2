"""Building the litestar application around a :class:`~promtour._platform.Platform`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, Router, get
from litestar.config.allowed_hosts import AllowedHostsConfig
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.params import FromPath
from litestar.static_files import create_static_files_router
from promtour import __version__
from promtour._console import console_handlers
from promtour._console.openapi import COMPONENTS as CONSOLE_OPENAPI
from promtour._platform import Platform
from promtour._settings import load_settings
from promtour._web import api, ops
from promtour._web.assets import BUNDLE_PREFIX, Bundles
from promtour._web.compression import accepts_gzip, compress_pages
from promtour._web.errors import exception_handlers
from promtour._web.media import MediaCache, serve_media
from promtour._web.offline import OfflinePages, idempotency_middleware
from promtour._web.pages import VisitorPages
from promtour._web.request import RequestContext
from promtour._web.security import csrf_guard, security_headers

__all__ = ["app_from_env", "create_app"]

STATIC = Path(__file__).parent / "static"


def _pt_provider(plugin: str) -> Callable[[Request[Any, Any, Any]], RequestContext]:
    def provide(request: Request[Any, Any, Any]) -> RequestContext:
        return RequestContext(request.app.state.platform, request, plugin)

    return provide


#: A bundle's URL names its content: it never changes, so it is never revalidated.
IMMUTABLE = "public, max-age=31536000, immutable"


@get(f"{BUNDLE_PREFIX}/{{digest:str}}/{{name:str}}", include_in_schema=False, sync_to_thread=False)
def serve_bundle(
    request: Request[Any, Any, Any], digest: FromPath[str], name: FromPath[str]
) -> Response[bytes]:
    """A tour's one stylesheet or script (see :mod:`promtour._web.assets`)."""
    bundle = request.app.state.bundles.lookup(digest, name)
    if bundle is None:
        raise NotFoundException("There is no such file.")
    headers = {"Cache-Control": IMMUTABLE, "Vary": "Accept-Encoding"}
    body = bundle.body
    if accepts_gzip(request.headers.get("accept-encoding") or ""):
        body = bundle.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=bundle.media_type, headers=headers)


def bundles_for(platform: Platform) -> Bundles:
    """The bundler over the core's stylesheet and the plugins' static files."""
    sources = {}
    for name, info in platform.plugins.infos.items():
        folders = platform.plugins.folders.get(name)
        static = folders.static if folders is not None else None
        sources[name] = (static, tuple(info.css), tuple(info.js))
    return Bundles(STATIC / "promtour.css", sources, core_js=STATIC / "offline.js")


def create_app(platform: Platform, *, manage_platform: bool = True) -> Litestar:
    """The web app. With ``manage_platform`` the app starts and stops the platform
    (connects to NATS, starts consumers) in its lifespan."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if manage_platform:
            await platform.start()
        try:
            yield
        finally:
            if manage_platform:
                await platform.stop()

    plugin_routers: list[Router] = []
    static_dirs = [
        create_static_files_router(
            path="/static/core", directories=[STATIC], include_in_schema=False, name="static-core"
        )
    ]
    for name, handlers in platform.plugins.routes().items():
        plugin_routers.append(
            Router(
                path=f"/p/{name}",
                route_handlers=handlers,
                dependencies={"pt": Provide(_pt_provider(name), sync_to_thread=False)},
            )
        )
    for name, folders in platform.plugins.folders.items():
        if folders.static is not None:
            static_dirs.append(
                create_static_files_router(
                    path=f"/static/p/{name}",
                    directories=[folders.static],
                    include_in_schema=False,
                    name=f"static-{name}",
                )
            )
    settings = platform.settings
    app = Litestar(
        route_handlers=[
            VisitorPages,
            OfflinePages,
            api.VisitorApi,
            ops.healthz,
            ops.readyz,
            ops.metrics,
            serve_media,
            serve_bundle,
            *static_dirs,
            *plugin_routers,
            *console_handlers(platform),
        ],
        dependencies={"pt": Provide(_pt_provider(""), sync_to_thread=False)},
        lifespan=[lifespan],
        before_request=csrf_guard,
        # Pages gzipped for a slow phone network (HTML only, never streams or media);
        # replayed offline actions (Idempotency-Key) run once per visitor.
        middleware=[
            *([compress_pages] if settings.web.compress_pages else []),
            idempotency_middleware,
        ],
        before_send=[security_headers],
        exception_handlers=exception_handlers,
        allowed_hosts=AllowedHostsConfig(allowed_hosts=settings.web.allowed_hosts),
        request_max_body_size=settings.web.max_body_bytes,
        # JSON and YAML only: litestar's HTML renderers load their scripts from a CDN.
        openapi_config=OpenAPIConfig(
            title="promtour",
            version=__version__,
            path="/schema",
            description="The JSON API of promtour.",
            render_plugins=[JsonRenderPlugin(), YamlRenderPlugin()],
            components=CONSOLE_OPENAPI,
        ),
        logging_config=None,
        debug=False,
    )
    app.state.platform = platform
    app.state.media_cache = MediaCache()
    app.state.bundles = bundles_for(platform)
    return app


def app_from_env() -> Litestar:
    """Factory for uvicorn workers: settings from ``$PROMTOUR_SETTINGS`` and the env."""
    settings = load_settings()
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    return create_app(Platform(settings))
