"""The routes plugin's records and how they are kept in its store.

Keys (one store, shared by all tours):

- ``op.<operator>``: an :class:`Operator`; ``optok.<token id>``: an operator's token
  (its SHA-256 only);
- ``route.<route>``: a :class:`Route` with its members (enterprise tours and their
  status); ``idx.<enterprise>.<tour>``: the routes a tour was proposed to;
- ``pp.<passport>``: a visitor's :class:`Passport` (its id is the visitor id of the
  browser that earned the first stamp); ``link.<visitor>``: the passport of a browser
  that restored one with a passport code;
- ``code.<CODE>``: a passport code (with a TTL); ``reward.<CODE>``: a :class:`Reward`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date, datetime
from typing import Literal

import msgspec
from promtour.plugin import PluginStore, Text, Versioned, utcnow

__all__ = [
    "CODE_ALPHABET",
    "Member",
    "Operator",
    "OperatorToken",
    "Passport",
    "Reward",
    "Route",
    "Stamp",
    "Tier",
    "TierReached",
    "authenticate_operator",
    "create_operator",
    "create_operator_token",
    "find_passport",
    "new_code",
    "normalize_code",
]

#: Unambiguous letters and digits (no 0/O, 1/I/L): codes are read off a phone aloud.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
#: Seen event ids a passport remembers (redeliveries come soon after the first delivery).
SEEN_KEPT = 500

StampRule = Literal["check_in", "finish"]
MemberStatus = Literal["proposed", "accepted", "declined", "left"]


class Operator(msgspec.Struct, kw_only=True):
    """A route operator: a regional tourism agency, a federal programme."""

    id: str
    name: Text
    created: datetime = msgspec.field(default_factory=utcnow)


class OperatorToken(msgspec.Struct, kw_only=True):
    id: str
    operator: str
    label: str
    sha256: str
    created: datetime = msgspec.field(default_factory=utcnow)


class Tier(msgspec.Struct, kw_only=True):
    """``need`` stamps (distinct enterprises) earn ``reward``."""

    need: int
    reward: Text


class Member(msgspec.Struct, kw_only=True):
    """One tour of an enterprise on a route, and where its admin stands."""

    enterprise: str
    tour: str
    status: MemberStatus = "proposed"
    changed: datetime = msgspec.field(default_factory=utcnow)


class Route(msgspec.Struct, kw_only=True):
    id: str
    operator: str
    title: Text
    description: Text = msgspec.field(default_factory=dict)
    regions: list[str] = msgspec.field(default_factory=list)
    season_from: date
    season_to: date
    #: What earns an enterprise's stamp: a check-in at its tour, or finishing it.
    stamp: StampRule = "check_in"
    tiers: list[Tier] = msgspec.field(default_factory=list)
    members: list[Member] = msgspec.field(default_factory=list)

    def accepted(self) -> list[Member]:
        return [m for m in self.members if m.status == "accepted"]

    def enterprises(self) -> list[str]:
        """The enterprises with an accepted tour: one stamp each."""
        return sorted({m.enterprise for m in self.accepted()})

    def member(self, enterprise: str, tour: str) -> Member | None:
        return next(
            (m for m in self.members if m.enterprise == enterprise and m.tour == tour), None
        )

    def in_season(self, day: date) -> bool:
        return self.season_from <= day <= self.season_to


class Stamp(msgspec.Struct, kw_only=True):
    route: str
    enterprise: str
    tour: str
    time: datetime
    #: The core event that earned it.
    event: str


class TierReached(msgspec.Struct, kw_only=True):
    route: str
    need: int
    time: datetime
    #: The reward code shown on the phone.
    code: str
    redeemed: datetime | None = None


class Passport(msgspec.Struct, kw_only=True):
    id: str
    stamps: list[Stamp] = msgspec.field(default_factory=list)
    tiers: list[TierReached] = msgspec.field(default_factory=list)
    #: Event ids already applied (idempotence under redelivery).
    seen: list[str] = msgspec.field(default_factory=list)
    #: The current passport code, if one was shown.
    code: str | None = None
    #: Whether the visitor joined a group (a school class) on a stamp's visit.
    group: bool = False

    def stamps_of(self, route: str) -> list[Stamp]:
        return [s for s in self.stamps if s.route == route]

    def tiers_of(self, route: str) -> list[TierReached]:
        return [t for t in self.tiers if t.route == route]


class Reward(msgspec.Struct, kw_only=True):
    code: str
    route: str
    passport: str
    need: int
    #: The enterprise whose tour earned the stamp that reached the tier.
    enterprise: str
    tour: str
    created: datetime = msgspec.field(default_factory=utcnow)
    redeemed: datetime | None = None
    #: ``enterprise:<id>`` or ``operator:<id>``: who redeemed it.
    redeemed_by: str = ""


def new_code(length: int = 8) -> str:
    """A short code of :data:`CODE_ALPHABET` (8 characters: about 40 bits)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normalize_code(raw: str) -> str | None:
    """A typed code in canonical form (upper case, no spaces or dashes), or None."""
    code = raw.strip().upper().replace("-", "").replace(" ", "")
    if not 6 <= len(code) <= 12 or any(c not in CODE_ALPHABET for c in code):
        return None
    return code


async def find_passport(store: PluginStore, visitor: str) -> tuple[str, Versioned[Passport]]:
    """A browser's passport: its id, and the record as read (to write back with
    ``replace``; empty until the passport's first stamp).

    Its own once that has stamps: a browser with stamps of its own never takes another
    passport (``restore`` refuses), so the usual case is one read, not two. Else the
    passport it restored with a code (``link.<visitor>``), else its own."""
    own = await store.read(f"pp.{visitor}", Passport)
    if own.value is not None and own.value.stamps:
        return visitor, own
    linked = await store.get(f"link.{visitor}", str)
    if linked and linked != visitor:
        return linked, await store.read(f"pp.{linked}", Passport)
    return visitor, own


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_operator(store: PluginStore, operator: Operator) -> bool:
    return await store.create(f"op.{operator.id}", operator)


async def create_operator_token(
    store: PluginStore, operator: str, label: str
) -> tuple[OperatorToken, str]:
    """A token of the operator; the secret (``rto_<id>_<secret>``) is shown once."""
    token_id = secrets.token_hex(6)
    secret = f"rto_{token_id}_{secrets.token_urlsafe(24)}"
    token = OperatorToken(id=token_id, operator=operator, label=label, sha256=_digest(secret))
    await store.create(f"optok.{token_id}", token)
    return token, secret


async def authenticate_operator(store: PluginStore, secret: str) -> OperatorToken | None:
    """The token of an operator secret, or None if it is unknown or revoked."""
    parts = secret.split("_")
    if len(parts) < 3 or parts[0] != "rto" or not parts[1].isalnum():
        return None
    token = await store.get(f"optok.{parts[1]}", OperatorToken)
    if token is None or not hmac.compare_digest(token.sha256, _digest(secret)):
        return None
    return token
