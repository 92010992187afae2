"""What plugins get from the core: a context per call, never the core's internals."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, TypeVar

import nats.js.errors
from markupsafe import Markup
from promtour.events import Event
from promtour.models import Enterprise, Progress, Station, Tour, pick_text
from promtour.store import PluginStore

if TYPE_CHECKING:
    from promtour.platform import Platform
    from promtour.tours import TourState

__all__ = ["PageContext", "PluginContext"]

E = TypeVar("E", bound=Event)


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
        self.plugin = plugin
        self._tour_state = tour
        #: The pseudonymous visitor id, when the call concerns a visitor.
        self.visitor = visitor
        self.group = group
        self.log = logging.getLogger(f"promtour.plugins.{plugin}")

    @property
    def tour(self) -> Tour:
        if self._tour_state is None:
            raise RuntimeError("this context has no tour")
        return self._tour_state.tour

    @property
    def config(self) -> Any:
        """The plugin's validated per-tour config Struct."""
        if self._tour_state is None:
            raise RuntimeError("this context has no tour")
        return self._tour_state.configs[self.plugin]

    @property
    def store(self) -> PluginStore:
        """The plugin's own KV store (shared by all its tours: prefix keys by tour)."""
        return self._platform.store_for(self.plugin)

    @property
    def public_url(self) -> str:
        return self._platform.settings.public_url

    def event(self, cls: type[E], **fields: Any) -> E:
        """An event of type ``cls`` with the envelope filled from this context."""
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
        """The enterprise that runs this tour (name, contact, lead retention)."""
        return await self._platform.tours.enterprise(self.tour.enterprise)

    async def progress(self, visitor: str | None = None) -> Progress | None:
        """A visitor's progress through this tour (default: this context's visitor)."""
        visitor = visitor or self.visitor
        if visitor is None:
            return None
        return await self._platform.progress(self.tour, visitor)

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
        return f"/static/p/{self.plugin}/{path}"

    def url(self, path: str = "") -> str:
        """URL of one of this plugin's routes."""
        return f"/p/{self.plugin}/{path.lstrip('/')}"

    def tour_url(self, page: str = "") -> str:
        base = f"/t/{self.tour.enterprise}/{self.tour.id}"
        return f"{base}/{page}" if page else base


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
    ) -> None:
        super().__init__(
            platform, plugin, tour, visitor=visitor, group=progress.group if progress else None
        )
        self.lang = lang
        self.station = station
        self.visit = progress
        self.csrf_token = csrf_token
        #: Translate a string with the plugin's catalog (falling back to the core's).
        self._ = platform.translations.translator(lang, plugin)

    def text(self, text: dict[str, str] | None, fallback: str = "") -> str:
        """Pick the visitor's language from a translated text."""
        return pick_text(text, self.lang, fallback)

    def render(self, template: str, **values: Any) -> Markup:
        """Render one of the plugin's templates (``"<plugin>/<file>"``) to markup."""
        values.setdefault("page", self)
        return Markup(self._platform.render(template, self.lang, self.plugin, **values))
