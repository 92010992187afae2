"""Regional routes: operator -> route -> accept -> stamps -> tier -> reward -> redeem.

Real nats-server, the plugin's real consumer; requests as a visitor's phone, an
enterprise admin and a route operator would make them.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from promtour.auth import create_token
from promtour.events import TourFinished, VisitorCheckedIn
from promtour.plugins import routes as routes_plugin
from promtour.plugins.routes.records import Operator, create_operator, create_operator_token
from promtour.testing import station_path, unique

PLUGINS = [("routes", routes_plugin)]


def today() -> date:
    return date.today()


async def make_operator(setup: Any) -> tuple[str, str]:
    store = setup.store_for("routes")
    operator = unique("op")
    await create_operator(store, Operator(id=operator, name={"en": "Region", "ru": "Регион"}))
    _, secret = await create_operator_token(store, operator, "test")
    return operator, secret


class World:
    """An operator with a route over two enterprises' tours, both accepted."""

    def __init__(self) -> None:
        self.tours: list[Any] = []
        self.admins: list[str] = []
        self.operator = ""
        self.op_secret = ""
        self.route = ""


async def build_world(
    setup: Any,
    server: Any,
    new_tour: Any,
    *,
    stamp: str = "check_in",
    tiers: list[dict[str, Any]] | None = None,
    accept: bool = True,
    season: tuple[date, date] | None = None,
) -> World:
    world = World()
    world.operator, world.op_secret = await make_operator(setup)
    for _ in range(2):
        tour = await new_tour(setup, stations=2)
        _, secret = await create_token(setup.bus, tour.enterprise, "admin", "t")
        world.tours.append(tour)
        world.admins.append(secret)
    world.route = unique("route")
    start, end = season or (today() - timedelta(days=30), today() + timedelta(days=30))
    op = {"Authorization": f"Bearer {world.op_secret}"}
    async with httpx.AsyncClient(base_url=server.url, headers=op) as client:
        made = await client.post(
            f"/p/routes/o/{world.operator}/routes",
            json={
                "id": world.route,
                "title": {"en": "Steel and bread", "ru": "Сталь и хлеб"},
                "regions": ["Test region"],
                "season_from": start.isoformat(),
                "season_to": end.isoformat(),
                "stamp": stamp,
                "tiers": tiers
                if tiers is not None
                else [
                    {"need": 1, "reward": {"en": "A badge", "ru": "Значок"}},
                    {"need": 2, "reward": {"en": "The certificate", "ru": "Сертификат"}},
                ],
            },
        )
        assert made.status_code == 201, made.text
        for tour in world.tours:
            proposed = await client.post(
                f"/p/routes/o/{world.operator}/routes/{world.route}/tours",
                json={"enterprise": tour.enterprise, "tour": tour.id},
            )
            assert proposed.status_code == 201, proposed.text
            assert proposed.json()["status"] == "proposed"
    if accept:
        for tour, secret in zip(world.tours, world.admins, strict=True):
            await decide(server, tour, secret, world.route, "accept")
    return world


async def decide(server: Any, tour: Any, admin: str, route: str, action: str) -> httpx.Response:
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {admin}"}
    ) as client:
        answer = await client.post(f"/p/routes/e/{tour.enterprise}/{route}/{tour.id}/{action}")
    return answer


async def passport_json(client: httpx.AsyncClient, route: str) -> dict[str, Any]:
    answer = await client.get(f"/p/routes/r/{route}", headers={"Accept": "application/json"})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def wait_for_stamps(client: httpx.AsyncClient, route: str, n: int, timeout: float = 10) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        data = await passport_json(client, route)
        if data["stamps"] >= n or asyncio.get_running_loop().time() > deadline:
            return data
        await asyncio.sleep(0.1)


async def test_vertical_path_stamps_tiers_reward_and_one_redemption(
    make_platform, serve_app, new_tour
):
    setup = await make_platform(consumers=False, entrypoints=False, plugins=PLUGINS)
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    world = await build_world(setup, server, new_tour)
    a, b = world.tours
    # Accepting enabled the plugin on both tours (its consumer gets their events).
    for tour in (a, b):
        state = await setup.tours.refresh(tour.key)
        assert "routes" in state.tour.plugins

    async with httpx.AsyncClient(base_url=server.url, follow_redirects=True) as phone:
        scan = await phone.get(station_path(a, "s1"))
        assert scan.status_code == 200
        assert "counts for the route" in scan.text
        data = await wait_for_stamps(phone, world.route, 1)
        assert data["stamps"] == 1 and data["of"] == 2
        assert [r["need"] for r in data["rewards"]] == [1]
        await phone.get(station_path(b, "s2"))
        data = await wait_for_stamps(phone, world.route, 2)
        assert data["stamps"] == 2
        rewards = {r["need"]: r for r in data["rewards"]}
        assert set(rewards) == {1, 2}
        code = rewards[2]["code"]
        assert not rewards[2]["redeemed"]

    # Staff of enterprise B (admin token) redeem once; the second time is refused.
    staff = {"Authorization": f"Bearer {world.admins[1]}"}
    async with httpx.AsyncClient(base_url=server.url, headers=staff) as client:
        first = await client.post(f"/p/routes/r/{world.route}/redeem", json={"code": code})
        assert first.status_code == 200, first.text
        assert first.json()["reward"] in ("The certificate", "Сертификат")
        second = await client.post(f"/p/routes/r/{world.route}/redeem", json={"code": code})
        assert second.status_code == 409
        assert "redeemed already" in second.json()["detail"]

