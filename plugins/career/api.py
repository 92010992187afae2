"""The HR API under ``/p/career/api/``: an enterprise's leads, for its HR tokens only.

Every route needs ``Authorization: Bearer <token>`` of a token with role ``hr`` (or
``admin``) of the enterprise in the path: another enterprise's token gets 404, a token
with another role 403, no token 401. Errors are JSON. The bearer token replaces the
form CSRF check (a browser never attaches one by itself).

- ``GET  /p/career/api/<enterprise>/leads``                 the leads (JSON)
- ``GET  /p/career/api/<enterprise>/leads.csv?sep=semicolon`` CSV, UTF-8 with BOM
- ``GET  /p/career/api/<enterprise>/leads/<lead>``          one lead
- ``DELETE /p/career/api/<enterprise>/leads/<lead>``        erase it (purge, no history)
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated, Any

from litestar import Request, Response, Router, delete, get
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException
from litestar.params import FromPath, QueryParameter
from promtour.auth import principal_from_request
from promtour.bus import BusUnavailable, Conflict
from promtour.context import PluginContext
from promtour.errors import PromtourError
from promtour.models import pick_text

from .config import CareerConfig
from .events import CareerLeadErased
from .leads import Lead, LeadOut, LeadStore, leads_csv

__all__ = ["api_router"]

PLUGIN = "career"
log = logging.getLogger("promtour.plugins.career")


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
    elif isinstance(exc, BusUnavailable | Conflict):
        status, detail = 503, "The service is briefly unavailable; please retry."
    else:
        log.exception("career API error on %s", request.url.path)
        status, detail = 500, "Something went wrong on our side."
    return Response({"status_code": status, "detail": detail}, status_code=status)


async def _authorize(request: Request[Any, Any, Any], enterprise: str) -> None:
    principal = await principal_from_request(request)
    principal.require(enterprise, "hr")


class _Titles:
    """Profession titles of leads, in each tour's default language (tours cached)."""

    def __init__(self, request: Request[Any, Any, Any]) -> None:
        self.platform = request.app.state.platform
        self.configs: dict[str, tuple[CareerConfig | None, str]] = {}

    async def load(self, leads: list[Lead]) -> None:
        for lead in leads:
            key = f"{lead.enterprise}.{lead.tour}"
            if key not in self.configs:
                state = await self.platform.tours.get(key)
                config = state.configs.get(PLUGIN) if state else None
                lang = state.tour.default_language if state else "ru"
                self.configs[key] = (config, lang)

    def __call__(self, lead: Lead) -> list[str]:
        config, lang = self.configs.get(f"{lead.enterprise}.{lead.tour}", (None, "ru"))
        titles = []
        for pid in lead.professions:
            p = config.profession(pid) if config else None
            titles.append(pick_text(p.title, lang, pid) if p else pid)
        return titles


def _store(request: Request[Any, Any, Any]) -> LeadStore:
    return LeadStore(request.app.state.platform.store_for(PLUGIN))


@get("/{enterprise:str}/leads", summary="The enterprise's consented career leads")
async def list_leads(request: Request[Any, Any, Any], enterprise: FromPath[str]) -> list[LeadOut]:
    await _authorize(request, enterprise)
    leads = await _store(request).list_active(enterprise)
    titles = _Titles(request)
    await titles.load(leads)
    return [LeadOut.of(lead, titles(lead)) for lead in leads]


@get(
    "/{enterprise:str}/leads.csv",
    summary="The leads as CSV (UTF-8 with BOM; sep=semicolon for a Russian Excel)",
)
async def export_leads(
    request: Request[Any, Any, Any],
    enterprise: FromPath[str],
    sep: Annotated[str, QueryParameter(name="sep")] = "comma",
) -> Response[bytes]:
    await _authorize(request, enterprise)
    separators = {"comma": ",", ",": ",", "semicolon": ";", ";": ";"}
    if sep not in separators:
        raise HTTPException(status_code=400, detail="sep must be 'comma' or 'semicolon'.")
    leads = await _store(request).list_active(enterprise)
    titles = _Titles(request)
    await titles.load(leads)
    body = leads_csv(leads, titles, separator=separators[sep])
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
async def get_lead(
    request: Request[Any, Any, Any], enterprise: FromPath[str], lead_id: FromPath[str]
) -> LeadOut:
    await _authorize(request, enterprise)
    lead = await _store(request).active(enterprise, lead_id)
    if lead is None:
        raise NotFoundException("No such lead (it may have been erased or expired).")
    titles = _Titles(request)
    await titles.load([lead])
    return LeadOut.of(lead, titles(lead))


@delete("/{enterprise:str}/leads/{lead_id:str}", summary="Erase a lead and its history")
async def erase_lead(
    request: Request[Any, Any, Any], enterprise: FromPath[str], lead_id: FromPath[str]
) -> None:
    await _authorize(request, enterprise)
    store = _store(request)
    lead = await store.active(enterprise, lead_id)
    if lead is None or not await store.erase(enterprise, lead_id):
        raise NotFoundException("No such lead (it may have been erased or expired).")
    platform = request.app.state.platform
    state = await platform.tours.get(f"{enterprise}.{lead.tour}")
    if state is not None:
        ctx = PluginContext(platform, PLUGIN, state)
        await ctx.publish(
            ctx.event(CareerLeadErased, lead=lead_id, by="hr", visitor=None, group=None)
        )


def api_router() -> Router:
    return Router(
        path="/api",
        route_handlers=[list_leads, export_leads, get_lead, erase_lead],
        before_request=api_guard,
        # The closest handler of the most specific class wins: name every class the
        # app-level (HTML) handlers name, so that this API always answers in JSON.
        exception_handlers={
            HTTPException: _json_error,
            BusUnavailable: _json_error,
            Conflict: _json_error,
            PromtourError: _json_error,
            Exception: _json_error,
        },
        tags=["career"],
    )
