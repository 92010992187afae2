"""Quest rules over HTTP against a live app and a real nats-server: check-in before a
mission, no answers in the page, attempt and rate limits, hints, order, nicknames,
teams, boards, badges and the certificate."""

from __future__ import annotations

import asyncio
import html as htmllib
import re
from pathlib import Path

import httpx
import msgspec
import promtour.plugins.quests as quests_plugin
from promtour._auth import create_token
from promtour.plugins.quests.records import Team, VisitorState, team_key, visitor_key
from promtour.testing import csrf_token, read_events, station_path

#: Only this plugin: the tests see its panels and routes and nobody else's.
PLUGINS = [("quests", quests_plugin)]

STATIC = Path(__file__).resolve().parents[2] / "plugins" / "quests" / "static"
JSON = {"Accept": "application/json"}
EN = {"Accept-Language": "en"}


def t(text: str) -> dict[str, str]:
    return {"en": text, "ru": f"RU {text}"}


def mission(mid: str, station: str, kind: str, **fields: object) -> dict[str, object]:
    return {"id": mid, "station": station, "type": kind, "question": t(f"Question {mid}"), **fields}


def quest(**overrides: object) -> dict[str, object]:
    config: dict[str, object] = {
        "missions": [
            mission(
                "pick",
                "s1",
                "single",
                points=10,
                choices=[
                    {"text": t("Forklift")},
                    {"text": t("Overhead crane"), "correct": True},
                    {"text": t("Conveyor")},
                ],
                hints=[{"text": t("Look up"), "cost": 3}],
                explanation=t("Cranes lift coils"),
            ),
            mission("plate", "s2", "code", points=15, answers=["KP-1000"], numeric=False),
        ]
    }
    config.update(overrides)
    return config


def card(page: str, mission_id: str) -> str:
    found = re.search(rf'<article[^>]*id="m-{mission_id}".*?</article>', page, re.S)
    assert found, f"mission {mission_id} is not on the page"
    return found.group(0)


def options(page: str, mission_id: str) -> dict[str, str]:
    """label -> opaque value of a mission's choices."""
    pairs = re.findall(r'value="([^"]+)"[^>]*> <span>([^<]+)</span>', card(page, mission_id))
    return {htmllib.unescape(label): value for value, label in pairs}


def base(tour) -> str:
    return f"/p/quests/{tour.enterprise}/{tour.id}"


async def answer(client: httpx.AsyncClient, tour, mid: str, token: str, **form: object):
    data = {"_csrf": token, **form}
    return await client.post(f"{base(tour)}/m/{mid}/answer", data=data, headers=JSON)


async def events_of(bus, tour, event_type: str) -> list[dict[str, object]]:
    return [msgspec.json.decode(data) for data in await read_events(bus, tour, event_type)]


async def test_a_mission_opens_only_after_a_check_in_at_its_station(quest_app):
    _, tour, server = await quest_app(quest())
    async with httpx.AsyncClient(base_url=server.url, headers=EN) as client:
        page = (await client.get(station_path(tour, "s1"))).text
        token = csrf_token(page)
        # Checked in at station 1 only: the mission at station 2 is refused, clearly.
        refused = await answer(client, tour, "plate", token, answer="KP-1000")
        assert refused.status_code == 403
        detail = refused.json()["detail"]
        assert "Scan the QR code at station 2" in detail and "Station 2" in detail
        # The same without JavaScript: an HTML page with the message.
        page403 = await client.post(
            f"{base(tour)}/m/plate/answer", data={"_csrf": token, "answer": "KP-1000"}
        )
        assert page403.status_code == 403 and "Scan the QR code at station 2" in page403.text
        # After the check-in the same answer counts.
        await client.get(station_path(tour, "s2"))
        ok = await answer(client, tour, "plate", token, answer="kp 1000")
        assert ok.status_code == 200 and ok.json()["result"] == "correct"
        assert ok.json()["score"] == 15


async def test_right_answers_are_never_in_the_page_or_its_scripts(quest_app):
    steps = [t("Design step"), t("Program step"), t("Rough step"), t("Finish step")]
    config = quest(
        missions=[
            mission(
                "pick",
                "s1",
                "single",
                choices=[
                    {"text": t("Forklift")},
                    {"text": t("Overhead crane"), "correct": True},
                    {"text": t("Conveyor")},
                ],
                explanation=t("EXPLAINMARKER one"),
            ),
            mission(
                "many",
                "s1",
                "multiple",
                choices=[
                    {"text": t("Fence"), "correct": True},
                    {"text": t("Sign only")},
                    {"text": t("Light curtain"), "correct": True},
                ],
            ),
            mission("plate", "s1", "code", answers=["ZQ-4711-WX"], explanation=t("EXPLAINMARKER")),
            mission("steps", "s1", "order", steps=steps),
            mission("where", "s1", "riddle", answer_station="s3"),
        ]
    )
    _, tour, server = await quest_app(config)
    async with httpx.AsyncClient(base_url=server.url, headers=EN) as client:
        page = (await client.get(station_path(tour, "s1"))).text
        # The quests' script comes in the tour's one script bundle (web/assets.py): on a
        # new visitor's first page inline, and prefetched for the next pages.
        scripts = re.findall(r'<script[^>]*src="([^"]+)"', page)
        scripts += re.findall(r'<link rel="prefetch" href="([^"]+\.js)"', page)
        assert any(src.startswith("/static/b/") and "quests" in src for src in scripts)
        bundle = page + "".join([(await client.get(src)).text for src in scripts])
        assert "quests/quests.js" in bundle
        for secret in (
            "ZQ-4711-WX",
            "ZQ4711",
            "zq4711wx",
            "EXPLAINMARKER",
            "correct",
            "answer_station",
        ):
            assert secret.lower() not in bundle.lower(), secret
        # Choices differ only by their opaque value and their text.
        for mid in ("pick", "many"):
            inputs = re.findall(r"<input[^>]*name=\"choice\"[^>]*>", card(page, mid))
            assert len(inputs) == 3
            shapes = {re.sub(r'value="[^"]*"', "", tag) for tag in inputs}
            assert len(shapes) == 1, shapes
        # Steps are never listed in their right order.
        shown = re.findall(r"<label for=\"p-steps-\d\">([^<]+)</label>", card(page, "steps"))
        assert sorted(shown) == sorted(s["en"] for s in steps)
        assert shown != [s["en"] for s in steps]
        # Another visitor gets other values for the same choices.
        async with httpx.AsyncClient(base_url=server.url, headers=EN) as other:
            other_page = (await other.get(station_path(tour, "s1"))).text
        assert options(other_page, "pick").keys() == options(page, "pick").keys()
        assert options(other_page, "pick") != options(page, "pick")
        # A wrong answer's response does not tell the right one either.
        token = csrf_token(page)
        wrong = await answer(client, tour, "plate", token, answer="nope")
        assert wrong.json()["result"] == "wrong"
        assert "ZQ" not in wrong.text and "EXPLAINMARKER" not in wrong.text
        # The explanation comes once the mission is solved.
        right = await answer(client, tour, "plate", token, answer="zq 4711 wx")
        assert right.json()["result"] == "correct" and "EXPLAINMARKER" in right.json()["html"]


async def test_attempts_are_limited_and_a_repeated_answer_counts_once(quest_app, bus):
    _, tour, server = await quest_app(quest(max_attempts=2))
    async with httpx.AsyncClient(base_url=server.url, headers=EN) as client:
        token = csrf_token((await client.get(station_path(tour, "s2"))).text)
        first = await answer(client, tour, "plate", token, answer="KP-999")
        assert first.json()["result"] == "wrong"
        assert "Attempts left: 1" in first.json()["message"]
        # The same wrong answer twice at once (a double tap) and again later: free.
        again = await asyncio.gather(
            *(answer(client, tour, "plate", token, answer="kp 999") for _ in range(2))
        )
        assert [r.json()["result"] for r in again] == ["repeat", "repeat"]
        last = await answer(client, tour, "plate", token, answer="KP-998")
        assert last.json()["result"] == "wrong"
        assert "last attempt" in last.json()["message"]
        # Out of attempts: even the right answer is refused now.
        late = await answer(client, tour, "plate", token, answer="KP-1000")
        assert late.status_code == 403 and "No attempts left" in late.json()["detail"]
        visitor = client.cookies["pt_v"].rsplit(".", 1)[0]
    submitted = await events_of(bus, tour, "quest_answer_submitted")
    assert [(e["attempt"], e["correct"]) for e in submitted] == [(1, False), (2, False)]
    assert all(e["visitor"] == visitor and e["mission"] == "plate" for e in submitted)
    failed = await events_of(bus, tour, "quest_mission_failed")
    assert len(failed) == 1 and failed[0]["attempts"] == 2
    assert await events_of(bus, tour, "quest_mission_completed") == []


async def test_hints_cost_points_once_and_the_award_is_an_event(quest_app, bus):
    _, tour, server = await quest_app(quest(wrong_answer_cost=2))
    async with httpx.AsyncClient(base_url=server.url, headers=EN) as client:
        page = (await client.get(station_path(tour, "s1"))).text
        token = csrf_token(page)
        assert "Look up" not in page and "Take a hint (−3 points)" in page
        hint_url = f"{base(tour)}/m/pick/hint"
        taps = await asyncio.gather(
            *(
                client.post(hint_url, data={"_csrf": token, "n": "0"}, headers=JSON)
                for _ in range(2)
            )
        )
        assert all(r.status_code == 200 for r in taps)
        assert "Look up" in taps[0].json()["html"]
        choices = options(page, "pick")
        wrong = await answer(client, tour, "pick", token, choice=choices["Forklift"])
        assert wrong.json()["result"] == "wrong"
        right = await answer(client, tour, "pick", token, choice=choices["Overhead crane"])
        body = right.json()
        # 10 points, less the hint (3) and one wrong answer (2).
        assert body["result"] == "correct" and body["score"] == 5
        assert "Cranes lift coils" in body["html"]
        # Without JavaScript the form redirects back to the station page.
        plain = await client.post(
            f"{base(tour)}/m/pick/answer",
            data={"_csrf": token, "choice": choices["Overhead crane"]},
        )
        assert plain.status_code == 303 and plain.headers["location"].endswith("/at/s1#m-pick")
    hints = await events_of(bus, tour, "quest_hint_taken")
    assert [(h["hint"], h["cost"]) for h in hints] == [(1, 3)]
    (done,) = await events_of(bus, tour, "quest_mission_completed")
    assert done["mission"] == "pick" and done["points"] == 5 and done["hints_used"] == 1
    assert done["correct_first_try"] is False and done["station"] == "s1"


async def test_answers_are_rate_limited_per_visitor(quest_app):
    _, tour, server = await quest_app(quest())
    async with httpx.AsyncClient(base_url=server.url, headers=EN) as client:
        token = csrf_token((await client.get(station_path(tour, "s2"))).text)
        codes = [
            (await answer(client, tour, "plate", token, answer="same")).status_code
            for _ in range(21)
        ]
        assert codes[:20] == [200] * 20 and codes[20] == 429
    # Another visitor (the same IP: a school class) is not held back.
    async with httpx.AsyncClient(base_url=server.url, headers=EN) as other:
        token = csrf_token((await other.get(station_path(tour, "s2"))).text)
        assert (await answer(other, tour, "plate", token, answer="x")).status_code == 200


async def test_fixed_order_opens_a_station_after_the_previous_one(quest_app):
    _, tour, server = await quest_app(quest(order="fixed"))
    async with httpx.AsyncClient(base_url=server.url, headers=EN) as client:
        page1 = (await client.get(station_path(tour, "s1"))).text
        page2 = (await client.get(station_path(tour, "s2"))).text
        token = csrf_token(page1)
        assert "opens after the missions at station 1" in card(page2, "plate")
        early = await answer(client, tour, "plate", token, answer="KP-1000")
        assert early.status_code == 403
        assert "opens after the missions at station 1" in early.json()["detail"]
        choices = options(page1, "pick")
        await answer(client, tour, "pick", token, choice=choices["Overhead crane"])
        now = await answer(client, tour, "plate", token, answer="KP-1000")
        assert now.json()["result"] == "correct"


async def test_nicknames_are_checked_and_stay_out_of_events(quest_app, bus):
    _, tour, server = await quest_app(quest())
    async with httpx.AsyncClient(base_url=server.url, headers=EN) as client:
        start = (await client.get(f"/t/{tour.enterprise}/{tour.id}")).text
        assert "not your real name" in start
        token = csrf_token(start)
        url = f"{base(tour)}/nickname"
        for bad, reason in (
            ("ab", "3 to 20 characters"),
            ("Cyka Blyat", "choose another"),
            ("F.u.c.k", "choose another"),
            ("89123456789", "at least one letter"),
            ("Vasya 89123456", "phone numbers"),
        ):
            refused = await client.post(url, data={"_csrf": token, "nickname": bad})
            assert refused.status_code == 400 and reason in refused.text, bad
        ok = await client.post(
            url, data={"_csrf": token, "nickname": "Steel Fox", "next": "https://evil.example/"}
        )
        assert ok.status_code == 303 and ok.headers["location"] == f"/t/{tour.enterprise}/{tour.id}"
        token = csrf_token((await client.get(station_path(tour, "s2"))).text)
        await answer(client, tour, "plate", token, answer="KP-1000")
        start = (await client.get(f"/t/{tour.enterprise}/{tour.id}")).text
        assert "Steel Fox" in start
    stored = await read_events(bus, tour)
    assert not [data for data in stored if b"Steel Fox" in data]
    types = {msgspec.json.decode(data)["type"] for data in stored}
    assert {"quest_nickname_chosen", "quest_mission_completed"} <= types


async def visitor_of(client: httpx.AsyncClient) -> str:
    return client.cookies["pt_v"].rsplit(".", 1)[0]


async def test_teams_count_a_mission_once_and_show_who_did_what(quest_app):
    setup, tour, server = await quest_app(quest(team_size=2))
    clients = [httpx.AsyncClient(base_url=server.url, headers=EN) for _ in range(3)]
    try:
        ann, bob, cid = clients
        tokens = []
        for client, nick in zip(clients, ("Ann Fox", "Bob Bear", "Cid Owl"), strict=True):
            page = (await client.get(station_path(tour, "s2"))).text
            tokens.append(csrf_token(page))
            await client.post(
                f"{base(tour)}/nickname", data={"_csrf": tokens[-1], "nickname": nick}
            )
        made = await ann.post(f"{base(tour)}/team", data={"_csrf": tokens[0], "name": "Red Team"})
        assert made.status_code == 303
        code = made.headers["location"].rsplit("/", 1)[1]
        assert re.fullmatch(r"\d{6}", code)
        team_page = (await ann.get(made.headers["location"])).text
        assert "Red Team" in team_page and code in team_page and "<svg" in team_page
        # The team QR leads to a join page; joining twice is one membership.
        join = (await bob.get(f"{base(tour)}/team/{code}/join")).text
        assert "Join team Red Team" in join
        for _ in range(2):
            joined = await bob.post(
                f"{base(tour)}/team/join", data={"_csrf": tokens[1], "code": code}
            )
            assert joined.status_code == 303
        full = await cid.post(
            f"{base(tour)}/team/join", data={"_csrf": tokens[2], "code": code}, headers=JSON
        )
        assert full.status_code == 409 and "full" in full.json()["detail"]
        unknown = await cid.post(
            f"{base(tour)}/team/join", data={"_csrf": tokens[2], "code": "000000"}, headers=JSON
        )
        assert unknown.status_code == 404
        # Both members solve the same mission: it counts once, for the first one.
        assert (await answer(bob, tour, "plate", tokens[1], answer="KP-1000")).json()["score"] == 15
        assert (await answer(ann, tour, "plate", tokens[0], answer="KP-1000")).json()["score"] == 15
        team = await setup.store_for("quests").for_tour(tour.key).get(team_key(code), Team)
        assert team is not None and team.score == 15 and list(team.solved) == ["plate"]
        assert team.solved["plate"].visitor == await visitor_of(bob)
        page = (await cid.get(f"{base(tour)}/team/{code}")).text
        assert "Team score" in page and ">15<" in page
        row = re.search(r"Question plate.*?</tr>", page, re.S)
        assert row and "Bob Bear" in row.group(0) and "Ann Fox" not in row.group(0)
        assert "Ann Fox" in page and "Join this team" in page and "data-team-code" not in page
        # Cid solved a mission before starting a team: it counts for the new team.
        await answer(cid, tour, "plate", tokens[2], answer="KP-1000")
        other = await cid.post(f"{base(tour)}/team", data={"_csrf": tokens[2], "name": "Blue"})
        blue = other.headers["location"].rsplit("/", 1)[1]
        blue_team = await setup.store_for("quests").for_tour(tour.key).get(team_key(blue), Team)
        assert blue_team is not None and blue_team.score == 15
        # Bob scored for Red Team: he cannot switch to another team.
        switch = await bob.post(
            f"{base(tour)}/team/join", data={"_csrf": tokens[1], "code": blue}, headers=JSON
        )
        assert switch.status_code == 409 and "Red Team" in switch.json()["detail"]
    finally:
        for client in clients:
            await client.aclose()


async def test_boards_by_day_and_group_and_a_hidden_board(make_platform, serve_app, new_tour, bus):
    setup = await make_platform(entrypoints=False, plugins=PLUGINS, consumers=False)
    tour = await new_tour(setup, plugins={"quests": quest()})
    hidden = await new_tour(setup, plugins={"quests": quest(leaderboard="hidden")})
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    async with (
        httpx.AsyncClient(base_url=server.url, headers=EN) as one,
        httpx.AsyncClient(base_url=server.url, headers=EN) as two,
    ):
        for client, nick, group in ((one, "Iron Cat", "7A"), (two, "Tin Dog", "7B")):
            token = csrf_token((await client.get(station_path(tour, "s2"))).text)
            await client.post(
                f"/t/{tour.enterprise}/{tour.id}/group", data={"_csrf": token, "code": group}
            )
            await client.post(f"{base(tour)}/nickname", data={"_csrf": token, "nickname": nick})
            await answer(client, tour, "plate", token, answer="KP-1000")
        board = (await one.get(f"{base(tour)}/board")).text
        assert "Iron Cat" in board and "Tin Dog" in board and "(you)" in board
        group_board = (await one.get(f"{base(tour)}/board?group=7a")).text
        assert "Iron Cat" in group_board and "Tin Dog" not in group_board
        data = (await two.get(f"{base(tour)}/board.json")).json()
        assert [(r["name"], r["score"]) for r in data["rows"]] == [
            ("Iron Cat", 15),
            ("Tin Dog", 15),
        ]
        # A hidden board: visitors get a 404 with a reason, staff with a token see it.
        token = csrf_token((await one.get(station_path(hidden, "s2"))).text)
        await answer(one, hidden, "plate", token, answer="KP-1000")
        closed = await one.get(f"{base(hidden)}/board")
        assert closed.status_code == 404 and "hidden the leaderboard" in closed.text
        start = (await one.get(f"/t/{hidden.enterprise}/{hidden.id}")).text
        assert f"{base(hidden)}/board" not in start
        _, secret = await create_token(bus, hidden.enterprise, "guide", "screen")
        staff = await one.get(
            f"{base(hidden)}/board.json", headers={"Authorization": f"Bearer {secret}"}
        )
        assert staff.status_code == 200 and staff.json()["rows"][0]["score"] == 15
        _, foreign = await create_token(bus, tour.enterprise, "admin", "other")
        other = await one.get(
            f"{base(hidden)}/board.json", headers={"Authorization": f"Bearer {foreign}"}
        )
        assert other.status_code == 404


async def test_badges_quest_completion_and_the_certificate(make_platform, serve_app, new_tour, bus):
    setup = await make_platform(entrypoints=False, plugins=PLUGINS, consumers=False)
    tour = await new_tour(setup, plugins={"quests": quest()}, stations=2)
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    async with httpx.AsyncClient(base_url=server.url, headers=EN) as client:
        page = (await client.get(station_path(tour, "s1"))).text
        token = csrf_token(page)
        none_yet = await client.get(f"{base(tour)}/certificate")
        assert none_yet.status_code == 404
        await answer(client, tour, "pick", token, choice=options(page, "pick")["Overhead crane"])
        # The certificate asks for a nickname first.
        ask = (await client.get(f"{base(tour)}/certificate")).text
        assert "Choose a nickname to put on your certificate" in ask
        await client.post(
            f"{base(tour)}/nickname",
            data={"_csrf": token, "nickname": "Quick Lynx", "next": f"{base(tour)}/certificate"},
        )
        await client.get(station_path(tour, "s2"))
        done = await answer(client, tour, "plate", token, answer="KP-1000")
        assert done.json()["score"] == 25
        finish = (await client.get(f"/t/{tour.enterprise}/{tour.id}/finish")).text
        assert "25</strong> / 25" in finish
        earned = re.findall(r'class="quest-badge earned" data-badge="([^"]+)"', finish)
        assert sorted(earned) == ["explorer", "fast", "perfect", "sharp-eye"]
        cert = await client.get(f"{base(tour)}/certificate")
        assert cert.status_code == 200
        text = cert.text
        assert "Quick Lynx" in text and "Test tour" in text and "Test Works" in text
        assert "completed the quest of the tour" in text
        assert re.search(r'<time datetime="\d{4}-\d{2}-\d{2}" data-cert-date>', text)
        assert "Perfect score" in text and "@page" not in text  # print CSS is in quests.css
    badges = await events_of(bus, tour, "quest_badge_awarded")
    assert sorted(b["badge"] for b in badges) == ["explorer", "fast", "perfect", "sharp-eye"]
    (completed,) = await events_of(bus, tour, "quest_completed")
    assert completed["score"] == 25 and completed["solved"] == 2
    assert "@page" in (STATIC / "quests.css").read_text()
    state = (
        await setup.store_for("quests")
        .for_tour(tour.key)
        .get(visitor_key(completed["visitor"]), VisitorState)
    )
    assert state is not None and state.outbox == [] and state.completed is not None


async def test_switching_the_quest_off_removes_its_records(quest_app):
    setup, tour, server = await quest_app(quest())
    async with httpx.AsyncClient(base_url=server.url, headers=EN) as client:
        token = csrf_token((await client.get(station_path(tour, "s2"))).text)
        named = await client.post(
            f"{base(tour)}/nickname", data={"_csrf": token, "nickname": "Fox"}
        )
        team = await client.post(f"{base(tour)}/team", data={"_csrf": token, "name": "Foxes"})
        assert named.status_code == 303 and team.status_code == 303, (named.text, team.text)
        await answer(client, tour, "plate", token, answer="KP-1000")
    store = setup.store_for("quests").for_tour(tour.key)
    prefixes = [f"{kind}." for kind in "vtb"]
    assert all([await store.keys(prefix) for prefix in prefixes])
    current = await setup.tours.refresh(tour.key)
    assert current is not None
    await setup.save_tour(msgspec.structs.replace(current.tour, plugins={}), media=frozenset())
    assert [await store.keys(prefix) for prefix in prefixes] == [[], [], []]
