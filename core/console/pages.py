"""Console pages: sign-in, the tour list, a tour's details and stations, tokens.

Every page under ``/console/{enterprise}`` is behind the enterprise guard; forms
post back with the CSRF token (checked by the core for every POST outside /api/),
successful changes redirect (``?done=``), refused ones re-render the form with what
was typed and the reason, with status 400.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from promtour.auth import authenticate, create_token, list_tokens, revoke_token
from promtour.console import service
from promtour.console.access import (
    ADMIN,
    EDIT,
    READ,
    SESSION_COOKIE,
    SESSION_SECONDS,
    session_principal,
    session_value,
)
from promtour.console.forms import FormContext, build_form, config_values
from promtour.console.ui import Console, FormData
from promtour.errors import PromtourError, TourError
from promtour.limits import RateLimit
from promtour.models import SLUG_RE, Station, Text, Tour
from promtour.tours import TourState

__all__ = [
    "SignInPages",
    "TourPages",
    "ToursPages",
    "form_languages",
    "languages_from",
    "safe_next",
    "sign_in_redirect",
    "station_from",
    "texts_from",
    "tour_page",
]

R = {"roles": READ}
E = {"roles": EDIT}
A = {"roles": ADMIN}
LANG_RE = re.compile(r"^[a-z]{2,3}$")

#: Sign-in attempts per browser and per address (a staff room shares one address).
LOGIN_LIMIT = RateLimit(name="console-login", per_visitor=10, per_address=60, window=60.0)


def safe_next(value: str | None) -> str | None:
    """A console path to return to after sign-in; never another site."""
    if value and value.startswith("/console/") and not value.startswith("//"):
        return value
    return None


class SignInPages(Controller):
    path = "/console"
    include_in_schema = False

    @get("/")
    async def home(self, request: Request[Any, Any, Any]) -> Response[Any]:
        c = Console(request)
        principal = await session_principal(request)
        if principal is None:
            return c.redirect("/console/login")
        return c.redirect(f"/console/{principal.enterprise}")

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any]) -> Response[str]:
        c = Console(request)
        return await c.page(
            "console/login.html",
            title=c._("Sign in"),
            next=safe_next(request.query_params.get("next")),
        )

    @post("/login")
    async def login(self, request: Request[Any, Any, Any]) -> Response[Any]:
        c = Console(request)
        # Tokens are long random secrets; the limit stops a flood, not a guess.
        c.pt.limit(LOGIN_LIMIT)
        form = await c.form()
        principal = await authenticate(c.platform.bus, form.get("token").strip(), c.platform.roles)
        if principal is None:
            return await c.page(
                "console/login.html",
                status=401,
                title=c._("Sign in"),
                next=safe_next(form.get("next")),
                error=c._("This access token is not valid or was revoked."),
            )
        target = safe_next(form.get("next")) or f"/console/{principal.enterprise}"
        if not target.startswith(f"/console/{principal.enterprise}/") and target != (
            f"/console/{principal.enterprise}"
        ):
            target = f"/console/{principal.enterprise}"
        response = c.redirect(target)
        response.set_cookie(
            SESSION_COOKIE,
            session_value(c.platform, principal),
            max_age=SESSION_SECONDS,
            path="/console",
            httponly=True,
            secure=c.platform.settings.web.secure_cookies,
            samesite="lax",
        )
        return response

    @post("/logout")
    async def logout(self, request: Request[Any, Any, Any]) -> Response[Any]:
        response = Console(request).redirect("/console/login")
        response.delete_cookie(SESSION_COOKIE, path="/console")
        return response


def sign_in_redirect(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Exception handler: a console page without a session goes to the sign-in form."""
    target = "/console/login?next=" + quote(request.url.path, safe="/")
    return Console(request).redirect(target)


# --- form helpers ------------------------------------------------------------------------


def texts_from(form: FormData, prefix: str, langs: list[str]) -> Text:
    """``name_ru``, ``name_en`` ... -> ``{"ru": ..., "en": ...}`` (empty ones left out)."""
    return {
        lang: form.get(f"{prefix}_{lang}").strip()
        for lang in langs
        if form.get(f"{prefix}_{lang}").strip()
    }


def languages_from(form: FormData) -> tuple[list[str], str]:
    langs = [x for x in re.split(r"[\s,;]+", form.get("languages").lower()) if x]
    bad = [x for x in langs if not LANG_RE.match(x)]
    if bad or not langs:
        raise TourError(
            "languages: list language codes separated by commas, e.g. “ru, en”"
            + (f" (not a language code: {', '.join(bad)})" if bad else "")
        )
    langs = list(dict.fromkeys(langs))
    default = form.get("default_language").strip().lower() or langs[0]
    if default not in langs:
        raise TourError(f"default language: {default!r} is not one of the languages {langs}")
    return langs, default


def form_languages(c: Console, tour: Tour | None) -> list[str]:
    """The languages to show text inputs for: the tour's, then the platform's."""
    langs = list(tour.languages) if tour else []
    return langs + [x for x in c.platform.settings.languages if x not in langs]


def _number(text: str, what: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise TourError(f"{what}: enter a whole number") from None
    if not 1 <= value <= 9999:
        raise TourError(f"{what}: use a number from 1 to 9999")
    return value


class ToursPages(Controller):
    """The enterprise's home: its tours, a new tour, import, plugins, tokens."""

    path = "/"
    include_in_schema = False

    @get("/", opt=R)
    async def tours(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str]
    ) -> Response[str]:
        c = Console(request)
        states = service.tours_of(c.platform, enterprise)
        return await c.page(
            "console/tours.html", title=c._("Tours"), tours=[s.tour for s in states]
        )

    @get("/tours/new", opt=E)
    async def new_tour(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str]
    ) -> Response[str]:
        c = Console(request)
        return await c.page(
            "console/tour_new.html",
            title=c._("New tour"),
            form={},
            langs=form_languages(c, None),
        )

    @post("/tours", opt=E)
    async def create_tour(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str]
    ) -> Response[Any]:
        c = Console(request)
        form = await c.form()
        try:
            tour_id = form.get("id").strip().lower()
            if not SLUG_RE.match(tour_id):
                raise TourError(
                    "id: use 1–40 lower-case letters, digits, '-' or '_', "
                    "starting with a letter or digit"
                )
            langs, default = languages_from(form)
            name = texts_from(form, "name", form_languages(c, None))
            if not name:
                raise TourError("name: give the tour a name")
            tour = Tour(
                id=tour_id,
                enterprise=enterprise,
                name=name,
                description=texts_from(form, "description", form_languages(c, None)),
                languages=langs,
                default_language=default,
            )
            service.check_tour(tour)
            await service.create_tour(c.platform, tour)
        except (PromtourError, service.Conflict) as exc:
            return await c.page(
                "console/tour_new.html",
                status=400 if isinstance(exc, PromtourError) else 409,
                title=c._("New tour"),
                form=form.all(),
                langs=form_languages(c, None),
                error=str(getattr(exc, "detail", None) or exc),
            )
        return c.redirect(f"{c.base()}/tours/{tour_id}", "created")

    @get("/plugins", opt=R)
    async def plugins(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str]
    ) -> Response[str]:
        c = Console(request)
        plugins = []
        states = service.tours_of(c.platform, enterprise)
        for name in c.platform.plugins.names:
            info = c.platform.plugins.infos[name]
            ctx = FormContext(
                langs=[c.lang],
                label=c.platform.translations.translator(c.lang, name),
                console=c._,
            )
            plugins.append(
                {
                    "info": info,
                    # The settings as the tour's form names them (no programming types).
                    "fields": build_form(info.config, config_values(info.config, {}), ctx),
                    "tours": [s.tour for s in states if name in s.tour.plugins],
                }
            )
        return await c.page("console/plugins.html", title=c._("Plugins"), plugins=plugins)

    @get("/tokens", opt=A)
    async def tokens(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str]
    ) -> Response[str]:
        c = Console(request)
        return await self._tokens_page(c, enterprise)

    async def _tokens_page(self, c: Console, enterprise: str, **values: Any) -> Response[str]:
        tokens = await list_tokens(c.platform.bus, enterprise)
        return await c.page(
            "console/tokens.html",
            title=c._("Access tokens"),
            tokens=tokens,
            roles=c.platform.roles.names,
            **values,
        )

    @post("/tokens", opt=A)
    async def create_token(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str]
    ) -> Response[str]:
        c = Console(request)
        form = await c.form()
        role, label = form.get("role"), form.get("label").strip()
        if role not in c.platform.roles.names or not label or len(label) > 100:
            return await self._tokens_page(
                c, enterprise, status=400, error=c._("Choose a role and give the token a label.")
            )
        token, secret = await create_token(c.platform.bus, enterprise, role, label)
        return await self._tokens_page(c, enterprise, created=token, secret=secret)

    @post("/tokens/{token_id:str}/revoke", opt=A)
    async def revoke(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str], token_id: FromPath[str]
    ) -> Response[Any]:
        c = Console(request)
        if c.principal is not None and c.principal.token_id == token_id:
            return await self._tokens_page(
                c,
                enterprise,
                status=400,
                error=c._(
                    "You are signed in with this token: "
                    "sign in with another admin token to revoke it."
                ),
            )
        await revoke_token(c.platform.bus, enterprise, token_id)
        return c.redirect(f"{c.base()}/tokens", "revoked")

    @get("/import", opt=E)
    async def import_form(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str]
    ) -> Response[str]:
        c = Console(request)
        return await c.page("console/import.html", title=c._("Import a tour"), toml="")

    @post("/import", opt=E)
    async def import_tour(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str]
    ) -> Response[Any]:
        c = Console(request)
        form = await c.form()
        text = form.get("toml")
        upload = form.file("file")
        if upload is not None and upload.filename:
            raw = await upload.read()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = ""
        try:
            if not text.strip():
                raise TourError("choose a .toml file or paste the tour's TOML")
            state = await service.import_tour(
                c.platform, enterprise, text, replace=form.has("replace")
            )
        except (PromtourError, service.Conflict) as exc:
            return await c.page(
                "console/import.html",
                status=400,
                title=c._("Import a tour"),
                toml=text,
                error=str(getattr(exc, "detail", None) or exc),
            )
        return c.redirect(f"{c.base()}/tours/{state.tour.id}", "imported")


async def tour_page(
    c: Console, state: TourState, *, status: int = 200, error: str = "", **values: Any
) -> Response[str]:
    tour = state.tour
    plugins = []
    for name in c.platform.plugins.names:
        info = c.platform.plugins.infos[name]
        plugins.append({"info": info, "enabled": name in tour.plugins})
    return await c.page(
        "console/tour.html",
        status=status,
        error=error,
        title=c.text(tour.name, tour.id),
        tour=tour,
        plugins=plugins,
        langs=form_languages(c, tour),
        form=values.pop("form", None) or {},
        form_kind=values.pop("form_kind", ""),
        **values,
    )


def station_from(form: FormData, langs: list[str], station_id: str) -> Station:
    name = texts_from(form, "name", langs)
    if not name:
        raise TourError("name: give the station a name")
    return Station(
        id=station_id,
        number=_number(form.get("number"), "number"),
        name=name,
        description=texts_from(form, "description", langs),
        enabled=form.has("enabled"),
    )


class TourPages(Controller):
    """One tour: details, stations, close/open, delete, export."""

    path = "/tours/{tour_id:str}"
    include_in_schema = False

    @get("/", opt=R)
    async def tour(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str], tour_id: FromPath[str]
    ) -> Response[str]:
        c = Console(request)
        return await tour_page(c, await service.load_tour(c.platform, enterprise, tour_id))

    async def _change(
        self,
        c: Console,
        enterprise: str,
        tour_id: str,
        change: Any,
        done: str = "saved",
        form: dict[str, str] | None = None,
        kind: str = "",
        target: str = "",
    ) -> Response[Any]:
        try:
            await service.change_tour(c.platform, enterprise, tour_id, change)
        except (PromtourError, service.Conflict) as exc:
            state = await service.load_tour(c.platform, enterprise, tour_id)
            return await tour_page(
                c,
                state,
                status=400,
                error=str(getattr(exc, "detail", None) or exc),
                form=form,
                form_kind=kind,
            )
        return c.redirect(target or f"{c.base()}/tours/{tour_id}", done)

    @post("/", opt=E)
    async def save(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str], tour_id: FromPath[str]
    ) -> Response[Any]:
        c = Console(request)
        form = await c.form()

        def change(tour: Tour) -> None:
            langs, default = languages_from(form)
            shown = form_languages(c, tour)
            name = texts_from(form, "name", shown)
            if not name:
                raise TourError("name: give the tour a name")
            tour.name = name
            tour.description = texts_from(form, "description", shown)
            tour.languages, tour.default_language = langs, default

        return await self._change(c, enterprise, tour_id, change, form=form.all(), kind="details")

    @post("/close", opt=E)
    async def close(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str], tour_id: FromPath[str]
    ) -> Response[Any]:
        def change(tour: Tour) -> None:
            for station in tour.stations:
                station.enabled = False

        return await self._change(Console(request), enterprise, tour_id, change, "closed")

    @post("/open", opt=E)
    async def open(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str], tour_id: FromPath[str]
    ) -> Response[Any]:
        def change(tour: Tour) -> None:
            for station in tour.stations:
                station.enabled = True

        return await self._change(Console(request), enterprise, tour_id, change, "opened")

    @get("/delete", opt=E)
    async def delete_form(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str], tour_id: FromPath[str]
    ) -> Response[str]:
        c = Console(request)
        state = await service.load_tour(c.platform, enterprise, tour_id)
        return await c.page(
            "console/tour_delete.html", title=c._("Delete the tour"), tour=state.tour
        )

    @post("/delete", opt=E)
    async def delete(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str], tour_id: FromPath[str]
    ) -> Response[Any]:
        c = Console(request)
        await service.delete_tour(c.platform, enterprise, tour_id)
        return c.redirect(c.base(), "deleted")

    @get("/export", opt=R)
    async def export(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str], tour_id: FromPath[str]
    ) -> Response[str]:
        c = Console(request)
        state = await service.load_tour(c.platform, enterprise, tour_id)
        return Response(
            service.export_tour(state.tour),
            media_type="application/toml",
            headers={"Content-Disposition": f'attachment; filename="{state.tour.id}.toml"'},
        )

    # --- stations ------------------------------------------------------------------

    @post("/stations", opt=E)
    async def add_station(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str], tour_id: FromPath[str]
    ) -> Response[Any]:
        c = Console(request)
        form = await c.form()

        def change(tour: Tour) -> None:
            station_id = form.get("id").strip().lower()
            if not SLUG_RE.match(station_id):
                raise TourError("station id: use 1–40 lower-case letters, digits, '-' or '_'")
            if tour.station(station_id) is not None:
                raise TourError(f"station id: the tour already has a station {station_id!r}")
            if not form.get("number").strip():
                numbers = [s.number for s in tour.stations]
                form.items.append(("number", str(max(numbers, default=0) + 1)))
            form.items.append(("enabled", "on"))
            tour.stations.append(station_from(form, form_languages(c, tour), station_id))

        return await self._change(
            c, enterprise, tour_id, change, "created", form=form.all(), kind="station"
        )

    @get("/stations/{station_id:str}", opt=R)
    async def station(
        self,
        request: Request[Any, Any, Any],
        enterprise: FromPath[str],
        tour_id: FromPath[str],
        station_id: FromPath[str],
    ) -> Response[str]:
        c = Console(request)
        state = await service.load_tour(c.platform, enterprise, tour_id)
        station = service.station_of(state.tour, station_id)
        return await c.page(
            "console/station.html",
            title=c.text(station.name, station.id),
            tour=state.tour,
            station=station,
            langs=form_languages(c, state.tour),
            form=None,
        )

    @post("/stations/{station_id:str}", opt=E)
    async def save_station(
        self,
        request: Request[Any, Any, Any],
        enterprise: FromPath[str],
        tour_id: FromPath[str],
        station_id: FromPath[str],
    ) -> Response[Any]:
        c = Console(request)
        form = await c.form()
        try:

            def change(tour: Tour) -> None:
                current = service.station_of(tour, station_id)
                new = station_from(form, form_languages(c, tour), current.id)
                tour.stations = [new if s.id == current.id else s for s in tour.stations]

            await service.change_tour(c.platform, enterprise, tour_id, change)
        except PromtourError as exc:
            state = await service.load_tour(c.platform, enterprise, tour_id)
            return await c.page(
                "console/station.html",
                status=400,
                title=c._("Station"),
                tour=state.tour,
                station=service.station_of(state.tour, station_id),
                langs=form_languages(c, state.tour),
                form=form.all(),
                error=str(exc),
            )
        return c.redirect(f"{c.base()}/tours/{tour_id}", "saved")

    @post("/stations/{station_id:str}/move", opt=E)
    async def move(
        self,
        request: Request[Any, Any, Any],
        enterprise: FromPath[str],
        tour_id: FromPath[str],
        station_id: FromPath[str],
    ) -> Response[Any]:
        c = Console(request)
        step = -1 if (await c.form()).get("direction") == "up" else 1
        return await self._change(
            c, enterprise, tour_id, lambda t: service.move_station(t, station_id, step)
        )

    @post("/stations/{station_id:str}/toggle", opt=E)
    async def toggle(
        self,
        request: Request[Any, Any, Any],
        enterprise: FromPath[str],
        tour_id: FromPath[str],
        station_id: FromPath[str],
    ) -> Response[Any]:
        def change(tour: Tour) -> None:
            station = service.station_of(tour, station_id)
            station.enabled = not station.enabled

        return await self._change(Console(request), enterprise, tour_id, change)

    @post("/stations/{station_id:str}/delete", opt=E)
    async def delete_station(
        self,
        request: Request[Any, Any, Any],
        enterprise: FromPath[str],
        tour_id: FromPath[str],
        station_id: FromPath[str],
    ) -> Response[Any]:
        def change(tour: Tour) -> None:
            station = service.station_of(tour, station_id)
            tour.stations = [s for s in tour.stations if s.id != station.id]

        return await self._change(Console(request), enterprise, tour_id, change, "deleted")
