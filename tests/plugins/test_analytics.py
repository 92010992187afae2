"""The analytics plugin against a real nats-server: a scripted day of 200 visitors
gives exactly the expected figures in the JSON API, the CSV and the page; small cells
are masked everywhere; a consumer stopped mid-replay, a redelivery of the whole
stream and a rebuild all give the same figures."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import time
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import httpx
import msgspec
import pytest
from analytics_script import DAY, RANGE, STATIONS, OtherPluginEvents, expected, script
from promtour._auth import create_token
from promtour.plugin import PluginInfo, PluginSession, StreamEvent, hookimpl
from promtour.plugins import analytics
from promtour.plugins.analytics.consumer import erase_tour
from promtour.plugins.analytics.figures import SECTIONS, Range, section

PLUGINS = [("analytics", analytics), ("lookalikes", OtherPluginEvents())]
EXPECT = expected()


async def publish(platform: Any, events: list[Any]) -> tuple[int, int]:
    """Publish in order (pipelined: one connection keeps the order, checked below);
    returns the first and last stream sequence."""
    seqs: list[int] = []
    for start in range(0, len(events), 200):
        chunk = events[start : start + 200]
        seqs += await asyncio.gather(*(platform.bus.publish(e) for e in chunk))
    assert seqs == sorted(seqs), "events were stored out of order"
    return seqs[0], seqs[-1]


async def caught_up(platform: Any, last: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, _ = await platform.consumers.progress("analytics")
        if done >= last:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the analytics consumer did not catch up")


async def figures(platform: Any, tour: Any) -> bytes:
    """Every section's tables (live aside), encoded: equal bytes, equal figures."""
    store = platform.store_for("analytics").for_tour(tour.key)
    span = Range.parse(DAY, DAY, "day", None)  # type: ignore[arg-type]
    out = []
    for name in SECTIONS:
        if name != "live":
            out.append(await section(name, store, tour, span, "en", time.time(), lambda s: s))
    return msgspec.json.encode(out)


class Cells(HTMLParser):
    """The rows of each table on a page, by the table's section id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._section = ""
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "section" and (a.get("id") or "").startswith("t-"):
            self._section = a["id"][2:]  # type: ignore[index]
            self.tables[self._section] = []
        elif tag == "tr" and self._section:
            self.tables[self._section].append([])
        elif tag in ("td", "th") and self._section:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[self._section][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def page_tables(html: str) -> dict[str, list[list[str]]]:
    parser = Cells()
    parser.feed(html)
    return parser.tables


def rows_by_first(table: dict[str, Any]) -> dict[Any, dict[str, Any]]:
    key = table["columns"][0]
    return {row[key]: row for row in table["rows"]}


async def test_scripted_day_gives_the_expected_figures_in_api_csv_and_page(
    make_platform, serve_app, new_tour
):
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    platform = await make_platform(entrypoints=False, plugins=PLUGINS, consumers=False)
    tour = await new_tour(platform, plugins={"analytics": {}}, stations=5)
    _, last = await publish(platform, script(tour.enterprise, tour.id))
    _, secret = await create_token(platform.bus, tour.enterprise, "editor", "Olga")
    await caught_up(platform, last)

    base = f"{server.url}/p/analytics"
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {secret}"}) as http:

        async def api(name: str) -> dict[str, Any]:
            r = await http.get(f"{base}/api/{tour.enterprise}/{tour.id}/{name}?{RANGE}&lang=en")
            assert r.status_code == 200, r.text
            return {t["id"]: t for t in r.json()["tables"]}

        # --- overview
        ov = await api("overview")
        summary = {r["figure"]: r["value"] for r in ov["summary"]["rows"]}
        assert summary == {
            "Visitors": EXPECT["visitors"],
            "Groups": EXPECT["groups"],
            "Scans": EXPECT["scans"],
            "Finishes": EXPECT["finishes"],
            "Repeat visitors": EXPECT["repeat"],
        }
        assert ov["periods"]["rows"] == [
            {"period": DAY, "visitors": 200, "groups": 8, "scans": EXPECT["scans"], "finishes": 90}
        ]
        langs = rows_by_first(ov["languages"])
        assert langs["en"]["visitors"] == 50 and langs["ru"]["visitors"] == 150
        methods = [r["scans"] for r in ov["methods"]["rows"]]
        assert methods == [EXPECT["scans"] - EXPECT["number"], EXPECT["number"]]

        # --- funnel, dwell and flow
        fn = await api("funnel")
        assert [r["visitors"] for r in fn["funnel"]["rows"]] == EXPECT["funnel"]
        flow = await api("flow")
        dwell = {r["station"]: r for r in flow["dwell"]["rows"]}
        for i, s in enumerate(STATIONS[:4]):
            row = dwell[f"Station {i + 1}"]
            assert [row["q1"], row["median"], row["q3"]] == EXPECT["quartiles"][s], s
            assert row["visitors"] == EXPECT["dwell_n"][s]
        assert dwell["Station 1"]["next"] == "Station 2"
        assert dwell["Station 5"]["visitors"] == 0  # nobody checks in after the last one
        moves = rows_by_first(flow["transitions"])
        assert moves["Station 1"]["s3"] == "< 5"  # three visitors skipped station 2
        assert moves["Station 1"]["s2"] == EXPECT["funnel"][2]

        # --- audio, quest, career
        pl = await api("plugins")
        audio = {r["lang"]: r for r in pl["audio"]["rows"]}
        for lang, row in EXPECT["audio"].items():
            got = audio[lang]
            assert [got["starts"], got["q1"], got["q2"], got["q3"], got["finished"]] == row
        m = rows_by_first(pl["missions"])
        assert m["m1"]["attempted"] == 100
        assert m["m1"]["solve_rate"] == EXPECT["m1_solve"]
        assert m["m1"]["wrong_rate"] == EXPECT["m1_wrong"]
        assert m["m1"]["hint_rate"] == EXPECT["m1_hint"]
        assert m["m2"]["attempted"] == "< 5" and m["m2"]["solve_rate"] == "< 5"
        quest = {r["figure"]: r["value"] for r in pl["quest"]["rows"]}
        assert quest["Quest players"] == 100 and quest["Quest completion, %"] == 100.0
        assert quest["Career quizzes completed"] == EXPECT["quizzes"]
        assert quest["Leads created"] == EXPECT["leads"]
        assert {r["type"]: r["quizzes"] for r in pl["types"]["rows"]} == {"R": 20, "S": 20, "I": 20}
        # career_top_ranked: the last ranking of each visit, three visitors masked
        # (ids: this tour has no career config with titles).
        top = {r["profession"]: r["visitors"] for r in pl["professions"]["rows"]}
        assert top == EXPECT["professions"]

        # --- CSV: the same figures, UTF-8 with BOM, `;` on request
        r = await http.get(f"{base}/{tour.enterprise}/{tour.id}/csv/funnel?{RANGE}&sep=semicolon")
        assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(r.content[3:].decode()), delimiter=";"))
        assert rows[0][:2] == ["Step", "Visitors"]
        assert [int(x[1]) for x in rows[1:]] == EXPECT["funnel"]
        r = await http.get(f"{base}/{tour.enterprise}/{tour.id}/csv/missions?{RANGE}")
        rows = list(csv.reader(io.StringIO(r.content[3:].decode())))
        assert ["m2", "< 5", "< 5", "< 5", "< 5", "0"] in rows
        assert any(x[0] == "m1" and float(x[2]) == EXPECT["m1_solve"] for x in rows)

        # --- the page: same numbers, small cells masked
        r = await http.get(f"{base}/{tour.enterprise}/{tour.id}/funnel?{RANGE}&lang=en")
        assert r.status_code == 200
        cells = page_tables(r.text)
        assert [int(row[1]) for row in cells["funnel"][1:]] == EXPECT["funnel"]
        r = await http.get(f"{base}/{tour.enterprise}/{tour.id}/plugins?{RANGE}&lang=en")
        missions = {row[0]: row for row in page_tables(r.text)["missions"][1:]}
        assert missions["m2"][1:5] == ["< 5"] * 4
        assert float(missions["m1"][2]) == EXPECT["m1_solve"]
        r = await http.get(f"{base}/{tour.enterprise}/{tour.id}/flow?{RANGE}&lang=ru")
        assert "Время на станциях" in r.text and 'lang="ru"' in r.text

        # --- the enterprise overview adds up its tours
        r = await http.get(f"{base}/api/{tour.enterprise}/_all/overview?{RANGE}&lang=en")
        tables = {t["id"]: t for t in r.json()["tables"]}
        assert [row["visitors"] for row in tables["tours"]["rows"]] == [200]
        assert rows_by_first(tables["summary"])["Visitors"]["value"] == 200

    # --- nobody else sees it
    other = await new_tour(platform, plugins={"analytics": {}}, stations=1)
    _, stranger = await create_token(platform.bus, other.enterprise, "admin", "B")
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {stranger}"}) as http:
        for path in (
            f"/api/{tour.enterprise}/{tour.id}/funnel",
            f"/api/{tour.enterprise}/_all/overview",
            f"/{tour.enterprise}/{tour.id}/csv/funnel",
            f"/{tour.enterprise}/{tour.id}/overview",
        ):
            assert (await http.get(base + path)).status_code == 404, path
    async with httpx.AsyncClient() as http:
        r = await http.get(f"{base}/api/{tour.enterprise}/{tour.id}/funnel")
        assert r.status_code == 401


class SlowAnalytics:
    """The analytics plugin with small batches, so that a replay can be stopped
    half-way (the module's hooks, another batch size)."""

    @hookimpl
    def promtour_plugin_info(self) -> PluginInfo:
        info = analytics.promtour_plugin_info()
        return msgspec.structs.replace(info, batch_size=100)

    @hookimpl
    async def promtour_handle_batch(self, batch: list[StreamEvent]) -> None:
        await analytics.promtour_handle_batch(batch)
        await asyncio.sleep(0.005)


SLOW = [("analytics", SlowAnalytics()), ("lookalikes", OtherPluginEvents())]


async def test_stopped_replay_redelivery_and_rebuild_give_the_same_figures(make_platform, new_tour):
    publisher = await make_platform(entrypoints=False, plugins=PLUGINS, consumers=False)
    tour = await new_tour(publisher, plugins={"analytics": {}}, stations=5)
    first, last = await publish(publisher, script(tour.enterprise, tour.id))

    consumer = await make_platform(entrypoints=False, plugins=PLUGINS)
    await caught_up(publisher, last)
    reference = await figures(publisher, tour)
    assert b'"Visitors",200' in reference
    await consumer.stop()

    # The whole stream delivered again (a lost ack, a reset consumer): counted once.
    await publisher.consumers.reset("analytics")
    again = await make_platform(entrypoints=False, plugins=PLUGINS)
    await caught_up(publisher, last)
    assert await figures(publisher, tour) == reference
    await again.stop()

    # Stopped half-way through a replay from scratch, then a new platform goes on.
    await erase_tour(publisher.store_for("analytics").for_tour(tour.key))
    await publisher.consumers.reset("analytics")
    slow = await make_platform(entrypoints=False, plugins=SLOW)
    middle = (first + last) // 2
    deadline = time.monotonic() + 60
    while (await publisher.consumers.progress("analytics"))[0] < middle:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    await slow.stop()
    done, _ = await publisher.consumers.progress("analytics")
    assert done < last, "the replay was over before it could be stopped"
    assert await figures(publisher, tour) != reference  # really half-way
    resumed = await make_platform(entrypoints=False, plugins=SLOW)
    await caught_up(publisher, last)
    assert await figures(publisher, tour) == reference
    # (Its other batch size would change the consumer's window under the rebuild's
    # feet; a rebuild beside a running server is test_rebuild_command_...)
    await resumed.stop()

    # `promtour analytics rebuild`: drop the read model and replay.
    session = PluginSession(
        await make_platform(entrypoints=False, plugins=PLUGINS, consumers=False), "analytics"
    )
    [ctx] = [c for c in session.tours() if c.tour.key == tour.key]
    assert await erase_tour(ctx.tour_store) >= 2
    assert await figures(publisher, tour) != reference
    seen: list[tuple[int, int]] = []
    await session.replay(lambda done, total: seen.append((done, total)), interval=0.05)
    assert seen[-1][0] == seen[-1][1] >= last
    assert await figures(publisher, tour) == reference


def test_profession_titles_come_from_the_tours_career_config() -> None:
    from promtour._models import Tour
    from promtour.plugins.analytics.plugin_tables import profession_titles

    career = {"professions": [{"id": "welder", "title": {"en": "Welder", "ru": "Сварщик"}}, 7]}
    tour = Tour(id="t", enterprise="e", name={"en": "T"}, plugins={"career": career})
    assert profession_titles(tour, "ru") == {"welder": "Сварщик"}
    assert profession_titles(Tour(id="t", enterprise="e", name={"en": "T"}), "ru") == {}


def test_figures_are_masked_below_five() -> None:
    from promtour.plugins.analytics.tables import masked, rate

    assert [masked(n) for n in (0, 1, 4, 5)] == [0, "< 5", "< 5", 5]
    assert rate(2, 4) == "< 5" and rate(0, 0) is None and rate(1, 5) == 20.0


@pytest.mark.parametrize("hist", [{10: 1, 20: 1, 30: 1, 40: 1, 50: 1}, {5: 3, 7: 4, 100: 2}])
def test_quartiles_match_statistics(hist: dict[int, int]) -> None:
    import statistics

    from promtour.plugins.analytics.figures import quantiles

    values = [v for v, n in hist.items() for _ in range(n)]
    want = [round(q, 1) for q in statistics.quantiles(values, n=4, method="inclusive")]
    assert list(quantiles(hist)[1:]) == want


async def test_rebuild_command_gives_the_same_figures(make_platform, new_tour, nats_url, tmp_path):
    """``promtour analytics rebuild ENT.TOUR`` as a person runs it, with a server (the
    installed plugins, the real event types) consuming at the same time."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    platform = await make_platform()
    tour = await new_tour(platform, plugins={"analytics": {}}, stations=5)
    events = [
        e
        for e in script(tour.enterprise, tour.id)
        if e.visitor in {f"v{i:03d}" for i in range(0, 200, 9)}
    ]
    _, last = await publish(platform, events)
    await caught_up(platform, last)
    before = await figures(platform, tour)
    assert b'"Visitors",23' in before

    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMTOUR_")}
    command = [str(Path(sys.executable).parent / "promtour"), "analytics", "rebuild", tour.key]
    result = await asyncio.to_thread(
        subprocess.run,
        [*command, "--nats", nats_url],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    # day, visitors, live, the day index, and a month's stored sum if a page read it
    assert re.search(rf"{re.escape(tour.key)}: dropped [45] records", result.stdout)
    assert "100%" in result.stdout and "replayed the stream up to event" in result.stdout
    assert await figures(platform, tour) == before


async def test_cached_figures_follow_new_events_and_a_restart(make_platform, new_tour):
    """Pages take unchanged days and months from a cache (in memory, and past months'
    sums in the store): a later check-in of a cached day still shows at once, and a
    process with an empty cache reads the stored sum and gets the same figures."""
    from promtour.plugin import VisitorCheckedIn
    from promtour.plugins.analytics import reading
    from promtour.plugins.analytics.model import DayIndex

    platform = await make_platform(entrypoints=False, plugins=PLUGINS)
    tour = await new_tour(platform, plugins={"analytics": {}}, stations=5)
    _, last = await publish(platform, script(tour.enterprise, tour.id))
    await caught_up(platform, last)
    reference = await figures(platform, tour)
    store = platform.store_for("analytics").for_tour(tour.key)
    index = await store.get("days", DayIndex)
    assert index is not None and list(index.days) == [DAY]
    assert await store.keys("sum.") == [f"sum.{DAY[:7]}"]  # a past month: stored

    # A new process: nothing in memory; the stored sum gives the same figures.
    reading._DAYS.items.clear()
    reading._MONTHS.items.clear()
    assert await figures(platform, tour) == reference

    # One more visitor on that (cached) day counts at once.
    late = VisitorCheckedIn(
        enterprise=tour.enterprise, tour=tour.id, station="s1", visitor="late-1", lang="ru"
    ).with_(time=datetime.fromisoformat(f"{DAY}T17:00:00+00:00"))
    seq = await platform.bus.publish(late)
    await caught_up(platform, seq)
    assert b'"Visitors",201' in await figures(platform, tour)

    # A read model from before the index: the first index notes the older days too.
    await store.erase("days")
    later = VisitorCheckedIn(
        enterprise=tour.enterprise, tour=tour.id, station="s1", visitor="late-2", lang="ru"
    ).with_(time=late.time + timedelta(days=1))
    await caught_up(platform, await platform.bus.publish(later))
    index = await store.get("days", DayIndex)
    assert index is not None and sorted(index.days) == [DAY, later.time.date().isoformat()]
    assert b'"Visitors",201' in await figures(platform, tour)

    # Events of a new month: the consumer sums and stores the past months itself.
    await store.erase(f"sum.{DAY[:7]}")
    now = VisitorCheckedIn(
        enterprise=tour.enterprise, tour=tour.id, station="s1", visitor="late-3", lang="ru"
    )
    assert now.time.isoformat()[:7] > DAY[:7]
    await caught_up(platform, await platform.bus.publish(now))
    stored = await store.get(f"sum.{DAY[:7]}", reading.MonthSum)
    assert stored is not None and stored.total.visitors == 202  # late-2: the 11th
