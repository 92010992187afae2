"""Running promtour: the embedded NATS if needed, the demo import, then uvicorn."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import msgspec
import nats.js.errors
from promtour._bus import BUCKET_META
from promtour._embedded import EmbeddedNats, NatsCredentials, embedded_credentials, private_dir
from promtour._errors import PromtourError
from promtour._platform import Platform
from promtour._settings import Settings
from promtour._tokens import sign_station
from promtour._tours import TourState, load_enterprise_toml, load_tour_toml

__all__ = [
    "DEMO_DIR",
    "import_demo",
    "nats_for",
    "platform_session",
    "plugin_links",
    "serve",
    "station_urls",
]

log = logging.getLogger("promtour")

#: The demo enterprise and tour: ``config/demo`` in the source checkout.
DEMO_DIR = Path(__file__).resolve().parent.parent / "config" / "demo"


@contextmanager
def nats_for(settings: Settings) -> Iterator[Settings]:
    """Settings with a NATS URL: the configured one, or a private embedded server.

    The embedded server requires the credentials kept in its store folder (made on
    first start) and is supervised: restarted with back-off if it dies."""
    if settings.nats.url:
        yield settings
        return
    data = private_dir(Path(settings.data_dir))
    store = data / "nats"
    credentials = embedded_credentials(store)
    running = EmbeddedNats.running_url(store)
    if running:
        # `promtour serve` is running on this data folder: use its server.
        yield _with_embedded(settings, running, credentials)
        return
    server = EmbeddedNats(
        store,
        binary=settings.nats.server_binary,
        credentials=credentials,
        sync=settings.nats.embedded_sync,
        supervise=True,
    )
    server.start()
    log.info("embedded nats-server (pid %s) on %s, data in %s", server.pid, server.url, store)
    try:
        yield _with_embedded(settings, server.url, credentials)
    finally:
        server.stop()


def _with_embedded(settings: Settings, url: str, credentials: NatsCredentials) -> Settings:
    nats = msgspec.structs.replace(
        settings.nats,
        url=url,
        user=credentials.user,
        password=credentials.password,
        token="",
        creds="",
    )
    return msgspec.structs.replace(settings, nats=nats)


@asynccontextmanager
async def platform_session(settings: Settings) -> AsyncIterator[Platform]:
    """A started platform (no consumers) for one CLI command."""
    platform = Platform(settings)
    await platform.start(consumers=False)
    try:
        yield platform
    finally:
        await platform.stop()


async def import_demo(platform: Platform, demo_dir: Path = DEMO_DIR) -> list[str]:
    """Import the demo enterprise(s) and tours; returns the tour keys."""
    for path in sorted(demo_dir.glob("enterprise*.toml")):
        await platform.import_enterprise(load_enterprise_toml(path))
    keys = []
    for path in sorted((demo_dir / "tours").glob("*.toml")):
        state = await platform.import_tour(load_tour_toml(path))
        keys.append(state.tour.key)
    await platform.import_plugin_demos(demo_dir)
    return keys


#: Key in the meta bucket: the base URL of the server that runs on this NATS.
RUNNING_URL_KEY = "web.running_url"


async def record_running_url(platform: Platform, url: str) -> None:
    """Note the serving process's base URL in NATS, for `promtour qr` to print URLs
    that reach it when no ``web.public_url`` is set (the demo may run on any port)."""
    kv = await platform.bus.bucket(BUCKET_META)
    await kv.put(RUNNING_URL_KEY, url.encode())


async def poster_base_url(platform: Platform) -> str:
    """The base URL for posters: ``web.public_url`` if set, else the URL of the server
    that last started on this NATS, else ``http://host:port`` from the settings."""
    if platform.settings.web.public_url:
        return platform.settings.public_url
    kv = await platform.bus.bucket(BUCKET_META)
    try:
        entry = await kv.get(RUNNING_URL_KEY)
    except nats.js.errors.KeyNotFoundError:
        return platform.settings.public_url
    return (entry.value or b"").decode() or platform.settings.public_url


def station_urls(
    platform: Platform, tour_key: str, base: str | None = None
) -> list[tuple[int, str, str]]:
    """(number, station id, URL) for every station of a tour."""
    state = next((s for s in platform.tours.all() if s.tour.key == tour_key), None)
    if state is None:
        return []
    base = base or platform.settings.public_url
    return [
        (s.number, s.id, f"{base}/s/{sign_station(state.tour, s.id)}") for s in state.tour.stations
    ]


def serve(settings: Settings, *, demo: bool = False, demo_dir: Path = DEMO_DIR) -> int:
    """Run the web app until Ctrl-C; with the embedded NATS if no URL is set."""
    import uvicorn

    if demo and not (demo_dir / "tours").is_dir():
        if demo_dir != DEMO_DIR:
            raise PromtourError(
                f"--demo-dir {demo_dir}: no tours/ folder there (a demo folder holds "
                "enterprise*.toml and tours/*.toml, as config/demo/ does)"
            )
        # The demo lives in the source checkout (config/demo), not in the wheel.
        raise PromtourError(
            f"the demo tour is not here ({demo_dir}): run `promtour demo` from a source "
            "checkout (pip install -e .), or `promtour serve` and import a tour"
        )
    with nats_for(settings) as settings:

        async def prepare() -> None:
            async with platform_session(settings) as platform:
                if demo:
                    await import_demo(platform, demo_dir)
                await record_running_url(platform, settings.public_url)
                print_tours(platform)

        asyncio.run(prepare())
        common = dict(
            host=settings.web.host,
            port=settings.web.port,
            access_log=settings.web.access_log,
            log_level=settings.log_level.lower(),
            loop="uvloop" if _has("uvloop") else "asyncio",
            http="httptools" if _has("httptools") else "h11",
            lifespan="on",
            timeout_graceful_shutdown=5,
            # The client address is promtour's to decide (web.trusted_proxies): uvicorn
            # would otherwise believe X-Forwarded-For from any local process.
            proxy_headers=False,
        )
        if settings.web.workers == 1:
            from promtour._web.app import create_app

            uvicorn.run(create_app(Platform(settings)), **common)  # type: ignore[arg-type]
        else:
            # Workers read their settings from the environment (the CLI put its flags
            # there); only the embedded server's URL and credentials are new. The
            # environment of a process is readable by its owner only, like the file.
            os.environ["PROMTOUR_NATS__URL"] = settings.nats.url
            # Each plugin's consumer runs in one worker; the workers split them (_leader).
            if not settings.web.consumer_lock:
                lock = Path(settings.data_dir) / "consumers.lock"
                os.environ["PROMTOUR_WEB__CONSUMER_LOCK"] = str(lock.resolve())
            if settings.nats.user:
                os.environ["PROMTOUR_NATS__USER"] = settings.nats.user
                os.environ["PROMTOUR_NATS__PASSWORD"] = settings.nats.password
            uvicorn.run(
                "promtour._web.app:app_from_env",
                factory=True,
                workers=settings.web.workers,
                **common,  # type: ignore[arg-type]
            )
    return 0


def print_tours(platform: Platform) -> None:
    base = platform.settings.public_url
    for state in platform.tours.all():
        tour = state.tour
        print(f"\nTour {tour.key}: {base}/t/{tour.enterprise}/{tour.id}", flush=True)
        for number, station_id, url in station_urls(platform, tour.key):
            print(f"  station {number:>3} {station_id:<20} {url}", flush=True)
        for title, url in plugin_links(platform, state):
            print(f"  {title}: {url}", flush=True)
    print(flush=True)


def plugin_links(platform: Platform, state: TourState) -> list[tuple[str, str]]:
    """(title, URL) of the pages the tour's enabled plugins announce (``links``)."""
    base = platform.settings.public_url
    tour = state.tour
    found = []
    for name in sorted(state.configs):
        info = platform.plugins.infos.get(name)
        for title, path in (info.links if info else {}).items():
            path = path.format(enterprise=tour.enterprise, tour=tour.id)
            found.append((title, f"{base}/p/{name}/{path}"))
    return found


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
