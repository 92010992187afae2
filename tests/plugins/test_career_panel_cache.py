"""The career station panel is rendered once per tour revision, station and language
and reused: every visitor sees the same cards, in their own language, and a saved tour
shows its new cards without a restart.
"""

from __future__ import annotations

import asyncio
import copy

import httpx
import promtour.plugins.career as career
from promtour.testing import station_path

PLUGINS = [("career", career)]


def t(en: str, ru: str) -> dict[str, str]:
    return {"en": en, "ru": ru}


def config(title: dict[str, str]) -> dict:
    return {
        "stations": {"s1": ["R"]},
        "professions": [
            {
                "id": "press-operator",
                "title": title,
                "summary": t("Runs the <press> & checks parts.", "Управляет прессом."),
                "stations": ["s1", "s2"],
                "riasec": ["R", "C"],
            }
        ],
    }


async def test_station_cards_per_language_and_tour_revision(make_platform, serve_app, new_tour):
    setup = await make_platform(entrypoints=False, plugins=PLUGINS, consumers=False)
    tour = await new_tour(setup, plugins={"career": config(t("Press operator", "Оператор пресса"))})
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    scan = station_path(tour, "s1")

    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as anna,
        httpx.AsyncClient(base_url=server.url, timeout=10) as boris,
    ):
        first = await anna.get(scan, params={"lang": "en"})
        assert first.status_code == 200
        assert "<h3>Press operator</h3>" in first.text
        # Escaped once, as before: the cached markup is not escaped again.
        assert "Runs the &lt;press&gt; &amp; checks parts." in first.text
        assert "Station 2" in first.text  # the profession's other station, by name

        # Another visitor, another language: the cards in Russian, not the cached English.
        russian = await boris.get(scan, params={"lang": "ru"})
        assert "<h3>Оператор пресса</h3>" in russian.text
        assert "Press operator" not in russian.text

        # The same visitor again, in English: the same cards.
        again = await anna.get(station_path(tour, "s1"))
        assert "<h3>Press operator</h3>" in again.text

        # The tour is saved with a new title and a renamed station: the panel follows.
        changed = copy.deepcopy(tour)
        changed.plugins["career"] = config(t("Press master", "Мастер пресса"))
        changed.stations[1].name = t("Stamping hall", "Штамповочный цех")
        await setup.save_tour(changed, media=frozenset())
        for _ in range(100):
            page = await anna.get(f"/t/{tour.enterprise}/{tour.id}/at/s1")
            if "Press master" in page.text:
                break
            await asyncio.sleep(0.1)
        assert "<h3>Press master</h3>" in page.text
        assert "Press operator" not in page.text
        assert "Stamping hall" in page.text
        russian = await boris.get(f"/t/{tour.enterprise}/{tour.id}/at/s1")
        assert "<h3>Мастер пресса</h3>" in russian.text
