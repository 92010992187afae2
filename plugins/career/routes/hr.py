"""The HR API under ``/p/career/api/``: an enterprise's leads, for its HR tokens only.

Every route needs ``Authorization: Bearer <token>`` of a token with role ``hr`` (or
``admin``) of the enterprise in the path: another enterprise's token gets 404, a token
with another role 403, no token 401. Errors are JSON. The bearer token replaces the
form CSRF check (a browser never attaches one by itself).

- ``GET  /p/career/api/<enterprise>/leads``                 the leads (JSON)
- ``GET  /p/career/api/<enterprise>/leads.csv?sep=semicolon`` CSV, UTF-8 with BOM
- ``GET  /p/career/api/<enterprise>/leads/<lead>``          one lead
- ``DELETE /p/career/api/<enterprise>/leads/<lead>``        erase it (bytes and history)
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated, Any

from litestar import Request, Response, Router, delete, get
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException
from litestar.params import FromPath, QueryParameter
from promtour.plugin import (
    PT,
    Conflict,
    EnterpriseContext,
    PromtourError,
    RequestContext,
    StoreUnavailable,
    Tour,
    pick_text,
)

from ..config import CareerConfig
from ..events import CareerLeadErased
from ..export import leads_csv
from ..leads import Lead, LeadOut, LeadStore

__all__ = ["SEPARATORS", "Titles", "api_router", "erase_by_hr", "leads_csv_response"]

log = logging.getLogger("promtour.plugins.career")
NO_LEAD = "No such lead (it may have been erased or expired)."
#: The ``sep`` query values of a CSV download: ``semicolon`` for a Russian-locale Excel.
SEPARATORS = {"comma": ",", ",": ",", "semicolon": ";", ";": ";"}


async def api_guard(request: Request[Any, Any, Any]) -> None:
    """``before_request`` of the API (in place of the core's CSRF guard): every route
    needs a bearer token, which a browser never attaches by itself, so a request
    without one is refused here (401) and one with one needs no CSRF token."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException("An API token is required: Authorization: Bearer <token>.")


def _json_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, HTTPException):
        status, detail = exc.status_code, str(exc.detail)
    elif isinstance(exc, PromtourError):
        status, detail = 400, str(exc)
    elif isinstance(exc, StoreUnavailable | Conflict):
        status, detail = 503, "The service is briefly unavailable; please retry."
    else:
        log.exception("career API error on %s", request.url.path)
        status, detail = 500, "Something went wrong on our side."
    return Response({"status_code": status, "detail": detail}, status_code=status)


async def _hr(pt: RequestContext, enterprise: str) -> EnterpriseContext:
    """The enterprise's context, once the caller proved to be its HR (or admin)."""
    await pt.require_role(enterprise, "hr")
    return pt.enterprise(enterprise)


class Titles:
    """Profession and tour titles of leads, in ``lang`` or else each tour's default
    language (the tours read once per request)."""

    def __init__(self, ent: EnterpriseContext, lang: str = "") -> None:
        self.ent = ent
        self.lang = lang
        self.configs: dict[str, tuple[CareerConfig | None, str, Tour | None]] = {}

    async def load(self, leads: list[Lead]) -> Titles:
        for lead in leads:
            if lead.tour not in self.configs:
                ctx = await self.ent.tour(lead.tour)
                config = ctx.config if ctx is not None and ctx.enabled else None
                tour = ctx.tour if ctx is not None else None
                lang = self.lang or (tour.default_language if tour is not None else "ru")
                self.configs[lead.tour] = (config, lang, tour)
        return self

    def __call__(self, lead: Lead) -> list[str]:
        config, lang, _ = self.configs.get(lead.tour, (None, self.lang or "ru", None))
        titles = []
        for pid in lead.professions:
            p = config.profession(pid) if config else None
            titles.append(pick_text(p.title, lang, pid) if p else pid)
        return titles

    def tour_name(self, lead: Lead) -> str:
        """The tour's name, or its id once the tour is deleted (a lead outlives it)."""
        _, lang, tour = self.configs.get(lead.tour, (None, self.lang or "ru", None))
        return pick_text(tour.name, lang, lead.tour) if tour is not None else lead.tour


@get("/{enterprise:str}/leads", summary="The enterprise's consented career leads")
async def list_leads(pt: PT, enterprise: FromPath[str]) -> list[LeadOut]:
    ent = await _hr(pt, enterprise)
    leads = await LeadStore(ent.store).list_active(enterprise)
    titles = await Titles(ent).load(leads)
    return [LeadOut.of(lead, titles(lead)) for lead in leads]


@get(
    "/{enterprise:str}/leads.csv",
    summary="The leads as CSV (UTF-8 with BOM; sep=semicolon for a Russian Excel)",
)
async def export_leads(
    pt: PT,
    enterprise: FromPath[str],
    sep: Annotated[str, QueryParameter(name="sep")] = "comma",
) -> Response[bytes]:
    ent = await _hr(pt, enterprise)
    if sep not in SEPARATORS:
        raise HTTPException(status_code=400, detail="sep must be 'comma' or 'semicolon'.")
    return await leads_csv_response(ent, enterprise, SEPARATORS[sep])


async def leads_csv_response(
    ent: EnterpriseContext, enterprise: str, separator: str
) -> Response[bytes]:
    """The enterprise's leads as a CSV download (the API's and the HR page's), for a
    caller already checked as its HR."""
    leads = await LeadStore(ent.store).list_active(enterprise)
    titles = await Titles(ent).load(leads)
    body = leads_csv(leads, titles, separator=separator)
    filename = f"leads-{enterprise}-{date.today().isoformat()}.csv"
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@get("/{enterprise:str}/leads/{lead_id:str}", summary="One lead (e.g. after career_lead_created)")
async def get_lead(pt: PT, enterprise: FromPath[str], lead_id: FromPath[str]) -> LeadOut:
    ent = await _hr(pt, enterprise)
    lead = await LeadStore(ent.store).active(enterprise, lead_id)
    if lead is None:
        raise NotFoundException(NO_LEAD)
    titles = await Titles(ent).load([lead])
    return LeadOut.of(lead, titles(lead))


@delete("/{enterprise:str}/leads/{lead_id:str}", summary="Erase a lead and its history")
async def erase_lead(pt: PT, enterprise: FromPath[str], lead_id: FromPath[str]) -> None:
    ent = await _hr(pt, enterprise)
    if not await erase_by_hr(ent, enterprise, lead_id):
        raise NotFoundException(NO_LEAD)


async def erase_by_hr(ent: EnterpriseContext, enterprise: str, lead_id: str) -> bool:
    """Erase an active lead (its stored bytes and history) and announce it, for a
    caller already checked as the enterprise's HR; False if there is no such lead.
    The API's DELETE and the HR page's button both come here."""
    store = LeadStore(ent.store)
    lead = await store.active(enterprise, lead_id)
    if lead is None or not await store.erase(enterprise, lead_id):
        return False
    ctx = await ent.tour(lead.tour)
    if ctx is not None:
        await ctx.publish(
            ctx.event(CareerLeadErased, lead=lead_id, by="hr", visitor=None, group=None)
        )
    return True


def api_router() -> Router:
    return Router(
        path="/api",
        route_handlers=[list_leads, export_leads, get_lead, erase_lead],
        before_request=api_guard,
        # The closest handler of the most specific class wins: name every class the
        # app-level (HTML) handlers name, so that this API always answers in JSON.
        exception_handlers={
            HTTPException: _json_error,
            StoreUnavailable: _json_error,
            Conflict: _json_error,
            PromtourError: _json_error,
            Exception: _json_error,
        },
        tags=["career"],
    )
