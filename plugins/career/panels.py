"""The career panels of the tour's pages: the professions of a station, a line on the
start page, and the ranked professions on the finish page.

What does not depend on the visitor is rendered once per tour revision and language
with ``page.cached_frame`` (the core's render cache: a saved tour starts a new one):
the station cards and the start line whole, the finish panel's next steps and lead
link around a ``ranking`` slot that is filled with the visitor's own ranking.
"""

from __future__ import annotations

import msgspec
from markupsafe import Markup
from promtour.plugin import PageContext, Panel, hookimpl

from .config import CareerConfig
from .events import CareerTopRanked
from .views import card_view, match_views, step_views
from .visitors import load_profile

__all__ = ["finish_panel", "start_panel", "station_panel"]

#: Where career panels go among the plugins' panels (lower comes first).
ORDER = 30
#: How long the last published first-ranked profession is remembered (a visit).
TOP_TTL = 7 * 24 * 3600


def _base(page: PageContext) -> str:
    return page.url(f"t/{page.tour.enterprise}/{page.tour.id}")


@hookimpl(specname="promtour_station_panels")
async def station_panel(page: PageContext) -> Panel | None:
    if page.station is None:
        return None
    config: CareerConfig = page.config
    station_id = page.station.id
    professions = config.at_station(station_id)

    def build() -> Markup:
        if not professions:
            # No cards for this station: the quiz is still worth a line.
            return page.render("career/panel_quiz.html", base=_base(page))
        cards = [
            card_view(p, config=config, tour=page.tour, lang=page.lang, _=page._)
            for p in professions
        ]
        return page.render(
            "career/panel_station.html",
            cards=cards,
            region=page.text(config.region),
            base=_base(page),
            text=page.text,
        )

    frame = await page.cached_frame(("station", station_id), build)
    title = page._("Who works here") if professions else page._("Careers here")
    return Panel(title=title, html=frame.fill(), order=ORDER)


@hookimpl(specname="promtour_start_panels")
async def start_panel(page: PageContext) -> Panel | None:
    config: CareerConfig = page.config
    if not config.professions:
        return None

    def build() -> Markup:
        return page.render(
            "career/panel_start.html", base=_base(page), count=len(config.professions)
        )

    frame = await page.cached_frame("start", build)
    return Panel(title=page._("Careers here"), html=frame.fill(), order=ORDER)


@hookimpl(specname="promtour_finish_panels")
async def finish_panel(page: PageContext) -> Panel | None:
    config: CareerConfig = page.config
    if not config.professions:
        return None

    def build() -> Markup:
        return page.render(
            "career/panel_finish.html",
            steps=step_views(config.next_steps, page.lang, page._),
            base=_base(page),
            leads=config.leads_enabled,
        )

    frame = await page.cached_frame("finish", build)
    profile, signals, quiz = await load_profile(page.tour_store, page.visitor or "", config)
    matches = match_views(
        config,
        profile,
        signals,
        tour=page.tour,
        lang=page.lang,
        _=page._,
        ngettext=page.ngettext,
    )
    if matches and not profile.empty:
        await _publish_top(page, matches[0].card.id)
    ranking = page.render(
        "career/_ranking.html",
        matches=matches,
        ranked=not profile.empty,
        has_quiz=quiz is not None,
        base=_base(page),
    )
    return Panel(
        title=page._("Professions that fit you"), html=frame.fill(ranking=ranking), order=ORDER
    )


class _Top(msgspec.Struct):
    profession: str


async def _publish_top(page: PageContext, profession: str) -> None:
    """Publish the visitor's first-ranked profession when it is new for them (a
    reload of the finish page publishes nothing)."""
    if not page.visitor:
        return
    key = f"top.{page.visitor}"
    known = await page.tour_store.get(key, _Top)
    if known is not None and known.profession == profession:
        return
    await page.tour_store.put(key, _Top(profession), ttl=TOP_TTL)
    await page.publish(page.event(CareerTopRanked, profession=profession))
