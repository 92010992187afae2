"""docs/img's phone screenshots (390x844, Russian) of the visits and safety settings
forms in the console, on the demo tour's config.

Not a check, so not collected with the suite (its name does not start with ``test_``):
``python -m pytest tests/make_console_form_screenshots.py`` rewrites
docs/img/console-form-*.png."""

from __future__ import annotations

from pathlib import Path

import promtour.plugins.safety as safety_plugin
import promtour.plugins.visits as visits_plugin
from console_steps import editor_on_phone
from promtour._tours import load_tour_toml
from test_offline_browser import demo_tour, run

PLUGINS = [("visits", visits_plugin), ("safety", safety_plugin)]
IMG = Path(__file__).resolve().parents[1] / "docs" / "img"

#: (file name, plugin, the field the screenshot starts at).
SHOTS = [
    ("console-form-visits", "visits", "recurring"),
    ("console-form-visits-days", "visits", "blackout"),
    ("console-form-safety", "safety", "ppe"),
    ("console-form-safety-quiz", "safety", "quiz.0"),
]


def test_console_form_screenshots(serve_app, phone, nats_url, monkeypatch):
    import test_offline_browser

    monkeypatch.setattr(test_offline_browser, "PLUGINS", PLUGINS)
    demo = load_tour_toml(test_offline_browser.DEMO / "tours" / "main.toml").tour.plugins
    plugins = {name: demo[name] for name, _ in PLUGINS}
    plugins["visits"]["blackout"] = ["2026-12-31", "2027-01-07"]  # the demo has none
    tour = run(demo_tour(nats_url, plugins=plugins))
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    page = editor_on_phone(phone, nats_url, server.url, tour.enterprise)
    base = f"{server.url}/console/{tour.enterprise}/tours/{tour.id}/plugins"
    for name, plugin, field in SHOTS:
        page.goto(f"{base}/{plugin}")
        page.evaluate("p => document.querySelector(`[data-path='${p}']`).scrollIntoView()", field)
        page.wait_for_timeout(200)
        page.screenshot(path=str(IMG / f"{name}.png"))
