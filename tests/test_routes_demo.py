"""`promtour demo` imports the second enterprise and the demo route across the two."""

from __future__ import annotations

import httpx
from promtour._server import import_demo
from promtour.testing import station_path


async def test_demo_route_collects_two_stamps(make_platform, serve_app):
    setup = await make_platform(consumers=False)
    keys = await import_demo(setup)
    assert {"uralpress.main", "uralbread.bread"} <= set(keys)
    await import_demo(setup)  # idempotent: every start imports it again
    server = serve_app()
    main = (await setup.tours.refresh("uralpress.main")).tour
    bread = (await setup.tours.refresh("uralbread.bread")).tour
    async with httpx.AsyncClient(
        base_url=server.url, follow_redirects=True, headers={"Accept-Language": "en"}
    ) as phone:
        await phone.get(station_path(main, "warehouse"))
        await phone.get(station_path(bread, "oven"))
        import asyncio

        for _ in range(100):
            data = (
                await phone.get("/p/routes/r/demo-route", headers={"Accept": "application/json"})
            ).json()
            if data["stamps"] == 2:
                break
            await asyncio.sleep(0.1)
        assert data["stamps"] == 2 and data["of"] == 2
        assert sorted(r["need"] for r in data["rewards"]) == [1, 2]
