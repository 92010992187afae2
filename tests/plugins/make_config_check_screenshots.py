"""docs/img's phone screenshot (390x844, Russian) of a config check of the common kind
refused in the console: the quest's time zone, checked by promtour.plugin's
check_timezone, with the one sentence every plugin now uses.

Not a check, so not collected with the suite (its name does not start with ``test_``):
``python -m pytest tests/plugins/make_config_check_screenshots.py`` rewrites
docs/img/console-check-timezone.png."""

from __future__ import annotations

from pathlib import Path

import promtour.plugins.quests as quests_plugin
from console_steps import editor_on_phone
from promtour._tours import load_tour_toml
from test_offline_browser import demo_tour, run

PLUGINS = [("quests", quests_plugin)]
IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def test_config_check_screenshot(serve_app, phone, nats_url, monkeypatch):
    import test_offline_browser

    monkeypatch.setattr(test_offline_browser, "PLUGINS", PLUGINS)
    demo = load_tour_toml(test_offline_browser.DEMO / "tours" / "main.toml").tour.plugins
    tour = run(demo_tour(nats_url, plugins={"quests": demo["quests"]}))
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    page = editor_on_phone(phone, nats_url, server.url, tour.enterprise)
    page.goto(f"{server.url}/console/{tour.enterprise}/tours/{tour.id}/plugins/quests")
    page.fill("[name='cfg.timezone']", "Европа/Москва")
    page.locator("[name='cfg.timezone']").evaluate("e => e.form.requestSubmit()")
    page.wait_for_load_state()
    error = page.locator("#error")
    assert "«Европа/Москва» не найден" in error.inner_text()
    error.scroll_into_view_if_needed()
    page.screenshot(path=str(IMG / "console-check-timezone.png"))
