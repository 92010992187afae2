"""A profession's reason in words: "Works at the “Press line” station, where you spent
time; there you completed 1 mission: “The press's nameplate”; your quiz answers lean to
hands-on work with machines. Useful here: precise work with the crane controls."

Every count goes through ``ngettext`` (Russian has three forms: 1 задание, 2 задания,
5 заданий, 21 задание); a list of stations takes the plural from two names on (a list
is not a count); station names are quoted («Склад рулонной стали»), so that a
sentence stays grammatical whatever a station is called. The evidence comes from
:func:`.profile.reason_for`, which looks at the profession's own stations only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from promtour.plugin import Tour, pick_text

from .config import CareerConfig
from .profile import Reason
from .riasec import Quiz

__all__ = ["format_reason", "join_words", "quoted"]

Translate = Callable[[str], str]
Plural = Callable[[str, str, int], str]


def join_words(items: Sequence[str], and_word: str) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {and_word} {items[-1]}"


def quoted(name: str, _: Translate) -> str:
    """A name inside a sentence, in the language's quotes («…» in Russian): the name
    keeps its own form, so "на станции «Склад рулонной стали»" is right in any case."""
    return _("“%(name)s”") % {"name": name}


def _stations(reason: Reason, n: int, names: str, _: Translate) -> str:
    # One station or a list of names: not a count (no numeral), so not ngettext, whose
    # Russian form for 21 would be the singular «на станции».
    if reason.visited and reason.lingered:
        text = (
            _("works at the %(stations)s station, where you spent time")
            if n == 1
            else _("works at the %(stations)s stations, where you spent time")
        )
    elif reason.visited:
        text = (
            _("works at the %(stations)s station, which you visited")
            if n == 1
            else _("works at the %(stations)s stations, which you visited")
        )
    else:
        text = (
            _("you can see this work at the %(stations)s station")
            if n == 1
            else _("you can see this work at the %(stations)s stations")
        )
    return text % {"stations": names}


def _missions(
    reason: Reason, config: CareerConfig, lang: str, _: Translate, ngettext: Plural
) -> str:
    n = len(reason.missions)
    titles = []
    for mid in reason.missions:
        tags = config.mission(mid)
        title = pick_text(tags.name, lang) if tags is not None and tags.name else ""
        if title:
            titles.append(title)
    if not titles:
        return ngettext(
            "there you completed %(n)d mission", "there you completed %(n)d missions", n
        ) % {"n": n}
    return ngettext(
        "there you completed %(n)d mission: %(missions)s",
        "there you completed %(n)d missions: %(missions)s",
        n,
    ) % {"n": n, "missions": join_words(list(dict.fromkeys(titles)), _("and"))}


def format_reason(
    reason: Reason,
    *,
    _: Translate,
    ngettext: Plural,
    lang: str,
    quiz: Quiz,
    tour: Tour,
    config: CareerConfig,
) -> str:
    """The reason under a profession in the ranking: its stations, the missions done
    there, the interest types it matches, and one of its skills."""
    and_word = _("and")
    parts: list[str] = []
    names = [
        quoted(pick_text(s.name, lang, sid) if (s := tour.station(sid)) else sid, _)
        for sid in reason.stations
    ]
    if names:
        parts.append(_stations(reason, len(names), join_words(names, and_word), _))
    if reason.missions:
        parts.append(_missions(reason, config, lang, _, ngettext))
    if reason.interests:
        interests = join_words(
            [pick_text(quiz.type_info(c).short, lang) for c in reason.interests], and_word
        )
        parts.append(_("your quiz answers lean to %(interest)s") % {"interest": interests})
    else:
        name = pick_text(quiz.type_info(reason.type).name, lang)
        parts.append(_("it suits the %(type)s side of your profile") % {"type": name})
    sentence = "; ".join(parts)
    text = sentence[:1].upper() + sentence[1:] + "."
    profession = config.profession(reason.profession)
    if profession is not None:
        skills = profession.skills.get(lang) or next(iter(profession.skills.values()), [])
        if skills:
            text += " " + _("Useful here: %(skill)s.") % {"skill": skills[0]}
    return text
