"""Console pages: sign-in, the tour list, a tour's details and stations, tokens.

Every page under ``/console/{enterprise}`` is behind the enterprise guard; forms
post back with the CSRF token (checked by the core for every POST outside /api/),
successful changes redirect (``?done=``), refused ones re-render the form with what
was typed and the reason, with status 400.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath
from promtour._console import bin as bin_
from promtour._console import service
from promtour._console.access import E, R
from promtour._console.deps import ConsoleDep, TourAt, TourAtDep, TourStateDep
from promtour._console.forms import FormContext, build_form, config_values
from promtour._console.signin import SignInPages, safe_next, sign_in_redirect
from promtour._console.ui import Console, FormData
from promtour._errors import PromtourError, TourError
from promtour._models import SLUG_RE, Station, Text, Tour
from promtour._tours import TourState

__all__ = [
    "SignInPages",
    "TourPages",
    "ToursPages",
    "change_or_show",
    "done_or_refused",
    "form_languages",
    "languages_from",
    "refused",
    "safe_next",
    "sign_in_redirect",
    "station_from",
    "texts_from",
    "tour_page",
]

LANG_RE = re.compile(r"^[a-z]{2,3}$")

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
    """The languages to show text inputs for: the tour's (a Russian-only tour asks for
    no English name); the platform's for a tour not created yet."""
    if tour is not None and tour.languages:
        return list(tour.languages)
    return list(c.platform.settings.languages)


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
    async def tours(self, c: ConsoleDep, enterprise: FromPath[str]) -> Response[str]:
        states = service.tours_of(c.platform, enterprise)
        return await c.page(
            "console/tours.html", title=c._("Tours"), tours=[s.tour for s in states]
        )

    @get("/tours/new", opt=E)
    async def new_tour(self, c: ConsoleDep, enterprise: FromPath[str]) -> Response[str]:
        return await c.page(
            "console/tour_new.html",
            title=c._("New tour"),
            form={},
            langs=form_languages(c, None),
        )

    @post("/tours", opt=E)
    async def create_tour(self, c: ConsoleDep, enterprise: FromPath[str]) -> Response[Any]:
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
    async def plugins(self, c: ConsoleDep, enterprise: FromPath[str]) -> Response[str]:
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

    @get("/import", opt=E)
    async def import_form(self, c: ConsoleDep, enterprise: FromPath[str]) -> Response[str]:
        return await c.page("console/import.html", title=c._("Import a tour"), toml="")

    @post("/import", opt=E)
    async def import_tour(self, c: ConsoleDep, enterprise: FromPath[str]) -> Response[Any]:
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
    # The bin: stations deleted in the last days, «Вернуть» puts one back.
    deleted = await bin_.deleted_stations(c.platform, tour)
    undo = c.request.query_params.get("undo") or ""
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
        deleted=deleted,
        keep_days=bin_.KEEP_DAYS,
        undo=next((s for s, _ in deleted if s.id == undo), None),
        **values,
    )


async def change_or_show(
    c: Console,
    at: TourAt,
    change: Any,
    done: str = "saved",
    form: dict[str, str] | None = None,
    kind: str = "",
) -> Response[Any]:
    """Change the tour and go back to its page; if the change is refused, show the
    tour page with the reason (status 400) and what was typed, nothing saved."""
    changed = service.change_tour(c.platform, at.enterprise, at.tour_id, change)
    return await done_or_refused(c, at, changed, done, form=form, kind=kind)


async def done_or_refused(
    c: Console,
    at: TourAt,
    action: Awaitable[object],
    done: str,
    *,
    form: dict[str, str] | None = None,
    kind: str = "",
    query: str = "",
) -> Response[Any]:
    """Await ``action`` (a change of the tour) and go back to the tour's page (with
    ``query``); if it is refused, the tour page with the reason instead."""
    try:
        await action
    except (PromtourError, service.Conflict) as exc:
        return await refused(c, at, exc, form=form, kind=kind)
    return c.redirect(f"{c.base()}/tours/{at.tour_id}{query}", done)


async def refused(
    c: Console,
    at: TourAt,
    exc: Exception,
    form: dict[str, str] | None = None,
    kind: str = "",
) -> Response[str]:
    """The tour page with the reason a change was refused."""
    state = await service.load_tour(c.platform, at.enterprise, at.tour_id)
    return await tour_page(
        c,
        state,
        status=400,
        error=str(getattr(exc, "detail", None) or exc),
        form=form,
        form_kind=kind,
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


def _every_station(*, enabled: bool) -> Callable[[Tour], None]:
    """The change that closes (or opens) the whole tour: every station off (on)."""

    def change(tour: Tour) -> None:
        for station in tour.stations:
            station.enabled = enabled

    return change


class TourPages(Controller):
    """One tour: details, stations, close/open, delete, export."""

    path = "/tours/{tour_id:str}"
    include_in_schema = False

    @get("/", opt=R)
    async def tour(self, c: ConsoleDep, tour_state: TourStateDep) -> Response[str]:
        return await tour_page(c, tour_state)

    @post("/", opt=E)
    async def save(self, c: ConsoleDep, at: TourAtDep) -> Response[Any]:
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

        return await change_or_show(c, at, change, form=form.all(), kind="details")

    @post("/close", opt=E)
    async def close(self, c: ConsoleDep, at: TourAtDep) -> Response[Any]:
        return await change_or_show(c, at, _every_station(enabled=False), "closed")

    @post("/open", opt=E)
    async def open(self, c: ConsoleDep, at: TourAtDep) -> Response[Any]:
        return await change_or_show(c, at, _every_station(enabled=True), "opened")

    @get("/delete", opt=E)
    async def delete_form(self, c: ConsoleDep, tour_state: TourStateDep) -> Response[str]:
        return await c.page(
            "console/tour_delete.html", title=c._("Delete the tour"), tour=tour_state.tour
        )

    @post("/delete", opt=E)
    async def delete(self, c: ConsoleDep, at: TourAtDep) -> Response[Any]:
        await service.delete_tour(c.platform, at.enterprise, at.tour_id)
        return c.redirect(c.base(), "deleted")

    @get("/export", opt=R)
    async def export(self, tour_state: TourStateDep) -> Response[str]:
        return Response(
            service.export_tour(tour_state.tour),
            media_type="application/toml",
            headers={"Content-Disposition": f'attachment; filename="{tour_state.tour.id}.toml"'},
        )
