"""Where the career plugin keeps its records, and that they go when they should: an
erased or expired lead's bytes leave the store's files, a deleted tour leaves no visitor record,
and the lead limit holds against a fresh cookie per request.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from pathlib import Path

import httpx
import promtour.plugins.career as career
from promtour._auth import create_token
from promtour._embedded import EmbeddedNats
from promtour._events import VisitorCheckedIn
from promtour._expiry import sweep
from promtour._manager import PluginManager
from promtour._models import Enterprise
from promtour._platform import Platform
from promtour.plugins.career.leads import DAY, LeadStore
from promtour.testing import LiveServer, csrf_token, save_new_tour, test_settings
from test_career_flow import career_config, link, send_lead, wait_for
from test_career_model import lead

PLUGINS = [("career", career)]


def files_containing(root: Path, needles: list[bytes]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path.relative_to(root)}: {n!r}" for n in needles if n in data]
    return found


async def test_expired_leads_are_erased_from_the_store_files(own_nats: EmbeddedNats) -> None:
    """A lead whose retention ran out is erased (its bytes overwritten), not left in the
    block file as a server-side expiry would; so is a pending lead."""
    setup = Platform(
        test_settings(own_nats.url), plugins=PluginManager(load_entrypoints=False, plugins=PLUGINS)
    )
    await setup.start(consumers=False)  # no sweeper running: the test sweeps itself
    tag = secrets.token_hex(6)
    needles = [f"Expiring {tag}".encode(), f"expiring.{tag}@example.org".encode()]
    leads = LeadStore(setup.store_for("career"))
    try:
        assert await leads.write(lead(needles[0].decode(), needles[1].decode()), 30 * DAY)
        pending = lead("Pending " + tag, "p@example.org", id="b" * 24, status="pending_guardian")
        assert await leads.write(pending, 7 * DAY)
        assert files_containing(own_nats.store_dir, needles), "the bytes are on disk first"
        assert await sweep(setup.bus, now=time.time() + 29 * DAY) == 1  # the pending one
        assert await leads.get("e", "b" * 24) is None
        assert await leads.get("e", "a" * 24) is not None  # not due yet
        assert await sweep(setup.bus, now=time.time() + 31 * DAY) == 1
        assert await leads.get("e", "a" * 24) is None
    finally:
        await setup.stop()
    own_nats.stop()
    needles.append(f"Pending {tag}".encode())
    assert files_containing(own_nats.store_dir, needles) == []
    own_nats.start()
    assert files_containing(own_nats.store_dir, needles) == []


async def test_erased_leads_are_gone_from_the_store_files(own_nats: EmbeddedNats) -> None:
    setup = Platform(
        test_settings(own_nats.url), plugins=PluginManager(load_entrypoints=False, plugins=PLUGINS)
    )
    await setup.start(consumers=False)
    tour = await save_new_tour(setup, plugins={"career": career_config()})
    _, hr = await create_token(setup.bus, tour.enterprise, "hr", "hr")
    server = LiveServer(
        Platform(
            test_settings(own_nats.url),
            plugins=PluginManager(load_entrypoints=False, plugins=PLUGINS),
        )
    ).start()
    tag = secrets.token_hex(6)
    people = {
        by: {
            "name": f"Erasable {by} {tag}",
            "contact": f"{by}.{tag}@example.org",
            "age": "18plus",
            "consent": "yes",
        }
        for by in ("hr", "visitor")
    }
    minor = {
        **people["visitor"],
        "name": f"Erasable minor {tag}",
        "contact": f"minor.{tag}@example.org",
        "age": "14-15",
        "guardian_name": f"Erasable guardian {tag}",
        "guardian_contact": f"guardian.{tag}@example.org",
        "guardian_consent": "yes",
    }
    needles = [
        v.encode()
        for p in (*people.values(), minor)
        for k, v in p.items()
        if k in ("name", "contact", "guardian_name", "guardian_contact")
    ]
    base = f"/p/career/t/{tour.enterprise}/{tour.id}"
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            by_hr = await send_lead(client, base, **people["hr"])
            by_visitor = await send_lead(client, base, **people["visitor"])
            by_guardian = await send_lead(client, base, **minor)
            assert {by_hr.status_code, by_visitor.status_code, by_guardian.status_code} == {200}
            # Stored: the test can see them in the files (so the check below means something).
            await asyncio.sleep(0.2)
            assert files_containing(own_nats.store_dir, needles)

            lead_id = link(by_hr.text, "my-link").split("/")[-2]
            erased = await client.delete(
                f"/p/career/api/{tour.enterprise}/leads/{lead_id}",
                headers={"Authorization": f"Bearer {hr}"},
            )
            assert erased.status_code == 204
            mine = link(by_visitor.text, "my-link")
            page = await client.get(mine)
            assert (
                await client.post(f"{mine}/erase", data={"_csrf": csrf_token(page.text)})
            ).is_success
            guardian = link(by_guardian.text, "guardian-link")
            page = await client.get(guardian)
            answer = {"_csrf": csrf_token(page.text), "action": "decline"}
            assert (await client.post(guardian, data=answer)).is_success
    finally:
        server.stop()
        await setup.stop()

    own_nats.stop()
    own_nats.start()
    own_nats.stop()
    assert files_containing(own_nats.store_dir, needles) == []
    own_nats.start()  # for the fixture's stop


async def test_a_deleted_tour_leaves_no_career_records(make_platform, serve_app, new_tour):
    platform = await make_platform(entrypoints=False, plugins=PLUGINS)
    tour = await new_tour(platform, plugins={"career": career_config()})
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    base = f"/p/career/t/{tour.enterprise}/{tour.id}"
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        quiz = await client.get(f"{base}/quiz")
        statement_ids = re.findall(r'name="([a-z0-9_-]+)" value="2"', quiz.text)
        answers = dict.fromkeys(statement_ids, "2")
        done = await client.post(f"{base}/quiz", data={"_csrf": csrf_token(quiz.text), **answers})
        assert done.status_code == 303 and done.headers["location"].endswith("/profile")
    visitor = secrets.token_hex(12)
    await platform.bus.publish(
        VisitorCheckedIn(enterprise=tour.enterprise, tour=tour.id, visitor=visitor, station="s1")
    )
    store = platform.store_for("career")

    async def both() -> bool:
        keys = [k for k in await store.keys() if tour.key in k]
        return any("quiz." in k for k in keys) and any("sig." in k for k in keys)

    await wait_for(both)
    assert await platform.delete_tour(tour.key) is not None
    assert [k for k in await store.keys() if tour.key in k] == []


async def test_the_lead_limit_holds_with_a_fresh_cookie_per_request(
    make_platform, serve_app, new_tour
):
    setup = await make_platform(entrypoints=False, plugins=PLUGINS, consumers=False)
    tour = await new_tour(setup, plugins={"career": career_config()})
    await setup.import_enterprise(Enterprise(id=tour.enterprise, name={"en": "Works"}))
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    base = f"/p/career/t/{tour.enterprise}/{tour.id}"
    statuses = []
    for i in range(25):
        # A new client each time: a new cookie, as a spammer's script would do.
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            sent = await send_lead(
                client,
                base,
                name=f"Spam {i}",
                contact=f"spam{i}@example.org",
                age="18plus",
                consent="yes",
            )
            statuses.append(sent.status_code)
    assert statuses[: career.routes.contact.LEAD_LIMIT.per_address] == [200] * 20
    assert set(statuses[20:]) == {429}
