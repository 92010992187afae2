"""Regional routes: operator -> route -> accept -> stamps -> tier -> reward -> redeem.

Real nats-server, the plugin's real consumer; requests as a visitor's phone, an
enterprise admin and a route operator would make them.
"""

from __future__ import annotations

import asyncio
import contextvars
import re
from datetime import date, timedelta
from typing import Any

import httpx
import msgspec
from polling import settled
from promtour._auth import create_token
from promtour._events import TourFinished, VisitorCheckedIn
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
    tours: int = 2,
) -> World:
    world = World()
    world.operator, world.op_secret = await make_operator(setup)
    for _ in range(tours):
        tour = await new_tour(setup, stations=2)
        _, secret = await create_token(setup.bus, tour.enterprise, "admin", "t")
        world.tours.append(tour)
        world.admins.append(secret)
    world.route = unique("route")
    start, end = season or (today() - timedelta(days=30), today() + timedelta(days=30))
    op = json_headers(world.op_secret)
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


def json_headers(secret: str, lang: str = "") -> dict[str, str]:
    """The headers of a JSON call with an operator's or a staff member's token."""
    headers = {"Authorization": f"Bearer {secret}", "Accept": "application/json"}
    return headers | ({"Accept-Language": lang} if lang else {})


async def passport_json(client: httpx.AsyncClient, route: str) -> dict[str, Any]:
    answer = await client.get(f"/p/routes/r/{route}", headers={"Accept": "application/json"})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def wait_for_stamps(
    client: httpx.AsyncClient, route: str, n: int, timeout: float = 10
) -> dict[str, Any]:
    return await settled(lambda: passport_json(client, route), lambda d: d["stamps"] >= n, timeout)


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

    async with httpx.AsyncClient(
        base_url=server.url, follow_redirects=True, headers={"Accept-Language": "en"}
    ) as phone:
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
    staff = json_headers(world.admins[1], lang="en")
    async with httpx.AsyncClient(base_url=server.url, headers=staff) as client:
        first = await client.post(f"/p/routes/r/{world.route}/redeem", json={"code": code})
        assert first.status_code == 200, first.text
        assert first.json()["reward"] in ("The certificate", "Сертификат")
        second = await client.post(f"/p/routes/r/{world.route}/redeem", json={"code": code})
        assert second.status_code == 409
        assert "redeemed already" in second.json()["detail"]


async def wait_handled(store: Any, key: str, check: Any, timeout: float = 15) -> Any:
    from promtour.plugins.routes.records import Passport

    return await settled(
        lambda: store.get(key, Passport), lambda v: v is not None and check(v), timeout
    )


async def test_fifty_visitors_finishing_at_once_get_exactly_their_stamps(
    make_platform, serve_app, new_tour
):

    setup = await make_platform(consumers=False, entrypoints=False, plugins=PLUGINS)
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    world = await build_world(setup, server, new_tour, stamp="finish")
    a, b = world.tours
    visitors = [unique("v") for _ in range(50)]
    # A check-in does not count on a finish route; finishing A then B does.
    events = [
        VisitorCheckedIn(enterprise=a.enterprise, tour=a.id, station="s1", visitor=v)
        for v in visitors
    ]
    events += [
        TourFinished(enterprise=t.enterprise, tour=t.id, visitor=v)
        for t in (a, b)
        for v in visitors
    ]
    await asyncio.gather(*(setup.bus.publish(e) for e in events))
    store = setup.store_for("routes")
    for v in visitors:
        passport = await wait_handled(store, f"pp.{v}", lambda p: len(p.stamps) == 2)
        assert passport is not None
        assert sorted(s.enterprise for s in passport.stamps) == sorted([a.enterprise, b.enterprise])
        assert sorted(t.need for t in passport.tiers) == [1, 2]
        assert len({t.code for t in passport.tiers}) == 2

    # The dashboard's figures are the counts of those events (aggregates only).
    op = json_headers(world.op_secret)
    async with httpx.AsyncClient(base_url=server.url, headers=op) as client:
        report = (await client.get(f"/p/routes/o/{world.operator}/dashboard")).json()
        csv_text = (await client.get(f"/p/routes/o/{world.operator}/dashboard.csv")).text
    assert report["routes"][world.route] == {"visitors": "50", "tier_1": "50", "tier_2": "50"}
    by_enterprise = {r["enterprise"]: r for r in report["rows"]}
    assert by_enterprise[a.enterprise]["stamps"] == "50"
    assert by_enterprise[b.enterprise]["stamps"] == "50"
    assert all(v not in csv_text and v not in str(report) for v in visitors)
    assert f"{world.route},{a.enterprise}" in csv_text


async def test_a_redelivered_event_changes_nothing(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False, entrypoints=False, plugins=PLUGINS)
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    world = await build_world(setup, server, new_tour)
    a = world.tours[0]
    store = setup.store_for("routes")
    visitor = unique("v")
    event = VisitorCheckedIn(enterprise=a.enterprise, tour=a.id, station="s1", visitor=visitor)
    await setup.bus.publish(event)
    await wait_handled(store, f"pp.{visitor}", lambda p: p.stamps)
    before = await store.read(f"pp.{visitor}", routes_plugin.records.Passport)
    rewards_before = await store.keys("reward.")
    await setup.bus.publish(event)  # the same event id again
    marker = unique("v")
    await setup.bus.publish(
        VisitorCheckedIn(enterprise=a.enterprise, tour=a.id, station="s1", visitor=marker)
    )
    await wait_handled(store, f"pp.{marker}", lambda p: p.stamps)  # handled after the copy
    after = await store.read(f"pp.{visitor}", routes_plugin.records.Passport)
    assert after.revision == before.revision
    assert len(after.value.stamps) == 1 and len(after.value.tiers) == 1
    assert len(await store.keys("reward.")) == len(rewards_before) + 1  # the marker's only


async def test_bad_input_is_a_clear_4xx_and_writes_nothing(make_platform, serve_app, new_tour):
    from promtour.plugins.routes.records import Passport, Reward

    setup = await make_platform(consumers=False, entrypoints=False, plugins=PLUGINS)
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    world = await build_world(setup, server, new_tour)
    other = await build_world(setup, server, new_tour)
    store = setup.store_for("routes")
    links = len(await store.keys("link."))

    async with httpx.AsyncClient(
        base_url=server.url, headers={"Accept": "application/json", "Accept-Language": "en"}
    ) as phone:
        form = await phone.get("/p/routes/restore", headers={"Accept": "text/html"})
        phone.headers["X-CSRF-Token"] = re.search(r'name="_csrf" value="([^"]+)"', form.text).group(
            1
        )
        # An unknown passport code, and an expired one.
        unknown = await phone.post("/p/routes/restore", json={"code": "ZZZZZZZZ"})
        assert unknown.status_code == 404 and "unknown or has expired" in unknown.json()["detail"]
        await store.create("code.EXPRD234", "someone", ttl=1)
        await asyncio.sleep(2.2)
        expired = await phone.post("/p/routes/restore", json={"code": "exprd-234"})
        assert expired.status_code == 404
        garbage = await phone.post("/p/routes/restore", json={"code": "<script>"})
        assert garbage.status_code == 404
    assert len(await store.keys("link.")) == links

    # A reward code of another route is refused at this route, and stays unredeemed.
    visitor = unique("v")
    t = other.tours[0]
    await setup.bus.publish(
        VisitorCheckedIn(enterprise=t.enterprise, tour=t.id, station="s1", visitor=visitor)
    )
    passport = await wait_handled(store, f"pp.{visitor}", lambda p: p.tiers)
    code = passport.tiers[0].code
    staff = json_headers(world.admins[0], lang="en")
    async with httpx.AsyncClient(base_url=server.url, headers=staff) as client:
        wrong = await client.post(f"/p/routes/r/{world.route}/redeem", json={"code": code})
        assert wrong.status_code == 400 and "another route" in wrong.json()["detail"]
        # Nor may staff of an enterprise that is not on that route redeem it there.
        foreign = await client.post(f"/p/routes/r/{other.route}/redeem", json={"code": code})
        assert foreign.status_code == 404
    assert (await store.get(f"reward.{code}", Reward)).redeemed is None

    # A tour proposed but not accepted earns no stamp (the plugin is not on it).
    pending = await build_world(setup, server, new_tour, accept=False)
    p = pending.tours[0]
    assert "routes" not in (await setup.tours.refresh(p.key)).tour.plugins
    # ...and a season that has ended gives none either.
    ended = await build_world(
        setup, server, new_tour, season=(today() - timedelta(days=60), today() - timedelta(days=1))
    )
    e = ended.tours[0]
    v1, v2 = unique("v"), unique("v")
    await setup.bus.publish(
        VisitorCheckedIn(enterprise=p.enterprise, tour=p.id, station="s1", visitor=v1)
    )
    await setup.bus.publish(
        VisitorCheckedIn(enterprise=e.enterprise, tour=e.id, station="s1", visitor=v2)
    )
    marker = unique("v")
    await setup.bus.publish(
        VisitorCheckedIn(enterprise=e.enterprise, tour=e.id, station="s1", visitor=marker)
    )
    await asyncio.sleep(1.0)
    assert await store.get(f"pp.{v1}", Passport) is None
    assert await store.get(f"pp.{v2}", Passport) is None
    async with httpx.AsyncClient(base_url=server.url) as phone:
        page = await phone.get(f"/p/routes/r/{ended.route}", headers={"Accept-Language": "en"})
        assert "The season is closed" in page.text
        # Bad route definitions are refused naming the problem.
        op = json_headers(world.op_secret)
        bad = await phone.post(
            f"/p/routes/o/{world.operator}/routes",
            headers=op,
            json={
                "id": "x-bad",
                "title": {"en": "x"},
                "season_from": "2030-02-01",
                "season_to": "2030-01-01",
            },
        )
        assert bad.status_code == 400 and "season_to" in bad.text
        nope = await phone.post(
            f"/p/routes/o/{world.operator}/routes/{world.route}/tours",
            headers=op,
            json={"enterprise": "no-such", "tour": "tour"},
        )
        assert nope.status_code == 400
    assert await store.get("route.x-bad", routes_plugin.records.Route) is None


async def test_a_route_changed_by_another_process_shows_on_the_next_scans(
    make_platform, serve_app, new_tour
):
    """The station panel reads the routes from the web process's watched copy: a change
    made elsewhere (here another platform instance: an operator's CLI, a second web
    process) is on the visitor's page within a bounded time, the panel gone when the
    tour left the route."""
    setup = await make_platform(consumers=False, entrypoints=False, plugins=PLUGINS)
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    world = await build_world(setup, server, new_tour)
    a = world.tours[0]
    store = setup.store_for("routes")
    Route = routes_plugin.records.Route
    Member = routes_plugin.records.Member

    async with httpx.AsyncClient(
        base_url=server.url, follow_redirects=True, headers={"Accept-Language": "en"}
    ) as phone:

        async def panel_until(check: Any, bound: float = 3.0) -> str:
            deadline = asyncio.get_running_loop().time() + bound
            n = 0
            while True:
                n += 1
                page = await phone.get(station_path(a, f"s{1 + n % 2}"))
                assert page.status_code == 200
                if check(page.text) or asyncio.get_running_loop().time() > deadline:
                    return page.text
                await asyncio.sleep(0.05)

        first = await panel_until(lambda text: "counts for the route" in text)
        assert "Steel and bread" in first
        assert "You have 1 of 2 stamps." in first  # this visit's stamp, of two enterprises
        russian = await phone.get(station_path(a, "s1"), headers={"Accept-Language": "ru"})
        assert "У вас 1 из 2 штампов." in russian.text

        def retitle(route: Any) -> Any:
            return msgspec.structs.replace(route, title={"en": "Iron and rye", "ru": "Железо"})

        await store.update(f"route.{world.route}", Route, retitle)
        assert "Iron and rye" in await panel_until(lambda text: "Iron and rye" in text)

        def leave(route: Any) -> Any:
            members = [
                Member(enterprise=m.enterprise, tour=m.tour, status="left")
                if (m.enterprise, m.tour) == (a.enterprise, a.id)
                else m
                for m in route.members
            ]
            return msgspec.structs.replace(route, members=members)

        await store.update(f"route.{world.route}", Route, leave)
        gone = await panel_until(lambda text: "counts for the route" not in text)
        assert "counts for the route" not in gone


async def test_a_new_browsers_first_scan_reads_no_passport(
    make_platform, serve_app, new_tour, monkeypatch
):
    """A browser without a visitor cookie has no passport and no link yet: its first
    page shows the stamp of this visit without asking NATS for them; its next page
    reads the passport the consumer made."""
    setup = await make_platform(consumers=False, entrypoints=False, plugins=PLUGINS)
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    world = await build_world(setup, server, new_tour)
    a, b = world.tours
    # The station panel's reads (the plugin's consumer in the server reads the passport
    # of the check-in's event too).
    store = server.platform.store_for("routes")
    in_panel: contextvars.ContextVar[bool] = contextvars.ContextVar("in_panel", default=False)
    read: list[str] = []
    get, versioned, routes_of_tour = store.get, store.read, routes_plugin.panels.routes_of_tour

    async def recording_get(key: str, type_: Any) -> Any:
        if in_panel.get():
            read.append(key)
        return await get(key, type_)

    async def recording_read(key: str, type_: Any) -> Any:
        if in_panel.get():
            read.append(key)
        return await versioned(key, type_)

    async def routes_in_panel(*args: Any) -> Any:
        # The panel's first step: what it reads after this (in its task) is recorded.
        # (The hook itself was registered when the server started: patch what it calls.)
        in_panel.set(True)
        return await routes_of_tour(*args)

    monkeypatch.setattr(store, "get", recording_get)
    monkeypatch.setattr(store, "read", recording_read)
    monkeypatch.setattr(routes_plugin.panels, "routes_of_tour", routes_in_panel)
    async with httpx.AsyncClient(
        base_url=server.url, follow_redirects=True, headers={"Accept-Language": "en"}
    ) as phone:
        first = await phone.get(station_path(a, "s1"))
        assert "You have 1 of 2 stamps." in first.text
        assert not [k for k in read if k.startswith(("pp.", "link."))]
        await wait_for_stamps(phone, world.route, 1)
        read.clear()
        second = await phone.get(station_path(b, "s1"))
        assert "You have 2 of 2 stamps." in second.text
        # One read: a browser with stamps of its own cannot have taken another passport,
        # so there is no link to look up.
        keys = [k for k in read if k.startswith(("pp.", "link."))]
        assert len(keys) == 1 and keys[0].startswith("pp."), keys


async def test_a_browser_that_restored_a_passport_collects_its_next_stamp_in_it(
    make_platform, serve_app, new_tour
):
    """Two browsers, one passport: the stamp the second one earns after restoring the
    passport with its code lands in that passport, and both browsers see it."""
    from promtour.plugins.routes.records import Passport

    setup = await make_platform(consumers=False, entrypoints=False, plugins=PLUGINS)
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    world = await build_world(setup, server, new_tour, tours=3)
    a, b, _ = world.tours
    store = setup.store_for("routes")
    headers = {"Accept-Language": "en"}
    async with (
        httpx.AsyncClient(base_url=server.url, headers=headers, follow_redirects=True) as first,
        httpx.AsyncClient(base_url=server.url, headers=headers, follow_redirects=True) as second,
    ):
        await first.get(station_path(a, "s1"))
        await wait_for_stamps(first, world.route, 1)
        page = await first.get(f"/p/routes/r/{world.route}")
        csrf = re.search(r'name="_csrf" value="([^"]+)"', page.text).group(1)
        made = await first.post(f"/p/routes/r/{world.route}/code", data={"_csrf": csrf})
        assert made.status_code == 200, made.text
        owned = [
            p
            for key in await store.keys("pp.")
            if (p := await store.get(key, Passport)) is not None
            and any(s.route == world.route for s in p.stamps)
        ]
        assert len(owned) == 1 and owned[0].code
        form = await second.get("/p/routes/restore")
        csrf = re.search(r'name="_csrf" value="([^"]+)"', form.text).group(1)
        restored = await second.post(
            "/p/routes/restore", data={"_csrf": csrf, "code": owned[0].code}
        )
        assert restored.status_code == 200, restored.text
        assert (await passport_json(second, world.route))["stamps"] == 1

        await second.get(station_path(b, "s1"))
        assert (await wait_for_stamps(second, world.route, 2))["stamps"] == 2
        assert (await passport_json(first, world.route))["stamps"] == 2
        passport = await store.get(f"pp.{owned[0].id}", Passport)
        assert passport is not None
        assert {s.enterprise for s in passport.stamps} == {a.enterprise, b.enterprise}
