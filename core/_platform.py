"""The running platform: settings, NATS, plugins, tours, templates and translations.

One :class:`Platform` per process. The web app, the CLI and the test fixtures all
build one; plugins never see it, only the contexts it hands them.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
from pathlib import Path
from typing import Any

import jinja2
import nats.js.errors
from promtour._auth import Roles
from promtour._bus import BUCKET_META, Bus, cancel_tasks
from promtour._consumers import ConsumerSettings, PluginConsumers
from promtour._context import EnterpriseContext, PluginContext
from promtour._errors import TourError
from promtour._events import CORE_EVENT_TYPES, EventRegistry
from promtour._expiry import ExpirySweeper
from promtour._i18n import Translations
from promtour._leader import EXPIRY_UNIT, FileLock, unit_label, unit_locks
from promtour._limits import RateLimit, RateLimits
from promtour._live import LiveHub
from promtour._manager import PluginManager, await_maybe
from promtour._media import check_media, check_size, clean_name
from promtour._metrics import Metrics
from promtour._models import Enterprise, Tour
from promtour._settings import DAY, Settings
from promtour._store import PluginStore
from promtour._templating import install as fast_templates
from promtour._tokens import Signer, new_tour_key
from promtour._tours import TourCache, TourFile, TourState, file_digest, media_name
from promtour._visits import Visits

__all__ = ["Platform", "StationRows"]

log = logging.getLogger("promtour")

#: Seconds between a process's tries of the consumer locks it does not hold.
LEADER_RETRY = 2.0
#: Seconds after its start during which a process takes only its share of the consumer
#: locks (the workers start within about a second of each other).
SHARE_GRACE = 3 * LEADER_RETRY

CORE_TEMPLATES = Path(__file__).parent / "_web" / "templates"


class StationRows:
    """A tour's station list for one language, rendered once (``_progress.html``).

    Each row is kept in its four forms (todo or visited, here or not) as
    ``(station id, todo, todo here, visited, visited here)``, so a page only picks
    one per station instead of rendering it for every visitor.
    """

    __slots__ = ("count", "rows", "tail")

    def __init__(self, tour: Tour, row: Any, tail: Any) -> None:
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
            events_max_age=settings.nats.events_max_age_days * DAY,
            events_max_bytes=settings.nats.events_max_bytes,
            progress_ttl=settings.nats.progress_ttl_days * DAY,
            user=settings.nats.user,
            password=settings.nats.password,
            token=settings.nats.token,
            creds=settings.nats.creds,
        )
        self.tours = TourCache(self.bus, self.plugins)
        self.metrics = Metrics()
        self.visits = Visits(self.bus, self.metrics)
        self.roles = Roles(self.plugins.roles())
        self.rate_limits = RateLimits()
        self.scan_limit = RateLimit(
            name="scan",
            per_visitor=settings.web.scan_rate_per_minute,
            per_address=settings.web.scan_rate_per_address,
        )
        self.translations = Translations(settings.languages)
        for name, folders in self.plugins.folders.items():
            self.translations.add_domain(name, folders.locales)
        self.templates = self._template_env()
        self.consumers = PluginConsumers(self, consumer_settings)
        #: Live pages' shared subscriptions (one per subject filter in this process).
        self.live = LiveHub(self.bus, self.events.decode)
        self._stores: dict[str, PluginStore] = {}
        #: Erases personal records when their time is up (started with the consumers).
        self.expiry = ExpirySweeper(self.bus, interval=settings.nats.expiry_sweep_seconds)
        self.signer: Signer = Signer(settings.secret_key or "unset")
        #: Waits for (then holds) the consumer lock of ``web.consumer_lock``.
        self._leading: asyncio.Task[None] | None = None
        #: Background progress writes of check-ins whose event is already stored.

    # --- life cycle --------------------------------------------------------------------

    async def start(self, *, consumers: bool = True) -> None:
        await self.bus.connect()
        self.signer = Signer(await self._secret())
        await self.tours.start()
        await self.live.start()
        lock = self.settings.web.consumer_lock
        if consumers and lock:
            self._leading = asyncio.create_task(self._consume_shared(lock))
        elif consumers:
            await self.consumers.start()
            self.expiry.start()

    async def _start_unit(self, unit: str) -> None:
        if unit == EXPIRY_UNIT:
            self.expiry.start()
        else:
            await self.consumers.start(only=[unit])

    async def _consume_shared(self, lock_path: str) -> None:
        """Run the consumers whose locks this process holds (see promtour._leader): each
        plugin's consumer, and the expiry sweep, has its lock. For a first while
        (:data:`SHARE_GRACE`) a process takes at most its share of the plugins'
        consumers, so that the workers of ``serve --workers N`` split them; after that
        it takes any that no process holds (a worker ended). Tries every
        :data:`LEADER_RETRY` seconds."""
        locks = {unit: FileLock(path) for unit, path in unit_locks(lock_path, self._units())}
        plugins = len(locks) - 1  # the expiry sweep is light: it does not count
        share = -(-plugins // max(1, self.settings.web.workers))
        loop = asyncio.get_running_loop()
        sharing_until = loop.time() + SHARE_GRACE
        held: list[str] = []
        try:
            while True:
                for unit, lock in locks.items():
                    if unit in held:
                        continue
                    mine = sum(1 for u in held if u != EXPIRY_UNIT)
                    if unit != EXPIRY_UNIT and mine >= share and loop.time() < sharing_until:
                        continue
                    if not lock.try_acquire():
                        continue
                    try:
                        await self._start_unit(unit)
                    except Exception:
                        log.exception("could not start %s; trying again", unit_label(unit))
                        lock.release()
                    else:
                        held.append(unit)
                        log.info("this process runs %s", unit_label(unit))
                await asyncio.sleep(LEADER_RETRY)
        finally:
            for lock in locks.values():
                lock.release()

    def _units(self) -> list[str]:
        return [*self.consumers.plugins(), EXPIRY_UNIT]

    async def stop(self) -> None:
        if self._leading is not None:
            await cancel_tasks([self._leading])
            self._leading = None
        await self.expiry.stop()
        await self.visits.stop()
        await self.live.stop()
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
            name: jinja2.FileSystemLoader(str(folders.templates))
            for name, folders in self.plugins.folders.items()
            if folders.templates is not None
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
        macros ``row`` and ``tail`` once per tour revision (in the tour's render cache;
        ``translate`` and ``text`` in those macros are the page's for ``lang``)."""
        state = self.tours.cached(tour.key)
        if state is None or state.tour is not tour:  # a preview of an unsaved tour
            return StationRows(tour, row, tail)
        key = ("promtour", "station_rows", lang)
        rows = state.memo.get(key)
        if rows is None:
            rows = state.memo[key] = StationRows(tour, row, tail)
        return rows  # type: ignore[no-any-return]

    def render(self, template: str, lang: str, domain: str = "promtour", **values: Any) -> str:
        values.setdefault("_", self.translations.translator(lang, domain))
        values.setdefault("ngettext", self.translations.plural_translator(lang, domain))
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
        """Validate and store a tour. Signing keys are kept from the stored version when
        ``tour`` has none; plugins that were disabled get their teardown afterwards."""
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
        state = await self.tours.put(tour, last=current.revision if current else None)
        before = set(current.tour.plugins) if current else set()
        for plugin in sorted(before - set(tour.plugins)):
            await self._teardown(plugin, state)
        return state

    async def _teardown(self, plugin: str, state: TourState) -> None:
        """The plugin's teardown hook, then the core erases its tour-scoped records."""
        impl = self.plugins.impl_of("promtour_tour_teardown", plugin)
        try:
            if impl is not None:
                await await_maybe(impl(ctx=self.context(plugin, state)))
        except Exception:
            log.exception("plugin %s: teardown failed for tour %s", plugin, state.tour.key)
        try:
            await self.store_for(plugin).for_tour(state.tour.key).erase_all()
        except Exception:
            log.exception("plugin %s: records of tour %s not erased", plugin, state.tour.key)

    async def delete_tour(self, key: str) -> TourState | None:
        """Delete a tour (``<enterprise>.<tour>``); its plugins' teardown hooks run after.

        Returns the deleted tour's last state, or None if there was no such tour. Media
        files are left to the caller (they may be shared with an export)."""
        current = await self.tours.refresh(key)
        if current is None:
            return None
        await self.tours.delete(key)
        for plugin in sorted(set(current.tour.plugins)):
            await self._teardown(plugin, current)
        return current

    async def import_tour(self, tour_file: TourFile) -> TourState:
        """Check every media file, then upload the changed ones, then save the tour.

        The checks are the console's (:mod:`promtour._media`) and all run before the
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

    async def import_plugin_demos(self, demo_dir: Path) -> None:
        """Each plugin's ``promtour_import_demo``, after the demo's tours are in."""
        for plugin in self.plugins.names:
            impl = self.plugins.impl_of("promtour_import_demo", plugin)
            if impl is not None:
                ctx = EnterpriseContext(self, plugin, "")
                await await_maybe(impl(ctx=ctx, demo_dir=demo_dir))


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
