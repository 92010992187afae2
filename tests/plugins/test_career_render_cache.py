"""The career panels served through the core's render cache are the panels rendered
fresh, for every station, the start and the finish page, in both languages of a tour
with the demo's config, and for two visitors with different profiles (a visitor's
ranking must never end up in the cached frame another visitor gets).
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import promtour.plugins.career as career
from promtour._context import PageContext
from promtour._models import Enterprise
from promtour._tours import TourState, load_tour_toml
from promtour.plugins.career.profile import Signals, StationSignals
from promtour.plugins.career.riasec import QUIZ
from promtour.plugins.career.visitors import QuizResult, quiz_key, signals_key
from promtour.testing import unique

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = [("career", career)]


async def demo_like_tour(platform) -> TourState:
    """The demo tour with only the career plugin, under a new enterprise and id."""
    tour = load_tour_toml(ROOT / "config" / "demo" / "tours" / "main.toml").tour
    enterprise = Enterprise(id=unique("ent"), name={"en": "Works", "ru": "Завод"})
    await platform.import_enterprise(enterprise)
    tour = msgspec.structs.replace(
        tour,
        id=unique("tour"),
        enterprise=enterprise.id,
        plugins={"career": tour.plugins["career"]},
    )
    return await platform.save_tour(tour, media=await platform.media_names(tour))


async def panels(platform, state: TourState, visitor: str, lang: str) -> list[str]:
    """Every career panel of the tour for one visitor, start to finish."""
    out = []
    for hook, station in [
        (career.start_panel, None),
        *[(career.station_panel, s) for s in state.tour.stations],
        (career.finish_panel, None),
    ]:
        page = PageContext(
            platform, "career", state, visitor=visitor, lang=lang, progress=None, station=station
        )
        panel = await hook(page)
        out.append(f"{panel.title}\n{panel.html}" if panel else "")
    return out


async def test_cached_panels_equal_fresh_ones_for_every_visitor(make_platform) -> None:
    platform = await make_platform(entrypoints=False, plugins=PLUGINS, consumers=False)
    state = await demo_like_tour(platform)
    store = platform.store_for("career").for_tour(state.tour.key)
    stations = [s.id for s in state.tour.stations]
    # Two visitors with opposite profiles: each sees a different ranking.
    visitors = {"anna": "R", "boris": "S"}
    for visitor, code in visitors.items():
        answers = {s.id: 2 if s.type == code else 0 for s in QUIZ.statements}
        scores = {c: 1.0 if c == code else 0.0 for c in "RIASEC"}
        await store.put(quiz_key(visitor), QuizResult(answers=answers, scores=scores))
    await store.put(
        signals_key("anna"), Signals(stations={stations[0]: StationSignals(visits=1, replays=2)})
    )

    for lang in state.tour.languages:
        seen = {}
        for visitor in [*visitors, "anna"]:  # anna again after boris, from the cache
            cached = await panels(platform, state, visitor, lang)
            fresh = await panels(platform, msgspec.structs.replace(state, memo={}), visitor, lang)
            assert cached == fresh, (lang, visitor)
            seen[visitor] = cached
        assert seen["anna"][-1] != seen["boris"][-1]  # the finish rankings differ
    assert state.memo  # the cache was used
