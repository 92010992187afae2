"""Enterprise access: API tokens with roles, stored hashed, checked on every request.

A token is shown once, at creation: ``pt_<id>_<secret>``. KV keeps only its SHA-256.
Revocation deletes the record, so the next request with it gets 401 at once in every
process. Every object of an enterprise is reachable only with a token of that
enterprise: another enterprise's token gets 404 (its objects do not exist for it).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import msgspec
import nats.js.errors
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from promtour._bus import Bus
from promtour._describe import RoleSpec
from promtour._models import SLUG_RE, utcnow

__all__ = [
    "ANY_ROLE",
    "BUCKET_TOKENS",
    "CORE_ROLES",
    "ApiToken",
    "Principal",
    "Role",
    "Roles",
    "authenticate",
    "create_token",
    "list_tokens",
    "principal_for_token_id",
    "principal_from_request",
    "revoke_token",
]

BUCKET_TOKENS = "PROMTOUR_TOKENS"
Role = str
#: The core's own roles; plugins declare theirs (``PluginInfo.roles``).
CORE_ROLES: tuple[str, ...] = ("admin", "editor")
#: In a route's roles: any role of the enterprise may (read-only console pages).
ANY_ROLE = "*"


class Roles:
    """The roles tokens can have: the core's and the installed plugins' ones."""

    def __init__(self, plugin_roles: Iterable[RoleSpec] = ()) -> None:
        # A role several plugins declare (quests and the audio guide both need a guide)
        # is one role: the first title, and every core role any of them grants it to.
        self.specs: dict[str, RoleSpec] = {}
        for spec in plugin_roles:
            if spec.name in CORE_ROLES:
                continue
            known = self.specs.get(spec.name)
            if known is not None:
                granted = tuple(dict.fromkeys(known.granted_to + tuple(spec.granted_to)))
                spec = msgspec.structs.replace(known, granted_to=granted)
            self.specs[spec.name] = spec

    @property
    def names(self) -> tuple[str, ...]:
        return CORE_ROLES + tuple(sorted(self.specs))

    def title(self, role: str, lang: str) -> str:
        spec = self.specs.get(role)
        if spec is None:
            return role
        return spec.title.get(lang) or next(iter(spec.title.values()), role)

    def granted(self, role: str) -> frozenset[str]:
        """Every role a token of ``role`` may act as (admin: all of them)."""
        if role == "admin":
            return frozenset(self.names)
        return frozenset(
            {role} | {name for name, spec in self.specs.items() if role in spec.granted_to}
        )


class ApiToken(msgspec.Struct, kw_only=True):
    id: str
    enterprise: str
    role: str
    label: str
    sha256: str
    created: datetime = msgspec.field(default_factory=utcnow)


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who a request acts as."""

    enterprise: str
    role: str
    token_id: str
    label: str
    #: The roles this principal may act as (its own and those it implies).
    granted: frozenset[str] = frozenset()

    def can(self, role: str) -> bool:
        return role == ANY_ROLE or role == self.role or role in self.granted

    def require(self, enterprise: str, *roles: str) -> None:
        """404 for another enterprise's object, 403 for a role that may not do this."""
        if enterprise != self.enterprise:
            raise NotFoundException("No such object.")
        if roles and not any(self.can(r) for r in roles):
            raise PermissionDeniedException(
                f"A {self.role} token may not do this (needs: {', '.join(roles)})."
            )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_token(
    bus: Bus, enterprise: str, role: str, label: str, *, roles: Roles | None = None
) -> tuple[ApiToken, str]:
    """Create a token; returns the record and the secret (shown once). With ``roles``,
    the role must be one of them (the core's or an installed plugin's)."""
    if not SLUG_RE.match(role) or (roles is not None and role not in roles.names):
        known = ", ".join(roles.names if roles else CORE_ROLES)
        raise ValueError(f"unknown role {role!r}; one of {known}")
    token_id = secrets.token_hex(6)
    secret = f"pt_{token_id}_{secrets.token_urlsafe(24)}"
    token = ApiToken(
        id=token_id, enterprise=enterprise, role=role, label=label, sha256=_digest(secret)
    )
    kv = await bus.bucket(BUCKET_TOKENS)
    await kv.create(token_id, msgspec.json.encode(token))
    return token, secret


async def list_tokens(bus: Bus, enterprise: str) -> list[ApiToken]:
    kv = await bus.bucket(BUCKET_TOKENS)
    tokens = []
    for key in await bus.keys(BUCKET_TOKENS):
        try:
            entry = await kv.get(key)
        except nats.js.errors.KeyNotFoundError:
            continue
        if entry.value:
            token = msgspec.json.decode(entry.value, type=ApiToken)
            if token.enterprise == enterprise:
                tokens.append(token)
    return sorted(tokens, key=lambda t: t.created)


async def revoke_token(bus: Bus, enterprise: str, token_id: str) -> bool:
    kv = await bus.bucket(BUCKET_TOKENS)
    try:
        entry = await kv.get(token_id)
    except (nats.js.errors.KeyNotFoundError, nats.js.errors.InvalidKeyError):
        return False
    if not entry.value or msgspec.json.decode(entry.value, type=ApiToken).enterprise != enterprise:
        return False
    await kv.purge(token_id)
    return True


def _principal(token: ApiToken, roles: Roles | None) -> Principal:
    return Principal(
        enterprise=token.enterprise,
        role=token.role,
        token_id=token.id,
        label=token.label,
        granted=(roles or Roles()).granted(token.role),
    )


async def authenticate(bus: Bus, secret: str, roles: Roles | None = None) -> Principal | None:
    """The principal of a token secret, or None if it is unknown or revoked."""
    parts = secret.split("_")
    if len(parts) < 3 or parts[0] != "pt":
        return None
    kv = await bus.bucket(BUCKET_TOKENS)
    try:
        entry = await kv.get(parts[1])
    except (nats.js.errors.KeyNotFoundError, nats.js.errors.InvalidKeyError):
        # A made-up id with characters KV keys cannot have is just an unknown token.
        return None
    if not entry.value:
        return None
    token = msgspec.json.decode(entry.value, type=ApiToken)
    if not hmac.compare_digest(token.sha256, _digest(secret)):
        return None
    return _principal(token, roles)


async def principal_for_token_id(
    bus: Bus, token_id: str, roles: Roles | None = None
) -> Principal | None:
    """The principal of a stored token by its id, or None once it is revoked.

    Console sessions keep only the token id (in a signed cookie), so revoking the
    token ends its sessions at the next request."""
    kv = await bus.bucket(BUCKET_TOKENS)
    try:
        entry = await kv.get(token_id)
    except (nats.js.errors.KeyNotFoundError, nats.js.errors.InvalidKeyError):
        return None
    if not entry.value:
        return None
    return _principal(msgspec.json.decode(entry.value, type=ApiToken), roles)


async def principal_from_request(request: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The caller of an API route from its ``Authorization: Bearer`` header; 401 if there
    is none or it was revoked. The enterprise API's guard uses it too
    (:func:`promtour._console.access.api_principal`)."""
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise NotAuthorizedException("An API token is required: Authorization: Bearer <token>.")
    platform = request.app.state.platform
    principal = await authenticate(platform.bus, secret.strip(), platform.roles)
    if principal is None:
        raise NotAuthorizedException("This API token is not valid or was revoked.")
    return principal
