"""Tours: the TOML form (import/export), the KV store, and each process's cache.

A tour file is TOML with the fields of :class:`promtour._models.Tour` (signing keys
excluded) and an optional ``media`` folder, relative to the file, whose files are
uploaded to the media store under ``<enterprise>/<tour>/``. The folder must be inside
the tour file's folder and hold no symbolic links: a tour file from someone else must
not publish other local files (``/etc``, a home folder) to every visitor.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tomllib
from pathlib import Path
from typing import Any

import msgspec
import nats.errors
import nats.js.errors
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue
from promtour._bus import (
    BUCKET_ENTERPRISES,
    BUCKET_TOURS,
    Bus,
    BusUnavailable,
    is_unavailable,
)
from promtour._errors import TourError
from promtour._manager import PluginManager
from promtour._media import MAX_MEDIA_BYTES, MediaError, clean_name
from promtour._models import Enterprise, Tour
from promtour._watched import KvWatch

__all__ = [
    "MAX_MEDIA_BYTES",
    "TourCache",
    "TourFile",
    "TourState",
    "dump_tour_toml",
    "load_enterprise_toml",
    "load_tour_toml",
]

log = logging.getLogger("promtour._tours")


class TourFile(msgspec.Struct, kw_only=True):
    tour: Tour
    #: Media files found beside the tour file: name (relative path) -> local path.
    media: dict[str, Path]


class TourState(msgspec.Struct, kw_only=True):
    """A tour as the running platform needs it: with its converted plugin configs."""

    tour: Tour
    configs: dict[str, Any]
    revision: int = 0
    #: The render cache of this revision (``PluginContext.cached``): a saved tour is a
    #: new state, so whatever was cached for the old revision goes with it.
    memo: dict[Any, Any] = msgspec.field(default_factory=dict)


def _check_tour(tour: Tour, source: str) -> None:
    numbers: set[int] = set()
    ids: set[str] = set()
    for station in tour.stations:
        if station.id in ids:
            raise TourError(f"{source}: station id {station.id!r} appears twice")
        if station.number in numbers:
            raise TourError(f"{source}: station number {station.number} appears twice")
        ids.add(station.id)
        numbers.add(station.number)
    if tour.default_language not in tour.languages:
        raise TourError(
            f"{source}: default_language {tour.default_language!r} is not one of the tour's "
            f"languages {tour.languages}"
        )


def decode_tour(raw: dict[str, Any], source: str) -> Tour:
    raw = {k: v for k, v in raw.items() if k not in ("keys", "media")}
    try:
        tour = msgspec.convert(raw, Tour, str_keys=True)
    except msgspec.ValidationError as exc:
        raise TourError(f"{source}: {exc}") from None
    _check_tour(tour, source)
    return tour


def load_tour_toml(path: str | Path) -> TourFile:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TourError(f"tour file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TourError(f"{path}: not valid TOML: {exc}") from None
    tour = decode_tour(raw, str(path))
    media = _media_files(path, raw["media"]) if raw.get("media") else {}
    return TourFile(tour=tour, media=media)


def _media_folder(path: Path, value: object) -> Path:
    """The tour file's media folder: inside the tour file's folder, reached without
    ``..`` or symbolic links; else :class:`TourError` naming the file and the value."""
    raw = str(value)
    where = f"{path}: media = {raw!r}"
    if any(ord(c) < 32 for c in raw):
        raise TourError(f"{where}: control characters are not allowed")
    given = Path(raw)
    if ".." in given.parts:
        raise TourError(
            f"{where}: '..' is not allowed; the media folder must be inside the tour file's folder"
        )
    home = path.parent.absolute()
    folder = Path(os.path.normpath(given if given.is_absolute() else home / given))
    # The tour file's folder may itself be reached through links (/tmp on macOS): an
    # absolute media path may name it either way.
    root = next((r for r in (home, home.resolve()) if folder.is_relative_to(r)), None)
    if root is None:
        raise TourError(f"{where}: the media folder must be inside the tour file's folder {home}")
    step = root
    for part in folder.relative_to(root).parts:
        step = step / part
        if step.is_symlink():
            raise TourError(f"{where}: {step} is a symbolic link; copy the files in instead")
    if not folder.is_dir():
        raise TourError(f"{path}: media folder not found: {folder}")
    return folder


def _media_files(path: Path, value: object) -> dict[str, Path]:
    """Every media file under the folder by its media name; hidden files and folders
    (``.DS_Store``, ``.git``) are skipped, links and special files refused."""
    folder = _media_folder(path, value)
    media: dict[str, Path] = {}
    for top, dirs, files in os.walk(folder):
        here = Path(top)
        for name in sorted(dirs):
            if name.startswith("."):
                dirs.remove(name)
            elif (here / name).is_symlink():
                raise TourError(
                    f"{here / name}: a symbolic link in the media folder is not allowed; "
                    "copy the files in instead"
                )
        dirs.sort()
        for name in sorted(files):
            file = here / name
            if name.startswith("."):
                continue
            if file.is_symlink():
                raise TourError(
                    f"{file}: a symbolic link in the media folder is not allowed; "
                    "copy the file in instead"
                )
            if not file.is_file():
                raise TourError(f"{file}: not a regular file")
            try:
                key = clean_name(file.relative_to(folder).as_posix())
            except MediaError as exc:
                raise TourError(f"{file}: {exc}") from None
            media[key] = file
    return media


def load_enterprise_toml(path: str | Path) -> Enterprise:
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        return msgspec.convert(raw, Enterprise, str_keys=True)
    except FileNotFoundError:
        raise TourError(f"enterprise file not found: {path}") from None
    except (tomllib.TOMLDecodeError, msgspec.ValidationError) as exc:
        raise TourError(f"{path}: {exc}") from None


def dump_tour_toml(tour: Tour, *, media: str | None = None) -> str:
    import tomli_w

    data = msgspec.to_builtins(tour)
    data.pop("keys", None)
    if media:
        data["media"] = media
    # Scalars first, tables last, so the file reads like the hand-written ones.
    ordered = {k: v for k, v in data.items() if not isinstance(v, dict | list)}
    ordered.update({k: v for k, v in data.items() if isinstance(v, dict | list)})
    return tomli_w.dumps(ordered)


def media_name(tour: Tour, name: str) -> str:
    return f"{tour.enterprise}/{tour.id}/{name}"


class TourCache:
    """Every tour, kept current in each process by a watch on the tours bucket."""

    def __init__(self, bus: Bus, plugins: PluginManager) -> None:
        self._bus = bus
        self._plugins = plugins
        self._tours: dict[str, TourState] = {}
        self._enterprises: dict[str, Enterprise] = {}
        # Another process saved or deleted a tour: this process follows.
        self._watch = KvWatch(bus, BUCKET_TOURS, ">", self._entry)

    async def start(self) -> None:
        for key in await self._bus.keys(BUCKET_TOURS):
            await self.refresh(key)
        self._watch.start()

    async def stop(self) -> None:
        await self._watch.stop()

    def _entry(self, entry: KeyValue.Entry | None) -> None:
        if entry is None:
            return
        if entry.operation in (KV_DEL, KV_PURGE):
            self._tours.pop(entry.key, None)
        elif entry.value is not None:
            self._store(entry.key, entry.value, entry.revision or 0)

    def _store(self, key: str, value: bytes, revision: int) -> TourState | None:
        current = self._tours.get(key)
        if current is not None and current.revision >= revision:
            return current
        try:
            tour = msgspec.json.decode(value, type=Tour)
            configs = {
                name: self._plugins.convert_config(name, raw)
                for name, raw in tour.plugins.items()
                if name in self._plugins.infos
            }
        except Exception:
            log.exception("tour %s in KV cannot be loaded", key)
            return None
        state = TourState(tour=tour, configs=configs, revision=revision)
        self._tours[key] = state
        return state

    async def refresh(self, key: str) -> TourState | None:
        kv = await self._bus.bucket(BUCKET_TOURS)
        try:
            entry = await kv.get(key)
        except nats.js.errors.KeyNotFoundError:
            self._tours.pop(key, None)
            return None
        if entry.value is None:
            return None
        return self._store(key, entry.value, entry.revision or 0)

    async def get(self, key: str) -> TourState | None:
        state = self._tours.get(key)
        if state is None:
            try:
                state = await self.refresh(key)
            except (nats.errors.Error, nats.js.errors.Error) as exc:
                # NATS away: whether the tour exists is unknown, so not a 404.
                if is_unavailable(exc):
                    raise BusUnavailable(str(exc) or type(exc).__name__) from exc
                return None
        return state

    def cached(self, key: str) -> TourState | None:
        """The tour if this process has it, without asking NATS (for error pages)."""
        return self._tours.get(key)

    def all(self) -> list[TourState]:
        return [self._tours[k] for k in sorted(self._tours)]

    async def enterprise(self, enterprise_id: str) -> Enterprise | None:
        cached = self._enterprises.get(enterprise_id)
        if cached is not None:
            return cached
        kv = await self._bus.bucket(BUCKET_ENTERPRISES)
        try:
            entry = await kv.get(enterprise_id)
        except nats.js.errors.KeyNotFoundError:
            return None
        if not entry.value:
            return None
        enterprise = msgspec.json.decode(entry.value, type=Enterprise)
        self._enterprises[enterprise_id] = enterprise
        return enterprise

    async def save_enterprise(self, enterprise: Enterprise) -> None:
        kv = await self._bus.bucket(BUCKET_ENTERPRISES)
        await kv.put(enterprise.id, msgspec.json.encode(enterprise))
        self._enterprises[enterprise.id] = enterprise

    async def put(self, tour: Tour, *, last: int | None) -> TourState:
        """Store ``tour``; ``last`` is the revision it was read at (None: new tour)."""
        kv = await self._bus.bucket(BUCKET_TOURS)
        data = msgspec.json.encode(tour)
        if last is None:
            try:
                revision = await kv.create(tour.key, data)
            except nats.js.errors.KeyWrongLastSequenceError:
                raise TourError(f"tour {tour.key} already exists") from None
        else:
            try:
                revision = await kv.update(tour.key, data, last=last)
            except nats.js.errors.KeyWrongLastSequenceError:
                raise TourError(
                    f"tour {tour.key} was changed by someone else meanwhile; reload and retry"
                ) from None
        state = self._store(tour.key, data, revision)
        assert state is not None
        return state

    async def delete(self, key: str) -> None:
        kv = await self._bus.bucket(BUCKET_TOURS)
        await kv.purge(key)
        self._tours.pop(key, None)


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
