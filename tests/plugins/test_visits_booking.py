"""Booking a slot: capacity under concurrency, the waitlist's order, bad input, and the
group code that pupils join with."""

from __future__ import annotations

import asyncio

from promtour._context import PluginContext
from promtour.plugins.visits.records import SlotState
from visits_helpers import (
    DAY,
    PAST_SLOT,
    SLOT,
    SOON_SLOT,
    client_for,
    minted_client,
    post_booking,
    visits_config,
)


async def _slot(platform, tour) -> SlotState:
    state = await platform.tours.get(tour.key)
    ctx = PluginContext(platform, "visits", state)
    return await ctx.tour_store.get(f"slot.{SLOT}", SlotState) or SlotState()


async def test_fifty_concurrent_bookings_never_overbook_and_the_waitlist_keeps_order(
    make_platform, serve_app, new_tour
):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, plugins={"visits": visits_config(capacity=30)})
    server = serve_app()
    clients = [minted_client(server, tour) for _ in range(50)]
    try:
        answers = await asyncio.gather(*(post_booking(c, t, tour, size=1) for c, t in clients))
        assert all(a.status_code == 201 for a in answers), [a.text for a in answers][:3]
        slot = await _slot(setup, tour)
        assert slot.taken == 30  # never more than the capacity
        assert len(slot.booked) == 30 and len(slot.waitlist) == 20
        first_waiting = [h.booking for h in slot.waitlist[:3]]
        # The booking page shows the slot as full.
        page = await clients[0][0].get(f"/p/visits/t/{tour.enterprise}/{tour.id}/book")
        assert "Full: you join the waiting list" in page.text
        # Three booked groups cancel by their private links: the first three waiting
        # groups get the places, in order.
        links = {a.json()["booking"]: a.json()["link"] for a in answers}
        for hold in slot.booked[:3]:
            client, token = clients[0]
            done = await client.post(
                links[hold.booking] + "/cancel",
                headers={"X-CSRF-Token": token, "Accept": "application/json"},
            )
            assert done.json() == {"status": "cancelled"}
        after = await _slot(setup, tour)
        assert after.taken == 30
        assert [h.booking for h in after.booked[-3:]] == first_waiting
        assert len(after.waitlist) == 17
        leader = await clients[0][0].get(links[first_waiting[0]])
        assert "Group code" in leader.text
    finally:
        for client, _ in clients:
            await client.aclose()


async def test_bad_input_is_explained_and_nothing_is_written(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, plugins={"visits": visits_config(capacity=20, min_age=12)})
    server = serve_app()
    client, token = await client_for(server.url, tour)
    try:
        cases = [
            ({"slot": PAST_SLOT}, "in the past"),
            ({"size": 21}, "this slot takes at most 20 people"),
            ({"age_min": 9, "age_max": 10}, "aged 12 and over"),
            ({"consent": ""}, "Tick the consent"),
            ({"email": "", "phone": ""}, "e-mail address or a phone number"),
        ]
        for changes, message in cases:
            answer = await post_booking(client, token, tour, **changes)
            assert answer.status_code == 400, changes
            assert message in answer.json()["error"], (changes, answer.json())
        # The form page explains too, and keeps what was typed.
        page = await client.post(
            f"/p/visits/t/{tour.enterprise}/{tour.id}/book",
            data={**{"_csrf": token}, **_form(size=25)},
        )
        assert page.status_code == 400
        assert "A group of 25 does not fit" in page.text
        assert 'value="School 7"' in page.text
        # Nothing was written: no booking, no contact, no group code, no slot record.
        state = await setup.tours.get(tour.key)
        ctx = PluginContext(setup, "visits", state)
        assert await ctx.tour_store.keys() == []
        # An unknown group code is refused on the tour's start page form.
        start = await client.get(f"/t/{tour.enterprise}/{tour.id}")
        assert "Coming with a class?" in start.text
        refused = await client.post(
            f"/t/{tour.enterprise}/{tour.id}/group", data={"code": "ZZZZ99", "_csrf": token}
        )
        assert refused.status_code == 400
        assert "There is no group with the code ZZZZ99 on this tour" in refused.text
        progress = await client.get(f"/api/v1/visitor/tours/{tour.enterprise}/{tour.id}/progress")
        assert progress.json()["group"] is None
    finally:
        await client.aclose()


def _form(**changes):
    from visits_helpers import booking

    return {k: str(v) for k, v in booking(**changes).items()}


async def test_group_code_of_a_booking_is_joined_on_its_day(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, plugins={"visits": visits_config()})
    server = serve_app()
    client, token = await client_for(server.url, tour)
    try:

        async def join(code: str):
            return await client.post(
                f"/t/{tour.enterprise}/{tour.id}/group", data={"code": code, "_csrf": token}
            )

        async def group() -> str | None:
            path = f"/api/v1/visitor/tours/{tour.enterprise}/{tour.id}/progress"
            return (await client.get(path)).json()["group"]

        # A booking three days ahead: its code does not work yet, and the pupil is told
        # when it will.
        later = (await post_booking(client, token, tour, size=5)).json()
        refused = await join(later["code"])
        assert refused.status_code == 400
        assert f"visits on {DAY.strftime('%d.%m.%Y')}" in refused.text
        assert await group() is None
        # Today's booking: its code (typed in lower case) is joined.
        made = (await post_booking(client, token, tour, slot=SOON_SLOT, size=25)).json()
        joined = await join(made["code"].lower())
        assert joined.status_code in (200, 303)
        assert await group() == made["code"]
        # A second group that does not fit the rest waits; its code cannot be joined yet.
        waiting = (await post_booking(client, token, tour, slot=SOON_SLOT, size=10)).json()
        refused = await join(waiting["code"])
        assert refused.status_code == 400
        assert "waiting list" in refused.text
    finally:
        await client.aclose()
