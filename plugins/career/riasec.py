"""The RIASEC (Holland) interest quiz: its statements and its scoring.

Pure functions on plain data, so that the scoring can be checked with property tests.
A type's quiz score is the mean of its answers scaled to 0..1 (0 "not me", 1 "partly",
2 "that's me"); skipped statements do not count, so a visitor who stops early still
gets a fair profile from what they answered.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import msgspec
from promtour.plugin import Text

from .config import Riasec

__all__ = [
    "ANSWER_MAX",
    "CODES",
    "QUIZ",
    "Quiz",
    "Statement",
    "TypeInfo",
    "empty_scores",
    "holland_code",
    "load_quiz",
    "ranked_types",
    "score_quiz",
]

#: The six types in their canonical order (ties are broken in this order).
CODES: tuple[Riasec, ...] = ("R", "I", "A", "S", "E", "C")
#: The highest answer: 0 "not me", 1 "partly", 2 "that's me".
ANSWER_MAX = 2

DATA = Path(__file__).parent / "data" / "quiz.toml"

Scores = dict[str, float]


class TypeInfo(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    code: Riasec
    #: The type's name ("Hands-on (Realistic)").
    name: Text
    #: What the type is drawn to, to finish "your answers lean to ..." in a reason.
    short: Text
    #: A plain explanation for the profile page.
    explain: Text


class Statement(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: str
    type: Riasec
    text: Text


class Quiz(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    types: list[TypeInfo]
    statements: list[Statement]

    def type_info(self, code: str) -> TypeInfo:
        return next(t for t in self.types if t.code == code)


def load_quiz(path: Path = DATA) -> Quiz:
    """The quiz from its TOML file."""
    return msgspec.convert(tomllib.loads(path.read_text(encoding="utf-8")), Quiz)


#: The quiz of the package: data shipped with the code, read once at import and never
#: changed (not a cache: nothing is added to it at run time).
QUIZ: Final[Quiz] = load_quiz()


def empty_scores() -> Scores:
    return dict.fromkeys(CODES, 0.0)


def score_quiz(answers: Mapping[str, int], statements: list[Statement]) -> Scores:
    """Each type's score in 0..1: the mean of its answered statements over the maximum.

    ``answers`` maps statement ids to 0..2; unknown ids are ignored, values are clamped.
    A type with no answered statement scores 0."""
    total = empty_scores()
    count = dict.fromkeys(CODES, 0)
    for statement in statements:
        if statement.id in answers:
            value = min(max(int(answers[statement.id]), 0), ANSWER_MAX)
            total[statement.type] += value
            count[statement.type] += 1
    return {
        code: (total[code] / (count[code] * ANSWER_MAX) if count[code] else 0.0) for code in CODES
    }


def ranked_types(scores: Mapping[str, float]) -> list[str]:
    """The types from the strongest down; ties keep the canonical R-I-A-S-E-C order."""
    return sorted(CODES, key=lambda code: (-scores.get(code, 0.0), CODES.index(code)))


def holland_code(scores: Mapping[str, float], length: int = 3) -> str:
    """The usual three-letter summary ("RIC"); empty when every score is zero."""
    return "".join(c for c in ranked_types(scores)[:length] if scores.get(c, 0.0) > 0)
