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
from datetime import datetime
from typing import Any, Literal

import msgspec
import nats.js.errors
from litestar import Request
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from promtour.bus import Bus
from promtour.models import utcnow

__all__ = [
    "BUCKET_TOKENS",
    "ROLES",
    "ApiToken",
    "Principal",
    "Role",
    "authenticate",
    "create_token",
    "list_tokens",
    "principal_for_token_id",
    "principal_from_request",
    "revoke_token",
]

BUCKET_TOKENS = "PROMTOUR_TOKENS"
Role = Literal["admin", "editor", "guide", "hr"]
ROLES: tuple[Role, ...] = ("admin", "editor", "guide", "hr")
#: What each role may do besides its own name; admin may do everything.
IMPLIES: dict[str, set[str]] = {"admin": set(ROLES), "editor": {"editor", "guide"}}


class ApiToken(msgspec.Struct, kw_only=True):
    id: str
    enterprise: str
    role: Role
    label: str
    sha256: str
    created: datetime = msgspec.field(default_factory=utcnow)


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who a request acts as."""

    enterprise: str
    role: Role
    token_id: str
    label: str

    def can(self, role: str) -> bool:
        return role == self.role or role in IMPLIES.get(self.role, set())

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


async def create_token(bus: Bus, enterprise: str, role: Role, label: str) -> tuple[ApiToken, str]:
    """Create a token; returns the record and the secret (shown once)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
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


async def authenticate(bus: Bus, secret: str) -> Principal | None:
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
    return Principal(
        enterprise=token.enterprise, role=token.role, token_id=token.id, label=token.label
    )


async def principal_for_token_id(bus: Bus, token_id: str) -> Principal | None:
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
    token = msgspec.json.decode(entry.value, type=ApiToken)
    return Principal(
        enterprise=token.enterprise, role=token.role, token_id=token.id, label=token.label
    )


async def principal_from_request(request: Request[Any, Any, Any]) -> Principal:
    """The caller of an API route from its ``Authorization: Bearer`` header; 401 if none."""
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret:
        raise NotAuthorizedException("An API token is required: Authorization: Bearer <token>.")
    principal = await authenticate(request.app.state.platform.bus, secret.strip())
    if principal is None:
        raise NotAuthorizedException("This API token is not valid or was revoked.")
    return principal
