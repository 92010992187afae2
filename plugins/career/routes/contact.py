"""The lead form: consent (a guardian's too under 18), a stored lead with its expiry,
and the visitor's private link to see and erase it.

Bad input re-renders the form with the visitor's values and a message beside each
field (status 400), so nothing typed is lost. Sending is limited per visitor and per
client address (:data:`LEAD_LIMIT`), so a fresh cookie per request gets no further.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from litestar import Response, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from promtour.plugin import (
    PT,
    RateLimit,
    RequestContext,
    StoreUnavailable,
    TourState,
    pick_text,
    utcnow,
)

from ..config import AGE_BRACKETS, CareerConfig, Profession
from ..events import CareerLeadCreated
from ..forms import AGE_LABELS, LeadInput, check_lead, parse_lead_form
from ..leads import ConsentRecord, Guardian, Lead, LeadStore, lead_id_for, new_secret, ttl_for
from ..profile import rank_professions
from ..visitors import load_profile
from .common import PLUGIN, enterprise_name, leads_config, tour_base

__all__ = ["LEAD_LIMIT", "ROUTES"]

#: Lead forms per hour: 5 per visitor, and 20 per client address, because a new cookie
#: per request would reset a visitor's count (a school class shares one address, so
#: the address limit leaves room for most of a class).
LEAD_LIMIT = RateLimit(name="career.leads", per_visitor=5, per_address=20, window=3600)


#: Professions listed open on the form; the others are folded under "N more".
SHOWN_PROFESSIONS = 4


async def _ranked(
    pt: RequestContext, state: TourState, config: CareerConfig
) -> tuple[list[Profession], bool]:
    """The tour's professions in the order of the visitor's fit, as the finish page ranks
    them, and whether there was a profile to rank by (else: the catalogue order)."""
    ctx = pt.context(state)
    profile, signals, _ = await load_profile(ctx.tour_store, pt.visitor, config)
    return [m.profession for m in rank_professions(config, profile, signals)], not profile.empty


async def _contact_page(
    pt: RequestContext,
    state: TourState,
    data: LeadInput,
    errors: dict[str, str] | None = None,
    status: int = 200,
    order: tuple[list[Profession], bool] | None = None,
) -> Response[str]:
    lang = pt.lang_for(state.tour)
    config = leads_config(pt, state)
    professions, ranked = order if order is not None else await _ranked(pt, state, config)
    return pt.page(
        "career/contact.html",
        status=status,
        tour=state.tour,
        title=pt._("Hear about internships"),
        data=data,
        errors=errors or {},
        ages=[(a, pt._(AGE_LABELS[a])) for a in AGE_BRACKETS],
        professions=[(p.id, pick_text(p.title, lang, p.id)) for p in professions],
        ranked=ranked,
        shown=SHOWN_PROFESSIONS,
        more_checked=any(p.id in data.professions for p in professions[SHOWN_PROFESSIONS:]),
        consent_text=pick_text(config.consent.text, lang),
        guardian_text=pick_text(config.consent.guardian_text, lang),
        consent_version=config.consent.version,
        guardian_link=config.guardian_confirmation == "link",
        enterprise_name=await enterprise_name(pt.context(state), lang),
        retention_days=config.lead_retention_days,
        action=f"{tour_base(state)}/contact",
        nonce=data.nonce or secrets.token_hex(16),
    )


@get("/t/{enterprise:str}/{tour_id:str}/contact")
async def contact_form(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> Response[str]:
    state = await pt.tour(enterprise, tour_id)
    config = leads_config(pt, state)
    wanted = [p for p in pt.request.query_params.getall("p", []) if config.profession(p)]
    order = await _ranked(pt, state, config)
    professions, ranked = order
    if not wanted and ranked and professions:
        wanted = [professions[0].id]  # the visitor's best fit, ticked (they may untick it)
    return await _contact_page(pt, state, LeadInput(professions=wanted), order=order)


def _consent(text: str, version: str, lang: str) -> ConsentRecord:
    return ConsentRecord(
        version=version,
        lang=lang,
        text_sha256=hashlib.sha256(text.encode()).hexdigest(),
        given=utcnow(),
    )


def _new_lead(
    pt: RequestContext, state: TourState, config: CareerConfig, data: LeadInput
) -> tuple[Lead, float, str, str]:
    """The lead of a checked form, its TTL, the visitor's secret and the guardian's
    confirmation code ("" unless the guardian confirms by link)."""
    lang = pt.lang_for(state.tour)
    now = utcnow()
    pending = data.minor and config.guardian_confirmation == "link"
    ttl = ttl_for(config, pending)
    version = config.consent.version
    guardian = None
    code = code_digest = ""
    if data.minor:
        guardian = Guardian(
            name=data.guardian_name,
            contact=data.guardian_contact,
            consent=_consent(pick_text(config.consent.guardian_text, lang), version, lang),
            method="link" if pending else "form",
            confirmed=None if pending else now,
        )
        if pending:
            code, code_digest = new_secret()
    secret, digest = new_secret()
    lead = Lead(
        id=lead_id_for(pt.visitor, data.nonce),
        enterprise=state.tour.enterprise,
        tour=state.tour.id,
        created=now,
        expires=now + timedelta(seconds=ttl),
        status="pending_guardian" if pending else "active",
        name=data.name,
        contact=data.contact,
        age=data.age,
        place=data.place,
        professions=list(dict.fromkeys(data.professions)),
        lang=lang,
        consent=_consent(pick_text(config.consent.text, lang), version, lang),
        guardian=guardian,
        secret_sha256=digest,
        guardian_code_sha256=code_digest,
    )
    return lead, ttl, secret, code


@post("/t/{enterprise:str}/{tour_id:str}/contact")
async def contact_submit(
    pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]
) -> Response[str]:
    state = await pt.tour(enterprise, tour_id)
    config = leads_config(pt, state)
    data = parse_lead_form(await pt.request.form())
    problems = check_lead(data, config)
    if problems:
        errors: dict[str, str] = {}
        for problem in problems:
            errors.setdefault(problem.field, pt._(problem.message))
        return await _contact_page(pt, state, data, errors, status=400)
    pt.limit(LEAD_LIMIT)

    tour = state.tour
    ctx = pt.context(state)
    leads = LeadStore(ctx.store)
    thanks: dict[str, Any] = {"tour": tour, "title": pt._("Thank you")}
    lead, ttl, secret, code = _new_lead(pt, state, config, data)
    try:
        stored = await leads.get(tour.enterprise, lead.id) is None and await leads.write(lead, ttl)
    except StoreUnavailable:
        raise HTTPException(
            status_code=503,
            detail=pt._(
                "Your details cannot be stored safely right now. Nothing was kept: "
                "please try again later."
            ),
        ) from None
    if not stored:
        return pt.page("career/thanks.html", already=True, **thanks)
    pending = lead.status == "pending_guardian"
    if not pending:
        await ctx.publish(ctx.event(CareerLeadCreated, lead=lead.id, visitor=None, group=None))
    base = f"{str(pt.request.base_url).rstrip('/')}/p/{PLUGIN}"
    response = pt.page(
        "career/thanks.html",
        already=False,
        pending=pending,
        my_url=f"{base}/my/{tour.enterprise}/{lead.id}/{secret}",
        guardian_url=f"{base}/guardian/{tour.enterprise}/{lead.id}/{code}" if pending else "",
        guardian_wait_days=config.guardian_wait_days,
        retention_days=config.lead_retention_days,
        enterprise_name=await enterprise_name(ctx, lead.lang),
        **thanks,
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


ROUTES = [contact_form, contact_submit]
