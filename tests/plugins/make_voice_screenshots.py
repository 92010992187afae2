"""docs/img's phone screenshots (390x844, Russian) of the audio guide's track form
with «Озвучить», its progress page and the form after rendering.

Not a check, so not collected with the suite (its name does not start with ``test_``):
``python -m pytest tests/plugins/make_voice_screenshots.py`` rewrites
docs/img/console-voice-*.png."""

from __future__ import annotations

from pathlib import Path

from test_audio_guide_support import ONLY_AUDIO
from test_audio_guide_voice import SCRIPT, TRACK, _new_tour

from tests.test_console_browser import onboard

IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def test_voice_screenshots(serve_app, phone, nats_url):
    ent, secret = onboard(nats_url)
    server = serve_app(**ONLY_AUDIO)
    _new_tour(server.url, ent, secret, "voice")
    page = phone(locale="ru-RU", device_scale_factor=1).new_page()
    page.goto(f"{server.url}/console/login")
    page.fill("#token", secret)
    page.click("button[type=submit]")
    page.goto(f"{server.url}/console/{ent}/tours/voice/plugins/audio_guide")
    page.click("button[value='add:stations']")
    page.select_option("select[name='cfg.stations.0.station']", "press")
    page.click("button[value='add:stations.0.tracks']")
    page.fill(f"input[name='{TRACK}.id']", "main")
    page.fill(f"input[name='{TRACK}.title.ru']", "Пресс-цех")
    page.fill(f"textarea[name='{TRACK}.script.ru']", SCRIPT)
    button = page.locator("button[value='action:stations.0.tracks.0.script']")
    page.locator(f"[data-path='{TRACK[4:]}.audio']").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 140)")
    page.screenshot(path=str(IMG / "console-voice-form.png"))
    button.click(no_wait_after=True)
    page.wait_for_url("**/actions/**", timeout=10_000)
    page.screenshot(path=str(IMG / "console-voice-progress.png"))
    page.wait_for_selector("#action-note", timeout=60_000)
    page.locator(f"[data-path='{TRACK[4:]}.audio']").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 140)")
    page.screenshot(path=str(IMG / "console-voice-result.png"))
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(IMG / "console-voice-done.png"))
