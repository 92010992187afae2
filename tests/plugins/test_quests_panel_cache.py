"""The quest's panels through the render cache equal the panels rendered directly, for
every station, the start and the finish page, in both languages, for visitors with
different values (so no visitor's value can stay in a cached frame); and deleting a
tour leaves none of the quest's records of it."""

from __future__ import annotations

import tomllib
from pathlib import Path

import httpx
import promtour.plugins.quests as quests_plugin
from promtour._context import PageContext
from promtour._tours import decode_tour, load_enterprise_toml
from promtour._web.app import create_app
from promtour.plugins.quests import panels
from promtour.testing import csrf_token, station_path, unique

PLUGINS = [("quests", quests_plugin)]
DEMO = Path(__file__).resolve().parents[2] / "config" / "demo"
EN = {"Accept-Language": "en"}


async def demo_tour(platform):
    """The demo tour's stations and quest, under fresh ids."""
    raw = tomllib.loads((DEMO / "tours" / "main.toml").read_text(encoding="utf-8"))
    enterprise = load_enterprise_toml(DEMO / "enterprise.toml")
    enterprise.id = unique("ent")
    tour = decode_tour(
        {
            "id": unique("demo"),
            "enterprise": enterprise.id,
            "name": raw["name"],
            "stations": raw["stations"],
            "plugins": {"quests": raw["plugins"]["quests"]},
        },
        "demo quest",
    )
    await platform.import_enterprise(enterprise)
    return (await platform.save_tour(tour, media=frozenset())).tour


async def play(client: httpx.AsyncClient, tour, stations: list[str], **actions: str) -> str:
    """Scan ``stations``; optionally answer the press plate, pick a nickname, start a
    team. Returns the visitor id."""
    base = f"/p/quests/{tour.enterprise}/{tour.id}"
    token = ""
    for station in stations:
        page = await client.get(station_path(tour, station))
        assert page.status_code == 200
        token = csrf_token(page.text)
    if "plate" in actions:
        done = await client.post(
            f"{base}/m/press-plate/answer", data={"_csrf": token, "answer": actions["plate"]}
        )
        assert done.status_code == 303, done.text
    if "nickname" in actions:
        named = await client.post(
            f"{base}/nickname", data={"_csrf": token, "nickname": actions["nickname"]}
        )
        assert named.status_code == 303, named.text
    if "team" in actions:
        made = await client.post(f"{base}/team", data={"_csrf": token, "name": actions["team"]})
        assert made.status_code == 303, made.text
    return client.cookies["pt_v"].rsplit(".", 1)[0]


async def test_cached_panels_equal_fresh_ones_for_every_page_language_and_visitor(
    make_platform,
):
    platform = await make_platform(entrypoints=False, plugins=PLUGINS, consumers=False)
    tour = await demo_tour(platform)
    app = create_app(platform, manage_platform=False)
    visitors: list[str] = []
    for stations, actions in [
        # Everything: a score, a nickname, a team, a wrong answer on a card.
        (
            ["warehouse", "press", "welding", "cnc", "qc"],
            {"plate": "1989", "nickname": "Steel Fox", "team": "Crew"},
        ),
        # A score and no nickname (the panels ask for one), two stations.
        (["warehouse", "press"], {"plate": "1989"}),
        # A wrong answer only.
        (["press"], {"plate": "1234"}),
        # Scanned one station, nothing else.
        (["qc"], {}),
    ]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers=EN
        ) as client:
            visitors.append(await play(client, tour, stations, **actions))
    visitors.append("v" + "f" * 23)  # never seen: no progress, no record

    state = await platform.tours.get(tour.key)
    assert state is not None
    compared = 0
    for lang in tour.languages:
        for visitor in visitors:
            progress = await platform.visits.progress(tour, visitor)

            def page(station=None, visitor=visitor, lang=lang, progress=progress):
                return PageContext(
                    platform,
                    "quests",
                    state,
                    visitor=visitor,
                    lang=lang,
                    progress=progress,
                    station=station,
                    # A token that must be escaped: the slot is filled like the template.
                    csrf_token=f'tok"<{visitor[:6]}>&',
                )

            for station in tour.stations:
                cached = await panels.station_panel(page(station))
                fresh = await panels.station_panel(page(station), cached=False)
                assert cached is not None and fresh is not None
                assert str(cached.html) == str(fresh.html), (lang, visitor, station.id)
                compared += 1
            for build in (panels.start_panel, panels.finish_panel):
                cached = await build(page())
                fresh = await build(page(), cached=False)
                assert str(cached.html) == str(fresh.html), (lang, visitor, build.__name__)
                compared += 1
    assert compared == len(tour.languages) * len(visitors) * (len(tour.stations) + 2)
    # The cache was used: frames of this revision, per language.
    frames = [key for key in state.memo if key[0] == "quests" and key[1][0] == "frame"]
    assert {key[1][1] for key in frames} == set(tour.languages)


async def test_deleting_a_tour_leaves_no_quest_record_of_it(make_platform):
    platform = await make_platform(entrypoints=False, plugins=PLUGINS, consumers=False)
    tour = await demo_tour(platform)
    other = await demo_tour(platform)
    app = create_app(platform, manage_platform=False)
    for played in (tour, other):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers=EN
        ) as client:
            await play(client, played, ["press"], plate="1989", nickname="Fox", team="Foxes")
    store = platform.store_for("quests")

    def of(tour_key: str, keys: list[str]) -> list[str]:
        return [key for key in keys if tour_key in key]

    before = await store.keys()
    # A visitor, a team, a board and the option secret.
    assert len(of(tour.key, before)) == 4, before

    await platform.delete_tour(tour.key)
    after = await store.keys()
    assert of(tour.key, after) == []
    assert len(of(other.key, after)) == 4  # another tour's records stay
