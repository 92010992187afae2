"""``promtour audio render``: station audio from script text, offline.

espeak-ng speaks each sentence to a WAV file (its length gives that sentence's cue
timing), the sentences are joined with short pauses, and ffmpeg normalises the
loudness (EBU R128 ``loudnorm``, the same target for every file, so stations sound
equally loud) and encodes MP3, the format every phone plays. A WebVTT transcript is
written beside each MP3. No model download, no network.

The source is either a script file (TOML, see :class:`ScriptFile`) or a tour file
whose ``[plugins.audio_guide]`` tracks have a ``script`` text: then each track is
rendered to the audio file its config names, inside the tour's media folder.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
import time
import tomllib
import wave
from pathlib import Path
from typing import Annotated, Any

import msgspec
from promtour.plugin import PromtourError, Text, hookimpl

from .config import AudioGuideConfig
from .vtt import Cue, write_vtt

__all__ = [
    "RenderJob",
    "RenderSettings",
    "ScriptFile",
    "add_cli",
    "jobs_from_file",
    "render_job",
    "require_tools",
    "split_sentences",
]

#: Tools the renderer runs, and how to get them.
TOOLS = {
    "espeak-ng": "synthesises the speech (Debian/Ubuntu: apt-get install espeak-ng)",
    "ffmpeg": "normalises loudness and encodes MP3 (Debian/Ubuntu: apt-get install ffmpeg)",
}

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"»”)]*\s+")
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,120}$"


class RenderSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """How to speak and encode; the defaults keep files small and speech clear."""

    #: espeak-ng voice per language code (``espeak-ng --voices`` lists them).
    voices: dict[str, str] = msgspec.field(default_factory=lambda: {"ru": "ru", "en": "en-us"})
    #: Words per minute.
    speed: Annotated[int, msgspec.Meta(ge=80, le=400)] = 150
    #: Silence between sentences, seconds.
    pause: Annotated[float, msgspec.Meta(ge=0, le=5)] = 0.35
    #: Integrated loudness target, LUFS (EBU R128; -18 is clear speech on a phone speaker).
    loudness: Annotated[float, msgspec.Meta(ge=-40, le=-5)] = -18.0
    #: MP3 bit rate; speech in mono needs little.
    bitrate: str = "32k"
    sample_rate: Annotated[int, msgspec.Meta(ge=8000, le=48000)] = 22050


class ScriptItem(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    #: File name without language and extension: ``press`` gives ``press.ru.mp3``.
    name: Annotated[str, msgspec.Meta(pattern=_NAME)]
    text: Text


class ScriptFile(RenderSettings, kw_only=True, forbid_unknown_fields=True):
    """A script file: settings, an output folder and the texts to speak."""

    #: Output folder, relative to the script file.
    out: str = "."
    items: list[ScriptItem] = msgspec.field(default_factory=list)


class RenderJob(msgspec.Struct, kw_only=True):
    label: str
    lang: str
    text: str
    out: Path
    vtt: Path


def split_sentences(text: str) -> list[str]:
    """Sentences of a text: split after ``.!?…`` and at line breaks between paragraphs."""
    sentences: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        flat = " ".join(paragraph.split())
        sentences += [s.strip() for s in _SENTENCE_END.split(flat) if s.strip()]
    return sentences


def require_tools() -> dict[str, str]:
    """The paths of espeak-ng and ffmpeg; a clear error naming whichever is missing."""
    found = {tool: shutil.which(tool) for tool in TOOLS}
    missing = [tool for tool, path in found.items() if path is None]
    if missing:
        lines = [f"{tool} was not found on PATH: it {TOOLS[tool]}" for tool in missing]
        raise PromtourError(
            f"cannot render audio, {' and '.join(missing)} missing.\n  "
            + "\n  ".join(lines)
            + "\nInstall it and run the command again."
        )
    return {tool: path for tool, path in found.items() if path}


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PromtourError(f"file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PromtourError(f"{path}: not valid TOML: {exc}") from None


def jobs_from_file(path: Path) -> tuple[list[RenderJob], RenderSettings]:
    """The files to render from a script file or a tour file."""
    raw = _load_toml(path)
    if "stations" in raw or "enterprise" in raw:
        return _jobs_from_tour(path, raw)
    try:
        script = msgspec.convert(raw, ScriptFile, str_keys=True)
    except msgspec.ValidationError as exc:
        raise PromtourError(f"{path}: {exc}") from None
    folder = (path.parent / script.out).resolve()
    jobs = [
        RenderJob(
            label=f"{item.name}.{lang}",
            lang=lang,
            text=text,
            out=folder / f"{item.name}.{lang}.mp3",
            vtt=folder / f"{item.name}.{lang}.vtt",
        )
        for item in script.items
        for lang, text in item.text.items()
    ]
    return jobs, script


def _jobs_from_tour(path: Path, raw: dict[str, Any]) -> tuple[list[RenderJob], RenderSettings]:
    section = (raw.get("plugins") or {}).get("audio_guide")
    if section is None:
        raise PromtourError(f"{path}: the tour does not enable audio_guide ([plugins.audio_guide])")
    if not raw.get("media"):
        raise PromtourError(f'{path}: the tour has no media folder (media = "...")')
    try:
        config = msgspec.convert(section, AudioGuideConfig, str_keys=True)
    except msgspec.ValidationError as exc:
        raise PromtourError(f"{path}: plugin 'audio_guide': {exc}") from None
    folder = (path.parent / str(raw["media"])).resolve()
    jobs: list[RenderJob] = []
    for place, kind, track in config.all_tracks():
        for lang, text in track.script.items():
            if lang not in track.audio:
                raise PromtourError(
                    f"{path}: {place}, {kind} {track.id!r}: script.{lang} has no audio.{lang} "
                    "file name to render to"
                )
            if not track.audio[lang].lower().endswith(".mp3"):
                raise PromtourError(
                    f"{path}: {place}, {kind} {track.id!r}: audio.{lang} must be an .mp3 file "
                    "to be rendered"
                )
            jobs.append(
                RenderJob(
                    label=f"{place}/{track.id}.{lang}",
                    lang=lang,
                    text=text,
                    out=folder / track.audio[lang],
                    vtt=folder / track.transcript_for(lang),
                )
            )
    # A tour file holds only tour fields: it renders with the default settings.
    return jobs, RenderSettings()


def _run(command: list[str], what: str) -> str:
    """Run a tool; its stderr (ffmpeg reports there), or a clear error."""
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise PromtourError(
            f"{what} failed ({command[0]} exit {result.returncode}): " + " ".join(detail)
        )
    return result.stderr


def _loudnorm(settings: RenderSettings, ffmpeg: str, source: Path, label: str) -> str:
    """The ``loudnorm`` filter for ``source``: measured first, then applied linearly
    (two passes), so every file lands on the same loudness; single-pass ``loudnorm``
    undershoots on clips as short as station stories."""
    target = f"I={settings.loudness}:TP=-1.5:LRA=11"
    measure = ["-af", f"loudnorm={target}:print_format=json", "-f", "null", "-"]
    report = _run(
        [ffmpeg, "-hide_banner", "-nostdin", "-i", str(source), *measure],
        f"{label}: ffmpeg (measuring loudness)",
    )
    match = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", report)
    if match is None:
        return f"loudnorm={target}"
    measured = msgspec.json.decode(match.group(0))
    return (
        f"loudnorm={target}:measured_I={measured['input_i']}:measured_TP={measured['input_tp']}"
        f":measured_LRA={measured['input_lra']}:measured_thresh={measured['input_thresh']}"
        f":offset={measured['target_offset']}:linear=true"
    )


def render_job(job: RenderJob, settings: RenderSettings, tools: dict[str, str]) -> float:
    """Render one file and its transcript; returns the duration in seconds."""
    sentences = split_sentences(job.text)
    if not sentences:
        raise PromtourError(f"{job.label}: the text is empty")
    voice = settings.voices.get(job.lang, job.lang)
    cues: list[Cue] = []
    with tempfile.TemporaryDirectory(prefix="promtour-audio-") as tmp:
        folder = Path(tmp)
        params: Any = None
        frames: list[bytes] = []
        position = 0.0
        for index, sentence in enumerate(sentences):
            text_file = folder / f"{index}.txt"
            wav_file = folder / f"{index}.wav"
            text_file.write_text(sentence, encoding="utf-8")
            _run(
                [
                    tools["espeak-ng"],
                    "-v",
                    voice,
                    "-s",
                    str(settings.speed),
                    "-w",
                    str(wav_file),
                    "-f",
                    str(text_file),
                ],
                f"{job.label}: espeak-ng (voice {voice!r})",
            )
            with wave.open(str(wav_file), "rb") as wav:
                if params is None:
                    params = wav.getparams()
                elif (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) != (
                    params.nchannels,
                    params.sampwidth,
                    params.framerate,
                ):
                    raise PromtourError(f"{job.label}: espeak-ng changed its output format")
                data = wav.readframes(wav.getnframes())
                duration = wav.getnframes() / wav.getframerate()
            if index:
                gap = round(settings.pause * params.framerate)
                frames.append(b"\0" * gap * params.sampwidth * params.nchannels)
                position += gap / params.framerate
            frames.append(data)
            cues.append(Cue(start=position, end=position + duration, text=sentence))
            position += duration
        joined = folder / "all.wav"
        with wave.open(str(joined), "wb") as out:
            out.setnchannels(params.nchannels)
            out.setsampwidth(params.sampwidth)
            out.setframerate(params.framerate)
            out.writeframes(b"".join(frames))
        job.out.parent.mkdir(parents=True, exist_ok=True)
        encoded = folder / "out.mp3"
        _run(
            [
                tools["ffmpeg"],
                "-hide_banner",
                "-nostdin",
                "-loglevel",
                "error",
                "-y",
                "-i",
                str(joined),
                "-af",
                _loudnorm(settings, tools["ffmpeg"], joined, job.label),
                "-ac",
                "1",
                "-ar",
                str(settings.sample_rate),
                "-map_metadata",
                "-1",
                "-c:a",
                "libmp3lame",
                "-b:a",
                settings.bitrate,
                str(encoded),
            ],
            f"{job.label}: ffmpeg",
        )
        shutil.move(str(encoded), job.out)
    job.vtt.parent.mkdir(parents=True, exist_ok=True)
    job.vtt.write_text(write_vtt(cues), encoding="utf-8")
    return position


def cmd_render(args: argparse.Namespace) -> int:
    """Render every file of a script or tour file, showing progress."""
    source = Path(args.source)
    jobs, settings = jobs_from_file(source)
    if args.only:
        jobs = [j for j in jobs if any(part in j.label for part in args.only)]
    if args.lang:
        jobs = [j for j in jobs if j.lang in args.lang]
    if not jobs:
        raise PromtourError(
            f"{source}: nothing to render (no texts, or none matches --only/--lang)"
        )
    tools = require_tools()
    started = time.monotonic()
    total = 0.0
    for number, job in enumerate(jobs, 1):
        print(f"[{number}/{len(jobs)}] {job.label} ...", end=" ", flush=True)
        seconds = render_job(job, settings, tools)
        total += seconds
        size = job.out.stat().st_size
        print(f"{seconds:.1f} s, {size // 1024} KB -> {job.out}", flush=True)
    print(
        f"rendered {len(jobs)} files ({total:.0f} s of audio) in "
        f"{time.monotonic() - started:.1f} s",
        flush=True,
    )
    return 0


@hookimpl(specname="promtour_cli_commands")
def add_cli(subparsers: Any) -> None:
    """``promtour audio render``."""
    audio = subparsers.add_parser("audio", help="audio guide: render station audio")
    audio_sub = audio.add_subparsers(dest="audio_command", metavar="COMMAND", required=True)
    render = audio_sub.add_parser(
        "render",
        help="speak script texts to MP3 + WebVTT (espeak-ng, ffmpeg)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    render.add_argument(
        "source", metavar="TOUR_FILE_OR_SCRIPT", help="a script TOML or a tour TOML file"
    )
    render.add_argument(
        "--only", action="append", metavar="NAME", help="render only files whose name has NAME"
    )
    render.add_argument("--lang", action="append", help="render only this language")
    render.set_defaults(func=cmd_render)
