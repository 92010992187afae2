"""The demo route: two demo enterprises' tours, accepted, with two tiers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from promtour.plugin import EnterpriseContext, hookimpl, utcnow

from .records import Member, Operator, Route, Tier, create_operator, create_operator_token

__all__ = ["DEMO_OPERATOR", "DEMO_ROUTE", "import_demo"]

DEMO_OPERATOR = "demo-region"
DEMO_ROUTE = "demo-route"


@hookimpl(specname="promtour_import_demo")
async def import_demo(ctx: EnterpriseContext, demo_dir: Path) -> None:
    store = ctx.store
    tours = [("uralpress", "main"), ("uralbread", "bread")]
    if await create_operator(
        store,
        Operator(id=DEMO_OPERATOR, name={"ru": "Демо-регион", "en": "Demo region"}),
    ):
        _, secret = await create_operator_token(store, DEMO_OPERATOR, "demo")
        print(f"\nDemo route operator token (shown once): {secret}", flush=True)
    year = utcnow().year
    route = Route(
        id=DEMO_ROUTE,
        operator=DEMO_OPERATOR,
        title={"ru": "Демо-маршрут: от металла до хлеба", "en": "Demo route: from steel to bread"},
        description={
            "ru": "Два предприятия демо-региона. Получите штамп на каждом и заберите награду.",
            "en": "Two enterprises of the demo region. Collect a stamp at each and claim a reward.",
        },
        regions=["Демо-область"],
        season_from=date(year - 1, 1, 1),
        season_to=date(year + 1, 12, 31),
        stamp="check_in",
        tiers=[
            Tier(need=1, reward={"ru": "Значок маршрута", "en": "The route's badge"}),
            Tier(
                need=2,
                reward={
                    "ru": "Сертификат маршрута и магнит",
                    "en": "The route's certificate and a magnet",
                },
            ),
        ],
        members=[
            Member(enterprise=e, tour=t, status="accepted", changed=utcnow().replace(year=year - 1))
            for e, t in tours
        ],
    )
    if await store.create(f"route.{DEMO_ROUTE}", route):
        await store.put(f"opr.{DEMO_OPERATOR}", [DEMO_ROUTE])
        for enterprise, tour in tours:
            await store.update(
                f"idx.{enterprise}.{tour}",
                list[str],
                lambda ids: sorted({*(ids or []), DEMO_ROUTE}),
            )
    print(f"Demo route: /p/routes/r/{DEMO_ROUTE}", flush=True)
