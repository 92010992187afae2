"""Enterprise isolation, proved over the app's whole route table.

Every route with ``{enterprise}`` in its path is asked, with the credentials of
enterprise A (API token, console session, CSRF token), for the objects of enterprise
B. It must refuse (403 or 404; 401 where A's credentials are not the kind the route
takes). A route added later without the scope fails this test, unless it is listed
in PUBLIC with the reason it is meant for anyone (visitor pages).

Also here: a revoked token gets 401 at once; a rotated key stops old posters.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any

import httpx
import pytest
from litestar import get
from litestar.params import FromPath
from promtour import hookimpl
from promtour._auth import create_token
from promtour._console.form_actions import start_job
from promtour.plugin import ActionRequest, ActionResult, FieldAction, PluginInfo, utcnow
from promtour.plugins.career.leads import DAY, ConsentRecord, Lead, LeadStore
from promtour.testing import console_sign_in, station_path

MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 16

#: Routes with {enterprise} in the path that are open to anyone, and why.
PUBLIC: dict[str, str] = {
    "/t/{enterprise}/{tour_id}": "visitor: the tour's start page",
    "/t/{enterprise}/{tour_id}/go": "visitor: typing a station number",
    "/t/{enterprise}/{tour_id}/at/{station_id}": "visitor: a station already scanned",
    "/t/{enterprise}/{tour_id}/finish": "visitor: the finish page",
    "/t/{enterprise}/{tour_id}/group": "visitor: joining a school group",
    "/t/{enterprise}/{tour_id}/offline": "visitor: the tour's page shown without signal",
    "/t/{enterprise}/{tour_id}/offline.json": "visitor: what saving the tour downloads",
    "/t/{enterprise}/{tour_id}/manifest.webmanifest": "visitor: the tour's web app manifest",
    "/t/{enterprise}/{tour_id}/saved/{station_id}": "visitor: a station page saved offline",
    "/media/{enterprise}/{tour_id}/{name}": "visitor pages play and show these files",
    "/api/v1/visitor/tours/{enterprise}/{tour_id}/progress": "visitor: their own progress",
    # audio guide: visitor pages and the guide's sign-in (PIN or guide token)
    "/p/audio_guide/{enterprise}/{tour_id}/listen": "visitor: listening statistics",
    "/p/audio_guide/{enterprise}/{tour_id}/position": "visitor: playback position",
    "/p/audio_guide/{enterprise}/{tour_id}/show": "visitor: a group's synchronized show",
    "/p/audio_guide/{enterprise}/{tour_id}/show/events": "visitor: the show's live cues",
    "/p/audio_guide/{enterprise}/{tour_id}/guide": "the guide sign-in form (no data)",
    "/p/audio_guide/{enterprise}/{tour_id}/guide/login": "the guide sign-in (PIN or token)",
    "/p/audio_guide/{enterprise}/{tour_id}/guide/logout": "signing out needs no rights",
    # career: the visitor's quiz and profile, and a lead's own links (secret in the URL)
    "/p/career/t/{enterprise}/{tour_id}/quiz": "visitor: the interest quiz",
    "/p/career/t/{enterprise}/{tour_id}/profile": "visitor: their interest profile",
    "/p/career/t/{enterprise}/{tour_id}/contact": "visitor: the consent form",
    "/p/career/t/{enterprise}/{tour_id}/professions/{profession_id}": "visitor: a profession",
    "/p/career/my/{enterprise}/{lead_id}/{secret}": "a lead's own data, by its secret link",
    "/p/career/my/{enterprise}/{lead_id}/{secret}/erase": "a lead erases itself, by secret",
    "/p/career/guardian/{enterprise}/{lead_id}/{code}": "a guardian's consent, by its code",
    # quests: the visitor's game
    "/p/quests/{enterprise}/{tour_id}/m/{mission_id}/answer": "visitor: answering",
    "/p/quests/{enterprise}/{tour_id}/m/{mission_id}/hint": "visitor: taking a hint",
    "/p/quests/{enterprise}/{tour_id}/nickname": "visitor: choosing a nickname",
    "/p/quests/{enterprise}/{tour_id}/team": "visitor: founding a team",
    "/p/quests/{enterprise}/{tour_id}/team/join": "visitor: joining a team",
    "/p/quests/{enterprise}/{tour_id}/team/{code}": "visitor: the team page",
    "/p/quests/{enterprise}/{tour_id}/team/{code}/join": "visitor: a team's join link",
    "/p/quests/{enterprise}/{tour_id}/board": "visitor: the leaderboard (can be hidden)",
    "/p/quests/{enterprise}/{tour_id}/board/live": "visitor: the live leaderboard",
    "/p/quests/{enterprise}/{tour_id}/board.json": "visitor: the leaderboard as JSON",
    "/p/quests/{enterprise}/{tour_id}/certificate": "visitor: their certificate",
}

#: Console and API routes without {enterprise}: they hold no enterprise data.
UNSCOPED: dict[str, str] = {
    "/console": "redirects to the signed-in enterprise or the sign-in form",
    "/console/login": "the sign-in form",
    "/console/logout": "signing out",
    "/api/v1/visitor/check-ins": "visitor: a scan by code (the code is signed)",
}

REFUSED = {401, 403, 404}
PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def normalize(path: str) -> str:
    return PARAM.sub(r"{\1}", path)


class World:
    """Two enterprises with a tour each, and everything a request may name."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.headers: dict[str, str] = {}
        self.cookies: dict[str, str] = {}


async def console_session(server, secret: str) -> tuple[dict[str, str], str]:
    async with httpx.AsyncClient(base_url=server.url) as client:
        csrf = await console_sign_in(client, secret)
        return dict(client.cookies), csrf


async def a_lead(setup, enterprise: str, tour: str) -> str:
    """A career lead of the enterprise, for the HR pages and API to name."""
    now = utcnow()
    lead = Lead(
        id=secrets.token_hex(12),
        enterprise=enterprise,
        tour=tour,
        created=now,
        expires=now + timedelta(days=1),
        status="active",
        name="Isolation Lead",
        contact="lead@example.org",
        age="18plus",
        consent=ConsentRecord(version="v1", lang="en", text_sha256="x", given=now),
        secret_sha256="x",
    )
    assert await LeadStore(setup.store_for("career")).write(lead, DAY)
    return lead.id


async def finished_job(tour, owner: str) -> str:
    """A field action's job of this enterprise's editor, done (its result page is a
    console route: ``.../plugins/{plugin}/actions/{job_id}``)."""

    async def nothing(request: ActionRequest) -> ActionResult:
        return ActionResult(values={}, message="Done.")

    async def save_media(name: str, data: bytes) -> str:
        return name

    request = ActionRequest(
        tour=tour,
        plugin="quests",
        values={},
        path="missions",
        lang="ru",
        translate=str,
        save_media=save_media,
        report=lambda text: None,
    )
    job = await start_job(
        FieldAction(label="Do", run=nothing),
        request,
        owner=owner,
        where=(tour.enterprise, tour.id, "quests"),
        label="Do",
    )
    assert job.done
    return job.id


async def build_world(setup, server, new_tour) -> tuple[World, World]:
    worlds = []
    for _ in range(2):
        tour = await new_tour(setup, stations=2, plugins={"quests": {}})
        token, secret = await create_token(setup.bus, tour.enterprise, "admin", "isolation")
        await setup.bus.media.put(f"{tour.enterprise}/{tour.id}/a.mp3", MP3)
        lead_id = await a_lead(setup, tour.enterprise, tour.id)
        world = World()
        world.values = {
            "enterprise": tour.enterprise,
            "tour_id": tour.id,
            "station_id": "s1",
            "plugin": "quests",
            "token_id": token.id,
            "name": "a.mp3",
            "lead_id": lead_id,
        }
        world.values["job_id"] = await finished_job(tour, token.id)
        cookies, csrf = await console_session(server, secret)
        world.cookies = cookies
        world.headers = {"Authorization": f"Bearer {secret}", "X-CSRF-Token": csrf}
        worlds.append(world)
    return worlds[0], worlds[1]


def scoped_routes(app) -> list[tuple[str, str]]:
    """(method, path template) of every HTTP route that names an enterprise."""
    out = []
    for route in app.routes:
        if "enterprise" not in getattr(route, "path_parameters", {}):
            continue
        for method in sorted(getattr(route, "methods", set()) - {"OPTIONS", "HEAD"}):
            out.append((method, route.path))
    return out


def fill(path: str, values: dict[str, str]) -> str:
    return PARAM.sub(lambda m: values.get(m.group(1), "x1"), path)


async def leaks(server, a: World, b: World) -> list[str]:
    """Scoped, non-public routes that did not refuse A's credentials on B's objects."""
    problems = []
    async with httpx.AsyncClient(
        base_url=server.url, headers=a.headers, cookies=a.cookies, timeout=5
    ) as client:
        for method, template in scoped_routes(server.app):
            if normalize(template) in PUBLIC:
                continue
            url = fill(template, b.values)
            body: dict[str, Any] = {"json": {}} if method in ("POST", "PUT") else {}
            try:
                response = await client.request(method, url, **body)
            except httpx.ReadTimeout:
                problems.append(f"{method} {template}: streamed B's data to A (no answer)")
                continue
            if response.status_code not in REFUSED:
                problems.append(
                    f"{method} {template}: {response.status_code} for another enterprise"
                )
    return problems


async def test_every_enterprise_route_refuses_another_enterprise(
    make_platform, serve_app, new_tour
):
    setup = await make_platform(consumers=False)
    server = serve_app()
    a, b = await build_world(setup, server, new_tour)

    routes = scoped_routes(server.app)
    checked = [r for r in routes if normalize(r[1]) not in PUBLIC]
    # The walk covers the console and the API (it would pass vacuously otherwise).
    assert sum(p.startswith("/api/v1/enterprises/") for _, p in checked) >= 20
    assert sum(p.startswith("/console/{enterprise") for _, p in checked) >= 25
    # Plugins' staff pages and APIs are walked too, the HR leads pages among them.
    hr_pages = [p for _, p in checked if p.startswith("/p/career/hr/")]
    assert len(hr_pages) == 5 and sum(p.startswith("/p/career/api/") for _, p in checked) == 4

    problems = await leaks(server, a, b)
    assert not problems, (
        "routes that serve another enterprise's objects; scope them "
        "(enterprise_guard / Principal.require) or list them in PUBLIC with a reason:\n"
        + "\n".join(problems)
    )

    # Plugin staff pages take the console session alone (no bearer header) too.
    async with httpx.AsyncClient(base_url=server.url, cookies=a.cookies, timeout=5) as client:
        for template in hr_pages:
            response = await client.get(fill(template, b.values))
            assert response.status_code == 404, f"GET {template} with A's session"

    # Control: B's own credentials do reach B's objects on the read routes, so the
    # refusals above are the scope at work, not missing objects.
    async with httpx.AsyncClient(
        base_url=server.url, headers=b.headers, cookies=b.cookies, timeout=5
    ) as client:
        for method, template in checked:
            if method != "GET" or not template.startswith(
                ("/console/", "/api/v1/enterprises/", "/p/career/hr/", "/p/career/api/")
            ):
                continue
            response = await client.get(fill(template, b.values))
            assert response.status_code == 200, f"GET {template}: {response.status_code}"


async def test_console_and_api_routes_all_name_their_enterprise(make_platform, serve_app):
    """A console or API route without {enterprise} would escape the walk above."""
    server = serve_app()
    for route in server.app.routes:
        path = normalize(route.path)
        if not path.startswith(("/console", "/api/")):
            continue
        if "enterprise" in route.path_parameters or path in UNSCOPED:
            continue
        pytest.fail(f"{path} touches no enterprise in its path: add {{enterprise}} or list it")


@get("/api/{enterprise:str}/secrets")
async def leaky_secrets(enterprise: FromPath[str]) -> dict[str, str]:
    return {"enterprise": enterprise, "secret": "everyone sees this"}


class LeakyPlugin:
    """A plugin route that forgot the scope: the walk must catch it."""

    @hookimpl
    def promtour_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="leaky", title={"en": "Leaky"}, routes=[leaky_secrets])


async def test_the_walk_catches_a_route_without_scope(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False, plugins=[("leaky", LeakyPlugin())])
    server = serve_app(plugins=[("leaky", LeakyPlugin())])
    a, b = await build_world(setup, server, new_tour)
    problems = await leaks(server, a, b)
    assert problems == ["GET /p/leaky/api/{enterprise:str}/secrets: 200 for another enterprise"]


async def test_roles_are_enforced(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, stations=1)
    server = serve_app()
    api = f"{server.url}/api/v1/enterprises/{tour.enterprise}"
    secrets = {}
    for role in ("admin", "editor", "guide", "hr"):
        _, secrets[role] = await create_token(setup.bus, tour.enterprise, role, role)
    async with httpx.AsyncClient(timeout=5) as client:

        async def status(role: str, method: str, path: str, **kw: Any) -> int:
            headers = {"Authorization": f"Bearer {secrets[role]}"}
            return (await client.request(method, api + path, headers=headers, **kw)).status_code

        for role in ("admin", "editor", "guide", "hr"):
            assert await status(role, "GET", f"/tours/{tour.id}") == 200
        assert await status("hr", "POST", f"/tours/{tour.id}/keys") == 403
        assert await status("guide", "PUT", f"/tours/{tour.id}/plugins/quests", json={}) == 403
        assert await status("editor", "PUT", f"/tours/{tour.id}/plugins/quests", json={}) == 200
        assert await status("editor", "GET", "/tokens") == 403
        assert await status("admin", "GET", "/tokens") == 200
        assert await status("editor", "PUT", "", json={"name": {"en": "X"}}) == 403


async def test_revoked_token_gets_401_at_once(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, stations=1)
    server = serve_app()
    _, admin = await create_token(setup.bus, tour.enterprise, "admin", "admin")
    victim, secret = await create_token(setup.bus, tour.enterprise, "editor", "laptop")
    api = f"{server.url}/api/v1/enterprises/{tour.enterprise}"
    async with httpx.AsyncClient(timeout=5) as client:
        as_victim = {"Authorization": f"Bearer {secret}"}
        assert (await client.get(f"{api}/tours", headers=as_victim)).status_code == 200
        revoked = await client.delete(
            f"{api}/tokens/{victim.id}", headers={"Authorization": f"Bearer {admin}"}
        )
        assert revoked.status_code == 204
        after = await client.get(f"{api}/tours", headers=as_victim)
        assert after.status_code == 401 and "revoked" in after.json()["detail"]
        # Made-up or malformed tokens are a 401 too, never a 500.
        for bogus in ("pt_zz_zz", "pt_a*b_c", "nonsense", "pt__"):
            response = await client.get(
                f"{api}/tours", headers={"Authorization": f"Bearer {bogus}"}
            )
            assert response.status_code == 401


async def test_rotation_stops_old_posters_at_once(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, stations=2)
    server = serve_app()
    _, secret = await create_token(setup.bus, tour.enterprise, "editor", "editor")
    api = f"{server.url}/api/v1/enterprises/{tour.enterprise}"
    async with httpx.AsyncClient(timeout=5, headers={"Accept-Language": "en"}) as client:
        old = server.url + station_path(tour, "s1")
        assert (await client.get(old)).status_code == 200
        rotated = await client.post(
            f"{api}/tours/{tour.id}/keys", headers={"Authorization": f"Bearer {secret}"}
        )
        assert rotated.status_code == 201 and "stopped working" in rotated.json()["warning"]
        stale = await client.get(old)
        assert stale.status_code == 400 and "old poster" in stale.text
        posters = await client.get(
            f"{api}/tours/{tour.id}/posters", headers={"Authorization": f"Bearer {secret}"}
        )
        new = posters.json()[0]["url"]
        assert new != old and new.startswith(server.url)
        assert (await client.get(new)).status_code == 200
