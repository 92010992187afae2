"""What the templates show, resolved to the visitor's language: profession cards, the
ranked matches with their reasons, the next steps and the RIASEC profile.

Templates stay simple (no logic beyond loops) and the same views serve the panels and
the plugin's own pages.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec
from promtour.plugin import Tour, pick_text

from .config import CareerConfig, Education, NextStep, Pay, Profession
from .profile import Profile, Signals, rank_professions
from .reasons import format_reason
from .riasec import QUIZ, ranked_types

__all__ = [
    "CardView",
    "MatchView",
    "StepView",
    "TypeView",
    "card_view",
    "match_views",
    "money",
    "step_views",
    "type_views",
]

Translate = Callable[[str], str]

LEVELS = {
    "course": "Course",
    "college": "College",
    "university": "University",
    "on_the_job": "Training on the job",
}
STEP_KINDS = {
    "open_day": "Open day",
    "internship": "Internship",
    "college": "Partner college",
    "other": "Next step",
}


class EducationView(msgspec.Struct, kw_only=True):
    level: str
    programme: str
    institution: str
    duration: str
    url: str | None


class LinkView(msgspec.Struct, kw_only=True):
    title: str
    url: str
    kind: str


class CardView(msgspec.Struct, kw_only=True):
    id: str
    title: str
    summary: str
    skills: list[str]
    education: list[EducationView]
    pay: str
    shifts: str
    links: list[LinkView]
    stations: list[str]
    types: list[str]


class MatchView(msgspec.Struct, kw_only=True):
    rank: int
    card: CardView
    reason: str
    #: The fit as a percentage, for a bar.
    percent: int


class StepView(msgspec.Struct, kw_only=True):
    kind: str
    label: str
    title: str
    text: str
    url: str | None


class TypeView(msgspec.Struct, kw_only=True):
    code: str
    name: str
    explain: str
    percent: int
    top: bool


def money(amount: int, lang: str) -> str:
    """60000 -> "60 000" (ru, with no-break spaces) or "60,000"."""
    text = f"{amount:,}"
    return text.replace(",", "\u00a0") if lang == "ru" else text


def pay_text(pay: Pay | None, lang: str, _: Translate) -> str:
    if pay is None:
        return ""
    symbol = "₽" if pay.currency == "RUB" else pay.currency
    return _("%(min)s–%(max)s %(currency)s a month before tax") % {
        "min": money(pay.min, lang),
        "max": money(pay.max, lang),
        "currency": symbol,
    }


def _education(e: Education, lang: str, _: Translate) -> EducationView:
    return EducationView(
        level=_(LEVELS[e.level]),
        programme=pick_text(e.programme, lang),
        institution=pick_text(e.institution, lang),
        duration=pick_text(e.duration, lang),
        url=e.url,
    )


def card_view(
    p: Profession, *, config: CareerConfig, tour: Tour, lang: str, _: Translate
) -> CardView:
    quiz = QUIZ
    skills = p.skills.get(lang) or next(iter(p.skills.values()), [])
    return CardView(
        id=p.id,
        title=pick_text(p.title, lang, p.id),
        summary=pick_text(p.summary, lang),
        skills=list(skills),
        education=[_education(e, lang, _) for e in p.education],
        pay=pay_text(p.pay, lang, _) if config.show_pay else "",
        shifts=pick_text(p.shifts, lang),
        links=[
            LinkView(title=pick_text(link.title, lang, link.url), url=link.url, kind=link.kind)
            for link in p.links
        ],
        stations=[pick_text(s.name, lang, sid) for sid in p.stations if (s := tour.station(sid))],
        types=[pick_text(quiz.type_info(code).name, lang, code) for code in p.riasec],
    )


def match_views(
    config: CareerConfig,
    profile: Profile,
    signals: Signals | None,
    *,
    tour: Tour,
    lang: str,
    _: Translate,
    ngettext: Callable[[str, str, int], str],
    limit: int | None = None,
) -> list[MatchView]:
    """The professions ranked by fit, each with its one-line reason."""
    quiz = QUIZ
    views = []
    for i, match in enumerate(rank_professions(config, profile, signals)[:limit], start=1):
        reason = ""
        if match.reason is not None:
            reason = format_reason(
                match.reason,
                _=_,
                ngettext=ngettext,
                lang=lang,
                quiz=quiz,
                tour=tour,
                config=config,
            )
        views.append(
            MatchView(
                rank=i,
                card=card_view(match.profession, config=config, tour=tour, lang=lang, _=_),
                reason=reason,
                percent=round(match.fit * 100),
            )
        )
    return views


def step_views(steps: list[NextStep], lang: str, _: Translate) -> list[StepView]:
    return [
        StepView(
            kind=s.kind,
            label=_(STEP_KINDS[s.kind]),
            title=pick_text(s.title, lang),
            text=pick_text(s.text, lang),
            url=s.url,
        )
        for s in steps
    ]


def type_views(profile: Profile, lang: str) -> list[TypeView]:
    """The six types, strongest first; up to three marked as strong (those at least
    half as strong as the strongest, so that a faint third type is not called strong)."""
    quiz = QUIZ
    order = ranked_types(profile.scores)
    best = max(profile.scores.values(), default=0.0)
    return [
        TypeView(
            code=code,
            name=pick_text(quiz.type_info(code).name, lang, code),
            explain=pick_text(quiz.type_info(code).explain, lang),
            percent=round(profile.scores.get(code, 0.0) * 100),
            top=i < 3 and profile.scores.get(code, 0.0) >= best / 2 > 0,
        )
        for i, code in enumerate(order)
    ]
