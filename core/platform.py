"""The running platform: settings, NATS, plugins, tours, templates and translations.

One :class:`Platform` per process. The web app, the CLI and the test fixtures all
build one; plugins never see it, only the contexts it hands them.
"""

from __future__ import annotations

import base64
import logging
import secrets
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
import msgspec
import nats.js.errors
from promtour.bus import BUCKET_META, BUCKET_PROGRESS, Bus, read, update_with_retry
from promtour.consumers import ConsumerSettings, PluginConsumers
from promtour.context import PluginContext
from promtour.errors import TourError
from promtour.events import (
    CORE_EVENT_TYPES,
    EventRegistry,
    TourFinished,
    VisitorCheckedIn,
    VisitorJoinedGroup,
)
from promtour.i18n import Translations
from promtour.manager import PluginManager, await_maybe
from promtour.media import check_media, check_size, clean_name
from promtour.metrics import Metrics
from promtour.models import Enterprise, Progress, Station, Tour, utcnow
from promtour.settings import Settings
from promtour.store import PluginStore
from promtour.templating import install as fast_templates
from promtour.tokens import Signer, new_tour_key
from promtour.tours import TourCache, TourFile, TourState, file_digest, media_name

__all__ = ["CheckIn", "Platform", "StationRows"]

log = logging.getLogger("promtour")

CORE_TEMPLATES = Path(__file__).parent / "web" / "templates"
_progress_decoder = msgspec.json.Decoder(Progress)
_CHECKIN_NS = uuid.UUID("6f1d3c2e-8a4b-4c1e-9a57-3c0de5a1f00d")


#: Seconds within which a second scan of the same station is the same check-in.
DOUBLE_SCAN_SECONDS = 10.0


def _is_double_scan(progress: Progress, station: str, now: datetime) -> bool:
    last = progress.last_scan.get(station)
    return last is not None and abs((now - last).total_seconds()) < DOUBLE_SCAN_SECONDS


class CheckIn(msgspec.Struct):
    progress: Progress
    repeat: bool
    event_id: str


class StationRows:
    """A tour's station list for one language, rendered once (``_progress.html``).

    Each row is kept in its four forms (todo or visited, here or not) as
    ``(station id, todo, todo here, visited, visited here)``, so a page only picks
    one per station instead of rendering it for every visitor.
    """

    __slots__ = ("count", "rows", "tail", "tour", "translate")

    def __init__(self, tour: Tour, translate: Any, row: Any, tail: Any) -> None:
        #: Kept so that the identities in the cache key stay taken while cached.
        self.tour = tour
        self.translate = translate
        stations = tour.enabled_stations
        self.count = len(stations)
        self.rows = [
            (
                s.id,
                row(s, False, False),
                row(s, False, True),
                row(s, True, False),
                row(s, True, True),
            )
            for s in stations
        ]
        self.tail = tail()


#: Station lists kept (tours × languages × translators); the oldest goes first.
STATION_ROWS_CACHE = 256


class Platform:
    def __init__(
        self,
        settings: Settings,
        *,
        plugins: PluginManager | None = None,
        consumer_settings: ConsumerSettings | None = None,
    ) -> None:
        self.settings = settings
        self.plugins = plugins or PluginManager(disabled=settings.disabled_plugins)
        self.events = EventRegistry(CORE_EVENT_TYPES)
        self.events.register(*self.plugins.event_types())
        self.bus = Bus(
            settings.nats.url,
            replicas=settings.nats.replicas,
            publish_timeout=settings.nats.publish_timeout,
            connect_timeout=settings.nats.connect_timeout,
        )
        self.tours = TourCache(self.bus, self.plugins)
        self.metrics = Metrics()
        self.translations = Translations(settings.languages)
        for name, assets in self.plugins.assets.items():
            self.translations.add_domain(name, assets.locales)
        self.templates = self._template_env()
        self.consumers = PluginConsumers(self, consumer_settings)
        self._stores: dict[str, PluginStore] = {}
        self._station_rows: dict[tuple[int, str, int], StationRows] = {}
        self.signer: Signer = Signer(settings.secret_key or "unset")

    # --- life cycle --------------------------------------------------------------------

    async def start(self, *, consumers: bool = True) -> None:
        await self.bus.connect()
        self.signer = Signer(await self._secret())
        await self.tours.start()
        if consumers:
            await self.consumers.start()

    async def stop(self) -> None:
        await self.consumers.stop()
        await self.tours.stop()
        await self.bus.close()

    async def _secret(self) -> str:
        """The platform secret: from settings, else one shared by all processes via KV."""
        if self.settings.secret_key:
            return self.settings.secret_key
        kv = await self.bus.bucket(BUCKET_META)
        try:
            await kv.create("secret", secrets.token_urlsafe(48).encode())
        except nats.js.errors.KeyWrongLastSequenceError:
            pass
        entry = await kv.get("secret")
        assert entry.value
        return entry.value.decode()

    # --- templates ---------------------------------------------------------------------

    def _template_env(self) -> jinja2.Environment:
        prefixed = {
            name: jinja2.FileSystemLoader(str(assets.templates))
            for name, assets in self.plugins.assets.items()
            if assets.templates is not None
        }
        env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(
                [jinja2.FileSystemLoader(str(CORE_TEMPLATES)), jinja2.PrefixLoader(prefixed)]
            ),
            autoescape=True,
            auto_reload=False,
            # The templates are a fixed set of files: a plain dict, not jinja2's LRU
            # cache, whose lookup is a locked O(n) reorder (every page looks up its
            # template, its base and each include).
            cache_size=-1,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.globals["station_rows"] = self.station_rows
        return fast_templates(env)

    def station_rows(
        self, tour: Tour, lang: str, translate: Any, row: Any, tail: Any
    ) -> StationRows:
        """The station list of ``_progress.html`` for a tour and language, rendered by its
        macros ``row`` and ``tail`` on first use. A saved tour is a new ``Tour`` object
        (stored tours are never changed in place), so the key is its identity, with the
        language and the translator the macros use; ``text`` in those macros is the
        request's ``pick_text`` for ``lang``."""
        key = (id(tour), lang, id(translate))
        rows = self._station_rows.get(key)
        if rows is None or rows.tour is not tour or rows.translate is not translate:
            rows = StationRows(tour, translate, row, tail)
            while len(self._station_rows) >= STATION_ROWS_CACHE:
                del self._station_rows[next(iter(self._station_rows))]
            self._station_rows[key] = rows
        return rows

    def render(self, template: str, lang: str, domain: str = "promtour", **values: Any) -> str:
        values.setdefault("_", self.translations.translator(lang, domain))
        values.setdefault("lang", lang)
        return self.templates.get_template(template).render(values)

    # --- plugins -----------------------------------------------------------------------

    def store_for(self, plugin: str) -> PluginStore:
        store = self._stores.get(plugin)
        if store is None:
            store = self._stores[plugin] = PluginStore(self.bus, plugin)
        return store

    def context(self, plugin: str, state: TourState | None = None, **kw: Any) -> PluginContext:
        return PluginContext(self, plugin, state, **kw)

    # --- tours -------------------------------------------------------------------------

    async def media_names(self, tour: Tour) -> frozenset[str]:
        prefix = f"{tour.enterprise}/{tour.id}/"
        try:
            infos = await self.bus.media.list(ignore_deletes=True)
        except nats.js.errors.NotFoundError:
            return frozenset()
        return frozenset(i.name[len(prefix) :] for i in infos if i.name.startswith(prefix))

    async def save_tour(
        self, tour: Tour, *, media: frozenset[str] | None = None, create_only: bool = False
    ) -> TourState:
        """Validate and store a tour. Signing keys and the guide PIN are kept from the
        stored version when ``tour`` has none; setup/teardown hooks run afterwards."""
        if await self.tours.enterprise(tour.enterprise) is None:
            raise TourError(
                f"enterprise {tour.enterprise!r} does not exist: create it first "
                "(promtour enterprise create)"
            )
        if media is None:
            media = await self.media_names(tour)
        self.plugins.validate_tour(tour, media)
        current = await self.tours.refresh(tour.key)
        if current is not None and create_only:
            raise TourError(f"tour {tour.key} already exists")
        if not tour.keys:
            tour.keys = list(current.tour.keys) if current else [new_tour_key()]
        if not tour.guide_pin and current is not None:
            tour.guide_pin = current.tour.guide_pin
        state = await self.tours.put(tour, last=current.revision if current else None)
        before = set(current.tour.plugins) if current else set()
        for plugin in sorted(set(tour.plugins)):
            await self._call_tour_hook("promtour_tour_setup", plugin, state)
        for plugin in sorted(before - set(tour.plugins)):
            await self._call_tour_hook("promtour_tour_teardown", plugin, state)
        return state

    async def _call_tour_hook(self, hook: str, plugin: str, state: TourState) -> None:
        impl = self.plugins.impl_of(hook, plugin)
        if impl is None:
            return
        try:
            await await_maybe(impl(ctx=self.context(plugin, state)))
        except Exception:
            log.exception("plugin %s: %s failed for tour %s", plugin, hook, state.tour.key)

    async def delete_tour(self, key: str) -> TourState | None:
        """Delete a tour (``<enterprise>.<tour>``); its plugins' teardown hooks run after.

        Returns the deleted tour's last state, or None if there was no such tour. Media
        files are left to the caller (they may be shared with an export)."""
        current = await self.tours.refresh(key)
        if current is None:
            return None
        await self.tours.delete(key)
        for plugin in sorted(set(current.tour.plugins)):
            await self._call_tour_hook("promtour_tour_teardown", plugin, current)
        return current

    async def import_tour(self, tour_file: TourFile) -> TourState:
        """Check every media file, then upload the changed ones, then save the tour.

        The checks are the console's (:mod:`promtour.media`) and all run before the
        first upload, so a refused file leaves the media store as it was."""
        tour = tour_file.tour
        files = {clean_name(name): path for name, path in tour_file.media.items()}
        for name, path in files.items():
            _check_media_file(name, path)
        existing = await self.media_names(tour)
        for name, path in files.items():
            target = media_name(tour, name)
            if name in existing:
                info = await self.bus.media.get_info(target)
                digest = (info.digest or "").removeprefix("SHA-256=")
                if digest and _b64_to_hex(digest) == file_digest(path):
                    continue
            # Checked again as read: the bytes stored are the bytes checked.
            await self.bus.media.put(target, _check_media_file(name, path))
        return await self.save_tour(tour, media=existing | frozenset(files))

    async def import_enterprise(self, enterprise: Enterprise) -> None:
        await self.tours.save_enterprise(enterprise)

    # --- visitors ----------------------------------------------------------------------

    def progress_key(self, tour: Tour, visitor: str) -> str:
        return f"{tour.key}.{visitor}"

    async def progress(self, tour: Tour, visitor: str) -> Progress | None:
        kv = await self.bus.bucket(BUCKET_PROGRESS)
        value, _ = await read(kv, self.progress_key(tour, visitor), _progress_decoder)
        return value

    async def check_in(
        self, state: TourState, station: Station, visitor: str, *, lang: str, method: str = "qr"
    ) -> CheckIn:
        """Record a visit: the event first (acked), then the progress.

        The event id is derived from the visitor's scan count at this station, so a
        retried request after a lost response stores the event once. A second scan of
        the same station within ``DOUBLE_SCAN_SECONDS`` (a double tap, a reload) is the
        same check-in: no new event, no new count.
        """
        tour = state.tour
        kv = await self.bus.bucket(BUCKET_PROGRESS)
        key = self.progress_key(tour, visitor)
        current, revision = await read(kv, key, _progress_decoder)
        now = utcnow()
        if current is not None and _is_double_scan(current, station.id, now):
            return CheckIn(progress=current, repeat=True, event_id="")
        count = current.scans.get(station.id, 0) if current else 0
        event = VisitorCheckedIn(
            id=uuid.uuid5(_CHECKIN_NS, f"{key}:{station.id}:{count}").hex,
            enterprise=tour.enterprise,
            tour=tour.id,
            station=station.id,
            visitor=visitor,
            group=current.group if current else None,
            time=now,
            method=method,
            repeat=count > 0,
            lang=lang,
        )
        await self.bus.publish(event)

        def visit(progress: Progress | None) -> Progress:
            progress = progress or Progress(visitor=visitor, tour=tour.key)
            if station.id not in progress.visited:
                progress.visited.append(station.id)
            # A concurrent duplicate of this same scan already counted it.
            if not _is_double_scan(progress, station.id, now):
                progress.scans[station.id] = progress.scans.get(station.id, 0) + 1
                progress.last_scan[station.id] = now
            return progress

        progress, _ = await update_with_retry(kv, key, Progress, visit, first=(current, revision))
        self.metrics.inc("promtour_scans_total")
        return CheckIn(progress=progress, repeat=count > 0, event_id=event.id)

    async def finish(self, state: TourState, progress: Progress) -> Progress:
        """Mark the tour finished for a visitor; the first time, publish TourFinished."""
        if progress.finished is not None:
            return progress
        tour = state.tour
        key = self.progress_key(tour, progress.visitor)
        await self.bus.publish(
            TourFinished(
                id=uuid.uuid5(_CHECKIN_NS, f"{key}:finished").hex,
                enterprise=tour.enterprise,
                tour=tour.id,
                visitor=progress.visitor,
                group=progress.group,
                stations_visited=len(progress.visited),
            )
        )

        def done(current: Progress | None) -> Progress:
            current = current or progress
            current.finished = current.finished or utcnow()
            return current

        kv = await self.bus.bucket(BUCKET_PROGRESS)
        finished, _ = await update_with_retry(kv, key, Progress, done)
        return finished

    async def join_group(self, state: TourState, visitor: str, group: str) -> Progress:
        tour = state.tour
        kv = await self.bus.bucket(BUCKET_PROGRESS)

        def join(progress: Progress | None) -> Progress:
            progress = progress or Progress(visitor=visitor, tour=tour.key)
            progress.group = group
            return progress

        progress, _ = await update_with_retry(kv, self.progress_key(tour, visitor), Progress, join)
        await self.bus.publish(
            VisitorJoinedGroup(
                enterprise=tour.enterprise, tour=tour.id, visitor=visitor, group=group
            )
        )
        return progress


def _check_media_file(name: str, path: Path) -> bytes:
    """A local media file's bytes if they pass the media checks; the error names ``path``."""
    check_size(name, path.stat().st_size, label=str(path))
    data = path.read_bytes()
    check_media(name, data, label=str(path))
    return data


def _b64_to_hex(value: str) -> str:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex()
    except ValueError:
        return ""
