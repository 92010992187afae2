"""The lead form: what the visitor typed, and every check on it with the field it
concerns, so that the page re-renders the form with a message beside the field.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from .config import AGE_BRACKETS, CareerConfig

__all__ = [
    "AGE_LABELS",
    "FieldError",
    "LeadInput",
    "check_lead",
    "parse_lead_form",
    "valid_contact",
]

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_CHARS = re.compile(r"^\+?[0-9 ()\-]+$")
MAX_NAME = 100
MAX_CONTACT = 120
MAX_PLACE = 120

#: English message ids of the age brackets (translated by the pages).
AGE_LABELS = {
    "under14": "Under 14",
    "14-15": "14–15",
    "16-17": "16–17",
    "18plus": "18 or older",
}


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
