"""Career: the professions behind each station, an interest profile built from a RIASEC
quiz and from the tour itself, and a consented hand-off of contacts to the enterprise.

- Station pages show the cards of the professions that work there.
- ``/p/career/t/<enterprise>/<tour>/quiz``: the 30-statement interest quiz.
- The finish page ranks the enterprise's professions by fit, with a reason each.
- ``/p/career/t/<enterprise>/<tour>/contact``: the opt-in lead form (consent required;
  a guardian's too under 18). Contacts stay in the plugin's KV bucket with an expiry;
  events carry only an opaque lead id.
- ``/p/career/api/<enterprise>/leads``: the HR API (token with role hr).

See docs/plugins/career.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from litestar import Router
from markupsafe import Markup
from promtour import __version__, hookimpl
from promtour.context import PageContext, PluginContext
from promtour.events import Event
from promtour.models import Tour, pick_text
from promtour.plugin import Panel, PluginAssets, PluginInfo

from .api import api_router
from .config import CareerConfig, validate_config
from .events import EVENT_TYPES
from .pages import ROUTES
from .panels import cached_panel, store_panel
from .views import card_view, match_views, step_views
from .visitors import handle_event, load_profile

__all__ = ["CareerConfig"]

HERE = Path(__file__).parent


@hookimpl
def promtour_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="career",
        version=__version__,
        title={"ru": "Профессии", "en": "Careers"},
        description={
            "ru": "Кто здесь работает, тест интересов и связь с предприятием по согласию",
            "en": "Who works here, an interest quiz and a consented hand-off to the enterprise",
        },
        config=CareerConfig,
    )


@hookimpl
def promtour_assets() -> PluginAssets:
    return PluginAssets(
        templates=HERE / "templates",
        static=HERE / "static",
        locales=HERE / "locale",
        css=["career.css"],
    )


@hookimpl
def promtour_event_types() -> Sequence[type[Event]]:
    return EVENT_TYPES


@hookimpl
def promtour_routes() -> Sequence[Any]:
    # The visitor's HTML pages stay out of the OpenAPI schema; the HR API is in it.
    return [Router(path="/", route_handlers=ROUTES, include_in_schema=False), api_router()]


@hookimpl
def promtour_validate_config(tour: Tour, config: Any, media: frozenset[str]) -> Sequence[str]:
    return validate_config(tour, config)


@hookimpl
async def promtour_handle_event(event: Event, ctx: PluginContext) -> None:
    await handle_event(event, ctx)


def _base(page: PageContext) -> str:
    return page.url(f"t/{page.tour.enterprise}/{page.tour.id}")


@hookimpl
def promtour_station_panels(page: PageContext) -> Panel | None:
    if page.station is None:
        return None
    station_id = page.station.id
    # The cards depend on the tour and the language, not on the visitor: render them
    # once per tour revision, station and language (see panels.py).
    cached = cached_panel(page, station_id)
    if cached is None:
        cached = _render_station_panel(page, station_id)
        store_panel(page, station_id, *cached)
    title, html = cached
    return Panel(title=title, html=html, order=30)


def _render_station_panel(page: PageContext, station_id: str) -> tuple[str, Markup]:
    config: CareerConfig = page.config
    professions = config.at_station(station_id)
    if not professions:
        # No cards for this station: the quiz is still worth a line.
        html = page.render("career/panel_quiz.html", base=_base(page))
        return page._("Careers here"), html
    cards = [
        card_view(p, config=config, tour=page.tour, lang=page.lang, _=page._) for p in professions
    ]
    html = page.render(
        "career/panel_station.html",
        cards=cards,
        region=pick_text(config.region, page.lang),
        base=_base(page),
        text=page.text,
    )
    return page._("Who works here"), html


@hookimpl
def promtour_start_panels(page: PageContext) -> Panel | None:
    config: CareerConfig = page.config
    if not config.professions:
        return None
    html = page.render("career/panel_start.html", base=_base(page), count=len(config.professions))
    return Panel(title=page._("Careers here"), html=html, order=30)


@hookimpl
async def promtour_finish_panels(page: PageContext) -> Panel | None:
    config: CareerConfig = page.config
    if not config.professions:
        return None
    profile, signals, quiz = await load_profile(page.store, page.tour, page.visitor, config)
    matches = match_views(config, profile, signals, tour=page.tour, lang=page.lang, _=page._)
    html = page.render(
        "career/panel_finish.html",
        matches=matches,
        ranked=not profile.empty,
        has_quiz=quiz is not None,
        steps=step_views(config.next_steps, page.lang, page._),
        base=_base(page),
        leads=config.leads_enabled,
    )
    return Panel(title=page._("Professions that fit you"), html=html, order=30)
