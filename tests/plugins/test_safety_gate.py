"""``briefing = "groups"`` (the demo's): a visitor on their own goes straight to the
stations; a pupil who joined a booked class meets the briefing first."""

from __future__ import annotations

from promtour.testing import station_path
from visits_helpers import SOON_SLOT, minted_client, post_booking, safety_config, visits_config


async def test_briefing_for_groups_holds_back_only_pupils_of_a_group(
    make_platform, serve_app, new_tour
):
    setup = await make_platform(consumers=False)
    safety = {**safety_config(), "briefing": "groups"}
    tour = await new_tour(setup, plugins={"visits": visits_config(), "safety": safety})
    server = serve_app()
    alone, _ = minted_client(server, tour)
    pupil, token = minted_client(server, tour)
    try:
        page = await alone.get(station_path(tour, "s1"))
        assert "Hard hat" in page.text  # the station's own panels
        assert "safety-briefing" not in page.text

        made = (await post_booking(pupil, token, tour, slot=SOON_SLOT, size=5)).json()
        await pupil.post(
            f"/t/{tour.enterprise}/{tour.id}/group", data={"code": made["code"], "_csrf": token}
        )
        page = await pupil.get(station_path(tour, "s1"))
        assert "safety-briefing" in page.text
        assert "Your age, years" in page.text  # the tour's min_age is asked
        assert "Hard hat" not in page.text
    finally:
        await alone.aclose()
        await pupil.aclose()
