"""The career plugin against a real nats-server: tour events become profile signals
once, and leads go through consent, storage with an expiry, HR access per enterprise,
erasure without a trace, and never into the event stream.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from typing import Any

import httpx
import msgspec
import nats.js.errors
import promtour.plugins.career as career
from nats.js.api import ConsumerConfig, DeliverPolicy
from promtour import hookimpl
from promtour._auth import create_token
from promtour._events import STREAM, VisitorCheckedIn, subject_for
from promtour._models import Enterprise
from promtour._store import EXPIRY_BACKSTOP, EXPIRY_PREFIX, bucket_name
from promtour.plugin import PluginInfo
from promtour.plugins.audio_guide.events import AudioListenFinished, AudioListenProgressed
from promtour.plugins.career.profile import Signals
from promtour.plugins.quests.events import QuestMissionCompleted
from promtour.testing import csrf_token, station_path

# The audio guide's and the quests' events, declared by a probe plugin so that the
# platform decodes them without those plugins: career reads them by their tags only.


class Probe:
    @hookimpl
    def promtour_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            name="career_probe",
            version="1",
            title={"en": "probe"},
            events=[AudioListenProgressed, AudioListenFinished, QuestMissionCompleted],
        )


PLUGINS = [("career", career), ("career_probe", Probe())]
KV_STREAM = "KV_" + bucket_name("career")


def backstop(ttl: int) -> str:
    """The server TTL of a personal record: erased at ``ttl``, dropped an hour later."""
    return str(int(ttl + EXPIRY_BACKSTOP))


def t(en: str, ru: str | None = None) -> dict[str, str]:
    return {"en": en, "ru": ru or f"{en} (ru)"}


def career_config() -> dict[str, Any]:
    def prof(pid: str, station: str, code: list[str]) -> dict[str, Any]:
        return {
            "id": pid,
            "title": t(pid.replace("-", " ").title()),
            "summary": t(f"What a {pid} does."),
            "stations": [station],
            "riasec": code,
            "pay": {"min": 50000, "max": 90000},
        }

    return {
        "stations": {"s1": ["R"], "s2": ["I", "A"], "s3": ["C", "I"]},
        "missions": [{"id": "cnc-quiz", "tags": ["I"], "name": t("the CNC quiz")}],
        "professions": [
            prof("press-operator", "s1", ["R", "C"]),
            prof("cnc-programmer", "s2", ["I", "R", "C"]),
            prof("quality-inspector", "s3", ["C", "I"]),
            prof("mentor", "s1", ["S", "E"]),
        ],
        "next_steps": [{"kind": "open_day", "title": t("Open day on Saturday")}],
        "consent": {
            "version": "test-7",
            "text": t("We keep your contacts to tell you about internships."),
            "guardian_text": t("As guardian I agree."),
        },
    }


async def wait_for(predicate, timeout: float = 10.0, step: float = 0.1):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(step)


# --- Signals ------------------------------------------------------------------------------


async def test_tour_events_become_signals_once(make_platform, new_tour):
    platform = await make_platform(entrypoints=False, plugins=PLUGINS)
    tour = await new_tour(platform, plugins={"career": career_config()})
    visitor = secrets.token_hex(12)
    env = {"enterprise": tour.enterprise, "tour": tour.id, "visitor": visitor}
    events = [
        VisitorCheckedIn(station="s2", **env),
        VisitorCheckedIn(station="s2", repeat=True, **env),
        AudioListenProgressed(station="s2", track="cnc", lang="ru", quartile=1, **env),
        AudioListenProgressed(station="s2", track="cnc", lang="ru", quartile=2, **env),
        AudioListenFinished(station="s2", track="cnc", lang="ru", **env),
        QuestMissionCompleted(
            station="s2", mission="cnc-quiz", points=10, hints_used=0, correct_first_try=True, **env
        ),
        # Not a signal: the tour's intro audio has no station.
        AudioListenFinished(track="intro", lang="ru", **env),
    ]
    for event in events:
        await platform.bus.publish(event)
    # The replayed check-in again, as a redelivery would bring it: same event id,
    # stored anew (another Nats-Msg-Id), so only the handler can tell.
    await platform.bus.js.publish(
        events[1].subject, msgspec.json.encode(events[1]), headers={"Nats-Msg-Id": "again"}
    )
    key = f"sig.{visitor}"
    store = platform.store_for("career").for_tour(tour.key)

    async def counted() -> Signals | None:
        signals = await store.get(key, Signals)
        return signals if signals and len(signals.seen) >= 6 else None

    signals = await wait_for(counted)
    await asyncio.sleep(0.5)  # let the duplicate arrive, if it were to count
    signals = await store.get(key, Signals)
    station = signals.stations["s2"]
    assert (station.visits, station.replays, station.progressed, station.finished) == (1, 1, 2, 1)
    assert set(signals.missions) == {"cnc-quiz"} and signals.missions["cnc-quiz"].first_try
    assert len(signals.seen) == 6


# --- Leads --------------------------------------------------------------------------------


def form_values(html: str) -> dict[str, str]:
    return {
        name: re.search(rf'name="{name}" value="([^"]*)"', html).group(1)
        for name in ("_csrf", "nonce")
    }


def link(html: str, element_id: str) -> str:
    return re.search(rf'id="{element_id}" href="([^"]+)"', html).group(1)


async def send_lead(client: httpx.AsyncClient, base: str, **fields: Any) -> httpx.Response:
    page = await client.get(f"{base}/contact", params={"lang": "en"})
    assert page.status_code == 200
    data = {**form_values(page.text), **fields}
    response = await client.post(f"{base}/contact", data=data)
    response.sent = data  # type: ignore[attr-defined]
    return response


async def history_values(kv, key: str) -> list[bytes]:
    try:
        return [entry.value for entry in await kv.history(key) if entry.value]
    except nats.js.errors.NoKeysError:
        return []


async def scan_stream(bus) -> list[bytes]:
    """Every message of the event stream, all subjects."""
    sub = await bus.js.subscribe(
        "promtour.ev.>",
        stream=STREAM,
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
    )
    datas = []
    try:
        while True:
            msg = await sub.next_msg(timeout=5)
            datas.append(msg.data)
            if msg.metadata.num_pending == 0:
                break
    finally:
        await sub.unsubscribe()
    return datas


async def test_leads_consent_storage_hr_access_and_erasure(make_platform, serve_app, new_tour):
    setup = await make_platform(entrypoints=False, plugins=PLUGINS, consumers=False)
    tour = await new_tour(setup, plugins={"career": {**career_config(), "lead_retention_days": 30}})
    other = await new_tour(setup, plugins={"career": career_config()})
    await setup.import_enterprise(Enterprise(id=tour.enterprise, name=t("Works A")))
    _, hr_a = await create_token(setup.bus, tour.enterprise, "hr", "hr of A")
    _, guide_a = await create_token(setup.bus, tour.enterprise, "guide", "guide of A")
    _, hr_b = await create_token(setup.bus, other.enterprise, "hr", "hr of B")
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    base = f"/p/career/t/{tour.enterprise}/{tour.id}"
    api = f"/p/career/api/{tour.enterprise}"
    tag = secrets.token_hex(3)
    adult = {
        "name": f"Anna Smirnova {tag}",
        "contact": f"anna.{tag}@example.org",
        "age": "18plus",
        "place": "School 5",
        "profession": ["press-operator", "cnc-programmer"],
    }
    personal = [adult["name"], adult["contact"]]
    kv = await setup.bus.bucket(bucket_name("career"))

    def auth(secret: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {secret}"}

    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        # Without consent: refused, with the reason, and what was typed is still there.
        refused = await send_lead(client, base, **adult)
        assert refused.status_code == 400
        assert "Without your consent we cannot pass your contacts" in refused.text
        assert adult["name"] in refused.text

        # Under 18 without a guardian's consent: refused.
        minor = {**adult, "age": "16-17", "consent": "yes"}
        refused = await send_lead(client, base, **minor)
        assert refused.status_code == 400
        assert "You are under 18" in refused.text and "parent or guardian" in refused.text
        assert await history_values(kv, f"lead.{tour.enterprise}.x") == []

        # Consented: stored as a personal record, erased after the enterprise's
        # retention (an expiry index entry); the server's TTL is only the backstop.
        accepted = await send_lead(client, base, consent="yes", **adult)
        assert accepted.status_code == 200, accepted.text
        my_url = link(accepted.text, "my-link")
        lead_id = my_url.split("/")[-2]
        raw = await setup.bus.js.get_last_msg(
            KV_STREAM, f"$KV.{bucket_name('career')}.lead.{tour.enterprise}.{lead_id}"
        )
        assert raw.headers["Nats-TTL"] == backstop(30 * 24 * 3600)
        index = await setup.bus.keys(bucket_name("career"), EXPIRY_PREFIX)
        assert any(k.endswith(f".{raw.seq}.lead.{tour.enterprise}.{lead_id}") for k in index)
        assert adult["name"].encode() in raw.data
        # The same form sent again (a retried request): stored once.
        again = await client.post(f"{base}/contact", data=accepted.sent)
        assert again.status_code == 200 and "already received this form" in again.text

        # The event carries the lead id only: HR fetches the lead with its token.
        subject = subject_for(tour.enterprise, tour.id, "career_lead_created")
        event = msgspec.json.decode((await setup.bus.js.get_last_msg(STREAM, subject)).data)
        assert event["lead"] == lead_id and event["visitor"] is None
        got = await client.get(f"{api}/leads/{event['lead']}", headers=auth(hr_a))
        assert got.status_code == 200
        body = got.json()
        assert body["name"] == adult["name"] and body["contact"] == adult["contact"]
        assert body["consent"]["version"] == "test-7" and body["professions"] == [
            "press-operator",
            "cnc-programmer",
        ]
        assert "secret_sha256" not in body

        listed = (await client.get(f"{api}/leads", headers=auth(hr_a))).json()
        assert [lead["id"] for lead in listed] == [lead_id]
        exported = await client.get(f"{api}/leads.csv?sep=semicolon", headers=auth(hr_a))
        assert exported.headers["content-type"].startswith("text/csv")
        assert exported.content.startswith(b"\xef\xbb\xbf")
        assert f";{adult['name']};{adult['contact']};" in exported.content.decode("utf-8-sig")

        bad_sep = await client.get(f"{api}/leads.csv?sep=tab", headers=auth(hr_a))
        assert bad_sep.status_code == 400 and "semicolon" in bad_sep.json()["detail"]
        for bad in ("not-a-lead", "*", "a.b.c", "%3E"):
            missing = await client.get(f"{api}/leads/{bad}", headers=auth(hr_a))
            assert missing.status_code == 404, bad

        # Another enterprise's HR, a guide, no token: nothing.
        assert (await client.get(f"{api}/leads", headers=auth(hr_b))).status_code == 404
        cross = await client.get(f"{api}/leads/{lead_id}", headers=auth(hr_b))
        assert cross.status_code == 404 and cross.json()["detail"]
        other_api = f"/p/career/api/{other.enterprise}/leads/{lead_id}"
        assert (await client.get(other_api, headers=auth(hr_b))).status_code == 404
        assert (await client.delete(other_api, headers=auth(hr_b))).status_code == 404
        assert (await client.get(f"{api}/leads", headers=auth(guide_a))).status_code == 403
        assert (await client.get(f"{api}/leads.csv", headers=auth(hr_b))).status_code == 404
        assert (await client.get(f"{api}/leads")).status_code == 401
        unauthorized = await client.delete(f"{api}/leads/{lead_id}")
        assert unauthorized.status_code == 401 and "token" in unauthorized.json()["detail"]
        assert (await client.get(f"{api}/leads/{lead_id}", headers=auth(hr_a))).status_code == 200

        # HR erases: gone, with its history, and the erasure is announced.
        erased = await client.delete(f"{api}/leads/{lead_id}", headers=auth(hr_a))
        assert erased.status_code == 204
        assert await history_values(kv, f"lead.{tour.enterprise}.{lead_id}") == []
        assert (await client.get(f"{api}/leads/{lead_id}", headers=auth(hr_a))).status_code == 404
        assert (await client.get(my_url)).status_code == 404
        subject = subject_for(tour.enterprise, tour.id, "career_lead_erased")
        event = msgspec.json.decode((await setup.bus.js.get_last_msg(STREAM, subject)).data)
        assert event["lead"] == lead_id and event["by"] == "hr"

        # The visitor erases their own lead through the private link.
        second = {
            **adult,
            "name": f"Boris Petrov {tag}",
            "contact": f"+7 912 {secrets.randbelow(10**7):07d}",
        }
        personal += [second["name"], second["contact"]]
        accepted = await send_lead(client, base, consent="yes", **second)
        my_url = link(accepted.text, "my-link")
        second_id = my_url.split("/")[-2]
        mine = await client.get(my_url)
        assert mine.status_code == 200 and second["name"] in mine.text
        assert mine.headers["referrer-policy"] == "no-referrer"
        wrong = my_url[:-4] + "AAAA"
        assert (await client.get(wrong)).status_code == 404
        erase = await client.post(f"{my_url}/erase", data={"_csrf": csrf_token(mine.text)})
        assert erase.status_code == 200 and "erased" in erase.text.lower()
        assert (await client.get(my_url)).status_code == 404
        assert await history_values(kv, f"lead.{tour.enterprise}.{second_id}") == []

        # A minor with a guardian: pending, invisible to HR until the guardian confirms.
        third = {
            **adult,
            "name": f"Dasha Ivanova {tag}",
            "contact": f"dasha.{tag}@example.org",
            "age": "14-15",
            "consent": "yes",
            "guardian_name": f"Olga Ivanova {tag}",
            "guardian_contact": f"olga.{tag}@example.org",
            "guardian_consent": "yes",
        }
        personal += [third["name"], third["contact"], third["guardian_name"]]
        personal += [third["guardian_contact"]]
        accepted = await send_lead(client, base, **third)
        assert accepted.status_code == 200
        guardian_url = link(accepted.text, "guardian-link")
        third_id = guardian_url.split("/")[-2]
        raw = await setup.bus.js.get_last_msg(
            KV_STREAM, f"$KV.{bucket_name('career')}.pending.{tour.enterprise}.{third_id}"
        )
        assert raw.headers["Nats-TTL"] == backstop(7 * 24 * 3600)
        assert (await client.get(f"{api}/leads", headers=auth(hr_a))).json() == []
        pending = await client.get(f"{api}/leads/{third_id}", headers=auth(hr_a))
        assert pending.status_code == 404
        page = await client.get(guardian_url)
        assert page.status_code == 200 and third["name"] in page.text
        token = csrf_token(page.text)
        no_tick = await client.post(guardian_url, data={"_csrf": token, "action": "confirm"})
        assert no_tick.status_code == 400
        assert (await client.get(guardian_url[:-3] + "xyz")).status_code == 404
        confirmed = await client.post(
            guardian_url, data={"_csrf": token, "action": "confirm", "agree": "yes"}
        )
        assert confirmed.status_code == 200
        listed = (await client.get(f"{api}/leads", headers=auth(hr_a))).json()
        assert [lead["id"] for lead in listed] == [third_id]
        assert listed[0]["guardian"]["confirmed"] and listed[0]["status"] == "active"
        assert await history_values(kv, f"pending.{tour.enterprise}.{third_id}") == []
        raw = await setup.bus.js.get_last_msg(
            KV_STREAM, f"$KV.{bucket_name('career')}.lead.{tour.enterprise}.{third_id}"
        )
        assert raw.headers["Nats-TTL"] == backstop(30 * 24 * 3600)
        await client.delete(f"{api}/leads/{third_id}", headers=auth(hr_a))

    # The purge markers expire too: nothing of the erased leads is left in the bucket.
    async def gone() -> bool:
        for key in (
            f"lead.{tour.enterprise}.{lead_id}",
            f"lead.{tour.enterprise}.{second_id}",
            f"pending.{tour.enterprise}.{third_id}",
        ):
            try:
                await kv.history(key)
                return False
            except nats.js.errors.NoKeysError:
                pass
        return True

    await wait_for(gone, timeout=15, step=0.5)

    # No name or contact ever reached the event stream.
    stream = b"\n".join(await scan_stream(setup.bus))
    assert stream
    for value in personal:
        assert value.encode() not in stream, value
        assert msgspec.json.encode(value)[1:-1] not in stream


async def test_lead_form_is_off_without_consent_text(make_platform, serve_app, new_tour):
    setup = await make_platform(entrypoints=False, plugins=PLUGINS, consumers=False)
    config = career_config()
    del config["consent"]
    tour = await new_tour(setup, plugins={"career": config}, stations=4)
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        # A station without professions still points to the quiz.
        station = await client.get(station_path(tour, "s4"), params={"lang": "en"})
        assert 'data-plugin="career"' in station.text and 'class="career-card' not in station.text
        assert f"/p/career/t/{tour.enterprise}/{tour.id}/quiz" in station.text
        response = await client.get(f"/p/career/t/{tour.enterprise}/{tour.id}/contact")
        assert response.status_code == 404
        assert "does not collect contacts" in response.text or "не собираются" in response.text
        # The rest works without it: the quiz page and a profession page.
        quiz = await client.get(f"/p/career/t/{tour.enterprise}/{tour.id}/quiz?lang=en")
        assert quiz.status_code == 200 and quiz.text.count('class="career-q"') == 30
        page = await client.get(
            f"/p/career/t/{tour.enterprise}/{tour.id}/professions/mentor?lang=en"
        )
        assert page.status_code == 200 and "What a mentor does." in page.text
        missing = await client.get(f"/p/career/t/{tour.enterprise}/{tour.id}/professions/nope")
        assert missing.status_code == 404
