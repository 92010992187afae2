"""Safety: the tour's visitor rules, the protective equipment of each station as icons
with text, and an optional briefing with a short quiz that gates the station panels
until it is passed (``promtour_page_gate``). Passing publishes
``safety_briefing_passed``. See docs/plugins/safety.md.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Response, post
from litestar.params import FromPath
from promtour.plugin import (
    PT,
    Event,
    PageContext,
    Panel,
    PluginContext,
    PluginInfo,
    RateLimit,
    hookimpl,
    utcnow,
)

from .config import PPE_KINDS, SafetyConfig, validate_config

__all__ = [
    "BriefingPassed",
    "SafetyConfig",
    "validate_config",
]  # validate_config: @hookimpl in .config

QUIZ_LIMIT = RateLimit(name="safety-quiz", per_visitor=30, window=60)
#: A passed briefing is remembered this long (a visit, not forever).
PASSED_TTL = 7 * 24 * 3600


class BriefingPassed(Event, tag="safety_briefing_passed"):
    """A visitor passed the safety briefing's quiz (``attempts``: tries it took)."""

    attempts: int = 1


class Passed(msgspec.Struct):
    at: str
    attempts: int


class Tries(msgspec.Struct):
    count: int = 0
    #: Wrong answers in the last attempt (shown above the quiz).
    wrong: int = 0
    #: The age given in the last attempt was under ``min_age``.
    too_young: bool = False


def ppe_labels(_: Any) -> dict[str, str]:
    return {
        "helmet": _("Hard hat"),
        "glasses": _("Safety glasses"),
        "ear_protection": _("Ear protection"),
        "gloves": _("Gloves"),
        "closed_shoes": _("Closed shoes"),
        "vest": _("High-visibility vest"),
        "no_photo": _("No photos"),
        "no_phone": _("No phones"),
    }


@hookimpl
def promtour_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="safety",
        title={"ru": "Безопасность", "en": "Safety"},
        description={
            "ru": "Правила, средства защиты на станциях и инструктаж с вопросами",
            "en": "Rules, protective equipment per station and a briefing with a quiz",
        },
        config=SafetyConfig,
        events=(BriefingPassed,),
        routes=(answer,),
        css=("safety.css",),
    )


async def passed(ctx: PluginContext, visitor: str) -> bool:
    return await ctx.tour_store.get(f"passed.{visitor}", Passed) is not None


@hookimpl
async def promtour_page_gate(page: PageContext) -> Panel | None:
    config: SafetyConfig = page.config
    if not config.briefing or not config.quiz:
        return None
    if config.briefing == "groups" and not (page.visit and page.visit.group):
        return None
    visitor = page.visitor
    if visitor is not None and await passed(page, visitor):
        return None
    tries = await page.tour_store.get(f"tries.{visitor}", Tries) if visitor else None
    return _briefing(page, config, tries)


def _briefing(page: PageContext, config: SafetyConfig, tries: Tries | None) -> Panel:
    html = page.render(
        "safety/briefing.html",
        config=config,
        wrong=tries.wrong if tries else None,
        too_young=tries.too_young if tries else False,
        labels=ppe_labels(page._),
        action=page.url(f"t/{page.tour.enterprise}/{page.tour.id}/quiz"),
        back=page.station_url(page.station) if page.station else page.tour_url(),
    )
    return Panel(title=page._("Safety briefing"), html=html, order=0)


@hookimpl
async def promtour_station_panels(page: PageContext) -> Panel | None:
    config: SafetyConfig = page.config
    station = page.station.id if page.station else ""
    kinds = [k for k in config.ppe.get(station, []) if k in PPE_KINDS]
    if not kinds:
        return None

    def build() -> str:
        return page.render(
            "safety/ppe.html", kinds=kinds, labels=ppe_labels(page._), icon=page.static_url
        )

    # The same for every visitor: rendered once per tour revision, station and language
    # (it was about 100 µs of every scan, docs/performance.md).
    frame = await page.cached_frame(("ppe", station), build)
    return Panel(title=page._("Protective equipment here"), html=frame.fill(), order=1)


@hookimpl
def promtour_start_panels(page: PageContext) -> Panel | None:
    config: SafetyConfig = page.config
    if not config.rules and not config.min_age and not config.evacuation:
        return None
    html = page.render("safety/rules.html", config=config)
    return Panel(title=page._("Safety rules"), html=html, order=2)


@post("/t/{enterprise:str}/{tour_id:str}/quiz", status_code=200)
async def answer(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> Response[Any]:
    """Check the briefing quiz; all right: remember it, publish the event, go back."""
    state = await pt.tour(enterprise, tour_id)
    ctx = pt.context(state)
    config: SafetyConfig = ctx.config
    pt.limit(QUIZ_LIMIT)
    form = await pt.request.form()
    back = pt.safe_path(str(form.get("back") or ""), ctx.tour_url())
    wrong = 0
    for index, question in enumerate(config.quiz):
        if str(form.get(f"q{index}", "")) != str(question.correct):
            wrong += 1
    # The tour's minimum age is checked here, when a pupil who joined a group meets
    # the briefing: a visitor under it does not pass, and the briefing says why.
    too_young = bool(config.min_age) and _age(form.get("age")) < config.min_age
    tries = await ctx.tour_store.update(
        f"tries.{pt.visitor}",
        Tries,
        lambda t: Tries((t.count if t else 0) + 1, wrong, too_young),
        ttl=PASSED_TTL,
    )
    if wrong or too_young:
        return pt.redirect(back)
    if await ctx.tour_store.create(
        f"passed.{pt.visitor}", Passed(utcnow().isoformat(), tries.count), ttl=PASSED_TTL
    ):
        progress = await ctx.progress()
        await ctx.publish(
            ctx.event(
                BriefingPassed,
                attempts=tries.count,
                group=progress.group if progress else None,
            )
        )
    return pt.redirect(back)


def _age(value: object) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        return -1
