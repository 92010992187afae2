"""docs/img's phone screenshots (390x844, Russian) of the analytics pages, from the
scripted day (200 visitors).

Not a check, so not collected with the suite (its name does not start with ``test_``):
``python -m pytest tests/plugins/make_analytics_screenshots.py`` rewrites
docs/img/analytics-*.png."""

from __future__ import annotations

from pathlib import Path

import test_analytics_browser as shared
from analytics_script import DAY
from test_analytics_browser import PHONE, scripted_tour, sign_in

IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def test_analytics_screenshots(browser, serve_app, nats_url):
    server = serve_app()
    shared.server_ready.set()
    ent, tour_id, secret = scripted_tour(nats_url)
    context = browser.new_context(**{**PHONE, "device_scale_factor": 1})
    try:
        page = sign_in(context, server.url, secret)
        base = f"{server.url}/p/analytics/{ent}/{tour_id}"
        page.goto(f"{base}/overview?from={DAY}&to={DAY}")
        page.screenshot(path=str(IMG / "analytics-overview-ru.png"), full_page=True)
        # The per-plugin page is long: the screen with its newest table.
        page.goto(f"{base}/plugins?from={DAY}&to={DAY}")
        page.evaluate("document.querySelector('#t-professions').scrollIntoView()")
        page.screenshot(path=str(IMG / "analytics-professions-ru.png"))
    finally:
        context.close()
