"""Helpers for the audio guide tests (no tests here): test audio, tours with media,
and running async set-up from the synchronous browser tests."""

from __future__ import annotations

import asyncio
import subprocess
import threading
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from promtour import testing
from promtour.bus import Bus
from promtour.events import STREAM, subject_for
from promtour.manager import PluginManager
from promtour.models import Tour
from promtour.platform import Platform
from promtour.plugins import audio_guide
from promtour.testing import save_new_tour
from promtour.tours import media_name

T = TypeVar("T")

__all__ = ["ONLY_AUDIO", "arun", "audio_tour", "open_group", "stream_events", "tone", "vtt"]

#: Platform arguments of these tests: the audio guide alone (not the installed plugins).
ONLY_AUDIO: dict[str, Any] = {"entrypoints": False, "plugins": [("audio_guide", audio_guide)]}


def arun(coro: Awaitable[T]) -> T:
    """Run a coroutine to completion in a thread of its own (the browser tests are
    synchronous, and Playwright's sync API owns this thread's event loop)."""
    result: list[Any] = []

    def target() -> None:
        try:
            result.append(("ok", asyncio.run(coro)))  # type: ignore[arg-type]
        except BaseException as exc:
            result.append(("error", exc))

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)
    kind, value = result[0]
    if kind == "error":
        raise value
    return value


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
    manager = PluginManager(load_entrypoints=False, plugins=ONLY_AUDIO["plugins"])
    platform = Platform(testing.test_settings(nats_url), plugins=manager)
    await platform.start(consumers=False)
    try:
        tour = await save_new_tour(
            platform, plugins={"audio_guide": {}}, stations=stations, **fields
        )
        for name, data in files.items():
            await platform.bus.media.put(media_name(tour, name), data)
        tour.plugins = {"audio_guide": config}
        state = await platform.save_tour(tour)
        return state.tour
    finally:
        await platform.stop()


async def open_group(nats_url: str, tour: Tour) -> str:
    """Open a group show on ``tour`` (as a guide would); returns its code."""
    from promtour.plugins.audio_guide import records

    manager = PluginManager(load_entrypoints=False, plugins=ONLY_AUDIO["plugins"])
    platform = Platform(testing.test_settings(nats_url), plugins=manager)
    await platform.start(consumers=False)
    try:
        group = await records.create_group(platform.store_for("audio_guide").for_tour(tour.key))
        return group.code
    finally:
        await platform.stop()


async def stream_events(nats_url: str, tour: Tour, event_type: str) -> list[dict[str, Any]]:
    """Every event of one type of a tour, as JSON objects, oldest first."""
    bus = Bus(nats_url)
    await bus.connect(name="audio-guide-test")
    try:
        subject = subject_for(tour.enterprise, tour.id, event_type)
        sub = await bus.js.subscribe(subject, stream=STREAM, ordered_consumer=True)
        found: list[dict[str, Any]] = []
        try:
            while True:
                try:
                    msg = await sub.next_msg(timeout=0.5)
                except Exception:
                    break
                found.append(msgspec.json.decode(msg.data))
        finally:
            await sub.unsubscribe()
        return found
    finally:
        await bus.close()
