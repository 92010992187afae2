"""The operator's dashboard: aggregates only, small cells masked.

Figures per route, enterprise and month (UTC): visitors with the enterprise's stamp
(split into school groups and individual visitors), tier completions and
redemptions. Counted from the passports and rewards in the plugin's store when the
dashboard is asked for (a scan: fine for a region's season, see docs/routes.md). No
visitor id, code or passport leaves this module; a cell under :data:`MIN_CELL`
shows as "< 5", in the page, the JSON and the CSV alike.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

import msgspec
from promtour.plugin import PluginStore, pick_text

from .records import Passport, Reward, Route

__all__ = ["MIN_CELL", "Report", "build", "mask", "masked", "names", "to_csv"]

MIN_CELL = 5


class Row(msgspec.Struct, kw_only=True):
    route: str
    enterprise: str
    month: str
    stamps: int = 0
    groups: int = 0
    individual: int = 0
    tiers: int = 0
    redemptions: int = 0


class Report(msgspec.Struct, kw_only=True):
    rows: list[Row]
    #: Per route: visitors with at least one stamp, and tier completions per need.
    routes: dict[str, dict[str, int]]


def mask(value: int) -> str:
    """A count as shown: "< 5" for 1 to 4 (a few visitors could be recognised)."""
    return f"< {MIN_CELL}" if 0 < value < MIN_CELL else str(value)


async def _operator_routes(store: PluginStore, operator: str) -> list[Route]:
    ids = await store.get(f"opr.{operator}", list[str]) or []
    routes = [await store.get(f"route.{r}", Route) for r in ids]
    return [r for r in routes if r is not None and r.operator == operator]


async def build(store: PluginStore, operator: str) -> Report:
    routes = {r.id: r for r in await _operator_routes(store, operator)}
    cells: dict[tuple[str, str, str], Row] = {}
    visitors: Counter[str] = Counter()
    completions: Counter[tuple[str, int]] = Counter()

    def row(route: str, enterprise: str, month: str) -> Row:
        key = (route, enterprise, month)
        if key not in cells:
            cells[key] = Row(route=route, enterprise=enterprise, month=month)
        return cells[key]

    for key in await store.keys("pp."):
        passport = await store.get(key, Passport)
        if passport is None:
            continue
        for route_id in {s.route for s in passport.stamps} & routes.keys():
            visitors[route_id] += 1
        for stamp in passport.stamps:
            if stamp.route not in routes:
                continue
            r = row(stamp.route, stamp.enterprise, stamp.time.strftime("%Y-%m"))
            r.stamps += 1
            if passport.group:
                r.groups += 1
            else:
                r.individual += 1
        for tier in passport.tiers:
            if tier.route not in routes:
                continue
            completions[(tier.route, tier.need)] += 1
    for key in await store.keys("reward."):
        reward = await store.get(key, Reward)
        if reward is None or reward.route not in routes:
            continue
        month = reward.created.strftime("%Y-%m")
        row(reward.route, reward.enterprise, month).tiers += 1
        if reward.redeemed is not None:
            by = reward.redeemed_by.partition(":")
            enterprise = by[2] if by[0] == "enterprise" else reward.enterprise
            row(reward.route, enterprise, reward.redeemed.strftime("%Y-%m")).redemptions += 1
    summary = {
        route_id: {
            "visitors": visitors[route_id],
            **{
                f"tier_{need}": completions[(route_id, need)]
                for need in sorted({t.need for t in route.tiers})
            },
        }
        for route_id, route in routes.items()
    }
    rows = sorted(cells.values(), key=lambda r: (r.route, r.month, r.enterprise))
    return Report(rows=rows, routes=summary)


def masked(report: Report) -> dict[str, Any]:
    """The report as JSON with every count masked."""
    fields = ("stamps", "groups", "individual", "tiers", "redemptions")
    return {
        "rows": [
            {
                "route": r.route,
                "enterprise": r.enterprise,
                "month": r.month,
                **{f: mask(getattr(r, f)) for f in fields},
            }
            for r in report.rows
        ],
        "routes": {
            k: {n: mask(v) for n, v in counts.items()} for k, counts in report.routes.items()
        },
    }


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "route",
            "enterprise",
            "month",
            "stamps",
            "school_groups",
            "individual",
            "tier_completions",
            "redemptions",
        ]
    )
    for r in report.rows:
        writer.writerow(
            [
                r.route,
                r.enterprise,
                r.month,
                mask(r.stamps),
                mask(r.groups),
                mask(r.individual),
                mask(r.tiers),
                mask(r.redemptions),
            ]
        )
    return out.getvalue()


async def names(pt: Any, store: PluginStore, operator: str) -> dict[str, str]:
    """Display names of the operator's routes and their enterprises."""
    out: dict[str, str] = {}
    for route in await _operator_routes(store, operator):
        out[route.id] = pick_text(route.title, pt.lang, route.id)
        for member in route.members:
            if member.enterprise not in out:
                enterprise = await pt.enterprise(member.enterprise).enterprise()
                out[member.enterprise] = pick_text(
                    enterprise.name if enterprise else None, pt.lang, member.enterprise
                )
    return out
