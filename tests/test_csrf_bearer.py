"""CSRF is not skipped by an arbitrary ``Authorization: Bearer`` header (issue 10,
defect 9): a junk or foreign token must not turn a cookie-authenticated form POST
into one that needs no CSRF token."""

from __future__ import annotations

from console_http import editor_tour, signed_in

EN = {"Accept-Language": "en"}


async def test_a_bearer_header_does_not_replace_the_csrf_token(make_platform, serve_app, new_tour):
    setup, tour, secret, server = await editor_tour(make_platform, serve_app, new_tour, stations=2)
    target = f"/console/{tour.enterprise}/tours/{tour.id}/stations/s1/toggle"
    async with signed_in(server, secret) as (client, csrf):
        # A valid session cookie, no CSRF token, and a made-up or even a real token:
        # the console acts on the cookie only, so the CSRF check must still run.
        for bearer in ("junk", "pt_abc_def", secret):
            refused = await client.post(
                target, data={}, headers={"Authorization": f"Bearer {bearer}"}
            )
            assert refused.status_code == 403, (bearer, refused.status_code)
        state = await setup.tours.refresh(tour.key)
        assert state.tour.stations[0].enabled  # nothing changed

        # Elsewhere a bearer header must be a valid token (401), or the route never runs.
        start = f"/t/{tour.enterprise}/{tour.id}"
        assert (await client.get(start)).status_code == 200
        group = await client.post(
            f"{start}/group", data={"code": "CLASS7"}, headers={"Authorization": "Bearer junk"}
        )
        assert group.status_code == 401

        done = await client.post(target, data={"_csrf": csrf})
        assert done.status_code == 303
        state = await setup.tours.refresh(tour.key)
        assert not state.tour.stations[0].enabled
