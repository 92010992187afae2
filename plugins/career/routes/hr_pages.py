"""The HR leads pages: the same leads as the HR API, for a person signed in to the
console (the session cookie, not a bearer token), in their language.

- ``GET  /p/career/hr/<enterprise>/leads``               the list, with CSV downloads
- ``GET  /p/career/hr/<enterprise>/leads.csv?sep=...``   the CSV (UTF-8 with BOM)
- ``GET  /p/career/hr/<enterprise>/leads/<lead>``        one lead
- ``GET  /p/career/hr/<enterprise>/leads/<lead>/erase``  "Erase it?" (the confirmation)
- ``POST /p/career/hr/<enterprise>/leads/<lead>/erase``  erase it (CSRF token)

Every route checks the caller first with ``pt.require_role(enterprise, "hr")`` (admin
always may): another enterprise's session gets 404, another role 403 with a sentence
in its language, no session the console's sign-in page. Listing, CSV and erasure are
the API's own code (:mod:`.hr`): the bytes of an erased lead leave the store's files
the same way. The list is the plugin's ``console_page`` (PluginInfo), so the console
menu links it for those who may open it.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.params import FromPath
from promtour.plugin import PT, EnterpriseContext, RequestContext

from ..forms import AGE_LABELS
from ..leads import Lead, LeadStore
from .common import PLUGIN, private
from .hr import SEPARATORS, Titles, erase_by_hr, leads_csv_response

__all__ = ["LEADS_PAGE", "ROUTES"]

#: The list's address (``{enterprise}`` filled in by the console's menu).
LEADS_PAGE = f"/p/{PLUGIN}/hr/{{enterprise}}/leads"
ROLE = "hr"


class SignIn(Exception):
    """No console session: the person is sent to the sign-in page."""


async def _hr(pt: RequestContext, enterprise: str) -> EnterpriseContext:
    """The enterprise's context once the caller proved to be its HR (or admin)."""
    try:
        await pt.require_role(enterprise, ROLE)
    except NotAuthorizedException:
        raise SignIn from None
    except PermissionDeniedException:
        raise HTTPException(
            status_code=403,
            detail=pt._(
                "Only HR staff and administrators see the contacts left by visitors. "
                "Ask your administrator for access."
            ),
        ) from None
    return pt.enterprise(enterprise)


def _base(enterprise: str) -> str:
    return LEADS_PAGE.replace("{enterprise}", enterprise)


async def _lead(pt: RequestContext, ent: EnterpriseContext, enterprise: str, lead_id: str) -> Lead:
    lead = await LeadStore(ent.store).active(enterprise, lead_id)
    if lead is None:
        raise NotFoundException(
            pt._("There is no such contact: it was erased or its retention period ended.")
        )
    return lead


def _page(pt: RequestContext, template: str, enterprise: str, **values: Any) -> Response[Any]:
    """A page with personal data: never cached, never sent on as a referrer."""
    return private(
        pt.page(
            template,
            base=_base(enterprise),
            console=f"/console/{enterprise}",
            enterprise=enterprise,
            **values,
        )
    )


def _values(pt: RequestContext, lead: Lead, titles: Titles) -> dict[str, Any]:
    return {
        "lead": lead,
        "tour_name": titles.tour_name(lead),
        "profession_titles": titles(lead),
        "age_label": pt._(AGE_LABELS.get(lead.age, lead.age)),
    }


def _signed_out(pt: RequestContext) -> Response[Any]:
    return pt.to_sign_in()


@get("/hr/{enterprise:str}/leads")
async def leads_page(pt: PT, enterprise: FromPath[str]) -> Response[Any]:
    try:
        ent = await _hr(pt, enterprise)
    except SignIn:
        return _signed_out(pt)
    leads = await LeadStore(ent.store).list_active(enterprise)
    titles = await Titles(ent, pt.lang).load(leads)
    done = pt.request.query_params.get("done")
    return _page(
        pt,
        "career/hr_leads.html",
        enterprise,
        title=pt._("Contacts from visitors"),
        rows=[_values(pt, lead, titles) for lead in reversed(leads)],  # newest first
        count=len(leads),
        notice=pt._("The contact was erased.") if done == "erased" else "",
    )


@get("/hr/{enterprise:str}/leads.csv")
async def leads_csv_page(pt: PT, enterprise: FromPath[str]) -> Response[Any]:
    try:
        ent = await _hr(pt, enterprise)
    except SignIn:
        return _signed_out(pt)
    sep = pt.request.query_params.get("sep", "comma")
    if sep not in SEPARATORS:
        raise HTTPException(
            status_code=400, detail=pt._("Choose the comma or the semicolon for the CSV file.")
        )
    return await leads_csv_response(ent, enterprise, SEPARATORS[sep])


async def _lead_page(
    pt: RequestContext, enterprise: str, lead_id: str, *, confirm: bool
) -> Response[Any]:
    """One lead, or the same page asking to confirm its erasure."""
    try:
        ent = await _hr(pt, enterprise)
    except SignIn:
        return _signed_out(pt)
    lead = await _lead(pt, ent, enterprise, lead_id)
    titles = await Titles(ent, pt.lang).load([lead])
    return _page(
        pt,
        "career/hr_lead.html",
        enterprise,
        title=pt._("Erase the contact?") if confirm else lead.name,
        confirm=confirm,
        **_values(pt, lead, titles),
    )


@get("/hr/{enterprise:str}/leads/{lead_id:str}")
async def lead_page(pt: PT, enterprise: FromPath[str], lead_id: FromPath[str]) -> Response[Any]:
    return await _lead_page(pt, enterprise, lead_id, confirm=False)


@get("/hr/{enterprise:str}/leads/{lead_id:str}/erase")
async def erase_page(pt: PT, enterprise: FromPath[str], lead_id: FromPath[str]) -> Response[Any]:
    return await _lead_page(pt, enterprise, lead_id, confirm=True)


@post("/hr/{enterprise:str}/leads/{lead_id:str}/erase", status_code=303)
async def erase(pt: PT, enterprise: FromPath[str], lead_id: FromPath[str]) -> Response[Any]:
    try:
        ent = await _hr(pt, enterprise)
    except SignIn:
        return _signed_out(pt)
    if not await erase_by_hr(ent, enterprise, lead_id):
        raise NotFoundException(
            pt._("There is no such contact: it was erased or its retention period ended.")
        )
    return pt.redirect(f"{_base(enterprise)}?done=erased")


ROUTES = [leads_page, leads_csv_page, lead_page, erase_page, erase]
