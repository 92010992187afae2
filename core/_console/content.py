"""Console pages for a tour's content: plugin config, media, previews, QR posters,
key rotation."""

from __future__ import annotations

from typing import Any

import jinja2
import msgspec
import segno
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from markupsafe import Markup
from promtour._console import bin as bin_
from promtour._console import service
from promtour._console.access import EDIT, READ
from promtour._console.deps import ConsoleDep, TourAtDep, TourStateDep
from promtour._console.form_actions import action_result, form_context, get_job, start_action
from promtour._console.forms import (
    OP_FIELD,
    FormError,
    apply_op,
    build_form,
    config_values,
    parse_form,
    path_labels,
)
from promtour._console.messages import FieldError, describe_problem, describe_validation
from promtour._console.ui import DOMAIN, Console
from promtour._errors import ConfigError, PromtourError
from promtour._models import Progress, Station, Tour, pick_text
from promtour._qr import ERROR as QR_ERROR
from promtour._qr import QUIET_ZONE
from promtour._tours import TourState
from promtour._web.panels import collect_panels
from promtour._web.request import RequestContext

__all__ = [
    "PluginPages",
    "PosterPages",
    "PreviewContext",
    "PreviewPages",
    "form_context",
    "plugin_form_template",
    "qr_code_svg",
]

R = {"roles": READ}
E = {"roles": EDIT}


def plugin_form_template(c: Console, plugin: str) -> str | None:
    """A plugin's own config form (``<plugin>/console_config.html``), if it has one."""
    name = f"{plugin}/console_config.html"
    try:
        c.platform.templates.get_template(name)
    except jinja2.TemplateNotFound:
        return None
    return name


class PluginPages(Controller):
    path = "/tours/{tour_id:str}/plugins/{plugin:str}"
    include_in_schema = False

    async def _form(
        self,
        c: Console,
        state: TourState,
        plugin: str,
        values: dict[str, Any],
        *,
        status: int = 200,
        errors: list[FieldError] | None = None,
        unsaved: bool = False,
        note: str = "",
    ) -> Response[str]:
        info = c.platform.plugins.infos[plugin]
        ctx = await form_context(c, state.tour, plugin)
        errors = errors or []
        kept = await bin_.kept_config(c.platform, state.tour, plugin)
        return await c.page(
            "console/plugin_config.html",
            status=status,
            error="; ".join(str(e) for e in errors),
            errors=errors,
            invalid={e.path: e.text for e in errors if e.path},
            title=f"{c.text(info.title, plugin)} · {c.text(state.tour.name)}",
            tour=state.tour,
            info=info,
            enabled=plugin in state.tour.plugins,
            kept=kept is not None and plugin not in state.tour.plugins,
            nodes=build_form(info.config, values, ctx),
            custom_form=plugin_form_template(c, plugin),
            unsaved=unsaved,
            note=note,
            op_field=OP_FIELD,
            values=values,
        )

    def _info(self, c: Console, plugin: str) -> Any:
        info = c.platform.plugins.infos.get(plugin)
        if info is None:
            raise NotFoundException("There is no such plugin installed.")
        return info

    @get("/", opt=R)
    async def config_form(
        self, c: ConsoleDep, at: TourAtDep, plugin: FromPath[str]
    ) -> Response[str]:
        info = self._info(c, plugin)
        state = await service.load_tour(c.platform, at.enterprise, at.tour_id)
        stored = state.tour.plugins.get(plugin)
        if stored is None:
            # A plugin that was disabled comes back with the settings it had.
            stored = await bin_.kept_config(c.platform, state.tour, plugin)
        values = config_values(info.config, stored)
        return await self._form(c, state, plugin, values)

    @post("/", opt=E)
    async def save_config(
        self, c: ConsoleDep, at: TourAtDep, plugin: FromPath[str]
    ) -> Response[Any]:
        info = self._info(c, plugin)
        form = await c.form()
        state = await service.load_tour(c.platform, at.enterprise, at.tour_id)
        ctx = await form_context(c, state.tour, plugin)
        try:
            raw = parse_form(info.config, form.items)
        except FormError as exc:
            typed = parse_form(info.config, [i for i in form.items if i[0] != exc.path])
            error = FieldError(
                path=exc.path,
                where=" › ".join(path_labels(info.config, typed, exc.path, ctx)),
                text=c._(str(exc)),
            )
            return await self._form(c, state, plugin, typed, status=400, errors=[error])
        op = form.get(OP_FIELD)
        if op and op.startswith("action:"):
            return await start_action(c, state, plugin, raw, op[len("action:") :], self._form)
        if op:
            # Add/remove/move: shown again with the change, saved only by "Save".
            raw = apply_op(info.config, raw, op)
            return await self._form(c, state, plugin, raw, unsaved=True)
        try:
            msgspec.convert(raw, info.config, str_keys=True)
        except msgspec.ValidationError as exc:
            error = describe_validation(info.config, raw, exc, ctx)
            return await self._form(c, state, plugin, raw, status=400, errors=[error])
        was_enabled = plugin in state.tour.plugins

        def change(tour: Tour) -> None:
            tour.plugins[plugin] = raw

        try:
            await service.change_tour(c.platform, at.enterprise, at.tour_id, change)
        except PromtourError as exc:
            # Nothing was saved; what was typed is shown again with the reason.
            if isinstance(exc, ConfigError) and exc.plugin == plugin and exc.problems:
                errors = [describe_problem(info.config, raw, p, ctx) for p in exc.problems]
            else:
                errors = [FieldError(path="", where="", text=str(exc))]
            return await self._form(c, state, plugin, raw, status=400, errors=errors)
        await bin_.forget_config(c.platform, state.tour, plugin)
        return c.redirect(f"{c.base()}/tours/{at.tour_id}", "saved" if was_enabled else "enabled")

    @get("/actions/{job_id:str}", opt=E)
    async def action_progress(
        self, c: ConsoleDep, at: TourAtDep, plugin: FromPath[str], job_id: FromPath[str]
    ) -> Response[str]:
        """The progress of a field's action (refreshes itself), then its result."""
        self._info(c, plugin)
        state = await service.load_tour(c.platform, at.enterprise, at.tour_id)
        owner = c.principal.token_id if c.principal else ""
        job = get_job(job_id, owner, (state.tour.enterprise, state.tour.id, plugin))
        if job is None:
            raise NotFoundException(
                c._("This job is over or was started by someone else: press the button again.")
            )
        if job.done:
            return await action_result(c, state, plugin, job, self._form)
        return await c.page(
            "console/plugin_action.html",
            title=job.label,
            tour=state.tour,
            info=c.platform.plugins.infos[plugin],
            job=job,
        )

    @post("/disable", opt=E)
    async def disable(
        self, c: ConsoleDep, at: TourAtDep, tour_state: TourStateDep, plugin: FromPath[str]
    ) -> Response[Any]:
        kept = tour_state.tour.plugins.get(plugin)

        def change(tour: Tour) -> None:
            tour.plugins.pop(plugin, None)

        await service.change_tour(c.platform, at.enterprise, at.tour_id, change)
        if kept is not None:
            # Kept for re-enabling: the form opens with these settings again.
            await bin_.keep_config(c.platform, tour_state.tour, plugin, kept)
        return c.redirect(f"{c.base()}/tours/{at.tour_id}", "disabled")


class PreviewContext(RequestContext):
    """A visitor's request context for a preview: a fixed language, a visitor id of
    its own, and no cookies set (the staff member's own visitor cookie is untouched)."""

    def __init__(self, request: Request[Any, Any, Any], lang: str, visitor: str) -> None:
        super().__init__(request.app.state.platform, request)
        self._lang = lang
        self.visitor = visitor
        self.new_visitor = False


class PreviewPages(Controller):
    path = "/tours/{tour_id:str}/preview/{station_id:str}"
    include_in_schema = False

    @get("/", opt=R)
    async def preview(
        self, c: ConsoleDep, tour_state: TourStateDep, station_id: FromPath[str]
    ) -> Response[str]:
        """The station page as a visitor sees it, built by the same template and the
        same plugin panels; nothing is recorded (no check-in, no event)."""
        request, tour = c.request, tour_state.tour
        station = service.station_of(tour, station_id)
        asked = request.query_params.get("lang") or ""
        lang = asked if asked in tour.languages else tour.default_language
        visitor = f"preview-{c.principal.token_id if c.principal else 'x'}"
        pt = PreviewContext(request, lang, visitor)
        progress = Progress(
            visitor=visitor, tour=tour.key, visited=[station.id], scans={station.id: 1}
        )
        panels = await collect_panels(pt, "promtour_station_panels", tour_state, progress, station)
        c_ = c.platform.translations.translator(c.lang, DOMAIN)
        response = pt.page(
            "console/preview.html",
            tour=tour,
            station=station,
            progress=progress,
            panels=panels,
            path=request.url.path,
            c_=c_,
            console_url=f"{c.base()}/tours/{tour.id}",
            preview_lang=lang,
            missing=service.missing_translations(tour, lang, station),
            failed=[p.plugin for p in panels if p.failed],
        )
        response.headers["X-Robots-Tag"] = "noindex"
        return response


def qr_code_svg(url: str) -> Markup:
    """The bare QR code (no caption) with the core's error correction and quiet zone;
    the poster prints the number and name in large type itself."""
    qr = segno.make(url, error=QR_ERROR, boost_error=True)
    svg = qr.svg_inline(scale=8, border=QUIET_ZONE, omitsize=True)
    svg = svg.replace("<svg ", '<svg role="img" aria-label="QR" ', 1)
    return Markup(svg)


def _poster(base: str, tour: Tour, station: Station) -> dict[str, Any]:
    url = service.station_url(base, tour, station.id)
    return {
        "station": station,
        "url": url,
        "svg": qr_code_svg(url),
        "names": [(lang, station.name[lang]) for lang in tour.languages if station.name.get(lang)],
    }


class PosterPages(Controller):
    """Print-ready QR posters (A4, one or four per page), a contact sheet, one reprint,
    and the key rotation that makes every old poster stop working."""

    path = "/tours/{tour_id:str}"
    include_in_schema = False

    def _base(self, c: Console) -> str:
        return (c.platform.settings.web.public_url or str(c.request.base_url)).rstrip("/")

    async def _sheet(
        self, c: Console, state: TourState, stations: list[Station], per_page: int, template: str
    ) -> Response[str]:
        tour = state.tour
        base = self._base(c)
        enterprise = await c.enterprise()
        posters = [_poster(base, tour, s) for s in stations]
        pages = [posters[i : i + per_page] for i in range(0, len(posters), per_page)]
        return await c.page(
            template,
            title=f"{c._('QR posters')} · {c.text(tour.name)}",
            tour=tour,
            tour_name=pick_text(tour.name, tour.default_language),
            enterprise_name=pick_text(enterprise.name if enterprise else {}, tour.default_language),
            pages=pages,
            posters=posters,
            per_page=per_page,
            base_url=base,
            public_url_set=bool(c.platform.settings.web.public_url),
            start_url=f"{base}/t/{tour.enterprise}/{tour.id}",
            how=[
                (lang, c.platform.translations.translator(lang, DOMAIN)) for lang in tour.languages
            ],
        )

    @get("/posters", opt=R)
    async def posters(self, c: ConsoleDep, tour_state: TourStateDep) -> Response[str]:
        per_page = 4 if c.request.query_params.get("per_page") == "4" else 1
        stations = tour_state.tour.stations
        return await self._sheet(c, tour_state, stations, per_page, "console/posters.html")

    @get("/posters/{station_id:str}", opt=R)
    async def reprint(
        self, c: ConsoleDep, tour_state: TourStateDep, station_id: FromPath[str]
    ) -> Response[str]:
        station = service.station_of(tour_state.tour, station_id)
        return await self._sheet(c, tour_state, [station], 1, "console/posters.html")

    @get("/contact-sheet", opt=R)
    async def contact_sheet(self, c: ConsoleDep, tour_state: TourStateDep) -> Response[str]:
        stations = tour_state.tour.stations
        return await self._sheet(
            c, tour_state, stations, max(len(stations), 1), "console/contact.html"
        )

    @get("/rotate", opt=E)
    async def rotate_form(self, c: ConsoleDep, tour_state: TourStateDep) -> Response[str]:
        title = c._("Renew the QR codes")
        return await c.page("console/rotate.html", title=title, tour=tour_state.tour)

    @post("/rotate", opt=E)
    async def rotate(self, c: ConsoleDep, at: TourAtDep) -> Response[Any]:
        await service.rotate_key(c.platform, at.enterprise, at.tour_id)
        return c.redirect(f"{c.base()}/tours/{at.tour_id}/posters", "rotated")
