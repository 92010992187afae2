"""What the visitor pages of the career plugin share: the tour's config, URLs, the
enterprise's name, and the headers of pages whose URL holds a secret."""

from __future__ import annotations

from typing import Any

from litestar import Response
from litestar.exceptions import NotFoundException
from promtour.plugin import PluginContext, RequestContext, TourState, pick_text

from ..config import CareerConfig

__all__ = [
    "PLUGIN",
    "config_of",
    "enterprise_name",
    "leads_config",
    "private",
    "tour_base",
    "tour_or_none",
]

PLUGIN = "career"


def config_of(state: TourState) -> CareerConfig:
    config: CareerConfig = state.configs[PLUGIN]
    return config


def tour_base(state: TourState) -> str:
    """The path of the tour's career pages (``/p/career/t/<enterprise>/<tour>``)."""
    return f"/p/{PLUGIN}/t/{state.tour.enterprise}/{state.tour.id}"


async def enterprise_name(ctx: PluginContext, lang: str) -> str:
    enterprise = await ctx.enterprise()
    if enterprise is None:
        return ctx.tour.enterprise
    return pick_text(enterprise.name, lang, enterprise.id)


async def tour_or_none(pt: RequestContext, enterprise: str, tour_id: str) -> TourState | None:
    """The tour of a lead, or None when it was deleted (the lead lives on until it
    expires) or no longer uses the plugin."""
    try:
        return await pt.tour(enterprise, tour_id)
    except NotFoundException:
        return None


def leads_config(pt: RequestContext, state: TourState) -> CareerConfig:
    """The tour's config, or a 404 when the tour collects no contacts."""
    config = config_of(state)
    if not config.leads_enabled:
        raise NotFoundException(pt._("This tour does not collect contacts."))
    return config


def private(response: Response[Any]) -> Response[Any]:
    """A page whose path holds a secret: never send it on to another site."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
