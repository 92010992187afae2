"""The README's and docs/img's phone screenshots (390x844, Russian) of the start page,
a station, the career quiz, the finish page and the lead form, from the demo tour.

Not a check, so not collected with the suite (its name does not start with ``test_``):
``python -m pytest tests/make_screenshots.py`` rewrites docs/img/visitor-*.png."""

from __future__ import annotations

from pathlib import Path

import promtour.plugins.audio_guide as audio_guide_plugin
import promtour.plugins.career as career_plugin
import promtour.plugins.quests as quests_plugin
from test_offline_browser import demo_tour, run

PLUGINS = [
    ("quests", quests_plugin),
    ("audio_guide", audio_guide_plugin),
    ("career", career_plugin),
]
IMG = Path(__file__).resolve().parents[1] / "docs" / "img"


def test_visitor_screenshots(serve_app, phone, nats_url, monkeypatch):
    import test_offline_browser

    monkeypatch.setattr(test_offline_browser, "PLUGINS", PLUGINS)
    tour = run(demo_tour(nats_url))
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    page = phone(locale="ru-RU", device_scale_factor=1).new_page()
    base = f"{server.url}/t/{tour.enterprise}/{tour.id}"
    for station in ("warehouse", "press", "welding"):
        page.goto(server.station_url(tour, station))
    shots = {
        "start": base,
        "station": f"{base}/at/press",
        "quiz": f"{server.url}/p/career/t/{tour.enterprise}/{tour.id}/quiz",
        "finish": f"{base}/finish",
        "lead-form": f"{server.url}/p/career/t/{tour.enterprise}/{tour.id}/contact",
    }
    for name, url in shots.items():
        page.goto(url)
        page.wait_for_timeout(300)
        page.screenshot(path=str(IMG / f"visitor-{name}.png"))
