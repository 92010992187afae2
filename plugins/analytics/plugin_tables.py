"""The per-plugin tables: audio guide, quest and career, from a range's totals.

Read from the other plugins' events by their tags (folded in :mod:`.model`); the
analytics plugin imports nothing of theirs. Profession titles come from the tour's
``[plugins.career]`` table, as documented for enterprises.
"""

from __future__ import annotations

from collections.abc import Callable

from promtour.plugin import Tour, pick_text

from .model import AUDIO, MISSION, DayStats
from .tables import MIN_CELL, Table, columns, largest_first, masked, rate, share_row

__all__ = ["plugins", "profession_titles"]

Translate = Callable[[str], str]


def profession_titles(tour: Tour, lang: str) -> dict[str, str]:
    """Profession id -> title in ``lang``, from the tour's career config (an id
    without a title there is shown as it is)."""
    career = tour.plugins.get("career") or {}
    titles: dict[str, str] = {}
    for item in career.get("professions") or []:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            title = item.get("title")
            name = item["id"]
            titles[name] = pick_text(title, lang, name) if isinstance(title, dict) else name
    return titles


def plugins(total: DayStats, tour: Tour, lang: str, _: Translate) -> list[Table]:
    audio_rows = []
    for key in sorted(total.audio):
        track, _sep, track_lang = key.partition("|")
        row = dict(zip(AUDIO, total.audio[key], strict=True))
        starts = row["starts"]
        audio_rows.append(
            [
                track,
                track_lang,
                masked(starts),
                rate(row["q1"], starts),
                rate(row["q2"], starts),
                rate(row["q3"], starts),
                rate(row["finished"], starts),
            ]
        )
    audio = Table(
        id="audio",
        title=_("Audio: starts and listen-through"),
        note=_("Share of starts that went past a quarter, half, three quarters, and to the end."),
        columns=columns(
            ("track", _("Track"), "text"),
            ("lang", _("Language"), "text"),
            ("starts", _("Starts")),
            ("q1", _("Past 25%, %"), "percent"),
            ("q2", _("Past 50%, %"), "percent"),
            ("q3", _("Past 75%, %"), "percent"),
            ("finished", _("To the end, %"), "percent"),
        ),
        rows=audio_rows,
        chart=2,
    )
    mission_rows = []
    for mission in sorted(total.missions):
        row = dict(zip(MISSION, total.missions[mission], strict=True))
        tried = row["attempted"]
        mission_rows.append(
            [
                mission,
                masked(tried),
                rate(row["solved"], tried),
                rate(row["wrong"], row["answers"]) if tried >= MIN_CELL else masked(tried) or None,
                rate(row["hinted"], tried),
                masked(row["failed"]),
            ]
        )
    missions = Table(
        id="missions",
        title=_("Quest missions"),
        columns=columns(
            ("mission", _("Mission"), "text"),
            ("attempted", _("Visitors who answered")),
            ("solve_rate", _("Solved, %"), "percent"),
            ("wrong_rate", _("Wrong answers, %"), "percent"),
            ("hint_rate", _("Took a hint, %"), "percent"),
            ("failed", _("Out of attempts")),
        ),
        rows=mission_rows,
        chart=2,
    )
    quest = Table(
        id="quest",
        title=_("Quest and career quiz"),
        columns=columns(("figure", _("Figure"), "text"), ("value", _("Value"))),
        rows=[
            [_("Quest players"), masked(total.quest_players)],
            [_("Quest completed"), masked(total.quest_completed)],
            [_("Quest completion, %"), rate(total.quest_completed, total.quest_players)],
            [_("Career quizzes completed"), masked(total.quizzes)],
            [_("Quiz completion, % of visitors"), rate(total.quizzes, total.visitors)],
            [_("Leads created"), masked(total.leads)],
        ],
    )
    types = Table(
        id="types",
        title=_("Interest types (top type of each quiz)"),
        columns=columns(
            ("type", _("Type"), "text"),
            ("quizzes", _("Quizzes")),
            ("share", _("Share, %"), "percent"),
        ),
        rows=[share_row(t, n, total.quizzes) for t, n in largest_first(total.types)],
        chart=1,
    )
    codes = Table(
        id="codes",
        title=_("Most common interest codes"),
        columns=columns(("code", _("Code"), "text"), ("quizzes", _("Quizzes"))),
        rows=[[c, masked(n)] for c, n in largest_first(total.codes)[:10]],
    )
    titles = profession_titles(tour, lang)
    top_total = sum(total.top.values())
    top = Table(
        id="professions",
        title=_("Professions ranked first"),
        note=_("Visits whose finish page ranked this profession first (the last ranking)."),
        columns=columns(
            ("profession", _("Profession"), "text"),
            ("visitors", _("Visitors")),
            ("share", _("Share, %"), "percent"),
        ),
        rows=[
            share_row(titles.get(p, p), n, top_total) for p, n in largest_first(total.top) if n > 0
        ],
        chart=1,
    )
    return [audio, missions, quest, types, codes, top]
