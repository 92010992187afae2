"""The render cache: what a visitor sees through the cached frames is what a fresh
render shows them, on every panel and language; a visitor's values never stay in a
frame. And a deleted tour leaves none of the audio guide's records behind."""

from __future__ import annotations

from promtour._context import PageContext
from promtour.plugin import utcnow
from promtour.plugins.audio_guide import panels, records
from test_audio_guide_support import ONLY_AUDIO, audio_tour, vtt

# Like the demo tour's: intro, outro, credits, two tracks at one station, cues, a
# station without audio, texts in both languages, one track in Russian only.
CONFIG = {
    "autoplay_allowed": True,
    "guide_pin": "482173",
    "credits": {"ru": "Голоса: «Завод» & друзья", "en": "Voices: <Works> & friends"},
    "intro": {
        "id": "hello",
        "title": {"ru": "Привет", "en": "Hello"},
        "audio": {"ru": "audio/intro.ru.mp3", "en": "audio/intro.en.mp3"},
    },
    "outro": {"id": "bye", "audio": {"ru": "audio/intro.ru.mp3"}},
    "stations": [
        {
            "station": "s1",
            "tracks": [
                {
                    "id": "main",
                    "title": {"ru": "История", "en": "Story"},
                    "credits": {"en": "Read by A."},
                    "audio": {"ru": "audio/s1.ru.mp3", "en": "audio/s1.en.mp3"},
                },
                {"id": "kids", "title": {"ru": "Детям"}, "audio": {"ru": "audio/kids.ru.mp3"}},
            ],
            "cues": [{"id": "bang", "audio": {"ru": "audio/s1.ru.mp3"}}],
        },
        {"station": "s2", "tracks": [{"id": "main", "audio": {"ru": "audio/s1.ru.mp3"}}]},
    ],
}
MEDIA = {
    name: (
        vtt((0.0, 1.5, "Первая <фраза> & «кавычки»."), (1.5, 3.0, "Second."))
        if name.endswith(".vtt")
        else b"ID3"
    )
    for stem in ("intro.ru", "intro.en", "s1.ru", "s1.en", "kids.ru")
    for name in (f"audio/{stem}.mp3", f"audio/{stem}.vtt")
}


async def test_cached_panels_equal_fresh_renders_for_every_place_language_and_visitor(
    make_platform,
):
    platform = await make_platform(consumers=False, **ONLY_AUDIO)
    tour = await audio_tour(platform.settings.nats.url, MEDIA, CONFIG)
    state = await platform.tours.refresh(tour.key)
    assert state is not None
    store = platform.store_for("audio_guide").for_tour(tour.key)
    visitors = {
        "visitor-a": ("csrf-a", {"s1:main:ru": 12.5, "s1:kids:ru": 3.25, "_intro:hello:en": 7.0}),
        "visitor-b": ('csrf-"b"<&>', {"s1:main:ru": 99.75, "_outro:bye:ru": 1.5}),
    }
    for visitor, (_, seconds) in visitors.items():
        tracks = {slot: records.Position(seconds=s) for slot, s in seconds.items()}
        await store.put(records.positions_key(visitor), records.Positions(tracks=tracks))

    places = [(panels.station_panel, station) for station in state.tour.stations] + [
        (panels.start_panel, None),
        (panels.finish_panel, None),
    ]
    seen: dict[str, list[str]] = {}
    for visitor, (csrf, _) in visitors.items():
        for lang in ("ru", "en"):
            for panel_of, station in places:
                page = PageContext(
                    platform,
                    "audio_guide",
                    state,
                    visitor=visitor,
                    lang=lang,
                    progress=None,
                    station=station,
                    csrf_token=csrf,
                )
                cached = await panel_of(page)
                fresh = await panel_of(page, fresh=True)
                where = (visitor, lang, panel_of.__name__, station.id if station else "")
                if fresh is None:
                    assert cached is None, where
                    continue
                assert cached is not None, where
                assert str(cached.html) == str(fresh.html), where
                assert cached.title == fresh.title, where
                seen.setdefault(visitor, []).append(str(cached.html))
    # The frames were cached (one per place with a panel and language) and reused.
    frames = [key for key in state.memo if key[0] == "audio_guide" and key[1][0] == "frame"]
    assert len(frames) == 2 * 4, frames
    a, b = "\n".join(seen["visitor-a"]), "\n".join(seen["visitor-b"])
    assert 'data-resume="12.5"' in a and 'data-resume="12.5"' not in b
    assert 'data-resume="99.75"' in b and 'data-csrf="csrf-a"' not in b
    assert 'data-csrf="csrf-&#34;b&#34;&lt;&amp;&gt;"' in b


async def test_deleting_a_tour_leaves_no_audio_guide_record(make_platform):
    platform = await make_platform(consumers=False, **ONLY_AUDIO)
    tour = await audio_tour(platform.settings.nats.url, MEDIA, CONFIG)
    kept = await audio_tour(platform.settings.nats.url, MEDIA, CONFIG)
    for each in (tour, kept):
        store = platform.store_for("audio_guide").for_tour(each.key)
        group = await records.create_group(store)
        await records.set_message(
            store, group.code, records.LastMessage(text="hello", sent=utcnow())
        )
        positions = records.Positions(tracks={"s1:main:ru": records.Position(seconds=4.0)})
        await store.put(records.positions_key("visitor-a"), positions)
    everything = platform.store_for("audio_guide")
    assert [k for k in await everything.keys() if tour.key in k]

    await platform.delete_tour(tour.key)

    left = await everything.keys()
    assert not [k for k in left if tour.key in k or tour.id in k], left
    # Another tour's records stay.
    assert len([k for k in left if kept.key in k]) == 3, left


async def test_a_new_browsers_panel_reads_no_positions(make_platform, monkeypatch):
    """A browser new with this page has no positions (only its own player writes
    them): its panel is the same without the store read."""
    platform = await make_platform(consumers=False, **ONLY_AUDIO)
    tour = await audio_tour(platform.settings.nats.url, MEDIA, CONFIG)
    state = await platform.tours.refresh(tour.key)
    store = platform.store_for("audio_guide").for_tour(tour.key)
    read: list[str] = []
    get = store.get

    async def recording_get(key, type_):
        read.append(key)
        return await get(key, type_)

    monkeypatch.setattr(store, "get", recording_get)

    def page(new_visitor: bool) -> PageContext:
        return PageContext(
            platform,
            "audio_guide",
            state,
            visitor="visitor-new",
            lang="ru",
            progress=None,
            station=state.tour.stations[0],
            csrf_token="csrf",
            new_visitor=new_visitor,
        )

    first = await panels.station_panel(page(True))
    assert not [k for k in read if k.startswith("pos.")]
    later = await panels.station_panel(page(False))
    assert [k for k in read if k.startswith("pos.")]
    assert str(first.html) == str(later.html)
