"""The visitor's quiz, their interest profile and a profession's own page."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from promtour.plugin import PT, RequestContext, TourState, pick_text

from ..events import CareerQuizCompleted
from ..riasec import QUIZ, holland_code, score_quiz
from ..views import card_view, match_views, step_views, type_views
from ..visitors import QuizResult, load_profile, save_quiz
from .common import config_of, tour_base

__all__ = ["MIN_ANSWERS", "ROUTES"]

#: The fewest answers that make a profile worth showing.
MIN_ANSWERS = 10


def _quiz_page(
    pt: RequestContext,
    state: TourState,
    answers: dict[str, int],
    error: str = "",
    status: int = 200,
) -> Response[str]:
    lang = pt.lang_for(state.tour)
    return pt.page(
        "career/quiz.html",
        status=status,
        tour=state.tour,
        title=pt._("Interest quiz"),
        statements=[(s.id, pick_text(s.text, lang)) for s in QUIZ.statements],
        answers=answers,
        error=error,
        action=f"{tour_base(state)}/quiz",
        profile_url=f"{tour_base(state)}/profile",
        minimum=MIN_ANSWERS,
    )


@get("/t/{enterprise:str}/{tour_id:str}/quiz")
async def quiz_form(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> Response[str]:
    state = await pt.tour(enterprise, tour_id)
    return _quiz_page(pt, state, {})


@post("/t/{enterprise:str}/{tour_id:str}/quiz")
async def quiz_submit(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> Response[Any]:
    state = await pt.tour(enterprise, tour_id)
    form = await pt.request.form()
    answers: dict[str, int] = {}
    for statement in QUIZ.statements:
        value = form.get(statement.id)
        if value in ("0", "1", "2"):
            answers[statement.id] = int(value)
    # career.js posts for JSON (the same path as quest answers, so that the service
    # worker can queue the answers without signal); a plain form post gets pages.
    wants_json = "application/json" in pt.request.headers.get("accept", "")
    if len(answers) < MIN_ANSWERS:
        message = pt._("Please answer at least %(n)d statements to get your profile.") % {
            "n": MIN_ANSWERS
        }
        if wants_json:
            return Response({"detail": message}, status_code=400)
        return _quiz_page(pt, state, answers, error=message, status=400)
    scores = score_quiz(answers, QUIZ.statements)
    ctx = pt.context(state)
    result = QuizResult(answers=answers, scores=scores)
    await save_quiz(ctx.tour_store, pt.visitor, result, ttl=ctx.visitor_ttl)
    await ctx.publish(
        ctx.event(CareerQuizCompleted, code=holland_code(scores), answered=len(answers))
    )
    if wants_json:
        return Response({"redirect": f"{tour_base(state)}/profile"})
    return pt.redirect(f"{tour_base(state)}/profile")


@get("/t/{enterprise:str}/{tour_id:str}/profile")
async def profile_page(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> Response[str]:
    state = await pt.tour(enterprise, tour_id)
    lang = pt.lang_for(state.tour)
    config = config_of(state)
    ctx = pt.context(state)
    profile, signals, quiz = await load_profile(ctx.tour_store, pt.visitor, config)
    return pt.page(
        "career/profile.html",
        tour=state.tour,
        title=pt._("Your interest profile"),
        has_quiz=quiz is not None,
        empty=profile.empty,
        types=type_views(profile, lang),
        matches=match_views(
            config,
            profile,
            signals,
            tour=state.tour,
            lang=lang,
            _=pt._,
            ngettext=pt.ngettext,
            limit=5,
        ),
        base=tour_base(state),
        leads=config.leads_enabled,
    )


@get("/t/{enterprise:str}/{tour_id:str}/professions/{profession_id:str}")
async def profession_page(
    pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], profession_id: FromPath[str]
) -> Response[str]:
    state = await pt.tour(enterprise, tour_id)
    config = config_of(state)
    profession = config.profession(profession_id)
    if profession is None:
        raise NotFoundException(pt._("There is no such profession on this tour."))
    lang = pt.lang_for(state.tour)
    card = card_view(profession, config=config, tour=state.tour, lang=lang, _=pt._)
    return pt.page(
        "career/profession.html",
        tour=state.tour,
        title=card.title,
        card=card,
        region=pick_text(config.region, lang),
        steps=step_views(config.next_steps, lang, pt._),
        base=tour_base(state),
        leads=config.leads_enabled,
    )


ROUTES = [quiz_form, quiz_submit, profile_page, profession_page]
