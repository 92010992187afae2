"""The pages behind a lead's secret links: the visitor's own data (to see and erase
it) and the guardian's confirmation of a minor's lead. Every erasure goes through
:meth:`LeadStore.erase`, which erases the stored bytes, and is announced (without a
name) when the enterprise had the lead."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from litestar import Response, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from promtour.plugin import PT, RequestContext, TourState, pick_text

from ..events import CareerLeadCreated, CareerLeadErased
from ..forms import AGE_LABELS
from ..leads import DAY, Lead, LeadStore, secret_matches
from .common import PLUGIN, config_of, private, tour_or_none

__all__ = ["ROUTES"]


async def _lead_for(
    pt: RequestContext, enterprise: str, lead_id: str, secret: str, *, guardian: bool
) -> tuple[Lead, TourState | None]:
    """The lead whose visitor secret (or guardian code) is ``secret``, and its tour."""
    lead = await LeadStore(pt.enterprise(enterprise).store).get(enterprise, lead_id)
    digest = "" if lead is None else lead.guardian_code_sha256 if guardian else lead.secret_sha256
    if lead is None or not secret_matches(secret, digest):
        raise NotFoundException(
            pt._("This confirmation link is not valid, or it has expired, or the data was erased.")
            if guardian
            else pt._("This link is not valid, or the data was already erased or has expired.")
        )
    return lead, await tour_or_none(pt, enterprise, lead.tour)


def _lead_values(pt: RequestContext, lead: Lead, state: TourState | None) -> dict[str, Any]:
    lang = pt.lang_for(state.tour if state else None)
    config = config_of(state) if state else None
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


async def _erase(
    pt: RequestContext,
    lead: Lead,
    state: TourState | None,
    by: Literal["visitor", "guardian"],
) -> Response[Any]:
    await LeadStore(pt.enterprise(lead.enterprise).store).erase(lead.enterprise, lead.id)
    if lead.status == "active" and state is not None:
        ctx = pt.context(state)
        await ctx.publish(
            ctx.event(CareerLeadErased, lead=lead.id, by=by, visitor=None, group=None)
        )
    tour = state.tour if state else None
    return private(pt.page("career/erased.html", tour=tour, title=pt._("Erased")))


@get("/my/{enterprise:str}/{lead_id:str}/{secret:str}")
async def my_data(
    pt: PT, enterprise: FromPath[str], lead_id: FromPath[str], secret: FromPath[str]
) -> Response[str]:
    lead, state = await _lead_for(pt, enterprise, lead_id, secret, guardian=False)
    return private(
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
    lead, state = await _lead_for(pt, enterprise, lead_id, secret, guardian=False)
    return await _erase(pt, lead, state, "visitor")


@get("/guardian/{enterprise:str}/{lead_id:str}/{code:str}")
async def guardian_form(
    pt: PT, enterprise: FromPath[str], lead_id: FromPath[str], code: FromPath[str]
) -> Response[str]:
    lead, state = await _lead_for(pt, enterprise, lead_id, code, guardian=True)
    lang = pt.lang_for(state.tour if state else None)
    config = config_of(state) if state else None
    return private(
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
    pt: PT, enterprise: FromPath[str], lead_id: FromPath[str], code: FromPath[str]
) -> Response[str]:
    lead, state = await _lead_for(pt, enterprise, lead_id, code, guardian=True)
    form = await pt.request.form()
    action = form.get("action")
    if action == "decline":
        return await _erase(pt, lead, state, "guardian")
    if action != "confirm" or form.get("agree") != "yes":
        raise HTTPException(
            status_code=400,
            detail=pt._("Please tick the box to give your consent, or choose to erase the data."),
        )
    if lead.status == "pending_guardian":
        if state is None:
            raise NotFoundException(pt._("This tour no longer exists; the data will expire."))
        ctx = pt.context(state)
        retention = config_of(state).lead_retention_days
        await LeadStore(ctx.store).confirm(lead, float(retention * DAY))
        await ctx.publish(
            ctx.event(
                CareerLeadCreated,
                id=hashlib.sha256(f"lead-created:{lead.id}".encode()).hexdigest()[:32],
                lead=lead.id,
                visitor=None,
                group=None,
            )
        )
    return private(
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


ROUTES = [my_data, my_data_erase, guardian_form, guardian_answer]
