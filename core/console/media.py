"""Tour media: type and size checks on upload, the list with sizes, and where each
file is used.

Files live in the NATS object store under ``<enterprise>/<tour>/<name>`` and are
served to visitors by ``/media/...``. Only audio, images and subtitle/transcript text
are accepted, and the bytes must look like the type the name claims (an ``.mp3`` that
is really an HTML page is refused). SVG is not accepted: it can carry scripts and is
served from the app's own origin.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import nats.js.errors
from promtour.errors import PromtourError
from promtour.models import Tour
from promtour.platform import Platform
from promtour.tours import MAX_MEDIA_BYTES, media_name

__all__ = [
    "MAX_IMAGE_BYTES",
    "MAX_TEXT_BYTES",
    "MEDIA_TYPES",
    "MediaError",
    "MediaItem",
    "check_media",
    "clean_name",
    "delete_media",
    "list_media",
    "upload_media",
    "where_used",
]

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_TEXT_BYTES = 1024 * 1024
NAME_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class MediaError(PromtourError):
    """A file that cannot be accepted as tour media; the message says why."""


def _mp3(data: bytes) -> bool:
    return data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


def _m4a(data: bytes) -> bool:
    return data[4:8] == b"ftyp"


def _text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in data


#: extension -> (content type, kind, does the content look right).
MEDIA_TYPES: dict[str, tuple[str, str, Callable[[bytes], bool]]] = {
    ".mp3": ("audio/mpeg", "audio", _mp3),
    ".m4a": ("audio/mp4", "audio", _m4a),
    ".aac": ("audio/aac", "audio", lambda d: len(d) > 1 and d[0] == 0xFF and d[1] & 0xF0 == 0xF0),
    ".ogg": ("audio/ogg", "audio", lambda d: d[:4] == b"OggS"),
    ".oga": ("audio/ogg", "audio", lambda d: d[:4] == b"OggS"),
    ".opus": ("audio/ogg", "audio", lambda d: d[:4] == b"OggS"),
    ".wav": ("audio/wav", "audio", lambda d: d[:4] == b"RIFF" and d[8:12] == b"WAVE"),
    ".webm": ("audio/webm", "audio", lambda d: d[:4] == b"\x1a\x45\xdf\xa3"),
    ".jpg": ("image/jpeg", "image", lambda d: d[:3] == b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", "image", lambda d: d[:3] == b"\xff\xd8\xff"),
    ".png": ("image/png", "image", lambda d: d[:8] == b"\x89PNG\r\n\x1a\n"),
    ".webp": ("image/webp", "image", lambda d: d[:4] == b"RIFF" and d[8:12] == b"WEBP"),
    ".gif": ("image/gif", "image", lambda d: d[:6] in (b"GIF87a", b"GIF89a")),
    ".vtt": (
        "text/vtt",
        "text",
        lambda d: _text(d) and d.lstrip(b"\xef\xbb\xbf").startswith(b"WEBVTT"),
    ),
    ".txt": ("text/plain", "text", _text),
    ".md": ("text/markdown", "text", _text),
}
LIMITS = {"audio": MAX_MEDIA_BYTES, "image": MAX_IMAGE_BYTES, "text": MAX_TEXT_BYTES}


class MediaItem(msgspec.Struct, kw_only=True):
    name: str
    size: int
    content_type: str
    #: Where the tour's plugin configs mention the file (``plugin.key.path``).
    used_in: list[str] = msgspec.field(default_factory=list)


def clean_name(name: str) -> str:
    """A safe media name: path parts of letters, digits, ``.``, ``_`` and ``-``."""
    name = name.strip().replace("\\", "/").strip("/")
    parts = name.split("/")
    if not name or len(name) > 200 or not all(NAME_PART.match(p) for p in parts):
        raise MediaError(
            f"the file name {name!r} is not allowed: use letters, digits, '.', '_' and '-' "
            "(folders with '/')"
        )
    return "/".join(parts)


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > name.rfind("/") else ""


def check_media(name: str, data: bytes) -> str:
    """The content type of an acceptable file, else :class:`MediaError` saying why."""
    kind = MEDIA_TYPES.get(_suffix(name))
    if kind is None:
        allowed = ", ".join(sorted(MEDIA_TYPES))
        raise MediaError(f"{name}: this type of file is not accepted (allowed: {allowed})")
    content_type, group, looks_right = kind
    if not data:
        raise MediaError(f"{name}: the file is empty")
    limit = LIMITS[group]
    if len(data) > limit:
        raise MediaError(
            f"{name}: the file is {len(data) / 1048576:.1f} MB; "
            f"{group} files may be at most {limit // 1048576} MB"
        )
    if not looks_right(data):
        raise MediaError(f"{name}: the content is not a {_suffix(name)} file")
    return content_type


async def upload_media(platform: Platform, tour: Tour, name: str, data: bytes) -> MediaItem:
    name = clean_name(name)
    content_type = check_media(name, data)
    await platform.bus.media.put(media_name(tour, name), data)
    return MediaItem(name=name, size=len(data), content_type=content_type)


async def list_media(platform: Platform, tour: Tour) -> list[MediaItem]:
    prefix = media_name(tour, "")
    try:
        infos = await platform.bus.media.list(ignore_deletes=True)
    except nats.js.errors.NotFoundError:
        return []
    items = []
    for info in infos:
        if not info.name.startswith(prefix) or info.deleted:
            continue
        name = info.name[len(prefix) :]
        kind = MEDIA_TYPES.get(_suffix(name))
        items.append(
            MediaItem(
                name=name,
                size=info.size or 0,
                content_type=kind[0] if kind else "application/octet-stream",
                used_in=where_used(tour, name),
            )
        )
    return sorted(items, key=lambda i: i.name)


async def delete_media(platform: Platform, tour: Tour, name: str) -> None:
    """Delete a file; refused while the tour uses it (nothing a visitor needs is lost)."""
    used = where_used(tour, name)
    if used:
        raise MediaError(f"{name} is still used by {', '.join(used)}: change that first")
    try:
        await platform.bus.media.delete(media_name(tour, name))
    except (nats.js.errors.NotFoundError, nats.js.errors.ObjectNotFoundError):
        raise MediaError(f"there is no file {name!r}") from None


def where_used(tour: Tour, name: str) -> list[str]:
    """Config paths (``plugin.key[0].audio``) whose value names the file."""
    return [where for where, value in _strings(tour.plugins, "") if _names_file(value, name)]


def _names_file(value: str, name: str) -> bool:
    value = value.strip().lstrip("/")
    return value == name or value.endswith("/" + name)


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{where}[{index}]")
