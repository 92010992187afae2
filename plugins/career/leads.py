"""Career leads: the opt-in form, its checks, the storage that forgets, the CSV export.

Personal data lives only here, in the plugin's own KV bucket, never in the event
stream. Each lead is written once with a per-message TTL (``Nats-TTL``; NATS 2.11+
with ``allow_msg_ttl``, which nats-py 2.16 sets on every KV bucket it creates), so it
expires by itself after the enterprise's ``lead_retention_days``; a write that cannot
carry the TTL is refused, never stored without one. Erasure is a purge (the key and its
whole history), and the purge marker itself carries a short TTL, so that nothing of
the lead is left in the bucket.

Keys: ``lead.<enterprise>.<id>`` for leads the enterprise may use, and
``pending.<enterprise>.<id>`` for a minor's lead that waits for the guardian's
confirmation (with the shorter ``guardian_wait_days`` TTL). Confirming writes the lead
under ``lead.`` and purges the pending one: a record is never updated in place, so
every version carries its own expiry.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Literal

import msgspec
import nats.errors
import nats.js.errors
from nats.js.kv import KeyValue
from promtour.models import utcnow
from promtour.store import PluginStore

from .config import AGE_BRACKETS, CareerConfig

__all__ = [
    "PURGE_MARKER_TTL",
    "ConsentRecord",
    "FieldError",
    "Guardian",
    "Lead",
    "LeadInput",
    "LeadOut",
    "LeadStorageError",
    "LeadStore",
    "check_lead",
    "lead_id_for",
    "leads_csv",
    "new_secret",
    "parse_lead_form",
    "secret_matches",
    "ttl_for",
    "valid_contact",
]

DAY = 24 * 3600
#: Seconds a purge marker stays before it expires too (the minimum NATS accepts is 1).
PURGE_MARKER_TTL = 2.0
LEAD_ID = re.compile(r"^[0-9a-f]{24}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_CHARS = re.compile(r"^\+?[0-9 ()\-]+$")
MAX_NAME = 100
MAX_CONTACT = 120
MAX_PLACE = 120


class LeadStorageError(Exception):
    """The lead could not be stored with its expiry; nothing was stored."""


# --- The form -----------------------------------------------------------------------------


class LeadInput(msgspec.Struct, kw_only=True):
    """What the visitor typed, before any check."""

    name: str = ""
    contact: str = ""
    age: str = ""
    place: str = ""
    professions: list[str] = msgspec.field(default_factory=list)
    consent: bool = False
    guardian_name: str = ""
    guardian_contact: str = ""
    guardian_consent: bool = False
    nonce: str = ""

    @property
    def minor(self) -> bool:
        return self.age in AGE_BRACKETS and self.age != "18plus"


class FieldError(msgspec.Struct, frozen=True):
    field: str
    #: An English message id, translated by the page.
    message: str


def _one(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def parse_lead_form(form: Any) -> LeadInput:
    """Read the posted form (a multi-dict with ``get`` and ``getall``)."""
    getall = getattr(form, "getall", None)
    professions = getall("profession", []) if getall else form.get("profession", [])
    if isinstance(professions, str):
        professions = [professions]
    return LeadInput(
        name=_one(form, "name"),
        contact=_one(form, "contact"),
        age=_one(form, "age"),
        place=_one(form, "place"),
        professions=[p for p in professions if isinstance(p, str)][:50],
        consent=_one(form, "consent") == "yes",
        guardian_name=_one(form, "guardian_name"),
        guardian_contact=_one(form, "guardian_contact"),
        guardian_consent=_one(form, "guardian_consent") == "yes",
        nonce=_one(form, "nonce"),
    )


def valid_contact(value: str) -> bool:
    """An e-mail address or a phone number (10 to 15 digits)."""
    if not value or len(value) > MAX_CONTACT:
        return False
    if "@" in value:
        return bool(EMAIL.match(value))
    digits = sum(ch.isdigit() for ch in value)
    return bool(PHONE_CHARS.match(value)) and 10 <= digits <= 15


def check_lead(data: LeadInput, config: CareerConfig) -> list[FieldError]:
    """Every problem with the form, each with the field it concerns (empty: it is fine).

    Consent is required; under 18 the guardian's name, contact and consent as well."""
    errors: list[FieldError] = []
    if not data.name or len(data.name) > MAX_NAME:
        errors.append(FieldError("name", "Please write your name (up to 100 characters)."))
    if not valid_contact(data.contact):
        errors.append(
            FieldError(
                "contact", "Please give a phone number or an e-mail address we can reach you at."
            )
        )
    if data.age not in AGE_BRACKETS:
        errors.append(FieldError("age", "Please choose your age."))
    if len(data.place) > MAX_PLACE:
        errors.append(FieldError("place", "The school or city is too long (120 characters)."))
    known = {p.id for p in config.professions}
    if any(p not in known for p in data.professions):
        errors.append(FieldError("professions", "Choose professions from the list."))
    if not data.consent:
        errors.append(
            FieldError(
                "consent",
                "Without your consent we cannot pass your contacts to the enterprise: "
                "tick the consent box to send the form.",
            )
        )
    if data.minor:
        if not data.guardian_name or len(data.guardian_name) > MAX_NAME:
            errors.append(
                FieldError(
                    "guardian_name",
                    "You are under 18: a parent or guardian must agree too. "
                    "Please write their name.",
                )
            )
        if not valid_contact(data.guardian_contact):
            errors.append(
                FieldError(
                    "guardian_contact",
                    "Please give your parent's or guardian's phone number or e-mail address.",
                )
            )
        if not data.guardian_consent:
            errors.append(
                FieldError(
                    "guardian_consent",
                    "You are under 18: without your parent's or guardian's consent we "
                    "cannot accept the form. Tick their consent box.",
                )
            )
    return errors


# --- The record ---------------------------------------------------------------------------


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


# --- Storage ------------------------------------------------------------------------------


def _key(kind: str, enterprise: str, lead_id: str) -> str:
    return f"{kind}.{enterprise}.{lead_id}"


class LeadStore:
    """Leads in the plugin's bucket, each with its own expiry."""

    decoder = msgspec.json.Decoder(Lead)

    def __init__(self, store: PluginStore) -> None:
        self._store = store

    async def _kv(self) -> KeyValue:
        return await self._store.kv()

    async def _read(self, key: str) -> Lead | None:
        kv = await self._kv()
        try:
            entry = await kv.get(key)
        except (nats.js.errors.KeyNotFoundError, nats.js.errors.InvalidKeyError):
            return None
        return self.decoder.decode(entry.value) if entry.value else None

    async def write(self, lead: Lead, ttl_seconds: float) -> bool:
        """Store a new lead (``pending.`` while it waits for a guardian) with its TTL.

        False if a lead with this id exists already (the same form sent twice)."""
        kind = "pending" if lead.status == "pending_guardian" else "lead"
        kv = await self._kv()
        try:
            await kv.create(
                _key(kind, lead.enterprise, lead.id),
                msgspec.json.encode(lead),
                msg_ttl=max(1.0, float(int(ttl_seconds))),
            )
        except nats.js.errors.KeyWrongLastSequenceError:
            return False
        except nats.js.errors.APIError as exc:
            # e.g. a bucket created without per-message TTL: refuse rather than keep
            # personal data without an expiry.
            raise LeadStorageError(str(exc)) from exc
        return True

    async def get(self, enterprise: str, lead_id: str) -> Lead | None:
        """The lead, active or pending."""
        if not LEAD_ID.match(lead_id):
            return None
        return await self._read(_key("lead", enterprise, lead_id)) or await self._read(
            _key("pending", enterprise, lead_id)
        )

    async def active(self, enterprise: str, lead_id: str) -> Lead | None:
        if not LEAD_ID.match(lead_id):
            return None
        return await self._read(_key("lead", enterprise, lead_id))

    async def list_active(self, enterprise: str) -> list[Lead]:
        """The enterprise's leads it may use (pending ones excluded), oldest first."""
        kv = await self._kv()
        watcher = await kv.watch(_key("lead", enterprise, "*"), ignore_deletes=True)
        leads: list[Lead] = []
        try:
            async for entry in watcher:
                if entry is None:
                    break
                if entry.value:
                    leads.append(self.decoder.decode(entry.value))
        finally:
            await watcher.stop()
        return sorted(leads, key=lambda lead: lead.created)

    async def confirm(self, lead: Lead, ttl_seconds: float) -> Lead:
        """A guardian confirmed: write the lead as active, then purge the pending one.

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
        await self._purge(_key("pending", lead.enterprise, lead.id))
        return active

    async def erase(self, enterprise: str, lead_id: str) -> bool:
        """Purge the lead (active or pending) with its history; True if there was one."""
        if not LEAD_ID.match(lead_id):
            return False
        found = False
        for kind in ("lead", "pending"):
            key = _key(kind, enterprise, lead_id)
            if await self._read(key) is not None:
                await self._purge(key)
                found = True
        return found

    async def _purge(self, key: str) -> None:
        kv = await self._kv()
        try:
            await kv.purge(key, msg_ttl=PURGE_MARKER_TTL)
        except (nats.js.errors.APIError, nats.errors.Error):
            await kv.purge(key)  # a bucket without per-message TTL: the marker stays


def ttl_for(config: CareerConfig, retention_days: int, minor_pending: bool) -> float:
    days = config.guardian_wait_days if minor_pending else retention_days
    return float(max(1, days) * DAY)


# --- Export -------------------------------------------------------------------------------

CSV_COLUMNS = (
    "id",
    "created",
    "expires",
    "name",
    "contact",
    "age",
    "school_or_city",
    "professions",
    "tour",
    "language",
    "consent_version",
    "consent_given",
    "guardian_name",
    "guardian_contact",
    "guardian_confirmed",
)
#: Leading characters that make a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PHONE_LIKE = re.compile(r"^[+\-]?[0-9 ()\-]+$")


def _cell(value: object) -> str:
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    # CSV injection: a cell that starts like a formula is prefixed with an apostrophe,
    # except phone numbers ("+7 912 ..."), which spreadsheets read as text or numbers.
    if text.startswith(FORMULA_START) and not PHONE_LIKE.match(text):
        text = "'" + text
    return text


def leads_csv(
    leads: Iterable[Lead], titles: Callable[[Lead], list[str]], *, separator: str = ","
) -> str:
    """The leads as CSV text, starting with a UTF-8 byte-order mark so that Excel reads
    Cyrillic right; ``separator=";"`` for a Russian-locale Excel."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for lead in leads:
        guardian = lead.guardian
        writer.writerow(
            _cell(v)
            for v in (
                lead.id,
                lead.created,
                lead.expires,
                lead.name,
                lead.contact,
                lead.age,
                lead.place,
                ", ".join(titles(lead)),
                lead.tour,
                lead.lang,
                lead.consent.version,
                lead.consent.given,
                guardian.name if guardian else "",
                guardian.contact if guardian else "",
                guardian.confirmed if guardian else "",
            )
        )
    return buffer.getvalue()
