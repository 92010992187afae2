"""«Озвучить» in the console: a track's script rendered to MP3 + WebVTT on the server.

The button is the ``script`` field's :class:`~promtour.plugin.FieldAction`; the core
runs :func:`render_speech` as a job with a progress page. It renders with the same
code as ``promtour audio render`` (:func:`.render.render_job`, default
:class:`~.render.RenderSettings`), stores both files as the tour's media (the upload
checks apply) and fills the track's ``audio`` and ``transcript`` with their names; the
manager then saves the form. Once saved, the config names both files, so the media
list shows them as used and refuses to delete them.

Rendering runs in one worker thread per process (:data:`_RENDERER`): the event loop
never waits on espeak-ng or ffmpeg, and a second «Озвучить» waits for the first
instead of sharing two cores with it.
"""

from __future__ import annotations

import asyncio
import copy
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from promtour.plugin import SLUG, ActionRequest, ActionResult, Problem, PromtourError

__all__ = ["MAX_SCRIPT_CHARS", "media_base", "render_speech"]

#: The longest script rendered from the console, per language: about three minutes of
#: speech at the default 150 words a minute, rendered in well under a minute here.
#: Longer stories: split them into tracks, or render with ``promtour audio render``.
MAX_SCRIPT_CHARS = 3000

_RENDERER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="promtour-speech")
#: Renders queued or running in this process (for the "waiting" note).
_pending = 0


def _slug(value: Any, fallback: str) -> str:
    return value if isinstance(value, str) and re.match(SLUG, value) else fallback


def _at(values: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(values, list) and part.isdigit() and int(part) < len(values):
            values = values[int(part)]
        elif isinstance(values, dict):
            values = values.get(part)
        else:
            return None
    return values


def media_base(values: dict[str, Any], track_path: list[str]) -> str:
    """Where a track's rendered files go, without ``.<lang>.mp3``:
    ``audio/<station>-<track>``, ``audio/<station>-cue-<cue>``, ``audio/intro-<track>``."""
    track = _at(values, track_path) or {}
    if track_path[0] in ("intro", "outro"):
        return f"audio/{track_path[0]}-{_slug(track.get('id'), 'main')}"
    station = _at(values, track_path[:2]) or {}
    index = int(track_path[1]) + 1 if track_path[1].isdigit() else 1
    place = _slug(station.get("station"), f"station{index}")
    kind = track_path[2] if len(track_path) > 2 else "tracks"
    number = int(track_path[3]) + 1 if len(track_path) > 3 and track_path[3].isdigit() else 1
    if kind == "cues":
        return f"audio/{place}-cue-{_slug(track.get('id'), str(number))}"
    return f"audio/{place}-{_slug(track.get('id'), f'track{number}')}"


def _msgspec_path(parts: list[str]) -> str:
    """``stations.0.tracks.1`` as the validation paths name it: ``stations[0].tracks[1]``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


def _render(lang: str, text: str) -> tuple[bytes, bytes, float]:
    """One language, in the worker thread: the CLI's pipeline into a temporary folder."""
    from .render import RenderJob, RenderSettings, render_job, require_tools

    with tempfile.TemporaryDirectory(prefix="promtour-speech-") as tmp:
        job = RenderJob(
            label=lang,
            lang=lang,
            text=text,
            out=Path(tmp) / "speech.mp3",
            vtt=Path(tmp) / "speech.vtt",
        )
        seconds = render_job(job, RenderSettings(), require_tools())
        return job.out.read_bytes(), job.vtt.read_bytes(), seconds


async def render_speech(request: ActionRequest) -> ActionResult:
    """The ``script`` field's action: check the texts, render each language, store the
    files and fill ``audio``/``transcript``. With any problem nothing is changed."""
    global _pending
    parts = request.path.split(".")
    track_path = parts[:-1]
    where = _msgspec_path(parts)
    values = copy.deepcopy(request.values)
    track = _at(values, track_path)
    if not track_path or not isinstance(track, dict):
        return ActionResult(problems=[Problem(path=where, message="There is no track here.")])
    raw = track.get("script")
    script: dict[str, Any] = raw if isinstance(raw, dict) else {}
    texts = {lang: t.strip() for lang, t in script.items() if isinstance(t, str) and t.strip()}
    problems: list[Problem] = []
    if not texts:
        problems.append(
            Problem(path=where, message="Write the script first: there is nothing to speak.")
        )
    for lang, text in texts.items():
        if lang not in request.tour.languages:
            problems.append(
                Problem(
                    path=f"{where}.{lang}",
                    message="“{lang}” is not one of the tour's languages.",
                    values={"lang": lang},
                )
            )
        elif len(text) > MAX_SCRIPT_CHARS:
            problems.append(
                Problem(
                    path=f"{where}.{lang}",
                    message="The script is too long to render here: at most {max} characters, "
                    "this one has {n}. Split it into two tracks.",
                    values={"max": MAX_SCRIPT_CHARS, "n": len(text)},
                )
            )
    if problems:
        return ActionResult(problems=problems)
    base = media_base(values, track_path)
    loop = asyncio.get_running_loop()
    total = 0.0
    audio = track["audio"] if isinstance(track.get("audio"), dict) else {}
    transcript = track["transcript"] if isinstance(track.get("transcript"), dict) else {}
    for number, (lang, text) in enumerate(texts.items(), 1):
        running = request._("Rendering speech: {lang}, {n} of {total}…").format(
            lang=lang.upper(), n=number, total=len(texts)
        )
        if _pending:
            request.progress(request._("Waiting: another recording is being rendered…"))

        def work(lang: str = lang, text: str = text, running: str = running) -> Any:
            loop.call_soon_threadsafe(request.progress, running)
            return _render(lang, text)

        _pending += 1
        try:
            mp3, vtt, seconds = await loop.run_in_executor(_RENDERER, work)
        except PromtourError as exc:
            return ActionResult(
                problems=[
                    Problem(
                        path=f"{where}.{lang}",
                        message="The speech could not be rendered: {reason}",
                        values={"reason": str(exc)},
                    )
                ]
            )
        finally:
            _pending -= 1
        audio[lang] = await request.save_media(f"{base}.{lang}.mp3", mp3)
        transcript[lang] = await request.save_media(f"{base}.{lang}.vtt", vtt)
        total += seconds
    track["audio"], track["transcript"] = audio, transcript
    return ActionResult(
        values=values,
        message="Speech rendered: {seconds} s ({langs}). Press “Save” to keep it.",
        message_values={"seconds": round(total), "langs": ", ".join(x.upper() for x in texts)},
    )
