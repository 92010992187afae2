"""Career leads: the record, its secrets, and the storage that forgets.

Personal data lives only here, in the plugin's own store, never in the event stream.
Each lead is written once with a time-to-live, so it expires by itself after the
tour's ``lead_retention_days``. Every erasure (by the visitor, the guardian or HR)
goes through :meth:`PluginStore.erase`, which has the server overwrite each stored
message of the key before it purges it: the name and contact are gone from the
store's files, not only from reads (docs/plugins/career.md, "Erasure").

Keys (per enterprise, not per tour: a lead outlives the tour it came from, until its
own expiry): ``lead.<enterprise>.<id>`` for leads the enterprise may use, and
``pending.<enterprise>.<id>`` for a minor's lead that waits for the guardian's
confirmation (with the shorter ``guardian_wait_days`` TTL). Confirming writes the lead
under ``lead.`` and erases the pending one: a record is never updated in place, so
every version carries its own expiry.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Literal

import msgspec
from promtour.plugin import PluginStore, utcnow

from .config import CareerConfig

__all__ = [
    "DAY",
    "ConsentRecord",
    "Guardian",
    "Lead",
    "LeadOut",
    "LeadStore",
    "lead_id_for",
    "new_secret",
    "secret_matches",
    "ttl_for",
]

DAY = 24 * 3600
LEAD_ID = re.compile(r"^[0-9a-f]{24}$")


class ConsentRecord(msgspec.Struct, kw_only=True):
    """Which consent text was agreed to, in which language, and when."""

    version: str
    lang: str
    text_sha256: str
    given: datetime


class Guardian(msgspec.Struct, kw_only=True):
    name: str
    contact: str
    consent: ConsentRecord
    #: How the consent was confirmed: on the form itself, or by the guardian's link.
    method: Literal["form", "link"]
    confirmed: datetime | None = None


class Lead(msgspec.Struct, kw_only=True):
    id: str
    enterprise: str
    tour: str
    created: datetime
    expires: datetime
    status: Literal["active", "pending_guardian"]
    name: str
    contact: str
    age: str
    place: str = ""
    professions: list[str] = msgspec.field(default_factory=list)
    lang: str = ""
    consent: ConsentRecord
    guardian: Guardian | None = None
    secret_sha256: str
    guardian_code_sha256: str = ""


class LeadOut(msgspec.Struct, kw_only=True):
    """A lead as HR and the visitor see it (no secrets)."""

    id: str
    enterprise: str
    tour: str
    created: datetime
    expires: datetime
    status: str
    name: str
    contact: str
    age: str
    place: str
    professions: list[str]
    profession_titles: list[str]
    lang: str
    consent: ConsentRecord
    guardian: Guardian | None

    @classmethod
    def of(cls, lead: Lead, titles: list[str]) -> LeadOut:
        fields = {f: getattr(lead, f) for f in cls.__struct_fields__ if hasattr(lead, f)}
        return cls(**fields, profession_titles=titles)


def new_secret() -> tuple[str, str]:
    """A fresh unguessable secret and the SHA-256 kept of it."""
    secret = secrets.token_urlsafe(24)
    return secret, hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, digest: str) -> bool:
    if not secret or not digest:
        return False
    return hmac.compare_digest(hashlib.sha256(secret.encode()).hexdigest(), digest)


def lead_id_for(visitor: str, nonce: str) -> str:
    """The same form sent twice (a retried request) gets the same lead id."""
    if not re.fullmatch(r"[0-9a-f]{16,64}", nonce):
        nonce = secrets.token_hex(16)
    return hashlib.sha256(f"{visitor}:{nonce}".encode()).hexdigest()[:24]


def _key(kind: str, enterprise: str, lead_id: str) -> str:
    return f"{kind}.{enterprise}.{lead_id}"


class LeadStore:
    """Leads in the plugin's store, each with its own expiry."""

    def __init__(self, store: PluginStore) -> None:
        self._store = store

    async def write(self, lead: Lead, ttl_seconds: float) -> bool:
        """Store a new lead (``pending.`` while it waits for a guardian) with its TTL.

        False if a lead with this id exists already (the same form sent twice)."""
        kind = "pending" if lead.status == "pending_guardian" else "lead"
        return await self._store.create(
            _key(kind, lead.enterprise, lead.id), lead, ttl=ttl_seconds, personal=True
        )

    async def get(self, enterprise: str, lead_id: str) -> Lead | None:
        """The lead, active or pending."""
        return await self.active(enterprise, lead_id) or await self._read(
            "pending", enterprise, lead_id
        )

    async def active(self, enterprise: str, lead_id: str) -> Lead | None:
        return await self._read("lead", enterprise, lead_id)

    async def _read(self, kind: str, enterprise: str, lead_id: str) -> Lead | None:
        if not LEAD_ID.match(lead_id):
            return None
        return await self._store.get(_key(kind, enterprise, lead_id), Lead)

    async def list_active(self, enterprise: str) -> list[Lead]:
        """The enterprise's leads it may use (pending ones excluded), oldest first."""
        leads = []
        for key in await self._store.keys(f"lead.{enterprise}."):
            lead = await self._store.get(key, Lead)
            if lead is not None:  # expired or erased meanwhile
                leads.append(lead)
        return sorted(leads, key=lambda lead: lead.created)

    async def confirm(self, lead: Lead, ttl_seconds: float) -> Lead:
        """A guardian confirmed: write the lead as active, then erase the pending one.

        Repeating it is harmless: an existing active lead is kept as it is."""
        now = utcnow()
        assert lead.guardian is not None
        active = msgspec.structs.replace(
            lead,
            status="active",
            expires=now + timedelta(seconds=ttl_seconds),
            guardian=msgspec.structs.replace(lead.guardian, confirmed=now),
        )
        if not await self.write(active, ttl_seconds):
            active = await self.active(lead.enterprise, lead.id) or active
        await self._store.erase(_key("pending", lead.enterprise, lead.id))
        return active

    async def erase(self, enterprise: str, lead_id: str) -> bool:
        """Erase the lead (active or pending) with its history; True if there was one."""
        if not LEAD_ID.match(lead_id):
            return False
        found = False
        for kind in ("lead", "pending"):
            found = await self._store.erase(_key(kind, enterprise, lead_id)) or found
        return found


def ttl_for(config: CareerConfig, minor_pending: bool) -> float:
    """The lead's time-to-live: the guardian's wait while pending, else the retention."""
    days = config.guardian_wait_days if minor_pending else config.lead_retention_days
    return float(max(1, days) * DAY)
