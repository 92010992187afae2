"""The per-request context: who the visitor is, which language, and page rendering.

Core pages and plugin routes get it as the ``pt`` dependency. The visitor is an
anonymous id in a signed HttpOnly cookie; the language comes from ``?lang=``, then
the ``pt_lang`` cookie, then ``Accept-Language``, then the tour's default.
"""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request, Response
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.response import Redirect
from promtour.context import PluginContext
from promtour.i18n import negotiate_language
from promtour.models import Tour, pick_text
from promtour.platform import Platform
from promtour.tours import TourState

__all__ = ["LANG_COOKIE", "PT", "VISITOR_COOKIE", "RequestContext"]

VISITOR_COOKIE = "pt_v"
LANG_COOKIE = "pt_lang"
ONE_YEAR = 365 * 24 * 3600


class RequestContext:
    """Who is asking, in which language, and how to answer with a page."""

    def __init__(
        self, platform: Platform, request: Request[Any, Any, Any], plugin: str = ""
    ) -> None:
        self.platform = platform
        self.request = request
        self.plugin = plugin
        signer = platform.signer
        visitor = signer.unsign(request.cookies.get(VISITOR_COOKIE), purpose="visitor")
        self.new_visitor = visitor is None
        self.visitor: str = visitor or secrets.token_hex(12)
        self._lang_choice: str | None = None
        self._lang: str | None = None
        self._csrf: tuple[str, str] | None = None

    # --- identity and language ------------------------------------------------------

    @property
    def csrf_token(self) -> str:
        # An HMAC, asked for by the page and by every plugin panel: computed once.
        cached = self._csrf
        if cached is None or cached[0] != self.visitor:
            cached = self._csrf = (
                self.visitor,
                self.platform.signer.mac(self.visitor, purpose="csrf"),
            )
        return cached[1]

    def lang_for(self, tour: Tour | None = None) -> str:
        if self._lang is not None:
            return self._lang
        available = tour.languages if tour else self.platform.settings.languages
        default = tour.default_language if tour else self.platform.settings.default_language
        asked = self.request.query_params.get("lang")
        if isinstance(asked, str) and asked in available:
            self._lang_choice = asked
            self._lang = asked
            return asked
        cookie = self.request.cookies.get(LANG_COOKIE)
        if cookie is not None and cookie in available:
            self._lang = cookie
            return cookie
        self._lang = negotiate_language(
            self.request.headers.get("accept-language"), available, default
        )
        return self._lang

    @property
    def lang(self) -> str:
        return self.lang_for(None)

    def _(self, text: str) -> str:
        return self.platform.translations.translator(self.lang, self.plugin or "promtour")(text)

    # --- tours ----------------------------------------------------------------------

    async def tour(self, enterprise: str, tour_id: str) -> TourState:
        """The tour, or a 404; in a plugin route also a 404 if the plugin is off for it."""
        state = await self.platform.tours.get(f"{enterprise}.{tour_id}")
        if state is None:
            raise NotFoundException("There is no such tour.")
        if self.plugin and self.plugin not in state.configs:
            raise NotFoundException("This tour does not use this feature.")
        self.lang_for(state.tour)
        return state

    def context(self, state: TourState) -> PluginContext:
        """The plugin's context for a tour (in a plugin route)."""
        return PluginContext(self.platform, self.plugin, state, visitor=self.visitor)

    # --- responses ------------------------------------------------------------------

    def render(self, template: str, **values: Any) -> str:
        tour: Tour | None = values.get("tour")
        lang = self.lang_for(tour)
        values.setdefault("pt", self)
        values.setdefault("csrf_token", self.csrf_token)
        values.setdefault("text", lambda t, fallback="": pick_text(t, lang, fallback))
        values.setdefault("assets", self.assets_for(tour))
        values.setdefault("languages", tour.languages if tour else self.platform.settings.languages)
        values.setdefault("path", self.request.url.path)
        return self.platform.render(template, lang, self.plugin or "promtour", **values)

    def assets_for(self, tour: Tour | None) -> dict[str, list[str]]:
        css: list[str] = []
        js: list[str] = []
        if tour is not None:
            for name in sorted(tour.plugins):
                assets = self.platform.plugins.assets.get(name)
                if assets is not None:
                    css += [f"/static/p/{name}/{f}" for f in assets.css]
                    js += [f"/static/p/{name}/{f}" for f in assets.js]
        return {"css": css, "js": js}

    def page(self, template: str, *, status: int = 200, **values: Any) -> Response[str]:
        """A rendered HTML page with the visitor's cookies."""
        return self.finish(
            Response(self.render(template, **values), status_code=status, media_type="text/html")
        )

    def redirect(self, url: str) -> Response[Any]:
        return self.finish(Redirect(url, status_code=303))

    def finish(self, response: Response[Any]) -> Response[Any]:
        """Attach the visitor and language cookies that this request decided on."""
        secure = self.platform.settings.web.secure_cookies
        if self.new_visitor:
            response.set_cookie(
                VISITOR_COOKIE,
                self.platform.signer.sign(self.visitor, purpose="visitor"),
                max_age=ONE_YEAR,
                httponly=True,
                secure=secure,
                samesite="lax",
            )
            self.new_visitor = False
        if self._lang_choice:
            response.set_cookie(
                LANG_COOKIE,
                self._lang_choice,
                max_age=ONE_YEAR,
                httponly=True,
                secure=secure,
                samesite="lax",
            )
        response.headers.setdefault("Cache-Control", "no-store")
        return response


#: Annotation for the ``pt`` parameter of a route handler: ``pt: PT``.
PT = NamedDependency[RequestContext]
