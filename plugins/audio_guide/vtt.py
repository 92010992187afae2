"""WebVTT: reading transcripts into cues for the page, writing them from the renderer.

Only what transcripts need: cue timings and text. Cue settings, styles, regions and
notes are skipped; voice and formatting tags are dropped from the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import msgspec

__all__ = ["Cue", "format_timestamp", "parse_vtt", "write_vtt"]

_TIMING = re.compile(
    r"^\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})"
)
_TAG = re.compile(r"<[^>]*>")


class Cue(msgspec.Struct, frozen=True):
    start: float
    end: float
    text: str


def _seconds(stamp: str) -> float:
    parts = stamp.replace(",", ".").split(":")
    seconds = float(parts[-1])
    minutes = int(parts[-2])
    hours = int(parts[-3]) if len(parts) == 3 else 0
    return hours * 3600 + minutes * 60 + seconds


def _unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u00a0")
        .replace("&amp;", "&")
    )


def parse_vtt(text: str) -> list[Cue]:
    """The cues of a WebVTT file, in order. Lenient: a block that is not a cue is
    skipped rather than failing the whole transcript."""
    cues: list[Cue] = []
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    for block in re.split(r"\n{2,}", text):
        lines = block.strip("\n").split("\n")
        for index, line in enumerate(lines):
            match = _TIMING.match(line)
            if match is None:
                continue
            body = " ".join(_unescape(_TAG.sub("", t)).strip() for t in lines[index + 1 :])
            body = " ".join(body.split())
            if body:
                start, end = _seconds(match.group(1)), _seconds(match.group(2))
                cues.append(Cue(start=start, end=max(end, start), text=body))
            break
    return cues


def format_timestamp(seconds: float) -> str:
    millis = round(max(seconds, 0) * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_vtt(cues: Iterable[Cue]) -> str:
    """A WebVTT file with one numbered cue per item."""
    out = ["WEBVTT", ""]
    for number, cue in enumerate(cues, 1):
        text = _escape(" ".join(cue.text.split())).replace("-->", "->")
        out += [
            str(number),
            f"{format_timestamp(cue.start)} --> {format_timestamp(cue.end)}",
            text,
            "",
        ]
    return "\n".join(out)
