"""The station's protective-equipment panel is the same for every visitor: rendered once
per tour revision, station and language, and still current after the tour is saved."""

from __future__ import annotations

import asyncio
import re

import msgspec
from promtour.testing import station_path
from visits_helpers import minted_client, safety_config

PPE_LIST = re.compile(r'<ul class="safety-ppe">.*?</ul>', re.S)


async def test_ppe_panel_is_rendered_once_and_follows_a_saved_tour(
    make_platform, serve_app, new_tour
):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, plugins={"safety": safety_config(briefing=False)})
    server = serve_app()
    renders: list[str] = []
    render = server.platform.render

    def counting(template: str, *args, **kwargs):
        renders.append(template)
        return render(template, *args, **kwargs)

    server.platform.render = counting
    visitors = [minted_client(server, tour)[0] for _ in range(3)]
    try:
        lists = []
        for phone in visitors:
            page = await phone.get(station_path(tour, "s1"), headers={"Accept-Language": "ru"})
            assert page.status_code == 200
            assert "Средства защиты здесь" in page.text
            lists.append(PPE_LIST.search(page.text).group(0))
        assert "Каска" in lists[0] and "Защитные очки" in lists[0]
        assert lists[1] == lists[0] and lists[2] == lists[0]
        assert renders.count("safety/ppe.html") == 1  # not once per visitor

        # Another process saves the tour: the next scans show the new equipment.
        config = {**safety_config(briefing=False), "ppe": {"s1": ["gloves"]}}
        state = await setup.tours.refresh(tour.key)
        changed = msgspec.structs.replace(state.tour, plugins={"safety": config})
        await setup.save_tour(changed, media=frozenset())
        for _ in range(100):
            page = await visitors[0].get(
                station_path(tour, "s1"), headers={"Accept-Language": "ru"}
            )
            if "Перчатки" in page.text:
                break
            await asyncio.sleep(0.05)
        assert "Перчатки" in page.text and "Каска" not in page.text
    finally:
        for phone in visitors:
            await phone.aclose()
