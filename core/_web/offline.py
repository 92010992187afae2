"""The offline tour on the web: the service worker, the app manifest, the list of what
a phone saves, the saved copies of station pages, the offline page, and the
idempotency of replayed actions (see :mod:`promtour._offline` and docs/visitors.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from litestar import Controller, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from promtour._models import Progress, pick_text, utcnow
from promtour._offline import (
    OfflineFile,
    OfflineManifest,
    ReplayRefused,
    claim_action,
    finish_action,
    media_for_language,
    replay_time,
    tour_pages,
)
from promtour._web.pages import station_page
from promtour._web.request import PT, VISITOR_COOKIE

__all__ = ["ACTION_TIME", "OfflinePages", "idempotency_middleware"]

STATIC = Path(__file__).parent / "static"
#: The scope state key of a replayed action's original time (``RequestContext.action_time``).
ACTION_TIME = "promtour_action_time"
#: A page's size before it is fetched is not known: the estimate in the size shown.
PAGE_ESTIMATE = 30_000
#: The core files every saved tour needs (the service worker caches them at install too).
CORE_ASSETS = (
    "/static/core/promtour.css",
    "/static/core/offline.js",
    "/static/core/favicon.svg",
    "/static/core/icon-192.png",
)


def _static_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class OfflinePages(Controller):
    include_in_schema = False

    @get("/sw.js")
    async def service_worker(self) -> Response[bytes]:
        # Served at the root so that its scope is the whole site (a worker under
        # /static/ could only control /static/); revalidated on every visit so that a
        # new version reaches phones at once.
        return Response(
            (STATIC / "sw.js").read_bytes(),
            media_type="text/javascript",
            headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
        )

    @get("/manifest.webmanifest")
    async def site_manifest(self, pt: PT) -> Response[Any]:
        return _manifest(pt, "promtour", "/", "#0b5fa5")

    @get("/t/{enterprise:str}/{tour_id:str}/manifest.webmanifest")
    async def tour_manifest(
        self, pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]
    ) -> Response[Any]:
        state = await pt.tour(enterprise, tour_id)
        tour = state.tour
        name = pick_text(tour.name, pt.lang_for(tour), tour.id)
        return _manifest(pt, name, f"/t/{tour.enterprise}/{tour.id}", tour.theme_color)

    @get("/t/{enterprise:str}/{tour_id:str}/offline.json")
    async def offline_files(
        self, pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]
    ) -> Response[OfflineManifest]:
        """Every URL a phone stores to run this tour offline in the visitor's
        language, with sizes (pages: an estimate)."""
        state = await pt.tour(enterprise, tour_id)
        tour = state.tour
        lang = pt.lang_for(tour)
        platform = pt._platform
        files = [OfflineFile(url=url, bytes=PAGE_ESTIMATE, kind="page") for url in tour_pages(tour)]
        files += [
            OfflineFile(url=url, bytes=_static_size(STATIC / url.rsplit("/", 1)[-1]), kind="asset")
            for url in CORE_ASSETS
        ]
        assets = pt.assets_for(tour)
        for url in assets["css"] + assets["js"]:
            _, _, name, file = url.split("/", 4)[1:]
            folders = platform.plugins.folders.get(name)
            size = _static_size(folders.static / file) if folders and folders.static else 0
            files.append(OfflineFile(url=url, bytes=size, kind="asset"))
        sizes = await _media_sizes(platform, tour)
        # Station pictures, then what the plugins' configs name in this language.
        wanted = {s.image for s in tour.enabled_stations if s.image in sizes}
        for config in tour.plugins.values():
            wanted |= media_for_language(config, lang, frozenset(sizes), tour.languages)
        files += [
            OfflineFile(
                url=f"/media/{tour.enterprise}/{tour.id}/{name}", bytes=sizes[name], kind="media"
            )
            for name in sorted(wanted)
        ]
        body = OfflineManifest(
            tour=tour.key,
            lang=lang,
            revision=state.revision,
            files=files,
            total_bytes=sum(f.bytes for f in files),
        )
        return pt.finish(Response(body))

    @get("/t/{enterprise:str}/{tour_id:str}/saved/{station_id:str}")
    async def saved_station(
        self, pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], station_id: FromPath[str]
    ) -> Response[str]:
        """The copy of a station page that a phone saves, to show when it scans the
        station without signal. It records nothing: the check-in is the scan's, queued
        and replayed later; so it shows the page as it looks right after a first
        check-in here (the server judges every answer, after that check-in)."""
        state = await pt.tour(enterprise, tour_id)
        station = state.tour.station(station_id)
        if station is None or not station.enabled:
            raise NotFoundException("There is no such station.")
        current = await pt._platform.visits.progress(state.tour, pt.visitor)
        progress = current or Progress(visitor=pt.visitor, tour=state.tour.key)
        if station.id not in progress.visited:
            progress = msgspec.structs.replace(
                progress,
                visited=[*progress.visited, station.id],
                scans={**progress.scans, station.id: 1},
                last_scan={**progress.last_scan, station.id: utcnow()},
            )
        return await station_page(pt, state, station, progress, saved=True)

    @get("/t/{enterprise:str}/{tour_id:str}/offline")
    async def tour_offline(
        self, pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]
    ) -> Response[str]:
        state = await pt.tour(enterprise, tour_id)
        return pt.page("offline.html", tour=state.tour)

    @get("/offline")
    async def offline(self, pt: PT) -> Response[str]:
        """What the service worker shows for a page it has no copy of, without signal."""
        return pt.page("offline.html", tour=None)


def _manifest(pt: Any, name: str, start: str, colour: str) -> Response[Any]:
    body = {
        "name": name,
        "short_name": name[:24],
        "start_url": start,
        "scope": "/",
        "display": "standalone",
        "lang": pt.lang,
        "theme_color": colour,
        "background_color": "#ffffff",
        "icons": [
            {"src": "/static/core/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/static/core/icon-512.png", "sizes": "512x512", "type": "image/png"},
            {"src": "/static/core/favicon.svg", "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    response = Response(body, media_type="application/manifest+json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


async def _media_sizes(platform: Any, tour: Any) -> dict[str, int]:
    prefix = f"{tour.enterprise}/{tour.id}/"
    try:
        infos = await platform.bus.media.list(ignore_deletes=True)
    except Exception:  # no media store entries at all
        return {}
    return {i.name[len(prefix) :]: i.size or 0 for i in infos if i.name.startswith(prefix)}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    raw = _header(scope, b"cookie") or ""
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value.strip('"')
    return None


async def _plain(send: Send, status: int, body: dict[str, Any]) -> None:
    data = msgspec.json.encode(body)
    start: Any = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(data)).encode()),
            (b"cache-control", b"no-store"),
        ],
    }
    await send(start)
    end: Any = {"type": "http.response.body", "body": data}
    await send(end)


def idempotency_middleware(app: ASGIApp) -> ASGIApp:
    """A POST with ``Idempotency-Key`` (a queued action's id) runs once per visitor:
    its record is claimed before the request runs and marked done after it, so a
    replay, however much later, gets ``{"replayed": true}`` and changes nothing. With
    ``X-Promtour-Action-Time`` the action's original time (bounded) is handed to the
    route (``RequestContext.action_time``)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        action = _header(scope, b"idempotency-key")
        if scope["type"] != "http" or scope.get("method") != "POST" or action is None:
            await app(scope, receive, send)
            return
        platform = scope["app"].state.platform
        hours = platform.settings.web.offline_replay_hours
        visitor = platform.signer.unsign(_cookie(scope, VISITOR_COOKIE), purpose="visitor")
        if visitor is None:
            await _plain(send, 403, {"detail": "An action is replayed by the visitor who made it."})
            return
        try:
            when = replay_time(_header(scope, b"x-promtour-action-time"), max_age_hours=hours)
            record = await claim_action(platform.bus, visitor, action.strip(), max_age_hours=hours)
        except ReplayRefused as exc:
            await _plain(send, 422, {"detail": str(exc), "refused": True})
            return
        if record is not None:
            if record.state == "pending":
                await _plain(send, 409, {"detail": "This action is being recorded; retry."})
            else:
                await _plain(send, 200, {"replayed": True, "status": record.status})
            return
        scope.setdefault("state", {})[ACTION_TIME] = when
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await app(scope, receive, watch)
        finally:
            await finish_action(platform.bus, visitor, action.strip(), status, max_age_hours=hours)

    return middleware
