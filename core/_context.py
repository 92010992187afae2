"""What plugins get from the core: a context per call, never the core's internals.

- :class:`PluginContext`: one plugin and one tour (event handlers, setup, teardown,
  and a plugin route after ``pt.tour(...)``), maybe with a visitor;
- :class:`PageContext`: the same while a visitor page is built (language, station,
  the visitor's progress, the CSRF token, rendering and the render cache);
- :class:`EnterpriseContext`: one plugin and one enterprise, no tour (an HR page).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
import nats.js.errors
from markupsafe import Markup
from promtour._errors import TourError
from promtour._events import Event
from promtour._models import Enterprise, Progress, Station, Tour, pick_text
from promtour._rendering import Frame, slot
from promtour._settings import DAY
from promtour._store import PluginStore

if TYPE_CHECKING:
    from promtour._platform import Platform
    from promtour._tours import TourState

__all__ = ["EnterpriseContext", "PageContext", "PluginContext"]

E = TypeVar("E", bound=Event)
T = TypeVar("T")


class EnterpriseContext:
    """One plugin's view of one enterprise, for routes that concern no single tour."""

    def __init__(self, platform: Platform, plugin: str, enterprise: str) -> None:
        self._platform = platform
        self.plugin = plugin
        #: The enterprise id.
        self.enterprise_id = enterprise
        self.log = logging.getLogger(f"promtour.plugins.{plugin}")

    @property
    def store(self) -> PluginStore:
        """The plugin's own store (shared by all tours and enterprises: prefix keys)."""
        return self._platform.store_for(self.plugin)

    async def enterprise(self) -> Enterprise | None:
        """The enterprise's record (names, contact)."""
        return await self._platform.tours.enterprise(self.enterprise_id)

    async def tour(self, tour_id: str) -> PluginContext | None:
        """The plugin's context for one of the enterprise's tours (also if the plugin is
        not enabled for it: check ``ctx.enabled``), or None if there is no such tour."""
        state = await self._platform.tours.get(f"{self.enterprise_id}.{tour_id}")
        if state is None:
            return None
        return PluginContext(self._platform, self.plugin, state)

    def tours(self) -> list[PluginContext]:
        """Contexts of the enterprise's tours that have the plugin enabled."""
        return [
            PluginContext(self._platform, self.plugin, state)
            for state in self._platform.tours.all()
            if state.tour.enterprise == self.enterprise_id and self.plugin in state.configs
        ]

    async def publish(self, event: Event) -> int:
        """Store an event in the stream (waits for the ack); returns its sequence."""
        return await self._platform.bus.publish(event)

    async def set_enabled(self, tour_id: str, enabled: bool) -> bool:
        """Enable the plugin (with its default config) for one of the enterprise's tours,
        or disable it; True if the tour changed.

        For a plugin that joins a tour on the enterprise's word (an admin accepting a
        proposal on the plugin's page: check the caller with ``pt.require_role`` first).
        Disabling runs the plugin's teardown and erases its tour-scoped records, as the
        console does. A config set before is kept when the plugin is enabled again."""
        for _attempt in range(5):
            state = await self._platform.tours.refresh(f"{self.enterprise_id}.{tour_id}")
            if state is None:
                raise LookupError(f"no tour {tour_id!r} of {self.enterprise_id!r}")
            tour = state.tour
            if (self.plugin in tour.plugins) == enabled:
                return False
            plugins = dict(tour.plugins)
            if enabled:
                plugins[self.plugin] = {}
            else:
                plugins.pop(self.plugin)
            try:
                await self._platform.save_tour(msgspec.structs.replace(tour, plugins=plugins))
            except TourError:
                continue  # saved by someone else meanwhile: read it again
            return True
        raise TourError(f"tour {tour_id!r} keeps changing; try again")


class PluginContext:
    """One plugin's view of the platform, for one tour (and maybe one visitor)."""

    def __init__(
        self,
        platform: Platform,
        plugin: str,
        tour: TourState | None = None,
        *,
        visitor: str | None = None,
        group: str | None = None,
    ) -> None:
        self._platform = platform
        self._state = tour
        self.plugin = plugin
        #: The pseudonymous visitor id, when the call concerns a visitor.
        self.visitor = visitor
        #: The visitor's group code (a class, a party), if they joined one.
        self.group = group

    @property
    def log(self) -> logging.Logger:
        """The plugin's logger (``promtour.plugins.<name>``). Looked up when used: a
        scan makes about ten contexts, and few of them log."""
        return logging.getLogger(f"promtour.plugins.{self.plugin}")

    def _tour_state(self) -> TourState:
        if self._state is None:
            raise RuntimeError("this context has no tour")
        return self._state

    @property
    def tour(self) -> Tour:
        return self._tour_state().tour

    @property
    def revision(self) -> int:
        """The tour's revision: changes whenever the tour is saved."""
        return self._tour_state().revision

    @property
    def enabled(self) -> bool:
        """Whether the plugin is enabled for this tour."""
        return self.plugin in self._tour_state().configs

    @property
    def config(self) -> Any:
        """The plugin's validated per-tour config Struct."""
        return self._tour_state().configs[self.plugin]

    @property
    def store(self) -> PluginStore:
        """The plugin's own store, shared by all its tours (prefix keys by tour, or use
        :attr:`tour_store` for records that must go with the tour)."""
        return self._platform.store_for(self.plugin)

    @property
    def tour_store(self) -> PluginStore:
        """The plugin's records of this tour: erased by the core when the plugin is
        disabled for the tour or the tour is deleted."""
        return self.store.for_tour(self.tour.key)

    @property
    def visitor_ttl(self) -> float | None:
        """Seconds a record about one visitor should live after its last write (the
        ``nats.visitor_record_ttl_days`` setting), as ``ttl=`` of the store's writes;
        ``None`` when the operator keeps such records for ever. Records that are not
        about one visitor (a team, a board, the tour's options) take no TTL."""
        return self._platform.settings.nats.visitor_record_ttl_days * DAY or None

    @property
    def public_url(self) -> str:
        """The site's base URL (as printed on posters), without a trailing slash."""
        return self._platform.settings.public_url

    async def cached(self, key: Hashable, build: Callable[[], T | Awaitable[T]]) -> T:
        """``build()``'s result, kept for this tour revision and plugin under ``key``.

        For what does not depend on the visitor (rendered markup, a computed index):
        built once per tour revision (a saved tour is a new revision and a new cache),
        and concurrent callers wait for the one build. Put the language in ``key`` when
        the value depends on it (:meth:`PageContext.cached_frame` does)."""
        memo = self._tour_state().memo
        full = (self.plugin, key)
        entry = memo.get(full)
        if entry is None:
            entry = memo[full] = asyncio.ensure_future(_resolve(build))
            entry.add_done_callback(lambda f: memo.pop(full, None) if f.exception() else None)
        return await asyncio.shield(entry)  # type: ignore[no-any-return]

    def event(self, cls: type[E], **fields: Any) -> E:
        """An event of type ``cls`` with the envelope (enterprise, tour, visitor, group)
        filled from this context; ``fields`` set the rest and may override those."""
        envelope: dict[str, Any] = {
            "enterprise": self.tour.enterprise,
            "tour": self.tour.id,
            "visitor": self.visitor,
            "group": self.group,
        }
        envelope.update(fields)
        return cls(**envelope)

    async def publish(self, event: Event) -> int:
        """Store an event in the stream (waits for the ack); returns its sequence."""
        return await self._platform.bus.publish(event)

    async def enterprise(self) -> Enterprise | None:
        """The enterprise that runs this tour (names, contact)."""
        return await self._platform.tours.enterprise(self.tour.enterprise)

    async def progress(self, visitor: str | None = None) -> Progress | None:
        """A visitor's progress through this tour (default: this context's visitor)."""
        visitor = visitor or self.visitor
        if visitor is None:
            return None
        return await self._platform.visits.progress(self.tour, visitor)

    def media_url(self, name: str) -> str:
        """URL of a file from the tour's media folder."""
        return f"/media/{self.tour.enterprise}/{self.tour.id}/{name}"

    async def read_media(self, name: str) -> bytes | None:
        """The content of a (small) file from the tour's media folder, e.g. a transcript
        to render into a page; ``None`` if the tour has no such file."""
        try:
            result = await self._platform.bus.media.get(
                f"{self.tour.enterprise}/{self.tour.id}/{name}"
            )
        except (nats.js.errors.NotFoundError, nats.js.errors.ObjectNotFoundError):
            return None
        return result.data or b""

    def static_url(self, path: str) -> str:
        """URL of a file in the plugin's ``static/`` folder."""
        return f"/static/p/{self.plugin}/{path}"

    def url(self, path: str = "") -> str:
        """URL of one of this plugin's routes: ``/p/<plugin>/<path>``."""
        return f"/p/{self.plugin}/{path.lstrip('/')}"

    def tour_url(self, page: str = "") -> str:
        """URL of a core page of the tour: ``""`` the start page, ``"finish"``, ``"go"``."""
        base = f"/t/{self.tour.enterprise}/{self.tour.id}"
        return f"{base}/{page}" if page else base

    def station_url(self, station: Station | str) -> str:
        """URL of a station's page for a visitor who has checked in there already (it
        shows the page again without a new check-in)."""
        station_id = station if isinstance(station, str) else station.id
        return self.tour_url(f"at/{station_id}")


async def _resolve(build: Callable[[], Any]) -> Any:
    value = build()
    if inspect.isawaitable(value):
        value = await value
    return value


class PageContext(PluginContext):
    """A plugin's context while a visitor page is being built."""

    def __init__(
        self,
        platform: Platform,
        plugin: str,
        tour: TourState,
        *,
        visitor: str,
        lang: str,
        progress: Progress | None,
        station: Station | None = None,
        csrf_token: str = "",
        new_visitor: bool = False,
    ) -> None:
        super().__init__(
            platform, plugin, tour, visitor=visitor, group=progress.group if progress else None
        )
        #: True when the browser came without a visitor id and got a new one with this
        #: page: nothing of this visitor was stored before this request, so a panel can
        #: skip reading the visitor's records (each read is a NATS request). What this
        #: request's check-in wrote (``visit``) and what the plugins' consumers of its
        #: event are writing meanwhile are the only records that may already exist.
        self.new_visitor = new_visitor
        #: The visitor's language for this page.
        self.lang = lang
        #: The station of a station page; None on the start and finish pages.
        self.station = station
        #: The visitor's progress (None before their first check-in).
        self.visit = progress
        #: Put it in every form the panel posts (``<input name="_csrf">``).
        self.csrf_token = csrf_token
        #: Translate a string with the plugin's catalog (falling back to the core's).
        self._ = platform.translations.translator(lang, plugin)
        self.ngettext = platform.translations.plural_translator(lang, plugin)

    def text(self, text: dict[str, str] | None, fallback: str = "") -> str:
        """Pick the visitor's language from a translated text."""
        return pick_text(text, self.lang, fallback)

    def render(self, template: str, **values: Any) -> Markup:
        """Render one of the plugin's templates (``"<plugin>/<file>"``) to markup.

        The template sees ``page`` (this context), ``_``, ``ngettext``, ``lang`` and
        ``slot`` besides ``values``."""
        values.setdefault("page", self)
        values.setdefault("slot", slot)
        values.setdefault("ngettext", self.ngettext)
        return Markup(self._platform.render(template, self.lang, self.plugin, **values))

    def slot(self, name: str) -> Markup:
        """A marker for a visitor value in markup cached with :meth:`cached_frame`."""
        return slot(name)

    async def cached_frame(self, key: Hashable, build: Callable[[], str | Awaitable[str]]) -> Frame:
        """The markup ``build()`` renders, cached for this tour revision, plugin and the
        page's language under ``key``, as a :class:`Frame` to :meth:`~Frame.fill` with
        the visitor's values (the slots ``build`` placed with :meth:`slot`)."""

        async def frame() -> Frame:
            return Frame(await _resolve(build))

        return await self.cached(("frame", self.lang, key), frame)
