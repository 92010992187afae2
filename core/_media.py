"""The one media check: what may enter the media store and how it is served back.

Every way into the store (API upload, console upload, ``promtour tours import`` of a
tour file's media folder) runs :func:`clean_name` and :func:`check_media`, and
``/media/...`` asks :func:`served_type` for the type to send. Files are served from
the app's own origin, so a file that a browser would run as a page (HTML, SVG, XML)
would run with a signed-in admin's cookies: only audio, raster images and plain
subtitle/transcript text are accepted, and the bytes must be what the name claims.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from promtour._errors import TourError

__all__ = [
    "LIMITS",
    "MAX_IMAGE_BYTES",
    "MAX_MEDIA_BYTES",
    "MAX_TEXT_BYTES",
    "MEDIA_TYPES",
    "MediaError",
    "check_media",
    "check_size",
    "clean_name",
    "media_suffix",
    "served_type",
]

MAX_MEDIA_BYTES = 50 * 1024 * 1024
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_TEXT_BYTES = 1024 * 1024
MAX_NAME_CHARS = 200

#: One path part: starts with a letter or digit (any script), then letters, digits,
#: ``.``, ``_``, ``-``. ``\w`` is Unicode-aware, and excludes controls, spaces,
#: slashes of every script and bidi overrides.
NAME_PART = re.compile(r"^[^\W_][\w.-]{0,99}$")


class MediaError(TourError):
    """A file that cannot be accepted as tour media; the message names it and says why."""


def _mp3(data: bytes) -> bool:
    return data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


def _aac(data: bytes) -> bool:
    return len(data) > 1 and data[0] == 0xFF and data[1] & 0xF6 == 0xF0


def _m4a(data: bytes) -> bool:
    return data[4:8] == b"ftyp"


#: What browsers treat as markup when they sniff (WHATWG MIME sniffing, "HTML" and
#: "XML" patterns): a text file that starts like this is refused even as ``.txt``.
MARKUP = re.compile(
    rb"^\s*<(!doctype|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p"
    rb"|!--|\?xml|svg|object|embed|meta|link|img|form)[\s/>]",
    re.IGNORECASE,
)


def _text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in data and not MARKUP.match(data.lstrip(b"\xef\xbb\xbf"))


def _vtt(data: bytes) -> bool:
    return _text(data) and data.lstrip(b"\xef\xbb\xbf").startswith(b"WEBVTT")


#: extension -> (content type, kind, do the bytes look like it). The one allow-list:
#: upload checks and the type ``/media/`` sends both come from here.
MEDIA_TYPES: dict[str, tuple[str, str, Callable[[bytes], bool]]] = {
    ".mp3": ("audio/mpeg", "audio", _mp3),
    ".m4a": ("audio/mp4", "audio", _m4a),
    ".aac": ("audio/aac", "audio", _aac),
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
    ".vtt": ("text/vtt", "text", _vtt),
    ".txt": ("text/plain", "text", _text),
    ".md": ("text/markdown", "text", _text),
}
LIMITS = {"audio": MAX_MEDIA_BYTES, "image": MAX_IMAGE_BYTES, "text": MAX_TEXT_BYTES}


def clean_name(name: str) -> str:
    """A safe media name (NFC): ``/``-separated parts of letters of any script, digits,
    ``.``, ``_`` and ``-``. Absolute names, ``..``, backslashes and control characters
    are refused rather than repaired, so what is stored is what was asked for."""
    name = unicodedata.normalize("NFC", name.strip())
    if not name:
        raise MediaError("the file has no name")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        raise MediaError(f"{name!r}: control characters are not allowed in file names")
    if name.startswith("/") or "\\" in name or re.match(r"^[A-Za-z]:", name):
        raise MediaError(f"{name!r}: give a name inside the tour, not an absolute path")
    parts = name.split("/")
    if ".." in parts or "." in parts:
        raise MediaError(f"{name!r}: '..' and '.' are not allowed in file names")
    if len(name) > MAX_NAME_CHARS or not all(NAME_PART.match(p) for p in parts):
        raise MediaError(
            f"the file name {name!r} is not allowed: use letters, digits, '.', '_' and '-' "
            f"(folders with '/'; at most {MAX_NAME_CHARS} characters)"
        )
    return name


def media_suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > name.rfind("/") else ""


def check_media(name: str, data: bytes, *, label: str | None = None) -> str:
    """The content type of an acceptable file, else :class:`MediaError` saying why.

    ``label`` names the file in messages (a local path for the CLI)."""
    label = label or name
    kind = MEDIA_TYPES.get(media_suffix(name))
    if kind is None:
        allowed = ", ".join(sorted(MEDIA_TYPES))
        raise MediaError(f"{label}: this type of file is not accepted (allowed: {allowed})")
    content_type, _, looks_right = kind
    if not data:
        raise MediaError(f"{label}: the file is empty")
    check_size(name, len(data), label=label)
    if not looks_right(data):
        raise MediaError(f"{label}: the content is not a {media_suffix(name)} file")
    return content_type


def check_size(name: str, size: int, *, label: str | None = None) -> None:
    """Refuse a file over its kind's limit (before reading it, where the size is known)."""
    kind = MEDIA_TYPES.get(media_suffix(name))
    limit = LIMITS[kind[1]] if kind else MAX_MEDIA_BYTES
    if size > limit:
        group = kind[1] if kind else "media"
        raise MediaError(
            f"{label or name}: the file is {size / 1048576:.1f} MB; "
            f"{group} files may be at most {limit // 1048576} MB"
        )


def served_type(name: str, data: bytes) -> str | None:
    """The type to serve a stored file as, or None: send it as an attachment.

    Derived from the allow-list and the bytes, never from the name alone, so a file
    stored before these checks (or put into NATS by hand) is not served as a page."""
    kind = MEDIA_TYPES.get(media_suffix(name))
    if kind is None or not data or not kind[2](data):
        return None
    return f"{kind[0]}; charset=utf-8" if kind[1] == "text" else kind[0]
