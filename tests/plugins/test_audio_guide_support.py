"""Helpers for the audio guide tests (no tests here): test audio, tours with media,
and running async set-up from the synchronous browser tests."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import msgspec
from promtour._bus import Bus
from promtour._models import Tour
from promtour._tours import media_name
from promtour.plugins import audio_guide
from promtour.testing import read_events, running_platform, save_new_tour

__all__ = [
    "ONLY_AUDIO",
    "PRESS_CUE",
    "audio_tour",
    "open_group",
    "show_media",
    "stream_events",
    "tone",
    "vtt",
]

#: Platform arguments of these tests: the audio guide alone (not the installed plugins).
ONLY_AUDIO: dict[str, Any] = {"entrypoints": False, "plugins": [("audio_guide", audio_guide)]}


def tone(path: Path, seconds: float, frequency: int = 440) -> bytes:
    """A real MP3 (a sine tone) of the given length, made by ffmpeg."""
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency={frequency}:duration={seconds}",
            "-ac",
            "1",
            "-ar",
            "22050",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "32k",
            str(path),
        ],
        check=True,
    )
    return path.read_bytes()


#: The group show's cue of both show tests (its audio: :func:`show_media`).
PRESS_CUE = {
    "id": "press-now",
    "title": {"ru": "Слушайте пресс!", "en": "Listen to the press!"},
    "audio": {"ru": "audio/cue.ru.mp3", "en": "audio/cue.en.mp3"},
}


def show_media(folder: Path, cue_seconds: float) -> dict[str, bytes]:
    """Station 1's one-second track and :data:`PRESS_CUE`'s two languages (tones of
    ``cue_seconds``, two sentences each), with transcripts."""
    half = cue_seconds / 2
    return {
        "audio/s1.ru.mp3": tone(folder / "s1.mp3", 1.0),
        "audio/s1.ru.vtt": vtt((0.0, 1.0, "Станция.")),
        "audio/cue.ru.mp3": tone(folder / "ru.mp3", cue_seconds, 440),
        "audio/cue.ru.vtt": vtt((0.0, half, "Слушайте пресс!"), (half, cue_seconds, "Удар!")),
        "audio/cue.en.mp3": tone(folder / "en.mp3", cue_seconds, 550),
        "audio/cue.en.vtt": vtt(
            (0.0, half, "Listen to the press!"), (half, cue_seconds, "Strike!")
        ),
    }


def vtt(*cues: tuple[float, float, str]) -> bytes:
    lines = ["WEBVTT", ""]
    for start, end, text in cues:
        lines += [f"00:00:{start:06.3f} --> 00:00:{end:06.3f}", text, ""]
    return "\n".join(lines).encode()


async def audio_tour(
    nats_url: str,
    files: dict[str, bytes],
    config: dict[str, Any],
    *,
    stations: int = 3,
    **fields: Any,
) -> Tour:
    """A fresh tour with the audio guide configured and its media uploaded."""
    async with running_platform(nats_url, **ONLY_AUDIO) as platform:
        tour = await save_new_tour(
            platform, plugins={"audio_guide": {}}, stations=stations, **fields
        )
        for name, data in files.items():
            await platform.bus.media.put(media_name(tour, name), data)
        tour.plugins = {"audio_guide": config}
        state = await platform.save_tour(tour)
        return state.tour


async def open_group(nats_url: str, tour: Tour) -> str:
    """Open a group show on ``tour`` (as a guide would); returns its code."""
    from promtour.plugins.audio_guide import records

    async with running_platform(nats_url, **ONLY_AUDIO) as platform:
        group = await records.create_group(platform.store_for("audio_guide").for_tour(tour.key))
        return group.code


def join_show(context: Any, url: str) -> Any:
    """A phone (a new page of the browser ``context``) that opened the show at ``url``,
    joined it and is connected and in sync with the server's clock."""
    from promtour.testing.browser import wait_for_js

    page = context.new_page()
    page.goto(url)
    page.get_by_role("button", name=re.compile("Join the show|Присоединиться")).click()
    wait_for_js(page, "window.agShow && window.agShow.connected && window.agShow.synced")
    return page


async def stream_events(nats_url: str, tour: Tour, event_type: str) -> list[dict[str, Any]]:
    """Every event of one type of a tour, as JSON objects, oldest first."""
    bus = Bus(nats_url)
    await bus.connect(name="audio-guide-test")
    try:
        return [msgspec.json.decode(data) for data in await read_events(bus, tour, event_type)]
    finally:
        await bus.close()
