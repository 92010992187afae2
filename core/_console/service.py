"""What the console pages and the JSON API both do to an enterprise's tours.

Every change reads the stored tour, changes a copy and saves it through
:meth:`Platform.save_tour`, which validates the whole tour (every plugin's config)
before anything is written: a bad value is refused and nothing is half-saved.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import nats.js.errors
from litestar.exceptions import HTTPException, NotFoundException
from promtour._auth import ApiToken, create_token, list_tokens, revoke_token
from promtour._bus import BUCKET_ENTERPRISES
from promtour._errors import PromtourError, TourError
from promtour._models import SLUG_RE, Enterprise, Station, Tour
from promtour._platform import Platform
from promtour._tokens import new_tour_key, sign_station
from promtour._tours import TourState, decode_tour, dump_tour_toml, media_name

__all__ = [
    "RESERVED_IDS",
    "Conflict",
    "change_tour",
    "check_tour",
    "copy_tour",
    "create_enterprise",
    "create_tour",
    "delete_tour",
    "enterprise_of",
    "export_tour",
    "import_tour",
    "load_tour",
    "missing_translations",
    "move_station",
    "reorder_stations",
    "rotate_key",
    "rotate_token",
    "station_of",
    "station_url",
    "tours_of",
]

#: Enterprise ids that would clash with console paths.
RESERVED_IDS = frozenset({"login", "logout", "static", "api"})


class Conflict(HTTPException):
    """The object already exists (409)."""

    status_code = 409


def copy_tour(tour: Tour) -> Tour:
    """A deep copy to change: the cached tour is shared by every request."""
    return msgspec.json.decode(msgspec.json.encode(tour), type=Tour)


async def create_enterprise(platform: Platform, enterprise: Enterprise) -> None:
    """Store a new enterprise; refuses an id that exists or is reserved."""
    if enterprise.id in RESERVED_IDS:
        raise PromtourError(f"{enterprise.id!r} is reserved; choose another enterprise id")
    kv = await platform.bus.bucket(BUCKET_ENTERPRISES)
    try:
        await kv.create(enterprise.id, msgspec.json.encode(enterprise))
    except nats.js.errors.KeyWrongLastSequenceError:
        raise PromtourError(f"enterprise {enterprise.id!r} already exists") from None
    await platform.tours.save_enterprise(enterprise)


async def enterprise_of(platform: Platform, enterprise: str) -> Enterprise:
    found = await platform.tours.enterprise(enterprise)
    if found is None:
        raise NotFoundException("No such enterprise.")
    return found


def tours_of(platform: Platform, enterprise: str) -> list[TourState]:
    return [s for s in platform.tours.all() if s.tour.enterprise == enterprise]


async def load_tour(platform: Platform, enterprise: str, tour_id: str) -> TourState:
    """The stored tour (fresh from KV, not the cache), or 404."""
    if not SLUG_RE.match(tour_id):
        raise NotFoundException("There is no such tour.")
    state = await platform.tours.refresh(f"{enterprise}.{tour_id}")
    if state is None:
        raise NotFoundException("There is no such tour.")
    return state


async def create_tour(platform: Platform, tour: Tour) -> TourState:
    if await platform.tours.refresh(tour.key) is not None:
        raise Conflict(detail=f"A tour with the id {tour.id!r} already exists.")
    return await platform.save_tour(tour, create_only=True)


async def change_tour(
    platform: Platform, enterprise: str, tour_id: str, change: Callable[[Tour], None]
) -> TourState:
    """Load, change a copy, validate and save; nothing is stored if ``change`` or the
    validation raises."""
    state = await load_tour(platform, enterprise, tour_id)
    tour = copy_tour(state.tour)
    change(tour)
    check_tour(tour)
    return await platform.save_tour(tour)


def check_tour(tour: Tour) -> None:
    """The tour-level rules that the schema cannot say (unique ids and numbers)."""
    decode_tour(msgspec.to_builtins(tour), f"tour {tour.id!r}")


def station_of(tour: Tour, station_id: str) -> Station:
    station = tour.station(station_id)
    if station is None:
        raise NotFoundException("There is no such station.")
    return station


def reorder_stations(tour: Tour, order: list[str]) -> None:
    if sorted(order) != sorted(s.id for s in tour.stations):
        raise TourError(
            "the new order must list every station of the tour exactly once: "
            + ", ".join(s.id for s in tour.stations)
        )
    by_id = {s.id: s for s in tour.stations}
    tour.stations = [by_id[i] for i in order]


def move_station(tour: Tour, station_id: str, step: int) -> None:
    """Move a station up (-1) or down (+1) in the tour's order; numbers stay (posters)."""
    ids = [s.id for s in tour.stations]
    index = ids.index(station_of(tour, station_id).id)
    target = max(0, min(len(ids) - 1, index + step))
    ids.insert(target, ids.pop(index))
    reorder_stations(tour, ids)


async def delete_tour(platform: Platform, enterprise: str, tour_id: str) -> None:
    state = await load_tour(platform, enterprise, tour_id)
    for name in await platform.media_names(state.tour):
        try:
            await platform.bus.media.delete(media_name(state.tour, name))
        except nats.js.errors.NotFoundError:
            pass
    await platform.delete_tour(state.tour.key)


async def rotate_key(platform: Platform, enterprise: str, tour_id: str) -> TourState:
    """A new signing key: every printed poster of the tour stops working at once."""

    def rotate(tour: Tour) -> None:
        # Old keys are kept only as history (the newest one alone verifies codes).
        tour.keys = [*tour.keys[-4:], new_tour_key()]

    return await change_tour(platform, enterprise, tour_id, rotate)


async def rotate_token(platform: Platform, enterprise: str, token_id: str) -> tuple[ApiToken, str]:
    """Replace a token by a new one with the same role and label; the old one stops
    working at once. Returns the new token and its secret (shown once)."""
    old = next((t for t in await list_tokens(platform.bus, enterprise) if t.id == token_id), None)
    if old is None:
        raise NotFoundException("There is no such token.")
    token, secret = await create_token(platform.bus, enterprise, old.role, old.label)
    await revoke_token(platform.bus, enterprise, old.id)
    return token, secret


def export_tour(tour: Tour) -> str:
    return dump_tour_toml(tour)


async def import_tour(
    platform: Platform, enterprise: str, text: str, *, replace: bool = False
) -> TourState:
    """Save a tour from its TOML form (as exported). Media files are not in the TOML:
    upload them to the tour (the plugins' checks name any that are missing)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TourError(f"the file is not valid TOML: {exc}") from None
    raw.setdefault("enterprise", enterprise)
    if raw.get("enterprise") != enterprise:
        raise TourError(
            f"this tour file is for the enterprise {raw.get('enterprise')!r}: "
            f'change the line enterprise = "{enterprise}" to import it here'
        )
    tour = decode_tour(raw, "the tour file")
    if not replace:
        return await create_tour(platform, tour)
    return await platform.save_tour(tour)


def station_url(base: str, tour: Tour, station_id: str) -> str:
    return f"{base.rstrip('/')}/s/{sign_station(tour, station_id)}"


# --- translations -----------------------------------------------------------------------

LANG_CODE = re.compile(r"^[a-z]{2,3}$")


def _is_text(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and all(isinstance(k, str) and LANG_CODE.match(k) for k in value)
        and all(isinstance(v, str) for v in value.values())
    )


def _texts(value: Any, where: str, station: str | None) -> Iterator[tuple[str, dict[str, str]]]:
    """Translated texts in a plugin config; items bound to another station are skipped."""
    if _is_text(value):
        yield where, value
    elif isinstance(value, dict):
        bound = value.get("station")
        if station is not None and isinstance(bound, str) and bound != station:
            return
        for key, item in value.items():
            yield from _texts(item, f"{where}.{key}", station)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(item, f"{where}[{index}]", station)


def missing_translations(tour: Tour, lang: str, station: Station | None = None) -> list[str]:
    """Where a text of the tour (or of one station, with the plugin texts for it) has
    no translation into ``lang``: e.g. ``station press: description``."""
    missing: list[str] = []
    if tour.name and not tour.name.get(lang):
        missing.append("tour: name")
    if tour.description and not tour.description.get(lang):
        missing.append("tour: description")
    stations = [station] if station is not None else tour.stations
    for s in stations:
        if not s.name.get(lang):
            missing.append(f"station {s.id}: name")
        if s.description and not s.description.get(lang):
            missing.append(f"station {s.id}: description")
    ids = {s.id for s in tour.stations}
    for plugin, config in sorted(tour.plugins.items()):
        for where, text in _texts(config, plugin, station.id if station else None):
            if station is not None and _other_station(where, station.id, ids):
                continue
            if not text.get(lang):
                missing.append(f"plugin {where}")
    return missing


def _other_station(where: str, station: str, ids: set[str]) -> bool:
    parts = set(re.split(r"[.\[\]]", where))
    return bool(parts & (ids - {station}))
