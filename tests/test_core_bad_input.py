"""Bad input over HTTP: each gets a friendly 4xx page with a reason, never a 500."""

from __future__ import annotations

import httpx
import msgspec
from promtour._tokens import new_tour_key, sign_station
from promtour.testing import station_path, unique

EN = {"Accept-Language": "en"}


def friendly(response: httpx.Response, status: int, *phrases: str) -> str:
    """Assert an HTML error page for people with the given status and phrases."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert 'role="alert"' in html
    assert "Traceback" not in html
    for phrase in phrases:
        assert phrase in html, phrase
    return html


async def test_bad_station_codes(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, plugins={"quests": {}})
    code = sign_station(tour, "s1")
    enterprise, tour_id, station, kid, sig = code.split(".")
    forged_sig = ("A" if sig[0] != "A" else "B") + sig[1:]
    # A code for a station that is not on the tour, correctly signed.
    ghost = sign_station(tour, "s9")
    # A code for a tour that does not exist here.
    unknown_tour = msgspec.structs.replace(tour, id=unique("nope"))
    server = serve_app()
    async with httpx.AsyncClient(base_url=server.url, headers=EN, timeout=10) as client:
        forged = await client.get(f"/s/{enterprise}.{tour_id}.{station}.{kid}.{forged_sig}")
        friendly(forged, 400, "This code is not valid", "Back to the tour")
        in_russian = await client.get(forged.url.path, headers={"Accept-Language": "ru"})
        friendly(in_russian, 400, "Этот код недействителен", "Вернуться к экскурсии")
        # Another station's id under this station's signature.
        swapped = await client.get(f"/s/{enterprise}.{tour_id}.s2.{kid}.{sig}")
        friendly(swapped, 400, "This code is not valid")
        truncated = await client.get(f"/s/{code[:-4]}")
        friendly(truncated, 400, "incomplete")
        cut = await client.get(f"/s/{enterprise}.{tour_id}.{station}")
        friendly(cut, 400, "incomplete")
        friendly(await client.get(f"/s/{sign_station(unknown_tour, 's1')}"), 404, "no tour")
        friendly(await client.get(f"/s/{ghost}"), 404, "no longer part of the tour")
        for junk in ("x", "%00", "a" * 300, "....", "Ж.Ж.Ж.Ж.Ж", "%2e%2e%2f%2e%2e"):
            response = await client.get(f"/s/{junk}")
            assert 400 <= response.status_code < 500, (junk, response.status_code)
        # Nothing was recorded for any of these.
        visitor = client.cookies.get("pt_v")
    assert visitor is not None
    assert await setup.visits.progress(tour, visitor.rsplit(".", 1)[0]) is None


async def test_code_from_before_a_key_rotation(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup)
    old_code = sign_station(tour, "s1")
    rotated = msgspec.structs.replace(tour, keys=[*tour.keys, new_tour_key()])
    state = await setup.save_tour(rotated, media=frozenset())
    new_code = sign_station(state.tour, "s1")
    assert new_code != old_code
    server = serve_app()
    async with httpx.AsyncClient(base_url=server.url, headers=EN, timeout=10) as client:
        friendly(await client.get(f"/s/{old_code}"), 400, "old poster")
        assert (await client.get(f"/s/{new_code}")).status_code == 200


async def test_disabled_station_is_gone_not_broken(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup)
    stations = [msgspec.structs.replace(s, enabled=s.id != "s2") for s in tour.stations]
    await setup.save_tour(msgspec.structs.replace(tour, stations=stations), media=frozenset())
    server = serve_app()
    async with httpx.AsyncClient(base_url=server.url, headers=EN, timeout=10) as client:
        html = friendly(await client.get(station_path(tour, "s2")), 410, "closed today")
        assert "Back to the tour" in html
        # Typing its number is refused the same way.
        friendly(
            await client.get(f"/t/{tour.enterprise}/{tour.id}/go", params={"n": "2"}),
            410,
            "closed today",
        )
        assert (await client.get(station_path(tour, "s1"))).status_code == 200
        visitor = client.cookies["pt_v"].rsplit(".", 1)[0]
    progress = await setup.visits.progress(tour, visitor)
    assert progress is not None and progress.visited == ["s1"]


async def test_typed_station_numbers(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, stations=3)
    server = serve_app()
    go = f"/t/{tour.enterprise}/{tour.id}/go"
    async with httpx.AsyncClient(base_url=server.url, headers=EN, timeout=10) as client:
        for number in ("99", "0", "abc", "", "-1", "1e3", "²", "9" * 5000):
            html = friendly(await client.get(go, params={"n": number}), 404)
            assert "no station with this number" in html, number[:10]
        ok = await client.get(go, params={"n": " 3 "})
        assert ok.status_code == 303
        assert ok.headers["location"] == f"/t/{tour.enterprise}/{tour.id}/at/s3"
        friendly(await client.get(f"/t/{tour.enterprise}/{unique('nope')}/go?n=1"), 404)


async def test_forms_need_csrf_and_bodies_have_a_limit(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup)
    server = serve_app(web={"max_body_bytes": 2000})
    group = f"/t/{tour.enterprise}/{tour.id}/group"
    async with httpx.AsyncClient(base_url=server.url, headers=EN, timeout=10) as client:
        page = await client.get(f"/t/{tour.enterprise}/{tour.id}")
        assert page.status_code == 200
        friendly(await client.post(group, data={"code": "CLASS7"}), 403, "reload the page")
        friendly(await client.post(group, data={"code": "CLASS7", "_csrf": "forged"}), 403)
        visitor = client.cookies["pt_v"].rsplit(".", 1)[0]
        token = server.platform.signer.mac(visitor, purpose="csrf")
        huge = {"code": "CLASS7", "_csrf": token, "padding": "x" * 5000}
        friendly(await client.post(group, data=huge), 413)
        # The same form, with its token and a normal size, is accepted.
        ok = await client.post(group, data={"code": "class7", "_csrf": token})
        assert ok.status_code == 303
        # A bad group code is a clear 400, not a 500.
        bad = await client.post(group, data={"code": "x y!", "_csrf": token})
        assert bad.status_code == 400
    progress = await setup.visits.progress(tour, visitor)
    assert progress is not None and progress.group == "CLASS7"


async def test_scan_rate_limit_per_visitor(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, stations=5)
    server = serve_app(web={"scan_rate_per_minute": 3})
    async with httpx.AsyncClient(base_url=server.url, headers=EN, timeout=10) as client:
        await client.get(f"/t/{tour.enterprise}/{tour.id}")
        for sid in ("s1", "s2", "s3"):
            assert (await client.get(station_path(tour, sid))).status_code == 200
        friendly(await client.get(station_path(tour, "s4")), 429, "Wait a minute")
        visitor = client.cookies["pt_v"].rsplit(".", 1)[0]
    # Another visitor (a classmate on the same IP) is not held back.
    async with httpx.AsyncClient(base_url=server.url, headers=EN, timeout=10) as other:
        assert (await other.get(station_path(tour, "s4"))).status_code == 200
    progress = await setup.visits.progress(tour, visitor)
    assert progress is not None and progress.visited == ["s1", "s2", "s3"]


async def test_scan_rate_limit_per_address_holds_against_fresh_cookies(
    make_platform, serve_app, new_tour
):
    """A new cookie per request does not reset the limit: the address is counted too."""
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, stations=5)
    server = serve_app(web={"scan_rate_per_address": 4, "trusted_proxies": ["127.0.0.1"]})
    statuses = []
    for _ in range(6):
        # A fresh client each time: no visitor cookie is ever sent back.
        async with httpx.AsyncClient(base_url=server.url, headers=EN, timeout=10) as client:
            statuses.append((await client.get(station_path(tour, "s1"))).status_code)
    assert statuses == [200, 200, 200, 200, 429, 429]
    # Behind the trusted proxy, another client address has its own count.
    headers = {**EN, "X-Forwarded-For": "203.0.113.7"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=10) as client:
        assert (await client.get(station_path(tour, "s2"))).status_code == 200
    # Without a trusted proxy the header is not believed: a made-up address per
    # request changes nothing.
    direct = serve_app(web={"scan_rate_per_address": 2})
    statuses = []
    for n in range(3):
        forged = {**EN, "X-Forwarded-For": f"198.51.100.{n}"}
        async with httpx.AsyncClient(base_url=direct.url, headers=forged, timeout=10) as client:
            statuses.append((await client.get(station_path(tour, "s3"))).status_code)
    assert statuses == [200, 200, 429]
