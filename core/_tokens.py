"""Signed tokens: the station codes on QR posters and the visitor cookie.

A station code is ``<enterprise>.<tour>.<station>.<kid>.<sig>``: readable ids (so a
poster can be checked by eye) and a truncated HMAC-SHA256 over them with the tour's
key ``kid``. Rotating a tour's key makes old posters stop working; disabling a
station does not need a reprint.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

import msgspec
from promtour._errors import TokenError
from promtour._models import SLUG_RE, Tour, TourKey

__all__ = ["Signer", "StationCode", "new_tour_key", "parse_station_code", "sign_station"]

SIG_LEN = 16  # base64url characters: 96 bits


class StationCode(msgspec.Struct, frozen=True):
    enterprise: str
    tour: str
    station: str
    kid: str
    sig: str

    @property
    def tour_key(self) -> str:
        return f"{self.enterprise}.{self.tour}"

    @property
    def payload(self) -> str:
        return f"{self.enterprise}.{self.tour}.{self.station}.{self.kid}"


def _mac(secret: str, payload: str, length: int = SIG_LEN) -> str:
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:length]


def new_tour_key() -> TourKey:
    return TourKey(kid=secrets.token_hex(2), secret=secrets.token_urlsafe(32))


def sign_station(tour: Tour, station_id: str) -> str:
    """The code for a station's QR poster, signed with the tour's newest key."""
    if not tour.keys:
        raise TokenError(f"tour {tour.key} has no signing key")
    key = tour.keys[-1]
    payload = f"{tour.enterprise}.{tour.id}.{station_id}.{key.kid}"
    return f"{payload}.{_mac(key.secret, payload)}"


def parse_station_code(code: str) -> StationCode:
    """Split a code into its parts; the signature is checked by :func:`verify_station`."""
    parts = code.split(".")
    if len(code) > 200 or len(parts) != 5:
        raise TokenError("this code is incomplete or is not from a tour poster")
    enterprise, tour, station, kid, sig = parts
    if not all(SLUG_RE.match(p) for p in (enterprise, tour, station)) or len(sig) != SIG_LEN:
        raise TokenError("this code is incomplete or is not from a tour poster")
    return StationCode(enterprise, tour, station, kid, sig)


def verify_station(tour: Tour, code: StationCode) -> None:
    """Raise :class:`TokenError` unless ``code`` was signed by the tour's current key."""
    key = tour.keys[-1] if tour.keys else None
    if key is None or key.kid != code.kid:
        raise TokenError("this code is from an old poster: the tour's codes were renewed")
    if not hmac.compare_digest(_mac(key.secret, code.payload), code.sig):
        raise TokenError("this code is not valid")


class Signer:
    """Signs short values (visitor ids, CSRF tokens) with the platform secret."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def sign(self, value: str, *, purpose: str) -> str:
        return f"{value}.{_mac(self._secret, f'{purpose}:{value}', 22)}"

    def unsign(self, signed: str | None, *, purpose: str) -> str | None:
        """The value, or None if ``signed`` is missing or was not signed by us."""
        if not signed or "." not in signed:
            return None
        value, _, sig = signed.rpartition(".")
        expected = _mac(self._secret, f"{purpose}:{value}", 22)
        return value if hmac.compare_digest(expected, sig) else None

    def mac(self, value: str, *, purpose: str) -> str:
        return _mac(self._secret, f"{purpose}:{value}", 22)
