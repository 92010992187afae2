"""The class report's career and quest parts: the professions most often ranked first
(from the career plugin's ``career_top_ranked``) and team scores masked for teams too
small to hide a pupil."""

from __future__ import annotations

import asyncio
import secrets

from promtour._events import STREAM, VisitorJoinedGroup, subject_for
from promtour.plugins.career.events import CareerTopRanked
from promtour.plugins.quests.events import QuestMissionCompleted, QuestTeamJoined
from promtour.plugins.visits.stats import GroupStats, TeamRow, apply, report
from promtour.testing import station_path
from test_career_flow import career_config
from visits_helpers import SOON_SLOT, minted_client, post_booking, visits_config

ENV = {"enterprise": "e", "tour": "t", "group": "ABCDEF"}


def test_small_teams_are_masked_and_first_ranked_professions_counted():
    stats = GroupStats()
    pupils = [secrets.token_hex(6) for _ in range(8)]
    events = [VisitorJoinedGroup(visitor=p, **ENV) for p in pupils]
    # Team BIG: six pupils, two missions solved; team SOLO: one pupil.
    events += [QuestTeamJoined(team="BIG", visitor=p, **ENV) for p in pupils[:6]]
    events += [
        QuestMissionCompleted(
            team="BIG",
            mission=m,
            points=10,
            hints_used=0,
            correct_first_try=True,
            visitor=pupils[0],
            **ENV,
        )
        for m in ("m1", "m2")
    ]
    events.append(
        QuestMissionCompleted(
            team="SOLO",
            mission="m1",
            points=15,
            hints_used=0,
            correct_first_try=True,
            visitor=pupils[7],
            **ENV,
        )
    )
    # Five pupils ranked "welder" first, two "designer"; one changed its mind: the
    # later event counts.
    events += [CareerTopRanked(profession="welder", visitor=p, **ENV) for p in pupils[:5]]
    events += [CareerTopRanked(profession="welder", visitor=p, **ENV) for p in pupils[5:7]]
    events += [CareerTopRanked(profession="designer", visitor=p, **ENV) for p in pupils[5:7]]
    for event in events + events[:3]:  # a redelivery changes nothing
        apply(stats, event)

    from promtour._models import Tour

    tour = Tour(id="t", enterprise="e", name={"en": "T"}, stations=[])
    result = report([stats], tour)
    assert result.teams == [TeamRow("BIG", 20), TeamRow("SOLO", None)]
    assert result.top == [("welder", "5"), ("designer", "<5")]
    assert result.top_answered == "7"


async def _wait(predicate, timeout: float = 15.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not (value := await predicate()):
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.2)
    return value


async def test_finish_page_publishes_the_first_ranked_profession_once_for_the_report(
    make_platform, serve_app, new_tour
):
    setup = await make_platform()  # with consumers: the visits plugin folds the events
    tour = await new_tour(setup, plugins={"visits": visits_config(), "career": career_config()})
    server = serve_app()
    teacher, token = minted_client(server, tour)
    pupil, pupil_token = minted_client(server, tour)
    try:
        made = (await post_booking(teacher, token, tour, slot=SOON_SLOT, size=10)).json()
        await pupil.post(
            f"/t/{tour.enterprise}/{tour.id}/group",
            data={"code": made["code"], "_csrf": pupil_token},
        )
        # A check-in at s1 (tagged R) makes the press operator the best fit.
        assert (await pupil.get(station_path(tour, "s1"))).status_code == 200
        for _ in range(2):  # a reload publishes nothing new
            finish = await pupil.get(f"/t/{tour.enterprise}/{tour.id}/finish")
            assert "Press Operator" in finish.text

        subject = subject_for(tour.enterprise, tour.id, "career_top_ranked")
        info = await setup.bus.js.stream_info(STREAM, subjects_filter=subject)
        assert (info.state.subjects or {}).get(subject) == 1

        async def ranked() -> str | None:
            page = await teacher.get(made["link"] + "/report")
            return page.text if 'data-profession="press-operator"' in page.text else None

        page = await _wait(ranked)
        assert "Professions most often ranked first" in page
        # One pupil: the count is masked, the title is the career config's.
        row = page.split('data-profession="press-operator"')[1].split("</tr>")[0]
        assert "Press Operator" in row and "&lt;5" in row
    finally:
        await teacher.aclose()
        await pupil.aclose()
