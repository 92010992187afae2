"""The visitor's career pages under ``/p/career/``: the quiz, the profile, the lead form,
the private page to see and erase one's data, and the guardian's confirmation.

Forms are plain HTML posts with the core's CSRF token; bad input re-renders the form
with the visitor's values and a clear message (status 400), so nothing typed is lost.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from promtour.context import PluginContext
from promtour.models import pick_text, utcnow
from promtour.tours import TourState
from promtour.web.request import PT, RequestContext
from promtour.web.security import RateLimiter

from .config import AGE_BRACKETS, CareerConfig
from .events import CareerLeadCreated, CareerLeadErased, CareerQuizCompleted
from .leads import (
    DAY,
    ConsentRecord,
    Guardian,
    Lead,
    LeadInput,
    LeadStorageError,
    LeadStore,
    check_lead,
    lead_id_for,
    new_secret,
    parse_lead_form,
    secret_matches,
    ttl_for,
)
from .riasec import holland_code, load_quiz, score_quiz
from .views import card_view, match_views, step_views, type_views
from .visitors import QuizResult, load_profile, save_quiz

__all__ = ["ROUTES"]

PLUGIN = "career"
#: The fewest answers that make a profile worth showing.
MIN_ANSWERS = 10
#: Lead forms per visitor per hour (a whole class shares one IP, not one cookie).
lead_limiter = RateLimiter(limit=5, window=3600)

AGE_LABELS = {
    "under14": "Under 14",
    "14-15": "14–15",
    "16-17": "16–17",
    "18plus": "18 or older",
}


class TooManyRequests(HTTPException):
    status_code = 429


def _config(state: TourState) -> CareerConfig:
    config: CareerConfig = state.configs[PLUGIN]
    return config


def _base_url(request: Request[Any, Any, Any]) -> str:
    return str(request.base_url).rstrip("/")


def _tour_base(state: TourState) -> str:
    return f"/p/{PLUGIN}/t/{state.tour.enterprise}/{state.tour.id}"


async def _enterprise_name(ctx: PluginContext, lang: str) -> str:
    enterprise = await ctx.enterprise()
    if enterprise is None:
        return ctx.tour.enterprise
    return pick_text(enterprise.name, lang, enterprise.id)


async def _retention_days(ctx: PluginContext) -> int:
    enterprise = await ctx.enterprise()
    return enterprise.lead_retention_days if enterprise is not None else 180


async def _tour_or_none(pt: RequestContext, enterprise: str, tour_id: str) -> TourState | None:
    try:
        return await pt.tour(enterprise, tour_id)
    except NotFoundException:
        return None


# --- Quiz and profile ----------------------------------------------------------------------


def _quiz_page(
    pt: RequestContext,
    state: TourState,
    answers: dict[str, int],
    error: str = "",
    status: int = 200,
) -> Response[str]:
    lang = pt.lang_for(state.tour)
    quiz = load_quiz()
    return pt.page(
        "career/quiz.html",
        status=status,
        tour=state.tour,
        title=pt._("Interest quiz"),
        statements=[(s.id, pick_text(s.text, lang)) for s in quiz.statements],
        answers=answers,
        error=error,
        action=f"{_tour_base(state)}/quiz",
        minimum=MIN_ANSWERS,
    )


@get("/t/{enterprise:str}/{tour_id:str}/quiz")
async def quiz_form(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> Response[str]:
    state = await pt.tour(enterprise, tour_id)
    return _quiz_page(pt, state, {})


@post("/t/{enterprise:str}/{tour_id:str}/quiz")
async def quiz_submit(
    pt: PT, request: Request[Any, Any, Any], enterprise: FromPath[str], tour_id: FromPath[str]
) -> Response[Any]:
    state = await pt.tour(enterprise, tour_id)
    form = await request.form()
    quiz = load_quiz()
    answers: dict[str, int] = {}
    for statement in quiz.statements:
        value = form.get(statement.id)
        if value in ("0", "1", "2"):
            answers[statement.id] = int(value)
    if len(answers) < MIN_ANSWERS:
        message = pt._("Please answer at least %(n)d statements to get your profile.") % {
            "n": MIN_ANSWERS
        }
        return _quiz_page(pt, state, answers, error=message, status=400)
    scores = score_quiz(answers, quiz.statements)
    ctx = pt.context(state)
    await save_quiz(ctx.store, state.tour, pt.visitor, QuizResult(answers=answers, scores=scores))
    await ctx.publish(
        ctx.event(CareerQuizCompleted, code=holland_code(scores), answered=len(answers))
    )
    return pt.redirect(f"{_tour_base(state)}/profile")


@get("/t/{enterprise:str}/{tour_id:str}/profile")
async def profile_page(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> Response[str]:
    state = await pt.tour(enterprise, tour_id)
    lang = pt.lang_for(state.tour)
    config = _config(state)
    ctx = pt.context(state)
    profile, signals, quiz = await load_profile(ctx.store, state.tour, pt.visitor, config)
    return pt.page(
        "career/profile.html",
        tour=state.tour,
        title=pt._("Your interest profile"),
        has_quiz=quiz is not None,
        empty=profile.empty,
        types=type_views(profile, lang),
        matches=match_views(config, profile, signals, tour=state.tour, lang=lang, _=pt._, limit=5),
        base=_tour_base(state),
        leads=config.leads_enabled,
    )


# --- The lead form --------------------------------------------------------------------------


async def _contact_page(
    pt: RequestContext,
    state: TourState,
    data: LeadInput,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    lang = pt.lang_for(state.tour)
    config = _config(state)
    ctx = pt.context(state)
    return pt.page(
        "career/contact.html",
        status=status,
        tour=state.tour,
        title=pt._("Hear about internships"),
        data=data,
        errors=errors or {},
        ages=[(a, pt._(AGE_LABELS[a])) for a in AGE_BRACKETS],
        professions=[(p.id, pick_text(p.title, lang, p.id)) for p in config.professions],
        consent_text=pick_text(config.consent.text, lang),
        guardian_text=pick_text(config.consent.guardian_text, lang),
        consent_version=config.consent.version,
        guardian_link=config.guardian_confirmation == "link",
        enterprise_name=await _enterprise_name(ctx, lang),
        retention_days=await _retention_days(ctx),
        action=f"{_tour_base(state)}/contact",
        nonce=data.nonce or secrets.token_hex(16),
    )


def _leads_config(pt: RequestContext, state: TourState) -> CareerConfig:
    config = _config(state)
    if not config.leads_enabled:
        raise NotFoundException(pt._("This tour does not collect contacts."))
    return config


@get("/t/{enterprise:str}/{tour_id:str}/contact")
async def contact_form(
    pt: PT, request: Request[Any, Any, Any], enterprise: FromPath[str], tour_id: FromPath[str]
) -> Response[str]:
    state = await pt.tour(enterprise, tour_id)
    config = _leads_config(pt, state)
    wanted = [p for p in request.query_params.getall("p", []) if config.profession(p)]
    return await _contact_page(pt, state, LeadInput(professions=wanted))


@post("/t/{enterprise:str}/{tour_id:str}/contact")
async def contact_submit(
    pt: PT, request: Request[Any, Any, Any], enterprise: FromPath[str], tour_id: FromPath[str]
) -> Response[str]:
    state = await pt.tour(enterprise, tour_id)
    config = _leads_config(pt, state)
    data = parse_lead_form(await request.form())
    problems = check_lead(data, config)
    if problems:
        errors: dict[str, str] = {}
        for problem in problems:
            errors.setdefault(problem.field, pt._(problem.message))
        return await _contact_page(pt, state, data, errors, status=400)
    if not lead_limiter.allow(pt.visitor):
        raise TooManyRequests(
            detail=pt._("Too many forms in a short time. Please try again later.")
        )

    lang = pt.lang_for(state.tour)
    ctx = pt.context(state)
    leads = LeadStore(ctx.store)
    tour = state.tour
    lead_id = lead_id_for(pt.visitor, data.nonce)
    if await leads.get(tour.enterprise, lead_id) is not None:
        return pt.page("career/thanks.html", tour=tour, title=pt._("Thank you"), already=True)

    now = utcnow()
    pending = data.minor and config.guardian_confirmation == "link"
    retention = await _retention_days(ctx)
    ttl = ttl_for(config, retention, pending)
    consent_text = pick_text(config.consent.text, lang)
    consent = ConsentRecord(
        version=config.consent.version,
        lang=lang,
        text_sha256=hashlib.sha256(consent_text.encode()).hexdigest(),
        given=now,
    )
    guardian = None
    code = code_digest = ""
    if data.minor:
        guardian_text = pick_text(config.consent.guardian_text, lang)
        guardian = Guardian(
            name=data.guardian_name,
            contact=data.guardian_contact,
            consent=ConsentRecord(
                version=config.consent.version,
                lang=lang,
                text_sha256=hashlib.sha256(guardian_text.encode()).hexdigest(),
                given=now,
            ),
            method="link" if pending else "form",
            confirmed=None if pending else now,
        )
        if pending:
            code, code_digest = new_secret()
    secret, digest = new_secret()
    lead = Lead(
        id=lead_id,
        enterprise=tour.enterprise,
        tour=tour.id,
        created=now,
        expires=now + timedelta(seconds=ttl),
        status="pending_guardian" if pending else "active",
        name=data.name,
        contact=data.contact,
        age=data.age,
        place=data.place,
        professions=list(dict.fromkeys(data.professions)),
        lang=lang,
        consent=consent,
        guardian=guardian,
        secret_sha256=digest,
        guardian_code_sha256=code_digest,
    )
    try:
        stored = await leads.write(lead, ttl)
    except LeadStorageError:
        raise HTTPException(
            status_code=503,
            detail=pt._(
                "Your details cannot be stored safely right now. Nothing was kept: "
                "please try again later."
            ),
        ) from None
    if not stored:
        return pt.page("career/thanks.html", tour=tour, title=pt._("Thank you"), already=True)
    if not pending:
        await ctx.publish(ctx.event(CareerLeadCreated, lead=lead.id, visitor=None, group=None))
    base = _base_url(request)
    response = pt.page(
        "career/thanks.html",
        tour=tour,
        title=pt._("Thank you"),
        already=False,
        pending=pending,
        my_url=f"{base}/p/{PLUGIN}/my/{tour.enterprise}/{lead.id}/{secret}",
        guardian_url=(
            f"{base}/p/{PLUGIN}/guardian/{tour.enterprise}/{lead.id}/{code}" if pending else ""
        ),
        guardian_wait_days=config.guardian_wait_days,
        retention_days=retention,
        enterprise_name=await _enterprise_name(ctx, lang),
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# --- The visitor's own data ---------------------------------------------------------------


async def _lead_for_link(
    pt: RequestContext, enterprise: str, lead_id: str, secret: str
) -> tuple[Lead, TourState | None]:
    store = pt.platform.store_for(PLUGIN)
    lead = await LeadStore(store).get(enterprise, lead_id)
    if lead is None or not secret_matches(secret, lead.secret_sha256):
        raise NotFoundException(
            pt._("This link is not valid, or the data was already erased or has expired.")
        )
    return lead, await _tour_or_none(pt, enterprise, lead.tour)


def _lead_values(pt: RequestContext, lead: Lead, state: TourState | None) -> dict[str, Any]:
    lang = pt.lang_for(state.tour if state else None)
    config = _config(state) if state else None
    titles = []
    for pid in lead.professions:
        p = config.profession(pid) if config else None
        titles.append(pick_text(p.title, lang, pid) if p else pid)
    return {
        "lead": lead,
        "tour": state.tour if state else None,
        "age_label": pt._(AGE_LABELS.get(lead.age, lead.age)),
        "profession_titles": titles,
    }


def _private(response: Response[Any]) -> Response[Any]:
    # The path holds a secret: never send it on to another site.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@get("/my/{enterprise:str}/{lead_id:str}/{secret:str}")
async def my_data(
    pt: PT, enterprise: FromPath[str], lead_id: FromPath[str], secret: FromPath[str]
) -> Response[str]:
    lead, state = await _lead_for_link(pt, enterprise, lead_id, secret)
    return _private(
        pt.page(
            "career/my.html",
            title=pt._("Your data"),
            action=f"/p/{PLUGIN}/my/{enterprise}/{lead_id}/{secret}/erase",
            **_lead_values(pt, lead, state),
        )
    )


@post("/my/{enterprise:str}/{lead_id:str}/{secret:str}/erase")
async def my_data_erase(
    pt: PT, enterprise: FromPath[str], lead_id: FromPath[str], secret: FromPath[str]
) -> Response[str]:
    lead, state = await _lead_for_link(pt, enterprise, lead_id, secret)
    store = pt.platform.store_for(PLUGIN)
    await LeadStore(store).erase(enterprise, lead_id)
    if lead.status == "active" and state is not None:
        ctx = pt.context(state)
        await ctx.publish(
            ctx.event(CareerLeadErased, lead=lead_id, by="visitor", visitor=None, group=None)
        )
    return _private(
        pt.page("career/erased.html", tour=state.tour if state else None, title=pt._("Erased"))
    )


# --- The guardian's confirmation ------------------------------------------------------------


async def _pending_for_code(
    pt: RequestContext, enterprise: str, lead_id: str, code: str
) -> tuple[Lead, TourState | None]:
    store = pt.platform.store_for(PLUGIN)
    lead = await LeadStore(store).get(enterprise, lead_id)
    if lead is None or not secret_matches(code, lead.guardian_code_sha256):
        raise NotFoundException(
            pt._("This confirmation link is not valid, or it has expired, or the data was erased.")
        )
    return lead, await _tour_or_none(pt, enterprise, lead.tour)


@get("/guardian/{enterprise:str}/{lead_id:str}/{code:str}")
async def guardian_form(
    pt: PT, enterprise: FromPath[str], lead_id: FromPath[str], code: FromPath[str]
) -> Response[str]:
    lead, state = await _pending_for_code(pt, enterprise, lead_id, code)
    lang = pt.lang_for(state.tour if state else None)
    config = _config(state) if state else None
    return _private(
        pt.page(
            "career/guardian.html",
            title=pt._("Parent or guardian consent"),
            action=f"/p/{PLUGIN}/guardian/{enterprise}/{lead_id}/{code}",
            confirmed=lead.status == "active",
            consent_text=pick_text(config.consent.text, lang) if config else "",
            guardian_text=pick_text(config.consent.guardian_text, lang) if config else "",
            consent_version=lead.consent.version,
            **_lead_values(pt, lead, state),
        )
    )


@post("/guardian/{enterprise:str}/{lead_id:str}/{code:str}")
async def guardian_answer(
    pt: PT,
    request: Request[Any, Any, Any],
    enterprise: FromPath[str],
    lead_id: FromPath[str],
    code: FromPath[str],
) -> Response[str]:
    lead, state = await _pending_for_code(pt, enterprise, lead_id, code)
    form = await request.form()
    action = form.get("action")
    store = LeadStore(pt.platform.store_for(PLUGIN))
    tour = state.tour if state else None
    if action == "decline":
        await store.erase(enterprise, lead_id)
        if lead.status == "active" and state is not None:
            ctx = pt.context(state)
            await ctx.publish(
                ctx.event(CareerLeadErased, lead=lead_id, by="guardian", visitor=None, group=None)
            )
        return _private(pt.page("career/erased.html", tour=tour, title=pt._("Erased")))
    if action != "confirm" or form.get("agree") != "yes":
        raise HTTPException(
            status_code=400,
            detail=pt._("Please tick the box to give your consent, or choose to erase the data."),
        )
    if lead.status == "pending_guardian":
        if state is None:
            raise NotFoundException(pt._("This tour no longer exists; the data will expire."))
        ctx = pt.context(state)
        retention = await _retention_days(ctx)
        await store.confirm(lead, float(retention * DAY))
        await ctx.publish(
            ctx.event(
                CareerLeadCreated,
                id=hashlib.sha256(f"lead-created:{lead.id}".encode()).hexdigest()[:32],
                lead=lead.id,
                visitor=None,
                group=None,
            )
        )
    return _private(
        pt.page(
            "career/guardian.html",
            title=pt._("Parent or guardian consent"),
            action="",
            confirmed=True,
            consent_text="",
            guardian_text="",
            consent_version=lead.consent.version,
            **_lead_values(pt, lead, state),
        )
    )


# --- Profession page (a card on its own, e.g. from the finish page) --------------------------


@get("/t/{enterprise:str}/{tour_id:str}/professions/{profession_id:str}")
async def profession_page(
    pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], profession_id: FromPath[str]
) -> Response[str]:
    state = await pt.tour(enterprise, tour_id)
    config = _config(state)
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
        base=_tour_base(state),
        leads=config.leads_enabled,
    )


ROUTES = [
    quiz_form,
    quiz_submit,
    profile_page,
    contact_form,
    contact_submit,
    my_data,
    my_data_erase,
    guardian_form,
    guardian_answer,
    profession_page,
]
