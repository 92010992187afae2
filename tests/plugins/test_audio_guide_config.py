"""The audio guide's tour config is checked when the tour is saved: a missing file, a
language the tour does not have, an unsupported format, a missing transcript or a typo
is refused with the station, track and key named, and the stored tour stays as it was.
Also: transcripts (WebVTT) are read the way the page needs them."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import httpx
import pytest
from promtour._errors import ConfigError
from promtour._tours import media_name
from promtour.plugins.audio_guide.render import split_sentences
from promtour.plugins.audio_guide.validate import check_config
from promtour.plugins.audio_guide.vtt import Cue, parse_vtt, write_vtt
from promtour.testing import station_path
from test_audio_guide_support import ONLY_AUDIO, audio_tour, stream_events

GOOD = {
    "default_track": "main",
    "intro": {"id": "intro", "audio": {"ru": "audio/intro.ru.mp3"}},
    "outro": {"id": "bye", "audio": {"ru": "audio/intro.ru.mp3"}},
    "stations": [
        {
            "station": "s1",
            "tracks": [
                {
                    "id": "main",
                    "title": {"ru": "История", "en": "Story"},
                    "audio": {"ru": "audio/s1.ru.mp3", "en": "audio/s1.en.mp3"},
                }
            ],
            "cues": [{"id": "bang", "audio": {"ru": "audio/s1.ru.mp3"}}],
        }
    ],
}
FILES = [
    "audio/intro.ru.mp3",
    "audio/intro.ru.vtt",
    "audio/s1.ru.mp3",
    "audio/s1.ru.vtt",
    "audio/s1.en.mp3",
    "audio/s1.en.vtt",
    "audio/s1.de.mp3",
    "audio/s1.de.vtt",
    "audio/s1.ru.wav",
    "audio/novtt.ru.mp3",
]


def changed(path: str, value: object) -> dict:
    """GOOD with one value replaced: ``path`` is like ``stations.0.tracks.0.audio.ru``."""
    config = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    node: object = config
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]  # type: ignore[index]
    node[int(last) if isinstance(node, list) else last] = value  # type: ignore[index]
    return config


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "stations.0.tracks.0.audio.ru",
            "audio/missing.ru.mp3",
            "stations[0].tracks[0].audio.ru: The file audio/missing.ru.mp3 is not among "
            "the tour's media",
        ),
        (
            "stations.0.tracks.0.audio.de",
            "audio/s1.de.mp3",
            "stations[0].tracks[0].audio.de: de: not a language of this tour",
        ),
        (
            "stations.0.tracks.0.audio.ru",
            "audio/s1.ru.wav",
            "stations[0].tracks[0].audio.ru: audio/s1.ru.wav is not a supported audio format",
        ),
        (
            "stations.0.cues.0.transcript",
            {"ru": "audio/novtt.ru.vtt"},
            "stations[0].cues[0].transcript.ru: The transcript audio/novtt.ru.vtt of "
            "audio/s1.ru.mp3 is missing",
        ),
        (
            "stations.0.station",
            "nowhere",
            "stations[0].station: There is no station nowhere in this tour",
        ),
        (
            "stations.0.default_track",
            "kids",
            "stations[0].default_track: The station has no track kids",
        ),
        ("intro.audio", {}, "intro.audio: No audio file"),
        ("stations.0.tracks.0.audio", "s1.mp3", "at `$.stations[0].tracks[0].audio`"),
        ("stations.0.tracks.0.id", "Main Story", "at `$.stations[0].tracks[0].id`"),
        ("show_lead_seconds", 0.1, "at `$.show_lead_seconds`"),
        ("autoplay", True, "unknown field `autoplay`"),
    ],
)
async def test_bad_config_is_refused_naming_the_field(
    make_platform, new_tour, path, value, expected
):
    platform = await make_platform(consumers=False, **ONLY_AUDIO)
    tour = await new_tour(platform, plugins={"audio_guide": {}})
    for name in FILES:
        await platform.bus.media.put(media_name(tour, name), b"data")
    tour.plugins = {"audio_guide": GOOD}
    saved = await platform.save_tour(tour)
    assert saved.configs["audio_guide"].stations[0].tracks[0].id == "main"

    tour.plugins = {"audio_guide": changed(path, value)}
    with pytest.raises(ConfigError) as refused:
        await platform.save_tour(tour)
    message = str(refused.value)
    assert message.startswith("plugin 'audio_guide': ")
    assert expected in message, message
    # Nothing accepted before is lost.
    kept = await platform.tours.refresh(tour.key)
    assert kept is not None and kept.tour.plugins == {"audio_guide": GOOD}


async def test_audio_without_a_transcript_is_accepted_and_its_found_transcript_kept(
    make_platform, new_tour
):
    """An MP3 with no transcript named and none beside it is accepted (visitors read
    the script); a transcript found beside the audio is still needed by the tour."""
    platform = await make_platform(consumers=False, **ONLY_AUDIO)
    tour = await new_tour(platform, plugins={"audio_guide": {}})
    for name in FILES:
        await platform.bus.media.put(media_name(tour, name), b"data")
    tour.plugins = {"audio_guide": changed("stations.0.cues.0.audio.ru", "audio/novtt.ru.mp3")}
    saved = await platform.save_tour(tour)
    assert saved.configs["audio_guide"].stations[0].cues[0].audio == {"ru": "audio/novtt.ru.mp3"}
    problems = check_config(saved.tour, saved.configs["audio_guide"], frozenset(FILES))
    notes = [(p.path, p.blocking) for p in problems]
    assert notes == [("stations[0].cues[0].transcript.ru", False)]
    without = frozenset(FILES) - {"audio/s1.ru.vtt"}
    assert any(
        p.path == "stations[0].tracks[0].transcript.ru"
        for p in check_config(saved.tour, saved.configs["audio_guide"], without)
    )


def test_vtt_round_trip_and_lenient_reading():
    cues = [Cue(0.0, 1.5, "Hello <world> & you."), Cue(1.85, 3723.25, "Second line.")]
    text = write_vtt(cues)
    assert text.startswith("WEBVTT\n")
    assert "01:02:03.250" in text and "&lt;world&gt; &amp;" in text
    assert parse_vtt(text) == cues
    messy = (
        "\ufeffWEBVTT - title\r\n\r\nNOTE a note\r\n\r\nSTYLE\r\n::cue { color: red }\r\n\r\n"
        "intro\r\n00:01.000 --> 00:02,500 align:start\r\n<v Guide>Two</v>\r\nlines\r\n\r\n"
        "broken --> nothing\r\n\r\n00:03.000 --> 00:04.000\r\n\r\n"
    )
    assert parse_vtt(messy) == [Cue(1.0, 2.5, "Two lines")]


def test_sentences_split_for_cue_timing():
    text = "Перед вами пресс. Он давит!  Слышите удар?\n\nNew paragraph without end"
    assert split_sentences(text) == [
        "Перед вами пресс.",
        "Он давит!",
        "Слышите удар?",
        "New paragraph without end",
    ]


def test_every_page_string_has_a_russian_translation():
    from babel.messages.pofile import read_po
    from promtour.plugins import audio_guide

    folder = Path(audio_guide.__file__).parent
    with (folder / "locale" / "ru" / "LC_MESSAGES" / "audio_guide.po").open("rb") as fh:
        catalog = read_po(fh)
    used: set[str] = set()
    for path in [*folder.glob("templates/*.html"), *folder.glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\b_\(\s*"([^"]+)"\s*[,)]""", text))
        used |= set(re.findall(r"""\b_\(\s*'([^']+)'\s*[,)]""", text))
        # Python strings split over lines: _("..." "...")
        for parts in re.findall(r'\b_\(\s*((?:"[^"]*"\s*){2,})\)', text):
            used.add("".join(re.findall(r'"([^"]*)"', parts)))
    used |= set(re.findall(r'return "([^"]+)"', (folder / "access.py").read_text()))
    assert len(used) > 40
    missing = sorted(m for m in used if not (catalog.get(m) and catalog.get(m).string))
    assert not missing, f"strings without a Russian translation: {missing}"


async def test_player_reports_refuse_bad_input_and_teardown_forgets(make_platform, serve_app):
    platform = await make_platform(consumers=False, **ONLY_AUDIO)
    tour = await audio_tour(platform.settings.nats.url, dict.fromkeys(FILES, b"data"), GOOD)
    server = serve_app(**ONLY_AUDIO)
    base = f"/p/audio_guide/{tour.enterprise}/{tour.id}"
    report = {"listen": "abcdef12", "kind": "started", "place": "s1", "track": "main"}
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        page = await client.get(station_path(tour, "s1"))
        match = re.search(r'data-csrf="([^"]+)"', page.text)
        assert match, "the station page has no player"
        headers = {"X-CSRF-Token": match.group(1), "Accept": "application/json"}

        async def post(path: str, body: object, **kw: object) -> httpx.Response:
            return await client.post(f"{base}/{path}", json=body, **{"headers": headers, **kw})

        assert (await post("listen", {**report, "lang": "ru"})).status_code == 202
        assert (await post("listen", {**report, "lang": "ru"}, headers={})).status_code == 403
        for body, named in (
            ({**report, "lang": "ru", "track": "nope"}, "nope"),
            ({**report, "lang": "de"}, "'de'"),
            ({**report, "lang": "ru", "kind": "progressed"}, "quartile"),
            ({**report, "lang": "ru", "kind": "progressed", "quartile": 4}, "quartile"),
            ({**report, "lang": "ru", "kind": "paused"}, "kind"),
            ({**report, "lang": "ru", "place": "../x"}, "place"),
        ):
            refused = await post("listen", body)
            assert refused.status_code == 400 and named in refused.json()["detail"], body
        garbage = await client.post(f"{base}/listen", content=b"{", headers=headers)
        assert garbage.status_code == 400
        position = {"place": "s1", "track": "main", "lang": "ru", "seconds": 12.5}
        assert (await post("position", {**position, "seconds": -1})).status_code == 400
        assert (await post("position", position)).status_code == 202
        intro = {**report, "place": "_intro", "track": "intro", "lang": "ru", "listen": "x" * 12}
        assert (await post("listen", intro)).status_code == 202
        # The position is on the page next time (resume from the server).
        again = await client.get(f"/t/{tour.enterprise}/{tour.id}/at/s1")
        assert 'data-resume="12.5"' in again.text
        # The intro plays from the start page, the outro from the finish page.
        start = await client.get(f"/t/{tour.enterprise}/{tour.id}")
        assert 'data-place="_intro"' in start.text and "intro.ru.mp3" in start.text
        finish = await client.get(f"/t/{tour.enterprise}/{tour.id}/finish")
        assert 'data-place="_outro"' in finish.text and 'data-track="bye"' in finish.text

    started = await stream_events(platform.settings.nats.url, tour, "audio_listen_started")
    assert [(e["station"], e["track"]) for e in started] == [("s1", "main"), (None, "intro")]

    # The tour drops the audio guide: what the plugin kept for it is deleted.
    store = platform.store_for("audio_guide").for_tour(tour.key)
    assert await store.keys("pos.")
    tour.plugins = {}
    await platform.save_tour(tour)
    assert await store.keys("pos.") == []
