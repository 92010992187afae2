"""The offline tour in headless Chromium on a phone, against a real NATS: the visitor
saves the demo tour, loses signal, scans stations 2-5 by their QR URLs, listens (and
seeks) from the saved audio, answers a mission; back online every check-in and the
answer are in the stream exactly once with their original times, and replaying the
same queue again adds nothing. A visitor who never saved the tour gets the tour's
offline page in Russian, not the browser's."""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import promtour.plugins.audio_guide as audio_guide_plugin
import promtour.plugins.quests as quests_plugin
from playwright.sync_api import expect
from promtour._bus import Bus
from promtour._manager import PluginManager
from promtour._models import Tour
from promtour._platform import Platform
from promtour._tours import load_enterprise_toml, load_tour_toml
from promtour.testing import read_events, unique
from promtour.testing import test_settings as settings_for
from promtour.testing.browser import wait_for_js

PLUGINS = [("quests", quests_plugin), ("audio_guide", audio_guide_plugin)]
DEMO = Path(__file__).resolve().parents[1] / "config" / "demo"

QUEUE_JS = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("promtour-offline", 1);
  open.onupgradeneeded = () =>
    open.result.createObjectStore("queue", {keyPath: "seq", autoIncrement: true});
  open.onsuccess = () => {
    const req = open.result.transaction("queue").objectStore("queue").getAll();
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  };
  open.onerror = () => reject(open.error);
})"""

REQUEUE_JS = """(items) => new Promise((resolve, reject) => {
  const open = indexedDB.open("promtour-offline", 1);
  open.onsuccess = () => {
    const t = open.result.transaction("queue", "readwrite");
    items.forEach((item) => {
      const copy = Object.assign({}, item);
      delete copy.seq;
      t.objectStore("queue").add(copy);
    });
    t.oncomplete = () => resolve(true);
    t.onerror = () => reject(t.error);
  };
})"""

FLUSH_JS = """() => new Promise((resolve) => {
  navigator.serviceWorker.addEventListener("message", (e) => {
    if (e.data && e.data.type === "flushed") resolve(e.data.count);
  });
  navigator.serviceWorker.controller.postMessage({type: "flush"});
})"""


def run(coro: Any) -> Any:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def demo_tour(nats_url: str, **fields: Any) -> Tour:
    """The demo tour with its audio (quests and the audio guide), under fresh ids
    (and ``fields`` changed)."""
    tour_file = load_tour_toml(DEMO / "tours" / "main.toml")
    enterprise = load_enterprise_toml(DEMO / "enterprise.toml")
    enterprise.id = unique("ent")
    tour = tour_file.tour
    tour.id = unique("demo")
    tour.enterprise = enterprise.id
    tour.plugins = {k: v for k, v in tour.plugins.items() if k in dict(PLUGINS)}
    for name, value in fields.items():
        setattr(tour, name, value)
    platform = Platform(
        settings_for(nats_url), plugins=PluginManager(load_entrypoints=False, plugins=PLUGINS)
    )
    await platform.start(consumers=False)
    try:
        await platform.import_enterprise(enterprise)
        state = await platform.import_tour(tour_file)
        return state.tour
    finally:
        await platform.stop()


async def events_of(nats_url: str, tour: Tour, event_type: str) -> list[dict[str, Any]]:
    """Every event of one type of a tour, as JSON objects, oldest first."""
    bus = Bus(nats_url)
    await bus.connect(name="offline-test")
    try:
        return [msgspec.json.decode(data) for data in await read_events(bus, tour, event_type)]
    finally:
        await bus.close()


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def wait_controlled(page: Any) -> None:
    wait_for_js(page, "!!navigator.serviceWorker.controller")


def test_a_saved_tour_works_without_signal_and_replays_once(serve_app, phone, nats_url):
    tour = run(demo_tour(nats_url))
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    start = f"{server.url}/t/{tour.enterprise}/{tour.id}"
    context = phone(locale="ru-RU")
    page = context.new_page()

    # Station 1 online, then the start page: save the tour (its size shown first).
    page.goto(server.station_url(tour, "warehouse"))
    page.goto(start)
    wait_controlled(page)
    save = page.locator("[data-offline-save]")
    expect(save.locator("[data-offline-size]")).to_have_text(re.compile(r"около \d+,\d МБ"))
    save.get_by_role("button", name="Сохранить экскурсию").click()
    expect(save.locator("[data-offline-status]")).to_have_text(
        "Экскурсия сохранена на телефоне и работает без связи.", timeout=30_000
    )
    assert save.get_attribute("data-offline-state") == "saved"
    cached = page.evaluate(
        "caches.keys().then(ks => Promise.all(ks.map(k => caches.open(k).then(c => c.keys()))))"
        ".then(all => all.flat().map(r => new URL(r.url).pathname))"
    )
    assert f"/media/{tour.enterprise}/{tour.id}/audio/press.ru.mp3" in cached
    assert f"/media/{tour.enterprise}/{tour.id}/audio/press.ru.vtt" in cached
    assert not any(p.endswith(".en.mp3") for p in cached), "only the visitor's language"

    # No signal: stations 2-5 by their QR URLs come from the saved copy.
    context.set_offline(True)
    names = {
        "press": "Прессовая линия",
        "welding": "Роботизированная сварка",
        "cnc": "Участок ЧПУ",
        "qc": "Лаборатория контроля качества",
    }
    for station, name in names.items():
        page.goto(server.station_url(tour, station))
        expect(page.locator("h1")).to_have_text(name)
        expect(page.locator("[data-offline-notice]")).to_be_visible()
        expect(page.locator("[data-offline-notice]")).to_have_text(
            "Нет связи: посещение станции запишем, когда связь появится."
        )
        if station == "press":
            # The audio plays from the saved copy, and a seek works.
            track = page.locator("#ag-press-main")
            track.locator(".ag-play").click()
            wait_for_js(page, "document.querySelector('#ag-press-main audio').currentTime > 0.5")
            audio = "document.querySelector('#ag-press-main audio')"
            target = page.evaluate(f"{audio}.currentTime = Math.floor({audio}.duration / 2)")
            assert target > 3
            wait_for_js(page, f"{audio}.currentTime >= {target} + 0.3 && !{audio}.paused")
            page.evaluate("document.querySelector('#ag-press-main audio').pause()")
            # A mission answered without signal: queued, and the page says so.
            plate = page.locator("#m-press-plate")
            plate.get_by_label("Ваш ответ").fill("1989")
            plate.get_by_role("button", name="Ответить").click()
            expect(plate.locator("[data-quest-status]")).to_have_text(
                "Сохранено на телефоне: ответ проверим, когда появится связь."
            )
    queue = page.evaluate(QUEUE_JS)
    assert [i["kind"] for i in queue] == ["checkin", "post", "checkin", "checkin", "checkin"]
    assert [i["code"].split(".")[2] for i in queue if i["kind"] == "checkin"] == list(names)
    assert len({i["id"] for i in queue}) == 5

    # Back online: the next page replays the queue, in order.
    context.set_offline(False)
    page.goto(start)
    # The page reloads once the queue is replayed, and shows every station visited.
    expect(page.locator(".progress .count")).to_have_text("5", timeout=20_000)
    assert page.evaluate(QUEUE_JS) == []

    checkins = run(events_of(nats_url, tour, "visitor_checked_in"))
    by_station: dict[str, list[dict[str, Any]]] = {}
    for e in checkins:
        by_station.setdefault(e["station"], []).append(e)
    assert sorted(by_station) == sorted(["warehouse", *names])
    assert all(len(v) == 1 for v in by_station.values()), checkins
    for item in (i for i in queue if i["kind"] == "checkin"):
        event = by_station[item["code"].split(".")[2]][0]
        assert when(event["time"]) == when(item["time"]), "the original scan time"
    answers = run(events_of(nats_url, tour, "quest_answer_submitted"))
    assert [(a["mission"], a["correct"]) for a in answers] == [("press-plate", True)]
    posted = next(i for i in queue if i["kind"] == "post")
    assert when(answers[0]["time"]) == when(posted["time"])

    # The same queue replayed again adds nothing (from a page that does not reload).
    page.goto(f"{server.url}/offline")
    page.evaluate(REQUEUE_JS, queue)
    assert page.evaluate(FLUSH_JS) == 5
    assert len(run(events_of(nats_url, tour, "visitor_checked_in"))) == 5
    assert len(run(events_of(nats_url, tour, "quest_answer_submitted"))) == 1


def test_a_visitor_who_never_saved_gets_the_tours_offline_page(serve_app, phone, nats_url):
    tour = run(demo_tour(nats_url))
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    context = phone(locale="ru-RU")
    page = context.new_page()
    page.goto(f"{server.url}/t/{tour.enterprise}/{tour.id}")
    wait_controlled(page)
    wait_for_js(page, f"caches.match('/t/{tour.enterprise}/{tour.id}/offline').then(r => !!r)")
    context.set_offline(True)
    page.goto(server.station_url(tour, "press"))
    expect(page.locator("h1")).to_have_text("Здесь нет связи")
    expect(page.locator("main")).to_contain_text("сохраните экскурсию у входа")
    expect(page.get_by_role("link", name="Вернуться к экскурсии")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "ru"
