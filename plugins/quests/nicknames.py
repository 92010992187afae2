"""Nicknames (and team names): short, printable, not rude, and not a real identity.

The form asks for a nickname and says not to use a real name; we cannot prove a
nickname is not a name, so nicknames stay in the plugin's store (boards, team pages,
the certificate) and never enter an event. The checks here keep the obvious out:
length, allowed characters, long digit runs (a phone number), and a small blocklist
of Russian and English swear words, matched after folding look-alike letters, digits
used as letters and repeated letters, so ``Ё-6-a-H-ы-й`` style spellings are caught.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_LEN", "MIN_LEN", "NicknameError", "check_nickname"]

MIN_LEN = 3
MAX_LEN = 20

# Stems: a nickname containing one of them (after folding) is refused.
_BLOCKED = (
    # Russian
    "хуй",
    "хуе",
    "хуё",
    "хуя",
    "пизд",
    "ебат",
    "ебан",
    "ебал",
    "ебло",
    "еблан",
    "бля",
    "сука",
    "суки",
    "мудак",
    "мудил",
    "пидор",
    "пидар",
    "залуп",
    "гандон",
    "шлюх",
    "дерьм",
    "говно",
    "жопа",
    "чмо",
    "даун",
    # Russian typed in Latin letters
    "huy",
    "hui",
    "xuy",
    "pizd",
    "ebat",
    "eblan",
    "blya",
    "blyat",
    "mudak",
    "pidor",
    "pidar",
    "zalup",
    "gandon",
    "govno",
    "zhopa",
    # English
    "fuck",
    "fuk",
    "shit",
    "bitch",
    "cunt",
    "pussy",
    "asshole",
    "bastard",
    "whore",
    "slut",
    "nigg",
    "fag",
    "retard",
    "porn",
    "nazi",
    "hitler",
)
# Names of staff roles: a visitor should not look like one.
_RESERVED = ("admin", "moderator", "админ", "модератор", "promtour", "промтур")

_LATIN_TO_CYR = str.maketrans(
    {
        "a": "а",
        "b": "в",
        "c": "с",
        "e": "е",
        "h": "н",
        "k": "к",
        "m": "м",
        "o": "о",
        "p": "р",
        "t": "т",
        "x": "х",
        "y": "у",
        "u": "и",
    }
)
_CYR_TO_LATIN = str.maketrans(
    {
        "а": "a",
        "в": "b",
        "с": "c",
        "е": "e",
        "ё": "e",
        "н": "h",
        "к": "k",
        "м": "m",
        "о": "o",
        "р": "p",
        "т": "t",
        "х": "x",
        "у": "y",
    }
)
_DIGITS = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a"})
_DIGITS_CYR = str.maketrans({"0": "о", "3": "з", "4": "ч", "6": "б", "@": "а"})
_ALLOWED = re.compile(r"^[\w .\-]+$")


class NicknameError(ValueError):
    """Why a nickname is refused (an English message with ``{min}``/``{max}`` slots)."""


def _forms(text: str) -> set[str]:
    folded = unicodedata.normalize("NFKC", text).casefold()
    out: set[str] = set()
    for digits in (_DIGITS, _DIGITS_CYR):
        letters = "".join(ch for ch in folded.translate(digits) if ch.isalpha())
        squeezed = re.sub(r"(.)\1+", r"\1", letters)
        for form in (letters, squeezed):
            out |= {form, form.translate(_LATIN_TO_CYR), form.translate(_CYR_TO_LATIN)}
            out.add(form.replace("ё", "е"))
    return out


def check_nickname(raw: str) -> str:
    """The cleaned nickname, or :class:`NicknameError` saying what is wrong."""
    name = " ".join(unicodedata.normalize("NFKC", raw).split())
    if len(name) < MIN_LEN or len(name) > MAX_LEN:
        raise NicknameError("A nickname has {min} to {max} characters.")
    if not _ALLOWED.match(name) or ("_" in name and name.strip("_") == ""):
        raise NicknameError("Use letters, digits, spaces, dots and dashes only.")
    if not any(ch.isalpha() for ch in name):
        raise NicknameError("A nickname needs at least one letter.")
    if re.search(r"\d{5,}", name.replace(" ", "")):
        raise NicknameError("No phone numbers or other long numbers, please.")
    forms = _forms(name)
    for word in _BLOCKED + _RESERVED:
        stems = _forms(word)
        if any(stem and stem in form for stem in stems for form in forms):
            raise NicknameError("Please choose another nickname.")
    return name
