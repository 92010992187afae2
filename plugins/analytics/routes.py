"""Pages, CSV and the JSON API, all under ``/p/analytics/``, for the enterprise's staff.

Every route names the enterprise in its path and checks the caller first with
``pt.require_role(enterprise, "analyst")``: ``admin`` always may, ``editor`` is granted
the role, a token or console session of another enterprise gets 404. The tour id
``_all`` (never a tour's id: those start with a letter or digit) means the whole
enterprise, for the overview.

- ``/p/analytics/{enterprise}/``                          the enterprise's tours
- ``/p/analytics/{enterprise}/{tour}/{section}``          a page (overview, funnel, ...)
- ``/p/analytics/{enterprise}/{tour}/csv/{table}``        one table as CSV
- ``/p/analytics/api/{enterprise}/{tour}/{section}``      the same tables as JSON

Query: ``from``, ``to`` (ISO dates, default the last 30 days), ``period`` (day, week,
month) and, for CSV, ``sep`` (``comma`` or ``semicolon``).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Response, get
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from promtour.plugin import PT, PluginContext, RequestContext, Tour, pick_text

from .charts import bar_chart
from .figures import SECTIONS, overview, section
from .reading import Loaded, Range, load_range, merge
from .tables import Table, columns, masked, to_csv

__all__ = ["ROUTES"]

ROLE = "analyst"
ALL = "_all"

TITLES = {
    "overview": "Overview",
    "funnel": "Funnel",
    "flow": "Dwell and flow",
    "plugins": "Audio, quest and career",
    "live": "Live now",
}


#: The section that builds each table (a CSV computes only that one).
TABLE_SECTION = {
    "tours": "overview",
    "summary": "overview",
    "periods": "overview",
    "languages": "overview",
    "methods": "overview",
    "funnel": "funnel",
    "dwell": "flow",
    "transitions": "flow",
    "audio": "plugins",
    "missions": "plugins",
    "quest": "plugins",
    "types": "plugins",
    "codes": "plugins",
    "professions": "plugins",
    "live": "live",
}


def _span(pt: RequestContext) -> Range:
    q = pt.request.query_params
    return Range.parse(q.get("from"), q.get("to"), q.get("period"), datetime.now(UTC).date())


async def _tables(
    pt: RequestContext, enterprise: str, tour_id: str, name: str
) -> tuple[Tour | None, list[Table], Range]:
    """The caller's right is checked here, before anything is read."""
    await pt.require_role(enterprise, ROLE)
    if name not in SECTIONS:
        raise NotFoundException("There is no such section.")
    span = _span(pt)
    lang = pt.lang
    if tour_id == ALL:
        if name != "overview":
            raise NotFoundException("Only the overview covers the whole enterprise.")
        return None, await _enterprise_tables(pt, enterprise, span), span
    ctx = await _tour(pt, enterprise, tour_id)
    tables = await section(name, ctx.tour_store, ctx.tour, span, lang, time.time(), pt._)
    return ctx.tour, tables, span


async def _tour(pt: RequestContext, enterprise: str, tour_id: str) -> PluginContext:
    ctx = await pt.enterprise(enterprise).tour(tour_id)
    if ctx is None or not ctx.enabled:
        raise NotFoundException("This tour has no analytics.")
    return ctx


async def _enterprise_tables(pt: RequestContext, enterprise: str, span: Range) -> list[Table]:
    loaded: list[Loaded] = []
    per_tour: list[list[Any]] = []
    for ctx in sorted(pt.enterprise(enterprise).tours(), key=lambda c: c.tour.id):
        tour_figures = await load_range(ctx.tour_store, span)
        loaded.append(tour_figures)
        total = tour_figures.total
        per_tour.append(
            [
                pick_text(ctx.tour.name, pt.lang, ctx.tour.id),
                masked(total.visitors),
                masked(total.scans),
                masked(total.finishes),
            ]
        )
    tours = Table(
        id="tours",
        title=pt._("Tours"),
        columns=columns(
            ("tour", pt._("Tour"), "text"),
            ("visitors", pt._("Visitors")),
            ("scans", pt._("Scans")),
            ("finishes", pt._("Finishes")),
        ),
        rows=per_tour,
        chart=1,
    )
    everything = Loaded(merge(x.total for x in loaded), [r for x in loaded for r in x.rows])
    return [tours, *overview(everything, span, pt._)]


def _query(pt: RequestContext, **changes: str) -> str:
    params = {k: v for k, v in pt.request.query_params.items() if k in ("from", "to", "period")}
    params.update(changes)
    return "?" + urlencode(params) if params else ""


@get("/{enterprise:str}/", summary="Analytics: the enterprise's tours", include_in_schema=False)
async def home(pt: PT, enterprise: FromPath[str]) -> Response[Any]:
    return await _page(pt, enterprise, ALL, "overview")


@get(
    "/{enterprise:str}/{tour_id:str}/{name:str}",
    summary="Analytics page of a tour",
    include_in_schema=False,
)
async def page(
    pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], name: FromPath[str]
) -> Response[Any]:
    return await _page(pt, enterprise, tour_id, name)


async def _page(pt: RequestContext, enterprise: str, tour_id: str, name: str) -> Response[Any]:
    tour, tables, span = await _tables(pt, enterprise, tour_id, name)
    tours = sorted(pt.enterprise(enterprise).tours(), key=lambda c: c.tour.id)
    charts = {
        t.id: bar_chart(t, desc=pt._("The figures are in the table next to the chart."))
        for t in tables
    }
    title = pt._(TITLES[name])
    heading = pick_text(tour.name, pt.lang, tour.id) if tour else pt._("All tours")
    return pt.page(
        "analytics/page.html",
        title=f"{title} · {heading}",
        heading=heading,
        section_title=title,
        section=name,
        sections=[(s, pt._(TITLES[s])) for s in SECTIONS],
        tables=tables,
        charts=charts,
        span=span,
        enterprise=enterprise,
        tour_id=tour_id,
        tours=[(c.tour.id, pick_text(c.tour.name, pt.lang, c.tour.id)) for c in tours],
        query=_query(pt),
        base=f"/p/analytics/{enterprise}",
        refresh=name == "live",
    )


@get(
    "/{enterprise:str}/{tour_id:str}/csv/{table_id:str}",
    summary="One analytics table as CSV (UTF-8 with BOM; sep=semicolon for a Russian Excel)",
)
async def table_csv(
    pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], table_id: FromPath[str]
) -> Response[bytes]:
    await pt.require_role(enterprise, ROLE)
    sep = pt.request.query_params.get("sep", "comma")
    separators = {"comma": ",", ",": ",", "semicolon": ";", ";": ";"}
    if sep not in separators:
        raise HTTPException(status_code=400, detail="sep must be 'comma' or 'semicolon'.")
    name = TABLE_SECTION.get(table_id)
    if name is not None and (tour_id != ALL or name == "overview"):
        _, tables, span = await _tables(pt, enterprise, tour_id, name)
        found = next((t for t in tables if t.id == table_id), None)
        if found is not None:
            filename = f"{enterprise}-{tour_id}-{table_id}-{span.start}-{span.end}.csv"
            return pt.finish(
                Response(
                    to_csv(found, separators[sep]),
                    media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'},
                )
            )
    raise NotFoundException("There is no such table.")


@get(
    "/api/{enterprise:str}/{tour_id:str}/{name:str}",
    summary="Analytics figures of a tour (or _all: the enterprise) as JSON tables",
    description=(
        "name: overview, funnel, flow, plugins or live. Query: from, to (ISO dates), "
        'period (day, week, month). Cells of fewer than 5 visitors are the text "< 5".'
    ),
)
async def api_section(
    pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], name: FromPath[str]
) -> Response[Any]:
    _, tables, span = await _tables(pt, enterprise, tour_id, name)
    return pt.finish(
        Response(
            {
                "enterprise": enterprise,
                "tour": tour_id,
                "section": name,
                "from": span.start.isoformat(),
                "to": span.end.isoformat(),
                "period": span.period,
                "tables": [
                    {
                        "id": t.id,
                        "title": t.title,
                        "columns": [c.key for c in t.columns],
                        "rows": t.records(),
                    }
                    for t in tables
                ],
            }
        )
    )


ROUTES = [home, page, table_csv, api_section]
