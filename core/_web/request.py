"""The per-request context: who the visitor is, which language, and page rendering.

Core pages and plugin routes get it as the ``pt`` dependency. The visitor is an
anonymous id in a signed HttpOnly cookie; the language comes from ``?lang=``, then
the ``pt_lang`` cookie, then ``Accept-Language``, then the tour's default.

It is also everything a plugin route needs from the core: the plugin's context for a
tour or an enterprise, staff role checks, rate limits, signed values, form and JSON
bodies, answers as JSON or a page, and safe redirects.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import msgspec
from litestar import Request, Response
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException
from litestar.response import Redirect
from markupsafe import Markup
from promtour._auth import Principal, authenticate
from promtour._context import EnterpriseContext, PluginContext
from promtour._i18n import negotiate_language
from promtour._limits import RateLimit, TooManyRequests, client_address
from promtour._models import Tour, pick_text, utcnow
from promtour._platform import Platform
from promtour._tours import TourState

T = TypeVar("T")

__all__ = ["LANG_COOKIE", "PT", "VISITOR_COOKIE", "RequestContext"]

VISITOR_COOKIE = "pt_v"
CORE_CSS = "/static/core/promtour.css"
LANG_COOKIE = "pt_lang"
ONE_YEAR = 365 * 24 * 3600


class RequestContext:
    """Who is asking, in which language, and how to answer with a page."""

    def __init__(
        self, platform: Platform, request: Request[Any, Any, Any], plugin: str = ""
    ) -> None:
        self._platform = platform
        #: The litestar request (headers, cookies, query).
        self.request = request
        #: The plugin whose route this is ("" on core pages).
        self.plugin = plugin
        signer = platform.signer
        visitor = signer.unsign(request.cookies.get(VISITOR_COOKIE), purpose="visitor")
        self.new_visitor = visitor is None
        self.visitor: str = visitor or secrets.token_hex(12)
        self._lang_choice: str | None = None
        self._lang: str | None = None
        self._csrf: tuple[str, str] | None = None
        #: Set by :meth:`page` (whose :meth:`finish` sends the CSP that allows the
        #: inline bundles), and the CSP sources of the stylesheet and script it inlined.
        self._may_inline = False
        self._style_source = ""
        self._script_source = ""

    # --- identity and language ------------------------------------------------------

    @property
    def csrf_token(self) -> str:
        # An HMAC, asked for by the page and by every plugin panel: computed once.
        cached = self._csrf
        if cached is None or cached[0] != self.visitor:
            cached = self._csrf = (
                self.visitor,
                self._platform.signer.mac(self.visitor, purpose="csrf"),
            )
        return cached[1]

    def lang_for(self, tour: Tour | None = None) -> str:
        if self._lang is not None:
            return self._lang
        available = tour.languages if tour else self._platform.settings.languages
        default = tour.default_language if tour else self._platform.settings.default_language
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
        """Translate ``text`` into the request's language (the plugin's catalog first)."""
        return self._platform.translations.translator(self.lang, self.plugin or "promtour")(text)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The plural form for ``n`` in the request's language."""
        translate = self._platform.translations.plural_translator(
            self.lang, self.plugin or "promtour"
        )
        return translate(singular, plural, n)

    @property
    def action_time(self) -> datetime:
        """When the visitor did what this request does: now, or for an action queued
        on a phone without signal and replayed later, its original time (bounded to
        the tour day and never in the future; see promtour._offline)."""
        when = self.request.scope.get("state", {}).get("promtour_action_time")
        return when if isinstance(when, datetime) else utcnow()

    @property
    def replayed_action(self) -> str | None:
        """The id of the queued action this request replays (``Idempotency-Key``), if
        any: the server has claimed it, so it runs once per visitor."""
        if "promtour_action_time" not in self.request.scope.get("state", {}):
            return None
        return (self.request.headers.get("idempotency-key") or "").strip() or None

    @property
    def address(self) -> str:
        """The client's address (behind trusted proxies: from ``X-Forwarded-For``)."""
        peer = self.request.client.host if self.request.client else ""
        return client_address(
            peer,
            self.request.headers.get("x-forwarded-for"),
            self._platform.settings.web.trusted_proxies,
        )

    @property
    def public_url(self) -> str:
        """The site's base URL (as printed on posters), without a trailing slash."""
        return self._platform.settings.public_url

    @property
    def secure_cookies(self) -> bool:
        """Whether cookies this site sets must carry the Secure flag (behind HTTPS)."""
        return self._platform.settings.web.secure_cookies

    # --- signed values ----------------------------------------------------------------

    def sign(self, value: str, *, purpose: str) -> str:
        """``value`` with a signature of the platform secret, for a cookie or a link;
        ``purpose`` keeps one kind of signed value from passing for another."""
        return self._platform.signer.sign(value, purpose=purpose)

    def unsign(self, signed: str | None, *, purpose: str) -> str | None:
        """The value of :meth:`sign`'s output, or None if it was forged or altered."""
        return self._platform.signer.unsign(signed, purpose=purpose)

    def mac(self, value: str, *, purpose: str) -> str:
        """A keyed hash of ``value`` (compare it with ``hmac.compare_digest``)."""
        return self._platform.signer.mac(value, purpose=purpose)

    # --- limits and staff -------------------------------------------------------------

    def limit(self, limit: RateLimit, key: str = "") -> None:
        """Count one action against ``limit`` for this visitor (or ``key``) and this
        client address; 429 with a message in the visitor's language when over."""
        allowed = self._platform.rate_limits.allow(
            limit, visitor=key or self.visitor, address=self.address
        )
        if not allowed:
            self._platform.metrics.inc("promtour_rate_limited_total", limit=limit.name)
            raise TooManyRequests(
                detail=self._platform.translations.translator(self.lang)(
                    "Too many requests in a short time. Wait a minute, please."
                )
            )

    async def principal(self) -> Principal:
        """The staff member of the request's ``Authorization: Bearer`` token, else of a
        console session cookie; 401 if there is neither."""
        header = self.request.headers.get("authorization", "")
        scheme, _, secret = header.partition(" ")
        platform = self._platform
        if header:
            if scheme.lower() != "bearer" or not secret.strip():
                raise NotAuthorizedException("Use Authorization: Bearer <token>.")
            principal = await authenticate(platform.bus, secret.strip(), platform.roles)
            if principal is None:
                raise NotAuthorizedException("This API token is not valid or was revoked.")
            return principal
        from promtour._console.access import session_principal

        principal = await session_principal(self.request)
        if principal is None:
            raise NotAuthorizedException("An API token or a console sign-in is required.")
        return principal

    async def require_role(self, enterprise: str, *roles: str) -> Principal:
        """The staff member, if they belong to ``enterprise`` and hold one of ``roles``
        (admin always does): 401 without credentials, 404 for another enterprise's
        object, 403 for a role that may not do this."""
        principal = await self.principal()
        principal.require(enterprise, *roles)
        return principal

    def enterprise(self, enterprise: str) -> EnterpriseContext:
        """The plugin's context for an enterprise (routes that concern no one tour).
        Check the caller first with :meth:`require_role`."""
        return EnterpriseContext(self._platform, self.plugin, enterprise)

    # --- bodies and answers -----------------------------------------------------------

    @property
    def wants_json(self) -> bool:
        """Whether the client asked for JSON (``Accept``, a JSON body, or an API token)."""
        accept = self.request.headers.get("accept") or ""
        return (
            "application/json" in accept
            or self.request.content_type[0] == "application/json"
            or bool(self.request.headers.get("authorization"))
        )

    async def body(self, type_: type[T]) -> T:
        """The form or JSON body as ``type_`` (a msgspec Struct; form values are strings
        converted leniently); 400 naming the field when it does not fit."""
        try:
            if self.request.content_type[0] == "application/json":
                raw = await self.request.json()
            else:
                form = await self.request.form()
                raw = {}
                for key in form:
                    if key == "_csrf":
                        continue
                    values = form.getall(key)
                    raw[key] = values if len(values) > 1 else values[0]
            return msgspec.convert(raw, type_, strict=False)
        except msgspec.ValidationError as exc:
            detail = f"{self._('Please check the form')}: {exc}"
            raise HTTPException(status_code=400, detail=detail) from None
        except (ValueError, TypeError) as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None

    def answer(
        self, data: Any, template: str | None = None, *, status: int = 200, **values: Any
    ) -> Response[Any]:
        """``data`` as JSON for a client that wants JSON, else the page ``template``
        (with ``values``), or a redirect back to ``values["next"]`` when no template."""
        if self.wants_json or (template is None and "next" not in values):
            return self.finish(Response(data, status_code=status))
        if template is None:
            return self.redirect(values["next"])
        return self.page(template, status=status, **values)

    @staticmethod
    def safe_path(value: str | None, fallback: str) -> str:
        """``value`` if it is a path on this site (never ``//host`` or a full URL)."""
        if not value:
            return fallback
        parts = urlsplit(value)
        if value.startswith("/") and not value.startswith("//") and not parts.netloc:
            return value
        return fallback

    # --- tours ----------------------------------------------------------------------

    async def tour(self, enterprise: str, tour_id: str) -> TourState:
        """The tour, or a 404; in a plugin route also a 404 if the plugin is off for it."""
        state = await self._platform.tours.get(f"{enterprise}.{tour_id}")
        if state is None:
            raise NotFoundException("There is no such tour.")
        if self.plugin and self.plugin not in state.configs:
            raise NotFoundException("This tour does not use this feature.")
        self.lang_for(state.tour)
        return state

    def context(self, state: TourState) -> PluginContext:
        """The plugin's context for a tour (in a plugin route), with this visitor."""
        return PluginContext(self._platform, self.plugin, state, visitor=self.visitor)

    # --- responses ------------------------------------------------------------------

    def render(self, template: str, **values: Any) -> str:
        tour: Tour | None = values.get("tour")
        lang = self.lang_for(tour)
        values.setdefault("pt", self)
        values.setdefault("csrf_token", self.csrf_token)
        values.setdefault("text", lambda t, fallback="": pick_text(t, lang, fallback))
        values.setdefault("assets", self.assets_for(tour))
        values.setdefault(
            "languages", tour.languages if tour else self._platform.settings.languages
        )
        values.setdefault("path", self.request.url.path)
        return self._platform.render(template, lang, self.plugin or "promtour", **values)

    def assets_for(self, tour: Tour | None) -> dict[str, list[str]]:
        """The stylesheets and scripts of a page: for a tour's page one of each, the
        core's and the enabled plugins' files bundled (:mod:`promtour._web.assets`);
        on a new visitor's first page both inline (``inline_css``, ``inline_js``: no
        request before the page is usable) and their URLs prefetched for the next
        pages (``prefetch``: ``(url, as)`` pairs)."""
        if tour is None:
            return {"css": [CORE_CSS], "js": []}
        bundles = self.request.app.state.bundles
        css = bundles.get(tour.plugins, "css")
        js = bundles.get(tour.plugins, "js")
        assets: dict[str, list[Any]] = {"css": [css.url], "js": [js.url], "prefetch": []}
        if not (self._may_inline and self.new_visitor):
            return assets
        # Each bundle on its own: one that cannot be a block (assets._inlinable) stays
        # linked, and the other is still inlined.
        if css.inline:
            self._style_source = css.csp_source
            assets["css"] = []
            assets["inline_css"] = [Markup(css.inline)]
            assets["prefetch"].append((css.url, "style"))
        if js.inline:
            self._script_source = js.csp_source
            assets["js"] = []
            assets["inline_js"] = [Markup(js.inline)]
            assets["prefetch"].append((js.url, "script"))
        return assets

    def page(self, template: str, *, status: int = 200, **values: Any) -> Response[str]:
        """A rendered HTML page with the visitor's cookies."""
        self._may_inline = True
        try:
            html = self.render(template, **values)
        finally:
            self._may_inline = False
        return self.finish(Response(html, status_code=status, media_type="text/html"))

    def page_html(self, build: Callable[[], str | None]) -> str | None:
        """``build()`` with this page's inline assets allowed, as :meth:`page` renders
        (for a page put together from cached markup; None: render it with ``page``)."""
        self._may_inline = True
        try:
            return build()
        finally:
            self._may_inline = False

    def redirect(self, url: str) -> Response[Any]:
        """A 303 to ``url`` (a path on this site), with the visitor's cookies."""
        return self.finish(Redirect(self.safe_path(url, "/"), status_code=303))

    def to_sign_in(self) -> Response[Any]:
        """A 303 to the console's sign-in page, which comes back to this page (a staff
        page of the plugin, under ``/p/``) once the person has signed in."""
        query = urlencode({"next": self.request.url.path})
        return self.redirect(f"/console/login?{query}")

    def finish(self, response: Response[Any]) -> Response[Any]:
        """Attach the visitor and language cookies that this request decided on."""
        secure = self._platform.settings.web.secure_cookies
        if self.new_visitor:
            response.set_cookie(
                VISITOR_COOKIE,
                self._platform.signer.sign(self.visitor, purpose="visitor"),
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
        if self._style_source or self._script_source:
            from promtour._web.security import csp_allowing

            response.headers["Content-Security-Policy"] = csp_allowing(
                style=self._style_source, script=self._script_source
            )
        return response


#: Annotation for the ``pt`` parameter of a route handler: ``pt: PT``.
PT = NamedDependency[RequestContext]
